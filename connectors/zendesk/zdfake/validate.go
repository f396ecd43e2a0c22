package zdfake

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/ticketray/ticketray/connectors/fake/openapi"
)

// The Support API spec (published by Zendesk; via emberstack/ES.FX, MIT;
// see testdata/) is embedded so tests do not depend on files outside the
// repo.
//
//go:embed testdata/zendesk-support-oas.yaml
var supportSpecYAML []byte

// supportSpec returns the embedded Support API spec, loaded once per
// process (about 0.3 s; every fake shares it).
var supportSpec = sync.OnceValues(func() (*openapi.Spec, error) {
	return openapi.LoadSpec("zendesk-support", supportSpecYAML, nil)
})

// newValidator checks requests and JSON responses against the Support
// API spec. LenientDateTime keeps the checks zdfake had on jirafake's
// validator (Zendesk itself writes offsets as Z).
func newValidator(spec *openapi.Spec) *openapi.Validator {
	return openapi.NewValidator(spec, openapi.Config{
		ErrorBody:       validationError,
		RewritePath:     stripJSON,
		LenientDateTime: true,
	})
}

// validationError renders a request the spec refuses in Zendesk's error
// shapes: an unknown path as Zendesk answers it, anything else as an
// invalid parameter (the full text is in Violations).
func validationError(msg string) any {
	if strings.Contains(msg, "is not an operation") {
		return map[string]string{"error": "InvalidEndpoint", "description": "Not found"}
	}
	return map[string]string{"error": "InvalidValue", "description": msg}
}

// stripJSON removes the optional ".json" suffix Zendesk accepts on every
// path (/api/v2/tickets.json is /api/v2/tickets): the spec's paths have
// none.
func stripJSON(path string) string {
	if p, ok := strings.CutSuffix(path, ".json"); ok && strings.HasPrefix(p, "/api/v2/") {
		return p
	}
	return path
}
