package queue

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Handler delivers one leased delivery and says what became of it. It
// must honour ctx and never panic; the dispatcher records the outcome.
type Handler interface {
	Deliver(ctx context.Context, l Lease) Outcome
}

// DispatchOptions configure a Dispatcher.
type DispatchOptions struct {
	Handler Handler
	// Connections are the ones this process delivers to.
	Connections []string
	// Concurrency is how many deliveries run at once per connection
	// (default 4).
	Concurrency int
	// LeaseTTL bounds one delivery; a crashed process's deliveries become
	// due again when it passes (default 2 minutes).
	LeaseTTL time.Duration
	// Paused reports whether a connection must not be sent to now (it is
	// offline or its breaker is open) and, if known, until when. Call Wake
	// when a paused connection may resume.
	Paused func(conn string) (bool, time.Time)
	// Stuck, when set, reports a paused connection that nothing this run
	// does will resume (it needs a sign-in or a config change): a drain
	// leaves its work waiting and ends its loop, rather than run out its
	// timeout. Serve keeps waiting for a Wake.
	Stuck func(conn string) bool
	// After waits for a duration; tests inject a fake clock's timer.
	After func(time.Duration) <-chan time.Time
	// Idle bounds every sleep of a connection loop (default 30 s), however
	// far off the next due time or another process's lease expiry is.
	Idle time.Duration
	// WatchEvery is how often Run checks whether another process committed
	// to the queue file (default 500 ms); a change wakes every loop, so a
	// ticket reported from the CLI is noticed within that time. One check
	// is one PRAGMA data_version query.
	WatchEvery time.Duration
	// WatchTick, when set, replaces the WatchEvery ticker: each receive is
	// one check. Tests drive it.
	WatchTick <-chan time.Time
	// OnDead, when set, is called once for every delivery that goes dead
	// during Run, whatever the cause: the Handler's StateDead outcome, or a
	// ticket the store itself cannot deliver (its payload fails
	// authentication). It is called after the death is recorded, from the
	// goroutine that recorded it, so it must be quick and safe for
	// concurrent use. reason is the error kept with the delivery (a vendor
	// message may echo ticket text: log it only where ticket text may go).
	OnDead func(connection, reason string)
}

// Dispatcher leases due deliveries and runs them through the Handler.
type Dispatcher struct {
	s    *Store
	o    DispatchOptions
	mu   sync.Mutex
	wake map[string]chan struct{}
}

// NewDispatcher returns a dispatcher for s.
func NewDispatcher(s *Store, o DispatchOptions) *Dispatcher {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2 * time.Minute
	}
	if o.Paused == nil {
		o.Paused = func(string) (bool, time.Time) { return false, time.Time{} }
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Second
	}
	if o.WatchEvery <= 0 {
		o.WatchEvery = 500 * time.Millisecond
	}
	d := &Dispatcher{s: s, o: o, wake: map[string]chan struct{}{}}
	for _, c := range o.Connections {
		d.wake[c] = make(chan struct{}, 1)
	}
	return d
}

// Wake makes the loops for conn (or every connection, for "") look for
// work now: after an enqueue, or when a paused connection comes back.
func (d *Dispatcher) Wake(conn string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c, ch := range d.wake {
		if conn == "" || c == conn {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Run delivers until ctx ends. With drain set it returns as soon as no
// connection it serves has work left (pending, in flight or retrying).
func (d *Dispatcher) Run(ctx context.Context, drain bool) error {
	if len(d.o.Connections) == 0 && !drain {
		<-ctx.Done() // nothing to serve yet: a config change will bring connections
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); d.watch(ctx) }()
	defer func() {
		cancel()
		<-watched // the watcher's connection is back in the pool before Run returns
	}()
	errs := make(chan error, len(d.o.Connections))
	for _, c := range d.o.Connections {
		go func(c string) { errs <- d.loop(ctx, c, drain) }(c)
	}
	var first error
	for range d.o.Connections {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel() // one loop failing (the disk) stops the others
		}
	}
	if !drain && errors.Is(first, context.Canceled) {
		return nil // a normal shutdown
	}
	return first
}

// watch wakes every loop when another connection or process commits to
// the queue file, until ctx ends. A failing check is retried at the next
// tick: delivery goes on meanwhile, bounded by Idle.
func (d *Dispatcher) watch(ctx context.Context) {
	tick := d.o.WatchTick
	if tick == nil {
		t := time.NewTicker(d.o.WatchEvery)
		defer t.Stop()
		tick = t.C
	}
	w := &changeWatch{s: d.s}
	defer w.close()
	for {
		if changed, _ := w.changed(ctx); changed {
			d.Wake("")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

func (d *Dispatcher) loop(ctx context.Context, conn string, drain bool) error {
	done := make(chan struct{}, d.o.Concurrency)
	inflight := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := d.o.Idle
		paused, until := d.o.Paused(conn)
		switch {
		case paused:
			if drain && inflight == 0 && d.o.Stuck != nil && d.o.Stuck(conn) {
				return nil
			}
			if !until.IsZero() {
				wait = until.Sub(d.s.now())
			}
		case inflight < d.o.Concurrency:
			leases, err := d.s.Lease(ctx, LeaseOptions{Limit: d.o.Concurrency - inflight, TTL: d.o.LeaseTTL, Connection: conn, OnDead: d.died})
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err() // stopping, not failing
				}
				return err
			}
			for _, l := range leases {
				inflight++
				wg.Add(1)
				go func(l Lease) {
					defer wg.Done()
					d.run(ctx, l)
					done <- struct{}{}
				}(l)
			}
			if len(leases) > 0 {
				continue // more may be due; a full pipeline waits below
			}
			next, ok, err := d.s.NextDue(ctx, conn)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			switch {
			case !ok && inflight == 0 && drain:
				return nil
			case ok:
				wait = next.Sub(d.s.now())
			}
		}
		// Never sleep past the idle bound (a lease another process holds
		// may run for minutes), and never spin, whatever the clocks say.
		wait = min(max(wait, 10*time.Millisecond), d.o.Idle)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			inflight--
		case <-d.wake[conn]:
		case <-d.o.After(wait):
		}
	}
}

// run delivers one lease and records its outcome. Recording is done with
// a fresh context: a delivery that reached the vendor must be recorded
// even while shutting down.
func (d *Dispatcher) run(ctx context.Context, l Lease) {
	o := d.o.Handler.Deliver(ctx, l)
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.s.Complete(rec, l, o); err != nil {
		// The lease was lost (it expired and another worker took it) or
		// the disk failed: the delivery stays in flight and becomes due
		// again when the lease expires; the next attempt finds by key.
		return
	}
	if o.State == StateDead {
		d.died(l.Delivery, o.Error)
	}
}

func (d *Dispatcher) died(dl Delivery, reason string) {
	if d.o.OnDead != nil {
		d.o.OnDead(dl.Connection, reason)
	}
}
