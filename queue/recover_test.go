package queue

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// sourceQueue makes a closed queue at path with n tickets on zendesk in
// every delivery state, and returns each ticket's payload by id.
func sourceQueue(t *testing.T, path string, n int) map[string]string {
	t.Helper()
	clk := newFakeClock(t0)
	s, err := Open(context.Background(), path, Options{KEK: fastKEK("pw"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	payloads := map[string]string{}
	for i := range n {
		p := "ticket " + strings.Repeat(string(rune('a'+i%26)), 200+i*7)
		payloads[enqueue(t, s, t0.Add(time.Duration(i)*time.Second), p, Target{"zendesk", ActionCreate})] = p
	}
	// The first four: delivered, waiting to retry, dead, in flight.
	outcomes := []Outcome{
		{State: StateDelivered, RemoteID: "sys-1", RemoteNumber: "INC0001", RemoteURL: "https://x.example/1"},
		{State: StateRetry, Error: "HTTP 503", NextAttemptAt: t0.Add(time.Hour)},
		{State: StateDead, Error: "HTTP 422: bad field"},
		{},
	}
	for _, o := range outcomes {
		l := leaseOne(t, s, "zendesk")
		if o.State != "" {
			complete(t, s, l, o)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return payloads
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

// ticketLeafPage returns the number of a leaf page of the tickets table
// that holds ticket id (deliveries pages hold ticket ids too, but also the
// connection's name in clear).
func ticketLeafPage(t *testing.T, path, id string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int64(4096)
	for p := int64(1); p*pageSize <= int64(len(b)); p++ {
		page := b[(p-1)*pageSize : p*pageSize]
		if p > 1 && page[0] == 0x0D && bytes.Contains(page, []byte(id)) && !bytes.Contains(page, []byte("zendesk")) {
			return p
		}
	}
	t.Fatalf("no tickets leaf page holds %s", id)
	return 0
}

func TestRecover(t *testing.T) {
	tests := []struct {
		name string
		// damage harms the closed source file; all is every ticket id in it.
		damage func(t *testing.T, path string, all []string)
		// complete: every ticket is recovered.
		complete bool
	}{
		{"moved aside intact", func(*testing.T, string, []string) {}, true},
		{"payload fails authentication", func(t *testing.T, path string, all []string) {
			raw := rawDB(t, path)
			setTicketBlob(t, raw, all[5], flip(ticketBlob(t, raw, all[5]), 40))
			raw.Close()
		}, false},
		{"tickets page overwritten", func(t *testing.T, path string, all []string) {
			p := ticketLeafPage(t, path, all[len(all)/2])
			overwrite(t, path, (p-1)*4096, bytes.Repeat([]byte{0xA5}, 64))
		}, false},
		{"truncated to three quarters", func(t *testing.T, path string, all []string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()*3/4/4096*4096); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			src := filepath.Join(t.TempDir(), "queue.db")
			payloads := sourceQueue(t, src, 150)
			raw := rawDB(t, src)
			var all []string
			rows, err := raw.Query("SELECT id FROM tickets ORDER BY rowid")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				all = append(all, id)
			}
			rows.Close()
			raw.Close()
			tt.damage(t, src, all)
			before := fileSHA(t, src)

			dst, clk := newStore(t)
			clk.Set(t0.Add(2 * time.Hour))
			res, err := dst.Recover(ctx, src, fastKEK("pw"))
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			t.Logf("recovered %d, unreadable %v, problems %q", len(res.Recovered), res.Unreadable, res.Problems)
			if fileSHA(t, src) != before {
				t.Error("Recover changed the damaged file")
			}
			if res.Complete() != tt.complete {
				t.Errorf("Complete = %v, want %v", res.Complete(), tt.complete)
			}
			if len(res.Recovered) == 0 || len(res.Present) != 0 {
				t.Fatalf("recovered %d, present %d", len(res.Recovered), len(res.Present))
			}
			if !tt.complete && len(res.Unreadable) == 0 && len(res.Problems) == 0 {
				t.Error("damage went unreported")
			}
			// What was recovered is exactly what was there, once.
			got := list(t, dst, "")
			if !slices.Equal(sorted(ids(got)), sorted(res.Recovered)) {
				t.Errorf("queue holds %v, Recover says %v", ids(got), res.Recovered)
			}
			for _, it := range got {
				if want, ok := payloads[it.ID]; !ok || string(it.Payload) != want {
					t.Errorf("ticket %s: payload %.20q, want %.20q", it.ID, it.Payload, want)
				}
				want := 1
				if slices.Contains(res.WithoutDeliveries, it.ID) {
					want = 0
				}
				if len(it.Deliveries) != want {
					t.Errorf("ticket %s has %d deliveries, want %d", it.ID, len(it.Deliveries), want)
				}
			}
			for _, id := range res.Unreadable {
				if _, ok := payloads[id]; !ok || slices.Contains(res.Recovered, id) {
					t.Errorf("unreadable id %s is not an unrecovered ticket of the file", id)
				}
			}
			if tt.complete && !slices.Equal(sorted(res.Recovered), sorted(all)) {
				t.Errorf("recovered %d of %d intact tickets", len(res.Recovered), len(all))
			}
			if tt.name == "payload fails authentication" && !slices.Equal(res.Unreadable, []string{all[5]}) {
				t.Errorf("Unreadable = %v, want [%s]", res.Unreadable, all[5])
			}
			if tt.name == "tickets page overwritten" && len(res.Recovered)+len(res.Unreadable) != len(all) {
				t.Errorf("%d recovered + %d unreadable, want all %d accounted for by id", len(res.Recovered), len(res.Unreadable), len(all))
			}

			// Tickets without their deliveries are routed like orphans, and
			// their first attempt finds by key before creating.
			if len(res.WithoutDeliveries) > 0 && !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.HasPrefix(p, "deliveries:") }) {
				t.Errorf("%d tickets came without deliveries, but no delivery damage was reported", len(res.WithoutDeliveries))
			}
			n, err := dst.AssignOrphans(ctx, []Target{{"jira", ActionCreate}})
			if err != nil || n != len(res.WithoutDeliveries) {
				t.Errorf("AssignOrphans = %d, %v; want %d", n, err, len(res.WithoutDeliveries))
			}
			ls, err := dst.Lease(ctx, LeaseOptions{Connection: "jira", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ls {
				if !l.Uncertain {
					t.Errorf("ticket %s, recovered without its deliveries, is leased as certain never sent", l.TicketID)
				}
			}

			// Exactly once: a second run adds nothing.
			again, err := dst.Recover(ctx, src, fastKEK("pw"))
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Recovered) != 0 || !slices.Equal(sorted(again.Present), sorted(res.Recovered)) {
				t.Errorf("second run: recovered %d, present %d; want 0 and %d", len(again.Recovered), len(again.Present), len(res.Recovered))
			}
			if n := len(list(t, dst, "")); n != len(res.Recovered) {
				t.Errorf("%d tickets after the second run, want %d", n, len(res.Recovered))
			}
		})
	}
}

// TestRecoverKeepsDeliveryState: pending stays pending, delivered keeps its
// remote ids, retry and dead keep their errors, and an attempt in flight
// comes back due and uncertain (find by key before creating).
func TestRecoverKeepsDeliveryState(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "queue.db")
	sourceQueue(t, src, 5)
	old := openStore(t, src, Options{KEK: fastKEK("pw")})
	want := map[string]Delivery{}
	history := map[string]int{}
	for _, it := range list(t, old, "") {
		want[it.ID] = it.Deliveries[0]
		evs, err := old.Events(ctx, it.Deliveries[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		history[it.ID] = len(evs)
	}
	old.Close()

	dst, clk := newStore(t)
	clk.Set(t0.Add(2 * time.Hour))
	if _, err := dst.Recover(ctx, src, fastKEK("pw")); err != nil {
		t.Fatal(err)
	}
	byState := map[string]int{}
	for _, it := range list(t, dst, "") {
		d, w := it.Deliveries[0], want[it.ID]
		byState[w.State]++
		wantState := w.State
		if w.State == StateInFlight {
			wantState = StatePending
		}
		if d.State != wantState || d.Attempts != w.Attempts || d.RemoteID != w.RemoteID || d.RemoteNumber != w.RemoteNumber ||
			d.RemoteURL != w.RemoteURL || d.LastError != w.LastError || !d.DeliveredAt.Equal(w.DeliveredAt) {
			t.Errorf("ticket %s: delivery %+v, want %+v", it.ID, d, w)
		}
		evs, err := dst.Events(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := evs[len(evs)-1]; last.State != "recovered" || last.Detail != "recovered from queue.db" {
			t.Errorf("last event %+v, want the recovery", last)
		}
		if len(evs) != history[it.ID]+1 {
			t.Errorf("ticket %s: %d events, want the %d of its history and the recovery", it.ID, len(evs), history[it.ID])
		}
	}
	if want := map[string]int{StateDelivered: 1, StateRetry: 1, StateDead: 1, StateInFlight: 1, StatePending: 1}; !mapsEqual(byState, want) {
		t.Fatalf("source states %v, want %v", byState, want)
	}
	// Due now: the pending one and the one that was in flight, the latter
	// uncertain; the retry one at its time.
	ls, err := dst.Lease(ctx, LeaseOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	uncertain := 0
	for _, l := range ls {
		if l.Uncertain {
			uncertain++
		}
	}
	if len(ls) != 3 || uncertain != 2 {
		t.Errorf("leased %d (%d uncertain), want 3 due (pending, in flight and the retry due at t0+1h), 2 uncertain", len(ls), uncertain)
	}
}

func TestRecoverErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "queue.db")
	sourceQueue(t, src, 4)
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a queue\n"), 500), 0o600)
	dst, _ := newStore(t)
	tests := []struct {
		name, path string
		kek        KEKSource
		want       error
		msg        string
	}{
		{"wrong key", src, fastKEK("other"), ErrWrongKey, "data keys cannot be read"},
		{"missing file", filepath.Join(dir, "nope.db"), fastKEK("pw"), os.ErrNotExist, ""},
		{"not a queue", garbage, fastKEK("pw"), nil, "nothing can be read"},
		{"its own file", dst.Path(), fastKEK("pw"), nil, "this queue's own file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dst.Recover(ctx, tt.path, tt.kek)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Recover = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
	if n := len(list(t, dst, "")); n != 0 {
		t.Errorf("%d tickets recovered by failed runs", n)
	}
}

// TestRecoverKeepsAdditions: a comment added to a ticket (an addition,
// migration 0007) comes back under its ticket, not as a ticket of its own.
func TestRecoverKeepsAdditions(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "queue.db")
	old := openStore(t, src, Options{KEK: fastKEK("pw")})
	parent := enqueue(t, old, t0, "printer jams", Target{"SN", ActionCreate})
	child, err := old.EnqueueUpdate(ctx, parent, t0.Add(time.Minute), []byte("it jams again"), []Target{{"SN", ActionUpdate}})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	dst, _ := newStore(t)
	res, err := dst.Recover(ctx, src, fastKEK("pw"))
	if err != nil || len(res.Recovered) != 2 {
		t.Fatalf("Recover = %+v, %v; want both tickets", res, err)
	}
	if got := ids(list(t, dst, "")); len(got) != 1 || got[0] != parent {
		t.Errorf("tickets listed after recover: %v, want only %s (the addition under it)", got, parent)
	}
	adds, err := dst.Additions(ctx, parent)
	if err != nil || len(adds) != 1 || adds[0].ID != child || string(adds[0].Payload) != "it jams again" {
		t.Errorf("additions of %s after recover: %+v, %v; want %s", parent, adds, err, child)
	}
}
