package connectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Mapping tables translate internal values to a vendor's. Every table has
// a "default" row, used for any value without its own row; it comes from
// the config's mappings, else from defaultPriority/defaultCategory, and
// cannot be removed.
const DefaultRow = "default"

// MappingKinds are the mapping tables a connection may have.
var MappingKinds = []string{"priority", "category", "status"}

// CheckMappingRow checks one row of a connection's mapping table: kind is
// the table ("priority", "category", "status"), typ the connection's
// type. A priority row's key is low, medium, high, critical or default
// (any case); every key is non-blank; the value must be in a form the
// type's Driver accepts (a ServiceNow priority is "urgency,impact"). It is
// the rule Connection.Validate applies to each row, for editors that check
// a row before writing it. The error never repeats the value.
func CheckMappingRow(typ, kind, key, value string) error {
	if !contains(MappingKinds, kind) {
		return fmt.Errorf("unknown mapping table %q (expected priority, category or status)", kind)
	}
	k := strings.TrimSpace(key)
	switch {
	case k == "":
		return errors.New("a row needs a key")
	case kind == "priority" && !strings.EqualFold(k, DefaultRow):
		if _, err := ParsePriority(k); err != nil {
			return fmt.Errorf("priority row key %v (or default)", err)
		}
	case kind == "status":
		// Local states are Ticketray's own, the same for every vendor.
		return checkStatusRow(value)
	}
	if drv, ok := lookup(typ); ok && drv.CheckMapping != nil {
		if err := drv.CheckMapping(kind, value); err != nil {
			return err
		}
	}
	return nil
}

// PriorityTable is the connection's priority table. A mappings.priority
// in the config is the whole table (as in {"critical": "1", "high": "2",
// "default": "3"}, where medium and low take the default row); without one
// the vendor's built-in rows apply. The default row, when not given, is the
// vendor's value for defaultPriority (medium when unset).
func (c *Connection) PriorityTable(vendor map[Priority]string) map[string]string {
	t := map[string]string{}
	for k, v := range c.Mappings["priority"] {
		t[strings.ToLower(k)] = v
	}
	if len(t) == 0 {
		for p, v := range vendor {
			t[string(p)] = v
		}
	}
	if _, ok := t[DefaultRow]; !ok {
		def := strings.ToLower(c.DefaultPriority)
		if def == "" {
			def = string(PriorityMedium)
		}
		if v, ok := t[def]; ok {
			t[DefaultRow] = v
		} else if v, ok := vendor[Priority(def)]; ok {
			t[DefaultRow] = v
		}
	}
	return t
}

// MapPriority returns the vendor value for p.
func (c *Connection) MapPriority(p Priority, vendor map[Priority]string) string {
	t := c.PriorityTable(vendor)
	if v, ok := t[string(p)]; ok {
		return v
	}
	return t[DefaultRow]
}

// MapCategory returns the vendor value for a ticket's category. Without a
// category table the category passes through (defaultCategory when the
// ticket has none); with one, unmapped categories take its default row.
func (c *Connection) MapCategory(category string) string {
	t := c.Mappings["category"]
	if len(t) == 0 {
		if category == "" {
			return c.DefaultCategory
		}
		return category
	}
	def, hasDef := "", false
	for k, v := range t {
		switch {
		case strings.EqualFold(k, DefaultRow):
			def, hasDef = v, true
		case strings.EqualFold(k, category):
			return v
		}
	}
	if hasDef {
		return def
	}
	return c.DefaultCategory
}

// Option reads a string option, or def when it is absent.
func (c *Connection) Option(name, def string) string {
	raw, ok := c.Options[name]
	if !ok {
		return def
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return strings.TrimSpace(string(raw)) // a number, such as a service desk id
	}
	if s == "" {
		return def
	}
	return s
}
