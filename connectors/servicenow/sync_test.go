package servicenow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// vendorState is the state (and hold reason) an agent sets for a local
// state, through the built-in rows.
var vendorState = map[string][2]string{
	connectors.StateInProgress:   {"2", ""},
	connectors.StateWaitingOnYou: {"3", "1"}, // On Hold, Awaiting Caller
	connectors.StateResolved:     {"6", ""},
	connectors.StateClosed:       {"7", ""},
}

// act works the incident as the agent named assignee: state, assignee, an
// additional comment and a work note (which Sync must not report).
func act(t *testing.T, f *snfake.Fake, r connectors.Remote, want, assignee, body string) string {
	t.Helper()
	login := strings.ToLower(strings.ReplaceAll(assignee, " ", "."))
	agent := f.AddUser(snfake.SysUser{UserName: login, Name: assignee})
	st, ok := vendorState[want]
	if !ok {
		t.Fatalf("no ServiceNow state for %q", want)
	}
	fields := map[string]string{"state": st[0], "hold_reason": st[1], "assigned_to": agent,
		"comments": body, "work_notes": "Internal: " + body}
	if !f.Act(r.ID, login, fields) {
		t.Fatalf("no incident %s on the fake", r.ID)
	}
	return st[0]
}

func TestSync(t *testing.T) {
	conformance.RunSync(t, func(t *testing.T) conformance.SyncTarget {
		f := startFake(t)
		return conformance.SyncTarget{
			Target: target(f),
			Act: func(t *testing.T, r connectors.Remote, want, assignee, body string) string {
				return act(t, f, r, want, assignee, body)
			},
			Requests: f.RequestTotal,
		}
	})
}

// TestSyncQueries pins the requests: one incident query naming the
// tickets, one journal query for comments only, one user lookup that
// later cycles do not repeat; and reports neither work notes nor tickets
// nobody touched since.
func TestSyncQueries(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Options = map[string]json.RawMessage{"assignmentGroup": rawOption(snfake.ServiceDeskName)}
	c := newConnector(t, conn)
	sy := c.(connectors.Syncer)
	a := conformance.MustCreate(t, c, conformance.Ticket())
	b := conformance.MustCreate(t, c, conformance.Ticket())
	act(t, f, a, connectors.StateWaitingOnYou, "Beth Anglin", "Can you restart the laptop?")
	// Reassigned to another group: still followed.
	f.Update(a.ID, map[string]string{"assignment_group": snfake.NetworkGroupSysID})
	// The caller's own comment, and one the integration account wrote for
	// the user, are not the help desk's.
	f.Act(a.ID, "alice.example", map[string]string{"caller_id": snfake.AliceSysID, "comments": "It is the HP on floor 2."})
	f.Act(a.ID, snfake.Username, map[string]string{"comments": "Added from Ticketray."})

	start := len(f.Requests())
	ups, err := sy.Sync(context.Background(), time.Now().Add(-time.Minute), []connectors.Remote{a, b, {ID: "not-a-sys-id"}})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	reqs := f.Requests()[start:]
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (incidents, comments, users)", len(reqs))
	}
	inc := reqs[0].Query
	if reqs[0].Path != "/api/now/table/incident" ||
		!strings.HasPrefix(inc.Get("sysparm_query"), "correlation_display=Ticketray^sys_idIN") ||
		!strings.Contains(inc.Get("sysparm_query"), a.ID) || !strings.Contains(inc.Get("sysparm_query"), b.ID) ||
		!strings.Contains(inc.Get("sysparm_query"), "^sys_updated_on>=") || inc.Get("sysparm_display_value") != "all" {
		t.Errorf("incident query = %v", inc)
	}
	if q := reqs[1].Query.Get("sysparm_query"); reqs[1].Path != "/api/now/table/sys_journal_field" ||
		!strings.HasPrefix(q, "name=incident^element=comments^element_idIN") {
		t.Errorf("journal query = %s %s", reqs[1].Path, q)
	}
	if q := reqs[2].Query.Get("sysparm_query"); reqs[2].Path != "/api/now/table/sys_user" || q != "user_nameINbeth.anglin,alice.example,"+snfake.Username {
		t.Errorf("user query = %s %s", reqs[2].Path, q)
	}
	got := conformance.UpdateFor(t, ups, a.ID)
	if got.Status != "3" || got.Category != "1" || got.Assignee != "Beth Anglin" || got.Number == "" || got.URL == "" {
		t.Errorf("update = %+v", got)
	}
	if conn.LocalStatus(got) != connectors.StateWaitingOnYou {
		t.Errorf("On Hold awaiting the caller maps to %q", conn.LocalStatus(got))
	}
	if len(got.Comments) != 1 || got.Comments[0].Body != "Can you restart the laptop?" ||
		got.Comments[0].Author != "Beth Anglin" || got.Comments[0].CreatedAt.IsZero() || got.Comments[0].ID == "" {
		t.Errorf("comments = %+v (work notes, the caller's and the integration account's comments must not be among them)", got.Comments)
	}

	conformance.CheckQuietSync(t, sy, []connectors.Remote{a, b}, f.RequestTotal)
	f.Act(b.ID, "beth.anglin", map[string]string{"comments": "Done?"})
	conformance.CheckCachedAuthor(t, sy, b, "Beth Anglin", f.RequestTotal)
}

// TestSyncBatches: more tickets than one query names take one batch per
// syncBatch (100) sys_ids, not one request per ticket.
func TestSyncBatches(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	var remotes []connectors.Remote
	for i := range 250 {
		remotes = append(remotes, connectors.Remote{ID: fmt.Sprintf("%032x", i+1)})
	}
	start := len(f.Requests())
	ups, err := c.(connectors.Syncer).Sync(context.Background(), time.Time{}, remotes)
	if err != nil || len(ups) != 0 {
		t.Fatalf("Sync = %v, %v", ups, err)
	}
	if n := f.RequestCount(http.MethodGet, "/api/now/table/incident"); n != 3 || len(f.Requests())-start != 3 {
		t.Errorf("%d incident queries (%d requests) for 250 tickets, want 3", n, len(f.Requests())-start)
	}
}

func TestStatusTable(t *testing.T) {
	custom := map[string]string{"Awaiting Caller": connectors.StateInProgress, "awaiting vendor": connectors.StateBacklog, "10": connectors.StateWaitingOnYou}
	check := conformance.StatusCheck(t, "servicenow")
	check("New", nil, connectors.Update{Status: "1"}, connectors.StateBacklog)
	check("In Progress", nil, connectors.Update{Status: "2"}, connectors.StateInProgress)
	check("On Hold, no reason", nil, connectors.Update{Status: "3"}, connectors.StateInProgress)
	check("On Hold, Awaiting Caller", nil, connectors.Update{Status: "3", Category: "1"}, connectors.StateWaitingOnYou)
	check("On Hold, Awaiting Caller by label", nil, connectors.Update{Status: "3", Category: "Awaiting Caller"}, connectors.StateWaitingOnYou)
	check("On Hold, another reason's code", nil, connectors.Update{Status: "3", Category: "4"}, connectors.StateInProgress)
	check("On Hold, another reason without a row", nil, connectors.Update{Status: "3", Category: "Awaiting Vendor"}, connectors.StateInProgress)
	check("legacy Awaiting User Info", nil, connectors.Update{Status: "4"}, connectors.StateWaitingOnYou)
	check("Resolved", nil, connectors.Update{Status: "6"}, connectors.StateResolved)
	check("Closed", nil, connectors.Update{Status: "7"}, connectors.StateClosed)
	check("Canceled", nil, connectors.Update{Status: "8"}, connectors.StateClosed)
	check("a custom state", nil, connectors.Update{Status: "10"}, connectors.StateBacklog)
	check("a hold reason in the Category does not leak into other states", nil, connectors.Update{Status: "2", Category: "1"}, connectors.StateInProgress)
	check("config overrides Awaiting Caller", custom, connectors.Update{Status: "3", Category: "1"}, connectors.StateInProgress)
	check("config row for another hold reason", custom, connectors.Update{Status: "3", Category: "Awaiting Vendor"}, connectors.StateBacklog)
	check("config row for a custom state", custom, connectors.Update{Status: "10"}, connectors.StateWaitingOnYou)
	conformance.CheckBuiltinRows(t, "servicenow")
}
