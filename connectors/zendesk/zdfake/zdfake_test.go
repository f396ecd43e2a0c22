package zdfake_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
)

var tokenAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(zdfake.Email+"/token:"+zdfake.APIToken))

type call struct {
	method, path, body string
	header             map[string]string
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, f *zdfake.Fake, c call) answer {
	t.Helper()
	req, err := http.NewRequest(c.method, f.URL()+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", tokenAuth)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func start(t *testing.T, opts ...zdfake.Option) *zdfake.Fake {
	t.Helper()
	f := zdfake.Start(opts...)
	t.Cleanup(f.Close)
	return f
}

func createBody(key, subject string) string {
	return `{"ticket":{"subject":"` + subject + `","comment":{"body":"It broke."},"priority":"high","tags":["ticketray"],"external_id":"` + key + `"}}`
}

// TestRequests pins the fake's answers to single requests: auth, headers,
// the spec, error shapes.
func TestRequests(t *testing.T) {
	tests := []struct {
		name       string
		call       call
		status     int
		body       string // a substring of the answer
		ctype      string // a prefix of Content-Type
		violations int
	}{
		{"create", call{method: "POST", path: "/api/v2/tickets", body: createBody("k1", "VPN")}, 201, `"external_id":"k1"`, "application/json", 0},
		{"create with .json suffix", call{method: "POST", path: "/api/v2/tickets.json", body: createBody("k2", "VPN")}, 201, `"status":"new"`, "application/json", 0},
		{"priority outside the spec's enum", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"x"},"priority":"medium","external_id":"k"}}`}, 400, `"error":"InvalidValue"`, "application/json", 1},
		{"no external_id", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"x"}}}`}, 422, `"External ID: cannot be blank`, "application/json", 0},
		{"blank comment", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":" "},"external_id":"k"}}`}, 422, `"error":"RecordInvalid"`, "application/json", 0},
		{"unknown group", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"x"},"external_id":"k","group_id":42}}`}, 422, `Group: is invalid`, "application/json", 0},
		{"new requester without a name", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"x"},"external_id":"k","requester":{"email":"new@example.com"}}}`}, 422, `Requester: Name`, "application/json", 0},
		{"password instead of token", call{method: "GET", path: "/api/v2/users/me", header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(zdfake.Email+":"+zdfake.APIToken))}}, 401, `Couldn't authenticate you`, "application/json", 0},
		{"no credentials", call{method: "GET", path: "/api/v2/users/me", header: map[string]string{"Authorization": ""}}, 401, `Couldn't authenticate you`, "application/json", 0},
		{"bad OAuth token", call{method: "GET", path: "/api/v2/users/me", header: map[string]string{"Authorization": "Bearer nope"}}, 401, `"error":"invalid_token"`, "application/json", 0},
		{"OAuth token", call{method: "GET", path: "/api/v2/users/me", header: map[string]string{"Authorization": "Bearer " + zdfake.OAuthToken}}, 200, `"role":"agent"`, "application/json", 0},
		{"end user lists tickets", call{method: "GET", path: "/api/v2/tickets?external_id=k", header: map[string]string{"Authorization": "Bearer " + zdfake.EndUserOAuthToken}}, 403, `"title":"Forbidden"`, "application/json", 0},
		{"no Accept", call{method: "GET", path: "/api/v2/users/me", header: map[string]string{"Accept": ""}}, 400, "Accept", "text/plain", 1},
		{"create without Content-Type", call{method: "POST", path: "/api/v2/tickets", body: createBody("k3", "x"), header: map[string]string{"Content-Type": "text/plain"}}, 400, "Content-Type", "application/json", 1},
		{"unknown ticket", call{method: "GET", path: "/api/v2/tickets/999"}, 404, `"error":"RecordNotFound"`, "application/json", 0},
		{"ticket id not a number", call{method: "GET", path: "/api/v2/tickets/abc"}, 400, `"error":"InvalidValue"`, "application/json", 1},
		{"not an operation", call{method: "GET", path: "/api/v2/nothing"}, 404, `{"description":"Not found","error":"InvalidEndpoint"}`, "application/json", 1},
		{"upload without filename", call{method: "POST", path: "/api/v2/uploads", body: "x", header: map[string]string{"Content-Type": "text/plain"}}, 400, `filename`, "application/json", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			got := do(t, f, tt.call)
			if got.status != tt.status || !strings.Contains(got.body, tt.body) || !strings.HasPrefix(got.header.Get("Content-Type"), tt.ctype) {
				t.Errorf("answer = %d %q %s; want %d, %s containing %q", got.status, got.header.Get("Content-Type"), got.body, tt.status, tt.ctype, tt.body)
			}
			if v := f.Violations(); len(v) != tt.violations {
				t.Errorf("violations = %q, want %d", v, tt.violations)
			}
			if got.status < 500 && got.header.Get("X-Rate-Limit") == "" && tt.violations == 0 {
				t.Error("no X-Rate-Limit header")
			}
		})
	}
}

// TestIdempotencyKey: a repeated create within KeyLifetime answers with the
// first ticket; another body is refused; after KeyLifetime the key creates
// again.
func TestIdempotencyKey(t *testing.T) {
	clk := fake.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	f := start(t, zdfake.WithClock(clk.Now))
	create := func(body string) answer {
		return do(t, f, call{method: "POST", path: "/api/v2/tickets", body: body, header: map[string]string{"Idempotency-Key": "key-1"}})
	}
	steps := []struct {
		name    string
		advance time.Duration
		body    string
		status  int
		lookup  string
		tickets int
	}{
		{"first", 0, createBody("k", "A"), 201, "miss", 1},
		{"repeat", time.Hour, createBody("k", "A"), 201, "hit", 1},
		{"other body", 0, createBody("k", "B"), 400, "", 1},
		{"after the key expired", zdfake.KeyLifetime, createBody("k", "A"), 201, "miss", 2},
	}
	var firstID float64
	for _, s := range steps {
		clk.Advance(s.advance)
		got := create(s.body)
		if got.status != s.status || got.header.Get("X-Idempotency-Lookup") != s.lookup {
			t.Fatalf("%s: %d lookup=%q %s; want %d lookup=%q", s.name, got.status, got.header.Get("X-Idempotency-Lookup"), got.body, s.status, s.lookup)
		}
		if n := f.Count("k"); n != s.tickets {
			t.Errorf("%s: %d tickets, want %d", s.name, n, s.tickets)
		}
		var out struct{ Ticket struct{ ID float64 } }
		json.Unmarshal([]byte(got.body), &out)
		switch s.name {
		case "first":
			firstID = out.Ticket.ID
		case "repeat":
			if out.Ticket.ID != firstID {
				t.Errorf("repeat answered ticket %v, want %v", out.Ticket.ID, firstID)
			}
		case "other body":
			if !strings.Contains(got.body, "IdempotentRequestError") {
				t.Errorf("other body: %s", got.body)
			}
		}
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestUploads: a token carries files to a comment once, and expires.
func TestUploads(t *testing.T) {
	clk := fake.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	f := start(t, zdfake.WithClock(clk.Now))
	if got := do(t, f, call{method: "POST", path: "/api/v2/tickets", body: createBody("k", "A")}); got.status != 201 {
		t.Fatal(got)
	}
	id := f.Tickets()[0].ID
	upload := func(name, token string) string {
		path := "/api/v2/uploads?filename=" + name
		if token != "" {
			path += "&token=" + token
		}
		got := do(t, f, call{method: "POST", path: path, body: "data of " + name, header: map[string]string{"Content-Type": "text/plain"}})
		var out struct{ Upload struct{ Token string } }
		if got.status != 201 || json.Unmarshal([]byte(got.body), &out) != nil || out.Upload.Token == "" {
			t.Fatalf("upload: %d %s", got.status, got.body)
		}
		return out.Upload.Token
	}
	comment := func(token string) answer {
		return do(t, f, call{method: "PUT", path: "/api/v2/tickets/" + itoa(id), body: `{"ticket":{"comment":{"body":"files","public":false,"uploads":["` + token + `"]}}}`})
	}
	tok := upload("a.txt", "")
	if tok2 := upload("b.txt", tok); tok2 != tok {
		t.Errorf("second upload with the token got token %q, want %q", tok2, tok)
	}
	if got := comment(tok); got.status != 200 {
		t.Fatalf("comment: %d %s", got.status, got.body)
	}
	tk, _ := f.Ticket(id)
	last := tk.Comments[len(tk.Comments)-1]
	if len(last.Attachments) != 2 || last.Public || string(last.Attachments[1].Data) != "data of b.txt" {
		t.Errorf("comment = %+v", last)
	}
	if got := comment(tok); got.status != 422 {
		t.Errorf("reusing a consumed token: %d, want 422", got.status)
	}
	old := upload("c.txt", "")
	clk.Advance(zdfake.UploadLifetime)
	if got := comment(old); got.status != 422 {
		t.Errorf("an expired token: %d, want 422", got.status)
	}
	f.SetStatus(id, "closed")
	if got := do(t, f, call{method: "PUT", path: "/api/v2/tickets/" + itoa(id), body: `{"ticket":{"comment":{"body":"late"}}}`}); got.status != 422 || !strings.Contains(got.body, "closed prevents ticket update") {
		t.Errorf("updating a closed ticket: %d %s", got.status, got.body)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestRateLimit: over the per-minute limit a request gets 429 with
// Retry-After and a text/plain body, until the next minute.
func TestRateLimit(t *testing.T) {
	clk := fake.NewClock(time.Date(2026, 3, 1, 9, 0, 45, 0, time.UTC))
	f := start(t, zdfake.WithClock(clk.Now), zdfake.WithRateLimit(2))
	me := call{method: "GET", path: "/api/v2/users/me"}
	for i := range 2 {
		if got := do(t, f, me); got.status != 200 {
			t.Fatalf("request %d: %d", i, got.status)
		}
	}
	got := do(t, f, me)
	if got.status != 429 || got.header.Get("Retry-After") != "15" || !strings.HasPrefix(got.header.Get("Content-Type"), "text/plain") {
		t.Errorf("over the limit: %d Retry-After=%q %q", got.status, got.header.Get("Retry-After"), got.header.Get("Content-Type"))
	}
	clk.Advance(15 * time.Second)
	if got := do(t, f, me); got.status != 200 || got.header.Get("X-Rate-Limit-Remaining") != "1" {
		t.Errorf("next minute: %d remaining=%q", got.status, got.header.Get("X-Rate-Limit-Remaining"))
	}
}

// TestFindByExternalID: the list filters by external_id exactly.
func TestFindByExternalID(t *testing.T) {
	f := start(t)
	for _, k := range []string{"a", "b", "a"} {
		if got := do(t, f, call{method: "POST", path: "/api/v2/tickets", body: createBody(k, "x")}); got.status != 201 {
			t.Fatal(got)
		}
	}
	got := do(t, f, call{method: "GET", path: "/api/v2/tickets?external_id=a"})
	var out struct {
		Tickets []struct {
			ExternalID string `json:"external_id"`
		}
		Count int
	}
	if err := json.Unmarshal([]byte(got.body), &out); err != nil || out.Count != 2 || len(out.Tickets) != 2 || out.Tickets[0].ExternalID != "a" {
		t.Errorf("list = %d %s", got.status, got.body)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRestart: a fake started on a reserved address can be stopped and
// started again there, keeping its tickets (for the app's kill tests).
func TestRestart(t *testing.T) {
	f := zdfake.New()
	fake.CheckRestart(t, f, func() {
		if got := do(t, f, call{method: "POST", path: "/api/v2/tickets", body: createBody("k", "A")}); got.status != 201 {
			t.Fatal(got)
		}
	}, func() bool { return f.Count("k") == 1 })
}

// TestShowMany: show_many answers the tickets among ids with the users and
// last_audits sideloads, leaves unknown ids out, and refuses more than 100
// ids or none.
func TestShowMany(t *testing.T) {
	f := start(t)
	for _, k := range []string{"a", "b"} {
		if got := do(t, f, call{method: "POST", path: "/api/v2/tickets", body: createBody(k, "x")}); got.status != 201 {
			t.Fatal(got)
		}
	}
	ts := f.Tickets()
	if err := f.Act(ts[0].ID, zdfake.AgentUpdate{Status: "pending", Assignee: "Agent Smith", Comment: "Which laptop?", Public: true}); err != nil {
		t.Fatal(err)
	}
	got := do(t, f, call{method: "GET", path: "/api/v2/tickets/show_many?ids=" + itoa(ts[0].ID) + ",999," + itoa(ts[1].ID) + "&include=users,last_audits"})
	var out struct {
		Tickets []struct {
			ID         int64  `json:"id"`
			Status     string `json:"status"`
			AssigneeID *int64 `json:"assignee_id"`
		}
		Users []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		Audits []struct {
			TicketID int64 `json:"ticket_id"`
			Events   []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(got.body), &out); err != nil || got.status != 200 || len(out.Tickets) != 2 || len(out.Audits) != 2 {
		t.Fatalf("show_many = %d %s", got.status, got.body)
	}
	tk := out.Tickets[0]
	if tk.Status != "pending" || tk.AssigneeID == nil {
		t.Fatalf("ticket %+v, want pending and assigned", tk)
	}
	named := false
	for _, u := range out.Users {
		named = named || (u.ID == *tk.AssigneeID && u.Name == "Agent Smith")
	}
	if !named {
		t.Errorf("users %+v lack the assignee", out.Users)
	}
	if ev := out.Audits[0].Events; out.Audits[0].TicketID != tk.ID || len(ev) != 3 || ev[0]["type"] != "Comment" || ev[0]["body"] != "Which laptop?" || ev[0]["public"] != true {
		t.Errorf("last audit %+v, want the comment, status and assignee changes", out.Audits[0])
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}

	many := make([]string, zdfake.MaxShowMany+1)
	for i := range many {
		many[i] = itoa(int64(i + 1))
	}
	if got := do(t, f, call{method: "GET", path: "/api/v2/tickets/show_many?ids=" + strings.Join(many, ",")}); got.status != 400 || len(f.Violations()) != 1 {
		t.Errorf("101 ids = %d %s, violations %q", got.status, got.body, f.Violations())
	}
	if got := do(t, f, call{method: "GET", path: "/api/v2/tickets/show_many"}); got.status != 400 {
		t.Errorf("no ids = %d %s", got.status, got.body)
	}
	if err := f.Act(ts[1].ID, zdfake.AgentUpdate{Status: "closed"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Act(ts[1].ID, zdfake.AgentUpdate{Comment: "late"}); err == nil {
		t.Error("Act changed a closed ticket")
	}
}

// TestListComments: the ticket's comments page by cursor, oldest first;
// page[size] over 100 is refused; a comment's author_id must be a user.
func TestListComments(t *testing.T) {
	f := start(t)
	if got := do(t, f, call{method: "POST", path: "/api/v2/tickets", body: createBody("k", "A")}); got.status != 201 {
		t.Fatal(got)
	}
	id := f.Tickets()[0].ID
	for i := range 2 {
		if err := f.Act(id, zdfake.AgentUpdate{Comment: "note " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		Comments []struct {
			Body    string `json:"body"`
			AuditID int64  `json:"audit_id"`
		}
		Meta struct {
			HasMore     bool   `json:"has_more"`
			AfterCursor string `json:"after_cursor"`
		}
	}
	list := func(query string) (answer, page) {
		got := do(t, f, call{method: "GET", path: "/api/v2/tickets/" + itoa(id) + "/comments?" + query})
		var p page
		json.Unmarshal([]byte(got.body), &p)
		return got, p
	}
	got, p := list("page%5Bsize%5D=2")
	if got.status != 200 || len(p.Comments) != 2 || !p.Meta.HasMore || p.Comments[0].Body != "It broke." || p.Comments[0].AuditID == 0 {
		t.Fatalf("first page = %d %s", got.status, got.body)
	}
	got, p = list("page%5Bsize%5D=2&page%5Bafter%5D=" + p.Meta.AfterCursor)
	if got.status != 200 || len(p.Comments) != 1 || p.Meta.HasMore || p.Comments[0].Body != "note 1" {
		t.Fatalf("second page = %d %s", got.status, got.body)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
	if got, _ := list("page%5Bsize%5D=101"); got.status != 400 || len(f.Violations()) != 1 {
		t.Errorf("page[size]=101 = %d %s, violations %q", got.status, got.body, f.Violations())
	}
	if got := do(t, f, call{method: "PUT", path: "/api/v2/tickets/" + itoa(id), body: `{"ticket":{"comment":{"body":"x","author_id":42}}}`}); got.status != 422 {
		t.Errorf("an unknown author_id = %d %s, want 422", got.status, got.body)
	}
}
