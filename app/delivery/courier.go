package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

// DefaultMaxRetries applies when a connection sets no maxRetries.
const DefaultMaxRetries = 5

// leaseMargin is kept between the end of an attempt and its lease's
// expiry, for recording the outcome.
const leaseMargin = 5 * time.Second

// CourierOptions configure a Courier. Zero values take production
// defaults; tests inject clocks, jitter and connectors.
type CourierOptions struct {
	// Build makes the vendor connector for a connection (the app passes
	// the registry with the connection's HTTP client). An error leaves
	// that connection misconfigured and is tried again every RebuildEvery.
	Build func(connectors.Connection) (connectors.Connector, error)
	// Problems lists what the config validator found wrong with a
	// connection (nil: nothing); such a connection is misconfigured until
	// a config change fixes it.
	Problems func(name string) []string
	// RebuildEvery is how often a connection that failed to build is
	// tried again (default 30 s): a keyring may come up after login.
	RebuildEvery time.Duration
	Backoff      connectors.Backoff
	Guard        connectors.GuardOptions
	Concurrency  int
	LeaseTTL     time.Duration
	// ProbeEvery is how often an offline connection is probed (default
	// 1 s, so draining resumes within seconds of the network returning).
	ProbeEvery time.Duration
	Probe      func(ctx context.Context, baseURL string) bool
	Logger     *slog.Logger
	// Now is the clock retry times are computed from (default time.Now).
	Now func() time.Time
}

// Courier delivers queued tickets through the configured connectors. It is
// the queue dispatcher's Handler.
type Courier struct {
	store *queue.Store
	o     CourierOptions
	conns map[string]*conn
	names []string // enabled connections, config order
	log   *slog.Logger

	mu   sync.Mutex
	died int               // deliveries that went dead in this run
	disp *queue.Dispatcher // the running dispatcher, for Wake

	stop     context.Context // ends the probes and rebuilds
	stopFunc context.CancelFunc
}

type conn struct {
	cfg        connectors.Connection
	maxRetries int

	mu      sync.Mutex
	c       *connectors.Guarded // nil while misconfigured
	problem string              // why it is misconfigured
	offline bool

	wmu    sync.Mutex // orders health writes as the states were decided
	state  string
	lastOK time.Time // last time success was written to the store
}

func (cc *conn) guarded() (*connectors.Guarded, string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.c, cc.problem
}

// NewCourier prepares delivery to every enabled connection of cfg. Each
// connection is built on its own: one that cannot be built is recorded
// as misconfigured and the others deliver. The error is the queue's only.
func NewCourier(store *queue.Store, cfg *config.Config, o CourierOptions) (*Courier, error) {
	if o.Backoff.Base == 0 {
		o.Backoff = connectors.DefaultBackoff
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = time.Second
	}
	if o.RebuildEvery <= 0 {
		o.RebuildEvery = 30 * time.Second
	}
	if o.Probe == nil {
		o.Probe = func(ctx context.Context, u string) bool { return diagnostics.Probe(ctx, u).OK }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Build == nil {
		o.Build = func(c connectors.Connection) (connectors.Connector, error) {
			return nil, errors.New("no connector builder")
		}
	}
	o.Guard.Logger = o.Logger
	c := &Courier{store: store, o: o, conns: map[string]*conn{}, log: o.Logger}
	c.stop, c.stopFunc = context.WithCancel(context.Background())
	stored := map[string]string{}
	if hs, err := store.Health(context.Background()); err == nil {
		for _, h := range hs {
			stored[h.Connection] = h.State
		}
	}
	var targets []queue.Target
	for _, cn := range cfg.Enabled() {
		// A connection's maxRetries wins; else IT's fleet-wide policy
		// (maxAttempts counts the first try too); else the default.
		maxRetries := DefaultMaxRetries
		if p := cfg.Policy.MaxAttempts; p > 0 {
			maxRetries = p - 1
		}
		if cn.MaxRetries != nil {
			maxRetries = *cn.MaxRetries
		}
		cc := &conn{cfg: cn, maxRetries: maxRetries, state: stored[cn.Name]}
		c.conns[cn.Name] = cc
		c.names = append(c.names, cn.Name)
		targets = append(targets, queue.Target{Connection: cn.Name, Action: queue.ActionCreate})
		if retry := c.build(cc, stored[cn.Name]); retry {
			go c.rebuild(cc)
		}
	}
	// Tickets queued while no connection was configured go to the ones
	// configured now (misconfigured ones too: their deliveries wait).
	if _, err := store.AssignOrphans(context.Background(), targets); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// build makes cc's connector. It reports whether a failure is worth
// trying again (a build error, not a config problem).
func (c *Courier) build(cc *conn, stored string) (retry bool) {
	name := cc.cfg.Name
	// The config's validator has located the connection's problems; a
	// config built by hand (tests, a Service without files) is checked
	// with the same rules here.
	var problems []string
	if c.o.Problems != nil {
		problems = c.o.Problems(name)
	} else {
		for _, fe := range cc.cfg.Validate() {
			problems = append(problems, fe.Error())
		}
	}
	if len(problems) > 0 {
		c.misconfigured(cc, strings.Join(problems, "; "))
		return false
	}
	g := c.o.Guard
	if r, err := cc.cfg.RateLimitPerSecond(); err == nil && r > 0 { // Validate refused bad values
		g.RatePerSecond, g.Burst = r, max(1, int(r))
	}
	vc, err := c.o.Build(cc.cfg)
	if err != nil {
		state := Misconfigured
		if connectors.IsSignInRequired(err) {
			state = SignInRequired // tried again: a sign-in elsewhere fixes it
		}
		c.unbuilt(cc, state, err.Error())
		return true
	}
	cc.mu.Lock()
	cc.c, cc.problem = connectors.Guard(name, vc, g), ""
	cc.mu.Unlock()
	if stored != "" && stored != Healthy && stored != Failing {
		// Fixed: nothing has been tried since, so the light is unknown
		// until the first delivery says more.
		c.setState(cc, "", false, "")
	}
	return false
}

func (c *Courier) misconfigured(cc *conn, why string) { c.unbuilt(cc, Misconfigured, why) }

// unbuilt leaves cc without a connector, in state (misconfigured or
// signin_required): its deliveries wait.
func (c *Courier) unbuilt(cc *conn, state, why string) (wasBuilt bool) {
	cc.mu.Lock()
	wasBuilt = cc.c != nil
	cc.c, cc.problem = nil, why
	cc.mu.Unlock()
	c.log.Warn("connection cannot deliver; its deliveries wait", "connection", cc.cfg.Name, "state", state, "problem", why)
	c.setState(cc, state, false, why)
	return wasBuilt
}

// rebuild tries a connection that failed to build again until it builds
// or the courier closes, then wakes the dispatcher for it.
func (c *Courier) rebuild(cc *conn) {
	tick := time.NewTicker(c.o.RebuildEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop.Done():
			return
		case <-tick.C:
		}
		retry := c.build(cc, Misconfigured)
		if c.stop.Err() != nil {
			return // closed meanwhile: a newer courier owns the connection
		}
		if retry {
			continue
		}
		if g, _ := cc.guarded(); g != nil {
			c.log.Info("connection built; delivering", "connection", cc.cfg.Name)
			c.Wake()
		}
		return
	}
}

// Close stops the courier's background probes and rebuilds.
func (c *Courier) Close() { c.stopFunc() }

// Drain delivers until nothing is left to do for the connections that
// can deliver, or ctx ends. Misconfigured connections are left waiting.
func (c *Courier) Drain(ctx context.Context) error { return c.run(ctx, true) }

// Serve delivers until ctx ends.
func (c *Courier) Serve(ctx context.Context) error { return c.run(ctx, false) }

func (c *Courier) run(ctx context.Context, drain bool) error {
	names := c.names
	if drain {
		names = nil
		for _, n := range c.names {
			if g, _ := c.conns[n].guarded(); g != nil {
				names = append(names, n)
			}
		}
	}
	d := queue.NewDispatcher(c.store, queue.DispatchOptions{
		Handler: c, Connections: names, Concurrency: c.o.Concurrency, LeaseTTL: c.o.LeaseTTL, Paused: c.paused, OnDead: c.onDead,
		Stuck: func(name string) bool { g, _ := c.conns[name].guarded(); return g == nil },
	})
	c.mu.Lock()
	c.disp = d
	c.mu.Unlock()
	return d.Run(ctx, drain)
}

// Wake makes the courier look for new work now (after a Submit).
func (c *Courier) Wake() { c.wake("") }

func (c *Courier) wake(conn string) {
	c.mu.Lock()
	d := c.disp
	c.mu.Unlock()
	if d != nil {
		d.Wake(conn)
	}
}

// Died is the number of deliveries that went dead since the courier began.
func (c *Courier) Died() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.died
}

// Misconfigured returns the connections that cannot deliver, with why.
func (c *Courier) Misconfigured() map[string]string {
	out := map[string]string{}
	for n, cc := range c.conns {
		if g, why := cc.guarded(); g == nil {
			out[n] = why
		}
	}
	return out
}

// Connector returns the guarded connector for a connection, if it is built.
func (c *Courier) Connector(name string) (*connectors.Guarded, bool) {
	cc, ok := c.conns[name]
	if !ok {
		return nil, false
	}
	g, _ := cc.guarded()
	return g, g != nil
}

func (c *Courier) paused(name string) (bool, time.Time) {
	cc := c.conns[name]
	cc.mu.Lock()
	g, offline := cc.c, cc.offline
	cc.mu.Unlock()
	if g == nil || offline {
		return true, time.Time{} // a rebuild or the probe wakes the dispatcher
	}
	if st, until := g.Breaker(); st == "open" {
		c.setState(cc, BreakerOpen, false, "")
		return true, until
	}
	return false, time.Time{}
}

// Deliver implements queue.Handler. A delivered or dead outcome is
// logged at Info with ids, state and the remote number only: never the
// ticket's text nor the error (a vendor's message may echo the ticket).
func (c *Courier) Deliver(ctx context.Context, l queue.Lease) queue.Outcome {
	o := c.deliver(ctx, l)
	switch o.State {
	case queue.StateDelivered:
		c.log.Info("delivered", "ticket", l.TicketID, "delivery", l.ID, "connection", l.Connection, "action", l.Action, "state", o.State, "number", o.RemoteNumber)
	case queue.StateDead:
		c.log.Warn("delivery failed for good", "ticket", l.TicketID, "delivery", l.ID, "connection", l.Connection, "action", l.Action, "state", o.State, "attempts", l.Attempts)
	}
	return o
}

func (c *Courier) deliver(ctx context.Context, l queue.Lease) queue.Outcome {
	cc, ok := c.conns[l.Connection]
	if !ok {
		return queue.Outcome{State: queue.StateRetry, NextAttemptAt: time.Now().Add(time.Hour), Error: "connection is not configured in this process"}
	}
	g, why := cc.guarded()
	if g == nil {
		// Rebuilt away under us: wait without spending an attempt.
		return queue.Outcome{State: queue.Offline, Error: "connection misconfigured: " + why, NextAttemptAt: c.o.Now()}
	}
	// An attempt must end before its lease does: past it another worker
	// may take the delivery over and create the ticket a second time.
	if left := l.Expires.Sub(c.o.Now()) - leaseMargin; !l.Expires.IsZero() && left > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, left)
		defer cancel()
	}
	switch l.Action {
	case queue.ActionCreate:
	case queue.ActionUpdate:
		return c.deliverAddition(ctx, cc, g, l)
	default:
		return queue.Outcome{State: queue.StateDead, Error: fmt.Sprintf("action %q is not supported by this version", l.Action)}
	}
	var t connectors.Ticket
	if err := json.Unmarshal(l.Payload, &t); err != nil {
		return queue.Outcome{State: queue.StateDead, Error: "stored ticket is unreadable: " + err.Error()}
	}
	// The vendor sees a key per delivery, so two connections on one site
	// never take each other's tickets for their own.
	ticketKey := t.IdempotencyKey
	t.IdempotencyKey = connectors.DeliveryKey(ticketKey, l.Connection)
	// An earlier attempt may have reached the vendor: find before create,
	// so a ticket is never created twice.
	if l.Uncertain {
		if until := c.settled(ctx, cc, l); until.After(c.o.Now()) {
			// That attempt may still be under way at the vendor (its
			// process died a moment ago): a find now could miss a create
			// that lands later. Wait, spending no attempt.
			return queue.Outcome{State: queue.Offline, Error: "waiting for an earlier attempt to settle", NextAttemptAt: until}
		}
		r, err := g.Find(ctx, t.IdempotencyKey)
		if errors.Is(err, connectors.ErrNotFound) {
			// Versions before per-delivery keys sent the ticket's own key;
			// a create of theirs in flight at the upgrade carries it. The
			// find is scoped to this connection and new creates never carry
			// that key, but another connection on the same site and scope
			// may hold the old-key record: never take a sibling's.
			r, err = g.Find(ctx, ticketKey)
			if err == nil && c.siblingHolds(ctx, l, r) {
				r, err = connectors.Remote{}, connectors.ErrNotFound
			}
		}
		switch {
		case err == nil:
			c.setState(cc, Healthy, true, "")
			return queue.Outcome{State: queue.StateDelivered, RemoteID: r.ID, RemoteNumber: r.Number, RemoteURL: r.URL}
		case !errors.Is(err, connectors.ErrNotFound):
			return c.failure(ctx, cc, l, err)
		}
	}
	r, err := g.Create(ctx, &t)
	if err != nil {
		return c.failure(ctx, cc, l, err)
	}
	c.setState(cc, Healthy, true, "")
	return queue.Outcome{State: queue.StateDelivered, RemoteID: r.ID, RemoteNumber: r.Number, RemoteURL: r.URL}
}

// onDead counts every death the dispatcher records, whatever its cause
// (the store marks a ticket it cannot read dead itself).
// siblingHolds reports whether another delivery of l's ticket already
// recorded r as its remote ticket.
func (c *Courier) siblingHolds(ctx context.Context, l queue.Lease, r connectors.Remote) bool {
	it, err := c.store.Get(ctx, l.TicketID)
	if err != nil {
		return true // cannot tell: do not take it
	}
	for _, d := range it.Deliveries {
		if d.ID != l.ID && d.RemoteID != "" && d.RemoteID == r.ID {
			return true
		}
	}
	return false
}

// settled is when an earlier attempt whose process died in flight can no
// longer be under way at the vendor: its start plus the connection's
// timeout. Only such attempts count: one that recorded an outcome was
// answered, or gave up after the timeout. Zero when there was none or the
// history cannot be read.
func (c *Courier) settled(ctx context.Context, cc *conn, l queue.Lease) time.Time {
	evs, err := c.store.Events(ctx, l.ID)
	if err != nil {
		return time.Time{}
	}
	var died time.Time
	// The last in_flight event is this lease's own; an earlier one
	// followed directly by another in_flight never recorded an outcome.
	for i := 0; i+1 < len(evs); i++ {
		if evs[i].State == queue.StateInFlight && evs[i+1].State == queue.StateInFlight {
			died = evs[i].At
		}
	}
	if died.IsZero() {
		return time.Time{}
	}
	timeout := connectors.DefaultTimeout
	if cc.cfg.TimeoutMs > 0 {
		timeout = time.Duration(cc.cfg.TimeoutMs) * time.Millisecond
	}
	return died.Add(timeout)
}

func (c *Courier) onDead(string, string) {
	c.mu.Lock()
	c.died++
	c.mu.Unlock()
}

// failure turns an error into the delivery's next state.
func (c *Courier) failure(ctx context.Context, cc *conn, l queue.Lease, err error) queue.Outcome {
	now := c.o.Now()
	if ctx.Err() != nil {
		// Stopped (a reload, a shutdown, drain's timeout) or out of lease
		// time: not the vendor's verdict. Retry at once, finding first
		// (Retry keeps it uncertain), never dead and no health written.
		return queue.Outcome{State: queue.StateRetry, Error: err.Error(), NextAttemptAt: now}
	}
	if errors.Is(err, connectors.ErrBreakerOpen) {
		// Refused here, not by the vendor: nothing was sent, nothing spent.
		var until time.Time
		if g, _ := cc.guarded(); g != nil {
			_, until = g.Breaker()
		}
		if until.IsZero() {
			until = now.Add(time.Second)
		}
		return queue.Outcome{State: queue.Offline, Error: err.Error(), NextAttemptAt: until}
	}
	if connectors.IsSignInRequired(err) {
		// The grant was revoked or expired: no probe can fix that, only a
		// sign-in. Wait without spending the attempt, and build the
		// connection again now and then to pick the sign-in up.
		if c.unbuilt(cc, SignInRequired, err.Error()) {
			go c.rebuild(cc)
		}
		return queue.Outcome{State: queue.Offline, Error: err.Error(), NextAttemptAt: now}
	}
	switch connectors.ClassOf(err) {
	case connectors.Offline:
		c.goOffline(cc, err)
		return queue.Outcome{State: queue.Offline, Error: err.Error(), NextAttemptAt: now}
	case connectors.Retryable:
		c.setState(cc, Degraded, false, err.Error())
		now = c.o.Now() // the health write may have waited for the disk
		// A vendor that refuses for load asks for a wait, not a verdict:
		// such refusals never make a ticket dead, however long they last.
		if l.Attempts > cc.maxRetries && !connectors.IsThrottled(err) {
			return queue.Outcome{State: queue.StateDead, Error: fmt.Sprintf("gave up after %d attempts: %v", l.Attempts, err)}
		}
		var e *connectors.Error
		var after time.Duration
		if errors.As(err, &e) {
			after = e.RetryAfter
		}
		return queue.Outcome{State: queue.StateRetry, Error: err.Error(), NextAttemptAt: now.Add(c.o.Backoff.Delay(l.Attempts, after))}
	}
	// The vendor answered and refused for good: the connection is up but
	// failing, which is red, not green, until a delivery succeeds.
	c.setState(cc, Failing, false, refusal(err))
	return queue.Outcome{State: queue.StateDead, Error: err.Error()}
}

// goOffline pauses the connection and probes it until it answers, then
// wakes the dispatcher. No attempt is spent meanwhile.
func (c *Courier) goOffline(cc *conn, cause error) {
	cc.mu.Lock()
	already := cc.offline
	cc.offline = true
	cc.mu.Unlock()
	c.setState(cc, Down, false, cause.Error())
	if already {
		return
	}
	go func() {
		tick := time.NewTicker(c.o.ProbeEvery)
		defer tick.Stop()
		for {
			select {
			case <-c.stop.Done():
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(c.stop, 3*time.Second)
			ok := c.o.Probe(ctx, cc.cfg.BaseURL)
			cancel()
			if ok {
				cc.mu.Lock()
				cc.offline = false
				cc.mu.Unlock()
				c.log.Info("connection reachable again", "connection", cc.cfg.Name)
				c.setState(cc, Healthy, false, "")
				c.wake(cc.cfg.Name)
				return
			}
		}
	}()
}

// setState records health when it changes, and a success at most every
// few seconds: health must not cost an fsync per delivery.
func (c *Courier) setState(cc *conn, state string, success bool, errText string) {
	if c.stop.Err() != nil {
		return // closed: a newer courier owns the connection's health
	}
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	now := time.Now()
	write := state != cc.state || errText != "" || (success && now.Sub(cc.lastOK) > 5*time.Second)
	if state != cc.state {
		c.log.Info("connection state changed", "connection", cc.cfg.Name, "from", cc.state, "to", state)
	}
	cc.state = state
	if success && write {
		cc.lastOK = now
	}
	if !write {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.store.SetHealth(ctx, cc.cfg.Name, state, success, errText); err != nil {
		c.log.Warn("record connection health", "connection", cc.cfg.Name, "err", err)
	}
}
