package zdfake

import (
	_ "embed"
	"net/http"
	"strings"
	"sync"

	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

// The Support API spec (published by Zendesk; via emberstack/ES.FX, MIT;
// see testdata/) is embedded so tests do not depend on files outside the
// repo.
//
//go:embed testdata/zendesk-support-oas.yaml
var supportSpecYAML []byte

var (
	specOnce sync.Once
	spec     *jirafake.Spec
	specErr  error
)

// supportSpec returns the embedded Support API spec, loaded once per
// process (about 0.3 s; every fake shares it). It is validated with the
// same kin-openapi validator jirafake uses: one validator for every
// vendor fake.
func supportSpec() (*jirafake.Spec, error) {
	specOnce.Do(func() {
		spec, specErr = jirafake.LoadSpec("zendesk-support", supportSpecYAML, nil)
	})
	return spec, specErr
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
func stripJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutSuffix(r.URL.Path, ".json"); ok && strings.HasPrefix(p, "/api/v2/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p, ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
