package fsfake

import (
	_ "embed"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ticketray/ticketray/connectors/fake/openapi"
)

// specJSON is Freshworks' own Swagger 2.0 for Freshservice v2 (MIT, from
// freshworks/freshworks-api-sdk; see testdata/README.md), converted from
// YAML to JSON byte for byte in meaning so no YAML decoder is needed.
//
//go:embed testdata/freshservice-v2.0.1.swagger.json
var specJSON []byte

// spec is the converted OpenAPI 3 document, loaded once per process.
var spec = sync.OnceValues(func() (*openapi.Spec, error) {
	return openapi.LoadSwagger2("freshservice", specJSON, patchSpec)
})

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
	route, err := f.validator.CheckRequest(r)
	if route == nil || err == nil {
		return "" // not an operation of the partial spec, or a match
	}
	return fmt.Sprintf("%s %s does not match the Freshservice spec (%s): %s", r.Method, r.URL.Path, route.Operation.OperationID, openapi.Summarize(err))
}
