package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
)

// READMEExample checks that the first JSON example under heading in the
// repository's README.md is a config (contract v1) with one connection,
// of type typ, that passes validation: the documented example must work.
func READMEExample(t *testing.T, heading, typ string) {
	t.Helper()
	b, err := os.ReadFile(readmePath(t))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	_, section, ok := strings.Cut(string(b), heading)
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	_, block, ok := strings.Cut(section, "```json\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatalf("the %q section has no JSON example", heading)
	}
	var cfg struct {
		Version     int                     `json:"version"`
		Connections []connectors.Connection `json:"connections"`
	}
	if err := json.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatalf("the %q example is not JSON: %v", heading, err)
	}
	if cfg.Version != 1 || len(cfg.Connections) != 1 || cfg.Connections[0].Type != typ {
		t.Fatalf("the %q example = %+v, want version 1 and one %s connection", heading, cfg, typ)
	}
	if errs := cfg.Connections[0].Validate(); len(errs) > 0 {
		t.Errorf("the %q example fails validation: %v", heading, errs)
	}
}

// readmePath finds README.md beside go.mod, above the test's directory.
func readmePath(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "README.md")
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = up
	}
}
