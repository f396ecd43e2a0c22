package queue

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDispatcherOnDead: every delivery that goes dead during a drain is
// reported once, whoever decided it: the handler, or the store for a ticket
// it cannot read. Deliveries that end otherwise are not reported.
func TestDispatcherOnDead(t *testing.T) {
	tests := []struct {
		name string
		// payloads are enqueued on A; a payload "tamper" is damaged on disk.
		payloads []string
		handler  func(l Lease) Outcome
		want     map[string]int // deaths reported by connection
		reason   string         // a substring every reported reason has
	}{
		{"delivered", []string{"ok", "ok"}, func(Lease) Outcome { return Outcome{State: StateDelivered} }, map[string]int{}, ""},
		{"handler says dead", []string{"ok", "ok", "ok"}, func(Lease) Outcome { return Outcome{State: StateDead, Error: "HTTP 422"} }, map[string]int{"A": 3}, "HTTP 422"},
		{"unreadable payload", []string{"tamper", "tamper"}, func(Lease) Outcome {
			t.Error("an unreadable ticket was handed to the handler")
			return Outcome{State: StateDelivered}
		}, map[string]int{"A": 2}, "failed authentication"},
		{"attempts exhausted", []string{"ok"}, func(l Lease) Outcome {
			if l.Attempts < 3 {
				return Outcome{State: StateRetry, Error: "HTTP 503", NextAttemptAt: t0}
			}
			return Outcome{State: StateDead, Error: "gave up after 3 attempts"}
		}, map[string]int{"A": 1}, "gave up"},
		{"mixed", []string{"ok", "tamper", "dead", "ok"}, func(l Lease) Outcome {
			if strings.Contains(string(l.Payload), "dead") {
				return Outcome{State: StateDead, Error: "HTTP 400"}
			}
			return Outcome{State: StateDelivered}
		}, map[string]int{"A": 2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			raw := rawDB(t, s.Path())
			for _, p := range tt.payloads {
				id := enqueue(t, s, t0, p, Target{"A", ActionCreate})
				if p == "tamper" {
					setTicketBlob(t, raw, id, flip(ticketBlob(t, raw, id), 30))
				}
			}
			var mu sync.Mutex
			got := map[string]int{}
			d := NewDispatcher(s, DispatchOptions{
				Connections: []string{"A"},
				Handler:     handlerFunc(func(_ context.Context, l Lease) Outcome { return tt.handler(l) }),
				OnDead: func(conn, reason string) {
					mu.Lock()
					defer mu.Unlock()
					got[conn]++
					if !strings.Contains(reason, tt.reason) {
						t.Errorf("reason %q lacks %q", reason, tt.reason)
					}
				},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := d.Run(ctx, true); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !maps.Equal(got, tt.want) {
				t.Errorf("OnDead reported %v, want %v", got, tt.want)
			}
			counts, err := s.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if counts[StateDead] != tt.want["A"] {
				t.Errorf("%d dead deliveries in the store, %d reported", counts[StateDead], tt.want["A"])
			}
		})
	}
}

// TestDispatcherOnDeadNotForLostLease: a dead outcome that cannot be
// recorded (another worker took the lease over) is no death of this run.
func TestDispatcherOnDeadNotForLostLease(t *testing.T) {
	s, clk := newStore(t)
	enqueue(t, s, t0, "x", Target{"A", ActionCreate})
	reported := 0
	d := NewDispatcher(s, DispatchOptions{
		Connections: []string{"A"},
		LeaseTTL:    time.Minute,
		// One at a time: with more, the dispatcher's own loop could take
		// the expired lease over before the other worker below does.
		Concurrency: 1,
		Handler: handlerFunc(func(_ context.Context, l Lease) Outcome {
			// The lease expires while the handler runs; another worker takes
			// it (no t.Fatal here: this is not the test's goroutine).
			clk.Advance(2 * time.Minute)
			ls, err := s.Lease(context.Background(), LeaseOptions{Connection: "A", TTL: time.Minute})
			if err != nil || len(ls) != 1 {
				t.Errorf("the other worker's Lease = %d, %v", len(ls), err)
			} else if err := s.Complete(context.Background(), ls[0], Outcome{State: StateDelivered, RemoteNumber: "N1"}); err != nil {
				t.Errorf("the other worker's Complete = %v", err)
			}
			return Outcome{State: StateDead, Error: "HTTP 400"}
		}),
		OnDead: func(string, string) { reported++ },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Run(ctx, true); err != nil {
		t.Fatal(err)
	}
	if reported != 0 {
		t.Errorf("OnDead called %d times for a lease that was lost", reported)
	}
}
