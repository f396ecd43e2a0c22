package gui

import (
	"testing"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
)

func TestConfigLocks(t *testing.T) {
	loaded := &config.Loaded{
		Config: &config.Config{
			Locked:      []string{"categories", "policy.retentionDays"},
			Connections: []connectors.Connection{{Name: "Prod SN"}, {Name: "My/Jira"}, {Name: "Dev.Jira"}},
		},
		Sources: map[string]string{
			"/connections/Prod SN":  "/etc/ticketray/config.json",
			"/connections/My~1Jira": "/home/a/.config/ticketray/config.json",
			"/connections/Dev.Jira": "/etc/ticketray/config.d/10-jira.json",
		},
		Layers: []config.LayerInfo{
			{Path: "/home/a/.config/ticketray/config.json", Kind: config.KindUser},
			{Path: "/etc/ticketray/config.json", Kind: config.KindManaged},
			{Path: "/etc/ticketray/config.d/10-jira.json", Kind: config.KindManaged},
		},
	}
	l := newConfigLocks(loaded)
	tests := []struct {
		key  string
		want bool
	}{
		{"categories", true},
		{"policy.retentionDays", true},
		{"policy", false},
		{mappingKey("Prod SN", "priority"), true}, // its connection comes from a managed file
		{mappingKey("My/Jira", "category"), false},
		{mappingKey("Dev.Jira", "priority"), true}, // a dot in the name
		{"connections", false},
	}
	for _, tt := range tests {
		if got := isLocked(l, tt.key); got != tt.want {
			t.Errorf("isLocked(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
	if got := newConfigLocks(nil); got.Locked("connections") {
		t.Error("without a layered config, something is locked")
	}
	all := newConfigLocks(&config.Loaded{Config: &config.Config{Locked: []string{"connections"}}})
	if !isLocked(all, mappingKey("Anything", "priority")) {
		t.Error(`"connections" locked does not lock every mapping table`)
	}
}
