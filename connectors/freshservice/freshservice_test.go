package freshservice_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/freshservice"
	"github.com/ticketray/ticketray/connectors/freshservice/fsfake"
)

const createPath = "/api/v2/tickets"

// Error bodies in Freshservice's formats (see fsfake): validation errors
// are {"description","errors":[{field,message,code}]}, authentication and
// access errors {"code","message"}. The 401 text is Freshworks' own as
// clients report it; the others are the fake's wording in those formats.
var vendorErrors = map[int]conformance.VendorError{
	400: {
		Body:    `{"description":"Validation failed","errors":[{"field":"priority","message":"It should be one of these values: '1,2,3,4'","code":"invalid_value"}]}`,
		Message: "Validation failed: priority: It should be one of these values: '1,2,3,4' (invalid_value)",
	},
	401: {
		Body:    `{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`,
		Message: "You have to be logged in to perform this action. (invalid_credentials)",
	},
	404: {
		Body:    `{"code":"not_found","message":"The requested resource could not be found."}`,
		Message: "The requested resource could not be found. (not_found)",
	},
	429: {
		Body:    `{"code":"rate_limit_exceeded","message":"You have exceeded the limit of requests per minute"}`,
		Message: "You have exceeded the limit of requests per minute (rate_limit_exceeded)",
	},
	500: {
		Body:    `{"errors":[{"code":"internal_error","message":"We're sorry, but something went wrong."}]}`,
		Message: "We're sorry, but something went wrong. (internal_error)",
	},
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Target { return target(startFake(t)) })
}

// target is the conformance suites' view of a fake.
func target(f *fsfake.Fake) conformance.Target {
	return conformance.Target{
		Connection:   connection(f.URL()),
		Faults:       f.Faults,
		CreateMethod: http.MethodPost,
		CreatePath:   createPath,
		Count:        f.Count,
		Errors:       vendorErrors,
		Violations:   f.Violations,
	}
}

// TestSharedSite: connections to one account told apart by group, by
// workspace, and one with neither (the primary workspace, no group).
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t, fsfake.WithTicketrayField())
		desk := connection(f.URL())
		desk.Name = "Service desk"
		desk.Options = options(map[string]any{"groupId": fsfake.ServiceDeskGroupID, "externalIdField": fsfake.ExternalIDField})
		network := connection(f.URL())
		network.Name = "Network team"
		network.Options = options(map[string]any{"groupId": strconv.FormatInt(fsfake.NetworkGroupID, 10)})
		it := connection(f.URL())
		it.Name = "IT workspace"
		it.Options = options(map[string]any{"workspaceId": fsfake.ITWorkspaceID})
		placed := func(c connectors.Connection, ws, group int64) conformance.Placed {
			return conformance.Placed{Connection: c, Where: fsfake.Place(ws, group), CreateMethod: http.MethodPost, CreatePath: createPath}
		}
		return conformance.Site{
			Connections: []conformance.Placed{
				placed(desk, fsfake.PrimaryWorkspaceID, fsfake.ServiceDeskGroupID),
				placed(network, fsfake.PrimaryWorkspaceID, fsfake.NetworkGroupID),
				placed(it, fsfake.ITWorkspaceID, 0),
			},
			Faults:     f.Faults,
			Places:     f.Places,
			Violations: f.Violations,
		}
	})
}

func startFake(t *testing.T, opts ...fsfake.Option) *fsfake.Fake {
	return fake.Closing(t, fsfake.Start(opts...))
}

func connection(url string) connectors.Connection {
	return connectors.Connection{
		Name:    "Freshservice test",
		Type:    "freshservice",
		BaseURL: url,
		// Freshservice authenticates by the API key alone: no username.
		Credentials: connectors.Credentials{Type: "api_token", APIToken: fsfake.APIKey},
	}
}

func options(m map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		out[k] = b
	}
	return out
}

func ticketOf(t *testing.T, f *fsfake.Fake, r connectors.Remote) *fsfake.Ticket {
	t.Helper()
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil {
		t.Fatalf("remote id %q: %v", r.ID, err)
	}
	tk := f.Ticket(id)
	if tk == nil {
		t.Fatalf("the fake has no ticket %d", id)
	}
	return tk
}

func noViolations(t *testing.T, f *fsfake.Fake) {
	t.Helper()
	t.Cleanup(func() {
		if v := f.Violations(); len(v) > 0 {
			t.Errorf("the fake found requests that break Freshservice's rules: %v", v)
		}
	})
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(connectors.Registered(), "freshservice") {
		t.Fatalf("Registered() = %v", connectors.Registered())
	}
	conn := connection("http://127.0.0.1:1")
	if _, err := freshservice.New(conn, connectors.Deps{}); err == nil {
		t.Error("New without an HTTP client succeeded")
	}
	if _, err := freshservice.New(conn, connectors.Deps{HTTP: http.DefaultClient}); err == nil {
		t.Error("New with api_token credentials and no credential resolver succeeded")
	}
}

// TestCreateFields checks the ticket as Freshservice stores it, sent as
// multipart (the system information is a file).
func TestCreateFields(t *testing.T) {
	f := startFake(t)
	noViolations(t, f)
	c := conformance.MustBuild(t, connection(f.URL()))
	tk := conformance.Ticket()
	tk.Attachments = []connectors.Attachment{{Filename: "vpn.log", ContentType: "text/plain", Data: []byte("dropped\n"), SizeBytes: 8}}
	r := conformance.MustCreate(t, c, tk)

	if r.Number != "INC-"+r.ID || r.URL != f.URL()+"/a/tickets/"+r.ID {
		t.Errorf("remote = %+v", r)
	}
	got := ticketOf(t, f, r)
	if got.Subject != tk.Summary || got.Email != tk.User.Email || got.Status != 2 || got.Source != 2 || got.Category != "Network" {
		t.Errorf("stored ticket = %+v", got)
	}
	if !slices.Equal(got.Tags, []string{"Ticketray", tk.IdempotencyKey}) {
		t.Errorf("tags = %q", got.Tags)
	}
	var names []string
	for _, a := range got.Attachments {
		names = append(names, a.Name+" "+a.ContentType)
	}
	if !slices.Equal(names, []string{"systeminfo.json application/json", "vpn.log text/plain"}) {
		t.Errorf("attachments = %q", names)
	}
	for _, want := range []string{
		"<p>" + tk.Description + "</p>", "<h3>System information</h3>", "<li><strong>OS:</strong> debian 12</li>",
		"Flush DNS cache", "Status: success", "Time: 120 ms", "<pre>flushed</pre>",
		"Alice Example &lt;alice@example.com&gt;", "App version:</strong> test",
	} {
		if !strings.Contains(got.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, got.Description)
		}
	}
	reqs := f.Requests()
	if ct := reqs[len(reqs)-1].Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/form-data; boundary=") {
		t.Errorf("create Content-Type = %q", ct)
	}
}

// TestCreateJSON: without files the create is JSON, validated against
// Freshworks' spec by the fake.
func TestCreateJSON(t *testing.T) {
	f := startFake(t, fsfake.WithTicketrayField(), fsfake.WithCustomField("site", "custom_dropdown"))
	noViolations(t, f)
	conn := connection(f.URL())
	conn.Options = options(map[string]any{"externalIdField": fsfake.ExternalIDField, "customFields": map[string]any{"site": "Berlin"},
		"workspaceId": fsfake.ITWorkspaceID, "groupId": fsfake.NetworkGroupID, "source": 10})
	tk := conformance.Ticket()
	tk.SystemInfo = nil
	r := conformance.MustCreate(t, conformance.MustBuild(t, conn), tk)
	got := ticketOf(t, f, r)
	if got.CustomFields[fsfake.ExternalIDField] != tk.IdempotencyKey || got.CustomFields["site"] != "Berlin" {
		t.Errorf("custom fields = %v", got.CustomFields)
	}
	if got.WorkspaceID != fsfake.ITWorkspaceID || got.GroupID != fsfake.NetworkGroupID || got.Source != 10 || len(got.Attachments) != 0 {
		t.Errorf("stored ticket = %+v", got)
	}
	reqs := f.Requests()
	last := reqs[len(reqs)-1]
	if ct := last.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("create Content-Type = %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["priority"] != float64(3) || body["urgency"] != float64(3) || body["impact"] != float64(2) {
		t.Errorf("priority fields = %v %v %v", body["priority"], body["urgency"], body["impact"])
	}
}

func TestPriorityAndCategoryMapping(t *testing.T) {
	urgent := connectors.Priority("urgent") // not a priority: the default row
	tests := []struct {
		name   string
		conn   func(*connectors.Connection)
		ticket func(*connectors.Ticket)
		want   [3]int // priority, urgency, impact
		cat    string
	}{
		{"critical", nil, prio(connectors.PriorityCritical), [3]int{4, 3, 3}, "Network"},
		{"high", nil, prio(connectors.PriorityHigh), [3]int{3, 3, 2}, "Network"},
		{"medium", nil, prio(connectors.PriorityMedium), [3]int{2, 2, 2}, "Network"},
		{"low", nil, prio(connectors.PriorityLow), [3]int{1, 1, 1}, "Network"},
		{"no row: default medium", nil, prio(urgent), [3]int{2, 2, 2}, "Network"},
		{"default from defaultPriority", func(c *connectors.Connection) { c.DefaultPriority = "critical" }, prio(urgent), [3]int{4, 3, 3}, "Network"},
		{"table with a bare priority", mappings("priority", map[string]string{"high": "4", "default": "1,2,3"}), prio(connectors.PriorityHigh),
			[3]int{4, 1, 1}, "Network"}, // urgency and impact left to the account: the fake's defaults
		{"table's default row", mappings("priority", map[string]string{"high": "4", "default": "1,2,3"}), prio(connectors.PriorityLow), [3]int{1, 2, 3}, "Network"},
		{"category mapped", mappings("category", map[string]string{"network": "Office Applications", "default": "Other"}), nil, [3]int{3, 3, 2}, "Office Applications"},
		{"category default row", mappings("category", map[string]string{"hardware": "Hardware", "default": "Other"}), nil, [3]int{3, 3, 2}, "Other"},
		{"no category: defaultCategory", func(c *connectors.Connection) { c.DefaultCategory = "Software" },
			func(tk *connectors.Ticket) { tk.Category = "" }, [3]int{3, 3, 2}, "Software"},
		{"no category at all", nil, func(tk *connectors.Ticket) { tk.Category = "" }, [3]int{3, 3, 2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			noViolations(t, f)
			conn := connection(f.URL())
			if tt.conn != nil {
				tt.conn(&conn)
			}
			if errs := conn.Validate(); len(errs) > 0 {
				t.Fatalf("Validate: %v", errs)
			}
			tk := conformance.Ticket()
			if tt.ticket != nil {
				tt.ticket(tk)
			}
			got := ticketOf(t, f, conformance.MustCreate(t, conformance.MustBuild(t, conn), tk))
			if [3]int{got.Priority, got.Urgency, got.Impact} != tt.want || got.Category != tt.cat {
				t.Errorf("priority, urgency, impact = %d, %d, %d, category %q; want %v, %q", got.Priority, got.Urgency, got.Impact, got.Category, tt.want, tt.cat)
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

func TestRequester(t *testing.T) {
	tests := []struct {
		name, email, fallback, want string
		ok                          bool
	}{
		{"the reporter", "bob@example.com", "", "bob@example.com", true},
		{"the reporter wins over the fallback", "bob@example.com", "helpdesk@example.com", "bob@example.com", true},
		{"the fallback", "", "helpdesk@example.com", "helpdesk@example.com", true},
		{"nobody", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			if tt.fallback != "" {
				conn.Options = options(map[string]any{"requesterEmail": tt.fallback})
			}
			tk := conformance.Ticket()
			tk.User.Email = tt.email
			r, err := conformance.MustBuild(t, conn).Create(context.Background(), tk)
			if !tt.ok {
				if connectors.ClassOf(err) != connectors.Permanent || err == nil || len(f.Requests()) != 0 {
					t.Errorf("Create = %v after %d requests; want a permanent error before any request", err, len(f.Requests()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ticketOf(t, f, r).Email; got != tt.want {
				t.Errorf("requester = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFindQuery pins the filter query per scope, and that Find returns
// the oldest of several tagged tickets.
func TestFindQuery(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		cond string
	}{
		{"primary workspace", nil, ""},
		{"group", map[string]any{"groupId": fsfake.ServiceDeskGroupID}, " AND group_id:" + strconv.FormatInt(fsfake.ServiceDeskGroupID, 10)},
		{"workspace and group", map[string]any{"workspaceId": fsfake.ITWorkspaceID, "groupId": fsfake.NetworkGroupID},
			" AND workspace_id:3 AND group_id:" + strconv.FormatInt(fsfake.NetworkGroupID, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			noViolations(t, f)
			conn := connection(f.URL())
			if tt.opts != nil {
				conn.Options = options(tt.opts)
			}
			c := conformance.MustBuild(t, conn)
			tk := conformance.Ticket()
			first := conformance.MustCreate(t, c, tk)
			conformance.MustCreate(t, c, tk) // a duplicate made by hand
			got, err := c.Find(context.Background(), tk.IdempotencyKey)
			if err != nil || got != first {
				t.Fatalf("Find = %+v, %v; want the oldest %+v", got, err, first)
			}
			reqs := f.Requests()
			q := reqs[len(reqs)-1].Query["query"]
			if want := `"tag:'` + tk.IdempotencyKey + `'` + tt.cond + `"`; len(q) != 1 || q[0] != want {
				t.Errorf("query = %q, want %q", q, want)
			}
		})
	}
}

// TestFindRejectsForeignTickets: an answer with tickets the query
// excludes (another group, another key in the external-id field) is never
// taken for ours.
func TestFindRejectsForeignTickets(t *testing.T) {
	key := connectors.NewKey()
	tests := []struct {
		name string
		opts map[string]any
		body string
	}{
		{"another group", map[string]any{"groupId": fsfake.ServiceDeskGroupID},
			`{"tickets":[{"id":7,"group_id":` + strconv.FormatInt(fsfake.NetworkGroupID, 10) + `,"workspace_id":2,"custom_fields":{}}],"total":1}`},
		{"another workspace", map[string]any{"workspaceId": 3},
			`{"tickets":[{"id":7,"group_id":null,"workspace_id":2,"custom_fields":{}}],"total":1}`},
		{"another key in the field", map[string]any{"externalIdField": "ticketray_id"},
			`{"tickets":[{"id":7,"group_id":null,"workspace_id":2,"custom_fields":{"ticketray_id":"other"}}],"total":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			conn.Options = options(tt.opts)
			f.Faults.Add(http.MethodGet, "/api/v2/tickets/filter", fake.Fault{Kind: fake.Respond, Code: 200, Body: tt.body})
			r, err := conformance.MustBuild(t, conn).Find(context.Background(), key)
			if err == nil || errors.Is(err, connectors.ErrNotFound) || connectors.ClassOf(err) != connectors.Permanent {
				t.Errorf("Find = %+v, %v; want a permanent error", r, err)
			}
		})
	}
}

func TestStatusCommentAttach(t *testing.T) {
	f := startFake(t)
	noViolations(t, f)
	c := conformance.MustBuild(t, connection(f.URL()))
	ctx := context.Background()
	r := conformance.MustCreate(t, c, conformance.Ticket())
	id, _ := strconv.ParseInt(r.ID, 10, 64)
	f.SetStatus(id, 4)
	st, err := c.Status(ctx, r)
	if err != nil || st.Status != "4" || st.Remote != r || st.UpdatedAt.IsZero() {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if err := c.Comment(ctx, r, "Still broken <b>today</b>.\nAfter a reboot too."); err != nil {
		t.Fatal(err)
	}
	if err := c.Attach(ctx, r, connectors.Attachment{Filename: "trace.txt", ContentType: "text/plain", Data: []byte("hop 1")}); err != nil {
		t.Fatal(err)
	}
	notes := f.Ticket(id).Notes
	if len(notes) != 2 || !notes[0].Private || notes[0].Body != "<p>Still broken &lt;b&gt;today&lt;/b&gt;.<br>After a reboot too.</p>\n" {
		t.Fatalf("notes = %+v", notes)
	}
	if a := notes[1].Attachments; !notes[1].Private || len(a) != 1 || a[0].Name != "trace.txt" || string(a[0].Data) != "hop 1" {
		t.Errorf("attachment note = %+v", notes[1])
	}
	for name, call := range map[string]func() error{
		"status of a bad id":   func() error { _, err := c.Status(ctx, connectors.Remote{ID: "INC-1"}); return err },
		"empty comment":        func() error { return c.Comment(ctx, r, "  ") },
		"file name with slash": func() error { return c.Attach(ctx, r, connectors.Attachment{Filename: "a/b", Data: []byte("x")}) },
	} {
		if err := call(); connectors.ClassOf(err) != connectors.Permanent || err == nil {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
	if _, err := c.Status(ctx, connectors.Remote{ID: "999999"}); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("Status of a missing ticket = %v", err)
	}
}

// TestAttachmentLimit: files beyond Freshservice's 15 MB per ticket are
// left out of the create and named in the description.
func TestAttachmentLimit(t *testing.T) {
	f := startFake(t)
	noViolations(t, f)
	tk := conformance.Ticket()
	big := make([]byte, 9<<20)
	tk.Attachments = []connectors.Attachment{
		{Filename: "dump-1.bin", ContentType: "application/octet-stream", Data: big},
		{Filename: "dump-2.bin", ContentType: "application/octet-stream", Data: big},
	}
	got := ticketOf(t, f, conformance.MustCreate(t, conformance.MustBuild(t, connection(f.URL())), tk))
	if len(got.Attachments) != 2 || got.Attachments[1].Name != "dump-1.bin" {
		t.Errorf("attachments = %d", len(got.Attachments))
	}
	if !strings.Contains(got.Description, "Not attached") || !strings.Contains(got.Description, "dump-2.bin") {
		t.Errorf("description does not name the skipped file:\n%s", got.Description)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		opts      []fsfake.Option
		conn      func(*connectors.Connection, *fsfake.Fake)
		fault     *fake.Fault
		faultPath string // default: the ticket list
		class     connectors.Class
		status    int
		hint      string // in the error's Message; "" means Check succeeds
	}{
		{name: "ok"},
		{name: "external-id field present", opts: []fsfake.Option{fsfake.WithTicketrayField()},
			conn: opt("externalIdField", fsfake.ExternalIDField)},
		{name: "external-id field missing", conn: opt("externalIdField", fsfake.ExternalIDField),
			class: connectors.Permanent, hint: `no ticket field named "ticketray_id"`},
		{name: "wrong API key", conn: func(c *connectors.Connection, _ *fsfake.Fake) { c.Credentials.APIToken = "my-password" },
			class: connectors.Permanent, status: 401, hint: "agent's API key"},
		{name: "key in the wrong place for basic", conn: func(c *connectors.Connection, _ *fsfake.Fake) {
			c.Credentials = connectors.Credentials{Type: "basic", Username: "agent@example.com", Password: fsfake.APIKey}
		}, class: connectors.Permanent, status: 401, hint: "the key goes in username"},
		{name: "no permission", fault: &fake.Fault{Kind: fake.Respond, Code: 403, Body: `{"code":"access_denied","message":"You are not authorized to perform this action."}`},
			class: connectors.Permanent, status: 403, hint: "role that can view and create tickets"},
		{name: "no permission to filter", fault: &fake.Fault{Kind: fake.Respond, Code: 403, Body: `{"code":"access_denied","message":"You are not authorized to perform this action."}`},
			faultPath: "/api/v2/tickets/filter", class: connectors.Permanent, status: 403, hint: "role that can view and create tickets"},
		{name: "a workspace the filter refuses", conn: opt("workspaceId", 99),
			fault:     &fake.Fault{Kind: fake.Respond, Code: 400, Body: `{"description":"Validation failed","errors":[{"field":"workspace_id","message":"There is no workspace matching the given workspace_id","code":"invalid_value"}]}`},
			faultPath: "/api/v2/tickets/filter", class: connectors.Permanent, status: 400, hint: "check options.workspaceId and groupId"},
		{name: "not a Freshservice domain", fault: &fake.Fault{Kind: fake.Respond, Code: 404, Body: "<html>Page not found</html>"},
			class: connectors.Permanent, status: 404, hint: "custom CNAMEs do not work"},
		{name: "a sign-in page", fault: &fake.Fault{Kind: fake.Respond, Code: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"redirect":"/login"}`},
			class: connectors.Permanent, hint: "baseUrl must be the account's own domain"},
		{name: "an HTML page", fault: &fake.Fault{Kind: fake.Respond, Code: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>Sign in</html>"},
			class: connectors.Permanent, status: 200, hint: "baseUrl must be the account's own domain"},
		{name: "timeout", conn: func(c *connectors.Connection, _ *fsfake.Fake) { c.TimeoutMs = 200 }, fault: &fake.Fault{Kind: fake.Hang},
			class: connectors.Retryable, status: 0, hint: ""},
		{name: "unreachable", conn: func(c *connectors.Connection, _ *fsfake.Fake) {
			addr, err := fake.Reserve()
			if err != nil {
				panic(err)
			}
			c.BaseURL = "http://" + addr
		}, class: connectors.Offline, hint: "check the domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, tt.opts...)
			conn := connection(f.URL())
			if tt.conn != nil {
				tt.conn(&conn, f)
			}
			if tt.fault != nil {
				path := "/api/v2/tickets"
				if tt.faultPath != "" {
					path = tt.faultPath
				}
				f.Faults.Add(http.MethodGet, path, *tt.fault)
			}
			err := conformance.MustBuild(t, conn).Check(context.Background())
			if tt.hint == "" && tt.fault == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var e *connectors.Error
			if !errors.As(err, &e) {
				t.Fatalf("Check = %v, want *connectors.Error", err)
			}
			if e.Class != tt.class || e.Status != tt.status || !strings.Contains(e.Message, tt.hint) || (tt.hint == "" && e.Message != "") {
				t.Errorf("Check = class %v, status %d, message %q; want %v, %d, containing %q", e.Class, e.Status, e.Message, tt.class, tt.status, tt.hint)
			}
		})
	}
}

func opt(name string, v any) func(*connectors.Connection, *fsfake.Fake) {
	return func(c *connectors.Connection, _ *fsfake.Fake) { c.Options = options(map[string]any{name: v}) }
}

// TestBasicCredentials: the API key as the Basic user name, any password.
func TestBasicCredentials(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Credentials = connectors.Credentials{Type: "basic", Username: fsfake.APIKey, Password: "X"}
	c := conformance.MustBuild(t, conn)
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	conformance.MustCreate(t, c, conformance.Ticket())
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		conn  func(*connectors.Connection)
		field string // the field of the first problem; "" means valid
	}{
		{"defaults", func(*connectors.Connection) {}, ""},
		{"all options", func(c *connectors.Connection) {
			c.Options = options(map[string]any{"workspaceId": 3, "groupId": "14000000101", "source": 2, "externalIdField": "ticketray_id",
				"requesterEmail": "helpdesk@example.com", "customFields": map[string]any{"site": "Berlin", "floor": 3, "vip": true}})
		}, ""},
		{"bearer token", func(c *connectors.Connection) { c.Credentials = connectors.Credentials{Type: "bearer", Token: "t"} }, "credentials.type"},
		{"workspace not a number", func(c *connectors.Connection) { c.Options = options(map[string]any{"workspaceId": "IT"}) }, "options.workspaceId"},
		{"group zero", func(c *connectors.Connection) { c.Options = options(map[string]any{"groupId": 0}) }, "options.groupId"},
		{"field with cf_ and capitals", func(c *connectors.Connection) { c.Options = options(map[string]any{"externalIdField": "Ticketray ID"}) }, "options.externalIdField"},
		{"requester not an email", func(c *connectors.Connection) { c.Options = options(map[string]any{"requesterEmail": "helpdesk"}) }, "options.requesterEmail"},
		{"custom fields not an object", func(c *connectors.Connection) { c.Options = options(map[string]any{"customFields": []string{"a"}}) }, "options.customFields"},
		{"custom field value an object", func(c *connectors.Connection) {
			c.Options = options(map[string]any{"customFields": map[string]any{"site": map[string]any{}}})
		}, "options.customFields.site"},
		{"custom fields set the key field", func(c *connectors.Connection) {
			c.Options = options(map[string]any{"externalIdField": "ticketray_id", "customFields": map[string]any{"ticketray_id": "x"}})
		}, "options.customFields.ticketray_id"},
		{"priority out of range", mappings("priority", map[string]string{"high": "5"}), "mappings.priority.high"},
		{"urgency out of range", mappings("priority", map[string]string{"high": "3,4,1"}), "mappings.priority.high"},
		{"two values", mappings("priority", map[string]string{"default": "3,3"}), "mappings.priority.default"},
		{"a name", mappings("priority", map[string]string{"low": "Low"}), "mappings.priority.low"},
		{"triple with spaces", mappings("priority", map[string]string{"low": " 1, 1 ,1"}), ""},
		{"categories are free", mappings("category", map[string]string{"Network": "Network & VPN", "default": "Other"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := connection("http://127.0.0.1:1")
			tt.conn(&conn)
			errs := conn.Validate()
			switch {
			case tt.field == "" && len(errs) > 0:
				t.Errorf("Validate = %v, want none", errs)
			case tt.field != "" && (len(errs) == 0 || errs[0].Field != tt.field):
				t.Errorf("Validate = %v, want a problem with %s", errs, tt.field)
			}
			// New refuses what the validator refuses (credentials aside,
			// which the client builder rejects first).
			if tt.field != "" && tt.field != "credentials.type" {
				if _, err := conformance.Build(conn); err == nil {
					t.Error("Build succeeded on an invalid connection")
				}
			}
		})
	}
}

// TestErrorsCarryNoSecrets: error text may be logged; it must hold
// neither the API key nor ticket data.
func TestErrorsCarryNoSecrets(t *testing.T) {
	const wrongKey = "Wr0ng-But-Still-Secret"
	tk := conformance.Ticket()
	tk.User.Email = "carol.private@example.com"
	tk.Attachments = []connectors.Attachment{{Filename: "salary-review.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}}
	tests := []struct {
		name  string
		setup func(f *fsfake.Fake, c *connectors.Connection)
	}{
		{"wrong key", func(_ *fsfake.Fake, c *connectors.Connection) { c.Credentials.APIToken = wrongKey }},
		{"server error", func(f *fsfake.Fake, _ *connectors.Connection) {
			f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.Respond, Code: 500, Body: vendorErrors[500].Body})
		}},
		{"timeout", func(f *fsfake.Fake, c *connectors.Connection) {
			c.TimeoutMs = 200
			f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.Hang})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			tt.setup(f, &conn)
			_, err := conformance.MustBuild(t, conn).Create(context.Background(), tk)
			if err == nil {
				t.Fatal("no error")
			}
			for _, secret := range []string{fsfake.APIKey, wrongKey, tk.User.Email, tk.Summary, tk.Description, "salary"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
			}
		})
	}
}

// TestVendorErrorMessages checks every canned body's message and class.
func TestVendorErrorMessages(t *testing.T) {
	for code, ve := range vendorErrors {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := startFake(t)
			f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.Respond, Code: code, Body: ve.Body})
			_, err := conformance.MustBuild(t, connection(f.URL())).Create(context.Background(), conformance.Ticket())
			var e *connectors.Error
			if !errors.As(err, &e) || e.Status != code || e.Message != ve.Message || e.Class != connectors.StatusClass(code) {
				t.Fatalf("Create error = %#v; want status %d, message %q, class %v", err, code, ve.Message, connectors.StatusClass(code))
			}
		})
	}
}

// TestRateLimit: the fake's own 429 (Freshservice's headers, Retry-After
// in seconds) reaches the connector as a retryable error with the wait.
func TestRateLimit(t *testing.T) {
	f := startFake(t, fsfake.WithRateLimit(2)) // Check sends two requests
	c := conformance.MustBuild(t, connection(f.URL()))
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := c.Create(context.Background(), conformance.Ticket())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Retryable || e.Status != 429 || e.RetryAfter <= 0 || e.RetryAfter > 60e9 {
		t.Fatalf("Create after the limit = %#v", err)
	}
}

// TestFindFallbacks: Find asks the filter for the tag; with
// options.externalIdField also for the field (a 400, as Freshservice
// documents text fields not filterable, is no answer) and then looks
// through the tickets updated in the last hour, which the ticket list
// serves current while the filter's search index may lag a create.
func TestFindFallbacks(t *testing.T) {
	lagging := fsfake.WithIndexLag(time.Minute)
	twoHoursAgo := fsfake.WithClock(func() time.Time { return time.Now().Add(-2 * time.Hour) })
	tests := []struct {
		name           string
		opts           []fsfake.Option
		field          bool // options.externalIdField
		removeTag      bool
		found          bool
		filters, lists int
	}{
		{name: "tag", field: true, found: true, filters: 1},
		{name: "tag removed, field filterable", opts: []fsfake.Option{fsfake.WithFilterableText()}, field: true, removeTag: true, found: true, filters: 2},
		{name: "tag removed, field not filterable: recent tickets", field: true, removeTag: true, found: true, filters: 2, lists: 1},
		{name: "tag removed, older than the window", opts: []fsfake.Option{twoHoursAgo}, field: true, removeTag: true, filters: 2, lists: 1},
		{name: "index lag: recent tickets", opts: []fsfake.Option{lagging}, field: true, found: true, filters: 2, lists: 1},
		// The documented limit of the tag alone: a lagging index hides the
		// ticket, and the retry would create a second one.
		{name: "index lag without the field", opts: []fsfake.Option{lagging}, filters: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, append(tt.opts, fsfake.WithTicketrayField())...)
			noViolations(t, f)
			conn := connection(f.URL())
			opts := map[string]any{"groupId": fsfake.ServiceDeskGroupID}
			if tt.field {
				opts["externalIdField"] = fsfake.ExternalIDField
			}
			conn.Options = options(opts)
			c := conformance.MustBuild(t, conn)
			// Another connection's ticket in another group carries a key
			// too; it must never be taken.
			other := conn
			other.Name, other.Options = "Other", options(map[string]any{"groupId": fsfake.NetworkGroupID, "externalIdField": fsfake.ExternalIDField})
			conformance.MustCreate(t, conformance.MustBuild(t, other), conformance.Ticket())
			tk := conformance.Ticket()
			r := conformance.MustCreate(t, c, tk)
			if tt.removeTag {
				id, _ := strconv.ParseInt(r.ID, 10, 64)
				f.SetTags(id, "Ticketray")
			}
			before := len(f.Requests())
			got, err := c.Find(context.Background(), tk.IdempotencyKey)
			switch {
			case tt.found && (err != nil || got != r):
				t.Errorf("Find = %+v, %v; want %+v", got, err, r)
			case !tt.found && !errors.Is(err, connectors.ErrNotFound):
				t.Errorf("Find = %+v, %v; want ErrNotFound", got, err)
			}
			var filters []string
			lists := 0
			for _, req := range f.Requests()[before:] {
				switch req.Path {
				case "/api/v2/tickets/filter":
					filters = append(filters, req.Query["query"][0])
				case "/api/v2/tickets":
					lists++
					if req.Query["order_type"][0] != "desc" || req.Query["updated_since"][0] == "" {
						t.Errorf("list query = %v", req.Query)
					}
				}
			}
			if len(filters) != tt.filters || lists != tt.lists {
				t.Fatalf("filter queries %q and %d lists; want %d and %d", filters, lists, tt.filters, tt.lists)
			}
			if tt.filters == 2 {
				want := `"` + fsfake.ExternalIDField + `:'` + tk.IdempotencyKey + `' AND group_id:` + strconv.FormatInt(fsfake.ServiceDeskGroupID, 10) + `"`
				if filters[1] != want {
					t.Errorf("second query = %q, want %q", filters[1], want)
				}
			}
		})
	}
}

// TestRetryAfterForms: Retry-After in seconds (what Freshservice sends)
// and as a date-time (how Freshworks' spec types it) both become the
// wait.
func TestRetryAfterForms(t *testing.T) {
	for _, tt := range []struct {
		name, header string
		min, max     float64 // seconds
	}{
		{"seconds", "30", 30, 30},
		{"date-time", time.Now().Add(2 * time.Minute).UTC().Format(time.RFC3339), 100, 120},
		{"garbage", "soon", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.Respond, Code: 429, Header: http.Header{"Retry-After": {tt.header}}, Body: vendorErrors[429].Body})
			_, err := conformance.MustBuild(t, connection(f.URL())).Create(context.Background(), conformance.Ticket())
			var e *connectors.Error
			if !errors.As(err, &e) || e.Class != connectors.Retryable {
				t.Fatalf("Create = %v", err)
			}
			if s := e.RetryAfter.Seconds(); s < tt.min || s > tt.max {
				t.Errorf("RetryAfter = %v, want %v to %v s", e.RetryAfter, tt.min, tt.max)
			}
		})
	}
}

// TestUnknownCategory: a category the account does not have (400 on
// category) does not cost the report: it is created once without a
// category, and the description tells the agent why. Other 400s are not
// retried.
func TestUnknownCategory(t *testing.T) {
	f := startFake(t)
	noViolations(t, f)
	conn := connection(f.URL())
	conn.Mappings = map[string]map[string]string{"category": {"network": "Networking", "default": "Other"}}
	tk := conformance.Ticket()
	got := ticketOf(t, f, conformance.MustCreate(t, conformance.MustBuild(t, conn), tk))
	if got.Category != "" || !strings.Contains(got.Description, "The category &#34;Networking&#34; is not one of this account&#39;s categories") {
		t.Errorf("category %q, description:\n%s", got.Category, got.Description)
	}
	if n := f.Count(tk.IdempotencyKey); n != 1 {
		t.Errorf("%d tickets carry the key, want 1", n)
	}
	posts := 0
	for _, r := range f.Requests() {
		if r.Method == http.MethodPost && r.Path == createPath {
			posts++
		}
	}
	if posts != 2 {
		t.Errorf("%d creates sent, want 2 (the refused one and the one without a category)", posts)
	}

	f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.Respond, Code: 400, Body: vendorErrors[400].Body})
	before := len(f.Requests())
	if _, err := conformance.MustBuild(t, connection(f.URL())).Create(context.Background(), conformance.Ticket()); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("Create with a priority refused = %v, want permanent", err)
	}
	if n := len(f.Faults.Hits()) + len(f.Requests()) - before; n != 1 {
		t.Errorf("%d requests for a refused priority, want 1", n)
	}
}

// TestCustomFieldTypes: options.customFields values of each type reach
// the account in the JSON and in the multipart create, in forms the
// fields' types accept.
func TestCustomFieldTypes(t *testing.T) {
	for _, multipart := range []bool{false, true} {
		t.Run(map[bool]string{false: "JSON", true: "multipart"}[multipart], func(t *testing.T) {
			f := startFake(t, fsfake.WithCustomField("site", "custom_dropdown"), fsfake.WithCustomField("floor", "custom_number"),
				fsfake.WithCustomField("vip", "custom_checkbox"), fsfake.WithCustomField("since", "custom_date"))
			noViolations(t, f)
			conn := connection(f.URL())
			conn.Options = options(map[string]any{"customFields": map[string]any{"site": "Berlin", "floor": 3, "vip": true, "since": "2026-01-31"}})
			tk := conformance.Ticket()
			if !multipart {
				tk.SystemInfo = nil
			}
			got := ticketOf(t, f, conformance.MustCreate(t, conformance.MustBuild(t, conn), tk)).CustomFields
			want := map[string]any{"site": "Berlin", "floor": float64(3), "vip": true, "since": "2026-01-31"}
			if multipart {
				want = map[string]any{"site": "Berlin", "floor": "3", "vip": "true", "since": "2026-01-31"}
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

// TestFindTicketFromBeforeTheField: a ticket created before
// options.externalIdField was set (tag only, the field empty) is still
// the connection's own.
func TestFindTicketFromBeforeTheField(t *testing.T) {
	f := startFake(t, fsfake.WithTicketrayField())
	noViolations(t, f)
	before := connection(f.URL())
	tk := conformance.Ticket()
	r := conformance.MustCreate(t, conformance.MustBuild(t, before), tk)
	after := before
	after.Options = options(map[string]any{"externalIdField": fsfake.ExternalIDField})
	if got, err := conformance.MustBuild(t, after).Find(context.Background(), tk.IdempotencyKey); err != nil || got != r {
		t.Errorf("Find = %+v, %v; want %+v", got, err, r)
	}
}

// TestAdd: a reporter's addition is posted once, found by its key, and
// not posted again after a lost answer.
func TestAdd(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget {
		f := startFake(t)
		return conformance.AddTarget{
			Target:    target(f),
			AddMethod: http.MethodPost,
			AddPath:   createPath + "/",
			Comments:  func(t *testing.T, r connectors.Remote) []string { return f.Comments(mustID(t, r)) },
			Files:     func(t *testing.T, r connectors.Remote) int { return f.Files(mustID(t, r)) },
		}
	})
}

func mustID(t *testing.T, r connectors.Remote) int64 {
	t.Helper()
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil {
		t.Fatalf("remote id %q: %v", r.ID, err)
	}
	return id
}

// TestFindAdditionPages: FindAddition pages through the ticket's
// conversations, and the addition is one public note with its files and
// the marker.
func TestFindAdditionPages(t *testing.T) {
	ctx := context.Background()
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	ad := c.(connectors.Adder)
	r := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL())))
	id := mustID(t, r)
	for i := range 120 {
		if !f.Act(id, fsfake.AgentUpdate{Note: "note " + strconv.Itoa(i)}) {
			t.Fatal("no ticket")
		}
	}
	key := connectors.DeliveryKey(connectors.NewKey(), "add")
	if found, err := ad.FindAddition(ctx, r, key); err != nil || found {
		t.Fatalf("FindAddition before Add = %v, %v", found, err)
	}
	a := &connectors.Addition{Key: key, Text: "Still <broken>.", Author: connectors.User{Name: "Alice Example", Email: "alice@example.com"},
		Attachments: []connectors.Attachment{{Filename: "a.txt", ContentType: "text/plain", Data: []byte("a")}, {Filename: "b.txt", Data: []byte("b")}}}
	if err := ad.Add(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	before := len(f.Requests())
	if found, err := ad.FindAddition(ctx, r, key); err != nil || !found {
		t.Fatalf("FindAddition after Add = %v, %v", found, err)
	}
	if n := len(f.Requests()) - before; n != 2 {
		t.Errorf("FindAddition made %d requests, want 2 pages", n)
	}
	tk := f.Ticket(id)
	last := tk.Notes[len(tk.Notes)-1]
	want := "<p>Still &lt;broken&gt;.</p>\n<p>Added by Alice Example &lt;alice@example.com&gt; with Ticketray</p>\n<p>" + connectors.AdditionMarker(key) + "</p>"
	if last.Private || last.Body != want || len(last.Attachments) != 2 {
		t.Errorf("the addition's note = private %v, %d files, body %q; want public, 2 files, %q", last.Private, len(last.Attachments), last.Body, want)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}
