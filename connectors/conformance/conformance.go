// Package conformance is the one behaviour suite every connector must
// pass against its vendor's fake: create, find by idempotency key, status,
// the vendor's error statuses, rate limiting, timeouts, a reset after the
// request was sent, and duplicate prevention (Run); and exactly-once
// creation when several connections share one vendor site (RunShared).
//
// The suite builds connectors as the app does (app/courier.go
// buildConnector): an HTTP client from connectors.NewHTTPClient and the
// connector from the registry, so the vendor package under test must be
// imported (registered) by the calling test. Tickets carry the delivery's
// key, connectors.DeliveryKey(ticket key, connection name), as the app's
// courier sets it.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/diagnostics"
)

// Target is one connection wired to a fresh fake.
type Target struct {
	// Connection points at the fake with valid credentials. It must pass
	// Connection.Validate (the suite checks).
	Connection connectors.Connection
	// Faults is the fake's fault injector.
	Faults *fake.Injector
	// CreatePath is the create endpoint's method and path prefix.
	CreateMethod, CreatePath string
	// Count is how many tickets on the fake carry the idempotency key.
	Count func(key string) int
	// Errors are vendor error bodies by status (from the vendor's docs or
	// captured responses), and the message the connector must extract.
	Errors map[int]VendorError
	// Violations, when set, lists the requests the fake found malformed
	// against the vendor's spec; the suite fails a subtest that caused any.
	Violations func() []string
}

// VendorError is a canned vendor error response.
type VendorError struct {
	Body    string
	Message string // a substring the connector's Error.Message must contain
}

// Build makes the connector for c as the app does: the connection's HTTP
// client (TLS policy, timeout, credentials), then the registered factory.
func Build(c connectors.Connection) (connectors.Connector, error) {
	co := connectors.ClientOptions{UserAgent: "Ticketray/conformance"}
	hc, err := connectors.NewHTTPClient(c, co)
	if err != nil {
		return nil, fmt.Errorf("build %s connection %q: %w", c.Type, c.Name, err)
	}
	cn, err := connectors.New(c, connectors.Deps{HTTP: hc, Credential: connectors.CredentialResolver(c, co)})
	if err != nil {
		return nil, fmt.Errorf("build %s connection %q: %w", c.Type, c.Name, err)
	}
	return cn, nil
}

// Ticket returns a valid ticket with a fresh idempotency key.
func Ticket() *connectors.Ticket {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &connectors.Ticket{
		Summary:        "VPN drops every hour",
		Description:    "Since Monday the VPN disconnects about once an hour.",
		Category:       "Network",
		Priority:       connectors.PriorityHigh,
		User:           connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"},
		SystemInfo:     &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", Architecture: "amd64", DeviceName: "lap-42", DeviceID: "dev-1"},
		SkillResults:   []diagnostics.SkillResult{{SkillID: "dns-flush", SkillName: "Flush DNS cache", Status: "success", Output: "flushed", ExecutionTimeMs: 120}},
		Context:        connectors.Context{AppVersion: "test", SessionID: "s", CorrelationID: "c"},
		CreatedAt:      now,
		IdempotencyKey: connectors.NewKey(),
	}
}

// Delivery is the copy of t the courier hands to connection c: the same
// ticket with the delivery's idempotency key.
func Delivery(t *connectors.Ticket, c connectors.Connection) *connectors.Ticket {
	d := *t
	d.IdempotencyKey = connectors.DeliveryKey(t.IdempotencyKey, c.Name)
	return &d
}

// suite runs the single-connection steps against fresh targets.
type suite struct {
	ctx       context.Context
	newTarget func(t *testing.T) Target
}

// Run runs the suite. newTarget must start a fresh fake for each call.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	s := &suite{ctx: context.Background(), newTarget: newTarget}
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"config is valid", s.validConfig},
		{"create", s.create},
		{"find", s.find},
		{"status", s.status},
		{"check", s.check},
		{"401", s.unauthorized},
		{http.StatusText(400), s.vendorError(400)},
		{http.StatusText(404), s.vendorError(404)},
		{"429 Retry-After", s.rateLimited},
		{http.StatusText(500), s.serverError(500)},
		{http.StatusText(502), s.serverError(502)},
		{http.StatusText(503), s.serverError(503)},
		{"timeout", s.timeout},
		{"reset after send, then no duplicate", s.resetAfterSend},
		{"offline", s.offline},
	}
	for _, st := range steps {
		t.Run(st.name, st.run)
	}
}

// setup starts a fresh target and builds its connector.
func (s *suite) setup(t *testing.T) (Target, connectors.Connector) {
	t.Helper()
	tg := s.newTarget(t)
	checkViolations(t, tg.Violations)
	return tg, MustBuild(t, tg.Connection)
}

func (s *suite) validConfig(t *testing.T) {
	tg := s.newTarget(t)
	if errs := tg.Connection.Validate(); len(errs) > 0 {
		t.Errorf("the target's connection fails validation: %v", errs)
	}
}

func (s *suite) create(t *testing.T) {
	tg, c := s.setup(t)
	tk := Delivery(Ticket(), tg.Connection)
	r, err := c.Create(s.ctx, tk)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if r.ID == "" || r.Number == "" || r.URL == "" {
		t.Errorf("Create returned %+v; want id, number and url", r)
	}
	if n := tg.Count(tk.IdempotencyKey); n != 1 {
		t.Errorf("fake holds %d tickets with the key, want 1", n)
	}
}

func (s *suite) find(t *testing.T) {
	tg, c := s.setup(t)
	tk := Delivery(Ticket(), tg.Connection)
	created, err := c.Create(s.ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.Find(s.ctx, tk.IdempotencyKey)
	if err != nil || found.ID != created.ID || found.Number != created.Number {
		t.Errorf("Find = %+v, %v; want %+v", found, err, created)
	}
	if _, err := c.Find(s.ctx, connectors.NewKey()); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("Find(unknown key) error = %v, want ErrNotFound", err)
	}
}

func (s *suite) status(t *testing.T) {
	tg, c := s.setup(t)
	r, err := c.Create(s.ctx, Delivery(Ticket(), tg.Connection))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(s.ctx, r)
	if err != nil || st.Status == "" || st.ID != r.ID {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if err := c.Comment(s.ctx, r, "Ticketray: the user added a note"); err != nil {
		t.Errorf("Comment: %v", err)
	}
	a := connectors.Attachment{Filename: "systeminfo.json", ContentType: "application/json", Data: []byte(`{"os":"debian"}`), SizeBytes: 15}
	if err := c.Attach(s.ctx, r, a); err != nil {
		t.Errorf("Attach: %v", err)
	}
}

func (s *suite) check(t *testing.T) {
	tg, c := s.setup(t)
	if err := c.Check(s.ctx); err != nil {
		t.Errorf("Check with valid credentials: %v", err)
	}
	bad := tg.Connection
	bad.Credentials = badCredentials(bad.Credentials)
	if err := MustBuild(t, bad).Check(s.ctx); connectors.ClassOf(err) != connectors.Permanent || status(err) != http.StatusUnauthorized {
		t.Errorf("Check with bad credentials = %v, want a permanent 401", err)
	}
}

func (s *suite) unauthorized(t *testing.T) {
	tg, _ := s.setup(t)
	bad := tg.Connection
	bad.Credentials = badCredentials(bad.Credentials)
	tk := Delivery(Ticket(), bad)
	_, err := MustBuild(t, bad).Create(s.ctx, tk)
	wantError(t, err, connectors.Permanent, http.StatusUnauthorized, tg.Errors[401].Message)
	if tg.Count(tk.IdempotencyKey) != 0 {
		t.Error("a ticket was created with bad credentials")
	}
}

func (s *suite) vendorError(code int) func(*testing.T) {
	return func(t *testing.T) {
		tg, c := s.setup(t)
		ve, ok := tg.Errors[code]
		if !ok {
			t.Fatalf("target has no vendor body for %d", code)
		}
		tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Respond, Code: code, Body: ve.Body})
		_, err := c.Create(s.ctx, Delivery(Ticket(), tg.Connection))
		wantError(t, err, connectors.Permanent, code, ve.Message)
	}
}

func (s *suite) rateLimited(t *testing.T) {
	tg, c := s.setup(t)
	body := tg.Errors[429].Body
	tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Respond, Code: 429, Header: http.Header{"Retry-After": {"7"}}, Body: body})
	_, err := c.Create(s.ctx, Delivery(Ticket(), tg.Connection))
	wantError(t, err, connectors.Retryable, 429, "")
	var e *connectors.Error
	if errors.As(err, &e) && e.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter = %v, want 7s", e.RetryAfter)
	}
}

func (s *suite) serverError(code int) func(*testing.T) {
	return func(t *testing.T) {
		tg, c := s.setup(t)
		tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Respond, Code: code, Body: tg.Errors[500].Body})
		_, err := c.Create(s.ctx, Delivery(Ticket(), tg.Connection))
		wantError(t, err, connectors.Retryable, code, "")
	}
}

func (s *suite) timeout(t *testing.T) {
	tg, _ := s.setup(t)
	conn := tg.Connection
	conn.TimeoutMs = 300
	c := MustBuild(t, conn)
	tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Hang})
	_, err := c.Create(s.ctx, Delivery(Ticket(), conn))
	wantError(t, err, connectors.Retryable, 0, "")
	if !sent(err) {
		t.Errorf("a timeout must mark the outcome unknown (Sent): %v", err)
	}
}

func (s *suite) resetAfterSend(t *testing.T) {
	tg, c := s.setup(t)
	tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.ResetAfter})
	tk := Delivery(Ticket(), tg.Connection)
	_, err := c.Create(s.ctx, tk)
	wantError(t, err, connectors.Retryable, 0, "")
	if !sent(err) {
		t.Errorf("a reset must mark the outcome unknown (Sent): %v", err)
	}
	// The vendor did create it. A careful retry finds it instead of
	// creating a second one.
	if n := tg.Count(tk.IdempotencyKey); n != 1 {
		t.Fatalf("fake holds %d tickets after the reset, want 1", n)
	}
	r, err := retry(s.ctx, c, tk)
	if err != nil || r.ID == "" {
		t.Fatalf("retry after reset = %+v, %v", r, err)
	}
	if n := tg.Count(tk.IdempotencyKey); n != 1 {
		t.Errorf("fake holds %d tickets, want exactly 1", n)
	}
}

func (s *suite) offline(t *testing.T) {
	tg, _ := s.setup(t)
	addr, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	conn := tg.Connection
	conn.BaseURL = "http://" + addr
	_, err = MustBuild(t, conn).Create(s.ctx, Delivery(Ticket(), conn))
	if connectors.ClassOf(err) != connectors.Offline {
		t.Errorf("Create to a closed port = %v, want offline", err)
	}
}

// retry is the courier's next attempt after an unknown outcome: find by
// the delivery's key first, create only if nothing carries it.
func retry(ctx context.Context, c connectors.Connector, tk *connectors.Ticket) (connectors.Remote, error) {
	r, err := c.Find(ctx, tk.IdempotencyKey)
	if errors.Is(err, connectors.ErrNotFound) {
		return c.Create(ctx, tk)
	}
	return r, err
}

// MustBuild is Build for a test: it fails the test on an error.
func MustBuild(t testing.TB, c connectors.Connection) connectors.Connector {
	t.Helper()
	cn, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	return cn
}

// MustCreate creates tk through c, failing the test on an error.
func MustCreate(t testing.TB, c connectors.Connector, tk *connectors.Ticket) connectors.Remote {
	t.Helper()
	r, err := c.Create(context.Background(), tk)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return r
}

func checkViolations(t *testing.T, violations func() []string) {
	if violations == nil {
		return
	}
	t.Cleanup(func() {
		if v := violations(); len(v) > 0 {
			t.Errorf("the fake found %d requests that break the vendor spec: %v", len(v), v)
		}
	})
}

func badCredentials(c connectors.Credentials) connectors.Credentials {
	c.Password, c.APIToken, c.Token, c.ClientSecret = "wrong-secret", "wrong-secret", "wrong-secret", "wrong-secret"
	return c
}

func status(err error) int {
	var e *connectors.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func sent(err error) bool {
	var e *connectors.Error
	return errors.As(err, &e) && e.Sent
}

func wantError(t *testing.T, err error, class connectors.Class, code int, msg string) {
	t.Helper()
	var e *connectors.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *connectors.Error", err, err)
	}
	if e.Class != class {
		t.Errorf("class = %v, want %v (%v)", e.Class, class, err)
	}
	if code != 0 && e.Status != code {
		t.Errorf("status = %d, want %d (%v)", e.Status, code, err)
	}
	if msg != "" && !strings.Contains(e.Message, msg) {
		t.Errorf("vendor message = %q, want it to contain %q", e.Message, msg)
	}
}
