package fsfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/freshservice/fsfake"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// call sends a request with the fake's API key (unless auth is false).
func call(t *testing.T, f *fsfake.Fake, method, path, contentType string, body []byte, auth bool) answer {
	t.Helper()
	req, err := http.NewRequest(method, f.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth(fsfake.APIKey, "X")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &a.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, data)
		}
	}
	return a
}

func start(t *testing.T, opts ...fsfake.Option) *fsfake.Fake {
	t.Helper()
	f := fsfake.Start(opts...)
	t.Cleanup(f.Close)
	return f
}

const validTicket = `{"subject":"VPN","description":"<p>drops</p>","email":"a@example.com","status":2,"priority":3,"urgency":2,"impact":2,"source":2,"tags":["Ticketray","k1"]}`

func TestCreateRules(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		field      string // the field the error names
		violation  bool
	}{
		{"valid", validTicket, 201, "", false},
		{"no requester", `{"subject":"s","description":"d","status":2,"priority":1}`, 400, "requester_id", true},
		{"no description", `{"subject":"s","email":"a@example.com","status":2,"priority":1}`, 400, "description", true},
		{"priority out of range", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":5}`, 400, "priority", true},
		{"status missing", `{"subject":"s","description":"d","email":"a@example.com","priority":1}`, 400, "status", true},
		{"unknown field", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1,"correlation_id":"x"}`, 400, "correlation_id", true},
		{"unknown custom field", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1,"custom_fields":{"nope":"x"}}`, 400, "nope", true},
		{"text for a number field", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1,"custom_fields":{"floor":"3"}}`, 400, "floor", true},
		{"a number for a number field", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1,"custom_fields":{"floor":3}}`, 201, "", false},
		{"unknown group", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1,"group_id":5}`, 400, "group_id", true},
		// The spec types priority as a number: the validator answers first.
		{"priority as a string", `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":"1"}`, 400, "", true},
		// id is read-only in the spec.
		{"read-only id", `{"id":4,"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1}`, 400, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, fsfake.WithCustomField("floor", "custom_number"))
			a := call(t, f, "POST", "/api/v2/tickets", "application/json", []byte(tt.body), true)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %v", a.status, tt.status, a.body)
			}
			if (len(f.Violations()) > 0) != tt.violation {
				t.Errorf("violations = %v, want some: %v", f.Violations(), tt.violation)
			}
			if tt.status == 201 {
				tk := a.body["ticket"].(map[string]any)
				if tk["id"] != float64(1) || tk["workspace_id"] != float64(fsfake.PrimaryWorkspaceID) || tk["status"] != float64(2) {
					t.Errorf("ticket = %v", tk)
				}
				if n := f.Count("k1"); tt.name == "valid" && n != 1 {
					t.Errorf("Count(k1) = %d", n)
				}
				return
			}
			if a.body["description"] != "Validation failed" {
				t.Errorf("error body = %v", a.body)
			}
			errs, _ := a.body["errors"].([]any)
			if len(errs) == 0 {
				t.Fatalf("no errors in %v", a.body)
			}
			if first := errs[0].(map[string]any); tt.field != "" && first["field"] != tt.field {
				t.Errorf("first error = %v, want field %s", first, tt.field)
			}
		})
	}
}

func TestAuthAndHeaders(t *testing.T) {
	f := start(t)
	if a := call(t, f, "GET", "/api/v2/tickets", "", nil, false); a.status != 401 || a.body["code"] != "invalid_credentials" {
		t.Errorf("no credentials: %d %v", a.status, a.body)
	}
	// Any password goes with the right key; the key is what counts.
	req, _ := http.NewRequest("GET", f.URL()+"/api/v2/tickets", nil)
	req.SetBasicAuth(fsfake.APIKey, "anything")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("key with another password: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	req.SetBasicAuth("agent@example.com", fsfake.APIKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("key as the password: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if a := call(t, f, "POST", "/api/v2/tickets", "text/plain", []byte(validTicket), true); a.status != 415 {
		t.Errorf("text/plain create: %d", a.status)
	}
	if a := call(t, f, "GET", "/api/v2/nothing", "", nil, true); a.status != 404 {
		t.Errorf("unknown path: %d", a.status)
	}
}

func TestMultipartCreateAndNotes(t *testing.T) {
	f := start(t, fsfake.WithTicketrayField())
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{"subject", "s"}, {"description", "<p>d</p>"}, {"email", "a@example.com"}, {"status", "2"},
		{"priority", "2"}, {"tags[]", "k2"}, {"custom_fields[ticketray_id]", "k2"}} {
		w.WriteField(kv[0], kv[1])
	}
	fw, _ := w.CreateFormFile("attachments[]", "log.txt")
	fw.Write([]byte("line"))
	w.Close()
	a := call(t, f, "POST", "/api/v2/tickets", w.FormDataContentType(), buf.Bytes(), true)
	if a.status != 201 {
		t.Fatalf("multipart create: %d %v", a.status, a.body)
	}
	tk := f.Ticket(1)
	if tk.Priority != 2 || len(tk.Attachments) != 1 || string(tk.Attachments[0].Data) != "line" || tk.CustomFields["ticketray_id"] != "k2" {
		t.Errorf("stored = %+v", tk)
	}
	if f.Count("k2") != 1 {
		t.Errorf("Count = %d", f.Count("k2"))
	}
	view := call(t, f, "GET", "/api/v2/tickets/1", "", nil, true)
	if v := view.body["ticket"].(map[string]any); len(v["attachments"].([]any)) != 1 || v["tags"] == nil {
		t.Errorf("view = %v", v)
	}
	for name, tt := range map[string]struct {
		body   string
		status int
	}{
		"private note": {`{"body":"<p>n</p>","private":true}`, 201},
		"empty body":   {`{"body":" "}`, 400},
	} {
		if a := call(t, f, "POST", "/api/v2/tickets/1/notes", "application/json", []byte(tt.body), true); a.status != tt.status {
			t.Errorf("%s: %d %v", name, a.status, a.body)
		}
	}
	if a := call(t, f, "POST", "/api/v2/tickets/99/notes", "application/json", []byte(`{"body":"x"}`), true); a.status != 404 {
		t.Errorf("note on a missing ticket: %d", a.status)
	}
	if n := f.Ticket(1).Notes; len(n) != 1 || !n[0].Private {
		t.Errorf("notes = %+v", n)
	}
}

func TestFilter(t *testing.T) {
	f := start(t, fsfake.WithTicketrayField(), fsfake.WithCustomField("site", "custom_dropdown"))
	for _, body := range []string{
		`{"subject":"a","description":"d","email":"a@example.com","status":2,"priority":1,"tags":["k"],"custom_fields":{"site":"Berlin"}}`,
		`{"subject":"b","description":"d","email":"a@example.com","status":2,"priority":1,"tags":["k"],"group_id":14000000101}`,
		`{"subject":"c","description":"d","email":"a@example.com","status":2,"priority":1,"tags":["k"],"workspace_id":3}`,
	} {
		if a := call(t, f, "POST", "/api/v2/tickets", "application/json", []byte(body), true); a.status != 201 {
			t.Fatalf("create: %v", a.body)
		}
	}
	tests := []struct {
		query  string
		status int
		ids    []float64 // newest first
	}{
		{`"tag:'k'"`, 200, []float64{2, 1}}, // the primary workspace only
		{`"tag:'k' AND workspace_id:3"`, 200, []float64{3}},
		{`"tag:'k' AND workspace_id:1"`, 200, []float64{3, 2, 1}}, // all workspaces
		{`"tag:'k' AND group_id:14000000101"`, 200, []float64{2}},
		{`"tag:'k' AND group_id:null"`, 200, []float64{1}},
		{`"tag:'K'"`, 200, []float64{2, 1}},
		{`"site:'Berlin'"`, 200, []float64{1}},
		{`"tag:'other'"`, 200, nil},
		{`tag:'k'`, 400, nil},                            // not in double quotes
		{`"tag:k"`, 400, nil},                            // a string needs single quotes
		{`"group_id:'14000000101'"`, 400, nil},           // a number needs none
		{`"ticketray_id:'k'"`, 400, nil},                 // single-line text cannot be filtered
		{`"nope:1"`, 400, nil},                           // no such field
		{`"tag:'k' OR tag:'x'"`, 400, nil},               // unsupported by the fake
		{`"` + strings.Repeat("a", 513) + `"`, 400, nil}, // over 512 characters
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := call(t, f, "GET", "/api/v2/tickets/filter?query="+url.QueryEscape(tt.query), "", nil, true)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %v", a.status, tt.status, a.body)
			}
			if tt.status != 200 {
				return
			}
			var ids []float64
			for _, tk := range a.body["tickets"].([]any) {
				ids = append(ids, tk.(map[string]any)["id"].(float64))
			}
			if len(ids) != len(tt.ids) || a.body["total"] != float64(len(tt.ids)) {
				t.Fatalf("ids = %v (total %v), want %v", ids, a.body["total"], tt.ids)
			}
			for i := range ids {
				if ids[i] != tt.ids[i] {
					t.Errorf("ids = %v, want %v", ids, tt.ids)
				}
			}
		})
	}
	if got := f.Places("k"); len(got) != 3 || got[1] != fsfake.Place(fsfake.PrimaryWorkspaceID, fsfake.ServiceDeskGroupID) {
		t.Errorf("Places = %v", got)
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 15, 20, 0, time.UTC)
	f := start(t, fsfake.WithRateLimit(2), fsfake.WithClock(func() time.Time { return now }))
	for i, want := range []struct {
		status           int
		remaining, retry string
	}{{200, "1", ""}, {200, "0", ""}, {429, "0", "40"}} {
		a := call(t, f, "GET", "/api/v2/tickets", "", nil, true)
		if a.status != want.status || a.header.Get("X-RateLimit-Total") != "2" || a.header.Get("X-RateLimit-Remaining") != want.remaining ||
			a.header.Get("X-RateLimit-Used-CurrentRequest") != "1" || a.header.Get("Retry-After") != want.retry {
			t.Errorf("request %d: %d %v", i+1, a.status, a.header)
		}
	}
	now = now.Add(time.Minute)
	if a := call(t, f, "GET", "/api/v2/tickets", "", nil, true); a.status != 200 {
		t.Errorf("next minute: %d", a.status)
	}
}

func TestStartAt(t *testing.T) {
	f := fsfake.New()
	fake.CheckRestart(t, f, func() {
		call(t, f, "POST", "/api/v2/tickets", "application/json", []byte(validTicket), true)
	}, func() bool {
		return f.Count("k1") == 1 && call(t, f, "GET", "/api/v2/tickets/1", "", nil, true).status == 200
	})
}

// TestHangEndsWhenClientGivesUp: a hung create ends when the client
// times out, so Close returns.
func TestHangEndsWhenClientGivesUp(t *testing.T) {
	f := fsfake.Start()
	f.Faults.Add("POST", "/api/v2/tickets", fake.Fault{Kind: fake.Hang})
	req, _ := http.NewRequest("POST", f.URL()+"/api/v2/tickets", strings.NewReader(validTicket))
	req.SetBasicAuth(fsfake.APIKey, "X")
	req.Header.Set("Content-Type", "application/json")
	fake.CheckHangEnds(t, f, req)
}

// TestListAndIndexLag: the list is current and honours updated_since,
// workspace_id and order_type; the filter lags WithIndexLag.
func TestListAndIndexLag(t *testing.T) {
	f := start(t, fsfake.WithIndexLag(time.Minute))
	for _, body := range []string{validTicket, strings.Replace(validTicket, `"source":2`, `"source":2,"workspace_id":3`, 1), validTicket} {
		if a := call(t, f, "POST", "/api/v2/tickets", "application/json", []byte(body), true); a.status != 201 {
			t.Fatalf("create: %v", a.body)
		}
	}
	ids := func(a answer) (out []float64) {
		for _, tk := range a.body["tickets"].([]any) {
			out = append(out, tk.(map[string]any)["id"].(float64))
		}
		return out
	}
	since := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	for _, tt := range []struct {
		query string
		want  []float64
	}{
		{"", []float64{3, 1}},
		{"?order_type=asc", []float64{1, 3}},
		{"?workspace_id=3", []float64{2}},
		{"?updated_since=" + since + "&per_page=1", []float64{3}},
		{"?updated_since=" + since + "&per_page=1&page=2", []float64{1}},
		{"?updated_since=" + future, nil},
	} {
		a := call(t, f, "GET", "/api/v2/tickets"+tt.query, "", nil, true)
		if got := ids(a); a.status != 200 || len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("list%s = %d %v, want %v", tt.query, a.status, got, tt.want)
		}
	}
	if a := call(t, f, "GET", "/api/v2/tickets?updated_since=yesterday", "", nil, true); a.status != 400 {
		t.Errorf("bad updated_since: %d", a.status)
	}
	if a := call(t, f, "GET", "/api/v2/tickets/filter?query="+url.QueryEscape(`"tag:'k1'"`), "", nil, true); a.status != 200 || len(ids(a)) != 0 {
		t.Errorf("the lagging filter found %v", a.body)
	}
}

// TestConversationsAndAgents: Act's reply and note are conversations of
// the ticket (public and private), the assignee is responder_id, and the
// agent reads by id.
func TestConversationsAndAgents(t *testing.T) {
	f := start(t)
	if a := call(t, f, "POST", "/api/v2/tickets", "application/json", []byte(validTicket), true); a.status != 201 {
		t.Fatalf("create: %v", a.body)
	}
	if !f.Act(1, fsfake.AgentUpdate{Status: 3, Agent: "Agent Smith", Reply: "Which <laptop>?", Note: "internal"}) || f.Act(99, fsfake.AgentUpdate{}) {
		t.Fatal("Act found the wrong tickets")
	}
	a := call(t, f, "GET", "/api/v2/tickets/1", "", nil, true)
	tk := a.body["ticket"].(map[string]any)
	if tk["status"].(float64) != 3 || tk["responder_id"] == nil {
		t.Fatalf("ticket %v", tk)
	}
	agent := call(t, f, "GET", fmt.Sprintf("/api/v2/agents/%.0f", tk["responder_id"].(float64)), "", nil, true)
	if ag, _ := agent.body["agent"].(map[string]any); agent.status != 200 || ag["first_name"] != "Agent" || ag["last_name"] != "Smith" {
		t.Errorf("agent = %d %v", agent.status, agent.body)
	}
	if a := call(t, f, "GET", "/api/v2/agents/12345", "", nil, true); a.status != 404 {
		t.Errorf("unknown agent = %d", a.status)
	}
	c := call(t, f, "GET", "/api/v2/tickets/1/conversations?per_page=100", "", nil, true)
	cs, _ := c.body["conversations"].([]any)
	if c.status != 200 || len(cs) != 2 {
		t.Fatalf("conversations = %d %v", c.status, c.body)
	}
	reply, note := cs[0].(map[string]any), cs[1].(map[string]any)
	if reply["private"] != false || reply["body_text"] != "Which <laptop>?" || note["private"] != true || reply["user_id"] != tk["responder_id"] {
		t.Errorf("conversations %v", cs)
	}
	if c := call(t, f, "GET", "/api/v2/tickets/1/conversations?per_page=101", "", nil, true); c.status != 400 {
		t.Errorf("per_page 101 = %d", c.status)
	}
	if c := call(t, f, "GET", "/api/v2/tickets/1/conversations?per_page=1&page=2", "", nil, true); len(c.body["conversations"].([]any)) != 1 {
		t.Errorf("page 2 = %v", c.body)
	}
}
