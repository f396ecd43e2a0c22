package jsmfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/fake"
)

func start(t *testing.T) *Fake {
	t.Helper()
	f := New()
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func (f *Fake) do(t *testing.T, method, path, body string, auth bool) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.SetBasicAuth(Email, APIToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

const validRequest = `{"serviceDeskId":"10","requestTypeId":"25","requestFieldValues":{"summary":"s","description":"d","labels":["ticketray"]}}`

func TestRequests(t *testing.T) {
	f := start(t)
	tests := []struct {
		name, method, path, body string
		auth                     bool
		status                   int
		want                     string // in the body
		violation                string // in a new violation, "" for none
	}{
		{"create", "POST", "/rest/servicedeskapi/request", validRequest, true, 201, `"issueKey":"HELPDESK-1"`, ""},
		{"portal link", "GET", "/rest/servicedeskapi/request/HELPDESK-1", "", true, 200, "/servicedesk/customer/portal/3/HELPDESK-1", ""},
		{"no credentials", "GET", "/rest/servicedeskapi/servicedesk/10", "", false, 401, "Client must be authenticated", ""},
		{"service desk id as a number", "POST", "/rest/servicedeskapi/request",
			strings.Replace(validRequest, `"10"`, `10`, 1), true, 400, `"errorMessage":`, `"/serviceDeskId": value must be a string`},
		{"raiseOnBehalfOf as an email", "POST", "/rest/servicedeskapi/request",
			strings.Replace(validRequest, `{"serviceDeskId"`, `{"raiseOnBehalfOf":"alice@example.com","serviceDeskId"`, 1), true, 400, "does not exist", "must be an accountId"},
		{"field not on the request type", "POST", "/rest/servicedeskapi/request",
			strings.Replace(validRequest, `"summary":"s"`, `"summary":"s","priority":{"name":"High"}`, 1), true, 400, "Field 'priority' cannot be set", ""},
		{"unknown request", "GET", "/rest/servicedeskapi/request/HELPDESK-9/status", "", true, 404, MsgRequestNotFound, ""},
		{"unknown service desk", "GET", "/rest/servicedeskapi/servicedesk/11", "", true, 404, MsgServiceDeskNotFound, ""},
		{"Jira search on the same site", "POST", "/rest/api/3/search/jql", `{"jql":"labels = ticketray","fields":["summary"]}`, true, 200, `"key":"HELPDESK-1"`, ""},
		{"Jira's deprecated search", "POST", "/rest/api/3/search", `{"jql":"labels = ticketray"}`, true, 410, "deprecated", "deprecated"},
		{"not in the JSM spec", "GET", "/rest/servicedeskapi/nothing", "", true, 404, "not an operation", "not an operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.Violations())
			code, body := f.do(t, tt.method, tt.path, tt.body, tt.auth)
			if code != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("%d %s, want %d with %q", code, body, tt.status, tt.want)
			}
			v := f.Violations()[before:]
			if tt.violation == "" && len(v) > 0 || tt.violation != "" && (len(v) != 1 || !strings.Contains(v[0], tt.violation)) {
				t.Errorf("violations = %q, want %q", v, tt.violation)
			}
		})
	}
	if f.Count("x") != 0 || len(f.Requests()) != 1 {
		t.Errorf("requests = %d", len(f.Requests()))
	}
}

func TestStatusHistory(t *testing.T) {
	f := start(t)
	if code, body := f.do(t, "POST", "/rest/servicedeskapi/request", validRequest, true); code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	f.SetStatus("HELPDESK-1", "In Progress")
	f.SetStatus("HELPDESK-1", "Resolved")
	code, body := f.do(t, "GET", "/rest/servicedeskapi/request/HELPDESK-1/status?start=0&limit=2", "", true)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var page struct {
		Values []struct {
			Status         string `json:"status"`
			StatusCategory string `json:"statusCategory"`
		} `json:"values"`
		IsLastPage bool `json:"isLastPage"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Values) != 2 || page.Values[0].Status != "Resolved" || page.Values[0].StatusCategory != "DONE" || page.Values[1].Status != "In Progress" || page.IsLastPage {
		t.Errorf("status page = %+v, want the most recent first", page)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestStartAtReservedAddress(t *testing.T) {
	f := New()
	served := func() bool {
		code, _ := f.do(t, "GET", "/rest/servicedeskapi/servicedesk/10", "", true)
		return code == 200
	}
	fake.CheckRestart(t, f, func() {
		if !served() {
			t.Error("the service desk is not served")
		}
	}, served)
}

// TestSpec: the JSM spec is loaded once per process and shared, and every
// servicedeskapi route the fake implements is an operation of it (else the
// validator would answer 404 before the handler runs).
func TestSpec(t *testing.T) {
	s, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Spec(); again != s {
		t.Error("Spec loaded the spec a second time")
	}
	f := New()
	if s.LoadTime <= 0 || f.SpecLoadTime() != s.LoadTime {
		t.Errorf("SpecLoadTime = %v, spec's LoadTime = %v; want the one measured load", f.SpecLoadTime(), s.LoadTime)
	}
	for _, r := range []struct{ method, path string }{
		{"POST", "/rest/servicedeskapi/request"},
		{"GET", "/rest/servicedeskapi/request/HELPDESK-1"},
		{"GET", "/rest/servicedeskapi/request/HELPDESK-1/status"},
		{"POST", "/rest/servicedeskapi/request/HELPDESK-1/comment"},
		{"GET", "/rest/servicedeskapi/servicedesk/10"},
		{"GET", "/rest/servicedeskapi/servicedesk/10/requesttype/25"},
		{"GET", "/rest/servicedeskapi/servicedesk/10/customer"},
	} {
		if _, _, err := s.Router.FindRoute(httptest.NewRequest(r.method, r.path, nil)); err != nil {
			t.Errorf("%s %s is not an operation of the JSM spec: %v", r.method, r.path, err)
		}
	}
}

// TestGetComments: public and internal comments are filtered as asked,
// bodies are plain text whatever API wrote them, and pages are capped.
func TestGetComments(t *testing.T) {
	f := start(t)
	if code, b := f.do(t, "POST", "/rest/servicedeskapi/request", validRequest, true); code != 201 {
		t.Fatalf("create = %d %s", code, b)
	}
	if code, b := f.do(t, "POST", "/rest/servicedeskapi/request/HELPDESK-1/comment", `{"body":"from the API\nline 2","public":true}`, true); code != 201 {
		t.Fatalf("comment = %d %s", code, b)
	}
	f.Reply("HELPDESK-1", "Agent", "internal note", false)
	for i := 0; i < maxCommentPage+1; i++ {
		f.Reply("HELPDESK-1", "Agent", "reply", true)
	}
	type page struct {
		Size       int  `json:"size"`
		IsLastPage bool `json:"isLastPage"`
		Values     []struct {
			Body   string `json:"body"`
			Public bool   `json:"public"`
		} `json:"values"`
	}
	get := func(query string) page {
		code, b := f.do(t, "GET", "/rest/servicedeskapi/request/HELPDESK-1/comment?"+query, "", true)
		var p page
		if code != 200 || json.Unmarshal(b, &p) != nil {
			t.Fatalf("GET ?%s = %d %s", query, code, b)
		}
		return p
	}
	if p := get("public=false"); len(p.Values) != 1 || p.Values[0].Body != "internal note" || p.Values[0].Public {
		t.Errorf("internal only = %+v", p)
	}
	p := get("internal=false&limit=1000")
	if p.Size != maxCommentPage || p.IsLastPage || p.Values[0].Body != "from the API\nline 2" {
		t.Errorf("first public page: size %d, last %v, first %q", p.Size, p.IsLastPage, p.Values[0].Body)
	}
	if p := get("internal=false&start=100"); p.Size != 2 || !p.IsLastPage || p.Values[1].Body != "reply" {
		t.Errorf("second public page = %+v", p)
	}
	if code, _ := f.do(t, "GET", "/rest/servicedeskapi/request/HELPDESK-9/comment", "", true); code != 404 {
		t.Errorf("comments of a missing request = %d, want 404", code)
	}
	if v := f.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}
