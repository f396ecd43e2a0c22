// Package conformance is the one behaviour suite every connector must
// pass against its vendor's fake: create, find by idempotency key, status,
// the vendor's error statuses, rate limiting, timeouts, a reset after the
// request was sent, and duplicate prevention.
package conformance

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/diagnostics"
)

// Target is one connector wired to a fresh fake.
type Target struct {
	// New builds the connector for a connection (the suite changes the
	// credentials or the timeout to provoke failures).
	New func(c connectors.Connection) (connectors.Connector, error)
	// Connection points at the fake with valid credentials.
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

// Run runs the suite. newTarget must start a fresh fake for each call.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	ctx := context.Background()
	setup := func(t *testing.T) (Target, connectors.Connector) {
		t.Helper()
		tg := newTarget(t)
		if tg.Violations != nil {
			t.Cleanup(func() {
				if v := tg.Violations(); len(v) > 0 {
					t.Errorf("the fake found %d requests that break the vendor spec: %v", len(v), v)
				}
			})
		}
		c, err := tg.New(tg.Connection)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return tg, c
	}

	t.Run("create", func(t *testing.T) {
		tg, c := setup(t)
		tk := Ticket()
		r, err := c.Create(ctx, tk)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if r.ID == "" || r.Number == "" || r.URL == "" {
			t.Errorf("Create returned %+v; want id, number and url", r)
		}
		if n := tg.Count(tk.IdempotencyKey); n != 1 {
			t.Errorf("fake holds %d tickets with the key, want 1", n)
		}
	})

	t.Run("find", func(t *testing.T) {
		_, c := setup(t)
		tk := Ticket()
		created, err := c.Create(ctx, tk)
		if err != nil {
			t.Fatal(err)
		}
		found, err := c.Find(ctx, tk.IdempotencyKey)
		if err != nil || found.ID != created.ID || found.Number != created.Number {
			t.Errorf("Find = %+v, %v; want %+v", found, err, created)
		}
		if _, err := c.Find(ctx, connectors.NewKey()); !errors.Is(err, connectors.ErrNotFound) {
			t.Errorf("Find(unknown key) error = %v, want ErrNotFound", err)
		}
	})

	t.Run("status", func(t *testing.T) {
		_, c := setup(t)
		r, err := c.Create(ctx, Ticket())
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.Status(ctx, r)
		if err != nil || st.Status == "" || st.ID != r.ID {
			t.Errorf("Status = %+v, %v", st, err)
		}
		if err := c.Comment(ctx, r, "Ticketray: the user added a note"); err != nil {
			t.Errorf("Comment: %v", err)
		}
		a := connectors.Attachment{Filename: "systeminfo.json", ContentType: "application/json", Data: []byte(`{"os":"debian"}`), SizeBytes: 15}
		if err := c.Attach(ctx, r, a); err != nil {
			t.Errorf("Attach: %v", err)
		}
	})

	t.Run("check", func(t *testing.T) {
		tg, c := setup(t)
		if err := c.Check(ctx); err != nil {
			t.Errorf("Check with valid credentials: %v", err)
		}
		bad := tg.Connection
		bad.Credentials = badCredentials(bad.Credentials)
		cb, err := tg.New(bad)
		if err != nil {
			t.Fatal(err)
		}
		if err := cb.Check(ctx); connectors.ClassOf(err) != connectors.Permanent || status(err) != http.StatusUnauthorized {
			t.Errorf("Check with bad credentials = %v, want a permanent 401", err)
		}
	})

	t.Run("401", func(t *testing.T) {
		tg, _ := setup(t)
		bad := tg.Connection
		bad.Credentials = badCredentials(bad.Credentials)
		c, err := tg.New(bad)
		if err != nil {
			t.Fatal(err)
		}
		tk := Ticket()
		_, err = c.Create(ctx, tk)
		wantError(t, err, connectors.Permanent, http.StatusUnauthorized, tg.Errors[401].Message)
		if tg.Count(tk.IdempotencyKey) != 0 {
			t.Error("a ticket was created with bad credentials")
		}
	})

	for _, code := range []int{400, 404} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			tg, c := setup(t)
			ve, ok := tg.Errors[code]
			if !ok {
				t.Fatalf("target has no vendor body for %d", code)
			}
			tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Respond, Code: code, Body: ve.Body})
			_, err := c.Create(ctx, Ticket())
			wantError(t, err, connectors.Permanent, code, ve.Message)
		})
	}

	t.Run("429 Retry-After", func(t *testing.T) {
		tg, c := setup(t)
		body := tg.Errors[429].Body
		tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Respond, Code: 429, Header: http.Header{"Retry-After": {"7"}}, Body: body})
		_, err := c.Create(ctx, Ticket())
		wantError(t, err, connectors.Retryable, 429, "")
		var e *connectors.Error
		if errors.As(err, &e) && e.RetryAfter != 7*time.Second {
			t.Errorf("RetryAfter = %v, want 7s", e.RetryAfter)
		}
	})

	for _, code := range []int{500, 502, 503} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			tg, c := setup(t)
			tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Respond, Code: code, Body: tg.Errors[500].Body})
			_, err := c.Create(ctx, Ticket())
			wantError(t, err, connectors.Retryable, code, "")
		})
	}

	t.Run("timeout", func(t *testing.T) {
		tg, _ := setup(t)
		conn := tg.Connection
		conn.TimeoutMs = 300
		c, err := tg.New(conn)
		if err != nil {
			t.Fatal(err)
		}
		tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.Hang})
		_, err = c.Create(ctx, Ticket())
		wantError(t, err, connectors.Retryable, 0, "")
		if !sent(err) {
			t.Errorf("a timeout must mark the outcome unknown (Sent): %v", err)
		}
	})

	t.Run("reset after send, then no duplicate", func(t *testing.T) {
		tg, c := setup(t)
		tg.Faults.Add(tg.CreateMethod, tg.CreatePath, fake.Fault{Kind: fake.ResetAfter})
		tk := Ticket()
		_, err := c.Create(ctx, tk)
		wantError(t, err, connectors.Retryable, 0, "")
		if !sent(err) {
			t.Errorf("a reset must mark the outcome unknown (Sent): %v", err)
		}
		// The vendor did create it. A careful retry finds it instead of
		// creating a second one.
		if n := tg.Count(tk.IdempotencyKey); n != 1 {
			t.Fatalf("fake holds %d tickets after the reset, want 1", n)
		}
		r, err := c.Find(ctx, tk.IdempotencyKey)
		if err != nil || r.ID == "" {
			t.Fatalf("Find after reset = %+v, %v", r, err)
		}
		if n := tg.Count(tk.IdempotencyKey); n != 1 {
			t.Errorf("fake holds %d tickets, want exactly 1", n)
		}
	})

	t.Run("offline", func(t *testing.T) {
		tg, _ := setup(t)
		addr, err := fake.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		conn := tg.Connection
		conn.BaseURL = "http://" + addr
		c, err := tg.New(conn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Create(ctx, Ticket())
		if connectors.ClassOf(err) != connectors.Offline {
			t.Errorf("Create to a closed port = %v, want offline", err)
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
