package jira

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/diagnostics"
)

// startFake starts a fresh fake for one test and, when the test ends,
// fails it if any request broke the Jira spec or contract.
func startFake(t *testing.T) *jirafake.Fake {
	t.Helper()
	f := jirafake.New()
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		for _, v := range f.Violations() {
			t.Errorf("jirafake violation: %s", v)
		}
	})
	return f
}

func connection(f *jirafake.Fake, options map[string]string) connectors.Connection {
	opts := map[string]json.RawMessage{"projectKey": json.RawMessage(`"IT"`), "issueType": json.RawMessage(`"Task"`)}
	for k, v := range options {
		opts[k] = json.RawMessage(v)
	}
	return connectors.Connection{
		Name: "Jira test", Type: "jira", BaseURL: f.URL(),
		Credentials: connectors.Credentials{Type: "api_token", Username: jirafake.Email, APIToken: jirafake.APIToken},
		Options:     opts,
	}
}

func newConnector(c connectors.Connection) (connectors.Connector, error) {
	hc, err := connectors.NewHTTPClient(c, connectors.ClientOptions{UserAgent: "Ticketray/test"})
	if err != nil {
		return nil, err
	}
	return connectors.New(c, connectors.Deps{HTTP: hc})
}

func mustConnector(t *testing.T, c connectors.Connection) *connector {
	t.Helper()
	cn, err := newConnector(c)
	if err != nil {
		t.Fatal(err)
	}
	return cn.(*connector)
}

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("jirafake", "testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Error bodies in Jira's formats: captured samples where there is one.
func vendorErrors(t *testing.T) map[int]conformance.VendorError {
	return map[int]conformance.VendorError{
		400: {Body: sample(t, "amplabs-create-issue-invalid-project.json"), Message: "project: Specify a valid project ID or key"},
		401: {Body: jirafake.MsgNotAuthenticated, Message: "Client must be authenticated"},
		404: {Body: sample(t, "amplabs-delete-issue-not-found.json"), Message: "Issue does not exist or you do not have permission to see it."},
		429: {Body: `{"errorMessages":["Rate limit exceeded."],"errors":{}}`, Message: "Rate limit exceeded."},
		500: {Body: `{"errorMessages":["Internal server error"],"errors":{}}`, Message: "Internal server error"},
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Target { return target(t, startFake(t)) })
}

// target is the conformance suites' view of a fake.
func target(t *testing.T, f *jirafake.Fake) conformance.Target {
	return conformance.Target{
		Connection:   connection(f, nil),
		Faults:       f.Faults,
		CreateMethod: http.MethodPost,
		CreatePath:   "/rest/api/3/issue",
		Count:        f.Count,
		Errors:       vendorErrors(t),
	}
}

// TestValidate: the Jira rules reach the config validator through the
// registry, each on its own field.
func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]string
		mapping map[string]string
		fields  []string
	}{
		{"valid", nil, nil, nil},
		{"no project", map[string]string{"projectKey": `""`}, nil, []string{"options.projectKey"}},
		{"no issue type", map[string]string{"issueType": `""`}, nil, []string{"options.issueType"}},
		{"components not names", map[string]string{"components": `{"a":1}`}, nil, []string{"options.components"}},
		{"priority names", nil, map[string]string{"critical": "Highest", "default": "Medium"}, nil},
		{"empty priority leaves it out", nil, map[string]string{"default": ""}, nil},
		{"priority name with padding", nil, map[string]string{"high": " High"}, []string{"mappings.priority.high"}},
		{"not a priority key", nil, map[string]string{"p1": "Highest"}, []string{"mappings.priority.p1"}},
		{"rate limit", map[string]string{"rateLimitPerSecond": `0`}, nil, []string{"options.rateLimitPerSecond"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connection(startFake(t), tt.options)
			if tt.mapping != nil {
				c.Mappings = map[string]map[string]string{"priority": tt.mapping}
			}
			var fields []string
			for _, e := range c.Validate() {
				fields = append(fields, e.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("Validate fields = %v, want %v", fields, tt.fields)
			}
		})
	}
}

// TestSharedSite: two Jira connections to one site, each creating in its
// own project. The site's search spans both projects.
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t)
		f.AddProject(jirafake.Project{ID: "10100", Key: "OPS", Name: "Operations", IssueTypes: []string{"Task"}})
		it := connection(f, nil)
		it.Name = "Jira IT"
		ops := connection(f, map[string]string{"projectKey": `"OPS"`})
		ops.Name = "Jira Ops"
		return conformance.Site{
			Connections: []conformance.Placed{
				{Connection: it, Where: jirafake.ProjectKey, CreateMethod: http.MethodPost, CreatePath: "/rest/api/3/issue"},
				{Connection: ops, Where: "OPS", CreateMethod: http.MethodPost, CreatePath: "/rest/api/3/issue"},
			},
			Faults: f.Faults,
			Places: f.ProjectsOf,
		}
	})
}

func TestRetryAfterFromRateLimitReset(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 4, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"ISO 8601 reset, minutes precision", http.Header{"X-Ratelimit-Reset": {"2026-11-23T10:05Z"}}, time.Minute},
		{"Retry-After wins over the reset", http.Header{"X-Ratelimit-Reset": {"2026-11-23T10:05Z"}, "Retry-After": {"7"}}, 7 * time.Second},
		{"reset in the past", http.Header{"X-Ratelimit-Reset": {"2026-11-23T10:03Z"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			c := mustConnector(t, connection(f, nil))
			c.api.Now = func() time.Time { return now }
			f.Faults.Add(http.MethodPost, "/rest/api/3/issue", fake.Fault{Kind: fake.Respond, Code: 429, Header: tt.header,
				Body: `{"errorMessages":["Rate limit exceeded."],"errors":{}}`})
			_, err := c.Create(context.Background(), conformance.Ticket())
			var e *connectors.Error
			if !errors.As(err, &e) || e.Class != connectors.Retryable || e.Status != 429 {
				t.Fatalf("Create = %v, want a retryable 429", err)
			}
			if e.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.want)
			}
		})
	}
}

func richTicket() *connectors.Ticket {
	tk := conformance.Ticket()
	tk.Description = "Since Monday the VPN disconnects.\r\nAbout once an hour.\n\nIt reconnects by itself."
	tk.SystemInfo = &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", Architecture: "amd64", DeviceName: "lap-42",
		CPUModel: "Ryzen 7", CPUCores: 8, MemoryTotalMB: 16000, MemoryUsedMB: 4000, Timezone: "UTC", Partial: true}
	tk.SkillResults = []diagnostics.SkillResult{
		{SkillID: "dns-flush", SkillName: "Flush DNS cache", Status: "success", Output: "flushed\nok", ExecutionTimeMs: 120},
		{SkillID: "ping", SkillName: "Ping gateway", Status: "failed", ExecutionTimeMs: 3000},
	}
	return tk
}

func TestCreateIssueShape(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	tk := richTicket()
	r, err := c.Create(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.URL() + "/browse/IT-1"; r.URL != want || r.Number != "IT-1" {
		t.Errorf("Remote = %+v, want number IT-1 and URL %s", r, want)
	}
	issues := f.Issues()
	if len(issues) != 1 {
		t.Fatalf("fake holds %d issues", len(issues))
	}
	is := issues[0]
	if is.Summary != tk.Summary || is.IssueType != "Task" || is.ProjectKey != "IT" || is.Priority != "High" {
		t.Errorf("issue = summary %q type %q project %q priority %q", is.Summary, is.IssueType, is.ProjectKey, is.Priority)
	}
	if err := jirafake.CheckADF(is.Description); err != nil {
		t.Fatalf("description is not valid ADF: %v", err)
	}
	var doc Doc
	if err := json.Unmarshal(is.Description, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "doc" || doc.Version != 1 {
		t.Errorf("doc = type %q version %d", doc.Type, doc.Version)
	}

	// The description's paragraphs come first: a blank line separates
	// them and a single newline is a hard break.
	if len(doc.Content) < 2 || doc.Content[0].Type != "paragraph" || doc.Content[1].Type != "paragraph" {
		t.Fatalf("first nodes = %+v, want two paragraphs", doc.Content[:2])
	}
	p0 := doc.Content[0].Content
	if len(p0) != 3 || p0[0].Text != "Since Monday the VPN disconnects." || p0[1].Type != "hardBreak" || p0[2].Text != "About once an hour." {
		t.Errorf("first paragraph = %+v", p0)
	}
	if got := doc.Content[1].Content[0].Text; got != "It reconnects by itself." {
		t.Errorf("second paragraph = %q", got)
	}

	var headings []string
	var code []string
	var items []string
	for _, n := range doc.Content[2:] {
		switch n.Type {
		case "heading":
			if n.Attrs["level"] != float64(3) {
				t.Errorf("heading level = %v", n.Attrs["level"])
			}
			headings = append(headings, n.Content[0].Text)
		case "codeBlock":
			code = append(code, n.Content[0].Text)
		case "bulletList":
			for _, li := range n.Content {
				p := li.Content[0]
				var s string
				for _, tn := range p.Content {
					s += tn.Text
				}
				items = append(items, s)
			}
		case "paragraph":
			t.Errorf("unexpected paragraph after the description: %+v", n)
		}
	}
	wantHeadings := []string{"Reported by", "System information", "Skill: Flush DNS cache", "Skill: Ping gateway", "Ticketray"}
	if !slices.Equal(headings, wantHeadings) {
		t.Errorf("headings = %q, want %q", headings, wantHeadings)
	}
	if !slices.Equal(code, []string{"flushed\nok"}) {
		t.Errorf("code blocks = %q", code)
	}
	for _, want := range []string{"Email: alice@example.com", "OS: debian 12", "CPU: Ryzen 7 (8 cores)", "Memory: 4000 MB used of 16000 MB",
		"Note: some probes failed; this information is incomplete", "Status: failed", "Duration: 3000 ms", "Priority: high", "Category: Network"} {
		if !slices.Contains(items, want) {
			t.Errorf("no list item %q in %q", want, items)
		}
	}
	if !slices.Equal(is.Labels, []string{"ticketray", "ticketray-" + tk.IdempotencyKey, "Network"}) {
		t.Errorf("labels = %q", is.Labels)
	}
}

func TestPriorityMapping(t *testing.T) {
	tests := []struct {
		name     string
		mappings map[string]string
		priority connectors.Priority
		want     string // "" = no priority field, the project default applies
	}{
		{"vendor default critical", nil, connectors.PriorityCritical, "Highest"},
		{"vendor default low", nil, connectors.PriorityLow, "Low"},
		{"override", map[string]string{"critical": "High", "low": "Lowest"}, connectors.PriorityLow, "Lowest"},
		// A configured table replaces the built-in one: unlisted priorities
		// take its default row (ARCHITECTURE's {"critical","high","default"}).
		{"configured default row covers unlisted priorities", map[string]string{"critical": "Highest", "high": "High", "default": "Low"}, connectors.PriorityMedium, "Low"},
		{"configured row wins over its default", map[string]string{"high": "High", "default": "Lowest"}, connectors.PriorityHigh, "High"},
		{"only a default row", map[string]string{"default": "Lowest"}, connectors.PriorityHigh, "Lowest"},
		{"empty value leaves priority out", map[string]string{"medium": ""}, connectors.PriorityMedium, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f, nil)
			if tt.mappings != nil {
				conn.Mappings = map[string]map[string]string{"priority": tt.mappings}
			}
			c := mustConnector(t, conn)
			tk := conformance.Ticket()
			tk.Priority = tt.priority
			if _, err := c.Create(context.Background(), tk); err != nil {
				t.Fatal(err)
			}
			is := f.Issues()[0]
			_, sent := is.Fields["priority"]
			if tt.want == "" {
				if sent {
					t.Errorf("priority sent: %s", is.Fields["priority"])
				}
				return
			}
			if string(is.Fields["priority"]) != `{"name":"`+tt.want+`"}` {
				t.Errorf("priority = %s, want name %q", is.Fields["priority"], tt.want)
			}
		})
	}

	// The default row comes from defaultPriority and is what any value
	// without its own row maps to.
	conn := connectors.Connection{DefaultPriority: "high"}
	if got := conn.PriorityTable(VendorPriorities)[connectors.DefaultRow]; got != "High" {
		t.Errorf("default row = %q, want High", got)
	}
	if got := conn.MapPriority("unknown", VendorPriorities); got != "High" {
		t.Errorf("MapPriority(unknown) = %q, want the default row High", got)
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name     string
		category string
		mapping  map[string]string
		want     string // the category label, "" for none
	}{
		{"label-safe category", "Network", nil, "Network"},
		{"category with a space is left out", "IT Support", nil, ""},
		{"mapped to a label-safe value", "IT Support", map[string]string{"IT Support": "it-support", "default": "other"}, "it-support"},
		{"no category", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f, nil)
			if tt.mapping != nil {
				conn.Mappings = map[string]map[string]string{"category": tt.mapping}
			}
			c := mustConnector(t, conn)
			tk := conformance.Ticket()
			tk.Category = tt.category
			if _, err := c.Create(context.Background(), tk); err != nil {
				t.Fatal(err)
			}
			want := []string{"ticketray", "ticketray-" + tk.IdempotencyKey}
			if tt.want != "" {
				want = append(want, tt.want)
			}
			if got := f.Issues()[0].Labels; !slices.Equal(got, want) {
				t.Errorf("labels = %q, want %q", got, want)
			}
			// Find searches by the key's label.
			r, err := c.Find(context.Background(), tk.IdempotencyKey)
			if err != nil || r.Number != "IT-1" {
				t.Errorf("Find = %+v, %v", r, err)
			}
		})
	}
}

func TestComponents(t *testing.T) {
	tests := []struct {
		name    string
		option  string
		want    []string
		wantErr string
	}{
		{"array", `["Network","Hardware"]`, []string{"Network", "Hardware"}, ""},
		{"comma-separated string", `"Software, Network"`, []string{"Software", "Network"}, ""},
		{"unknown component", `["Printers"]`, nil, "components: Component name 'Printers' is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			c := mustConnector(t, connection(f, map[string]string{"components": tt.option}))
			_, err := c.Create(context.Background(), conformance.Ticket())
			if tt.wantErr != "" {
				var e *connectors.Error
				if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != 400 || !strings.Contains(e.Message, tt.wantErr) {
					t.Fatalf("Create = %v, want a permanent 400 with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Issues()[0].Components; !slices.Equal(got, tt.want) {
				t.Errorf("components = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := newConnector(connection(startFake(t), map[string]string{"components": `{"a":1}`})); err == nil {
		t.Error("New accepted components that are not a list")
	}
}

func TestUnknownProject(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, map[string]string{"projectKey": `"NOPE"`}))
	_, err := c.Create(context.Background(), conformance.Ticket())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != 400 {
		t.Fatalf("Create = %v, want a permanent 400", err)
	}
	if e.Message != "project: Specify a valid project ID or key" {
		t.Errorf("message = %q", e.Message)
	}
	if len(f.Issues()) != 0 {
		t.Error("an issue was created")
	}
	err = c.Check(context.Background())
	if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != 404 || !strings.Contains(e.Message, "No project could be found with key 'NOPE'") {
		t.Errorf("Check = %v, want a permanent 404 naming the project", err)
	}
}

func TestUnknownIssueType(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, map[string]string{"issueType": `"Epicc"`}))
	_, err := c.Create(context.Background(), conformance.Ticket())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Message != "issuetype: Specify an issue type" {
		t.Fatalf("Create = %v, want a permanent 400 with the issue type message", err)
	}
}

func TestAttach(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	r, err := c.Create(context.Background(), conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("line one\nline two\n")
	a := connectors.Attachment{Filename: "vpn log.txt", ContentType: "text/plain", Data: data, SizeBytes: int64(len(data))}
	if err := c.Attach(context.Background(), r, a); err != nil {
		t.Fatalf("Attach: %v", err)
	}
	is, _ := f.Issue(r.Number)
	if len(is.Attachments) != 1 {
		t.Fatalf("attachments = %d", len(is.Attachments))
	}
	got := is.Attachments[0]
	if got.Filename != "vpn log.txt" || got.MimeType != "text/plain" || string(got.Data) != string(data) {
		t.Errorf("attachment = %q %q %q", got.Filename, got.MimeType, got.Data)
	}

	// Without the XSRF header Jira refuses the upload; the connector's
	// error carries Jira's text.
	err = c.Attach(context.Background(), connectors.Remote{Number: "IT-999"}, a)
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Class != connectors.Permanent || !strings.Contains(e.Message, jirafake.MsgIssueNotFound) {
		t.Errorf("Attach to a missing issue = %v, want a permanent 404", err)
	}
	f.Faults.Add(http.MethodPost, "/rest/api/3/issue/", fake.Fault{Kind: fake.Respond, Code: 403, Header: http.Header{"Content-Type": {"text/plain;charset=UTF-8"}}, Body: jirafake.MsgXSRF})
	err = c.Attach(context.Background(), r, a)
	if !errors.As(err, &e) || e.Status != 403 || e.Class != connectors.Permanent || e.Message != jirafake.MsgXSRF {
		t.Errorf("Attach refused by XSRF = %v, want a permanent 403 %q", err, jirafake.MsgXSRF)
	}
}

func TestStatusAndComment(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, r)
	if err != nil || st.Status != "To Do" || st.UpdatedAt.IsZero() || st.Number != r.Number {
		t.Errorf("Status = %+v, %v", st, err)
	}
	f.SetStatus(r.Number, "In Progress")
	if st, err := c.Status(ctx, connectors.Remote{Number: r.Number}); err != nil || st.Status != "In Progress" || st.ID != r.ID {
		t.Errorf("Status by key = %+v, %v", st, err)
	}
	if err := c.Comment(ctx, r, "First line\nsecond line\n\nNew paragraph"); err != nil {
		t.Fatal(err)
	}
	is, _ := f.Issue(r.ID)
	if len(is.Comments) != 1 {
		t.Fatalf("comments = %d", len(is.Comments))
	}
	var doc Doc
	if err := json.Unmarshal(is.Comments[0].Body, &doc); err != nil || len(doc.Content) != 2 {
		t.Errorf("comment body = %s", is.Comments[0].Body)
	}
	if err := c.Comment(ctx, r, "  "); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("empty comment = %v, want permanent", err)
	}

	_, err = c.Status(ctx, connectors.Remote{ID: "99999"})
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Class != connectors.Permanent || e.Message != jirafake.MsgIssueNotFound {
		t.Errorf("Status of a missing issue = %v", err)
	}
	if _, err := c.Status(ctx, connectors.Remote{Number: "../myself"}); connectors.ClassOf(err) != connectors.Permanent || errors.As(err, &e) && e.Status != 0 {
		t.Errorf("Status with a path in the key = %v, want refused before sending", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		canCreate bool
		creds     connectors.Credentials
		status    int    // 0 = no error
		message   string // in the error's Message
	}{
		{"allowed, API token", true, connectors.Credentials{Type: "api_token", Username: jirafake.Email, APIToken: jirafake.APIToken}, 0, ""},
		{"allowed, bearer", true, connectors.Credentials{Type: "bearer", Token: jirafake.BearerToken}, 0, ""},
		{"no CREATE_ISSUES", false, connectors.Credentials{Type: "api_token", Username: jirafake.Email, APIToken: jirafake.APIToken}, -1, "lacks the CREATE_ISSUES permission"},
		{"bad token", true, connectors.Credentials{Type: "api_token", Username: jirafake.Email, APIToken: "nope"}, 401, "Client must be authenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			f.SetPermission("CREATE_ISSUES", tt.canCreate)
			conn := connection(f, nil)
			conn.Credentials = tt.creds
			err := mustConnector(t, conn).Check(context.Background())
			if tt.status == 0 {
				if err != nil {
					t.Errorf("Check = %v", err)
				}
				return
			}
			var e *connectors.Error
			if !errors.As(err, &e) || e.Class != connectors.Permanent || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("Check = %v, want permanent with %q", err, tt.message)
			}
			if tt.status > 0 && e.Status != tt.status {
				t.Errorf("status = %d, want %d", e.Status, tt.status)
			}
		})
	}
}

func TestNewRequiresProjectKey(t *testing.T) {
	conn := connectors.Connection{Name: "x", Type: "jira", BaseURL: "https://example.atlassian.net"}
	if _, err := New(conn, connectors.Deps{HTTP: http.DefaultClient}); err == nil || !strings.Contains(err.Error(), "projectKey") {
		t.Errorf("New without projectKey = %v", err)
	}
}

func TestSiteURLForBrowseLinks(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, map[string]string{"siteUrl": `"https://example.atlassian.net/"`}))
	r, err := c.Create(context.Background(), conformance.Ticket())
	if err != nil || r.URL != "https://example.atlassian.net/browse/IT-1" {
		t.Errorf("Create = %+v, %v", r, err)
	}
}
