package queue

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPurgeKeepsPendingAddition: a ticket goes with its additions (the
// cascade on parent_id), so Purge keeps a ticket whose own deliveries are
// old and delivered while an addition still waits to be sent, or was
// delivered after the cutoff; once the addition is old and delivered too,
// both go.
func TestPurgeKeepsPendingAddition(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	parent := enqueue(t, s, t0, "parent", Target{"SN", ActionCreate})
	complete(t, s, leaseOne(t, s, "SN"), Outcome{State: StateDelivered, RemoteNumber: "INC1"})
	clk.Advance(40 * 24 * time.Hour)
	add, err := s.EnqueueUpdate(ctx, parent, clk.Now(), []byte("a comment"), []Target{{"SN", ActionUpdate}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, clk.Now().Add(-30*24*time.Hour)); err != nil {
		t.Fatal(n, err)
	}
	if _, err := s.Get(ctx, add); err != nil {
		t.Errorf("the addition waiting to be sent is gone after Purge: %v", err)
	}
	complete(t, s, leaseOne(t, s, "SN"), Outcome{State: StateDelivered, RemoteNumber: "INC1"})
	if n, err := s.Purge(ctx, clk.Now().Add(-30*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("Purge with the addition delivered after the cutoff = %d, %v; want 0", n, err)
	}
	clk.Advance(40 * 24 * time.Hour)
	if n, err := s.Purge(ctx, clk.Now().Add(-30*24*time.Hour)); err != nil || n != 1 {
		t.Errorf("Purge once both are old = %d, %v; want the ticket (with its addition)", n, err)
	}
	for _, id := range []string{parent, add} {
		if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) after the purge = %v, want ErrNotFound", id, err)
		}
	}
	checkCounts(t, s.db)
}
