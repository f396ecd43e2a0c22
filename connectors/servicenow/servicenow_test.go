package servicenow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/servicenow"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

const userAgent = "Ticketray/test"

// Error bodies in ServiceNow's format. 401 and 404 are the instance's own
// texts; 400 is what an unknown table gets (detail null); 429 is the
// documented rate-limit body; 500 uses the status table's wording.
var vendorErrors = map[int]conformance.VendorError{
	400: {
		Body:    `{"error":{"message":"Invalid table incidentx","detail":null},"status":"failure"}`,
		Message: "Invalid table incidentx",
	},
	401: {
		Body:    `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`,
		Message: "User Not Authenticated: Required to provide Auth information",
	},
	404: {
		Body:    `{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}`,
		Message: "No Record found: Record doesn't exist or ACL restricts the record retrieval",
	},
	429: {
		Body:    mustRead("testdata/ratelimit-429-error-body.json"),
		Message: "Rate limit exceeded: Rate limit of 100 requests per hour for Table API exceeded",
	},
	500: {
		Body:    `{"error":{"message":"Internal server error","detail":"An unexpected error occurred while processing the request"},"status":"failure"}`,
		Message: "Internal server error: An unexpected error occurred while processing the request",
	},
}

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Target { return target(startFake(t)) })
}

// target is the conformance suites' view of a fake.
func target(f *snfake.Fake) conformance.Target {
	return conformance.Target{
		Connection:   connection(f.URL()),
		Faults:       f.Faults,
		CreateMethod: http.MethodPost,
		CreatePath:   "/api/now/table/incident",
		Count:        f.Count,
		Errors:       vendorErrors,
	}
}

// TestSharedSite: two connections to one instance's incident table, told
// apart by their assignment groups (one named, one a sys_id).
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t)
		desk := connection(f.URL())
		desk.Name = "Service desk"
		desk.Options = map[string]json.RawMessage{"assignmentGroup": rawOption(snfake.ServiceDeskName)}
		network := connection(f.URL())
		network.Name = "Network team"
		network.Options = map[string]json.RawMessage{"assignmentGroup": rawOption(snfake.NetworkGroupSysID)}
		return conformance.Site{
			Connections: []conformance.Placed{
				{Connection: desk, Where: snfake.ServiceDeskSysID, CreateMethod: http.MethodPost, CreatePath: "/api/now/table/incident"},
				{Connection: network, Where: snfake.NetworkGroupSysID, CreateMethod: http.MethodPost, CreatePath: "/api/now/table/incident"},
			},
			Faults: f.Faults,
			Places: f.GroupsOf,
		}
	})
}

// TestVendorErrorMessages checks the message extracted from each canned
// body, which the conformance suite only checks for 400, 401 and 404.
func TestVendorErrorMessages(t *testing.T) {
	for code, ve := range vendorErrors {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := startFake(t)
			c := newConnector(t, connection(f.URL()))
			f.Faults.Add(http.MethodPost, "/api/now/table/incident", fake.Fault{Kind: fake.Respond, Code: code, Body: ve.Body})
			_, err := c.Create(context.Background(), conformance.Ticket())
			var e *connectors.Error
			if !errors.As(err, &e) || e.Status != code || e.Message != ve.Message {
				t.Fatalf("Create error = %#v, want status %d and message %q", err, code, ve.Message)
			}
			if want := connectors.StatusClass(code); e.Class != want {
				t.Errorf("class = %v, want %v", e.Class, want)
			}
		})
	}
}

func startFake(t *testing.T, opts ...snfake.Option) *snfake.Fake {
	return fake.Closing(t, snfake.Start(opts...))
}

func connection(url string) connectors.Connection {
	return connectors.Connection{
		Name:        "ServiceNow test",
		Type:        "servicenow",
		BaseURL:     url,
		Credentials: connectors.Credentials{Type: "basic", Username: snfake.Username, Password: snfake.Password},
	}
}

// build goes through connectors.NewHTTPClient, the real authentication
// path.
func build(c connectors.Connection) (connectors.Connector, error) {
	hc, err := connectors.NewHTTPClient(c, connectors.ClientOptions{UserAgent: userAgent})
	if err != nil {
		return nil, err
	}
	return servicenow.New(c, connectors.Deps{HTTP: hc})
}

func newConnector(t *testing.T, c connectors.Connection) connectors.Connector {
	t.Helper()
	conn, err := build(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return conn
}

func rawOption(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// lastCreateBody is the JSON body of the last incident POST the fake saw.
func lastCreateBody(t *testing.T, f *snfake.Fake) map[string]any {
	t.Helper()
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == http.MethodPost && reqs[i].Path == "/api/now/table/incident" {
			var m map[string]any
			if err := json.Unmarshal(reqs[i].Body, &m); err != nil {
				t.Fatalf("create body: %v", err)
			}
			return m
		}
	}
	t.Fatal("no incident POST was sent")
	return nil
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(connectors.Registered(), "servicenow") {
		t.Fatalf("Registered() = %v, want servicenow", connectors.Registered())
	}
	f := startFake(t)
	conn := connection(f.URL())
	hc, err := connectors.NewHTTPClient(conn, connectors.ClientOptions{UserAgent: userAgent})
	if err != nil {
		t.Fatal(err)
	}
	c, err := connectors.New(conn, connectors.Deps{HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*servicenow.Connector); !ok {
		t.Errorf("connectors.New built %T", c)
	}
	if _, err := servicenow.New(conn, connectors.Deps{}); err == nil {
		t.Error("New without an HTTP client succeeded")
	}
}

func TestCreateMapping(t *testing.T) {
	urgent := connectors.Priority("urgent") // not a priority: takes the default row
	tests := []struct {
		name     string
		conn     func(*connectors.Connection)
		ticket   func(*connectors.Ticket)
		want     map[string]string // fields of the stored incident
		notSent  []string          // fields the create body must not carry
		noLookup bool              // no sys_user lookup may be sent
	}{
		{name: "critical", ticket: prio(connectors.PriorityCritical),
			want: map[string]string{"urgency": "1", "impact": "1", "priority": "1"}},
		{name: "high", ticket: prio(connectors.PriorityHigh),
			want: map[string]string{"urgency": "1", "impact": "2", "priority": "2"}},
		{name: "medium", ticket: prio(connectors.PriorityMedium),
			want: map[string]string{"urgency": "2", "impact": "2", "priority": "3"}},
		{name: "low", ticket: prio(connectors.PriorityLow),
			want: map[string]string{"urgency": "2", "impact": "3", "priority": "4"}},
		{name: "override with a single value", ticket: prio(connectors.PriorityHigh),
			conn: mappings("priority", map[string]string{"high": "1"}),
			want: map[string]string{"urgency": "1", "impact": "1", "priority": "1"}},
		{name: "override with a pair", ticket: prio(connectors.PriorityLow),
			conn: mappings("priority", map[string]string{"LOW": "3, 3"}),
			want: map[string]string{"urgency": "3", "impact": "3", "priority": "5"}},
		{name: "override leaves other rows", ticket: prio(connectors.PriorityMedium),
			conn: mappings("priority", map[string]string{"high": "1"}),
			want: map[string]string{"urgency": "2", "impact": "2"}},
		{name: "default row from mappings", ticket: prio(urgent),
			conn: mappings("priority", map[string]string{"default": "3"}),
			want: map[string]string{"urgency": "3", "impact": "3", "priority": "5"}},
		{name: "default row from defaultPriority", ticket: prio(urgent),
			conn: func(c *connectors.Connection) { c.DefaultPriority = "critical" },
			want: map[string]string{"urgency": "1", "impact": "1"}},
		{name: "default row is medium when nothing is set", ticket: prio(urgent),
			want: map[string]string{"urgency": "2", "impact": "2"}},
		{name: "category passes through", ticket: func(t *connectors.Ticket) { t.Category = "Network" },
			want: map[string]string{"category": "Network"}},
		{name: "category mapped", ticket: func(t *connectors.Ticket) { t.Category = "Network" },
			conn: mappings("category", map[string]string{"network": "network", "default": "inquiry"}),
			want: map[string]string{"category": "network"}},
		{name: "unmapped category takes the default row", ticket: func(t *connectors.Ticket) { t.Category = "Printer" },
			conn: mappings("category", map[string]string{"network": "network", "default": "hardware"}),
			want: map[string]string{"category": "hardware"}},
		{name: "no category takes defaultCategory", ticket: func(t *connectors.Ticket) { t.Category = "" },
			conn: func(c *connectors.Connection) { c.DefaultCategory = "software" },
			want: map[string]string{"category": "software"}},
		{name: "no category at all is omitted", ticket: func(t *connectors.Ticket) { t.Category = "" },
			want: map[string]string{"category": "inquiry"}, notSent: []string{"category"}},
		{name: "caller from email", want: map[string]string{"caller_id": snfake.AliceSysID}},
		{name: "unknown email: no caller", ticket: func(t *connectors.Ticket) { t.User.Email = "nobody@example.com" },
			want: map[string]string{"caller_id": ""}, notSent: []string{"caller_id"}},
		{name: "no email: no lookup", ticket: func(t *connectors.Ticket) { t.User.Email = "" },
			want: map[string]string{"caller_id": ""}, notSent: []string{"caller_id"}, noLookup: true},
		{name: "assignment group by sys_id", conn: option("assignmentGroup", snfake.ServiceDeskSysID),
			want: map[string]string{"assignment_group": snfake.ServiceDeskSysID}},
		{name: "assignment group by name", conn: option("assignmentGroup", snfake.NetworkGroupName),
			want: map[string]string{"assignment_group": snfake.NetworkGroupSysID}},
		{name: "unknown assignment group is omitted", conn: option("assignmentGroup", "No Such Group"),
			want: map[string]string{"assignment_group": ""}, notSent: []string{"assignment_group"}},
		{name: "no assignment group", want: map[string]string{"assignment_group": ""}, notSent: []string{"assignment_group"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			if tt.conn != nil {
				tt.conn(&conn)
			}
			tk := conformance.Ticket()
			if tt.ticket != nil {
				tt.ticket(tk)
			}
			r := conformance.MustCreate(t, newConnector(t, conn), tk)
			inc := f.Incident(r.ID)
			if inc == nil {
				t.Fatalf("the fake has no incident %s", r.ID)
			}
			for k, want := range tt.want {
				if inc[k] != want {
					t.Errorf("%s = %q, want %q", k, inc[k], want)
				}
			}
			body := lastCreateBody(t, f)
			for _, k := range tt.notSent {
				if _, ok := body[k]; ok {
					t.Errorf("the create body carries %s = %v; want it omitted", k, body[k])
				}
			}
			if _, ok := body["priority"]; ok {
				t.Error("the create body sets priority; the instance computes it from urgency and impact")
			}
			if n := f.RequestCount(http.MethodGet, "/api/now/table/sys_user"); tt.noLookup && n != 0 {
				t.Errorf("sys_user lookups = %d, want none", n)
			}
		})
	}
}

func prio(p connectors.Priority) func(*connectors.Ticket) {
	return func(t *connectors.Ticket) { t.Priority = p }
}

func mappings(kind string, rows map[string]string) func(*connectors.Connection) {
	return func(c *connectors.Connection) { c.Mappings = map[string]map[string]string{kind: rows} }
}

func option(name, value string) func(*connectors.Connection) {
	return func(c *connectors.Connection) { c.Options = map[string]json.RawMessage{name: rawOption(value)} }
}

func TestCreateFields(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	tk := conformance.Ticket()
	r := conformance.MustCreate(t, c, tk)

	if r.Number != "INC0010001" {
		t.Errorf("Number = %q, want INC0010001", r.Number)
	}
	if want := f.URL() + "/nav_to.do?uri=incident.do?sys_id=" + r.ID; r.URL != want {
		t.Errorf("URL = %q, want %q", r.URL, want)
	}
	inc := f.Incident(r.ID)
	for k, want := range map[string]string{
		"short_description":   tk.Summary,
		"correlation_id":      tk.IdempotencyKey,
		"correlation_display": "Ticketray",
		"state":               "1",
		"opened_by":           snfake.IntegrationUserSysID,
	} {
		if inc[k] != want {
			t.Errorf("%s = %q, want %q", k, inc[k], want)
		}
	}
	desc := inc["description"]
	if !strings.HasPrefix(desc, tk.Description+"\n\n") {
		t.Errorf("description does not start with the user's text:\n%s", desc)
	}
	for _, want := range []string{
		"System information", "OS: debian 12", "Architecture: amd64", "Device: lap-42 (ID dev-1)",
		"Flush DNS cache", "Status: success", "Time: 120 ms", "Output:", "flushed",
		"Alice Example <alice@example.com>", "App version: test",
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("description lacks %q:\n%s", want, desc)
		}
	}
}

func TestCallerLookupIsCached(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	for range 2 {
		tk := conformance.Ticket()
		tk.User.Email = snfake.BobEmail
		r := conformance.MustCreate(t, c, tk)
		if got := f.Incident(r.ID)["caller_id"]; got != snfake.BobSysID {
			t.Errorf("caller_id = %q, want Bob %s", got, snfake.BobSysID)
		}
	}
	// Unknown users are remembered too.
	for range 2 {
		tk := conformance.Ticket()
		tk.User.Email = "nobody@example.com"
		conformance.MustCreate(t, c, tk)
	}
	if n := f.RequestCount(http.MethodGet, "/api/now/table/sys_user"); n != 2 {
		t.Errorf("sys_user lookups = %d, want 2 (one per email)", n)
	}
	for _, r := range f.Requests() {
		if r.Path == "/api/now/table/sys_user" {
			if q := r.Query.Get("sysparm_query"); q != "email="+snfake.BobEmail && q != "email=nobody@example.com" {
				t.Errorf("sys_user query = %q", q)
			}
			if r.Query.Get("sysparm_limit") != "1" {
				t.Errorf("sys_user lookup without sysparm_limit=1: %v", r.Query)
			}
		}
	}
}

func TestLookupFailures(t *testing.T) {
	forbidden := `{"error":{"message":"Operation Failed","detail":"ACL Exception Read Failed due to security constraints"},"status":"failure"}`
	t.Run("refused read: create without caller, once", func(t *testing.T) {
		f := startFake(t)
		c := newConnector(t, connection(f.URL()))
		f.Faults.Add(http.MethodGet, "/api/now/table/sys_user", fake.Fault{Kind: fake.Respond, Code: 403, Body: forbidden})
		for range 2 {
			r := conformance.MustCreate(t, c, conformance.Ticket())
			if got := f.Incident(r.ID)["caller_id"]; got != "" {
				t.Errorf("caller_id = %q, want none", got)
			}
		}
		if hits := len(f.Faults.Hits()); hits != 1 {
			t.Errorf("lookups answered 403: %d, want 1 (the result is cached)", hits)
		}
	})
	t.Run("server error: create fails before sending", func(t *testing.T) {
		f := startFake(t)
		c := newConnector(t, connection(f.URL()))
		f.Faults.Add(http.MethodGet, "/api/now/table/sys_user", fake.Fault{Kind: fake.Respond, Code: 503, Body: vendorErrors[500].Body})
		tk := conformance.Ticket()
		_, err := c.Create(context.Background(), tk)
		var e *connectors.Error
		if !errors.As(err, &e) || e.Class != connectors.Retryable || e.Status != 503 || e.Sent || e.Op != "create" {
			t.Fatalf("Create = %#v, want a retryable 503 that was not sent", err)
		}
		if n := f.Count(tk.IdempotencyKey); n != 0 {
			t.Errorf("%d incidents created", n)
		}
		// Nothing was cached: the next attempt looks up and creates.
		r := conformance.MustCreate(t, c, tk)
		if got := f.Incident(r.ID)["caller_id"]; got != snfake.AliceSysID {
			t.Errorf("caller_id = %q, want Alice", got)
		}
	})
}

func TestAttachmentsUploaded(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	tk := conformance.Ticket()
	png := []byte("\x89PNG\r\n\x1a\nfake")
	tk.Attachments = []connectors.Attachment{{Filename: "screen shot.png", ContentType: "image/png", SizeBytes: int64(len(png)), Data: png}}
	r := conformance.MustCreate(t, c, tk)

	got := f.Attachments()
	if len(got) != 2 {
		t.Fatalf("uploaded %d attachments, want 2: %+v", len(got), got)
	}
	si := got[0]
	if si.FileName != "systeminfo.json" || si.ContentType != "application/json" || si.TableName != "incident" || si.TableSysID != r.ID {
		t.Errorf("system info attachment = %+v", si)
	}
	var decoded map[string]any
	if err := json.Unmarshal(si.Data, &decoded); err != nil || decoded["deviceName"] != "lap-42" || decoded["osName"] != "debian" {
		t.Errorf("systeminfo.json = %s (%v)", si.Data, err)
	}
	shot := got[1]
	if shot.FileName != "screen shot.png" || shot.ContentType != "image/png" || !bytes.Equal(shot.Data, png) || shot.TableSysID != r.ID {
		t.Errorf("user attachment = %+v", shot)
	}
}

func TestNoSystemInfoNoAttachment(t *testing.T) {
	f := startFake(t)
	tk := conformance.Ticket()
	tk.SystemInfo = nil
	conformance.MustCreate(t, newConnector(t, connection(f.URL())), tk)
	if n := len(f.Attachments()); n != 0 {
		t.Errorf("uploaded %d attachments for a ticket without system info", n)
	}
}

func TestAttachmentFailureDoesNotFailCreate(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	f.Faults.Always(http.MethodPost, "/api/now/attachment/file", fake.Fault{Kind: fake.Respond, Code: 500, Body: vendorErrors[500].Body})
	tk := conformance.Ticket()
	r, err := c.Create(context.Background(), tk)
	if err != nil || r.ID == "" {
		t.Fatalf("Create = %+v, %v; want the incident despite the failed upload", r, err)
	}
	if n := f.Count(tk.IdempotencyKey); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	if n := len(f.Faults.Hits()); n != 1 {
		t.Errorf("upload attempts = %d, want 1", n)
	}
}

func TestRateLimitResetHeader(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	// As a denied request without Retry-After: only the rule's reset time.
	reset := time.Now().Add(2 * time.Minute).Unix()
	f.Faults.Add(http.MethodPost, "/api/now/table/incident", fake.Fault{Kind: fake.Respond, Code: 429,
		Header: http.Header{
			"X-Ratelimit-Limit": {"100"},
			"X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)},
			"X-Ratelimit-Rule":  {snfake.RateLimitRuleSysID},
		},
		Body: vendorErrors[429].Body})
	_, err := c.Create(context.Background(), conformance.Ticket())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Retryable || e.Status != 429 {
		t.Fatalf("Create = %v, want a retryable 429", err)
	}
	if e.RetryAfter <= 100*time.Second || e.RetryAfter > 120*time.Second {
		t.Errorf("RetryAfter = %v, want the time until X-RateLimit-Reset (about 2m)", e.RetryAfter)
	}
	if e.Message != vendorErrors[429].Message {
		t.Errorf("Message = %q", e.Message)
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	// Two Table API requests an hour; the clock is one minute before the
	// window resets.
	now := time.Date(2026, 3, 2, 10, 59, 0, 0, time.UTC)
	f := startFake(t, snfake.WithRateLimit(2), snfake.WithClock(func() time.Time { return now }))
	c := newConnector(t, connection(f.URL()))
	conformance.MustCreate(t, c, conformance.Ticket()) // the user lookup and the POST
	err := c.Check(context.Background())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != 429 || e.Class != connectors.Retryable {
		t.Fatalf("Check over the limit = %v, want a retryable 429", err)
	}
	if e.RetryAfter != time.Minute {
		t.Errorf("RetryAfter = %v, want 1m (Retry-After: 60)", e.RetryAfter)
	}
	if !strings.Contains(e.Message, "Rate limit of 2 requests per hour") {
		t.Errorf("Message = %q", e.Message)
	}
}

// TestRateLimitHeadersOnOtherErrors: an instance with a rate limit rule
// sends X-RateLimit-Reset on every response; only a 429 means "wait for
// the reset".
func TestRateLimitHeadersOnOtherErrors(t *testing.T) {
	reset := strconv.FormatInt(time.Now().Add(45*time.Minute).Unix(), 10)
	rateHeaders := http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Reset": {reset}, "X-Ratelimit-Rule": {snfake.RateLimitRuleSysID}}
	tests := []struct {
		code      int
		header    http.Header
		wantAfter time.Duration
	}{
		{500, rateHeaders, 0},
		{503, rateHeaders, 0},
		{503, http.Header{"Retry-After": {"30"}, "X-Ratelimit-Reset": {reset}}, 30 * time.Second},
		{404, rateHeaders, 0},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			f := startFake(t)
			c := newConnector(t, connection(f.URL()))
			f.Faults.Add(http.MethodPost, "/api/now/table/incident", fake.Fault{Kind: fake.Respond, Code: tt.code, Header: tt.header, Body: vendorErrors[500].Body})
			_, err := c.Create(context.Background(), conformance.Ticket())
			var e *connectors.Error
			if !errors.As(err, &e) || e.Status != tt.code {
				t.Fatalf("Create = %v", err)
			}
			if e.RetryAfter != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.wantAfter)
			}
		})
	}
	// The fake's own rate limiter puts the headers on a 404 too.
	f := startFake(t, snfake.WithRateLimit(100))
	c := newConnector(t, connection(f.URL()))
	_, err := c.Status(context.Background(), connectors.Remote{ID: strings.Repeat("0", 32)})
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != 404 || e.RetryAfter != 0 {
		t.Errorf("Status(missing) under a rate limit rule = %#v", err)
	}
}

func TestStatusAndComment(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	ctx := context.Background()
	r := conformance.MustCreate(t, c, conformance.Ticket())

	st, err := c.Status(ctx, r)
	if err != nil || st.Status != "1" || st.ID != r.ID || st.Number != r.Number || st.URL != r.URL || st.UpdatedAt.IsZero() {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	f.Update(r.ID, map[string]string{"state": "6"})
	if st, err := c.Status(ctx, r); err != nil || st.Status != "6" {
		t.Errorf("Status after resolving = %+v, %v; want 6", st, err)
	}

	if err := c.Comment(ctx, r, "The user says it happens on Wi-Fi only"); err != nil {
		t.Fatalf("Comment: %v", err)
	}
	if notes := f.WorkNotes(r.ID); !slices.Equal(notes, []string{"The user says it happens on Wi-Fi only"}) {
		t.Errorf("work notes = %q", notes)
	}

	gone := connectors.Remote{ID: strings.Repeat("0", 32)}
	_, err = c.Status(ctx, gone)
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Class != connectors.Permanent || e.Message != vendorErrors[404].Message {
		t.Errorf("Status(missing) = %v, want a permanent 404 with the vendor message", err)
	}
	if err := c.Comment(ctx, gone, "x"); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("Comment(missing) = %v, want permanent", err)
	}
}

func TestInvalidIDsAreNotSent(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	ctx := context.Background()
	bad := connectors.Remote{ID: "../sys_user/" + snfake.AliceSysID}
	calls := map[string]func() error{
		"status":  func() error { _, err := c.Status(ctx, bad); return err },
		"comment": func() error { return c.Comment(ctx, bad, "x") },
		"attach":  func() error { return c.Attach(ctx, bad, connectors.Attachment{Filename: "a.txt"}) },
		"find":    func() error { _, err := c.Find(ctx, "k^ORactive=true"); return err },
		"create": func() error {
			tk := conformance.Ticket()
			tk.IdempotencyKey = "key with spaces"
			_, err := c.Create(ctx, tk)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); connectors.ClassOf(err) != connectors.Permanent || err == nil {
			t.Errorf("%s with an invalid id = %v, want a permanent error", name, err)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests reached the fake", n)
	}
}

func TestFindRejectsAnotherIncident(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	// An instance that dropped the correlation_id condition answers with
	// whatever incident comes first.
	f.Faults.Add(http.MethodGet, "/api/now/table/incident", fake.Fault{Kind: fake.Respond, Code: 200,
		Body: `{"result":[{"sys_id":"a9e30c7dc61122760116894de7bcc7bd","number":"INC0000046","correlation_id":""}]}`})
	r, err := c.Find(context.Background(), connectors.NewKey())
	if connectors.ClassOf(err) != connectors.Permanent || errors.Is(err, connectors.ErrNotFound) || err == nil {
		t.Errorf("Find = %+v, %v; want a permanent error", r, err)
	}
}

func TestFindSendsQuery(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	key := connectors.NewKey()
	if _, err := c.Find(context.Background(), key); !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("Find = %v, want ErrNotFound", err)
	}
	q := f.Requests()[0].Query
	if got := q.Get("sysparm_query"); !strings.HasPrefix(got, "correlation_id="+key) {
		t.Errorf("sysparm_query = %q", got)
	}
	if q.Get("sysparm_limit") != "1" || !strings.Contains(q.Get("sysparm_fields"), "sys_id") {
		t.Errorf("query = %v", q)
	}
}

func TestUserAgentAndAuth(t *testing.T) {
	f := startFake(t)
	conformance.MustCreate(t, newConnector(t, connection(f.URL())), conformance.Ticket())
	reqs := f.Requests()
	if len(reqs) < 3 { // lookup, create, system info
		t.Fatalf("only %d requests", len(reqs))
	}
	for _, r := range reqs {
		if ua := r.Header.Get("User-Agent"); ua != userAgent {
			t.Errorf("%s %s: User-Agent %q, want %q", r.Method, r.Path, ua, userAgent)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
			t.Errorf("%s %s: no Basic authorization", r.Method, r.Path)
		}
		if r.Header.Get("Accept") != "application/json" {
			t.Errorf("%s %s: Accept %q", r.Method, r.Path, r.Header.Get("Accept"))
		}
	}
}

func TestBearerToken(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Credentials = connectors.Credentials{Type: "bearer", Token: snfake.Token}
	c := newConnector(t, conn)
	if err := c.Check(context.Background()); err != nil {
		t.Errorf("Check with the bearer token: %v", err)
	}
	conformance.MustCreate(t, c, conformance.Ticket())
}

func TestFakeEnforcesHeaders(t *testing.T) {
	f := startFake(t)
	tests := []struct {
		name, method, accept, contentType, body string
		auth                                    bool
		want                                    int
	}{
		{"no Accept", http.MethodGet, "", "", "", true, http.StatusBadRequest},
		{"Accept XML only", http.MethodGet, "application/xml", "", "", true, http.StatusNotAcceptable},
		{"POST without Content-Type", http.MethodPost, "application/json", "", `{}`, true, http.StatusBadRequest},
		{"POST with XML", http.MethodPost, "application/json", "application/xml", `<x/>`, true, http.StatusUnsupportedMediaType},
		{"no credentials", http.MethodGet, "application/json", "", "", false, http.StatusUnauthorized},
		{"well formed", http.MethodGet, "application/json", "", "", true, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.URL()+"/api/now/table/incident", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth {
				req.SetBasicAuth(snfake.Username, snfake.Password)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			var body struct {
				Error  *struct{ Message string }
				Status string
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body: %v", err)
			}
			if tt.want >= 400 && (body.Error == nil || body.Error.Message == "" || body.Status != "failure") {
				t.Errorf("error body not in ServiceNow's format: %+v", body)
			}
		})
	}
}

// TestErrorsCarryNoSecrets: error text may be logged, so it must not hold
// the password or ticket data (the vendor's Message aside).
func TestErrorsCarryNoSecrets(t *testing.T) {
	const wrongPassword = "Wr0ng-But-Still-Secret"
	tk := conformance.Ticket()
	tk.User.Email = "carol.private@example.com"
	secretFile := connectors.Attachment{Filename: "salary-review.pdf", ContentType: "application/pdf", Data: []byte("%PDF"), SizeBytes: 4}
	hang := fake.Fault{Kind: fake.Hang}

	tests := []struct {
		name  string
		setup func(f *snfake.Fake, conn *connectors.Connection)
		call  func(c connectors.Connector) error
	}{
		{"wrong password", func(f *snfake.Fake, conn *connectors.Connection) { conn.Credentials.Password = wrongPassword },
			func(c connectors.Connector) error { _, err := c.Create(context.Background(), tk); return err }},
		{"server error", func(f *snfake.Fake, conn *connectors.Connection) {
			f.Faults.Add(http.MethodPost, "/api/now/table/incident", fake.Fault{Kind: fake.Respond, Code: 500, Body: vendorErrors[500].Body})
		}, func(c connectors.Connector) error { _, err := c.Create(context.Background(), tk); return err }},
		{"timeout during the user lookup", func(f *snfake.Fake, conn *connectors.Connection) {
			conn.TimeoutMs = 200
			f.Faults.Add(http.MethodGet, "/api/now/table/sys_user", hang)
		}, func(c connectors.Connector) error { _, err := c.Create(context.Background(), tk); return err }},
		{"timeout during an upload", func(f *snfake.Fake, conn *connectors.Connection) {
			conn.TimeoutMs = 200
			f.Faults.Add(http.MethodPost, "/api/now/attachment/file", hang)
		}, func(c connectors.Connector) error {
			return c.Attach(context.Background(), connectors.Remote{ID: strings.Repeat("a", 32)}, secretFile)
		}},
		{"offline", func(f *snfake.Fake, conn *connectors.Connection) {
			addr, err := fake.Reserve()
			if err != nil {
				t.Fatal(err)
			}
			conn.BaseURL = "http://" + addr
		}, func(c connectors.Connector) error { _, err := c.Create(context.Background(), tk); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			tt.setup(f, &conn)
			err := tt.call(newConnector(t, conn))
			if err == nil {
				t.Fatal("no error")
			}
			text := err.Error()
			for _, secret := range []string{snfake.Password, wrongPassword, tk.User.Email, "carol.private", tk.Summary, tk.Description, secretFile.Filename, "salary"} {
				if strings.Contains(text, secret) {
					t.Errorf("error %q contains %q", text, secret)
				}
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		conn func(*connectors.Connection)
		ok   bool
	}{
		{"defaults", func(*connectors.Connection) {}, true},
		{"single value", mappings("priority", map[string]string{"high": "1"}), true},
		{"pair with spaces", mappings("priority", map[string]string{"high": " 1 , 3 "}), true},
		{"urgency out of range", mappings("priority", map[string]string{"high": "4"}), false},
		{"impact out of range", mappings("priority", map[string]string{"high": "1,0"}), false},
		{"a name, not a level", mappings("priority", map[string]string{"default": "High"}), false},
		{"empty", mappings("priority", map[string]string{"low": ""}), false},
		{"category values are free", mappings("category", map[string]string{"Network": "network", "default": "inquiry"}), true},
		{"assignment group with ^", option("assignmentGroup", "Desk^ORactive=true"), false},
		{"http to a remote host", func(c *connectors.Connection) { c.BaseURL = "http://example.com" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := connection("http://127.0.0.1:1")
			tt.conn(&conn)
			_, err := servicenow.New(conn, connectors.Deps{HTTP: http.DefaultClient})
			if (err == nil) != tt.ok {
				t.Errorf("New error = %v, want ok=%v", err, tt.ok)
			}
			// The config validator, through the registry, must refuse
			// exactly what New refuses.
			if errs := conn.Validate(); (len(errs) == 0) != tt.ok {
				t.Errorf("Validate = %v, want ok=%v", errs, tt.ok)
			}
		})
	}
}

// TestFindScopedByGroup: Find asks for the incidents of the connection's
// assignment group (or of none when create could not resolve it), so a
// connection finds what it created and nothing placed elsewhere.
func TestFindScopedByGroup(t *testing.T) {
	tests := []struct {
		name, group, wantCond string
	}{
		{"no group: the table only", "", ""},
		{"group by name", snfake.ServiceDeskName, "^assignment_group=" + snfake.ServiceDeskSysID},
		{"group by sys_id", snfake.NetworkGroupSysID, "^assignment_group=" + snfake.NetworkGroupSysID},
		{"unknown group: created without one", "Nobody", "^assignment_groupISEMPTY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			if tt.group != "" {
				conn.Options = map[string]json.RawMessage{"assignmentGroup": rawOption(tt.group)}
			}
			c := newConnector(t, conn)
			tk := conformance.Ticket()
			created := conformance.MustCreate(t, c, tk)
			got, err := c.Find(context.Background(), tk.IdempotencyKey)
			if err != nil || got.ID != created.ID {
				t.Fatalf("Find = %+v, %v; want %+v", got, err, created)
			}
			var query string
			for _, r := range f.Requests() {
				if r.Method == http.MethodGet && r.Path == "/api/now/table/incident" {
					query = r.Query.Get("sysparm_query")
				}
			}
			if want := "correlation_id=" + tk.IdempotencyKey + tt.wantCond + "^ORDERBYsys_created_on"; query != want {
				t.Errorf("sysparm_query = %q, want %q", query, want)
			}
		})
	}
}

// TestFindRejectsAnotherGroupsIncident: an instance that dropped the
// assignment_group condition (the account cannot read the field) answers
// with an incident of another group; Find must not take it.
func TestFindRejectsAnotherGroupsIncident(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Options = map[string]json.RawMessage{"assignmentGroup": rawOption(snfake.NetworkGroupSysID)}
	c := newConnector(t, conn)
	key := connectors.NewKey()
	f.Faults.Add(http.MethodGet, "/api/now/table/incident", fake.Fault{Kind: fake.Respond, Code: 200,
		Body: `{"result":[{"sys_id":"a9e30c7dc61122760116894de7bcc7bd","number":"INC0000046","correlation_id":"` + key + `","assignment_group":"` + snfake.ServiceDeskSysID + `"}]}`})
	r, err := c.Find(context.Background(), key)
	if connectors.ClassOf(err) != connectors.Permanent || errors.Is(err, connectors.ErrNotFound) || err == nil {
		t.Errorf("Find = %+v, %v; want a permanent error", r, err)
	}
}
