package queue

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// damageIndexEntry flips one byte in a cell of index's root page, so that
// the index loses an entry of a row that is still there, while the file's
// structure stays sound: quick_check passes, integrity_check does not, and
// a routed ticket looks orphaned.
func damageIndexEntry(t *testing.T, path, index string) {
	t.Helper()
	damageIndex(t, path, index, func(raw *sql.DB) bool {
		var orphans int64
		raw.QueryRow("SELECT COUNT(*) FROM tickets WHERE id NOT IN (SELECT ticket_id FROM deliveries)").Scan(&orphans)
		return orphans > 0
	})
}

// damageIndex flips one byte in a cell of index's root page such that
// quick_check passes, integrity_check finds the index damaged, and ok
// (when set) holds.
func damageIndex(t *testing.T, path, index string, ok func(*sql.DB) bool) {
	t.Helper()
	pageSize, root := pageOf(t, path, index)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cells sit at the end of the page; try bytes from the end backwards.
	for off := pageSize - 1; off > pageSize/2; off-- {
		b := slices.Clone(orig)
		b[(root-1)*pageSize+off] ^= 0x01
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		raw := rawDB(t, path)
		var quick, full string
		raw.QueryRow("PRAGMA quick_check").Scan(&quick)
		raw.QueryRow("PRAGMA integrity_check(1)").Scan(&full)
		good := quick == "ok" && strings.Contains(full, "missing from index "+index) && (ok == nil || ok(raw))
		raw.Close()
		if good {
			t.Logf("flipped byte %d of page %d: %s", off, root, full)
			return
		}
	}
	t.Fatalf("no single-byte flip in %s's root page damaged it as wanted", index)
}

func drainAll(t *testing.T, s *Store, conn string) (delivered int32) {
	t.Helper()
	var n atomic.Int32
	d := NewDispatcher(s, DispatchOptions{Connections: []string{conn}, Handler: handlerFunc(func(context.Context, Lease) Outcome {
		n.Add(1)
		return Outcome{State: StateDelivered, RemoteNumber: "N"}
	})})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Run(ctx, true); err != nil {
		t.Fatalf("drain: %v", err)
	}
	return n.Load()
}

// TestDamagedIndexRebuilt: one flipped byte in the deliveries_ticket index
// no longer stops delivery: the background check after Open, or the first
// statement the damage makes fail, rebuilds the index, and Problems says
// so.
func TestDamagedIndexRebuilt(t *testing.T) {
	const rebuilt = "index deliveries_ticket was damaged and has been rebuilt"
	tests := []struct {
		name       string
		background bool
		// act is what the app does first after Open.
		act func(t *testing.T, s *Store)
	}{
		{"found by the background check", true, func(t *testing.T, s *Store) {
			problems, err := s.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(problems, rebuilt) {
				t.Errorf("Check = %q, want %q", problems, rebuilt)
			}
		}},
		{"found by a failing assign", false, func(t *testing.T, s *Store) {
			if got := s.Problems(); len(got) != 0 {
				t.Fatalf("problems before anything ran: %q", got)
			}
			// Exactly what the courier does at start: with the damage, this
			// failed with "UNIQUE constraint failed" on every run.
			n, err := s.AssignOrphans(context.Background(), []Target{{"zendesk", ActionCreate}})
			if err != nil {
				t.Fatalf("AssignOrphans = %v", err)
			}
			if n != 0 {
				t.Errorf("AssignOrphans routed %d tickets, want 0 (every ticket has its delivery)", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backgroundCheck = tt.background
			t.Cleanup(func() { backgroundCheck = true })
			path := dbPath(t)
			want := makeQueue(t, path, 40)
			damageIndexEntry(t, path, "deliveries_ticket")

			s := openStore(t, path, Options{KEK: fastKEK("pw")})
			tt.act(t, s)
			if got := s.Problems(); !slices.Equal(got, []string{rebuilt}) {
				t.Errorf("Problems = %q, want [%q]", got, rebuilt)
			}
			raw := rawDB(t, path)
			var full string
			raw.QueryRow("PRAGMA integrity_check").Scan(&full)
			if full != "ok" {
				t.Errorf("integrity_check after the rebuild = %q", full)
			}
			if _, err := s.AssignOrphans(context.Background(), []Target{{"zendesk", ActionCreate}}); err != nil {
				t.Errorf("AssignOrphans after the rebuild = %v", err)
			}
			if got := drainAll(t, s, "zendesk"); int(got) != len(want) {
				t.Errorf("delivered %d, want %d", got, len(want))
			}
			if got := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'"); int(got) != len(want) {
				t.Errorf("%d deliveries delivered, want %d (one each, none twice)", got, len(want))
			}
		})
	}
}

// TestProblemsUnreadableTickets: tickets that fail authentication are
// counted in Problems, and the readable ones are still delivered.
func TestProblemsUnreadableTickets(t *testing.T) {
	tests := []struct {
		name    string
		damaged int
		want    []string
	}{
		{"none", 0, nil},
		{"one", 1, []string{"1 ticket is unreadable (it fails authentication: damaged, or sealed by a key this queue no longer has)"}},
		{"three", 3, []string{"3 tickets are unreadable (they fail authentication: damaged, or sealed by a key this queue no longer has)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dbPath(t)
			all := makeQueue(t, path, 6)
			raw := rawDB(t, path)
			for _, id := range all[:tt.damaged] {
				setTicketBlob(t, raw, id, flip(ticketBlob(t, raw, id), 40))
			}
			raw.Close()
			s := openStore(t, path, Options{KEK: fastKEK("pw")})
			got, err := s.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
			if n := drainAll(t, s, "zendesk"); int(n) != len(all)-tt.damaged {
				t.Errorf("delivered %d, want %d", n, len(all)-tt.damaged)
			}
		})
	}
}

// TestDamageClassify: integrity_check's messages are filed under the
// index or table they are about.
func TestDamageClassify(t *testing.T) {
	byName := map[string]object{
		"tickets":           {"tickets", "table", "tickets"},
		"deliveries":        {"deliveries", "table", "deliveries"},
		"deliveries_ticket": {"deliveries_ticket", "index", "deliveries"},
		"deliveries_due":    {"deliveries_due", "index", "deliveries"},
	}
	byRoot := map[int64]object{4: byName["tickets"], 7: byName["deliveries"], 9: byName["deliveries_due"], 10: byName["deliveries_ticket"]}
	tests := []struct {
		line    string
		indexes []string
		tables  []string
	}{
		{"row 39 missing from index deliveries_ticket", []string{"deliveries_ticket"}, nil},
		{"wrong # of entries in index deliveries_due", []string{"deliveries_due"}, nil},
		{"non-unique entry in index deliveries_ticket", []string{"deliveries_ticket"}, nil},
		{"*** in database main ***\nTree 10 page 10: btreeInitPage() returns error code 11", []string{"deliveries_ticket"}, nil},
		{"*** in database main ***\nOn tree page 9 cell 3: invalid page number 99", []string{"deliveries_due"}, nil},
		{"Tree 4 page 23 cell 2: Rowid 7 out of order", nil, []string{"tickets"}},
		{"On tree page 7 cell 0: 2nd reference to page 12", nil, []string{"deliveries"}},
		{"Page 27 is never used", nil, nil},
		{"Freelist: size is 3 but should be 2", nil, []string{""}},
		{"row 3 missing from index some_index_we_do_not_know", nil, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			d := damage{indexes: map[string]string{}, tables: map[string]bool{}}
			d.add(tt.line, byRoot, byName)
			var indexes, tables []string
			for n := range d.indexes {
				indexes = append(indexes, n)
			}
			for n := range d.tables {
				tables = append(tables, n)
			}
			if !slices.Equal(indexes, tt.indexes) || !slices.Equal(tables, tt.tables) {
				t.Errorf("indexes %q tables %q, want %q %q", indexes, tables, tt.indexes, tt.tables)
			}
		})
	}
}

// TestDamagedDueIndexComplete: with an entry of deliveries_open (the
// index of the work left) damaged while deliveries are in flight,
// recording their outcomes (which takes their rows out of that index)
// rebuilds the index instead of failing, so no delivery is sent again.
func TestDamagedDueIndexComplete(t *testing.T) {
	backgroundCheck = false
	t.Cleanup(func() { backgroundCheck = true })
	path := dbPath(t)
	s := openStore(t, path, Options{KEK: fastKEK("pw")})
	for range 40 {
		enqueue(t, s, t0, strings.Repeat("payload ", 30), Target{"zendesk", ActionCreate})
	}
	ls, err := s.Lease(context.Background(), LeaseOptions{Limit: 100, TTL: time.Hour})
	if err != nil || len(ls) != 40 {
		t.Fatalf("Lease = %d, %v", len(ls), err)
	}
	s.Close()
	damageIndex(t, path, "deliveries_open", nil)

	s = openStore(t, path, Options{KEK: fastKEK("pw")})
	for _, l := range ls {
		if err := s.Complete(context.Background(), l, Outcome{State: StateDelivered, RemoteNumber: "N"}); err != nil {
			t.Fatalf("Complete(%d) = %v", l.ID, err)
		}
	}
	if got := s.Problems(); !slices.Equal(got, []string{"index deliveries_open was damaged and has been rebuilt"}) {
		t.Errorf("Problems = %q", got)
	}
	raw := rawDB(t, path)
	if n := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'"); n != 40 {
		t.Errorf("%d delivered, want 40", n)
	}
}
