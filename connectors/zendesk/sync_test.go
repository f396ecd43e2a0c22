package zendesk_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
)

// agentStatus is the Zendesk status an agent sets for a local state.
var agentStatus = map[string]string{
	connectors.StateBacklog:      "new",
	connectors.StateInProgress:   "open",
	connectors.StateWaitingOnYou: "pending",
	connectors.StateResolved:     "solved",
	connectors.StateClosed:       "closed",
}

func TestSync(t *testing.T) {
	conformance.RunSync(t, func(t *testing.T) conformance.SyncTarget {
		f := startFake(t)
		return conformance.SyncTarget{
			Target: conformance.Target{Connection: connection(f.URL()), Faults: f.Faults, Count: f.Count, Violations: f.Violations},
			Act: func(t *testing.T, r connectors.Remote, want, assignee, body string) string {
				t.Helper()
				return act(t, f, r, zdfake.AgentUpdate{Status: agentStatus[want], Assignee: assignee, Comment: body, Public: true})
			},
			Requests: func() int { return len(f.Requests()) },
		}
	})
}

func act(t *testing.T, f *zdfake.Fake, r connectors.Remote, u zdfake.AgentUpdate) string {
	t.Helper()
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil {
		t.Fatalf("remote id %q: %v", r.ID, err)
	}
	if err := f.Act(id, u); err != nil {
		t.Fatal(err)
	}
	return u.Status
}

func TestStatusTable(t *testing.T) {
	c := connection("https://example.zendesk.com")
	for status, want := range map[string]string{
		"new": connectors.StateBacklog, "open": connectors.StateInProgress, "pending": connectors.StateWaitingOnYou,
		"hold": connectors.StateInProgress, "solved": connectors.StateResolved, "closed": connectors.StateClosed,
		"Solved": connectors.StateResolved, "something else": connectors.StateBacklog,
	} {
		if got := c.LocalStatus(connectors.Update{Status: status}); got != want {
			t.Errorf("LocalStatus(%q) = %q, want %q", status, got, want)
		}
	}
	c.Mappings = map[string]map[string]string{"status": {"hold": connectors.StateWaitingOnYou}}
	if got := c.LocalStatus(connectors.Update{Status: "hold"}); got != connectors.StateWaitingOnYou {
		t.Errorf("with mappings.status hold → waiting_on_you, LocalStatus(hold) = %q", got)
	}
}

// TestSyncPublicOnly: internal notes, the user's own description and
// replies, and Ticketray's private comments do not come back; untouched tickets are
// left out once since is past their update.
func TestSyncPublicOnly(t *testing.T) {
	ctx := context.Background()
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	r := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL())))
	act(t, f, r, zdfake.AgentUpdate{Status: "open", Assignee: "Agent Smith", Comment: "Internal: check the VPN logs.", Public: false})

	sy := c.(connectors.Syncer)
	ups, err := sy.Sync(ctx, time.Time{}, []connectors.Remote{r})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].Status != "open" || ups[0].Assignee != "Agent Smith" || len(ups[0].Comments) != 0 {
		t.Fatalf("Sync = %+v, want one open update assigned to Agent Smith without comments", ups)
	}

	act(t, f, r, zdfake.AgentUpdate{Comment: "Fixed it.\nPlease check.", Public: true})
	ups, err = sy.Sync(ctx, time.Time{}, []connectors.Remote{r})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || len(ups[0].Comments) != 1 || ups[0].Comments[0].Body != "Fixed it.\nPlease check." || ups[0].Comments[0].Author != "Agent Smith" {
		t.Fatalf("Sync = %+v, want the public reply by Agent Smith", ups)
	}

	id, _ := strconv.ParseInt(r.ID, 10, 64)
	if err := f.RequesterReply(id, "It works now, thanks."); err != nil {
		t.Fatal(err)
	}
	ups, err = sy.Sync(ctx, time.Time{}, []connectors.Remote{r})
	if err != nil || len(ups) != 1 || len(ups[0].Comments) != 0 {
		t.Fatalf("after the requester's reply, Sync = %+v, %v; want no help desk comment", ups, err)
	}

	ups, err = sy.Sync(ctx, time.Now().Add(time.Hour), []connectors.Remote{r})
	if err != nil || len(ups) != 0 {
		t.Fatalf("Sync since an hour ahead = %+v, %v; want nothing", ups, err)
	}
}

// TestSyncPages: more tickets than show_many takes are read 100 ids a
// request, and the fake refuses a request over the limit.
func TestSyncPages(t *testing.T) {
	ctx := context.Background()
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	var remotes []connectors.Remote
	for i := 0; i < zdfake.MaxShowMany+5; i++ {
		remotes = append(remotes, conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL()))))
	}
	start := len(f.Requests())
	ups, err := c.(connectors.Syncer).Sync(ctx, time.Time{}, remotes)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != len(remotes) {
		t.Errorf("Sync reported %d tickets, want %d", len(ups), len(remotes))
	}
	var pages int
	for _, r := range f.Requests()[start:] {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/show_many") {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("%d show_many requests, want 2", pages)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}
