package salesforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/salesforce"
	"github.com/ticketray/ticketray/connectors/salesforce/sffake"
	"github.com/ticketray/ticketray/diagnostics"
)

const upsertPath = "/services/data/" + salesforce.DefaultAPIVersion + "/sobjects/Case/" + salesforce.DefaultExternalIDField + "/"

// Error bodies in Salesforce's format. 400, 401, 404 and 500 are the
// org's own texts (REST API error codes page; the INVALID_FIELD wording is
// the org's for an unknown column); Salesforce rarely answers 429 on the
// REST API (its limit is 403 REQUEST_LIMIT_EXCEEDED), so 429 reuses that
// body.
var vendorErrors = map[int]conformance.VendorError{
	400: {
		Body:    `[{"message":"No such column 'Foo__c' on sobject of type Case","errorCode":"INVALID_FIELD"}]`,
		Message: "INVALID_FIELD: No such column 'Foo__c' on sobject of type Case",
	},
	401: {
		Body:    `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
		Message: "INVALID_SESSION_ID: Session expired or invalid",
	},
	404: {
		Body:    `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`,
		Message: "NOT_FOUND: The requested resource does not exist",
	},
	429: {
		Body:    `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`,
		Message: "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.",
	},
	500: {
		Body:    `[{"message":"An unexpected error occurred. Please include this ErrorId if you contact support: 1873263843-91244 (-1094423464)","errorCode":"UNKNOWN_EXCEPTION"}]`,
		Message: "UNKNOWN_EXCEPTION: An unexpected error occurred.",
	},
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Target { return target(startFake(t)) })
}

// target is the conformance suites' view of a fake.
func target(f *sffake.Fake) conformance.Target {
	return conformance.Target{
		Connection:   connection(f.URL()),
		Faults:       f.Faults,
		CreateMethod: http.MethodPatch,
		CreatePath:   upsertPath,
		Count:        f.Count,
		Errors:       vendorErrors,
		Violations:   f.Violations,
	}
}

// TestSharedSite: two connections to one org, each with its own Case
// Origin, so each finds only the Cases it created.
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t, sffake.WithOrigins("Ticketray Network"))
		desk := connection(f.URL())
		desk.Name = "Service desk"
		network := connection(f.URL())
		network.Name = "Network team"
		network.Options = map[string]json.RawMessage{"origin": raw("Ticketray Network")}
		return conformance.Site{
			Connections: []conformance.Placed{
				{Connection: desk, Where: "Ticketray", CreateMethod: http.MethodPatch, CreatePath: upsertPath},
				{Connection: network, Where: "Ticketray Network", CreateMethod: http.MethodPatch, CreatePath: upsertPath},
			},
			Faults:     f.Faults,
			Places:     f.Places,
			Violations: f.Violations,
		}
	})
}

// TestOAuth2Session: with the client credentials flow the connector keeps
// its own session (Salesforce's tokens carry no expires_in) and renews it
// once when the org answers 401. Bad client credentials answer 400
// invalid_client at the token endpoint (TestCheckMessages).
func TestOAuth2Session(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, oauthConnection(f.URL()))
	ctx := context.Background()
	r, err := c.Create(ctx, ticket())
	if err != nil {
		t.Fatalf("Create with client credentials: %v", err)
	}
	// The org's session timeout ends the session: the next call fetches a
	// new token and is sent again, once.
	f.ExpireSessions()
	if _, err := c.Status(ctx, r); err != nil {
		t.Fatalf("Status after the session expired: %v", err)
	}
	tokens, statusCalls := 0, 0
	for _, rq := range f.Requests() {
		switch {
		case rq.Path == "/services/oauth2/token":
			tokens++
		case rq.Method == http.MethodGet && strings.HasSuffix(rq.Path, "/sobjects/Case/"+r.ID):
			statusCalls++
		}
	}
	if tokens != 2 {
		t.Errorf("token requests = %d, want 2 (one per session)", tokens)
	}
	if statusCalls != 3 { // the read after create, then Status twice (401, then with the new session)
		t.Errorf("Case reads = %d, want 3", statusCalls)
	}
	// A body is replayed: a comment after expiry lands once.
	f.ExpireSessions()
	if err := c.Comment(ctx, r, "note"); err != nil || len(f.Comments()) != 1 {
		t.Errorf("Comment after expiry = %v, %d comments; want nil, 1", err, len(f.Comments()))
	}
}

func TestVendorErrorClasses(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		body       string
		header     http.Header
		class      connectors.Class
		message    string
		retryAfter time.Duration
	}{
		{"limit", 403, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, nil, connectors.Retryable, "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.", 15 * time.Minute},
		{"limit with Retry-After", 403, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, http.Header{"Retry-After": {"60"}}, connectors.Retryable, "REQUEST_LIMIT_EXCEEDED", time.Minute},
		{"row lock", 400, `[{"message":"unable to obtain exclusive access to this record or 1 records: 500FK0000000001AAA","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]`, nil, connectors.Retryable, "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access", 0},
		{"no access", 403, `[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS_OR_READONLY","fields":[]}]`, nil, connectors.Permanent, "INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id", 0},
		{"field security", 400, `[{"message":"Unable to create/update fields: Priority.","errorCode":"INVALID_FIELD_FOR_INSERT_UPDATE","fields":["Priority"]}]`, nil, connectors.Permanent, "INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: Priority. (fields: Priority)", 0},
		{"two errors", 400, `[{"message":"a","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":[]},{"message":"b","errorCode":"REQUIRED_FIELD_MISSING","fields":["Type"]}]`, nil, connectors.Permanent, "FIELD_CUSTOM_VALIDATION_EXCEPTION: a; REQUIRED_FIELD_MISSING: b (fields: Type)", 0},
		{"unavailable", 503, `[{"message":"Server unavailable","errorCode":"SERVER_UNAVAILABLE"}]`, nil, connectors.Retryable, "SERVER_UNAVAILABLE: Server unavailable", 0},
		{"maintenance page", 503, `<html><body>Maintenance</body></html>`, nil, connectors.Retryable, "", 0},
		{"several match", 300, `["/services/data/v64.0/sobjects/Case/500FK0000000001AAA","/services/data/v64.0/sobjects/Case/500FK0000000002AAA"]`, nil, connectors.Permanent, "several records match: 500FK0000000001AAA, 500FK0000000002AAA", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			c := conformance.MustBuild(t, connection(f.URL()))
			f.Faults.Add(http.MethodPatch, upsertPath, fake.Fault{Kind: fake.Respond, Code: tc.code, Header: tc.header, Body: tc.body})
			_, err := c.Create(context.Background(), ticket())
			var e *connectors.Error
			if !errors.As(err, &e) {
				t.Fatalf("Create error = %v, want *connectors.Error", err)
			}
			if e.Class != tc.class || e.Status != tc.code || !strings.HasPrefix(e.Message, tc.message) || e.RetryAfter != tc.retryAfter {
				t.Errorf("error = class %v status %d message %q retryAfter %v; want %v %d %q %v", e.Class, e.Status, e.Message, e.RetryAfter, tc.class, tc.code, tc.message, tc.retryAfter)
			}
		})
	}
}

// TestAPILimit: the fake org's allowance runs out; the connector waits
// instead of failing the ticket, and keeps the usage it was told.
func TestAPILimit(t *testing.T) {
	f := startFake(t, sffake.WithAPILimit(2))
	c := conformance.MustBuild(t, connection(f.URL()))
	ctx := context.Background()
	// The upsert and the read fit; the uploads are refused, which does
	// not fail a Case that exists.
	if _, err := c.Create(ctx, ticket()); err != nil || len(f.Files()) != 0 {
		t.Fatalf("Create with 2 calls left = %v, %d files; want success without files", err, len(f.Files()))
	}
	_, err := c.Find(ctx, connectors.NewKey())
	if connectors.ClassOf(err) != connectors.Retryable || !strings.Contains(err.Error(), "REQUEST_LIMIT_EXCEEDED") {
		t.Errorf("Find over the limit = %v, want a retryable REQUEST_LIMIT_EXCEEDED", err)
	}
	if got := c.(*salesforce.Connector).APIUsage(); got != "api-usage=2/2" {
		t.Errorf("APIUsage = %q, want api-usage=2/2", got)
	}
}

func TestCreateFields(t *testing.T) {
	tests := []struct {
		name     string
		priority connectors.Priority
		options  map[string]json.RawMessage
		mappings map[string]map[string]string
		want     map[string]string
	}{
		{"defaults", connectors.PriorityCritical, nil, nil,
			map[string]string{"Priority": "High", "Origin": "Ticketray", "Type": ""}},
		{"low", connectors.PriorityLow, nil, nil,
			map[string]string{"Priority": "Low"}},
		{"category field and origin", connectors.PriorityMedium,
			map[string]json.RawMessage{"categoryField": raw("Type"), "origin": raw("Web")},
			map[string]map[string]string{"category": {"Network": "Electronic", "default": "Other"}},
			map[string]string{"Priority": "Medium", "Origin": "Web", "Type": "Electronic"}},
		{"priority table", connectors.PriorityHigh, nil,
			map[string]map[string]string{"priority": {"critical": "High", "default": "Low"}},
			map[string]string{"Priority": "Low"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			conn.Options, conn.Mappings = tc.options, tc.mappings
			if errs := conn.Validate(); len(errs) > 0 {
				t.Fatalf("Validate: %v", errs)
			}
			c := conformance.MustBuild(t, conn)
			tk := ticket()
			tk.Priority = tc.priority
			r, err := c.Create(context.Background(), tk)
			if err != nil {
				t.Fatal(err)
			}
			cases := f.Cases()
			if len(cases) != 1 || cases[0].ID != r.ID || r.Number != cases[0].Fields["CaseNumber"] {
				t.Fatalf("Create = %+v; fake holds %+v", r, cases)
			}
			got := cases[0].Fields
			want := map[string]string{"Subject": tk.Summary, "SuppliedEmail": tk.User.Email, "SuppliedName": tk.User.Name,
				salesforce.DefaultExternalIDField: tk.IdempotencyKey}
			for k, v := range tc.want {
				want[k] = v
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if r.URL != f.URL()+"/lightning/r/Case/"+r.ID+"/view" {
				t.Errorf("URL = %q", r.URL)
			}
			files := f.Files()
			if len(files) != 2 || files[0].PathOnClient != "systeminfo.json" || files[1].PathOnClient != "screen.png" ||
				files[1].FirstPublishLocationID != r.ID || string(files[1].Data) != "PNG" {
				t.Errorf("files = %+v; want systeminfo.json and screen.png on the Case", files)
			}
		})
	}
}

func TestDescriptionGolden(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	if _, err := c.Create(context.Background(), ticket()); err != nil {
		t.Fatal(err)
	}
	got := f.Cases()[0].Fields["Description"]
	conformance.Golden(t, "testdata/description.golden", []byte(got))
}

func TestDescriptionFitsField(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	tk := ticket()
	tk.Description = strings.Repeat("ü", connectors.MaxDescription)
	for i := range 5 {
		tk.SkillResults = append(tk.SkillResults, diagnostics.SkillResult{SkillID: "s" + string(rune('a'+i)), Status: "success", Output: strings.Repeat("x", 5000)})
	}
	if _, err := c.Create(context.Background(), tk); err != nil {
		t.Fatalf("Create with the longest description: %v", err)
	}
}

// TestCreateAgain: an upsert that finds the Case (a retry whose first
// answer was lost) returns it and uploads nothing twice, whether the API
// version answers 200 or 204.
func TestCreateAgain(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []sffake.Option
	}{{"200", nil}, {"204", []sffake.Option{sffake.WithUpdateNoContent()}}} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, tc.opts...)
			c := conformance.MustBuild(t, connection(f.URL()))
			tk := ticket()
			first, err := c.Create(context.Background(), tk)
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.Create(context.Background(), tk)
			if err != nil || again != first {
				t.Errorf("second Create = %+v, %v; want %+v", again, err, first)
			}
			if n, files := f.Count(tk.IdempotencyKey), len(f.Files()); n != 1 || files != 2 {
				t.Errorf("fake holds %d Cases and %d files, want 1 and 2", n, files)
			}
		})
	}
}

func TestCreateDuplicates(t *testing.T) {
	f := startFake(t)
	tk := ticket()
	a := f.AddCase(map[string]string{salesforce.DefaultExternalIDField: tk.IdempotencyKey, "Origin": "Ticketray"})
	b := f.AddCase(map[string]string{salesforce.DefaultExternalIDField: tk.IdempotencyKey, "Origin": "Ticketray"})
	c := conformance.MustBuild(t, connection(f.URL()))
	_, err := c.Create(context.Background(), tk)
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != 300 ||
		!strings.Contains(e.Message, a) || !strings.Contains(e.Message, b) || !strings.Contains(err.Error(), "Unique") {
		t.Errorf("Create over two Cases with the key = %v; want a permanent 300 naming %s and %s", err, a, b)
	}
	// Find takes the oldest, so a courier retry records one of them.
	if r, err := c.Find(context.Background(), tk.IdempotencyKey); err != nil || r.ID != a {
		t.Errorf("Find = %+v, %v; want %s", r, err, a)
	}
}

func TestStatusAndComment(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	ctx := context.Background()
	r, err := c.Create(ctx, ticket())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	f.SetStatus(r.ID, "Closed")
	st, err := c.Status(ctx, r)
	if err != nil || st.Status != "Closed" || st.Number != r.Number || st.UpdatedAt.Before(before) {
		t.Errorf("Status = %+v, %v; want Closed, updated now", st, err)
	}
	long := strings.Repeat("n", 5000)
	if err := c.Comment(ctx, r, long); err != nil {
		t.Fatal(err)
	}
	cm := f.Comments()
	if len(cm) != 1 || cm[0].ParentID != r.ID || cm[0].IsPublished || len(cm[0].Body) != 4000 {
		t.Errorf("comments = %d; want one private comment of 4000 characters on the Case", len(cm))
	}
	for _, bad := range []connectors.Remote{{ID: ""}, {ID: "001FK0000000001AAA"}} {
		if _, err := c.Status(ctx, bad); connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("Status(%q) = %v, want permanent", bad.ID, err)
		}
	}
	if _, err := c.Status(ctx, connectors.Remote{ID: "500FK0000009999AAA"}); connectors.ClassOf(err) != connectors.Permanent || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("Status of a deleted Case = %v, want permanent NOT_FOUND", err)
	}
}

func TestCheckMessages(t *testing.T) {
	htmlSite := startHTML(t)
	tests := []struct {
		name string
		opts []sffake.Option
		conn func(base string) connectors.Connection
		want string // "" for success
	}{
		{"ok", nil, connection, ""},
		{"ok with client credentials", nil, oauthConnection, ""},
		{"wrong token", nil, func(b string) connectors.Connection {
			c := connection(b)
			c.Credentials.Token = "the-consumer-secret"
			return c
		}, "must be a current OAuth access token"},
		{"wrong client secret", nil, func(b string) connectors.Connection {
			c := oauthConnection(b)
			c.Credentials.ClientSecret = "wrong"
			return c
		}, "check clientId (the consumer key) and clientSecret"},
		{"no run-as user", []sffake.Option{sffake.WithoutRunAsUser()}, oauthConnection, "set its Run As user"},
		{"no external id field", []sffake.Option{sffake.WithoutExternalIDField()}, connection, "Case has no field Ticketray_Key__c"},
		{"read-only user", []sffake.Option{sffake.WithReadOnlyCases()}, connection, "Read, Create and Edit on Case"},
		{"origin missing from picklist", nil, func(b string) connectors.Connection {
			c := connection(b)
			c.Options = map[string]json.RawMessage{"origin": raw("Desktop")}
			return c
		}, `Case Origin has no value "Desktop"`},
		{"unknown category field", nil, func(b string) connectors.Connection {
			c := connection(b)
			c.Options = map[string]json.RawMessage{"categoryField": raw("Category__c")}
			return c
		}, "no field Category__c"},
		{"api version too new", nil, func(b string) connectors.Connection {
			c := connection(b)
			c.Options = map[string]json.RawMessage{"apiVersion": raw("v99.0")}
			return c
		}, "no REST API v99.0"},
		{"not a salesforce org", nil, func(string) connectors.Connection { return connection(htmlSite) }, "does not answer like a Salesforce org"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, tc.opts...)
			c := conformance.MustBuild(t, tc.conn(f.URL()))
			info, err := c.(*salesforce.Connector).Report(context.Background())
			switch {
			case tc.want == "" && (err != nil || !strings.HasPrefix(info, "API requests in the last 24 hours: ")):
				t.Errorf("Report = %q, %v; want the API usage", info, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check = %v; want it to say %q", err, tc.want)
			}
			if tc.want != "" && connectors.ClassOf(err) != connectors.Permanent {
				t.Errorf("Check = %v; want permanent", err)
			}
			if err != nil && (strings.Contains(err.Error(), sffake.ClientSecret) || strings.Contains(err.Error(), sffake.Token)) {
				t.Errorf("Check error carries a secret: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*connectors.Connection)
		field string // "" for valid
	}{
		{"bearer", func(*connectors.Connection) {}, ""},
		{"oauth2", func(c *connectors.Connection) { *c = oauthConnection(c.BaseURL) }, ""},
		{"lightning url", func(c *connectors.Connection) { c.BaseURL = "https://acme.lightning.force.com" }, "baseUrl"},
		{"login server", func(c *connectors.Connection) { c.BaseURL = "https://login.salesforce.com" }, "baseUrl"},
		{"path", func(c *connectors.Connection) { c.BaseURL = "https://acme.my.salesforce.com/services/data" }, "baseUrl"},
		{"basic credentials", func(c *connectors.Connection) {
			c.Credentials = connectors.Credentials{Type: "basic", Username: "u", Password: "p"}
		}, "credentials.type"},
		{"token url elsewhere", func(c *connectors.Connection) {
			*c = oauthConnection("https://acme.my.salesforce.com")
			c.Credentials.TokenURL = "https://login.salesforce.com/services/oauth2/token"
		}, "credentials.tokenUrl"},
		{"standard field as key", func(c *connectors.Connection) { c.Options = opts("externalIdField", "Subject") }, "options.externalIdField"},
		{"api version", func(c *connectors.Connection) { c.Options = opts("apiVersion", "64") }, "options.apiVersion"},
		{"api version without v", func(c *connectors.Connection) { c.Options = opts("apiVersion", "64.0") }, ""},
		{"long origin", func(c *connectors.Connection) { c.Options = opts("origin", strings.Repeat("o", 41)) }, "options.origin"},
		{"category field", func(c *connectors.Connection) { c.Options = opts("categoryField", "Type; DROP") }, "options.categoryField"},
		{"blank priority value", func(c *connectors.Connection) { c.Mappings = map[string]map[string]string{"priority": {"high": " "}} }, "mappings.priority.high"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := connection("https://acme.my.salesforce.com")
			tc.edit(&c)
			errs := c.Validate()
			switch {
			case tc.field == "" && len(errs) > 0:
				t.Errorf("Validate = %v, want none", errs)
			case tc.field != "" && (len(errs) != 1 || errs[0].Field != tc.field):
				t.Errorf("Validate = %v, want one problem at %s", errs, tc.field)
			}
		})
	}
}

// TestErrorsKeepTicketTextOut: a transport failure during Find names the
// path, not the SOQL query.
func TestErrorsKeepTicketTextOut(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.TimeoutMs = 200
	c := conformance.MustBuild(t, conn)
	f.Faults.Add(http.MethodGet, "/services/data/", fake.Fault{Kind: fake.Hang})
	key := connectors.NewKey()
	_, err := c.Find(context.Background(), key)
	if err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "SELECT") {
		t.Errorf("Find error = %v; want one without the query", err)
	}
}

func startFake(t *testing.T, opts ...sffake.Option) *sffake.Fake {
	return fake.Closing(t, sffake.Start(opts...))
}

// startHTML serves a login page, as a wrong baseUrl does.
func startHTML(t *testing.T) string {
	t.Helper()
	var s fake.Server
	err := s.Serve("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Login</body></html>"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.URL()
}

func connection(url string) connectors.Connection {
	return connectors.Connection{
		Name:        "Salesforce test",
		Type:        "salesforce",
		BaseURL:     url,
		Credentials: connectors.Credentials{Type: "bearer", Token: sffake.Token},
	}
}

func oauthConnection(url string) connectors.Connection {
	c := connection(url)
	c.Credentials = connectors.Credentials{Type: "oauth2", Grant: "client_credentials", ClientID: sffake.ClientID,
		ClientSecret: sffake.ClientSecret, TokenURL: url + "/services/oauth2/token"}
	return c
}

func ticket() *connectors.Ticket {
	tk := conformance.Ticket()
	tk.CreatedAt = time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	tk.SystemInfo = &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", Architecture: "amd64", DeviceName: "lap-42", DeviceID: "dev-1",
		CPUModel: "Intel i5", CPUCores: 4, MemoryTotalMB: 16000, MemoryUsedMB: 8000, Timezone: "Europe/Berlin"}
	tk.SkillResults = []diagnostics.SkillResult{
		{SkillID: "dns-flush", SkillName: "Flush DNS cache", Status: "success", Output: "flushed", ExecutionTimeMs: 120},
		{SkillID: "ping", SkillName: "Ping gateway", Status: "failed", Output: "timeout\nno reply", ExecutionTimeMs: 3000},
	}
	tk.Attachments = []connectors.Attachment{{Filename: "screen.png", ContentType: "image/png", SizeBytes: 3, Data: []byte("PNG")}}
	return tk
}

func raw(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func opts(k, v string) map[string]json.RawMessage { return map[string]json.RawMessage{k: raw(v)} }

// TestCreateWithoutKeyField: an org whose admin has not created the
// external ID field refuses the upsert; the error says what is missing.
func TestCreateWithoutKeyField(t *testing.T) {
	f := startFake(t, sffake.WithoutExternalIDField())
	c := conformance.MustBuild(t, connection(f.URL()))
	_, err := c.Create(context.Background(), ticket())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != http.StatusNotFound || !strings.Contains(err.Error(), "no external ID field Ticketray_Key__c") {
		t.Errorf("Create = %v; want a permanent 404 naming the missing field", err)
	}
	if len(f.Cases()) != 0 {
		t.Error("a Case was created")
	}
}

// TestCheckWithoutDescribe: Check rests on Find's query; an endpoint that
// has no describe (a proxy that only passes the data API) still passes,
// and a refused describe is reported.
func TestCheckWithoutDescribe(t *testing.T) {
	const describe = "/services/data/" + salesforce.DefaultAPIVersion + "/sobjects/Case/describe"
	for _, tc := range []struct {
		name string
		code int
		body string
		ok   bool
	}{
		{"no describe", 404, vendorErrors[404].Body, true},
		{"describe refused", 403, `[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS","fields":[]}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			f.Faults.Always(http.MethodGet, describe, fake.Fault{Kind: fake.Respond, Code: tc.code, Body: tc.body})
			err := conformance.MustBuild(t, connection(f.URL())).Check(context.Background())
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok %v", err, tc.ok)
			}
			if !tc.ok && !strings.Contains(err.Error(), "Read, Create and Edit on Case") {
				t.Errorf("Check = %v, want the permission hint", err)
			}
		})
	}
}
