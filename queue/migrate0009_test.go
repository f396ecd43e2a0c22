package queue

import (
	"context"
	"database/sql"
	"regexp"
	"testing"
	"time"
)

// downTo8 turns a queue back into schema 8 (before migration 0009): the
// two due indexes, no settled_at, and the counts triggers of 0005 and
// 0008, as the files define them.
func downTo8(t *testing.T, db *sql.DB) {
	t.Helper()
	stmts := []string{
		"DROP TRIGGER enqueue_ticket_insert", "DROP VIEW enqueue_ticket",
		"DROP TRIGGER deliveries_settled_insert", "DROP TRIGGER deliveries_settled_update",
		"DROP TRIGGER delivery_counts_insert", "DROP TRIGGER delivery_counts_update", "DROP TRIGGER delivery_counts_delete",
		"DROP INDEX deliveries_open", "ALTER TABLE deliveries DROP COLUMN settled_at",
	}
	create := regexp.MustCompile(`(?s)CREATE TRIGGER (\w+).*?\nEND;|CREATE INDEX (\w+)[^;]*;`)
	for file, names := range map[string][]string{
		"migrations/0005_hot_paths.sql":       {"deliveries_ready", "deliveries_leased", "ticket_counts_insert"},
		"migrations/0008_compact_history.sql": {"delivery_counts_insert", "delivery_counts_update", "delivery_counts_delete"},
	} {
		b, err := migrations.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]string{}
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			found[m[1]+m[2]] = m[0]
		}
		for _, n := range names {
			if found[n] == "" {
				t.Fatalf("%s does not create %s", file, n)
			}
			stmts = append(stmts, found[n])
		}
	}
	stmts = append(stmts, "PRAGMA user_version = 8")
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestMigrate0009: a schema-8 queue holding every kind of delivery (waiting,
// in flight, retrying, delivered, dead) and an unrouted ticket opens with
// settled_at, deliveries_open and the counts right, and then delivers.
func TestMigrate0009(t *testing.T) {
	path := dbPath(t)
	clk := newFakeClock(t0)
	opts := Options{KEK: fastKEK("pw"), Now: clk.Now}
	s := openStore(t, path, opts)
	ctx := context.Background()
	sn := Target{"SN", ActionCreate}
	for range 5 {
		enqueue(t, s, t0, "x", sn)
	}
	enqueue(t, s, t0, "nowhere")
	ls, err := s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 4, TTL: time.Hour})
	if err != nil || len(ls) != 4 {
		t.Fatalf("Lease = %d, %v", len(ls), err)
	}
	complete(t, s, ls[0], Outcome{State: StateDelivered, RemoteNumber: "INC1"})
	complete(t, s, ls[1], Outcome{State: StateDead, Error: "400"})
	complete(t, s, ls[2], Outcome{State: StateRetry, Error: "503", NextAttemptAt: t0.Add(time.Minute)})
	s.Close() // ls[3] stays in flight, one delivery waits
	raw := rawDB(t, path)
	downTo8(t, raw)
	raw.Close()

	s = openStore(t, path, opts)
	raw = rawDB(t, path)
	checkCounts(t, raw)
	if got, want := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries WHERE settled_at IS NULL"), int64(3); got != want {
		t.Errorf("%d deliveries with work left, want %d", got, want)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{StatePending: 3, StateDelivered: 1, StateDead: 1, Unrouted: 1}; !mapsEqual(c, want) {
		t.Errorf("Counts = %v, want %v", c, want)
	}
	// The lease in flight is still held; the waiting and the retrying ones
	// become due, then the lost lease.
	clk.Advance(time.Minute)
	got, err := s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 10, TTL: 3 * time.Hour})
	if err != nil || len(got) != 2 || got[0].ID == ls[3].ID || got[1].ID == ls[3].ID {
		t.Fatalf("Lease after the upgrade = %d, %v; want the waiting and the retrying one", len(got), err)
	}
	clk.Advance(time.Hour)
	got, err = s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 10})
	if err != nil || len(got) != 1 || got[0].ID != ls[3].ID || !got[0].Uncertain {
		t.Fatalf("Lease after expiry = %v, %v; want delivery %d, uncertain", got, err, ls[3].ID)
	}
	checkCounts(t, raw)
}
