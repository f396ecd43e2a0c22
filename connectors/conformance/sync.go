package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
)

// SyncTarget is a Target whose fake lets the suite act as the help desk.
type SyncTarget struct {
	Target
	// Act changes the remote ticket as an agent would: moves it to a status
	// the vendor's built-in rows map to want (a local state), assigns it to
	// assignee and adds a public comment with body. It returns the
	// vendor's status as Update.Status must report it.
	Act func(t *testing.T, r connectors.Remote, want, assignee, body string) (status string)
	// Requests is how many requests the fake has served so far.
	Requests func() int
	// PerChangedTicket allows this many more requests for each ticket Sync
	// reports (changed since the last cycle), for a vendor with no batched
	// read of comments (Freshservice reads a ticket's conversation on its
	// own). Tickets it does not report must still cost nothing.
	PerChangedTicket int
}

// MaxSyncRequests bounds the requests one Sync may make, however many
// tickets it covers: a batched, incremental query (and, where the vendor
// needs it, one more for comments or users), never one GET per ticket.
const MaxSyncRequests = 4

// RunSync checks status coming back: after the help desk acts on some of
// the tickets a connection created, one Sync reports each of those with
// its vendor status (mapping to the wanted local state through the
// connection's status table), assignee and the agent's comment; it does
// not report tickets nobody touched since; and its request count does not
// grow with the number of tickets (1 ticket vs 12).
func RunSync(t *testing.T, newTarget func(t *testing.T) SyncTarget) {
	for _, n := range []int{1, 12} {
		t.Run(fmt.Sprintf("%d tickets", n), func(t *testing.T) { syncCycle(t, newTarget(t), n) })
	}
}

func syncCycle(t *testing.T, tg SyncTarget, n int) {
	ctx := context.Background()
	c := MustBuild(t, tg.Connection)
	sy, ok := c.(connectors.Syncer)
	if !ok {
		t.Fatalf("the %s connector does not implement connectors.Syncer", tg.Connection.Type)
	}
	var remotes []connectors.Remote
	for i := 0; i < n; i++ {
		remotes = append(remotes, MustCreate(t, c, Delivery(Ticket(), tg.Connection)))
	}
	// Everything before this instant is old news to the next cycle; the
	// vendors' filters are at best minute-grained, so the suite's touched
	// tickets are told apart from untouched ones by what changed, not by
	// time alone.
	before := time.Now().Add(-time.Minute)
	states := []string{connectors.StateResolved, connectors.StateInProgress, connectors.StateWaitingOnYou, connectors.StateClosed}
	acted := map[string]actedOn{}
	for i, r := range remotes {
		if i%3 == 2 {
			continue // nobody touched it
		}
		want := states[i%len(states)]
		body := fmt.Sprintf("Agent note %d: please restart the laptop.", i)
		st := tg.Act(t, r, want, "Agent Smith", body)
		acted[r.ID] = actedOn{want: want, status: st, body: body}
	}
	start := tg.Requests()
	ups, err := sy.Sync(ctx, before, remotes)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if limit := MaxSyncRequests + tg.PerChangedTicket*len(ups); tg.Requests()-start > limit {
		t.Errorf("Sync of %d tickets (%d reported) made %d requests, want at most %d (batched, not one per ticket)", n, len(ups), tg.Requests()-start, limit)
	}
	seen := map[string]bool{}
	for _, u := range ups {
		seen[u.ID] = true
		a, ok := acted[u.ID]
		if !ok {
			if u.Status == "" {
				t.Errorf("an update for %s without a status", u.ID)
			}
			continue // a vendor may report untouched tickets too; they must stay consistent
		}
		if u.Status != a.status {
			t.Errorf("%s: status %q, want %q", u.ID, u.Status, a.status)
		}
		if got := tg.Connection.LocalStatus(u); got != a.want {
			t.Errorf("%s: vendor status %q (category %q) maps to %q, want %q", u.ID, u.Status, u.Category, got, a.want)
		}
		if u.Assignee != "Agent Smith" {
			t.Errorf("%s: assignee %q", u.ID, u.Assignee)
		}
		if !hasComment(u.Comments, a.body) {
			t.Errorf("%s: the agent's comment is not among %d comments", u.ID, len(u.Comments))
		}
		if u.UpdatedAt.IsZero() || u.Number == "" {
			t.Errorf("%s: updatedAt %v, number %q", u.ID, u.UpdatedAt, u.Number)
		}
	}
	for id := range acted {
		if !seen[id] {
			t.Errorf("Sync did not report ticket %s, which the help desk changed", id)
		}
	}
	checkViolations(t, tg.Violations)
}

type actedOn struct{ want, status, body string }

func hasComment(cs []connectors.RemoteComment, body string) bool {
	for _, c := range cs {
		if c.Body == body {
			return true
		}
	}
	return false
}
