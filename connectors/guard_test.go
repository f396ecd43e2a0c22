package connectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

// wantCeil is the documented cap for attempt: Base·2^(attempt-1), at most Max.
func wantCeil(b Backoff, attempt int) time.Duration {
	c := float64(b.Base) * math.Pow(2, float64(attempt-1))
	if c >= float64(b.Max) {
		return b.Max
	}
	return time.Duration(c)
}

func TestBackoffDelayCap(t *testing.T) {
	configs := []struct{ base, max time.Duration }{
		{2 * time.Second, 15 * time.Minute}, // DefaultBackoff
		{100 * time.Millisecond, 400 * time.Millisecond},
		{time.Second, time.Second},
		{time.Millisecond, 24 * time.Hour},
		{3 * time.Second, 1000 * time.Hour},
		{7 * time.Second, time.Hour},
		{time.Hour, 100000 * time.Hour},
	}
	for _, cfg := range configs {
		var gotN []int64
		maxRand := Backoff{Base: cfg.base, Max: cfg.max, Rand: func(n int64) int64 { gotN = append(gotN, n); return n - 1 }}
		zeroRand := Backoff{Base: cfg.base, Max: cfg.max, Rand: func(int64) int64 { return 0 }}
		prev := time.Duration(0)
		for attempt := 1; attempt <= 40; attempt++ {
			want := wantCeil(maxRand, attempt)
			got := maxRand.Delay(attempt, 0)
			if got != want {
				t.Errorf("Backoff{%v, %v}.Delay(%d) with the top draw = %v, want %v", cfg.base, cfg.max, attempt, got, want)
			}
			if got > cfg.max || got < prev {
				t.Errorf("Backoff{%v, %v}.Delay(%d) = %v: above Max or below the previous cap %v", cfg.base, cfg.max, attempt, got, prev)
			}
			prev = got
			if n := gotN[len(gotN)-1]; n != int64(want)+1 {
				t.Errorf("Backoff{%v, %v}.Delay(%d) drew from [0, %d), want [0, %d)", cfg.base, cfg.max, attempt, n, int64(want)+1)
			}
			if got := zeroRand.Delay(attempt, 0); got != 0 {
				t.Errorf("Backoff{%v, %v}.Delay(%d) with the bottom draw = %v, want 0", cfg.base, cfg.max, attempt, got)
			}
		}
	}
}

func TestBackoffDelayRetryAfterFloor(t *testing.T) {
	b := Backoff{Base: 2 * time.Second, Max: 15 * time.Minute}
	top := func(n int64) int64 { return n - 1 }
	bottom := func(int64) int64 { return 0 }
	tests := []struct {
		name       string
		rand       func(int64) int64
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"bottom draw, no retry-after", bottom, 3, 0, 0},
		{"bottom draw takes retry-after", bottom, 3, 5 * time.Second, 5 * time.Second},
		{"top draw above retry-after", top, 3, 5 * time.Second, 8 * time.Second},
		{"retry-after above the draw", top, 1, 30 * time.Second, 30 * time.Second},
		{"retry-after above Max", top, 40, time.Hour, time.Hour},
		{"retry-after above Max, bottom draw", bottom, 1, 2 * time.Hour, 2 * time.Hour},
		{"attempt 0 counts as 1", top, 0, 0, 2 * time.Second},
		{"negative attempt counts as 1", top, -3, 0, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Rand = tt.rand
			if got := b.Delay(tt.attempt, tt.retryAfter); got != tt.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.retryAfter, got, tt.want)
			}
		})
	}
}

func TestBackoffDelayRealRandom(t *testing.T) {
	b := Backoff{Base: 2 * time.Second, Max: 15 * time.Minute}
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for range 1000 {
		d := b.Delay(3, 0)
		if d < 0 || d > 4*b.Base {
			t.Fatalf("Delay(3) = %v, want within [0, %v]", d, 4*b.Base)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	// Full jitter: 1000 uniform draws land in both halves of the range.
	if lo >= 2*b.Base || hi <= 2*b.Base {
		t.Errorf("1000 draws spanned [%v, %v], want values below and above %v (jitter)", lo, hi, 2*b.Base)
	}
	if d := DefaultBackoff.Delay(40, 0); d < 0 || d > DefaultBackoff.Max {
		t.Errorf("DefaultBackoff.Delay(40) = %v, want within [0, %v]", d, DefaultBackoff.Max)
	}
}

// guardStub is a Connector whose calls return scripted errors.
type guardStub struct {
	mu    sync.Mutex
	calls int
	errs  []error // returned in order, then nil
	hold  func()  // when set, called first by every call (to hold one in flight)
}

func (s *guardStub) next() error {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		hold()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *guardStub) push(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, errs...)
}

func (s *guardStub) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *guardStub) Create(ctx context.Context, t *Ticket) (Remote, error) {
	if err := s.next(); err != nil {
		return Remote{}, err
	}
	return Remote{ID: "sys-1", Number: "INC0010001"}, nil
}

func (s *guardStub) Find(ctx context.Context, key string) (Remote, error) {
	if err := s.next(); err != nil {
		return Remote{}, err
	}
	return Remote{ID: "sys-" + key}, nil
}

func (s *guardStub) Status(ctx context.Context, r Remote) (RemoteStatus, error) {
	if err := s.next(); err != nil {
		return RemoteStatus{}, err
	}
	return RemoteStatus{Remote: r, Status: "In Progress"}, nil
}

func (s *guardStub) Comment(ctx context.Context, r Remote, text string) error { return s.next() }
func (s *guardStub) Attach(ctx context.Context, r Remote, a Attachment) error { return s.next() }
func (s *guardStub) Check(ctx context.Context) error                          { return s.next() }

// fastGuard has no practical rate limit.
func fastGuard(inner Connector, o GuardOptions) *Guarded {
	if o.RatePerSecond == 0 {
		o.RatePerSecond, o.Burst = 1e6, 1000
	}
	return Guard("sn-prod", inner, o)
}

func TestGuardPassesResultsThrough(t *testing.T) {
	stub := &guardStub{}
	g := fastGuard(stub, GuardOptions{})
	ctx := context.Background()
	r, err := g.Create(ctx, &Ticket{Summary: "s"})
	if err != nil || r.ID != "sys-1" || r.Number != "INC0010001" {
		t.Errorf("Create = %+v, %v; want sys-1/INC0010001", r, err)
	}
	r, err = g.Find(ctx, "k1")
	if err != nil || r.ID != "sys-k1" {
		t.Errorf("Find = %+v, %v; want sys-k1", r, err)
	}
	st, err := g.Status(ctx, Remote{ID: "x"})
	if err != nil || st.Status != "In Progress" || st.ID != "x" {
		t.Errorf("Status = %+v, %v; want In Progress for x", st, err)
	}
	if err := g.Comment(ctx, Remote{}, "hi"); err != nil {
		t.Errorf("Comment: %v", err)
	}
	if err := g.Attach(ctx, Remote{}, Attachment{}); err != nil {
		t.Errorf("Attach: %v", err)
	}
	if err := g.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	stub.push(ErrNotFound)
	if _, err := g.Find(ctx, "k2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find = %v, want ErrNotFound", err)
	}
	vendor := &Error{Op: "create", Class: Permanent, Status: 422, Message: "bad field"}
	stub.push(vendor)
	if _, err := g.Create(ctx, &Ticket{}); err != vendor {
		t.Errorf("Create = %v, want the inner *Error unchanged", err)
	}
	if got, want := stub.count(), 8; got != want {
		t.Errorf("inner connector called %d times, want %d", got, want)
	}
}

// fakeSleep makes g wait on clock: each wait moves the clock by d and is
// recorded.
func fakeSleep(g *Guarded, clock *fake.Clock) *[]time.Duration {
	var waits []time.Duration
	g.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		clock.Advance(d)
		return nil
	}
	return &waits
}

func TestGuardRateLimit(t *testing.T) {
	const step = 50 * time.Millisecond
	tests := []struct {
		name      string
		rate      float64
		burst     int
		gaps      []time.Duration // clock moves before each call
		wantWaits []time.Duration
	}{
		{"burst 1 at 20/s: one call each 50ms", 20, 1, make([]time.Duration, 5), []time.Duration{step, step, step, step}},
		{"a burst of 3 is free, then 50ms each", 20, 3, make([]time.Duration, 5), []time.Duration{step, step}},
		{"calls already spaced never wait", 20, 1, []time.Duration{0, step, step, step}, nil},
		{"a partly refilled token waits the rest", 20, 1, []time.Duration{0, 20 * time.Millisecond}, []time.Duration{30 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fake.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
			stub := &guardStub{}
			g := Guard("c", stub, GuardOptions{RatePerSecond: tt.rate, Burst: tt.burst, Now: clock.Now})
			waits := fakeSleep(g, clock)
			for _, gap := range tt.gaps {
				clock.Advance(gap)
				if err := g.Check(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(*waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", *waits, tt.wantWaits)
			}
			if got := stub.count(); got != len(tt.gaps) {
				t.Errorf("inner called %d times, want %d", got, len(tt.gaps))
			}
		})
	}
}

func TestGuardRateLimitHonoursContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"the turn comes after the deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Minute) // the turn is 100s away
		}},
		{"canceled while waiting", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fake.NewClock(time.Now()) // ctx deadlines are on the wall clock
			stub := &guardStub{}
			g := Guard("c", stub, GuardOptions{RatePerSecond: 0.01, Burst: 1, Now: clock.Now})
			ctx, cancel := tt.ctx()
			defer cancel()
			slept := 0
			g.sleep = func(ctx context.Context, d time.Duration) error {
				slept++
				cancel() // the caller gives up while waiting
				return ctx.Err()
			}
			if err := g.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			err := g.Check(ctx)
			var e *Error
			if !errors.As(err, &e) || e.Class != Retryable || e.Op != "check" {
				t.Fatalf("Check over the limit = %v, want a retryable *Error for op check", err)
			}
			if _, hasDeadline := ctx.Deadline(); hasDeadline && slept != 0 {
				t.Errorf("waited %d times for a turn past the deadline, want to fail at once", slept)
			}
			if got := stub.count(); got != 1 {
				t.Errorf("inner called %d times, want 1", got)
			}
			// The unused turn was given back: after 100s the next call
			// goes through without waiting.
			clock.Advance(100 * time.Second)
			slept = 0
			if err := g.Check(context.Background()); err != nil || slept != 0 {
				t.Errorf("Check after the refill = %v after %d waits, want through at once", err, slept)
			}
		})
	}
}

func TestGuardBreakerTrips(t *testing.T) {
	retryable := &Error{Op: "create", Class: Retryable, Status: 503}
	permanent := &Error{Op: "create", Class: Permanent, Status: 400}
	offline := &Error{Op: "create", Class: Offline}
	notFound := ErrNotFound
	wrappedNotFound := &Error{Op: "find", Class: Retryable, Err: ErrNotFound}
	plain := errors.New("config bug")
	rep := func(err error, n int) []error {
		out := make([]error, n)
		for i := range out {
			out[i] = err
		}
		return out
	}
	tests := []struct {
		name     string
		errs     []error
		wantOpen bool
	}{
		{"3 retryable", rep(retryable, 3), true},
		{"2 retryable", rep(retryable, 2), false},
		{"10 permanent", rep(permanent, 10), false},
		{"10 offline", rep(offline, 10), false},
		{"10 not found", rep(notFound, 10), false},
		{"10 wrapped not found", rep(wrappedNotFound, 10), false},
		{"10 plain errors", rep(plain, 10), false},
		{"not consecutive: a permanent in between", []error{retryable, retryable, permanent, retryable, retryable}, false},
		{"not consecutive: a success in between", []error{retryable, retryable, nil, retryable, retryable}, false},
		{"consecutive after a permanent", []error{permanent, retryable, retryable, retryable}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &guardStub{}
			g := fastGuard(stub, GuardOptions{FailuresToTrip: 3, OpenFor: time.Hour})
			for _, e := range tt.errs {
				stub.push(e)
				g.Find(context.Background(), "k")
			}
			if got := stub.count(); got != len(tt.errs) {
				t.Fatalf("inner called %d times, want %d (the breaker opened early)", got, len(tt.errs))
			}
			state, _ := g.Breaker()
			if got, want := state == "open", tt.wantOpen; got != want {
				t.Errorf("breaker state %q, want open=%v", state, want)
			}
		})
	}
}

func TestGuardBreakerOpenFailsFast(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	const openFor = 10 * time.Minute
	stub := &guardStub{}
	g := fastGuard(stub, GuardOptions{FailuresToTrip: 2, OpenFor: openFor, Now: func() time.Time { return t0 }})
	ctx := context.Background()
	if state, until := g.Breaker(); state != "closed" || !until.IsZero() {
		t.Fatalf("new breaker = %q until %v, want closed", state, until)
	}
	stub.push(&Error{Class: Retryable, Status: 502}, &Error{Class: Retryable, Status: 504})
	g.Check(ctx)
	g.Check(ctx)
	state, until := g.Breaker()
	if state != "open" || !until.Equal(t0.Add(openFor)) {
		t.Fatalf("breaker = %q until %v, want open until %v", state, until, t0.Add(openFor))
	}
	calls := stub.count()
	ops := []struct {
		op   string
		call func() error
	}{
		{"create", func() error { _, err := g.Create(ctx, &Ticket{}); return err }},
		{"find", func() error { _, err := g.Find(ctx, "k"); return err }},
		{"status", func() error { _, err := g.Status(ctx, Remote{}); return err }},
		{"comment", func() error { return g.Comment(ctx, Remote{}, "x") }},
		{"attach", func() error { return g.Attach(ctx, Remote{}, Attachment{}) }},
		{"check", func() error { return g.Check(ctx) }},
	}
	for _, o := range ops {
		err := o.call()
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s while open = %v, want a *connectors.Error", o.op, err)
		}
		if e.Op != o.op || e.Class != Retryable || e.RetryAfter != openFor || e.Sent {
			t.Errorf("%s while open = {Op %q, Class %v, RetryAfter %v, Sent %v}, want {%q, retryable, %v, false}",
				o.op, e.Op, e.Class, e.RetryAfter, e.Sent, o.op, openFor)
		}
		if !strings.Contains(err.Error(), "circuit breaker open") {
			t.Errorf("%s while open: %q does not say the breaker is open", o.op, err)
		}
	}
	if got := stub.count(); got != calls {
		t.Errorf("inner called %d more times while open, want 0", got-calls)
	}
}

// TestGuardBreakerHalfOpen walks the breaker through its open window on a
// fake clock: open until exactly OpenFor has passed, then one trial call
// whose outcome decides the next state.
func TestGuardBreakerHalfOpen(t *testing.T) {
	const openFor = 10 * time.Minute
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	retryable := &Error{Class: Retryable, Status: 503}
	tests := []struct {
		name      string
		trial     error
		wantAfter string
	}{
		{"trial succeeds", nil, "closed"},
		{"trial fails", retryable, "open"},
		{"trial rejected permanently", &Error{Class: Permanent, Status: 400}, "closed"},
		{"trial finds nothing", ErrNotFound, "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fake.NewClock(t0)
			stub := &guardStub{}
			g := fastGuard(stub, GuardOptions{FailuresToTrip: 2, OpenFor: openFor, Now: clock.Now})
			ctx := context.Background()
			stub.push(retryable, retryable)
			g.Check(ctx)
			g.Check(ctx)
			if state, until := g.Breaker(); state != "open" || !until.Equal(t0.Add(openFor)) {
				t.Fatalf("after 2 retryable failures: %q until %v, want open until %v", state, until, t0.Add(openFor))
			}

			clock.Advance(openFor - time.Nanosecond)
			calls := stub.count()
			err := g.Check(ctx)
			var e *Error
			if !errors.As(err, &e) || e.RetryAfter != time.Nanosecond || stub.count() != calls {
				t.Fatalf("a call just before the window ends = %v (inner called %d times); want refused, retry after 1ns", err, stub.count()-calls)
			}

			clock.Advance(time.Nanosecond)
			if state, until := g.Breaker(); state != "half-open" || !until.IsZero() {
				t.Fatalf("when the window ends: %q until %v, want half-open", state, until)
			}
			if tt.trial != nil {
				stub.push(tt.trial)
			}
			err = g.Check(ctx)
			if got := stub.count(); got != calls+1 {
				t.Errorf("half-open: inner called %d times, want 1 trial", got-calls)
			}
			if !errors.Is(err, tt.trial) {
				t.Errorf("trial call = %v, want %v", err, tt.trial)
			}
			state, until := g.Breaker()
			if state != tt.wantAfter {
				t.Errorf("after the trial the breaker is %q, want %q", state, tt.wantAfter)
			}
			if tt.wantAfter == "open" && !until.Equal(clock.Now().Add(openFor)) {
				t.Errorf("reopened until %v, want a new window until %v", until, clock.Now().Add(openFor))
			}
		})
	}
}

// TestGuardBreakerOneTrialAtATime: while the half-open trial is in flight,
// other calls are refused without reaching the vendor.
func TestGuardBreakerOneTrialAtATime(t *testing.T) {
	const openFor = time.Minute
	clock := fake.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	stub := &guardStub{}
	g := fastGuard(stub, GuardOptions{FailuresToTrip: 1, OpenFor: openFor, Now: clock.Now})
	ctx := context.Background()
	stub.push(&Error{Class: Retryable, Status: 502})
	g.Check(ctx)
	clock.Advance(openFor)

	entered, release := make(chan struct{}), make(chan struct{})
	stub.mu.Lock()
	stub.hold = func() { entered <- struct{}{}; <-release }
	stub.mu.Unlock()
	trial := make(chan error)
	go func() { trial <- g.Check(ctx) }()
	<-entered // the trial is in the vendor's hands

	stub.mu.Lock()
	stub.hold = nil
	stub.mu.Unlock()
	calls := stub.count()
	if err := g.Check(ctx); !strings.Contains(fmt.Sprint(err), "circuit breaker open") {
		t.Errorf("a call during the trial = %v, want refused by the breaker", err)
	}
	if got := stub.count(); got != calls {
		t.Errorf("a call during the trial reached the vendor (%d calls)", got-calls)
	}
	close(release)
	if err := <-trial; err != nil {
		t.Fatalf("trial = %v", err)
	}
	if state, _ := g.Breaker(); state != "closed" {
		t.Errorf("after a good trial the breaker is %q, want closed", state)
	}
}

// TestGuardBreakerIgnoresLateResults: a call that began before the
// breaker opened and fails after it has recovered says nothing about the
// vendor now, so it does not trip the breaker again.
func TestGuardBreakerIgnoresLateResults(t *testing.T) {
	const openFor = time.Minute
	clock := fake.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	stub := &guardStub{}
	g := fastGuard(stub, GuardOptions{FailuresToTrip: 1, OpenFor: openFor, Now: clock.Now})
	ctx := context.Background()

	entered, release := make(chan struct{}), make(chan struct{})
	stub.mu.Lock()
	stub.hold = func() { entered <- struct{}{}; <-release }
	stub.mu.Unlock()
	late := make(chan error)
	go func() { late <- g.Check(ctx) }()
	<-entered // the slow call began while the breaker was closed
	stub.mu.Lock()
	stub.hold = nil
	stub.mu.Unlock()

	stub.push(&Error{Class: Retryable, Status: 502})
	g.Check(ctx) // trips
	clock.Advance(openFor)
	if err := g.Check(ctx); err != nil { // the trial succeeds: closed
		t.Fatalf("trial = %v", err)
	}
	stub.push(&Error{Class: Retryable, Status: 504}) // the slow call's answer
	close(release)
	if err := <-late; ClassOf(err) != Retryable {
		t.Fatalf("slow call = %v, want its retryable failure", err)
	}
	if state, _ := g.Breaker(); state != "closed" {
		t.Errorf("a failure from before the breaker opened left it %q, want closed", state)
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestGuardLogsNoVendorText(t *testing.T) {
	var buf lockedBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stub := &guardStub{}
	g := fastGuard(stub, GuardOptions{FailuresToTrip: 2, OpenFor: time.Hour, Logger: logger})
	ctx := context.Background()
	ticket := &Ticket{Summary: "Alice's laptop password is hunter2", Description: "private description"}
	stub.push(
		&Error{Op: "create", Class: Retryable, Status: 503, Message: "secret-laden vendor text", Err: errors.New("body: secret-laden cause")},
		&Error{Op: "create", Class: Retryable, Status: 429, Message: "secret-laden vendor text again"},
	)
	g.Create(ctx, ticket)
	g.Create(ctx, ticket)
	g.Create(ctx, ticket) // fails fast: open
	stub.push(errors.New("secret-laden plain error"))
	g2 := fastGuard(stub, GuardOptions{Logger: logger})
	g2.Comment(ctx, Remote{}, "secret-laden comment")
	g2.Check(ctx)

	out := buf.String()
	for _, want := range []string{"connector call failed", "connection=sn-prod", "op=create", "class=retryable", "status=503", "status=429",
		"circuit breaker", "to=open", "class=permanent", "op=comment", `msg="connector call" connection=sn-prod op=check`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"secret-laden", "hunter2", "private description"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
}
