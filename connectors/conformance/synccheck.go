package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
)

// Helpers for a vendor's own sync tests: the checks that are the same
// whatever the vendor, so each test states only its vendor's queries.

// UpdateFor returns the update for the remote ticket id among ups,
// failing the test if Sync reported none.
func UpdateFor(t testing.TB, ups []connectors.Update, id string) connectors.Update {
	t.Helper()
	for _, u := range ups {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no update for %s among %+v", id, ups)
	return connectors.Update{}
}

// CheckQuietSync checks a cycle in which nothing changed since: no update,
// for one request (the batched query). requests counts the fake's.
func CheckQuietSync(t testing.TB, sy connectors.Syncer, remotes []connectors.Remote, requests func() int) {
	t.Helper()
	start := requests()
	ups, err := sy.Sync(context.Background(), time.Now().Add(time.Hour), remotes)
	if err != nil || len(ups) != 0 || requests()-start != 1 {
		t.Errorf("quiet cycle: %d updates, %d requests, %v", len(ups), requests()-start, err)
	}
}

// CheckCachedAuthor checks that r's one comment, by an author an earlier
// cycle looked up, is reported under author's name for two requests (the
// tickets and their comments): the author is not looked up again.
func CheckCachedAuthor(t testing.TB, sy connectors.Syncer, r connectors.Remote, author string, requests func() int) {
	t.Helper()
	start := requests()
	ups, err := sy.Sync(context.Background(), time.Time{}, []connectors.Remote{r})
	if err != nil || len(ups) != 1 || len(ups[0].Comments) != 1 || ups[0].Comments[0].Author != author {
		t.Fatalf("Sync = %+v, %v", ups, err)
	}
	if n := requests() - start; n != 2 {
		t.Errorf("%d requests with the author cached, want 2", n)
	}
}

// CheckStatuses checks that each vendor status in statuses (keyed by the
// local state it stands for) maps to that state through the built-in rows
// of connectors of type typ.
func CheckStatuses(t testing.TB, typ string, statuses map[string]string) {
	t.Helper()
	c := connectors.Connection{Type: typ}
	for want, status := range statuses {
		if got := c.LocalStatus(connectors.Update{Status: status}); got != want {
			t.Errorf("%q maps to %q, want %q", status, got, want)
		}
	}
}

// StatusCheck returns a check of one row of a vendor's status table:
// that update maps to the local state want under a connection of type typ
// with mapping as its mappings.status (nil: the built-in rows alone).
func StatusCheck(t testing.TB, typ string) func(name string, mapping map[string]string, update connectors.Update, want string) {
	return func(name string, mapping map[string]string, u connectors.Update, want string) {
		t.Helper()
		c := connectors.Connection{Type: typ, Mappings: map[string]map[string]string{"status": mapping}}
		if got := c.LocalStatus(u); got != want {
			t.Errorf("%s: LocalStatus(%+v) with %v = %q, want %q", name, u, mapping, got, want)
		}
	}
}

// CheckBuiltinRows checks every built-in status row of type typ as a
// connection's own row would be checked.
func CheckBuiltinRows(t testing.TB, typ string) {
	t.Helper()
	for k, v := range (&connectors.Connection{Type: typ}).StatusTable() {
		if err := connectors.CheckMappingRow(typ, "status", k, v); err != nil {
			t.Errorf("built-in row %s: %v", k, err)
		}
	}
}
