package jsm

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/connectors/jsm/jsmfake"
)

// agentStatus is a status of a JSM service-project workflow that the
// built-in rows map to each local state.
var agentStatus = map[string]string{
	connectors.StateBacklog:      "Waiting for support",
	connectors.StateInProgress:   "In Progress",
	connectors.StateWaitingOnYou: "Waiting for customer",
	connectors.StateResolved:     "Resolved",
	connectors.StateClosed:       "Closed",
}

func TestSyncConformance(t *testing.T) {
	conformance.RunSync(t, func(t *testing.T) conformance.SyncTarget {
		f := startFake(t)
		f.Site().SetTimeZone(time.FixedZone("America/New_York", -5*60*60))
		return conformance.SyncTarget{
			Target: conformance.Target{
				Connection: connection(f, nil), Faults: f.Faults, CreateMethod: http.MethodPost,
				CreatePath: "/rest/servicedeskapi/request", Count: f.Count, Errors: vendorErrors(), Violations: f.Violations,
			},
			Act: func(t *testing.T, r connectors.Remote, want, assignee, body string) string {
				st := agentStatus[want]
				if !f.SetStatus(r.ID, st) || !f.Assign(r.ID, assignee) || !f.Reply(r.ID, assignee, body, true) {
					t.Fatalf("no request %s on the fake", r.ID)
				}
				return st
			},
			Requests: f.Served,
		}
	})
}

// TestStatusRows: the built-in rows map JSM's statuses and the status
// categories, in either case (servicedeskapi NEW, Jira new); a
// connection's mappings.status overrides them.
func TestStatusRows(t *testing.T) {
	c := connectors.Connection{Type: "jsm"}
	for want, status := range agentStatus {
		if got := c.LocalStatus(connectors.Update{Status: status}); got != want {
			t.Errorf("%q maps to %q, want %q", status, got, want)
		}
	}
	tests := []struct {
		status, category string
		mapping          map[string]string
		want             string
	}{
		{"Triage", "NEW", nil, connectors.StateBacklog},
		{"Investigating", "indeterminate", nil, connectors.StateInProgress},
		{"Fixed", "DONE", nil, connectors.StateResolved},
		{"Canceled", "done", nil, connectors.StateClosed},
		{"Pending", "indeterminate", map[string]string{"Pending": "waiting_on_you"}, connectors.StateWaitingOnYou},
		{"Mystery", "UNDEFINED", nil, connectors.StateBacklog},
	}
	for _, tt := range tests {
		c := connectors.Connection{Type: "jsm", Mappings: map[string]map[string]string{"status": tt.mapping}}
		if got := c.LocalStatus(connectors.Update{Status: tt.status, Category: tt.category}); got != tt.want {
			t.Errorf("%q (%s) with %v maps to %q, want %q", tt.status, tt.category, tt.mapping, got, tt.want)
		}
	}
}

// TestSyncPublicOnly: the customer's view only. Internal notes, Ticketray's
// own internal comments and a Jira comment restricted to a role are not
// returned; a reply to the customer is, as text. A Jira connection's
// issue on the same site, in another project, is not searched.
func TestSyncPublicOnly(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Comment(ctx, r, "Ticketray: the user attached logs"); err != nil {
		t.Fatal(err)
	}
	f.Reply(r.ID, "Agent Smith", "checking with the network team", false)
	f.Site().AddAgentComment(r.ID, jirafake.Comment{Author: "Agent Smith", Body: jirafake.TextDoc("role only"), Public: true, Visibility: "Service Desk Team"})
	f.Reply(r.ID, "Agent Smith", "Please reboot.\nThen tell us.", true)

	ups, err := c.Sync(ctx, time.Now().Add(-time.Hour), []connectors.Remote{r})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 {
		t.Fatalf("%d updates, want 1", len(ups))
	}
	u := ups[0]
	if len(u.Comments) != 1 || u.Comments[0].Body != "Please reboot.\nThen tell us." || u.Comments[0].Author != "Agent Smith" {
		t.Errorf("comments %+v, want only the reply to the customer", u.Comments)
	}
	if u.Status != "Waiting for support" || !strings.EqualFold(u.Category, "new") || u.URL != r.URL || u.Number != r.Number {
		t.Errorf("update %+v", u)
	}
	for _, s := range f.Site().Searches() {
		if !strings.HasPrefix(s.JQL, `project = "`+jsmfake.ProjectID+`"`) {
			t.Errorf("search %q is not scoped to the desk's project", s.JQL)
		}
	}
}
