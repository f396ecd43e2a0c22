package freshservice_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/freshservice/fsfake"
)

// agentStatus is the Freshservice status code an agent sets for a local
// state (Open with an assignee is in_progress).
var agentStatus = map[string]int{
	connectors.StateInProgress:   2,
	connectors.StateWaitingOnYou: 3,
	connectors.StateResolved:     4,
	connectors.StateClosed:       5,
}

func syncTarget(t *testing.T) conformance.SyncTarget {
	f := startFake(t)
	return conformance.SyncTarget{
		Target: target(f),
		Act: func(t *testing.T, r connectors.Remote, want, assignee, body string) string {
			t.Helper()
			return act(t, f, r, fsfake.AgentUpdate{Status: agentStatus[want], Agent: assignee, Reply: body})
		},
		Requests: func() int { return len(f.Requests()) },
	}
}

// TestSync runs the shared sync suite. Freshservice has no batched read of
// conversations (they are embedded only in a single ticket's view), so a
// Sync costs one listing, one request per new agent and one per changed
// ticket: the suite allows one request per changed ticket (unchanged ones
// cost nothing). TestSyncRequests pins the exact cost.
func TestSync(t *testing.T) {
	conformance.RunSync(t, func(t *testing.T) conformance.SyncTarget {
		tg := syncTarget(t)
		tg.PerChangedTicket = 1
		return tg
	})
}

func act(t *testing.T, f *fsfake.Fake, r connectors.Remote, u fsfake.AgentUpdate) string {
	t.Helper()
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil || !f.Act(id, u) {
		t.Fatalf("no ticket %q", r.ID)
	}
	return strconv.Itoa(u.Status)
}

// TestSyncRequests is RunSync's scenario with Freshservice's cost: the
// status, assignee and the agent's reply of each touched ticket come back,
// untouched ones do not, and the requests are the listing, one agent and
// one conversations read per touched ticket.
func TestSyncRequests(t *testing.T) {
	ctx := context.Background()
	tg := syncTarget(t)
	c := conformance.MustBuild(t, tg.Connection)
	var remotes []connectors.Remote
	for i := 0; i < 12; i++ {
		remotes = append(remotes, conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), tg.Connection)))
	}
	before := time.Now().Add(-time.Minute)
	// Created a minute "ago" by the connector's clock: an untouched
	// ticket is updated_at creation, so the listing must leave it out.
	states := []string{connectors.StateResolved, connectors.StateInProgress, connectors.StateWaitingOnYou, connectors.StateClosed}
	acted := map[string]string{}
	for i, r := range remotes {
		if i%3 == 2 {
			continue
		}
		want := states[i%len(states)]
		st := tg.Act(t, r, want, "Agent Smith", "Agent note "+strconv.Itoa(i))
		acted[r.ID] = st + "/" + want
	}
	start := tg.Requests()
	ups, err := c.(connectors.Syncer).Sync(ctx, before, remotes)
	if err != nil {
		t.Fatal(err)
	}
	// Tickets created in this test were all updated after before, so all
	// 12 are listed; the touched ones are checked in full.
	if got, want := tg.Requests()-start, 1+1+len(ups); got != want {
		t.Errorf("Sync made %d requests, want %d (one listing, one agent, one per reported ticket)", got, want)
	}
	seen := 0
	for _, u := range ups {
		a, ok := acted[u.ID]
		if !ok {
			continue
		}
		seen++
		st, want, _ := strings.Cut(a, "/")
		if u.Status != st || tg.Connection.LocalStatus(u) != want || u.Assignee != "Agent Smith" || u.Number == "" || u.UpdatedAt.IsZero() {
			t.Errorf("%s: %+v, want status %s (%s) assigned to Agent Smith", u.ID, u, st, want)
		}
		if len(u.Comments) != 1 || !strings.HasPrefix(u.Comments[0].Body, "Agent note ") || u.Comments[0].Author != "Agent Smith" {
			t.Errorf("%s: comments %+v, want the agent's reply only", u.ID, u.Comments)
		}
	}
	if seen != len(acted) {
		t.Errorf("Sync reported %d of the %d touched tickets", seen, len(acted))
	}
	if v := tg.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestSyncSince: a ticket updated before since is not reported; a private
// note does not come back; the next cycle names the agent from its cache.
func TestSyncSince(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f := startFake(t, fsfake.WithClock(func() time.Time { return now }))
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	sy := c.(connectors.Syncer)
	a := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL())))
	b := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL())))

	// First sync (since zero) goes through the tag filter and sees both,
	// Open and unassigned: backlog.
	ups, err := sy.Sync(ctx, time.Time{}, []connectors.Remote{a, b})
	if err != nil || len(ups) != 2 {
		t.Fatalf("first Sync = %+v, %v; want both tickets", ups, err)
	}
	if got := conn.LocalStatus(ups[0]); got != connectors.StateBacklog {
		t.Errorf("an open, unassigned ticket maps to %q, want backlog", got)
	}

	now = now.Add(10 * time.Minute)
	since := now
	act(t, f, a, fsfake.AgentUpdate{Status: 3, Agent: "Agent Smith", Reply: "Please send a screenshot.", Note: "Probably the driver."})
	start := len(f.Requests())
	ups, err = sy.Sync(ctx, since, []connectors.Remote{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].ID != a.ID || ups[0].Status != "3" || ups[0].Assignee != "Agent Smith" {
		t.Fatalf("Sync = %+v, want ticket %s pending for Agent Smith only", ups, a.ID)
	}
	if cs := ups[0].Comments; len(cs) != 1 || cs[0].Body != "Please send a screenshot." {
		t.Errorf("comments %+v, want the public reply only", cs)
	}
	if got := conn.LocalStatus(ups[0]); got != connectors.StateWaitingOnYou {
		t.Errorf("pending maps to %q", got)
	}
	if got := len(f.Requests()) - start; got != 3 {
		t.Errorf("%d requests, want 3 (listing, agent, conversations)", got)
	}

	now = now.Add(10 * time.Minute)
	act(t, f, a, fsfake.AgentUpdate{Status: 4, Reply: "Fixed."})
	start = len(f.Requests())
	if ups, err = sy.Sync(ctx, now, []connectors.Remote{a, b}); err != nil || len(ups) != 1 || ups[0].Assignee != "Agent Smith" {
		t.Fatalf("Sync = %+v, %v", ups, err)
	}
	for _, r := range f.Requests()[start:] {
		if strings.HasPrefix(r.Path, "/api/v2/agents/") {
			t.Errorf("the agent was read again: %s", r.Path)
		}
	}
	noViolations(t, f)
}

// TestSyncPages: the listing and the conversations are paged.
func TestSyncPages(t *testing.T) {
	ctx := context.Background()
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	var remotes []connectors.Remote
	for i := 0; i < 105; i++ {
		remotes = append(remotes, conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL()))))
	}
	for i := 0; i < 101; i++ {
		act(t, f, remotes[0], fsfake.AgentUpdate{Reply: "reply " + strconv.Itoa(i)})
	}
	start := len(f.Requests())
	ups, err := c.(connectors.Syncer).Sync(ctx, time.Now().Add(-time.Hour), remotes)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != len(remotes) {
		t.Errorf("Sync reported %d tickets, want %d", len(ups), len(remotes))
	}
	lists, conv := 0, 0
	for _, r := range f.Requests()[start:] {
		switch {
		case r.Method == http.MethodGet && r.Path == "/api/v2/tickets":
			lists++
		case strings.HasSuffix(r.Path, "/"+remotes[0].ID+"/conversations"):
			conv++
		}
	}
	if lists != 2 || conv != 2 {
		t.Errorf("%d listing pages and %d conversation pages, want 2 and 2", lists, conv)
	}
	for _, u := range ups {
		if u.ID == remotes[0].ID && len(u.Comments) != 101 {
			t.Errorf("%d comments, want 101", len(u.Comments))
		}
	}
	noViolations(t, f)
}

func TestStatusTable(t *testing.T) {
	c := connection("https://acme.freshservice.com")
	for _, tc := range []struct {
		status, assignee, want string
	}{
		{"2", "", connectors.StateBacklog},
		{"2", "Agent Smith", connectors.StateInProgress},
		{"3", "Agent Smith", connectors.StateWaitingOnYou},
		{"4", "", connectors.StateResolved},
		{"5", "", connectors.StateClosed},
		{"17", "", connectors.StateBacklog}, // a custom status without a row
	} {
		if got := c.LocalStatus(connectors.Update{Status: tc.status, Assignee: tc.assignee}); got != tc.want {
			t.Errorf("LocalStatus(%s, assignee %q) = %q, want %q", tc.status, tc.assignee, got, tc.want)
		}
	}
	c.Mappings = map[string]map[string]string{"status": {"2": connectors.StateBacklog, "17": connectors.StateWaitingOnYou}}
	for _, tc := range []struct{ status, assignee, want string }{
		{"2", "Agent Smith", connectors.StateBacklog},
		{"17", "", connectors.StateWaitingOnYou},
	} {
		if got := c.LocalStatus(connectors.Update{Status: tc.status, Assignee: tc.assignee}); got != tc.want {
			t.Errorf("with mappings.status, LocalStatus(%s) = %q, want %q", tc.status, got, tc.want)
		}
	}
}
