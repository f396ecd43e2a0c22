package gui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ticketray/ticketray/connectors"
)

// lockInfo tells which settings IT pushed and locked. Keys are dotted
// config paths: "connections.NAME.mappings.priority" locks one table; a
// lock on any prefix ("connections", "connections.NAME") locks everything
// under it. configLocks reads them from the layered config.
type lockInfo interface {
	Locked(key string) bool
}

// noLocks locks nothing: the user's own config.
type noLocks struct{}

func (noLocks) Locked(string) bool { return false }

// isLocked reports whether key or any of its dotted prefixes is locked.
func isLocked(l lockInfo, key string) bool {
	if l == nil {
		return false
	}
	for i := range key {
		if key[i] == '.' && l.Locked(key[:i]) {
			return true
		}
	}
	return l.Locked(key)
}

func mappingKey(conn, kind string) string { return "connections." + conn + ".mappings." + kind }

// mappingKinds are the tables the editor offers. Priority and category
// map Ticketray's values to the vendor's; status maps the vendor's
// statuses back to the local states (connectors.LocalStates).
var mappingKinds = []string{"priority", "category", "status"}

// mappingRow is one row of a mapping table: an internal value and the
// vendor value it maps to.
type mappingRow struct{ Key, Value string }

// mappingTable is an editable mapping table. Its default row always
// exists, stays last, and cannot be removed or renamed; its value can be
// edited.
type mappingTable struct {
	kind string // priority, category or status
	rows []mappingRow
}

var (
	errDefaultRow = errors.New("the default row cannot be removed or renamed")
	errEmptyKey   = errors.New("the value to map is empty")
)

// newMappingTable builds the editor's table for a connection: its
// configured rows, and a default row taken from the config (or, for a
// table without one, from defaultPriority's row or defaultCategory; a
// status table's default is backlog).
func newMappingTable(kind string, conn connectors.Connection) *mappingTable {
	t := &mappingTable{kind: kind}
	def, hasDef := "", false
	for k, v := range conn.Mappings[kind] {
		if strings.EqualFold(k, connectors.DefaultRow) {
			def, hasDef = v, true
			continue
		}
		t.rows = append(t.rows, mappingRow{Key: k, Value: v})
	}
	if !hasDef {
		switch kind {
		case "priority":
			p := strings.ToLower(conn.DefaultPriority)
			if p == "" {
				p = string(connectors.PriorityMedium)
			}
			for _, r := range t.rows {
				if strings.EqualFold(r.Key, p) {
					def = r.Value
				}
			}
		case "category":
			def = conn.DefaultCategory
		case "status":
			def = connectors.StateBacklog
		}
	}
	t.sort()
	t.rows = append(t.rows, mappingRow{Key: connectors.DefaultRow, Value: def})
	return t
}

// sort orders the rows other than default: priorities highest first,
// categories alphabetically.
func (t *mappingTable) sort() {
	rank := func(k string) int {
		if t.kind != "priority" {
			return 0
		}
		return -slices.Index(connectors.Priorities, connectors.Priority(strings.ToLower(k)))
	}
	n := len(t.rows)
	if n > 0 && t.isDefault(n-1) {
		n--
	}
	slices.SortStableFunc(t.rows[:n], func(a, b mappingRow) int {
		if d := rank(a.Key) - rank(b.Key); d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a.Key), strings.ToLower(b.Key))
	})
}

func (t *mappingTable) isDefault(i int) bool {
	return strings.EqualFold(t.rows[i].Key, connectors.DefaultRow)
}

// checkKey validates a row key; skip is the row being renamed (-1 when
// adding).
func (t *mappingTable) checkKey(key string, skip int) error {
	key = strings.TrimSpace(key)
	if key == "" {
		return errEmptyKey
	}
	if strings.EqualFold(key, connectors.DefaultRow) {
		return fmt.Errorf("%q is the locked default row", connectors.DefaultRow)
	}
	if t.kind == "priority" {
		if _, err := connectors.ParsePriority(key); err != nil {
			return fmt.Errorf("priority %q %v", key, err)
		}
	}
	for i, r := range t.rows {
		if i != skip && strings.EqualFold(r.Key, key) {
			return fmt.Errorf("%q already has a row", key)
		}
	}
	return nil
}

// checkValue validates a row value: a status row's is a local state.
func (t *mappingTable) checkValue(value string) error {
	if t.kind == "status" && !slices.Contains(connectors.LocalStates, value) {
		return fmt.Errorf("pick the state to show for this status (%s)", strings.Join(connectors.LocalStates, ", "))
	}
	return nil
}

// add appends a row (kept before the default row).
func (t *mappingTable) add(key, value string) error {
	if err := t.checkKey(key, -1); err != nil {
		return err
	}
	if err := t.checkValue(value); err != nil {
		return err
	}
	key = strings.TrimSpace(key)
	if t.kind == "priority" {
		key = strings.ToLower(key)
	}
	t.rows = append(t.rows[:len(t.rows)-1], mappingRow{key, value}, t.rows[len(t.rows)-1])
	t.sort()
	return nil
}

// rename changes row i's key. The default row cannot be renamed.
func (t *mappingTable) rename(i int, key string) error {
	if t.isDefault(i) {
		return errDefaultRow
	}
	if err := t.checkKey(key, i); err != nil {
		return err
	}
	t.rows[i].Key = strings.TrimSpace(key)
	return nil
}

// setValue changes row i's vendor value; any row's value may change.
func (t *mappingTable) setValue(i int, v string) { t.rows[i].Value = v }

// remove deletes row i. The default row cannot be removed.
func (t *mappingTable) remove(i int) error {
	if t.isDefault(i) {
		return errDefaultRow
	}
	t.rows = slices.Delete(t.rows, i, i+1)
	return nil
}

// table is the edited table as the config's mappings hold it. An empty
// default value is left out, so Save reports that the table needs one
// (config.SetMapping requires the default row).
func (t *mappingTable) table() map[string]string {
	m := map[string]string{}
	for i, r := range t.rows {
		if t.isDefault(i) && r.Value == "" {
			continue
		}
		m[r.Key] = r.Value
	}
	return m
}

// builtInStatusRows are the vendor's built-in status rows of conn's type
// that apply under the table t (a row of t wins), sorted by status: what
// `config mapping CONN status` prints under "Built-in rows".
func builtInStatusRows(conn connectors.Connection, t *mappingTable) []mappingRow {
	conn.Mappings = nil // the type's rows alone
	var out []mappingRow
	for k, v := range conn.StatusTable() {
		if k == connectors.DefaultRow || slices.ContainsFunc(t.rows, func(r mappingRow) bool { return strings.EqualFold(strings.TrimSpace(r.Key), k) }) {
			continue
		}
		out = append(out, mappingRow{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b mappingRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}
