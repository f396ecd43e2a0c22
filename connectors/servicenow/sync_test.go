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
			Target: conformance.Target{Connection: connection(f.URL()), Faults: f.Faults,
				CreateMethod: http.MethodPost, CreatePath: "/api/now/table/incident", Count: f.Count},
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
	var got *connectors.Update
	for i := range ups {
		if ups[i].ID == a.ID {
			got = &ups[i]
		}
	}
	if got == nil {
		t.Fatalf("no update for the worked incident among %+v", ups)
	}
	if got.Status != "3" || got.Category != "1" || got.Assignee != "Beth Anglin" || got.Number == "" || got.URL == "" {
		t.Errorf("update = %+v", got)
	}
	if conn.LocalStatus(*got) != connectors.StateWaitingOnYou {
		t.Errorf("On Hold awaiting the caller maps to %q", conn.LocalStatus(*got))
	}
	if len(got.Comments) != 1 || got.Comments[0].Body != "Can you restart the laptop?" ||
		got.Comments[0].Author != "Beth Anglin" || got.Comments[0].CreatedAt.IsZero() || got.Comments[0].ID == "" {
		t.Errorf("comments = %+v (work notes, the caller's and the integration account's comments must not be among them)", got.Comments)
	}

	// The next cycle: nothing changed since, so one request and no update;
	// the author's name is cached.
	later := time.Now().Add(time.Hour)
	start = len(f.Requests())
	ups, err = sy.Sync(context.Background(), later, []connectors.Remote{a, b})
	if err != nil || len(ups) != 0 || len(f.Requests())-start != 1 {
		t.Errorf("quiet cycle: %d updates, %d requests, %v", len(ups), len(f.Requests())-start, err)
	}
	f.Act(b.ID, "beth.anglin", map[string]string{"comments": "Done?"})
	start = len(f.Requests())
	ups, err = sy.Sync(context.Background(), time.Time{}, []connectors.Remote{b})
	if err != nil || len(ups) != 1 || len(ups[0].Comments) != 1 || ups[0].Comments[0].Author != "Beth Anglin" {
		t.Fatalf("Sync = %+v, %v", ups, err)
	}
	if n := len(f.Requests()) - start; n != 2 {
		t.Errorf("%d requests with the author cached, want 2", n)
	}
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
	plain := connectors.Connection{Type: "servicenow"}
	custom := connectors.Connection{Type: "servicenow", Mappings: map[string]map[string]string{"status": {
		"Awaiting Caller": connectors.StateInProgress, "awaiting vendor": connectors.StateBacklog, "10": connectors.StateWaitingOnYou}}}
	for _, tt := range []struct {
		name string
		c    connectors.Connection
		u    connectors.Update
		want string
	}{
		{"New", plain, connectors.Update{Status: "1"}, connectors.StateBacklog},
		{"In Progress", plain, connectors.Update{Status: "2"}, connectors.StateInProgress},
		{"On Hold, no reason", plain, connectors.Update{Status: "3"}, connectors.StateInProgress},
		{"On Hold, Awaiting Caller", plain, connectors.Update{Status: "3", Category: "1"}, connectors.StateWaitingOnYou},
		{"On Hold, Awaiting Caller by label", plain, connectors.Update{Status: "3", Category: "Awaiting Caller"}, connectors.StateWaitingOnYou},
		{"On Hold, another reason's code", plain, connectors.Update{Status: "3", Category: "4"}, connectors.StateInProgress},
		{"On Hold, another reason without a row", plain, connectors.Update{Status: "3", Category: "Awaiting Vendor"}, connectors.StateInProgress},
		{"legacy Awaiting User Info", plain, connectors.Update{Status: "4"}, connectors.StateWaitingOnYou},
		{"Resolved", plain, connectors.Update{Status: "6"}, connectors.StateResolved},
		{"Closed", plain, connectors.Update{Status: "7"}, connectors.StateClosed},
		{"Canceled", plain, connectors.Update{Status: "8"}, connectors.StateClosed},
		{"a custom state", plain, connectors.Update{Status: "10"}, connectors.StateBacklog},
		{"a hold reason in the Category does not leak into other states", plain, connectors.Update{Status: "2", Category: "1"}, connectors.StateInProgress},
		{"config overrides Awaiting Caller", custom, connectors.Update{Status: "3", Category: "1"}, connectors.StateInProgress},
		{"config row for another hold reason", custom, connectors.Update{Status: "3", Category: "Awaiting Vendor"}, connectors.StateBacklog},
		{"config row for a custom state", custom, connectors.Update{Status: "10"}, connectors.StateWaitingOnYou},
	} {
		if got := tt.c.LocalStatus(tt.u); got != tt.want {
			t.Errorf("%s: LocalStatus(%+v) = %q, want %q", tt.name, tt.u, got, tt.want)
		}
	}
	for k, v := range plain.StatusTable() {
		if err := connectors.CheckMappingRow("servicenow", "status", k, v); err != nil {
			t.Errorf("built-in row %s: %v", k, err)
		}
	}
}
