package fsfake

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specJSON is Freshworks' own Swagger 2.0 for Freshservice v2 (MIT, from
// freshworks/freshworks-api-sdk; see testdata/README.md), converted from
// YAML to JSON byte for byte in meaning so no YAML decoder is needed.
//
//go:embed testdata/freshservice-v2.0.1.swagger.json
var specJSON []byte

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// spec returns the router over the converted OpenAPI 3 document, built
// once per process.
func spec() (routers.Router, error) {
	specOnce.Do(func() {
		var doc2 openapi2.T
		if err := json.Unmarshal(specJSON, &doc2); err != nil {
			specErr = fmt.Errorf("fsfake: load the Freshservice spec: %w", err)
			return
		}
		doc, err := openapi2conv.ToV3(&doc2)
		if err != nil {
			specErr = fmt.Errorf("fsfake: convert the Freshservice spec: %w", err)
			return
		}
		// The spec names api.freshservice.com; the real host is the
		// account's own domain, and the fake is on loopback.
		doc.Servers = openapi3.Servers{{URL: "/"}}
		if err := patchSpec(doc); err != nil {
			specErr = fmt.Errorf("fsfake: patch the Freshservice spec: %w", err)
			return
		}
		specRouter, specErr = gorillamux.NewRouter(doc)
		if specErr != nil {
			specErr = fmt.Errorf("fsfake: route the Freshservice spec: %w", specErr)
		}
	})
	return specRouter, specErr
}

// patchSpec corrects the one schema that contradicts the API: the spec
// types every custom field value as a string, but a number field takes a
// number and a checkbox true or false (the fake checks each value against
// its field's type itself).
func patchSpec(doc *openapi3.T) error {
	t := doc.Components.Schemas["ticket"]
	if t == nil || t.Value == nil || t.Value.Properties["custom_fields"] == nil || t.Value.Properties["custom_fields"].Value == nil {
		return errors.New("the ticket schema has no custom_fields")
	}
	t.Value.Properties["custom_fields"].Value.AdditionalProperties = openapi3.AdditionalProperties{Schema: openapi3.NewSchemaRef("", &openapi3.Schema{})}
	return nil
}

// validate checks r against the spec where the spec covers it: a JSON
// request to one of its operations. The spec is partial (no
// /tickets/filter, no multipart bodies, no ticket_form_fields), so a
// request outside it is left to the handler's own checks. It returns a
// one-line violation, or "".
func (f *Fake) validate(r *http.Request) string {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return ""
	}
	// The spec's /api/v2/tickets/{ticket_id} would take the filter
	// endpoint, which it lacks, for a ticket id.
	if strings.TrimSuffix(r.URL.Path, "/") == "/api/v2/tickets/filter" {
		return ""
	}
	router, err := spec()
	if err != nil {
		return err.Error()
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		return "" // not an operation of the partial spec
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: &openapi3filter.Options{
		// The spec declares an API-key scheme; the fake checks Basic
		// auth itself and answers with Freshservice's own 401.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		MultiError:          true,
	}}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return fmt.Sprintf("%s %s does not match the Freshservice spec (%s): %s", r.Method, r.URL.Path, route.Operation.OperationID, summarize(err))
	}
	return ""
}

var spaces = regexp.MustCompile(`\s+`)

// summarize shortens a kin-openapi error to one line.
func summarize(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		parts := make([]string, 0, len(me))
		for _, e := range me {
			parts = append(parts, summarize(e))
		}
		return strings.Join(parts, " | ")
	}
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}
