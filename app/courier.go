package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

// Health states of a connection.
const (
	Healthy     = "healthy"
	Degraded    = "degraded"     // retryable failures, still trying
	Down        = "down"         // offline: not reachable at all
	BreakerOpen = "breaker_open" // too many failures in a row: resting
)

// DefaultMaxRetries applies when a connection sets no maxRetries.
const DefaultMaxRetries = 5

// CourierOptions configure a Courier. Zero values take production
// defaults; tests inject clocks, jitter and connectors.
type CourierOptions struct {
	// Build makes the vendor connector (default: the registry, with the
	// connection's HTTP client).
	Build       func(connectors.Connection) (connectors.Connector, error)
	Backoff     connectors.Backoff
	Guard       connectors.GuardOptions
	Concurrency int
	LeaseTTL    time.Duration
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
	svc   *Service
	o     CourierOptions
	conns map[string]*courierConn
	disp  *queue.Dispatcher
	log   *slog.Logger

	mu   sync.Mutex
	died int // deliveries that went dead in this run

	stop     context.Context // ends the offline probes
	stopFunc context.CancelFunc
}

type courierConn struct {
	cfg        connectors.Connection
	c          *connectors.Guarded
	maxRetries int

	mu      sync.Mutex
	offline bool

	wmu    sync.Mutex // orders health writes as the states were decided
	state  string
	lastOK time.Time // last time success was written to the store
}

// NewCourier builds a connector for every enabled connection.
func (s *Service) NewCourier(o CourierOptions) (*Courier, error) {
	if o.Backoff.Base == 0 {
		o.Backoff = connectors.DefaultBackoff
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = time.Second
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
	o.Guard.Logger = o.Logger
	if o.Build == nil {
		o.Build = s.buildConnector
	}
	c := &Courier{svc: s, o: o, conns: map[string]*courierConn{}, log: o.Logger}
	c.stop, c.stopFunc = context.WithCancel(context.Background())
	var names []string
	for _, conn := range s.Config.Enabled() {
		vc, err := o.Build(conn)
		if err != nil {
			return nil, err
		}
		// A connection's maxRetries wins; else IT's fleet-wide policy
		// (maxAttempts counts the first try too); else the default.
		maxRetries := DefaultMaxRetries
		if p := s.Config.Policy.MaxAttempts; p > 0 {
			maxRetries = p - 1
		}
		if conn.MaxRetries != nil {
			maxRetries = *conn.MaxRetries
		}
		g := o.Guard
		if v := conn.Option("rateLimitPerSecond", ""); v != "" {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r <= 0 {
				return nil, fmt.Errorf("connection %q: options.rateLimitPerSecond must be a positive number", conn.Name)
			}
			g.RatePerSecond, g.Burst = r, max(1, int(r))
		}
		c.conns[conn.Name] = &courierConn{cfg: conn, c: connectors.Guard(conn.Name, vc, g), maxRetries: maxRetries}
		names = append(names, conn.Name)
	}
	// Tickets queued while no connection was configured go to the ones
	// configured now.
	var targets []queue.Target
	for _, n := range names {
		targets = append(targets, queue.Target{Connection: n, Action: queue.ActionCreate})
	}
	if _, err := s.Store.AssignOrphans(context.Background(), targets); err != nil {
		return nil, err
	}
	c.disp = queue.NewDispatcher(s.Store, queue.DispatchOptions{
		Handler: c, Connections: names, Concurrency: o.Concurrency, LeaseTTL: o.LeaseTTL, Paused: c.paused,
	})
	return c, nil
}

// buildConnector makes a registered vendor connector with the connection's
// HTTP client (TLS policy, proxy, timeout, User-Agent, credentials).
func (s *Service) buildConnector(conn connectors.Connection) (connectors.Connector, error) {
	var ring connectors.SecretStore
	if r, err := s.keyring(); err == nil {
		ring = r
	}
	hc, err := connectors.NewHTTPClient(conn, connectors.ClientOptions{UserAgent: "Ticketray/" + Version, Getenv: s.getenv, Keyring: ring})
	if err != nil {
		return nil, err
	}
	return connectors.New(conn, connectors.Deps{HTTP: hc})
}

// Close stops the courier's background probes.
func (c *Courier) Close() { c.stopFunc() }

// Drain delivers until nothing is left to do or ctx ends.
func (c *Courier) Drain(ctx context.Context) error { return c.disp.Run(ctx, true) }

// Serve delivers until ctx ends.
func (c *Courier) Serve(ctx context.Context) error { return c.disp.Run(ctx, false) }

// Wake makes the courier look for new work now (after a Submit).
func (c *Courier) Wake() { c.disp.Wake("") }

// Died is the number of deliveries that went dead since the courier began.
func (c *Courier) Died() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.died
}

// Connector returns the guarded connector for a connection.
func (c *Courier) Connector(name string) (*connectors.Guarded, bool) {
	cc, ok := c.conns[name]
	if !ok {
		return nil, false
	}
	return cc.c, true
}

func (c *Courier) paused(name string) (bool, time.Time) {
	cc := c.conns[name]
	cc.mu.Lock()
	offline := cc.offline
	cc.mu.Unlock()
	if offline {
		return true, time.Time{} // the probe wakes the dispatcher
	}
	if st, until := cc.c.Breaker(); st == "open" {
		c.setState(cc, BreakerOpen, false, "")
		return true, until
	}
	return false, time.Time{}
}

// Deliver implements queue.Handler.
func (c *Courier) Deliver(ctx context.Context, l queue.Lease) queue.Outcome {
	cc, ok := c.conns[l.Connection]
	if !ok {
		return queue.Outcome{State: queue.StateRetry, NextAttemptAt: time.Now().Add(time.Hour), Error: "connection is not configured in this process"}
	}
	var t connectors.Ticket
	if err := json.Unmarshal(l.Payload, &t); err != nil {
		return c.dead(queue.Outcome{State: queue.StateDead, Error: "stored ticket is unreadable: " + err.Error()})
	}
	if l.Action != queue.ActionCreate {
		return c.dead(queue.Outcome{State: queue.StateDead, Error: fmt.Sprintf("action %q is not supported by this version", l.Action)})
	}
	// An earlier attempt may have reached the vendor: find before create,
	// so a ticket is never created twice.
	if l.Uncertain {
		r, err := cc.c.Find(ctx, t.IdempotencyKey)
		switch {
		case err == nil:
			c.setState(cc, Healthy, true, "")
			return queue.Outcome{State: queue.StateDelivered, RemoteID: r.ID, RemoteNumber: r.Number, RemoteURL: r.URL}
		case !errors.Is(err, connectors.ErrNotFound):
			return c.failure(cc, l, err)
		}
	}
	r, err := cc.c.Create(ctx, &t)
	if err != nil {
		return c.failure(cc, l, err)
	}
	c.setState(cc, Healthy, true, "")
	return queue.Outcome{State: queue.StateDelivered, RemoteID: r.ID, RemoteNumber: r.Number, RemoteURL: r.URL}
}

func (c *Courier) dead(o queue.Outcome) queue.Outcome {
	c.mu.Lock()
	c.died++
	c.mu.Unlock()
	return o
}

// failure turns an error into the delivery's next state.
func (c *Courier) failure(cc *courierConn, l queue.Lease, err error) queue.Outcome {
	now := c.o.Now()
	switch connectors.ClassOf(err) {
	case connectors.Offline:
		c.goOffline(cc, err)
		return queue.Outcome{State: queue.Offline, Error: err.Error(), NextAttemptAt: now}
	case connectors.Retryable:
		c.setState(cc, Degraded, false, err.Error())
		now = c.o.Now() // the health write may have waited for the disk
		if l.Attempts > cc.maxRetries {
			return c.dead(queue.Outcome{State: queue.StateDead, Error: fmt.Sprintf("gave up after %d attempts: %v", l.Attempts, err)})
		}
		var e *connectors.Error
		var after time.Duration
		if errors.As(err, &e) {
			after = e.RetryAfter
		}
		return queue.Outcome{State: queue.StateRetry, Error: err.Error(), NextAttemptAt: now.Add(c.o.Backoff.Delay(l.Attempts, after))}
	}
	c.setState(cc, Healthy, false, err.Error()) // the vendor answered: it is up
	return c.dead(queue.Outcome{State: queue.StateDead, Error: err.Error()})
}

// goOffline pauses the connection and probes it until it answers, then
// wakes the dispatcher. No attempt is spent meanwhile.
func (c *Courier) goOffline(cc *courierConn, cause error) {
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
				c.disp.Wake(cc.cfg.Name)
				return
			}
		}
	}()
}

// setState records health when it changes, and a success at most every
// few seconds: health must not cost an fsync per delivery.
func (c *Courier) setState(cc *courierConn, state string, success bool, errText string) {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	now := time.Now()
	write := state != cc.state || errText != "" || (success && now.Sub(cc.lastOK) > 5*time.Second)
	cc.state = state
	if success && write {
		cc.lastOK = now
	}
	if !write {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.svc.Store.SetHealth(ctx, cc.cfg.Name, state, success, errText); err != nil {
		c.log.Warn("record connection health", "connection", cc.cfg.Name, "err", err)
	}
}
