package zendesk_test

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
	"github.com/ticketray/ticketray/diagnostics"
)

// fixedTicket is a ticket with every field set and nothing random, for
// golden files.
func fixedTicket() *connectors.Ticket {
	return &connectors.Ticket{
		Summary:     "VPN drops every hour",
		Description: "Since Monday the VPN disconnects about once an hour.\nReconnecting works.",
		Category:    "Remote access",
		Priority:    connectors.PriorityCritical,
		User:        connectors.User{ID: "bob", Name: "Bob Example", Email: "bob@example.com"},
		SystemInfo: &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", OSBuild: "6.1.0", Architecture: "amd64",
			DeviceName: "lap-42", DeviceID: "dev-1", CPUModel: "Ryzen 7", CPUCores: 8, MemoryTotalMB: 16000, MemoryUsedMB: 5000,
			UptimeSeconds: 7200, Timezone: "Europe/Berlin"},
		SkillResults: []diagnostics.SkillResult{
			{SkillID: "dns-flush", SkillName: "Flush DNS cache", Status: "success", Output: "flushed\n2 entries", ExecutionTimeMs: 120},
			{SkillID: "ping-gw", Status: "failed", ExecutionTimeMs: 3000},
		},
		Context: connectors.Context{AppVersion: "1.4.0", SessionID: "s-1", CorrelationID: "c-1",
			TroubleshootingSession: &connectors.TroubleshootingSession{DurationMs: 3120, StepsAttempted: 2, StepsSuccessful: 1}},
		Attachments:    []connectors.Attachment{{Filename: "vpn.log", ContentType: "text/plain", Data: []byte("log line"), SizeBytes: 8}},
		CreatedAt:      time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		IdempotencyKey: "0123456789abcdef0123456789abcdef",
	}
}

// TestCreateRequest pins the create request on the wire: the body (golden
// file), the Idempotency-Key and API token authentication.
func TestCreateRequest(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Options = map[string]json.RawMessage{"groupId": json.RawMessage(strconv.FormatInt(zdfake.NetworkGroupID, 10))}
	r, err := conformance.MustBuild(t, conn).Create(context.Background(), fixedTicket())
	if err != nil {
		t.Fatal(err)
	}
	var create zdfake.Request
	for _, rq := range f.Requests() {
		if rq.Method == http.MethodPost && rq.Path == ticketsPath {
			create = rq
		}
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, create.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	conformance.Golden(t, "testdata/create-request.golden.json", append(pretty.Bytes(), '\n'))
	if got := create.Header.Get("Idempotency-Key"); got != fixedTicket().IdempotencyKey {
		t.Errorf("Idempotency-Key = %q", got)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(zdfake.Email+"/token:"+zdfake.APIToken))
	if got := create.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization is not <email>/token:<token>")
	}
	if want := f.URL() + "/agent/tickets/" + r.ID; r.URL != want || r.Number != r.ID {
		t.Errorf("remote = %+v, want URL %s", r, want)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestCreatedTicket checks what lands in Zendesk: requester, tags,
// priority, group, the description, and the attachments in one private
// comment.
func TestCreatedTicket(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Options = map[string]json.RawMessage{"brandId": json.RawMessage(strconv.FormatInt(zdfake.ITBrandID, 10))}
	r, err := conformance.MustBuild(t, conn).Create(context.Background(), fixedTicket())
	if err != nil {
		t.Fatal(err)
	}
	id, _ := strconv.ParseInt(r.ID, 10, 64)
	tk, ok := f.Ticket(id)
	if !ok {
		t.Fatalf("no ticket %s", r.ID)
	}
	bob, ok := f.User("bob@example.com")
	if !ok || bob.Name != "Bob Example" || bob.Role != "end-user" {
		t.Errorf("requester user = %+v, %v", bob, ok)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"subject", tk.Subject, "VPN drops every hour"},
		{"priority", tk.Priority, "urgent"},
		{"tags", tk.Tags, []string{"ticketray", "remote_access"}},
		{"requester", tk.RequesterID, bob.ID},
		{"brand", tk.BrandID, zdfake.ITBrandID},
		{"group", tk.GroupID, int64(0)},
		{"comments", len(tk.Comments), 2},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if len(tk.Comments) == 2 {
		files := tk.Comments[1]
		var names []string
		for _, a := range files.Attachments {
			names = append(names, a.FileName+" "+a.ContentType)
		}
		if files.Public || !slices.Equal(names, []string{"systeminfo.json application/json", "vpn.log text/plain"}) {
			t.Errorf("attachment comment = public %v, files %v", files.Public, names)
		}
		if !tk.Comments[0].Public {
			t.Error("the description is not public")
		}
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestDescription pins the first comment's text (golden file).
func TestDescription(t *testing.T) {
	f := startFake(t)
	r, err := conformance.MustBuild(t, connection(f.URL())).Create(context.Background(), fixedTicket())
	if err != nil {
		t.Fatal(err)
	}
	id, _ := strconv.ParseInt(r.ID, 10, 64)
	tk, _ := f.Ticket(id)
	conformance.Golden(t, "testdata/description.golden.txt", []byte(tk.Description+"\n"))

	long := fixedTicket()
	long.IdempotencyKey = connectors.NewKey()
	long.Description = strings.Repeat("x", 70000)
	r, err = conformance.MustBuild(t, connection(f.URL())).Create(context.Background(), long)
	if err != nil {
		t.Fatal(err)
	}
	id, _ = strconv.ParseInt(r.ID, 10, 64)
	tk, _ = f.Ticket(id)
	if n := len([]rune(tk.Description)); n > 60000 || !strings.Contains(tk.Description, "Reported with Ticketray") {
		t.Errorf("a long description is %d characters, sections kept: %v", n, strings.Contains(tk.Description, "Reported with Ticketray"))
	}
}

// TestPriorityTable: built-in rows, a config table and its default row.
func TestPriorityTable(t *testing.T) {
	tests := []struct {
		name     string
		mappings map[string]string
		def      string
		prio     connectors.Priority
		want     string
	}{
		{"built-in critical", nil, "", connectors.PriorityCritical, "urgent"},
		{"built-in medium", nil, "", connectors.PriorityMedium, "normal"},
		{"built-in low", nil, "", connectors.PriorityLow, "low"},
		{"config row", map[string]string{"critical": "high", "default": "low"}, "", connectors.PriorityCritical, "high"},
		{"config default row", map[string]string{"critical": "high", "default": "low"}, "", connectors.PriorityMedium, "low"},
		{"defaultPriority picks the default row", map[string]string{"high": "urgent"}, "high", connectors.PriorityLow, "urgent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			conn.DefaultPriority = tt.def
			if tt.mappings != nil {
				conn.Mappings = map[string]map[string]string{"priority": tt.mappings}
			}
			tk := conformance.Delivery(conformance.Ticket(), conn)
			tk.Priority = tt.prio
			if _, err := conformance.MustBuild(t, conn).Create(context.Background(), tk); err != nil {
				t.Fatal(err)
			}
			if got := f.Tickets()[0].Priority; got != tt.want {
				t.Errorf("priority = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRetryAfterKeyExpired: Zendesk forgets an Idempotency-Key after two
// hours; a queue offline longer must find before it creates again.
func TestRetryAfterKeyExpired(t *testing.T) {
	clk := fake.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	f := startFake(t, zdfake.WithClock(clk.Now))
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	tk := conformance.Delivery(conformance.Ticket(), conn)
	f.Faults.Add(http.MethodPost, ticketsPath, fake.Fault{Kind: fake.ResetAfter})
	if _, err := c.Create(context.Background(), tk); connectors.ClassOf(err) != connectors.Retryable {
		t.Fatalf("Create through a reset = %v, want retryable", err)
	}
	clk.Advance(zdfake.KeyLifetime + time.Minute)
	r, err := c.Find(context.Background(), tk.IdempotencyKey)
	if err != nil {
		t.Fatalf("Find after the key expired: %v", err)
	}
	if n := f.Count(tk.IdempotencyKey); n != 1 {
		t.Errorf("%d tickets carry the key, want 1", n)
	}
	if r.ID != strconv.FormatInt(f.Tickets()[0].ID, 10) {
		t.Errorf("Find = %+v", r)
	}
}

// TestIdempotencyMismatch: the same key with another body (the priority
// table changed between attempts) is refused by Zendesk; Create then
// finds the ticket the first attempt made.
func TestIdempotencyMismatch(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	tk := conformance.Delivery(conformance.Ticket(), conn)
	first, err := conformance.MustBuild(t, conn).Create(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	conn.Mappings = map[string]map[string]string{"priority": {"default": "low"}}
	again, err := conformance.MustBuild(t, conn).Create(context.Background(), tk)
	if err != nil || again.ID != first.ID {
		t.Errorf("second Create = %+v, %v; want %+v", again, err, first)
	}
	if n := f.Count(tk.IdempotencyKey); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
}

// TestStatus reads the status an agent set.
func TestStatus(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	r, err := c.Create(context.Background(), conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"new", "open", "pending", "hold", "solved", "closed"} {
		id, _ := strconv.ParseInt(r.ID, 10, 64)
		if want != "new" {
			f.SetStatus(id, want)
		}
		st, err := c.Status(context.Background(), r)
		if err != nil || st.Status != want || st.UpdatedAt.IsZero() {
			t.Errorf("Status = %+v, %v; want %s", st, err, want)
		}
	}
	if _, err := c.Status(context.Background(), connectors.Remote{ID: "INC1"}); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("Status of a bad id = %v", err)
	}
	if err := c.Comment(context.Background(), r, "late note"); status(err) != http.StatusUnprocessableEntity {
		t.Errorf("Comment on a closed ticket = %v, want 422", err)
	}
}

// TestCheck: `connections test` explains the usual setup mistakes.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		cred   connectors.Credentials
		fault  *fake.Fault
		path   string
		status int
		hint   string // a substring of the error, "" for success
	}{
		{"api token", tokenCredentials(), nil, "", 0, ""},
		{"username with /token already", connectors.Credentials{Type: "api_token", Username: zdfake.Email + "/token", APIToken: zdfake.APIToken}, nil, "", 0, ""},
		{"OAuth token", connectors.Credentials{Type: "bearer", Token: zdfake.OAuthToken}, nil, "", 0, ""},
		{"wrong API token", connectors.Credentials{Type: "api_token", Username: zdfake.Email, APIToken: "nope"}, nil, "", 401, "username must be the agent's email"},
		{"another agent's email", connectors.Credentials{Type: "api_token", Username: "someone@example.com", APIToken: zdfake.APIToken}, nil, "", 401, "Couldn't authenticate you"},
		{"expired OAuth token", connectors.Credentials{Type: "bearer", Token: "old"}, nil, "", 401, "OAuth access token"},
		{"end user's OAuth token", connectors.Credentials{Type: "bearer", Token: zdfake.EndUserOAuthToken}, nil, "", 403, "end user"},
		{"may not list tickets", tokenCredentials(), &fake.Fault{Kind: fake.Respond, Code: 403, Body: vendorErrors[403].Body}, ticketsPath, 403, "agent role"},
		{"unclaimed subdomain", tokenCredentials(), &fake.Fault{Kind: fake.Respond, Code: 404, Header: http.Header{"Content-Type": {"text/plain"}}, Body: "There is no help desk configured at this address. This means that the address is available and that you can claim it at http://www.zendesk.com/signup\n"}, "/api/v2/users/me", 404, "There is no help desk configured at this address"},
		{"redirect to another host", tokenCredentials(), &fake.Fault{Kind: fake.Respond, Code: 301, Header: http.Header{"Location": {"https://www.zendesk.com/app/help-center-closed"}}}, "/api/v2/users/me", 0, "redirects to another host"},
		{"not a Zendesk account", tokenCredentials(), &fake.Fault{Kind: fake.Respond, Code: 404, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>Help Center Closed</html>"}, "/api/v2/users/me", 404, "https://<subdomain>.zendesk.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			conn.Credentials = tt.cred
			if tt.fault != nil {
				f.Faults.Add(http.MethodGet, tt.path, *tt.fault)
			}
			err := conformance.MustBuild(t, conn).Check(context.Background())
			if tt.hint == "" {
				if err != nil {
					t.Errorf("Check = %v", err)
				}
				return
			}
			if status(err) != tt.status || connectors.ClassOf(err) != connectors.Permanent || err == nil || !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("Check = %v (status %d); want a permanent %d mentioning %q", err, status(err), tt.status, tt.hint)
			}
			if err != nil && (strings.Contains(err.Error(), zdfake.APIToken) || strings.Contains(err.Error(), "nope")) {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// TestValidate: the config rules the shared validator applies to zendesk
// connections.
func TestValidate(t *testing.T) {
	base := func() connectors.Connection { return connection("https://acme.zendesk.com") }
	tests := []struct {
		name  string
		edit  func(*connectors.Connection)
		field string // the one problem's field, "" for none
	}{
		{"valid", func(*connectors.Connection) {}, ""},
		{"bearer", func(c *connectors.Connection) {
			c.Credentials = connectors.Credentials{Type: "bearer", Token: "env:ZD_TOKEN"}
		}, ""},
		{"username from the keyring", func(c *connectors.Connection) { c.Credentials.Username = "keyring:zd-user" }, ""},
		{"basic (password) auth", func(c *connectors.Connection) {
			c.Credentials = connectors.Credentials{Type: "basic", Username: "a@example.com", Password: "p"}
		}, "credentials.type"},
		{"username not an email", func(c *connectors.Connection) { c.Credentials.Username = "agent" }, "credentials.username"},
		{"baseUrl with /api/v2", func(c *connectors.Connection) { c.BaseURL = "https://acme.zendesk.com/api/v2" }, "baseUrl"},
		{"group id not a number", func(c *connectors.Connection) {
			c.Options = map[string]json.RawMessage{"groupId": json.RawMessage(`"Support"`)}
		}, "options.groupId"},
		{"brand id", func(c *connectors.Connection) {
			c.Options = map[string]json.RawMessage{"brandId": json.RawMessage(`360000000202`)}
		}, ""},
		{"priority value not Zendesk's", func(c *connectors.Connection) {
			c.Mappings = map[string]map[string]string{"priority": {"high": "medium"}}
		}, "mappings.priority.high"},
		{"category value with a space", func(c *connectors.Connection) {
			c.Mappings = map[string]map[string]string{"category": {"Network": "network issue", "default": "it"}}
		}, "mappings.category.Network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			errs := c.Validate()
			switch {
			case tt.field == "" && len(errs) > 0:
				t.Errorf("Validate = %v, want none", errs)
			case tt.field != "" && (len(errs) != 1 || errs[0].Field != tt.field):
				t.Errorf("Validate = %v, want one problem with %s", errs, tt.field)
			}
		})
	}
}

func status(err error) int {
	var e *connectors.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func TestREADMEExample(t *testing.T) {
	conformance.READMEExample(t, "#### Zendesk Support", "zendesk")
}
