package queue

import (
	"context"
	"testing"
	"time"
)

// twoStores opens the same queue file twice, as the tray app and a CLI
// process do.
func twoStores(t *testing.T) (a, b *Store, clk *fakeClock) {
	t.Helper()
	clk = newFakeClock(t0)
	path := dbPath(t)
	a = openStore(t, path, Options{Now: clk.Now})
	b = openStore(t, path, Options{Now: clk.Now})
	return a, b, clk
}

// TestDispatcherWakesOnOtherStoreCommit: a ticket committed through
// another Store wakes a parked dispatcher at its next change check, with
// no idle timer firing and no Wake call.
func TestDispatcherWakesOnOtherStoreCommit(t *testing.T) {
	tests := []struct {
		name  string
		drain bool
	}{{"serve", false}, {"drain with work in flight elsewhere", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli, tray, _ := twoStores(t)
			if tt.drain {
				// Drain keeps running while another process holds a lease.
				enqueue(t, cli, t0, "held", Target{"A", ActionCreate})
				leaseOne(t, cli, "A")
			}
			waits := make(chan time.Duration, 16)
			tick := make(chan time.Time) // unbuffered: a send returns once the watcher is waiting for it
			delivered := make(chan string, 4)
			d := NewDispatcher(tray, DispatchOptions{
				Connections: []string{"A"},
				Idle:        time.Hour,
				After:       func(d time.Duration) <-chan time.Time { waits <- d; return make(chan time.Time) },
				WatchTick:   tick,
				Handler: handlerFunc(func(_ context.Context, l Lease) Outcome {
					delivered <- string(l.Payload)
					return Outcome{State: StateDelivered}
				}),
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx, tt.drain) }()
			<-waits             // the loop is parked
			tick <- time.Time{} // the watcher has its baseline
			id := enqueue(t, cli, t0, "from the CLI", Target{"A", ActionCreate})
			select {
			case p := <-delivered:
				t.Fatalf("delivered %q before any change check", p)
			default:
			}
			tick <- time.Time{}
			select {
			case p := <-delivered:
				if p != "from the CLI" {
					t.Errorf("delivered %q", p)
				}
			case <-time.After(10 * time.Second): // failure guard only
				t.Fatal("the dispatcher did not notice the other store's ticket")
			}
			cancel()
			if err := <-done; err != nil && ctx.Err() == nil {
				t.Errorf("Run = %v", err)
			}
			if got := get(t, tray, id).Deliveries[0].State; got != StateDelivered {
				t.Errorf("state = %s", got)
			}
		})
	}
}

// TestDispatcherNoticesOtherStoreRealTicker: the default change check
// (every 500 ms) notices another store's ticket well before the idle
// bound, with real time.
func TestDispatcherNoticesOtherStoreRealTicker(t *testing.T) {
	cli, tray, _ := twoStores(t)
	parked := make(chan struct{}, 16)
	delivered := make(chan time.Time, 1)
	d := NewDispatcher(tray, DispatchOptions{
		Connections: []string{"A"},
		Idle:        time.Hour,
		After:       func(time.Duration) <-chan time.Time { parked <- struct{}{}; return make(chan time.Time) },
		Handler: handlerFunc(func(context.Context, Lease) Outcome {
			delivered <- time.Now()
			return Outcome{State: StateDelivered}
		}),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx, false)
	<-parked
	start := time.Now()
	enqueue(t, cli, t0, "x", Target{"A", ActionCreate})
	select {
	case at := <-delivered:
		// 500 ms between checks, plus scheduling on a loaded machine.
		if got := at.Sub(start); got > 3*time.Second {
			t.Errorf("noticed after %v, want about 500 ms", got)
		}
		t.Logf("noticed after %v", at.Sub(start))
	case <-time.After(20 * time.Second): // failure guard only
		t.Fatal("the other store's ticket was not noticed")
	}
}

// TestDispatcherSleepCappedByIdle: no reason to sleep (a lease held by
// another process, a far retry, a long pause) makes a loop sleep past the
// idle bound.
func TestDispatcherSleepCappedByIdle(t *testing.T) {
	tests := []struct {
		name   string
		idle   time.Duration
		setup  func(t *testing.T, other *Store, clk *fakeClock)
		paused time.Duration // Paused reports the connection paused this long
		want   time.Duration
	}{
		{"lease held by another process", time.Second, func(t *testing.T, other *Store, clk *fakeClock) {
			enqueue(t, other, t0, "x", Target{"A", ActionCreate})
			if _, err := other.Lease(context.Background(), LeaseOptions{Connection: "A", TTL: 2 * time.Minute}); err != nil {
				t.Fatal(err)
			}
		}, 0, time.Second},
		{"lease expiring before the bound", time.Minute, func(t *testing.T, other *Store, clk *fakeClock) {
			enqueue(t, other, t0, "x", Target{"A", ActionCreate})
			if _, err := other.Lease(context.Background(), LeaseOptions{Connection: "A", TTL: 20 * time.Second}); err != nil {
				t.Fatal(err)
			}
		}, 0, 20 * time.Second},
		{"retry in 90 s", 30 * time.Second, func(t *testing.T, other *Store, clk *fakeClock) {
			enqueue(t, other, t0, "x", Target{"A", ActionCreate})
			complete(t, other, leaseOne(t, other, "A"), Outcome{State: StateRetry, NextAttemptAt: clk.Now().Add(90 * time.Second)})
		}, 0, 30 * time.Second},
		{"paused for an hour", 30 * time.Second, func(*testing.T, *Store, *fakeClock) {}, time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other, s, clk := twoStores(t)
			tt.setup(t, other, clk)
			waits := make(chan time.Duration, 4)
			d := NewDispatcher(s, DispatchOptions{
				Connections: []string{"A"},
				Idle:        tt.idle,
				WatchTick:   make(chan time.Time),
				After:       func(d time.Duration) <-chan time.Time { waits <- d; return make(chan time.Time) },
				Paused: func(string) (bool, time.Time) {
					if tt.paused > 0 {
						return true, clk.Now().Add(tt.paused)
					}
					return false, time.Time{}
				},
				Handler: handlerFunc(func(context.Context, Lease) Outcome { t.Error("nothing is due"); return Outcome{} }),
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go d.Run(ctx, false)
			if got := <-waits; got != tt.want {
				t.Errorf("wait = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWatchSeesAttempts: a Watch reports the commits that change no count
// (an attempt starting, an attempt failing into retry), from this Store
// and from another one on the same file, and nothing when nothing was
// committed.
func TestWatchSeesAttempts(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	clk := newFakeClock(t0)
	s := openStore(t, path, Options{Now: clk.Now})
	other := openStore(t, path, Options{Now: clk.Now})
	w := s.Watch()
	defer w.Close()
	step := func(what string, want bool) {
		t.Helper()
		got, err := w.Changed(ctx)
		if err != nil || got != want {
			t.Errorf("%s: Changed = %v, %v; want %v", what, got, err, want)
		}
	}
	step("first call", true)
	step("nothing committed", false)
	enqueue(t, s, t0, "x", Target{"SN", ActionCreate})
	c0, _ := s.Counts(ctx)
	step("enqueue", true)
	l := leaseOne(t, other, "SN")
	step("lease by another Store", true)
	complete(t, s, l, Outcome{State: StateRetry, Error: "HTTP 503", NextAttemptAt: t0.Add(time.Hour)})
	step("retry outcome", true)
	step("nothing committed", false)
	if c1, _ := s.Counts(ctx); !mapsEqual(c0, c1) {
		t.Fatalf("Counts changed (%v, %v): the test no longer shows what Watch is for", c0, c1)
	}
}
