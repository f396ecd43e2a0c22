package queue

import (
	"context"
	"testing"
	"time"
)

// TestOldProcessAfterMigrate0009: a process of the previous release
// (schema 8) still has the queue open when a newer one opens it and
// applies 0009 (an upgrade with the tray app still running). Its
// statements, those of 9c968db run here verbatim, record outcomes as
// before: settled_at is set for them by trigger, so a delivered or dead
// delivery leaves the index of the work left and is not leased again. The
// unrouted ticket it queues (no trigger counts it any more) is counted
// again by the check after the next Open. (Its Counts fails: it names
// deliveries_leased, which is gone, until it is restarted.)
func TestOldProcessAfterMigrate0009(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	clk := newFakeClock(t0)
	opts := Options{Now: clk.Now}
	s := openStore(t, path, opts)
	for range 2 {
		enqueue(t, s, t0, "x", Target{"SN", ActionCreate})
	}
	ls, err := s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 2}) // the old process's leases
	if err != nil || len(ls) != 2 {
		t.Fatalf("Lease = %d, %v", len(ls), err)
	}
	dek := queryInt(t, s.db, "SELECT MAX(id) FROM deks")
	s.Close()
	raw := rawDB(t, path)
	downTo8(t, raw)

	s = openStore(t, path, opts) // the newer release: 0009 applied

	old := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Errorf("the old process's %.40s…: %v", q, err)
		}
	}
	// 9c968db's completeTx for a delivered and a dead outcome.
	old(`UPDATE deliveries SET state = 'delivered', remote_id = ?, remote_number = ?, remote_url = ?, delivered_at = ?,
		last_error = NULL, error_dek_id = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND state = 'in_flight' AND lease_token = ? RETURNING leased_at`,
		"1", "INC1", "", ms(t0), ms(t0), ls[0].ID, ls[0].Token)
	old(`UPDATE deliveries SET state = 'dead', last_error = ?, error_dek_id = ?, ever_sent = 1, lease_token = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND state = 'in_flight' AND lease_token = ? RETURNING leased_at`,
		nil, nil, ms(t0), ls[1].ID, ls[1].Token)
	// 9c968db's enqueue of a ticket with no target (the payload is not
	// read here).
	old(`INSERT INTO tickets (id, created_at, dek_id, payload, parent_id) SELECT ?, ?, ?, ?, ? WHERE ? = (SELECT MAX(id) FROM deks)`,
		"00000000-0000-4000-8000-000000000000", ms(t0), dek, []byte("sealed"), nil, dek)

	if n := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries INDEXED BY deliveries_open WHERE settled_at IS NULL"); n != 0 {
		t.Errorf("%d deliveries left in deliveries_open after the old process settled both", n)
	}
	clk.Advance(3 * time.Hour)
	if got, err := s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("Lease after the old process settled both = %d, %v; want none", len(got), err)
	}
	s.Close()
	s = openStore(t, path, opts) // the next start: its check counts again
	if _, err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, raw)
}
