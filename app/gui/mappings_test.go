package gui

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
)

func rowsOf(t *mappingTable) string {
	var parts []string
	for _, r := range t.rows {
		parts = append(parts, r.Key+"="+r.Value)
	}
	return strings.Join(parts, " ")
}

func TestNewMappingTable(t *testing.T) {
	tests := []struct {
		name string
		kind string
		conn connectors.Connection
		want string
	}{
		{"priority with default row", "priority", connectors.Connection{Mappings: map[string]map[string]string{"priority": {"low": "4", "critical": "1", "default": "3", "high": "2"}}},
			"critical=1 high=2 low=4 default=3"},
		{"default row in any case", "priority", connectors.Connection{Mappings: map[string]map[string]string{"priority": {"DEFAULT": "3"}}}, "default=3"},
		{"default from defaultPriority's row", "priority", connectors.Connection{DefaultPriority: "high", Mappings: map[string]map[string]string{"priority": {"high": "2", "medium": "3"}}},
			"high=2 medium=3 default=2"},
		{"default from medium's row", "priority", connectors.Connection{Mappings: map[string]map[string]string{"priority": {"medium": "3"}}}, "medium=3 default=3"},
		{"no table: empty default", "priority", connectors.Connection{}, "default="},
		{"category from defaultCategory", "category", connectors.Connection{DefaultCategory: "IT Support", Mappings: map[string]map[string]string{"category": {"Network": "net", "Access": "iam"}}},
			"Access=iam Network=net default=IT Support"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rowsOf(newMappingTable(tt.kind, tt.conn)); got != tt.want {
				t.Errorf("rows = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMappingTableEdits(t *testing.T) {
	conn := connectors.Connection{Mappings: map[string]map[string]string{"priority": {"critical": "1", "default": "3"}}}
	type step struct {
		op      string // add K V, rename I K, set I V, remove I
		wantErr error  // matched with errors.Is, or by message when errMsg is set
		errMsg  string
		want    string
	}
	tests := []struct {
		name  string
		steps []step
		table map[string]string
	}{
		{"add keeps default last and sorts", []step{
			{op: "add high 2", want: "critical=1 high=2 default=3"},
			{op: "add LOW 4", want: "critical=1 high=2 low=4 default=3"},
		}, map[string]string{"critical": "1", "high": "2", "low": "4", "default": "3"}},
		{"default row cannot be removed or renamed", []step{
			{op: "remove 1", wantErr: errDefaultRow, want: "critical=1 default=3"},
			{op: "rename 1 other", wantErr: errDefaultRow, want: "critical=1 default=3"},
		}, map[string]string{"critical": "1", "default": "3"}},
		{"default row value can be edited", []step{
			{op: "set 1 4", want: "critical=1 default=4"},
		}, map[string]string{"critical": "1", "default": "4"}},
		{"empty default value is left to the vendor", []step{
			{op: "set 1 ", want: "critical=1 default="},
		}, map[string]string{"critical": "1"}},
		{"no second default, no duplicates, no junk", []step{
			{op: "add default 9", errMsg: `"default" is the locked default row`, want: "critical=1 default=3"},
			{op: "add Default 9", errMsg: `"default" is the locked default row`, want: "critical=1 default=3"},
			{op: "add critical 9", errMsg: `"critical" already has a row`, want: "critical=1 default=3"},
			{op: "add urgent 9", errMsg: `priority "urgent" must be one of low, medium, high, critical`, want: "critical=1 default=3"},
			{op: "add _ 9", wantErr: errEmptyKey, want: "critical=1 default=3"},
		}, map[string]string{"critical": "1", "default": "3"}},
		{"rename and remove other rows", []step{
			{op: "add high 2", want: "critical=1 high=2 default=3"},
			{op: "rename 1 medium", want: "critical=1 medium=2 default=3"},
			{op: "rename 1 critical", errMsg: `"critical" already has a row`, want: "critical=1 medium=2 default=3"},
			{op: "rename 0 default", errMsg: `"default" is the locked default row`, want: "critical=1 medium=2 default=3"},
			{op: "remove 0", want: "medium=2 default=3"},
		}, map[string]string{"medium": "2", "default": "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMappingTable("priority", conn)
			for _, s := range tt.steps {
				verb, rest, _ := strings.Cut(s.op, " ")
				a, b, _ := strings.Cut(rest, " ")
				if a == "_" {
					a = ""
				}
				var err error
				switch verb {
				case "add":
					err = m.add(a, b)
				case "rename":
					err = m.rename(atoi(a), b)
				case "set":
					m.setValue(atoi(a), b)
				case "remove":
					err = m.remove(atoi(a))
				}
				switch {
				case s.wantErr != nil && !errors.Is(err, s.wantErr):
					t.Errorf("%s: err %v, want %v", s.op, err, s.wantErr)
				case s.errMsg != "" && (err == nil || err.Error() != s.errMsg):
					t.Errorf("%s: err %v, want %q", s.op, err, s.errMsg)
				case s.wantErr == nil && s.errMsg == "" && err != nil:
					t.Errorf("%s: %v", s.op, err)
				}
				if got := rowsOf(m); got != s.want {
					t.Errorf("after %s: rows %s, want %s", s.op, got, s.want)
				}
			}
			if got := m.table(); !maps.Equal(got, tt.table) {
				t.Errorf("table() = %v, want %v", got, tt.table)
			}
		})
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

type lockSet map[string]bool

func (l lockSet) Locked(k string) bool { return l[k] }

func TestIsLocked(t *testing.T) {
	key := mappingKey("Prod SN", "priority")
	tests := []struct {
		name  string
		locks lockInfo
		want  bool
	}{
		{"nil", nil, false},
		{"nothing locked", noLocks{}, false},
		{"the table", lockSet{key: true}, true},
		{"the connection", lockSet{"connections.Prod SN": true}, true},
		{"all connections", lockSet{"connections": true}, true},
		{"another table", lockSet{mappingKey("Prod SN", "category"): true}, false},
		{"another connection", lockSet{"connections.Jira": true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isLocked(tt.locks, key); got != tt.want {
				t.Errorf("isLocked(%s) = %v, want %v", key, got, tt.want)
			}
		})
	}
}
