package connectors

import (
	"sync"
	"testing"
)

var registerStatusTest sync.Once

// statusTestType is a vendor with built-in status rows and an on-hold
// rule, like ServiceNow's.
func statusTestType(t *testing.T) string {
	t.Helper()
	registerStatusTest.Do(func() {
		Register("statustest", Driver{
			New:        func(Connection, Deps) (Connector, error) { return nil, nil },
			StatusRows: map[string]string{"New": StateBacklog, "Work In Progress": StateInProgress, "6": StateResolved, "done": StateResolved},
			LocalStatus: func(table map[string]string, u Update) string {
				if u.Status == "3" && u.Category == "Awaiting Caller" {
					return StateWaitingOnYou
				}
				return ""
			},
		})
	})
	return "statustest"
}

func TestLocalStatus(t *testing.T) {
	typ := statusTestType(t)
	plain := Connection{Type: typ}
	custom := Connection{Type: typ, Mappings: map[string]map[string]string{"status": {"Waiting for customer": StateWaitingOnYou, "default": StateInProgress}}}
	for _, tt := range []struct {
		name string
		c    Connection
		u    Update
		want string
	}{
		{"built-in row, any case", plain, Update{Status: "work in progress"}, StateInProgress},
		{"by code", plain, Update{Status: "6"}, StateResolved},
		{"by category when the status has no row", plain, Update{Status: "Deployed", Category: "done"}, StateResolved},
		{"the vendor's own rule", plain, Update{Status: "3", Category: "Awaiting Caller"}, StateWaitingOnYou},
		{"on hold for another reason: the default row", plain, Update{Status: "3", Category: "Awaiting Change"}, StateBacklog},
		{"unknown: default backlog", plain, Update{Status: "Triage"}, StateBacklog},
		{"config row over the built-ins", custom, Update{Status: "Waiting for Customer"}, StateWaitingOnYou},
		{"config default row", custom, Update{Status: "Triage"}, StateInProgress},
		{"built-in rows stay under a config table", custom, Update{Status: "6"}, StateResolved},
	} {
		if got := tt.c.LocalStatus(tt.u); got != tt.want {
			t.Errorf("%s: LocalStatus(%+v) = %q, want %q", tt.name, tt.u, got, tt.want)
		}
	}
	if got := (&Connection{Type: typ}).StatusTable()[DefaultRow]; got != StateBacklog {
		t.Errorf("default row = %q, want backlog", got)
	}
}

func TestCheckStatusRow(t *testing.T) {
	typ := statusTestType(t)
	for _, tt := range []struct {
		key, value string
		ok         bool
	}{
		{"In Progress", StateInProgress, true},
		{"default", StateBacklog, true},
		{"Pending", "waiting", false},
		{"Resolved", "Resolved", false}, // local states are lower case
		{" ", StateClosed, false},
	} {
		err := CheckMappingRow(typ, "status", tt.key, tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("CheckMappingRow(status, %q, %q) = %v, want ok %v", tt.key, tt.value, err, tt.ok)
		}
	}
}
