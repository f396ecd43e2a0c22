package jsm

import (
	"context"
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
		tg := target(f)
		tg.Violations = f.Violations
		return conformance.SyncTarget{
			Target: tg,
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
	conformance.CheckStatuses(t, "jsm", agentStatus)
	check := conformance.StatusCheck(t, "jsm")
	check("Triage", nil, connectors.Update{Status: "Triage", Category: "NEW"}, connectors.StateBacklog)
	check("Investigating", nil, connectors.Update{Status: "Investigating", Category: "indeterminate"}, connectors.StateInProgress)
	check("Fixed", nil, connectors.Update{Status: "Fixed", Category: "DONE"}, connectors.StateResolved)
	check("Canceled", nil, connectors.Update{Status: "Canceled", Category: "done"}, connectors.StateClosed)
	check("Pending", map[string]string{"Pending": "waiting_on_you"}, connectors.Update{Status: "Pending", Category: "indeterminate"}, connectors.StateWaitingOnYou)
	check("Mystery", nil, connectors.Update{Status: "Mystery", Category: "UNDEFINED"}, connectors.StateBacklog)
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
