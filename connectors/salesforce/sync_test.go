package salesforce_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/salesforce"
	"github.com/ticketray/ticketray/connectors/salesforce/sffake"
)

// orgStatuses are Case Status values an org adds beside the standard
// New, Working, Escalated and Closed.
var orgStatuses = []sffake.CaseStatus{{Value: "Waiting on Customer"}, {Value: "Resolved", IsClosed: true}, {Value: "Duplicate", IsClosed: true}}

// agentStatus is the Case Status an agent picks for a local state.
var agentStatus = map[string]string{
	connectors.StateBacklog:      "New",
	connectors.StateInProgress:   "Working",
	connectors.StateWaitingOnYou: "Waiting on Customer",
	connectors.StateResolved:     "Resolved",
	connectors.StateClosed:       "Closed",
}

func TestSyncConformance(t *testing.T) {
	conformance.RunSync(t, func(t *testing.T) conformance.SyncTarget {
		f := startFake(t, sffake.WithCaseStatuses(orgStatuses...))
		return conformance.SyncTarget{
			Target: target(f),
			Act: func(t *testing.T, r connectors.Remote, want, assignee, body string) string {
				return act(t, f, r, want, assignee, body)
			},
			Requests: func() int { return len(f.Requests()) },
		}
	})
}

// act changes a Case as an agent does: status, owner, a public comment.
func act(t *testing.T, f *sffake.Fake, r connectors.Remote, want, assignee, body string) string {
	t.Helper()
	st := agentStatus[want]
	if _, ok := f.AddComment(r.ID, assignee, body, true); !ok || !f.SetStatus(r.ID, st) || !f.Assign(r.ID, assignee) {
		t.Fatalf("the fake has no Case %s (or no status %q)", r.ID, st)
	}
	return st
}

func TestStatusTable(t *testing.T) {
	conn := connection("https://acme.my.salesforce.com")
	custom := conn
	custom.Mappings = map[string]map[string]string{"status": {"Escalated": connectors.StateWaitingOnYou, "IsClosed": connectors.StateResolved}}
	tests := []struct {
		conn             connectors.Connection
		status, category string
		want             string
	}{
		{conn, "New", "", connectors.StateBacklog},
		{conn, "Working", "", connectors.StateInProgress},
		{conn, "working", "", connectors.StateInProgress},
		{conn, "Escalated", "", connectors.StateInProgress},
		{conn, "Waiting on Customer", "", connectors.StateWaitingOnYou},
		{conn, "Resolved", salesforce.CategoryClosed, connectors.StateResolved},
		{conn, "Closed", salesforce.CategoryClosed, connectors.StateClosed},
		{conn, "Duplicate", salesforce.CategoryClosed, connectors.StateClosed}, // an org's own closed status
		{conn, "Parked", "", connectors.StateBacklog},                          // an org's own open status: the default row
		{custom, "Escalated", "", connectors.StateWaitingOnYou},
		{custom, "Duplicate", salesforce.CategoryClosed, connectors.StateResolved},
		{custom, "Closed", salesforce.CategoryClosed, connectors.StateClosed},
	}
	for _, tc := range tests {
		u := connectors.Update{Status: tc.status, Category: tc.category}
		if got := tc.conn.LocalStatus(u); got != tc.want {
			t.Errorf("LocalStatus(%q, %q) with %v = %q, want %q", tc.status, tc.category, tc.conn.Mappings, got, tc.want)
		}
	}
	if errs := custom.Validate(); len(errs) > 0 {
		t.Errorf("a status mapping over the built-in rows: %v", errs)
	}
}

// TestSyncDetails: public comments only, owners that are not people,
// the since filter on comments, Cases outside the connection's scope,
// ids that are not Case ids, and one query for all.
func TestSyncDetails(t *testing.T) {
	f := startFake(t, sffake.WithCaseStatuses(orgStatuses...))
	c := conformance.MustBuild(t, connection(f.URL()))
	sy := c.(connectors.Syncer)
	ctx := context.Background()
	var rs []connectors.Remote
	for range 4 {
		r, err := c.Create(ctx, ticket())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if _, err := sy.Sync(ctx, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	// Someone else's Case, same org, another origin.
	other := f.AddCase(map[string]string{salesforce.DefaultExternalIDField: "other-key", "Origin": "Web"})
	if _, ok := f.AddComment(rs[0].ID, "Agent Smith", "Old news.", true); !ok {
		t.Fatal("no Case")
	}
	time.Sleep(1100 * time.Millisecond) // SOQL date-times have seconds
	since := time.Now()
	f.AddComment(rs[0].ID, "Agent Smith", "Internal: reimage it.", false)
	f.AddComment(rs[0].ID, "Agent Smith", "Could you try again?", true)
	f.AssignQueue(rs[1].ID, "Tier 1")
	f.AddComment(rs[3].ID, "Agent Smith", "Private only.", false)

	start := len(f.Requests())
	ups, err := sy.Sync(ctx, since, append(rs, connectors.Remote{ID: other}, connectors.Remote{ID: "not-an-id"}, rs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Requests()) - start; n != 1 {
		t.Errorf("Sync made %d requests, want 1", n)
	}
	got := map[string]connectors.Update{}
	for _, u := range ups {
		got[u.ID] = u
	}
	if len(got) != 2 || len(ups) != 2 {
		t.Fatalf("Sync reported %v, want the commented Case and the queued one", ups)
	}
	u0 := got[rs[0].ID]
	if len(u0.Comments) != 1 || u0.Comments[0].Body != "Could you try again?" || u0.Comments[0].Author != "Agent Smith" ||
		u0.Comments[0].CreatedAt.IsZero() || u0.Status != "New" || u0.Assignee != "" || u0.Number != rs[0].Number || !strings.Contains(u0.URL, rs[0].ID) {
		t.Errorf("commented Case: %+v; want one public comment since, status New, nobody assigned", u0)
	}
	if u1 := got[rs[1].ID]; u1.Assignee != "" || len(u1.Comments) != 0 {
		t.Errorf("queued Case: %+v; want no assignee (a queue is nobody yet)", u1)
	}
	if _, ok := got[other]; ok {
		t.Error("Sync reported a Case of another origin")
	}
	// From the start, every Case comes back with all its public comments.
	all, err := sy.Sync(ctx, time.Time{}, rs)
	if err != nil || len(all) != 4 {
		t.Fatalf("Sync from zero = %d updates, %v; want 4", len(all), err)
	}
	for _, u := range all {
		if u.ID == rs[0].ID && len(u.Comments) != 2 {
			t.Errorf("Sync from zero: %d comments on the first Case, want its 2 public ones", len(u.Comments))
		}
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestSyncPaging: more Cases than one query names, an org that pages the
// results and a subquery with more comments than one batch; the
// request count grows with the batches, not the tickets.
func TestSyncPaging(t *testing.T) {
	f := startFake(t, sffake.WithCaseStatuses(orgStatuses...), sffake.WithQueryBatch(40, 3))
	c := conformance.MustBuild(t, connection(f.URL()))
	ctx := context.Background()
	var rs []connectors.Remote
	for range 130 {
		r, err := c.Create(ctx, conformance.Ticket())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	for i := range 5 {
		f.AddComment(rs[7].ID, "Agent Smith", "note "+string(rune('a'+i)), true)
	}
	f.SetStatus(rs[120].ID, "Duplicate")
	start := len(f.Requests())
	ups, err := c.(connectors.Syncer).Sync(ctx, time.Now().Add(-time.Hour), rs)
	if err != nil {
		t.Fatal(err)
	}
	// Two queries (100 + 30 ids); the first pages twice more (40 per
	// batch); one more request for the comments beyond the first 3.
	if n := len(f.Requests()) - start; n != 5 {
		t.Errorf("Sync of 130 Cases made %d requests, want 5", n)
	}
	if len(ups) != 130 {
		t.Fatalf("Sync reported %d Cases, want 130", len(ups))
	}
	for _, u := range ups {
		switch u.ID {
		case rs[7].ID:
			if len(u.Comments) != 5 || u.Comments[4].Body != "note e" {
				t.Errorf("paged comments: %d, want 5 in order", len(u.Comments))
			}
		case rs[120].ID:
			if u.Status != "Duplicate" || u.Category != salesforce.CategoryClosed {
				t.Errorf("closed Case: status %q category %q", u.Status, u.Category)
			}
		}
	}
	for _, rq := range f.Requests()[start:] {
		if len(rq.Path)+len(rq.RawQuery) > 4096 {
			t.Errorf("a sync request of %d bytes", len(rq.Path)+len(rq.RawQuery))
		}
		if q, _ := url.ParseQuery(rq.RawQuery); q.Get("q") != "" && !strings.Contains(q.Get("q"), "Origin = 'Ticketray'") {
			t.Errorf("a sync query outside the connection's origin: %s", q.Get("q"))
		}
	}
}
