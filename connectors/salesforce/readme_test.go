package salesforce_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
)

// TestREADMEExample: the config example in README.md's Salesforce section
// is a valid salesforce connection (config contract v1).
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("README.md: %v", err)
	}
	_, section, ok := strings.Cut(string(b), "#### Salesforce Service Cloud")
	if !ok {
		t.Fatal("README.md has no Salesforce Service Cloud section")
	}
	_, block, ok := strings.Cut(section, "```json\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the Salesforce section has no JSON example")
	}
	var cfg struct {
		Version     int                     `json:"version"`
		Connections []connectors.Connection `json:"connections"`
	}
	if err := json.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatalf("the example is not JSON: %v", err)
	}
	if cfg.Version != 1 || len(cfg.Connections) != 1 || cfg.Connections[0].Type != "salesforce" {
		t.Fatalf("example = %+v", cfg)
	}
	if errs := cfg.Connections[0].Validate(); len(errs) > 0 {
		t.Errorf("the example fails validation: %v", errs)
	}
}
