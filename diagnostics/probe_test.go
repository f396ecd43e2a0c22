package diagnostics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()
	tests := []struct {
		name      string
		url       string
		wantOK    bool
		wantSteps string // names, with ! marking a failed step
	}{
		{"reachable", plain.URL, true, "tcp"},
		{"nothing listening", goneURL, false, "!tcp"},
		// The test server's certificate is self-signed: verification must fail.
		{"untrusted certificate", tlsSrv.URL, false, "tcp !tls"},
		{"not a URL", "acme.service-now.com", false, "!url"},
		{"unknown name", "https://ticketray-test.invalid", false, "!dns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Probe(context.Background(), tt.url)
			var steps []string
			for _, s := range r.Steps {
				if s.OK {
					steps = append(steps, s.Name)
				} else {
					steps = append(steps, "!"+s.Name)
				}
			}
			if got := strings.Join(steps, " "); r.OK != tt.wantOK || got != tt.wantSteps {
				t.Errorf("ok %v, steps %q; want %v, %q (%+v)", r.OK, got, tt.wantOK, tt.wantSteps, r.Steps)
			}
		})
	}
}
