package bmchelix_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/conformance"
)

const (
	helpDeskPath = "/api/arsys/v1/entry/HPD:Help Desk"
	workLogPath  = "/api/arsys/v1/entry/HPD:WorkLog"
	peoplePath   = "/api/arsys/v1/entry/CTM:People"
)

// vendorStatus is the Status (and Status_Reason) an agent sets for a
// local state, through the built-in rows.
var vendorStatus = map[string][2]string{
	connectors.StateInProgress:   {"In Progress", ""},
	connectors.StateWaitingOnYou: {"Pending", "Client Action Required"},
	connectors.StateResolved:     {"Resolved", "No Further Action Required"},
	connectors.StateClosed:       {"Closed", ""},
}

// act works the incident as the agent named assignee: status, assignee, a
// public work info entry and an internal one (which Sync must not report).
func act(t *testing.T, f *bmcfake.Fake, r connectors.Remote, want, assignee, body string) string {
	t.Helper()
	first, last, _ := strings.Cut(assignee, " ")
	login := strings.ToLower(first)
	f.AddPerson(login, first, last)
	st, ok := vendorStatus[want]
	if !ok {
		t.Fatalf("no BMC status for %q", want)
	}
	if !f.Act(r.Number, login, map[string]string{"Status": st[0], "Status_Reason": st[1], "Assignee Login ID": login}) ||
		!f.AddWorkInfo(r.Number, login, "Public", body) || !f.AddWorkInfo(r.Number, login, "Internal", "Internal: "+body) {
		t.Fatalf("the fake refused to work %s", r.Number)
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

// TestSyncQueries pins the requests: one HPD:Help Desk query naming the
// incidents (scoped to the company, as Find is), one HPD:WorkLog query for
// public entries, one CTM:People lookup that later cycles do not repeat;
// and reports neither internal work info nor incidents nobody touched
// since.
func TestSyncQueries(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Options = options("company", bmcfake.CompanyInvention)
	c := conformance.MustBuild(t, conn)
	sy := c.(connectors.Syncer)
	a := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), conn))
	b := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), conn))
	act(t, f, a, connectors.StateWaitingOnYou, "Bob Baxter", "Please send a screenshot.")
	// The customer's own public entry (the integration account is the
	// customer) is not the help desk's.
	f.AddWorkInfo(a.Number, bmcfake.Username, "Public", "Screenshot attached.")

	since := time.Now().Add(-time.Minute)
	start := len(f.Requests())
	ups, err := sy.Sync(context.Background(), since, []connectors.Remote{a, b, {ID: "not a number"}})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	reqs := f.Requests()[start:]
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (incidents, work info, people)", len(reqs))
	}
	wantHD := fmt.Sprintf(`('Incident Number' = "%s" OR 'Incident Number' = "%s") AND 'Last Modified Date' >= %d AND 'Company' = "%s"`,
		a.Number, b.Number, since.Unix(), bmcfake.CompanyInvention)
	if reqs[0].Path != helpDeskPath || reqs[0].Query.Get("q") != wantHD {
		t.Errorf("incident query = %s %s\nwant %s", reqs[0].Path, reqs[0].Query.Get("q"), wantHD)
	}
	if q := reqs[1].Query.Get("q"); reqs[1].Path != workLogPath || !strings.Contains(q, `'View Access' = "Public"`) ||
		!strings.Contains(q, fmt.Sprintf("'Submit Date' >= %d", since.Unix())) || reqs[1].Query.Get("sort") != "Submit Date.asc" {
		t.Errorf("work info query = %s %v", reqs[1].Path, reqs[1].Query)
	}
	if q := reqs[2].Query.Get("q"); reqs[2].Path != peoplePath || q != `('Remedy Login ID' = "bob" OR 'Remedy Login ID' = "`+bmcfake.Username+`")` {
		t.Errorf("people query = %s %s", reqs[2].Path, q)
	}
	got := conformance.UpdateFor(t, ups, a.ID)
	if got.Status != "Pending" || got.Category != "Client Action Required" || got.Assignee != "Bob Baxter" || got.Number != a.Number || got.UpdatedAt.IsZero() {
		t.Errorf("update = %+v", got)
	}
	if len(got.Comments) != 1 || got.Comments[0].Body != "Please send a screenshot." || got.Comments[0].Author != "Bob Baxter" ||
		got.Comments[0].ID == "" || got.Comments[0].CreatedAt.IsZero() {
		t.Errorf("comments = %+v (internal work info and the customer's own must not be among them)", got.Comments)
	}

	conformance.CheckQuietSync(t, sy, []connectors.Remote{a, b}, f.RequestTotal)
	f.AddWorkInfo(b.Number, "bob", "Public", "Fixed?")
	conformance.CheckCachedAuthor(t, sy, b, "Bob Baxter", f.RequestTotal)
}

// TestSyncBatches: more incidents than one qualification names take one
// query per 50, not one per incident.
func TestSyncBatches(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	var remotes []connectors.Remote
	for i := range 120 {
		n := fmt.Sprintf("INC%012d", 900000+i)
		remotes = append(remotes, connectors.Remote{ID: n, Number: n})
	}
	if _, err := c.(connectors.Syncer).Sync(context.Background(), time.Time{}, remotes); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range f.Requests() {
		if r.Path == helpDeskPath {
			n++
			if terms := strings.Count(r.Query.Get("q"), "'Incident Number'"); terms > 50 || r.Query.Get("limit") != fmt.Sprint(terms) {
				t.Errorf("a query names %d incidents with limit %s", terms, r.Query.Get("limit"))
			}
		}
	}
	if n != 3 {
		t.Errorf("%d incident queries for 120 incidents, want 3", n)
	}
}

// TestSyncPagesWorkInfo: more public entries than a page are all read, a
// page at a time.
func TestSyncPagesWorkInfo(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	r := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), conn))
	for i := range 501 {
		f.AddWorkInfo(r.Number, "Allen", "Public", fmt.Sprintf("note %d", i))
	}
	ups, err := c.(connectors.Syncer).Sync(context.Background(), time.Time{}, []connectors.Remote{r})
	if err != nil || len(ups) != 1 || len(ups[0].Comments) != 501 || ups[0].Comments[500].Body != "note 500" {
		t.Fatalf("Sync: %d updates, %v", len(ups), err)
	}
	pages := 0
	for _, q := range f.Requests() {
		if q.Path == workLogPath && q.Method == http.MethodGet {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("%d work info pages, want 2", pages)
	}
}

func TestStatusTable(t *testing.T) {
	custom := map[string]string{"Assigned": connectors.StateInProgress, "Supplier Delivery": connectors.StateBacklog, "client action required": connectors.StateInProgress}
	check := conformance.StatusCheck(t, bmchelix.Type)
	check("New", nil, connectors.Update{Status: "New"}, connectors.StateBacklog)
	check("Assigned", nil, connectors.Update{Status: "Assigned"}, connectors.StateBacklog)
	check("In Progress", nil, connectors.Update{Status: "In Progress"}, connectors.StateInProgress)
	check("Pending", nil, connectors.Update{Status: "Pending", Category: "Supplier Delivery"}, connectors.StateInProgress)
	check("Pending on the customer", nil, connectors.Update{Status: "Pending", Category: "Client Action Required"}, connectors.StateWaitingOnYou)
	check("Resolved", nil, connectors.Update{Status: "Resolved", Category: "No Further Action Required"}, connectors.StateResolved)
	check("Closed", nil, connectors.Update{Status: "Closed"}, connectors.StateClosed)
	check("Cancelled", nil, connectors.Update{Status: "Cancelled"}, connectors.StateClosed)
	check("a reason outside Pending is not a status", nil, connectors.Update{Status: "In Progress", Category: "Client Action Required"}, connectors.StateInProgress)
	check("config row", custom, connectors.Update{Status: "Assigned"}, connectors.StateInProgress)
	check("config row for a Pending reason", custom, connectors.Update{Status: "Pending", Category: "Supplier Delivery"}, connectors.StateBacklog)
	check("config overrides the built-in reason", custom, connectors.Update{Status: "Pending", Category: "Client Action Required"}, connectors.StateInProgress)
	conformance.CheckBuiltinRows(t, bmchelix.Type)
}
