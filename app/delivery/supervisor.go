package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// DefaultRetention is how long delivered tickets are kept when the policy
// says nothing.
const DefaultRetention = 30 * 24 * time.Hour

// Options configure a Supervisor.
type Options struct {
	Store *queue.Store
	// Config is the config in force at start.
	Config *config.Loaded
	// Watch reports config changes until ctx ends (nil: the config never
	// changes, as in drain): a new valid config, or the error that refused
	// a change.
	Watch func(ctx context.Context, onChange func(*config.Loaded, error))
	// OnConfig is told of every change the watcher reported, after the
	// supervisor acted on it (the tray notifies the user).
	OnConfig func(*config.Loaded, error)
	// Problems lists what the validator found wrong with a connection of
	// the config in force.
	Problems func(l *config.Loaded, name string) []string
	Courier  CourierOptions
	Logger   *slog.Logger
	// PurgeEvery is how often delivered tickets past retention are
	// deleted (default hourly); RestartAfter bounds the pause before a
	// courier that failed (the disk) is started again (default 1 min).
	PurgeEvery, RestartAfter time.Duration
	// OnStatus is told of every ticket whose local state a sync changed
	// (the tray notifies the reporter of the notable ones).
	OnStatus func(Change)
	// SyncTick, when set, replaces the policy's sync ticker: each receive
	// is one cycle. Tests drive it.
	SyncTick <-chan time.Time
}

// Supervisor owns delivery for one process: see the package comment.
type Supervisor struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	loaded  *config.Loaded
	courier *Courier
}

// New returns a supervisor; Run or Drain starts it.
func New(o Options) *Supervisor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PurgeEvery <= 0 {
		o.PurgeEvery = time.Hour
	}
	if o.RestartAfter <= 0 {
		o.RestartAfter = time.Minute
	}
	if o.Config == nil {
		o.Config = &config.Loaded{Config: config.Default()}
	}
	if o.Courier.Logger == nil {
		o.Courier.Logger = o.Logger
	}
	return &Supervisor{o: o, log: o.Logger, loaded: o.Config}
}

// Config is the config in force.
func (s *Supervisor) Config() *config.Loaded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loaded
}

// Courier is the running courier, nil between two.
func (s *Supervisor) Courier() *Courier {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.courier
}

// forget drops c as the running courier once it is closed.
func (s *Supervisor) forget(c *Courier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.courier == c {
		s.courier = nil
	}
}

// Wake makes the running courier look for work now.
func (s *Supervisor) Wake() {
	if c := s.Courier(); c != nil {
		c.Wake()
	}
}

func (s *Supervisor) newCourier(l *config.Loaded) (*Courier, error) {
	o := s.o.Courier
	if s.o.Problems != nil {
		o.Problems = func(name string) []string { return s.o.Problems(l, name) }
	}
	c, err := NewCourier(s.o.Store, l.Config, o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.loaded, s.courier = l, c
	s.mu.Unlock()
	return c, nil
}

// Summary is what a drain did.
type Summary struct {
	// Left counts deliveries still to do per connection.
	Left map[string]int `json:"left"`
	// LeftTotal is the sum of Left.
	LeftTotal int `json:"leftTotal"`
	// Died counts deliveries that went dead during the run.
	Died int `json:"died"`
	// Misconfigured names the connections that could not deliver, with why.
	Misconfigured map[string]string `json:"misconfigured"`
	// Stopped is set when ctx ended before the queue was drained.
	Stopped bool `json:"stopped"`
	// Storage lists what the queue's own checks found (damaged indexes
	// and whether they were rebuilt, unreadable tickets), for the help
	// desk; empty when all is well.
	Storage []string `json:"storage"`
}

// Drain delivers with the config in force until nothing is left to do for
// the connections that can deliver, or ctx ends.
func (s *Supervisor) Drain(ctx context.Context) (Summary, error) {
	c, err := s.newCourier(s.Config())
	if err != nil {
		return Summary{}, err
	}
	defer c.Close()
	runErr := c.Drain(ctx)
	stopped := errors.Is(runErr, context.DeadlineExceeded) || errors.Is(runErr, context.Canceled)
	if runErr != nil && !stopped {
		return Summary{}, runErr
	}
	// Count with a fresh context: the drain's may have expired.
	left, err := s.o.Store.Left(context.WithoutCancel(ctx))
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Left: left, Died: c.Died(), Misconfigured: c.Misconfigured(), Stopped: stopped, Storage: s.o.Store.Problems()}
	for _, n := range left {
		sum.LeftTotal += n
	}
	return sum, nil
}

// Run delivers until ctx ends: it purges on schedule, replaces the
// courier when the config changes and restarts it if it fails.
func (s *Supervisor) Run(ctx context.Context) error {
	changes := make(chan *config.Loaded, 1)
	var bg sync.WaitGroup
	defer bg.Wait()
	if s.o.Watch != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			s.o.Watch(ctx, s.onConfigChange(changes))
		}()
	}
	bg.Add(3)
	go func() { defer bg.Done(); s.purge(ctx) }()
	go func() { defer bg.Done(); s.syncLoop(ctx) }()
	go func() {
		defer bg.Done()
		// The queue checks itself in the background after open; tell the
		// log what it found (a damaged index rebuilt, unreadable tickets).
		probs, _ := s.o.Store.Check(ctx)
		for _, p := range probs {
			s.log.Warn("queue storage problem", "problem", p)
		}
	}()

	l := s.Config()
	restart := time.Second
	for {
		c, err := s.newCourier(l)
		var done chan error
		if err != nil {
			s.log.Error("delivery cannot start; trying again", "err", err, "in", restart)
		} else {
			cctx, stop := context.WithCancel(ctx)
			done = make(chan error, 1)
			go func() { done <- c.Serve(cctx) }()
			stopCourier := func() { stop(); <-done; c.Close(); s.forget(c) }
			select {
			case <-ctx.Done():
				stopCourier()
				return nil
			case next := <-changes:
				// Stopping cancels in-flight calls: their deliveries are
				// recorded as retries (or uncertain, found by key next
				// time), so nothing is lost or sent twice.
				stopCourier()
				l = next
				s.log.Info("config reloaded", "connections", len(next.Config.Enabled()))
				restart = time.Second
				continue
			case err = <-done:
				stop()
				c.Close()
				s.forget(c)
				if err == nil || ctx.Err() != nil {
					return nil
				}
				s.log.Error("delivery stopped; restarting", "err", err, "in", restart)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case next := <-changes:
			l = next
		case <-time.After(restart):
		}
		restart = min(2*restart, s.o.RestartAfter)
	}
}

// onConfigChange is the watcher's callback: a refused change is logged,
// a new config queued for the run loop (only the newest), and OnConfig
// told either way.
func (s *Supervisor) onConfigChange(changes chan *config.Loaded) func(*config.Loaded, error) {
	return func(l *config.Loaded, err error) {
		if err != nil {
			s.log.Warn("config change refused; the last good config stays in force", "err", err)
		} else {
			for _, p := range l.Warnings {
				s.log.Warn("config warning", "problem", p.String())
			}
			select { // keep only the newest
			case <-changes:
			default:
			}
			changes <- l
		}
		if s.o.OnConfig != nil {
			s.o.OnConfig(l, err)
		}
	}
}

// syncLoop reads status back every policy.syncInterval (the config in
// force decides at each wait); never while no courier runs.
func (s *Supervisor) syncLoop(ctx context.Context) {
	for {
		tick, stop := s.o.SyncTick, func() bool { return false }
		if tick == nil {
			every := s.Config().Config.Policy.SyncEvery()
			if every <= 0 {
				every = time.Hour // polling is off: look again at the policy later
			}
			t := time.NewTimer(every)
			tick, stop = t.C, t.Stop
		}
		select {
		case <-ctx.Done():
			stop()
			return
		case <-tick:
		}
		if s.Config().Config.Policy.SyncEvery() <= 0 {
			continue
		}
		if c := s.Courier(); c != nil {
			s.syncWith(ctx, c)
		}
	}
}

func (s *Supervisor) syncWith(ctx context.Context, c *Courier) ([]SyncReport, []Change) {
	reports, changes := c.Sync(ctx)
	s.log.Debug("status sync", "summary", SyncSummary(reports))
	for _, ch := range changes {
		s.log.Info("ticket status changed", "ticket", ch.TicketID, "connection", ch.Connection, "number", ch.RemoteNumber, "from", ch.Before, "to", ch.After)
		if s.o.OnStatus != nil {
			s.o.OnStatus(ch)
		}
	}
	return reports, changes
}

// Sync runs one status-sync cycle now, with the config in force: a courier
// of its own when none runs (the CLI's `sync`).
func (s *Supervisor) Sync(ctx context.Context) ([]SyncReport, []Change, error) {
	c := s.Courier()
	if c == nil {
		var err error
		if c, err = s.newCourier(s.Config()); err != nil {
			return nil, nil, err
		}
		defer func() { c.Close(); s.forget(c) }()
	}
	reports, changes := s.syncWith(ctx, c)
	return reports, changes, nil
}

// Apply records an update a help desk pushed (a signed webhook) with the
// running courier's connections (see Courier.Apply), or, between two
// couriers (at start, at a config reload), with the config in force:
// recording needs no connector. A change is logged and told to OnStatus,
// as a sync's is.
func (s *Supervisor) Apply(ctx context.Context, connection string, u connectors.Update, assigneeSet bool) (known bool, ch *Change, err error) {
	c := s.Courier()
	if c == nil {
		c = recorder(s.o.Store, s.Config().Config)
	}
	known, ch, err = c.Apply(ctx, connection, u, assigneeSet)
	if ch != nil {
		s.log.Info("ticket status changed", "ticket", ch.TicketID, "connection", ch.Connection, "number", ch.RemoteNumber, "from", ch.Before, "to", ch.After, "by", "webhook")
		if s.o.OnStatus != nil {
			s.o.OnStatus(*ch)
		}
	}
	return known, ch, err
}

// purge applies the retention policy of the config in force, hourly.
func (s *Supervisor) purge(ctx context.Context) {
	tick := time.NewTicker(s.o.PurgeEvery)
	defer tick.Stop()
	for {
		keep := s.Config().Config.Policy.Retention(DefaultRetention)
		if n, err := s.o.Store.Purge(ctx, time.Now().Add(-keep)); err != nil && ctx.Err() == nil {
			s.log.Warn("purge delivered tickets", "err", err)
		} else if n > 0 {
			s.log.Info("purged delivered tickets", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// SortedNames returns m's keys in order (for summaries).
func SortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
