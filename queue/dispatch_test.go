package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type handlerFunc func(context.Context, Lease) Outcome

func (f handlerFunc) Deliver(ctx context.Context, l Lease) Outcome { return f(ctx, l) }

// TestDispatcherIdleBlocks: with nothing to do, each connection's loop
// makes one query and then waits on a single long timer: no polling.
func TestDispatcherIdleBlocks(t *testing.T) {
	s, _ := newStore(t)
	waits := make(chan time.Duration, 16)
	d := NewDispatcher(s, DispatchOptions{
		Handler:     handlerFunc(func(context.Context, Lease) Outcome { t.Error("nothing should be delivered"); return Outcome{} }),
		Connections: []string{"A", "B"},
		Idle:        time.Hour,
		After: func(d time.Duration) <-chan time.Time {
			waits <- d
			return make(chan time.Time) // never fires
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, false) }()
	for i := 0; i < 2; i++ {
		if got := <-waits; got != time.Hour {
			t.Errorf("idle wait = %v, want the 1 h idle bound", got)
		}
	}
	// Both loops are now parked. Wake one: it looks once and parks again.
	d.Wake("A")
	if got := <-waits; got != time.Hour {
		t.Errorf("wait after wake = %v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	select {
	case w := <-waits:
		t.Errorf("an extra wait (%v) was requested: the loop spun", w)
	default:
	}
}

// TestDispatcherWaitsUntilDue: a retry due in 90 s makes the loop sleep
// exactly until then (within the idle bound).
func TestDispatcherWaitsUntilDue(t *testing.T) {
	s, clk := newStore(t)
	enqueue(t, s, t0, "x", Target{"A", ActionCreate})
	l := leaseOne(t, s, "A")
	complete(t, s, l, Outcome{State: StateRetry, NextAttemptAt: clk.Now().Add(90 * time.Second)})
	waits := make(chan time.Duration, 4)
	d := NewDispatcher(s, DispatchOptions{
		Handler:     handlerFunc(func(context.Context, Lease) Outcome { return Outcome{State: StateDelivered} }),
		Connections: []string{"A"},
		Idle:        time.Hour,
		After:       func(d time.Duration) <-chan time.Time { waits <- d; return make(chan time.Time) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx, false)
	if got := <-waits; got != 90*time.Second {
		t.Errorf("wait = %v, want 90s until the retry is due", got)
	}
}

// TestDispatcherConcurrencyBound: never more than Concurrency deliveries
// of a connection run at once, and drain returns when all are done.
func TestDispatcherConcurrencyBound(t *testing.T) {
	s, _ := newStore(t)
	for i := 0; i < 30; i++ {
		enqueue(t, s, t0, "x", Target{"A", ActionCreate})
	}
	var running, peak atomic.Int32
	var mu sync.Mutex
	delivered := map[int64]int{}
	d := NewDispatcher(s, DispatchOptions{
		Concurrency: 3,
		Connections: []string{"A"},
		Handler: handlerFunc(func(ctx context.Context, l Lease) Outcome {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond) // simulated server latency
			running.Add(-1)
			mu.Lock()
			delivered[l.ID]++
			mu.Unlock()
			return Outcome{State: StateDelivered, RemoteNumber: "X"}
		}),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Run(ctx, true); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency = %d, want 2..3 (bound 3)", p)
	}
	if len(delivered) != 30 {
		t.Errorf("%d deliveries made, want 30", len(delivered))
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("delivery %d made %d times", id, n)
		}
	}
	if left, _ := s.Left(ctx); len(left) != 0 {
		t.Errorf("left = %v", left)
	}
}

// TestDispatcherWithoutConnections: serving nothing blocks until stopped
// (the tray app and serve wait for IT to configure a connection); draining
// nothing returns at once.
func TestDispatcherWithoutConnections(t *testing.T) {
	s, _ := newStore(t)
	d := NewDispatcher(s, DispatchOptions{Handler: handlerFunc(func(context.Context, Lease) Outcome { return Outcome{} })})
	if err := d.Run(context.Background(), true); err != nil {
		t.Errorf("drain with no connection = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, false) }()
	select {
	case err := <-done:
		t.Fatalf("serve with no connection returned at once: %v", err)
	case <-time.After(50 * time.Millisecond): // bounded wait for a non-event
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel = %v", err)
	}
}

// TestDispatcherStopIsNotFailure: cancelling while deliveries are being
// leased and recorded ends Run with nil (serve, the tray app) however the
// cancel lands in a transaction.
func TestDispatcherStopIsNotFailure(t *testing.T) {
	s, _ := newStore(t)
	for i := 0; i < 200; i++ {
		enqueue(t, s, t0, "x", Target{"A", ActionCreate})
	}
	for round := 0; round < 20; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var n atomic.Int32
		d := NewDispatcher(s, DispatchOptions{Connections: []string{"A"}, Concurrency: 4,
			Handler: handlerFunc(func(context.Context, Lease) Outcome {
				if n.Add(1) == int32(round%5+1) {
					cancel() // lands in Lease or Complete at varying points
				}
				return Outcome{State: StateRetry, NextAttemptAt: t0}
			})})
		if err := d.Run(ctx, false); err != nil {
			t.Fatalf("round %d: Run after cancel = %v, want nil", round, err)
		}
		cancel()
	}
}
