package connectors

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"
)

var testVendorPriorities = map[Priority]string{
	PriorityLow:      "4",
	PriorityMedium:   "3",
	PriorityHigh:     "2",
	PriorityCritical: "1",
}

func TestPriorityTable(t *testing.T) {
	tests := []struct {
		name        string
		vendor      map[Priority]string
		defaultPrio string
		config      map[string]string
		want        map[string]string
	}{
		{"vendor rows, default from medium", testVendorPriorities, "", nil,
			map[string]string{"low": "4", "medium": "3", "high": "2", "critical": "1", "default": "3"}},
		{"defaultPriority in any case", testVendorPriorities, "High", nil,
			map[string]string{"low": "4", "medium": "3", "high": "2", "critical": "1", "default": "2"}},
		{"config table replaces the vendor rows, keys in any case", testVendorPriorities, "", map[string]string{"High": "1", "CRITICAL": "0"},
			map[string]string{"high": "1", "critical": "0", "default": "3"}},
		{"default from the config's own row", testVendorPriorities, "low", map[string]string{"LOW": "9", "high": "H"},
			map[string]string{"low": "9", "high": "H", "default": "9"}},
		{"default from the vendor row when the config lacks it", testVendorPriorities, "critical", map[string]string{"high": "H"},
			map[string]string{"high": "H", "default": "1"}},
		{"explicit default wins over defaultPriority", testVendorPriorities, "high", map[string]string{"critical": "1", "high": "2", "default": "3"},
			map[string]string{"critical": "1", "high": "2", "default": "3"}},
		{"explicit Default in another case", testVendorPriorities, "", map[string]string{"Default": "5"},
			map[string]string{"default": "5"}},
		{"empty config table: vendor rows", testVendorPriorities, "", map[string]string{},
			map[string]string{"low": "4", "medium": "3", "high": "2", "critical": "1", "default": "3"}},
		{"config only", nil, "", map[string]string{"Low": "L", "Medium": "M"},
			map[string]string{"low": "L", "medium": "M", "default": "M"}},
		{"defaultPriority without any row: no default", nil, "critical", map[string]string{"low": "L"},
			map[string]string{"low": "L"}},
		{"nothing at all", nil, "", nil, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vendorBefore := maps.Clone(tt.vendor)
			c := &Connection{DefaultPriority: tt.defaultPrio}
			if tt.config != nil {
				c.Mappings = map[string]map[string]string{"priority": tt.config}
			}
			got := c.PriorityTable(tt.vendor)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PriorityTable = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.vendor, vendorBefore) {
				t.Errorf("PriorityTable changed the vendor table to %v", tt.vendor)
			}
		})
	}
}

func TestMapPriority(t *testing.T) {
	// The README's example: a configured table is the whole table.
	configured := &Connection{DefaultPriority: "critical", Mappings: map[string]map[string]string{
		"priority": {"critical": "1", "high": "2", "default": "3"}}}
	builtin := &Connection{DefaultPriority: "low"}
	tests := []struct {
		name string
		c    *Connection
		p    Priority
		want string
	}{
		{"configured critical", configured, PriorityCritical, "1"},
		{"configured high", configured, PriorityHigh, "2"},
		{"configured medium takes default", configured, PriorityMedium, "3"},
		{"configured low takes default", configured, PriorityLow, "3"},
		{"configured unknown takes default", configured, "urgent", "3"},
		{"built-in low", builtin, PriorityLow, "4"},
		{"built-in medium", builtin, PriorityMedium, "3"},
		{"built-in high", builtin, PriorityHigh, "2"},
		{"built-in critical", builtin, PriorityCritical, "1"},
		{"built-in empty takes default", builtin, "", "4"},
		{"built-in unknown takes default", builtin, "urgent", "4"},
	}
	for _, tt := range tests {
		if got := tt.c.MapPriority(tt.p, testVendorPriorities); got != tt.want {
			t.Errorf("%s: MapPriority(%q) = %q, want %q", tt.name, tt.p, got, tt.want)
		}
	}
	none := &Connection{DefaultPriority: "critical"}
	if got := none.MapPriority("urgent", map[Priority]string{PriorityLow: "L"}); got != "" {
		t.Errorf("MapPriority without a default row = %q, want \"\"", got)
	}
}

func TestMapCategory(t *testing.T) {
	withTable := func(def string, table map[string]string) *Connection {
		return &Connection{DefaultCategory: def, Mappings: map[string]map[string]string{"category": table}}
	}
	tests := []struct {
		name     string
		c        *Connection
		category string
		want     string
	}{
		{"no table: passes through", &Connection{DefaultCategory: "IT"}, "Network", "Network"},
		{"no table: empty takes defaultCategory", &Connection{DefaultCategory: "IT"}, "", "IT"},
		{"no table, no default: empty stays empty", &Connection{}, "", ""},
		{"empty table: passes through", withTable("IT", map[string]string{}), "Printer", "Printer"},
		{"table: exact match", withTable("IT", map[string]string{"hardware": "HW", "Network": "NET", "default": "OTHER"}), "hardware", "HW"},
		{"table: case-insensitive match", withTable("IT", map[string]string{"hardware": "HW", "Network": "NET", "default": "OTHER"}), "NETWORK", "NET"},
		{"table: unmapped takes the default row", withTable("IT", map[string]string{"hardware": "HW", "default": "OTHER"}), "Printer", "OTHER"},
		{"table: empty takes the default row", withTable("IT", map[string]string{"hardware": "HW", "default": "OTHER"}), "", "OTHER"},
		{"table: the word default takes the default row", withTable("IT", map[string]string{"hardware": "HW", "default": "OTHER"}), "DEFAULT", "OTHER"},
		{"table without default row: defaultCategory", withTable("General", map[string]string{"hardware": "HW"}), "Printer", "General"},
		{"table without default row: empty", withTable("General", map[string]string{"hardware": "HW"}), "", "General"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.MapCategory(tt.category); got != tt.want {
				t.Errorf("MapCategory(%q) = %q, want %q", tt.category, got, tt.want)
			}
		})
	}
}

func TestMapCategoryDefaultRowAnyCase(t *testing.T) {
	c := &Connection{DefaultCategory: "General", Mappings: map[string]map[string]string{"category": {"hardware": "HW", "Default": "OTHER"}}}
	if got, want := c.MapCategory("Printer"), "OTHER"; got != want {
		t.Errorf("MapCategory(Printer) with a Default row = %q, want %q", got, want)
	}
}

func TestOption(t *testing.T) {
	c := &Connection{Options: map[string]json.RawMessage{
		"projectKey":    json.RawMessage(`"PROJ"`),
		"serviceDeskId": json.RawMessage(`42`),
		"ratio":         json.RawMessage(`1.5`),
		"padded":        json.RawMessage(` 7 `),
		"flag":          json.RawMessage(`true`),
		"empty":         json.RawMessage(`""`),
		"null":          json.RawMessage(`null`),
		"spaces":        json.RawMessage(`" a b "`),
	}}
	tests := []struct {
		name, def, want string
	}{
		{"projectKey", "DEF", "PROJ"},
		{"serviceDeskId", "", "42"},
		{"ratio", "", "1.5"},
		{"padded", "", "7"},
		{"flag", "", "true"},
		{"empty", "fallback", "fallback"},
		{"null", "fallback", "fallback"},
		{"spaces", "", " a b "},
		{"missing", "fallback", "fallback"},
		{"missing", "", ""},
	}
	for _, tt := range tests {
		if got := c.Option(tt.name, tt.def); got != tt.want {
			t.Errorf("Option(%q, %q) = %q, want %q", tt.name, tt.def, got, tt.want)
		}
	}
	var none Connection
	if got := none.Option("projectKey", "DEF"); got != "DEF" {
		t.Errorf("Option on a connection without options = %q, want DEF", got)
	}
}
