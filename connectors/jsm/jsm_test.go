package jsm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/connectors/jsm/jsmfake"
)

// startFake starts a fresh site for one test and, when the test ends,
// fails it if any request broke the JSM or Jira spec or contract.
func startFake(t *testing.T) *jsmfake.Fake {
	t.Helper()
	f := jsmfake.New()
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		for _, v := range f.Violations() {
			t.Errorf("jsmfake violation: %s", v)
		}
	})
	return f
}

// connection points at f; serviceDeskId is a JSON number, as admins write
// it.
func connection(f *jsmfake.Fake, options map[string]string) connectors.Connection {
	opts := map[string]json.RawMessage{
		"serviceDeskId":   json.RawMessage(jsmfake.ServiceDeskID),
		"requestTypeId":   json.RawMessage(`"` + jsmfake.RequestTypeID + `"`),
		"raiseOnBehalfOf": json.RawMessage(`true`),
	}
	for k, v := range options {
		opts[k] = json.RawMessage(v)
	}
	return connectors.Connection{
		Name: "JSM test", Type: "jsm", BaseURL: f.URL(),
		Credentials: connectors.Credentials{Type: "api_token", Username: jsmfake.Email, APIToken: jsmfake.APIToken},
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

func errorResponse(msg string) string {
	b, _ := json.Marshal(jsmfake.ErrorResponse(msg))
	return string(b)
}

// Create goes to the servicedeskapi, whose error body is ErrorResponse
// {errorMessage, i18nErrorMessage}; the 401 is the site's.
func vendorErrors() map[int]conformance.VendorError {
	return map[int]conformance.VendorError{
		400: {Body: errorResponse("Your request could not be created. Please check the fields have been correctly filled in. summary: You must specify a summary of the issue."), Message: "summary: You must specify a summary of the issue."},
		401: {Body: jirafake.MsgNotAuthenticated, Message: "Client must be authenticated"},
		404: {Body: errorResponse(jsmfake.MsgServiceDeskNotFound), Message: jsmfake.MsgServiceDeskNotFound},
		429: {Body: errorResponse("Rate limit exceeded."), Message: "Rate limit exceeded."},
		500: {Body: errorResponse("Internal server error"), Message: "Internal server error"},
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Target { return target(startFake(t)) })
}

// target is the conformance suites' view of a fake.
func target(f *jsmfake.Fake) conformance.Target {
	return conformance.Target{
		Connection:   connection(f, nil),
		Faults:       f.Faults,
		CreateMethod: http.MethodPost,
		CreatePath:   "/rest/servicedeskapi/request",
		Count:        f.Count,
		Errors:       vendorErrors(),
	}
}

// TestSharedSite: a Jira connection (project IT) and a JSM connection
// (service desk 10, project HELPDESK) on one site, the case that lost
// tickets when Find searched the whole site.
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t)
		desk := connection(f, nil)
		desk.Name = "Help desk (JSM)"
		sw := connectors.Connection{
			Name: "Software (Jira)", Type: "jira", BaseURL: f.URL(),
			Credentials: desk.Credentials,
			Options:     map[string]json.RawMessage{"projectKey": json.RawMessage(`"` + jirafake.ProjectKey + `"`), "issueType": json.RawMessage(`"Task"`)},
		}
		return conformance.Site{
			Connections: []conformance.Placed{
				{Connection: sw, Where: jirafake.ProjectKey, CreateMethod: http.MethodPost, CreatePath: "/rest/api/3/issue"},
				{Connection: desk, Where: jsmfake.ProjectKey, CreateMethod: http.MethodPost, CreatePath: "/rest/servicedeskapi/request"},
			},
			Faults: f.Faults,
			Places: f.Site().ProjectsOf,
		}
	})
}

func TestRetryAfterFromRateLimitReset(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	c.api.Now = func() time.Time { return time.Date(2026, 11, 23, 10, 4, 30, 0, time.UTC) }
	f.Faults.Add(http.MethodPost, "/rest/servicedeskapi/request", fake.Fault{Kind: fake.Respond, Code: 429,
		Header: http.Header{"X-Ratelimit-Reset": {"2026-11-23T10:05Z"}}, Body: errorResponse("Rate limit exceeded.")})
	_, err := c.Create(context.Background(), conformance.Ticket())
	var e *connectors.Error
	if !errors.As(err, &e) || e.Class != connectors.Retryable || e.Status != 429 || e.RetryAfter != 30*time.Second {
		t.Errorf("Create = %v (RetryAfter %v), want retryable 429 after 30s", err, e.RetryAfter)
	}
}

func TestCreateRequestShape(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	tk := conformance.Ticket()
	r, err := c.Create(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.URL() + "/servicedesk/customer/portal/" + jsmfake.PortalID + "/HELPDESK-1"; r.URL != want || r.Number != "HELPDESK-1" || r.ID == "" {
		t.Errorf("Remote = %+v, want the portal link %s", r, want)
	}
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d", len(reqs))
	}
	rq := reqs[0]
	if rq.ServiceDeskID != "10" || rq.RequestTypeID != "25" || rq.RaiseOnBehalfOf != jsmfake.CustomerAccountID {
		t.Errorf("request = desk %q type %q on behalf of %q", rq.ServiceDeskID, rq.RequestTypeID, rq.RaiseOnBehalfOf)
	}
	var fv struct {
		Summary     string   `json:"summary"`
		Description string   `json:"description"`
		Labels      []string `json:"labels"`
	}
	for k := range rq.FieldValues {
		if k != "summary" && k != "description" && k != "labels" {
			t.Errorf("unexpected field %q", k)
		}
	}
	b, _ := json.Marshal(rq.FieldValues)
	if err := json.Unmarshal(b, &fv); err != nil {
		t.Fatal(err)
	}
	if fv.Summary != tk.Summary || !slices.Equal(fv.Labels, []string{"ticketray", "ticketray-" + tk.IdempotencyKey}) {
		t.Errorf("fields = %+v", fv)
	}
	for _, want := range []string{tk.Description + "\n\nReported by\n- Name: Alice Example", "System information\n- OS: debian 12",
		"Skill: Flush DNS cache\n- Status: success", "Output:\n    flushed"} {
		if !strings.Contains(fv.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, fv.Description)
		}
	}
}

func TestRaiseOnBehalfOf(t *testing.T) {
	tests := []struct {
		name    string
		option  string
		email   string
		fault   *fake.Fault // on the customer lookup
		want    string      // the raiseOnBehalfOf sent, "" for none
		wantErr connectors.Class
	}{
		{"off", `false`, jsmfake.CustomerEmail, nil, "", -1},
		{"known customer", `true`, jsmfake.CustomerEmail, nil, jsmfake.CustomerAccountID, -1},
		{"email in another case", `"true"`, "ALICE@example.com", nil, jsmfake.CustomerAccountID, -1},
		{"not a customer: raised by the account", `true`, "bob@example.com", nil, "", -1},
		{"no email", `true`, "", nil, "", -1},
		{"may not list customers", `true`, jsmfake.CustomerEmail, &fake.Fault{Kind: fake.Respond, Code: 403, Body: errorResponse("You do not have permission.")}, "", -1},
		{"lookup fails: retry later", `true`, jsmfake.CustomerEmail, &fake.Fault{Kind: fake.Respond, Code: 503, Body: errorResponse("Service unavailable")}, "", connectors.Retryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			c := mustConnector(t, connection(f, map[string]string{"raiseOnBehalfOf": tt.option}))
			if tt.fault != nil {
				f.Faults.Add(http.MethodGet, "/rest/servicedeskapi/servicedesk/10/customer", *tt.fault)
			}
			tk := conformance.Ticket()
			tk.User.Email = tt.email
			_, err := c.Create(context.Background(), tk)
			if tt.wantErr >= 0 {
				if connectors.ClassOf(err) != tt.wantErr || f.Count(tk.IdempotencyKey) != 0 {
					t.Errorf("Create = %v, want %v and nothing created", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Requests()[0].RaiseOnBehalfOf; got != tt.want {
				t.Errorf("raiseOnBehalfOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetPriority(t *testing.T) {
	tests := []struct {
		name     string
		option   string
		expose   bool
		mappings map[string]string
		want     string // the priority sent, "" for none
		wantErr  string
	}{
		{"off by default", ``, true, nil, "", ""},
		{"on, vendor default", `true`, true, nil, "High", ""},
		{"on, mapping override", `true`, true, map[string]string{"high": "Highest"}, "Highest", ""},
		{"on, but the request type has no priority", `true`, false, nil, "", "Field 'priority' cannot be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			if tt.expose {
				f.ExposeFields(jsmfake.RequestTypeID, "priority")
			}
			opts := map[string]string{}
			if tt.option != "" {
				opts["setPriority"] = tt.option
			}
			conn := connection(f, opts)
			if tt.mappings != nil {
				conn.Mappings = map[string]map[string]string{"priority": tt.mappings}
			}
			c := mustConnector(t, conn)
			_, err := c.Create(context.Background(), conformance.Ticket())
			if tt.wantErr != "" {
				var e *connectors.Error
				if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != 400 || !strings.Contains(e.Message, tt.wantErr) {
					t.Errorf("Create = %v, want a permanent 400 with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, sent := f.Requests()[0].FieldValues["priority"]
			switch {
			case tt.want == "" && sent:
				t.Errorf("priority sent: %s", raw)
			case tt.want != "" && string(raw) != `{"name":"`+tt.want+`"}`:
				t.Errorf("priority = %s, want %q", raw, tt.want)
			}
		})
	}
}

func TestFindStatusCommentAttach(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	tk := conformance.Ticket()
	created, err := c.Create(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.Find(ctx, tk.IdempotencyKey)
	if err != nil || found != created {
		t.Errorf("Find = %+v, %v; want %+v", found, err, created)
	}
	if _, err := c.Find(ctx, connectors.NewKey()); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("Find(unknown) = %v", err)
	}

	st, err := c.Status(ctx, created)
	if err != nil || st.Status != "Waiting for support" || st.UpdatedAt.IsZero() {
		t.Errorf("Status = %+v, %v", st, err)
	}
	f.SetStatus(created.Number, "In Progress")
	if st, err := c.Status(ctx, connectors.Remote{Number: created.Number}); err != nil || st.Status != "In Progress" {
		t.Errorf("Status after a transition = %+v, %v", st, err)
	}
	_, err = c.Status(ctx, connectors.Remote{Number: "HELPDESK-99"})
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Class != connectors.Permanent || e.Message != jsmfake.MsgRequestNotFound {
		t.Errorf("Status of a missing request = %v", err)
	}

	if err := c.Comment(ctx, created, "The user added: it happens on Wi-Fi only."); err != nil {
		t.Fatal(err)
	}
	comments := f.Requests()[0].Comments
	if len(comments) != 1 || comments[0].Public || string(comments[0].Body) != `"The user added: it happens on Wi-Fi only."` {
		t.Errorf("comments = %+v, want one internal comment", comments)
	}

	a := connectors.Attachment{Filename: "systeminfo.json", ContentType: "application/json", Data: []byte(`{"os":"debian"}`), SizeBytes: 15}
	if err := c.Attach(ctx, created, a); err != nil {
		t.Fatal(err)
	}
	is, _ := f.Site().Issue(created.ID)
	if len(is.Attachments) != 1 || is.Attachments[0].Filename != "systeminfo.json" || string(is.Attachments[0].Data) != `{"os":"debian"}` {
		t.Errorf("attachments = %+v", is.Attachments)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]string
		creds   *connectors.Credentials
		fault   *fake.Fault
		status  int
		message string
	}{
		{name: "ok"},
		{name: "bearer", creds: &connectors.Credentials{Type: "bearer", Token: jsmfake.BearerToken}},
		{name: "unknown service desk", options: map[string]string{"serviceDeskId": `"99"`}, status: 404, message: jsmfake.MsgServiceDeskNotFound},
		{name: "unknown request type", options: map[string]string{"requestTypeId": `"77"`}, status: 404, message: jsmfake.MsgRequestTypeNotFound},
		{name: "bad token", creds: &connectors.Credentials{Type: "api_token", Username: jsmfake.Email, APIToken: "nope"}, status: 401, message: "Client must be authenticated"},
		{name: "no access", fault: &fake.Fault{Kind: fake.Respond, Code: 403, Body: errorResponse("You do not have permission to access this service desk.")}, status: 403, message: "You do not have permission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f, tt.options)
			if tt.creds != nil {
				conn.Credentials = *tt.creds
			}
			if tt.fault != nil {
				f.Faults.Add(http.MethodGet, "/rest/servicedeskapi/servicedesk/", *tt.fault)
			}
			err := mustConnector(t, conn).Check(context.Background())
			if tt.status == 0 {
				if err != nil {
					t.Errorf("Check = %v", err)
				}
				return
			}
			var e *connectors.Error
			if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Status != tt.status || !strings.Contains(e.Message, tt.message) {
				t.Errorf("Check = %v, want a permanent %d with %q", err, tt.status, tt.message)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	base := connectors.Connection{Name: "x", Type: "jsm", BaseURL: "https://example.atlassian.net",
		Credentials: connectors.Credentials{Type: "api_token", Username: jsmfake.Email, APIToken: "env:JSM_TOKEN"}}
	tests := []struct {
		name    string
		options map[string]string
		wantErr string
	}{
		{"numbers", map[string]string{"serviceDeskId": `10`, "requestTypeId": `25`}, ""},
		{"no service desk", map[string]string{"requestTypeId": `"25"`}, "serviceDeskId is required"},
		{"no request type", map[string]string{"serviceDeskId": `"10"`}, "requestTypeId is required"},
		{"a path in an id", map[string]string{"serviceDeskId": `"10/../x"`, "requestTypeId": `"25"`}, "serviceDeskId"},
		{"bad boolean", map[string]string{"serviceDeskId": `10`, "requestTypeId": `25`, "setPriority": `"maybe"`}, "setPriority must be true or false"},
		{"blank request type", map[string]string{"serviceDeskId": `10`, "requestTypeId": `""`}, "requestTypeId is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.Options = map[string]json.RawMessage{}
			for k, v := range tt.options {
				c.Options[k] = json.RawMessage(v)
			}
			_, err := New(c, connectors.Deps{HTTP: http.DefaultClient})
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want %q", err, tt.wantErr)
			}
			// The config validator, through the registry, refuses what New
			// refuses, on the option's own path.
			errs := c.Validate()
			if (tt.wantErr == "") != (len(errs) == 0) {
				t.Fatalf("Validate = %v, want an error like %q", errs, tt.wantErr)
			}
			if len(errs) > 0 && !strings.HasPrefix(tt.wantErr, strings.TrimPrefix(errs[0].Field, "options.")) {
				t.Errorf("Validate field = %s, want the option in %q", errs[0].Field, tt.wantErr)
			}
		})
	}
}
