package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCountsOneSnapshot: Counts reads the settled counts and the work
// left in one statement, so an outcome recorded meanwhile never shows a
// delivery twice (pending and delivered) or not at all.
func TestCountsOneSnapshot(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const n = 300
	batch := make([]NewTicket, n)
	for i := range batch {
		batch[i] = NewTicket{CreatedAt: t0, Payload: []byte("t"), Targets: []Target{{"SN", ActionCreate}}}
	}
	if _, err := s.EnqueueBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	ls, err := s.Lease(ctx, LeaseOptions{Limit: n, TTL: time.Hour})
	if err != nil || len(ls) != n {
		t.Fatal(len(ls), err)
	}
	var bad atomic.Int64
	stop := readWhile(2, func() {
		if c, err := s.Counts(ctx); err == nil && c[StatePending]+c[StateDelivered] != n {
			bad.Add(1)
		}
	})
	for _, l := range ls {
		complete(t, s, l, Outcome{State: StateDelivered, RemoteNumber: "INC1"})
	}
	stop()
	if bad.Load() > 0 {
		t.Errorf("Counts showed pending and delivered not adding up to %d, %d times", n, bad.Load())
	}
}

// readWhile runs read over and over in n goroutines until the returned
// stop is called, which waits for them.
func readWhile(n int, read func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				read()
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// TestEventsOneSnapshot: Events reads the row and its events in one
// transaction, so an attempt that ends meanwhile is never shown twice.
func TestEventsOneSnapshot(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	did := get(t, s, enqueue(t, s, t0, "t", Target{"SN", ActionCreate})).Deliveries[0].ID
	var bad atomic.Int64
	stop := readWhile(1, func() {
		evs, _ := s.Events(ctx, did)
		seen := map[int]bool{}
		for _, e := range evs {
			if e.State == StateInFlight {
				if seen[e.Attempt] {
					bad.Add(1)
				}
				seen[e.Attempt] = true
			}
		}
	})
	for range 300 {
		clk.Advance(time.Second)
		l := leaseOne(t, s, "SN")
		clk.Advance(time.Second)
		complete(t, s, l, Outcome{State: StateRetry, Error: "x", NextAttemptAt: clk.Now()})
	}
	stop()
	if bad.Load() > 0 {
		t.Errorf("an attempt shown under way twice %d times", bad.Load())
	}
}

// TestMigrate0008DuplicateUpdates: a queue from before migration 0008
// holding two deliveries of one ticket to one connection (only creates
// were unique then) still opens; one of them is kept.
func TestMigrate0008DuplicateUpdates(t *testing.T) {
	path := dbPath(t)
	s := openStore(t, path, Options{})
	enqueue(t, s, t0, "x", Target{"SN", ActionUpdate})
	s.Close()
	raw := rawDB(t, path)
	// Back to schema 7, then the duplicate.
	downTo8(t, raw)
	if _, err := raw.Exec(`DROP INDEX deliveries_ticket;
		CREATE UNIQUE INDEX deliveries_one_create ON deliveries (ticket_id, connection) WHERE action = 'create';
		CREATE INDEX deliveries_ticket ON deliveries (ticket_id);
		ALTER TABLE deliveries DROP COLUMN leased_at; ALTER TABLE events DROP COLUMN started_at;
		PRAGMA user_version = 7;
		INSERT INTO deliveries (ticket_id, connection, action, state, next_attempt_at, created_at, updated_at)
		SELECT ticket_id, connection, action, state, next_attempt_at, created_at, updated_at FROM deliveries`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s2, err := Open(context.Background(), path, Options{KEK: fastKEK("correct horse battery staple")})
	if err != nil {
		t.Fatalf("Open after the upgrade: %v", err)
	}
	defer s2.Close()
	items, err := s2.List(context.Background(), Filter{})
	if err != nil || len(items) != 1 || len(items[0].Deliveries) != 1 {
		t.Fatalf("after the upgrade: %d items (%v), want one ticket with one delivery", len(items), err)
	}
}

// TestAbandonedInFlightStaysUncertain: an attempt under an expired lease
// that Abandon marks dead may have reached the vendor; after a retry the
// create must look the ticket up first.
func TestAbandonedInFlightStaysUncertain(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	id := enqueue(t, s, t0, "t", Target{"SN", ActionCreate})
	leaseOne(t, s, "SN")
	clk.Advance(2 * time.Minute)
	if r, err := s.Abandon(ctx, "SN", "removed"); err != nil || r.Dead != 1 {
		t.Fatal(r, err)
	}
	if n, err := s.Retry(ctx, id); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if l := leaseOne(t, s, "SN"); !l.Uncertain {
		t.Error("a retried abandoned in-flight attempt is not uncertain")
	}
}
