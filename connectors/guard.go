package connectors

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
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
	Now            func() time.Time
}

// Guarded wraps a vendor connector with the shared resilience policy: a
// rate limit, a circuit breaker and logging. Vendor packages stay pure
// protocol.
type Guarded struct {
	name  string
	inner Connector
	lim   *rate.Limiter
	cb    *gobreaker.CircuitBreaker[any]
	log   *slog.Logger
	now   func() time.Time

	mu       sync.Mutex
	openedAt time.Time
	openFor  time.Duration
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
	g := &Guarded{name: name, inner: c, lim: rate.NewLimiter(rate.Limit(o.RatePerSecond), o.Burst), log: o.Logger, now: o.Now, openFor: o.OpenFor}
	g.cb = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     o.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= o.FailuresToTrip },
		// Only a vendor that is failing trips the breaker: a ticket it
		// rejects (permanent), a search that finds nothing, or being
		// offline (handled by pausing) say nothing about its health.
		IsSuccessful: func(err error) bool {
			return err == nil || errors.Is(err, ErrNotFound) || ClassOf(err) != Retryable
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			g.mu.Lock()
			if to == gobreaker.StateOpen {
				g.openedAt = g.now()
			}
			g.mu.Unlock()
			g.log.Warn("circuit breaker", "connection", name, "from", from.String(), "to", to.String())
		},
	})
	return g
}

// Breaker reports the breaker state ("closed", "half-open", "open") and,
// when open, until when.
func (g *Guarded) Breaker() (string, time.Time) {
	st := g.cb.State()
	if st != gobreaker.StateOpen {
		return st.String(), time.Time{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return st.String(), g.openedAt.Add(g.openFor)
}

func call[T any](g *Guarded, ctx context.Context, op string, f func() (T, error)) (T, error) {
	var zero T
	if err := g.lim.Wait(ctx); err != nil {
		return zero, &Error{Op: op, Class: Retryable, Err: err}
	}
	start := g.now()
	v, err := g.cb.Execute(func() (any, error) { return f() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		_, until := g.Breaker()
		wait := until.Sub(g.now())
		if wait < 0 {
			wait = 0
		}
		err = &Error{Op: op, Class: Retryable, RetryAfter: wait, Err: errors.New("circuit breaker open")}
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
	t, _ := v.(T)
	return t, nil
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
