package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// memConnector is an in-memory vendor: tickets by idempotency key, with a
// script of failures for the next Create calls.
type memConnector struct {
	mu      sync.Mutex
	tickets map[string][]connectors.Remote
	script  []createStep
	creates int
	finds   int
	created chan struct{} // when set, told of every record created
}

type createStep struct {
	err       error
	createToo bool // the vendor acted before the failure (reset after send)
}

func newMem() *memConnector { return &memConnector{tickets: map[string][]connectors.Remote{}} }

func (m *memConnector) fail(steps ...createStep) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.script = append(m.script, steps...)
}

func (m *memConnector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates++
	r := connectors.Remote{ID: fmt.Sprint(m.creates), Number: fmt.Sprintf("INC%07d", m.creates), URL: "https://example/" + fmt.Sprint(m.creates)}
	if len(m.script) > 0 {
		st := m.script[0]
		m.script = m.script[1:]
		if st.createToo {
			m.tickets[t.IdempotencyKey] = append(m.tickets[t.IdempotencyKey], r)
		}
		return connectors.Remote{}, st.err
	}
	m.tickets[t.IdempotencyKey] = append(m.tickets[t.IdempotencyKey], r)
	if m.created != nil {
		m.created <- struct{}{}
	}
	return r, nil
}

func (m *memConnector) Find(ctx context.Context, key string) (connectors.Remote, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finds++
	if rs := m.tickets[key]; len(rs) > 0 {
		return rs[0], nil
	}
	return connectors.Remote{}, connectors.ErrNotFound
}

func (m *memConnector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	return connectors.RemoteStatus{Remote: r, Status: "new"}, nil
}
func (m *memConnector) Comment(context.Context, connectors.Remote, string) error { return nil }
func (m *memConnector) Attach(context.Context, connectors.Remote, connectors.Attachment) error {
	return nil
}
func (m *memConnector) Check(context.Context) error { return nil }

// count is how many records the vendor holds for a ticket's delivery to
// connection conn.
func (m *memConnector) count(ticketKey, conn string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tickets[connectors.DeliveryKey(ticketKey, conn)])
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// courierRig is a real queue file with in-memory connectors.
type courierRig struct {
	store *queue.Store
	cfg   *config.Config
	mems  map[string]*memConnector
	clock *clock
}

func newCourierRig(t *testing.T, fakeClock bool, conns ...string) *courierRig {
	t.Helper()
	rig := &courierRig{mems: map[string]*memConnector{}, cfg: config.Default()}
	for _, n := range conns {
		max := 3
		rig.cfg.Connections = append(rig.cfg.Connections, connectors.Connection{Name: n, Type: "servicenow", BaseURL: "https://" + n + ".example.com",
			Credentials: connectors.Credentials{Type: "bearer", Token: "t"}, MaxRetries: &max})
		rig.mems[n] = newMem()
	}
	opts := queue.Options{KEK: queue.PassphraseKEK{Passphrase: []byte("p"), Time: 1, MemoryKiB: 8 << 10, Threads: 1}}
	if fakeClock {
		rig.clock = &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
		opts.Now = rig.clock.Now
	}
	st, err := queue.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rig.store = st
	return rig
}

func (r *courierRig) courier(t *testing.T, o CourierOptions) *Courier {
	t.Helper()
	if o.Build == nil {
		o.Build = func(c connectors.Connection) (connectors.Connector, error) { return r.mems[c.Name], nil }
	}
	if r.clock != nil {
		o.Now = r.clock.Now
	}
	co, err := NewCourier(r.store, r.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(co.Close)
	return co
}

// report queues n tickets for every enabled connection and returns their
// idempotency keys.
func (r *courierRig) report(t *testing.T, n int) []string {
	t.Helper()
	var keys []string
	var targets []queue.Target
	for _, c := range r.cfg.Enabled() {
		targets = append(targets, queue.Target{Connection: c.Name, Action: queue.ActionCreate})
	}
	for i := 0; i < n; i++ {
		tk := connectors.Ticket{Summary: fmt.Sprintf("ticket %d", i), Priority: connectors.PriorityMedium, IdempotencyKey: connectors.NewKey(),
			CreatedAt: time.Now().UTC(), User: connectors.User{Email: "u@example.com"}}
		payload, err := json.Marshal(tk)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.store.Enqueue(context.Background(), tk.CreatedAt, payload, targets); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tk.IdempotencyKey)
	}
	return keys
}

// step leases the one due delivery, runs it through the courier and
// records the outcome, as the dispatcher does, under the fake clock.
func (r *courierRig) step(t *testing.T, co *Courier) (queue.Lease, queue.Outcome) {
	t.Helper()
	ls, err := r.store.Lease(context.Background(), queue.LeaseOptions{Limit: 1})
	if err != nil || len(ls) != 1 {
		t.Fatalf("lease: %v, %d leases", err, len(ls))
	}
	o := co.Deliver(context.Background(), ls[0])
	if err := r.store.Complete(context.Background(), ls[0], o); err != nil {
		t.Fatal(err)
	}
	return ls[0], o
}

func (r *courierRig) health(t *testing.T, conn string) queue.Health {
	t.Helper()
	h, err := r.store.Health(context.Background(), conn)
	if err != nil || len(h) != 1 {
		t.Fatalf("health %s: %v", conn, err)
	}
	return h[0]
}

func TestDrainDeliversExactlyOnce(t *testing.T) {
	rig := newCourierRig(t, false, "A", "B")
	keys := rig.report(t, 40)
	co := rig.courier(t, CourierOptions{Concurrency: 4, Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := co.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	for name, m := range rig.mems {
		for _, k := range keys {
			if got := m.count(k, name); got != 1 {
				t.Errorf("%s holds %d tickets for ticket %s, want 1", name, got, k)
			}
		}
	}
	left, _ := rig.store.Left(ctx)
	if len(left) != 0 {
		t.Errorf("left = %v", left)
	}
	items, _ := rig.store.List(ctx, queue.Filter{State: queue.StateDelivered})
	if len(items) != 40 || items[0].Deliveries[0].RemoteNumber == "" {
		t.Errorf("delivered list: %d items", len(items))
	}
}

func TestRetrySchedule(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.report(t, 1)
	// Jitter that always draws the ceiling, so the schedule is exact.
	co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: 2 * time.Second, Max: time.Minute, Rand: func(n int64) int64 { return n - 1 }}})
	mem := rig.mems["A"]
	mem.fail(
		createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 503}},
		createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 429, RetryAfter: 40 * time.Second}},
		createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 500}},
	)
	want := []time.Duration{2 * time.Second, 40 * time.Second, 8 * time.Second} // 2s, max(4s jitter, Retry-After 40s), 8s
	for i, w := range want {
		l, o := rig.step(t, co)
		if o.State != queue.StateRetry {
			t.Fatalf("attempt %d: outcome %+v", i+1, o)
		}
		if got := o.NextAttemptAt.Sub(rig.clock.Now()); got != w-time.Nanosecond && got != w {
			t.Errorf("attempt %d: next attempt in %v, want %v", l.Attempts, got, w)
		}
		// Not due a moment before its time; due at it.
		rig.clock.Add(o.NextAttemptAt.Sub(rig.clock.Now()) - time.Millisecond)
		if ls, _ := rig.store.Lease(context.Background(), queue.LeaseOptions{}); len(ls) != 0 {
			t.Fatalf("attempt %d: leased before its time", i+1)
		}
		rig.clock.Add(time.Millisecond)
	}
	_, o := rig.step(t, co)
	if o.State != queue.StateDelivered {
		t.Fatalf("4th attempt: %+v", o)
	}
	// Attempts 2..4 followed failures that may have reached the vendor
	// (5xx), so each looked the ticket up first: by its delivery key, then
	// by the key versions before per-delivery keys sent.
	if mem.finds != 6 || mem.creates != 4 {
		t.Errorf("finds = %d, creates = %d", mem.finds, mem.creates)
	}
}

func TestResetAfterSendIsNotDuplicated(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	keys := rig.report(t, 1)
	co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: time.Second, Max: time.Second, Rand: func(int64) int64 { return 0 }}})
	mem := rig.mems["A"]
	mem.fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Sent: true, Err: errors.New("connection reset")}, createToo: true})
	if _, o := rig.step(t, co); o.State != queue.StateRetry {
		t.Fatalf("first attempt: %+v", o)
	}
	l, o := rig.step(t, co)
	if !l.Uncertain || o.State != queue.StateDelivered || o.RemoteNumber != "INC0000001" {
		t.Fatalf("second attempt: uncertain=%v outcome %+v", l.Uncertain, o)
	}
	if got := mem.count(keys[0], "A"); got != 1 {
		t.Errorf("vendor holds %d copies, want 1", got)
	}
}

func TestPermanentAndExhaustedGoDead(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.report(t, 2)
	co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: time.Second, Max: time.Second, Rand: func(int64) int64 { return 0 }}})
	mem := rig.mems["A"]
	mem.fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Permanent, Status: 400, Message: "project: Specify a valid project ID or key"}})
	if _, o := rig.step(t, co); o.State != queue.StateDead || o.Error != "create: HTTP 400 Bad Request: project: Specify a valid project ID or key" {
		t.Fatalf("permanent: %+v", o)
	}
	// maxRetries 3: attempts 1..3 retry, the 4th failure is final.
	for i := 0; i < 4; i++ {
		mem.fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 502}})
	}
	var o queue.Outcome
	for i := 1; i <= 4; i++ {
		_, o = rig.step(t, co)
		if i < 4 && o.State != queue.StateRetry {
			t.Fatalf("attempt %d: %+v", i, o)
		}
	}
	if o.State != queue.StateDead || o.Error != "gave up after 4 attempts: create: HTTP 502 Bad Gateway" {
		t.Errorf("exhausted: %+v", o)
	}
	if h := rig.health(t, "A"); h.State != Degraded {
		t.Errorf("health after retryable failures = %q", h.State)
	}
}

func TestOfflinePausesWithoutSpendingAttempts(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	keys := rig.report(t, 3)
	reachable := make(chan struct{})
	probes := make(chan struct{}, 100)
	co := rig.courier(t, CourierOptions{
		ProbeEvery: 20 * time.Millisecond,
		Probe: func(ctx context.Context, u string) bool {
			probes <- struct{}{}
			select {
			case <-reachable:
				return true
			default:
				return false
			}
		},
		Concurrency: 1, // the first delivery goes offline; the others wait
		Guard:       connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000},
	})
	mem := rig.mems["A"]
	mem.fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Offline, Err: errors.New("dial tcp: connection refused")}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- co.Drain(ctx) }()
	<-probes // offline: the connection is paused and probed
	if st, _ := co.paused("A"); !st {
		t.Fatal("connection not paused while offline")
	}
	h, _ := rig.store.Health(ctx, "A")
	if h[0].State != Down || h[0].LastError == "" {
		t.Errorf("health while offline = %+v", h[0])
	}
	items, _ := rig.store.List(ctx, queue.Filter{})
	for _, it := range items {
		if it.Deliveries[0].Attempts != 0 {
			t.Errorf("ticket %s spent %d attempts while offline", it.ID, it.Deliveries[0].Attempts)
		}
	}
	close(reachable)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if n := mem.count(k, "A"); n != 1 {
			t.Errorf("ticket %s delivered %d times", k, n)
		}
	}
	h, _ = rig.store.Health(ctx, "A")
	if h[0].State != Healthy || h[0].LastSuccess.IsZero() {
		t.Errorf("health after = %+v", h[0])
	}
}

func TestBreakerOpensAndPauses(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.report(t, 5)
	co := rig.courier(t, CourierOptions{Guard: connectors.GuardOptions{FailuresToTrip: 3, OpenFor: time.Minute, RatePerSecond: 1000, Burst: 1000},
		// Retries are not due within the test, so each step is a first
		// attempt at another ticket (no find-before-create in between).
		Backoff: connectors.Backoff{Base: time.Hour, Max: time.Hour, Rand: func(n int64) int64 { return n - 1 }}})
	for i := 0; i < 3; i++ {
		rig.mems["A"].fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 503}})
		rig.step(t, co)
	}
	paused, until := co.paused("A")
	if !paused || until.IsZero() {
		t.Fatalf("breaker did not pause the connection: %v %v", paused, until)
	}
	h, _ := rig.store.Health(context.Background(), "A")
	if h[0].State != BreakerOpen {
		t.Errorf("health state = %q", h[0].State)
	}
	// A call while open fails fast without reaching the vendor, and
	// spends no attempt: the breaker refused it, not the vendor.
	before := rig.mems["A"].creates
	_, o := rig.step(t, co)
	if o.State != queue.Offline || rig.mems["A"].creates != before {
		t.Errorf("call while open: %+v, creates %d→%d", o, before, rig.mems["A"].creates)
	}
}

func TestPolicyMaxAttempts(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.cfg.Policy.MaxAttempts = 2
	rig.cfg.Connections[0].MaxRetries = nil // the policy applies
	rig.report(t, 1)
	co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: time.Second, Max: time.Second, Rand: func(int64) int64 { return 0 }}})
	rig.mems["A"].fail(
		createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 503}},
		createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 503}},
	)
	if _, o := rig.step(t, co); o.State != queue.StateRetry {
		t.Fatalf("attempt 1: %+v", o)
	}
	if _, o := rig.step(t, co); o.State != queue.StateDead || !strings.Contains(o.Error, "gave up after 2 attempts") {
		t.Fatalf("attempt 2 of maxAttempts 2: %+v", o)
	}
}

// A connection that cannot be built, or that the validator rejects, waits
// as misconfigured; every other connection delivers, and drain returns.
func TestConnectionsFailAlone(t *testing.T) {
	rig := newCourierRig(t, false, "Good", "NoBuild", "Invalid")
	rig.cfg.Connections[2].BaseURL = "http://invalid.example.com" // not https, not loopback
	keys := rig.report(t, 3)
	co := rig.courier(t, CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000},
		Build: func(c connectors.Connection) (connectors.Connector, error) {
			if c.Name == "NoBuild" {
				return nil, errors.New(`connection "NoBuild": credentials.token: environment variable SN_TOKEN is not set`)
			}
			return rig.mems[c.Name], nil
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := co.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if n := rig.mems["Good"].count(k, "Good"); n != 1 {
			t.Errorf("Good holds %d copies of %s", n, k)
		}
	}
	left, err := rig.store.Left(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left["NoBuild"] != 3 || left["Invalid"] != 3 || left["Good"] != 0 {
		t.Errorf("left = %v, want the misconfigured connections' deliveries to wait", left)
	}
	mis := co.Misconfigured()
	if !strings.Contains(mis["NoBuild"], "SN_TOKEN is not set") || !strings.Contains(mis["Invalid"], "baseUrl") || len(mis) != 2 {
		t.Errorf("Misconfigured() = %v", mis)
	}
	for _, n := range []string{"NoBuild", "Invalid"} {
		if h := rig.health(t, n); h.State != Misconfigured || h.LastError == "" {
			t.Errorf("%s health = %+v, want misconfigured with the reason", n, h)
		}
	}
}

// A build failure (a keyring not up yet) is tried again; once the
// connection builds, its waiting deliveries go out without a restart.
func TestMisconfiguredConnectionIsRebuilt(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	keys := rig.report(t, 2)
	rig.mems["A"].created = make(chan struct{}, 2)
	var mu sync.Mutex
	ringUp := false
	tries := make(chan struct{}, 10)
	co := rig.courier(t, CourierOptions{RebuildEvery: 10 * time.Millisecond, Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000},
		Build: func(c connectors.Connection) (connectors.Connector, error) {
			mu.Lock()
			defer mu.Unlock()
			select {
			case tries <- struct{}{}:
			default:
			}
			if !ringUp {
				return nil, errors.New("secret keyring:sn: no keyring is available")
			}
			return rig.mems[c.Name], nil
		}})
	if h := rig.health(t, "A"); h.State != Misconfigured {
		t.Fatalf("health before the keyring = %q", h.State)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- co.Serve(ctx) }()
	<-tries // the first build
	<-tries // a rebuild: tried again, not cached as failed
	mu.Lock()
	ringUp = true
	mu.Unlock()
	for range keys {
		select {
		case <-rig.mems["A"].created:
		case <-ctx.Done():
			t.Fatal("the rebuilt connection did not deliver")
		}
	}
	cancel()
	<-done
	for _, k := range keys {
		if n := rig.mems["A"].count(k, "A"); n != 1 {
			t.Errorf("ticket %s: %d records", k, n)
		}
	}
	if _, ok := co.Misconfigured()["A"]; ok {
		t.Error("still misconfigured after it built")
	}
}

// A vendor that refuses for good makes the connection failing (red), not
// healthy; a later success makes it healthy again.
func TestRefusalMakesConnectionFailing(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.report(t, 2)
	co := rig.courier(t, CourierOptions{})
	rig.mems["A"].fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Permanent, Status: 401, Message: "User Not Authenticated"}})
	if _, o := rig.step(t, co); o.State != queue.StateDead {
		t.Fatalf("401: %+v", o)
	}
	h := rig.health(t, "A")
	if h.State != Failing || !strings.HasPrefix(h.LastError, "credentials rejected (HTTP 401)") {
		t.Errorf("after 401: %+v", h)
	}
	if !Red(h.State) {
		t.Error("failing is not red")
	}
	if _, o := rig.step(t, co); o.State != queue.StateDelivered {
		t.Fatalf("second ticket: %+v", o)
	}
	if h := rig.health(t, "A"); h.State != Healthy {
		t.Errorf("after a success: %q", h.State)
	}
}

// Two connections on one vendor site (one memConnector): after an unknown
// outcome, each finds only its own record and creates its own, once.
func TestSharedSiteDeliveryKeys(t *testing.T) {
	rig := newCourierRig(t, true, "Jira", "JSM")
	site := newMem()
	rig.mems["Jira"], rig.mems["JSM"] = site, site
	keys := rig.report(t, 1)
	// The retry waits an hour, so the other connection goes first.
	co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: time.Hour, Max: time.Hour, Rand: func(n int64) int64 { return n - 1 }}})
	// The first delivery (either connection) is created, but its answer is
	// lost: it becomes uncertain.
	site.fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Sent: true, Err: errors.New("connection reset")}, createToo: true})
	first, _ := rig.step(t, co)
	other := "JSM"
	if first.Connection == "JSM" {
		other = "Jira"
	}
	// The other connection's first attempt, then the retry of the first.
	if l, o := rig.step(t, co); l.Connection != other || o.State != queue.StateDelivered {
		t.Fatalf("second step: %s %+v", l.Connection, o)
	}
	rig.clock.Add(2 * time.Hour)
	l, o := rig.step(t, co)
	if !l.Uncertain || o.State != queue.StateDelivered {
		t.Fatalf("retry: uncertain=%v %+v", l.Uncertain, o)
	}
	for _, c := range []string{first.Connection, other} {
		if n := site.count(keys[0], c); n != 1 {
			t.Errorf("%s: %d records on the shared site, want 1", c, n)
		}
	}
}

// Every death in a run counts, including tickets the store cannot read.
func TestDrainCountsEveryDeath(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	rig.report(t, 2)
	co := rig.courier(t, CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000}})
	rig.mems["A"].fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Permanent, Status: 400}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := co.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if co.Died() != 1 {
		t.Errorf("Died = %d, want 1", co.Died())
	}
}

// A create sent by a version before per-delivery keys, whose outcome was
// unknown at the upgrade, is found by the ticket's own key: no duplicate.
func TestUncertainCreateFromBeforePerDeliveryKeys(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	keys := rig.report(t, 1)
	mem := rig.mems["A"]
	mem.tickets[keys[0]] = []connectors.Remote{{ID: "77", Number: "INC0000077"}} // the old version's create
	ls, err := rig.store.Lease(context.Background(), queue.LeaseOptions{Limit: 1})
	if err != nil || len(ls) != 1 {
		t.Fatal(err)
	}
	// The old process died in flight: the delivery is uncertain.
	if err := rig.store.Complete(context.Background(), ls[0], queue.Outcome{State: queue.StateRetry, Error: "killed", NextAttemptAt: rig.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	co := rig.courier(t, CourierOptions{})
	l, o := rig.step(t, co)
	if !l.Uncertain || o.State != queue.StateDelivered || o.RemoteNumber != "INC0000077" || mem.creates != 0 {
		t.Errorf("uncertain=%v outcome %+v creates %d", l.Uncertain, o, mem.creates)
	}
}

// A vendor that refuses for load (429, Salesforce's 403
// REQUEST_LIMIT_EXCEEDED) asks for a wait: past maxRetries such refusals
// still retry, where any other retryable failure would be final.
func TestThrottlingNeverKillsATicket(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"429", &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 429, RetryAfter: time.Minute}, queue.StateRetry},
		{"API limit", &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 403, Throttled: true, Message: "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."}, queue.StateRetry},
		{"503", &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 503}, queue.StateDead},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rig := newCourierRig(t, true, "A")
			rig.report(t, 1)
			co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: time.Second, Max: time.Second, Rand: func(int64) int64 { return 0 }}})
			var o queue.Outcome
			for i := 0; i < 4; i++ { // maxRetries 3: the 4th failure is final for the others
				rig.mems["A"].fail(createStep{err: tt.err})
				_, o = rig.step(t, co)
				rig.clock.Add(time.Hour)
			}
			if o.State != tt.want {
				t.Errorf("after 4 refusals: %+v, want %s", o, tt.want)
			}
		})
	}
}

// An attempt whose process died in flight may still be under way at the
// vendor: the next attempt waits until that attempt's timeout has passed
// (spending nothing) before it finds, so a create that lands late is
// found, not duplicated.
func TestDiedAttemptSettlesBeforeFind(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.cfg.Connections[0].TimeoutMs = 10 * 60 * 1000 // longer than a lease
	keys := rig.report(t, 1)
	co := rig.courier(t, CourierOptions{})
	// A process leases the delivery, sends, and dies: no outcome.
	died, err := rig.store.Lease(context.Background(), queue.LeaseOptions{Limit: 1, TTL: time.Minute})
	if err != nil || len(died) != 1 {
		t.Fatal(err)
	}
	start := rig.clock.Now()
	rig.clock.Add(2 * time.Minute) // the lease has expired
	l, o := rig.step(t, co)
	if !l.Uncertain || o.State != queue.Offline || !o.NextAttemptAt.Equal(start.Add(10*time.Minute)) {
		t.Fatalf("within the dead attempt's timeout: uncertain=%v %+v", l.Uncertain, o)
	}
	// The vendor finishes the dead process's create late.
	mem := rig.mems["A"]
	dk := connectors.DeliveryKey(keys[0], "A")
	mem.tickets[dk] = []connectors.Remote{{ID: "9", Number: "INC0000009"}}
	rig.clock.Add(8 * time.Minute)
	l, o = rig.step(t, co)
	if !l.Uncertain || o.State != queue.StateDelivered || o.RemoteNumber != "INC0000009" || mem.creates != 0 {
		t.Fatalf("after the timeout: uncertain=%v %+v, creates %d", l.Uncertain, o, mem.creates)
	}
	if l.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the wait spent none)", l.Attempts)
	}
}

// syncConnector is a memConnector that reads status back: the help desk
// side of each remote ticket, as an agent left it.
type syncConnector struct {
	*memConnector
	mu      sync.Mutex
	updates map[string]connectors.Update // by remote id
	calls   int
	since   []time.Time
}

func (s *syncConnector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.since = append(s.since, since)
	var out []connectors.Update
	for _, r := range remotes {
		u, ok := s.updates[r.ID]
		switch {
		case ok && !u.UpdatedAt.Before(since):
		case since.IsZero():
			// The contract: every ticket when since is zero. Nobody
			// touched this one: it is as the vendor created it.
			u = connectors.Update{Status: "1", UpdatedAt: time.Now().Add(-24 * time.Hour)}
		default:
			continue
		}
		u.Remote = r
		out = append(out, u)
	}
	return out, nil
}

// A sync cycle maps each changed ticket's vendor status to a local state,
// keeps what the help desk said sealed, reports the notable changes once,
// and stops asking about a ticket the help desk closed.
func TestSyncRecordsStatus(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	rig.cfg.Connections[0].Mappings = map[string]map[string]string{"status": {"6": connectors.StateResolved, "7": connectors.StateClosed}}
	rig.report(t, 3)
	sc := &syncConnector{memConnector: rig.mems["A"], updates: map[string]connectors.Update{}}
	co := rig.courier(t, CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000},
		Build: func(connectors.Connection) (connectors.Connector, error) { return sc, nil }})
	ctx := context.Background()
	if err := co.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	open, _ := rig.store.Remotes(ctx, "A", true)
	if len(open) != 3 {
		t.Fatalf("%d delivered tickets", len(open))
	}
	now := time.Now()
	sc.updates[open[0].RemoteID] = connectors.Update{Status: "6", Assignee: "Agent Smith", UpdatedAt: now,
		Comments: []connectors.RemoteComment{{ID: "c1", Body: "Replaced the toner.\nAll good now.", CreatedAt: now}}}
	sc.updates[open[1].RemoteID] = connectors.Update{Status: "7", UpdatedAt: now} // closed
	reports, changes := co.Sync(ctx)
	if len(reports) != 1 || reports[0].Open != 3 || reports[0].Updated != 3 || reports[0].Error != "" || sc.calls != 1 {
		t.Fatalf("reports %+v, calls %d", reports, sc.calls)
	}
	if len(changes) != 3 || changes[0].After != connectors.StateResolved || !changes[0].Notable() || changes[0].Note != "Replaced the toner." ||
		changes[1].After != connectors.StateClosed || changes[1].Notable() || changes[2].After != connectors.StateBacklog || changes[2].Notable() {
		t.Errorf("changes %+v", changes)
	}
	all, _ := rig.store.Remotes(ctx, "A", false)
	d := ParseRemoteDetail(all[0].Detail)
	if all[0].Status != connectors.StateResolved || d.RemoteStatus != "6" || d.Assignee != "Agent Smith" || len(d.Comments) != 1 {
		t.Errorf("recorded %q %+v", all[0].Status, d)
	}
	// The next cycle: nothing new is no change and no notification; the
	// closed ticket is no longer asked about; the query is incremental.
	reports, changes = co.Sync(ctx)
	if len(changes) != 0 || reports[0].Open != 2 || reports[0].Updated != 0 {
		t.Errorf("second cycle: reports %+v, changes %+v", reports, changes)
	}
	if len(sc.since) != 2 || !sc.since[0].IsZero() || sc.since[1].IsZero() {
		t.Errorf("since per cycle: %v (first full, then incremental)", sc.since)
	}
}

// A connector that cannot read status back, or a misconfigured one, is
// skipped with the reason, not failed.
func TestSyncSkips(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	rig.report(t, 1)
	co := rig.courier(t, CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000}})
	if err := co.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	reports, _ := co.Sync(context.Background())
	if len(reports) != 1 || reports[0].Skipped == "" || reports[0].Error != "" {
		t.Errorf("reports %+v", reports)
	}
}

// A revoked sign-in (oauth2_user) makes the connection wait as
// signin_required: no probe, no attempt spent, red; once someone signs in
// again, a rebuild picks it up and the ticket goes out.
func TestRevokedSignInWaits(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	keys := rig.report(t, 1)
	var mu sync.Mutex
	signedIn := true
	probes := 0
	co := rig.courier(t, CourierOptions{RebuildEvery: time.Hour,
		Probe: func(context.Context, string) bool { probes++; return true },
		Build: func(c connectors.Connection) (connectors.Connector, error) {
			mu.Lock()
			defer mu.Unlock()
			if !signedIn {
				return nil, &connectors.Error{Op: "oauth2 token", Class: connectors.Offline, Err: connectors.ErrSignInRequired}
			}
			return rig.mems[c.Name], nil
		}})
	rig.mems["A"].fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Offline, Err: connectors.ErrSignInRequired}})
	mu.Lock()
	signedIn = false
	mu.Unlock()
	l, o := rig.step(t, co)
	if o.State != queue.Offline {
		t.Fatalf("outcome %+v", o)
	}
	if h := rig.health(t, "A"); h.State != SignInRequired || !Red(h.State) {
		t.Errorf("health %+v", h)
	}
	if paused, _ := co.paused("A"); !paused {
		t.Error("not paused while a sign-in is needed")
	}
	// Signed in again: the next rebuild delivers.
	mu.Lock()
	signedIn = true
	mu.Unlock()
	if retry := co.build(co.conns["A"], SignInRequired); retry {
		t.Fatal("still not built after the sign-in")
	}
	l2, o := rig.step(t, co)
	if o.State != queue.StateDelivered || l2.Attempts != l.Attempts || probes != 0 {
		t.Errorf("after sign-in: %+v, attempts %d then %d, probes %d", o, l.Attempts, l2.Attempts, probes)
	}
	if n := rig.mems["A"].count(keys[0], "A"); n != 1 {
		t.Errorf("%d records", n)
	}
}

// A status table changed after tickets were recorded applies to them at
// the next cycle, without waiting for the vendor to touch them; a ticket
// never read back is asked about whatever the cursor says.
func TestSyncRemapsAndCatchesUp(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	rig.cfg.Connections[0].Mappings = map[string]map[string]string{"status": {"Pending": connectors.StateInProgress}}
	rig.report(t, 2)
	sc := &syncConnector{memConnector: rig.mems["A"], updates: map[string]connectors.Update{}}
	build := func(connectors.Connection) (connectors.Connector, error) { return sc, nil }
	opts := CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000}, Build: build}
	co := rig.courier(t, opts)
	ctx := context.Background()
	if err := co.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	open, _ := rig.store.Remotes(ctx, "A", true)
	sc.updates[open[0].RemoteID] = connectors.Update{Status: "Pending", UpdatedAt: time.Now().Add(-time.Hour)}
	co.Sync(ctx) // Pending → in_progress; the other is backlog
	states := func() map[string]string {
		rs, _ := rig.store.Remotes(ctx, "A", false)
		out := map[string]string{}
		for _, r := range rs {
			out[r.RemoteID] = r.Status
		}
		return out
	}
	// IT maps Pending to waiting_on_you: a new courier with the new table.
	rig.cfg.Connections[0].Mappings["status"]["Pending"] = connectors.StateWaitingOnYou
	co2 := rig.courier(t, opts)
	_, changes := co2.Sync(ctx)
	got := states()
	if got[open[0].RemoteID] != connectors.StateWaitingOnYou || got[open[1].RemoteID] != connectors.StateBacklog || len(changes) != 1 || !changes[0].Notable() {
		t.Errorf("after the new table: states %v, changes %+v", got, changes)
	}
	if last := sc.since[len(sc.since)-1]; last.IsZero() {
		t.Error("with every ticket read back the query must stay incremental")
	}
	// A ticket delivered since has never been read back: the next cycle
	// asks about everything, whatever the cursor says.
	rig.report(t, 1)
	if err := co2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	co2.Sync(ctx)
	if last := sc.since[len(sc.since)-1]; !last.IsZero() {
		t.Errorf("a ticket never read back must widen the query to everything; since = %v", last)
	}
	if got := states(); len(got) != 3 || got[open[1].RemoteID] != connectors.StateBacklog {
		t.Errorf("states %v", got)
	}
}

// A connection that needs a sign-in in the middle of a drain leaves its
// deliveries waiting: the drain ends instead of running out its timeout.
func TestDrainEndsWhenAConnectionNeedsSignIn(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	rig.report(t, 3)
	co := rig.courier(t, CourierOptions{RebuildEvery: time.Hour, Concurrency: 1, Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000}})
	rig.mems["A"].fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Offline, Err: connectors.ErrSignInRequired}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := co.Drain(ctx); err != nil {
		t.Fatalf("drain: %v (it should end, not wait for its timeout)", err)
	}
	left, _ := rig.store.Left(context.Background())
	if left["A"] != 3 {
		t.Errorf("left %v, want the 3 deliveries waiting", left)
	}
	if _, ok := co.Misconfigured()["A"]; !ok {
		t.Error("the drain's summary does not name the connection")
	}
}
