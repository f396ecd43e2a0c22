package connectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Backoff is the wait before the next attempt after attempt failed
// attempts: exponential from Base, capped at Max, with full jitter (a
// uniform draw from [0, cap]) so a fleet does not retry in lockstep. A
// vendor's Retry-After is a floor. Rand returns a value in [0, n); tests
// inject it to assert on scheduled times.
type Backoff struct {
	Base, Max time.Duration
	Rand      func(n int64) int64
}

// DefaultBackoff waits up to 2 s, 4 s, 8 s … capped at 15 minutes.
var DefaultBackoff = Backoff{Base: 2 * time.Second, Max: 15 * time.Minute}

// Delay returns the wait after the given number of failed attempts (1 for
// the first failure).
func (b Backoff) Delay(attempt int, retryAfter time.Duration) time.Duration {
	ceil := b.Max
	if attempt < 1 {
		attempt = 1
	}
	if shift := attempt - 1; shift < 32 && b.Base<<shift > 0 && b.Base<<shift < b.Max {
		ceil = b.Base << shift
	}
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	d := time.Duration(rnd(int64(ceil) + 1))
	if d < retryAfter {
		d = retryAfter
	}
	return d
}

// GuardOptions configure Guard.
type GuardOptions struct {
	// RatePerSecond and Burst bound the calls to the vendor (default 5/s,
	// burst 5): a queue that comes back online must not flood the help
	// desk's API.
	RatePerSecond float64
	Burst         int
	// FailuresToTrip consecutive retryable failures open the breaker
	// (default 5); it stays open for OpenFor (default 30 s), then lets one
	// trial call through.
	FailuresToTrip uint32
	OpenFor        time.Duration
	Logger         *slog.Logger
	// Now is the clock of the rate limit and the breaker (default
	// time.Now). A fake clock must move, or the limiter never refills.
	Now func() time.Time
}

// Guarded wraps a vendor connector with the shared resilience policy: a
// rate limit, a circuit breaker and logging. Vendor packages stay pure
// protocol.
type Guarded struct {
	name  string
	inner Connector
	lim   *rate.Limiter
	cb    *breaker
	log   *slog.Logger
	now   func() time.Time
	// sleep waits d or until ctx ends; tests replace it to move a fake
	// clock instead.
	sleep func(ctx context.Context, d time.Duration) error
}

var _ Connector = (*Guarded)(nil)

// Guard wraps c for the connection named name.
func Guard(name string, c Connector, o GuardOptions) *Guarded {
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 5
	}
	if o.Burst <= 0 {
		o.Burst = 5
	}
	if o.FailuresToTrip == 0 {
		o.FailuresToTrip = 5
	}
	if o.OpenFor <= 0 {
		o.OpenFor = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	g := &Guarded{name: name, inner: c, lim: rate.NewLimiter(rate.Limit(o.RatePerSecond), o.Burst), log: o.Logger, now: o.Now, sleep: sleep}
	g.cb = &breaker{trip: o.FailuresToTrip, openFor: o.OpenFor, now: o.Now,
		onChange: func(from, to breakerState) {
			g.log.Warn("circuit breaker", "connection", name, "from", from.String(), "to", to.String())
		}}
	return g
}

// Breaker reports the breaker state ("closed", "half-open", "open") and,
// when open, until when.
func (g *Guarded) Breaker() (string, time.Time) {
	st, until := g.cb.current()
	return st.String(), until
}

// healthy says whether a call's outcome counts as a success for the
// breaker. Only a vendor that is failing trips it: a ticket it rejects
// (permanent), a search that finds nothing, or being offline (handled by
// pausing) say nothing about its health.
func healthy(err error) bool {
	return err == nil || errors.Is(err, ErrNotFound) || ClassOf(err) != Retryable
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitTurn waits for the rate limiter on the Guard's clock (as
// rate.Limiter.Wait does on the wall clock): it fails at once when the
// turn would come after ctx's deadline, and gives the turn back when ctx
// ends first.
func (g *Guarded) waitTurn(ctx context.Context) error {
	now := g.now()
	r := g.lim.ReserveN(now, 1)
	if !r.OK() { // only with a burst of 0, which Guard never sets
		return errors.New("rate limit admits no calls")
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(now.Add(d)) {
		r.CancelAt(now)
		return fmt.Errorf("rate limit: the next call is allowed in %v, after the deadline: %w", d, context.DeadlineExceeded)
	}
	if err := g.sleep(ctx, d); err != nil {
		r.CancelAt(g.now())
		return fmt.Errorf("rate limit: %w", err)
	}
	return nil
}

func call[T any](g *Guarded, ctx context.Context, op string, f func() (T, error)) (T, error) {
	var zero T
	if err := g.waitTurn(ctx); err != nil {
		return zero, &Error{Op: op, Class: Retryable, Err: err}
	}
	start := g.now()
	var v T
	gen, err := g.cb.allow()
	if err == nil {
		v, err = f()
		g.cb.done(gen, healthy(err))
	} else {
		_, until := g.Breaker()
		wait := until.Sub(g.now())
		if wait < 0 {
			wait = 0
		}
		err = &Error{Op: op, Class: Retryable, RetryAfter: wait, Err: err}
	}
	attrs := []any{"connection", g.name, "op", op, "ms", g.now().Sub(start).Milliseconds()}
	var e *Error
	if errors.As(err, &e) {
		// The vendor's message may quote the ticket: log only its class
		// and status.
		attrs = append(attrs, "class", e.Class.String(), "status", e.Status)
		g.log.Info("connector call failed", attrs...)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		g.log.Info("connector call failed", append(attrs, "class", "permanent")...)
	} else {
		g.log.Debug("connector call", attrs...)
	}
	if err != nil {
		return zero, err
	}
	return v, nil
}

// breaker is a consecutive-failures circuit breaker on the Guard's clock:
// closed until trip retryable failures in a row, then open for openFor,
// then half-open for one trial call whose outcome closes or reopens it.
// It replaces gobreaker, which reads time.Now itself: its open window
// could not follow GuardOptions.Now (Breaker reported an end on one clock
// while the breaker reopened on another), and its timing could not be
// tested without sleeping.
type breaker struct {
	trip     uint32
	openFor  time.Duration
	now      func() time.Time
	onChange func(from, to breakerState) // called with mu held

	mu       sync.Mutex
	state    breakerState
	gen      uint64 // bumped on every change, so late results of calls from an earlier state are ignored
	failures uint32
	openedAt time.Time
	trial    bool // a half-open trial call is in flight
}

type breakerState int

const (
	breakerClosed breakerState = iota
	breakerHalfOpen
	breakerOpen
)

func (s breakerState) String() string {
	switch s {
	case breakerHalfOpen:
		return "half-open"
	case breakerOpen:
		return "open"
	}
	return "closed"
}

var errBreakerOpen = ErrBreakerOpen

// ErrBreakerOpen is wrapped by the error of a call the breaker refused
// locally (open, or a half-open trial already in flight): the vendor was
// never asked, so nothing was sent and no attempt should count.
var ErrBreakerOpen = errors.New("circuit breaker open")

// current returns the state (an expired open window is half-open) and,
// when open, until when.
func (b *breaker) current() (breakerState, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire()
	if b.state == breakerOpen {
		return b.state, b.openedAt.Add(b.openFor)
	}
	return b.state, time.Time{}
}

// allow admits a call, returning its generation for done, or
// errBreakerOpen: while open, and while a half-open trial is in flight.
func (b *breaker) allow() (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire()
	switch {
	case b.state == breakerOpen, b.state == breakerHalfOpen && b.trial:
		return 0, errBreakerOpen
	case b.state == breakerHalfOpen:
		b.trial = true
	}
	return b.gen, nil
}

// done records the outcome of a call admitted in generation gen.
func (b *breaker) done(gen uint64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire()
	if gen != b.gen {
		return
	}
	switch {
	case b.state == breakerHalfOpen && ok:
		b.set(breakerClosed)
	case b.state == breakerHalfOpen:
		b.set(breakerOpen)
	case ok:
		b.failures = 0
	default:
		b.failures++
		if b.failures >= b.trip {
			b.set(breakerOpen)
		}
	}
}

// expire turns an open breaker whose window has passed half-open; b.mu is
// held.
func (b *breaker) expire() {
	if b.state == breakerOpen && !b.now().Before(b.openedAt.Add(b.openFor)) {
		b.set(breakerHalfOpen)
	}
}

// set changes the state and starts a new generation; b.mu is held.
func (b *breaker) set(to breakerState) {
	from := b.state
	b.state, b.failures, b.trial = to, 0, false
	b.gen++
	if to == breakerOpen {
		b.openedAt = b.now()
	}
	if b.onChange != nil {
		b.onChange(from, to)
	}
}

// Create implements Connector.
func (g *Guarded) Create(ctx context.Context, t *Ticket) (Remote, error) {
	return call(g, ctx, "create", func() (Remote, error) { return g.inner.Create(ctx, t) })
}

// Find implements Connector.
func (g *Guarded) Find(ctx context.Context, key string) (Remote, error) {
	return call(g, ctx, "find", func() (Remote, error) { return g.inner.Find(ctx, key) })
}

// Status implements Connector.
func (g *Guarded) Status(ctx context.Context, r Remote) (RemoteStatus, error) {
	return call(g, ctx, "status", func() (RemoteStatus, error) { return g.inner.Status(ctx, r) })
}

// Comment implements Connector.
// Sync reads status through the same rate limit and breaker as every
// other call, when the vendor connector is a Syncer.
func (g *Guarded) Sync(ctx context.Context, since time.Time, remotes []Remote) ([]Update, error) {
	sy, ok := g.inner.(Syncer)
	if !ok {
		return nil, ErrSyncUnsupported
	}
	return call(g, ctx, "sync", func() ([]Update, error) { return sy.Sync(ctx, since, remotes) })
}

// Add and FindAddition go through the same rate limit and breaker, when
// the vendor connector is an Adder.
func (g *Guarded) Add(ctx context.Context, r Remote, a *Addition) error {
	ad, ok := g.inner.(Adder)
	if !ok {
		return ErrAddUnsupported
	}
	_, err := call(g, ctx, "add", func() (struct{}, error) { return struct{}{}, ad.Add(ctx, r, a) })
	return err
}

// FindAddition: see Add.
func (g *Guarded) FindAddition(ctx context.Context, r Remote, key string) (bool, error) {
	ad, ok := g.inner.(Adder)
	if !ok {
		return false, ErrAddUnsupported
	}
	return call(g, ctx, "find addition", func() (bool, error) { return ad.FindAddition(ctx, r, key) })
}

// CanAdd reports whether the vendor connector adds comments exactly once.
func (g *Guarded) CanAdd() bool {
	_, ok := g.inner.(Adder)
	return ok
}

// CanSync reports whether the vendor connector reads status in batches.
func (g *Guarded) CanSync() bool {
	_, ok := g.inner.(Syncer)
	return ok
}

func (g *Guarded) Comment(ctx context.Context, r Remote, text string) error {
	_, err := call(g, ctx, "comment", func() (struct{}, error) { return struct{}{}, g.inner.Comment(ctx, r, text) })
	return err
}

// Attach implements Connector.
func (g *Guarded) Attach(ctx context.Context, r Remote, a Attachment) error {
	_, err := call(g, ctx, "attach", func() (struct{}, error) { return struct{}{}, g.inner.Attach(ctx, r, a) })
	return err
}

// Check implements Connector.
func (g *Guarded) Check(ctx context.Context) error {
	_, err := call(g, ctx, "check", func() (struct{}, error) { return struct{}{}, g.inner.Check(ctx) })
	return err
}
