package jirafake

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

type call struct {
	method, path, contentType, body string
	header                          http.Header
	noAuth                          bool
}

func (f *Fake) do(t *testing.T, c call) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(c.method, f.URL()+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	} else if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if !c.noAuth {
		req.SetBasicAuth(Email, APIToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON compares JSON documents ignoring formatting.
func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func multipartBody(t *testing.T, field string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile(field, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello"))
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

const validIssue = `{"fields":{"project":{"key":"IT"},"issuetype":{"name":"Task"},"summary":"s",
	"description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"d"}]}]}}}`

// The fake answers in Jira's words (captured samples where there are
// any), and what it answers is itself checked against the spec.
func TestWireFormat(t *testing.T) {
	f := start(t)
	if code, _, _ := f.do(t, call{method: "POST", path: "/rest/api/3/issue", body: validIssue}); code != 201 {
		t.Fatalf("create = %d", code)
	}
	body, ct := multipartBody(t, "file")
	tests := []struct {
		name       string
		call       call
		status     int
		want       string // exact JSON, or a substring of a non-JSON body
		violation  string // a substring of a recorded violation, "" for none
		wantHeader string // Content-Type prefix
	}{
		{name: "created", call: call{method: "POST", path: "/rest/api/3/issue", body: validIssue}, status: 201,
			want: `{"id":"10002","key":"IT-2","self":"%URL%/rest/api/3/issue/10002"}`},
		{name: "no credentials", call: call{method: "GET", path: "/rest/api/3/myself", noAuth: true}, status: 401,
			want: MsgNotAuthenticated, wantHeader: "text/html"},
		{name: "wrong token", call: call{method: "GET", path: "/rest/api/3/myself", noAuth: true,
			header: http.Header{"Authorization": {"Bearer nope"}}}, status: 401, want: MsgNotAuthenticated},
		{name: "bearer token", call: call{method: "GET", path: "/rest/api/3/myself", noAuth: true,
			header: http.Header{"Authorization": {"Bearer " + BearerToken}}}, status: 200},
		{name: "unknown project", call: call{method: "POST", path: "/rest/api/3/issue", body: strings.Replace(validIssue, `"IT"`, `"NOPE"`, 1)},
			status: 400, want: sample(t, "amplabs-create-issue-invalid-project.json")},
		{name: "unknown issue type", call: call{method: "POST", path: "/rest/api/3/issue", body: strings.Replace(validIssue, `"Task"`, `"Epicc"`, 1)},
			status: 400, want: sample(t, "amplabs-create-issue-invalid-type.json")},
		{name: "unknown issue", call: call{method: "GET", path: "/rest/api/3/issue/IT-99"},
			status: 404, want: sample(t, "amplabs-delete-issue-not-found.json")},
		{name: "description as a string", call: call{method: "POST", path: "/rest/api/3/issue",
			body: `{"fields":{"project":{"key":"IT"},"issuetype":{"name":"Task"},"summary":"s","description":"plain"}}`},
			status: 400, want: `{"errorMessages":[],"errors":{"description":"` + MsgNotADF + `"}}`, violation: "description is not ADF"},
		{name: "summary with a newline and a label with a space", call: call{method: "POST", path: "/rest/api/3/issue",
			body: `{"fields":{"project":{"key":"IT"},"issuetype":{"name":"Task"},"summary":"a\nb","labels":["a b"]}}`},
			status: 400, want: `{"errorMessages":[],"errors":{"summary":"` + MsgSummaryNewline + `","labels":"The label 'a b' contains spaces which is invalid."}}`},
		{name: "attachment without the XSRF header", call: call{method: "POST", path: "/rest/api/3/issue/IT-1/attachments", body: body, contentType: ct},
			status: 403, want: MsgXSRF, violation: "X-Atlassian-Token", wantHeader: "text/plain"},
		{name: "attachment with the header", call: call{method: "POST", path: "/rest/api/3/issue/IT-1/attachments", body: body, contentType: ct,
			header: http.Header{"X-Atlassian-Token": {"no-check"}}}, status: 200},
		{name: "JQL error", call: call{method: "POST", path: "/rest/api/3/search/jql", body: `{"jql":"foo = bar"}`},
			status: 400, want: `{"errorMessages":["Field 'foo' does not exist or you do not have permission to view it."],"warningMessages":[]}`},
		{name: "missing permissions parameter", call: call{method: "GET", path: "/rest/api/3/mypermissions?projectKey=IT"}, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.Violations())
			code, h, got := f.do(t, tt.call)
			if code != tt.status {
				t.Fatalf("status = %d, want %d: %s", code, tt.status, got)
			}
			want := strings.ReplaceAll(tt.want, "%URL%", f.URL())
			switch {
			case want == "":
			case strings.HasPrefix(want, "{"):
				if !sameJSON(t, got, want) {
					t.Errorf("body = %s, want %s", got, want)
				}
			case !strings.Contains(string(got), want):
				t.Errorf("body = %q, want %q", got, want)
			}
			if tt.wantHeader != "" && !strings.HasPrefix(h.Get("Content-Type"), tt.wantHeader) {
				t.Errorf("Content-Type = %q, want %s", h.Get("Content-Type"), tt.wantHeader)
			}
			v := f.Violations()[before:]
			if tt.violation == "" && len(v) > 0 {
				t.Errorf("violations = %q", v)
			}
			if tt.violation != "" && (len(v) != 1 || !strings.Contains(v[0], tt.violation)) {
				t.Errorf("violations = %q, want one with %q", v, tt.violation)
			}
		})
	}
}

// Requests that do not match the spec are refused and recorded.
func TestSpecViolations(t *testing.T) {
	f := start(t)
	partBody, partCT := multipartBody(t, "upload")
	tests := []struct {
		name   string
		call   call
		status int
		want   string // in the ErrorCollection message and the violation
	}{
		{"deprecated search", call{method: "POST", path: "/rest/api/3/search", body: `{"jql":"labels = x"}`}, 410, "deprecated"},
		{"deprecated GET search", call{method: "GET", path: "/rest/api/3/search?jql=labels%3Dx"}, 410, "deprecated"},
		{"fields not an object", call{method: "POST", path: "/rest/api/3/issue", body: `{"fields":"bad"}`}, 400, `"/fields": value must be an object`},
		{"search fields not an array", call{method: "POST", path: "/rest/api/3/search/jql", body: `{"jql":"labels = x","fields":"summary"}`}, 400, `"/fields": value must be an array`},
		{"unknown search property", call{method: "POST", path: "/rest/api/3/search/jql", body: `{"jql":"labels = x","limit":1}`}, 400, "limit"},
		{"no such path", call{method: "GET", path: "/rest/api/3/nothing-here"}, 404, "not an operation"},
		{"wrong method", call{method: "DELETE", path: "/rest/api/3/myself"}, 405, "not an operation"},
		{"attachment part not named file", call{method: "POST", path: "/rest/api/3/issue/IT-1/attachments", body: partBody, contentType: partCT,
			header: http.Header{"X-Atlassian-Token": {"no-check"}}}, 400, "upload"},
		{"comment as JSON text", call{method: "POST", path: "/rest/api/3/issue/IT-1/comment", body: `"hello"`}, 400, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.Violations())
			code, _, body := f.do(t, tt.call)
			if code != tt.status {
				t.Fatalf("status = %d, want %d: %s", code, tt.status, body)
			}
			var ec struct {
				ErrorMessages []string          `json:"errorMessages"`
				Errors        map[string]string `json:"errors"`
			}
			if err := json.Unmarshal(body, &ec); err != nil || len(ec.ErrorMessages) != 1 || !strings.Contains(ec.ErrorMessages[0], tt.want) {
				t.Errorf("body = %s, want an ErrorCollection naming %q", body, tt.want)
			}
			v := f.Violations()[before:]
			if len(v) != 1 || !strings.Contains(v[0], tt.want) {
				t.Errorf("violations = %q, want one naming %q", v, tt.want)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	f := start(t)
	// A site's search covers every project unless the JQL restricts it:
	// OPS-1 shares label a with IT-1 and IT-3.
	f.AddProject(Project{ID: "10100", Key: "OPS", Name: "Operations", IssueTypes: []string{"Task"}})
	for i, labels := range [][]string{{"a", "x"}, {"b"}, {"a"}} {
		if _, err := f.AddIssue(Issue{ProjectKey: "IT", Summary: "s" + string(rune('0'+i)), Labels: labels}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.AddIssue(Issue{ProjectKey: "OPS", Summary: "s3", Labels: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		jql    string
		max    int
		want   []string
		isLast bool
	}{
		{`labels = "a"`, 10, []string{"OPS-1", "IT-3", "IT-1"}, true},
		{`labels = a ORDER BY created ASC`, 10, []string{"IT-1", "IT-3", "OPS-1"}, true},
		{`labels = "a" ORDER BY created DESC`, 1, []string{"OPS-1"}, false},
		{`project = "IT" AND labels = "a" ORDER BY created ASC`, 10, []string{"IT-1", "IT-3"}, true},
		{`project = 10100 AND labels = "a"`, 10, []string{"OPS-1"}, true},
		{`labels in ("b", x) AND project = IT`, 10, []string{"IT-2", "IT-1"}, true},
		{`labels != a and project = it`, 10, []string{"IT-2"}, true},
		{`key = IT-2`, 10, []string{"IT-2"}, true},
		{`labels = "nothing"`, 10, []string{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"jql": tt.jql, "maxResults": tt.max, "fields": []string{"summary"}})
			code, _, got := f.do(t, call{method: "POST", path: "/rest/api/3/search/jql", body: string(body)})
			if code != 200 {
				t.Fatalf("status %d: %s", code, got)
			}
			var out struct {
				Issues []struct {
					Key    string         `json:"key"`
					Fields map[string]any `json:"fields"`
				} `json:"issues"`
				IsLast bool `json:"isLast"`
			}
			if err := json.Unmarshal(got, &out); err != nil {
				t.Fatal(err)
			}
			keys := []string{}
			for _, is := range out.Issues {
				keys = append(keys, is.Key)
				if len(is.Fields) != 1 || is.Fields["summary"] == nil {
					t.Errorf("fields = %v, want only summary", is.Fields)
				}
			}
			if strings.Join(keys, ",") != strings.Join(tt.want, ",") || out.IsLast != tt.isLast {
				t.Errorf("keys = %v isLast %v, want %v %v", keys, out.IsLast, tt.want, tt.isLast)
			}
		})
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestParseJQLErrors(t *testing.T) {
	for jql, want := range map[string]string{
		``:                                     "Unbounded JQL queries",
		`ORDER BY created`:                     "Unbounded JQL queries",
		`summary ~ "vpn"`:                      "Field 'summary' does not exist",
		`labels = "open`:                       "quoted string has not been completed",
		`labels = a OR labels = b`:             "only AND",
		`labels in (a b)`:                      "Expecting ',' or ')'",
		`labels = a ORDER BY key`:              "only ORDER BY created",
		`labels ~ a`:                           "Expecting operator",
		`labels = a && b`:                      "only AND",
		`labels = ,`:                           "Expecting either a value",
		`labels = a ORDER BY created sideways`: "Expecting 'ASC' or 'DESC'",
	} {
		if _, err := parseJQL(jql, time.UTC, time.Now()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseJQL(%q) = %v, want %q", jql, err, want)
		}
	}
	q, err := parseJQL(`labels = "say \"hi\""`, time.UTC, time.Now())
	if err != nil || q.clauses[0].values[0] != `say "hi"` {
		t.Errorf("escaped quotes = %+v, %v", q, err)
	}
}

func TestCheckADF(t *testing.T) {
	tests := []struct {
		name, doc, want string // want "" = valid
	}{
		{"empty doc", `{"type":"doc","version":1,"content":[]}`, ""},
		{"rich doc", `{"type":"doc","version":1,"content":[{"type":"heading","attrs":{"level":3},"content":[{"type":"text","text":"H"}]},
			{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"k: ","marks":[{"type":"strong"}]},{"type":"hardBreak"}]}]}]},
			{"type":"codeBlock","content":[{"type":"text","text":"out\nput"}]}]}`, ""},
		{"a string", `"text"`, "not a JSON object"},
		{"version 2", `{"type":"doc","version":2,"content":[]}`, "version"},
		{"no content", `{"type":"doc","version":1}`, "no content"},
		{"empty text", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}`, "non-empty text"},
		{"text at top level", `{"type":"doc","version":1,"content":[{"type":"text","text":"x"}]}`, `"text" is not allowed`},
		{"heading without level", `{"type":"doc","version":1,"content":[{"type":"heading","content":[]}]}`, "attrs.level"},
		{"empty list", `{"type":"doc","version":1,"content":[{"type":"bulletList","content":[]}]}`, "at least 1"},
		{"marks in code", `{"type":"doc","version":1,"content":[{"type":"codeBlock","content":[{"type":"text","text":"x","marks":[{"type":"strong"}]}]}]}`, "marks"},
		{"unknown property", `{"type":"doc","version":1,"content":[{"type":"paragraph","style":"x"}]}`, "unknown property"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckADF(json.RawMessage(tt.doc))
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckADF = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStartAtReservedAddress(t *testing.T) {
	f := New()
	served := func() bool {
		code, _, _ := f.do(t, call{method: "GET", path: "/rest/api/3/myself"})
		return code == 200
	}
	fake.CheckRestart(t, f, func() {
		if !served() {
			t.Error("myself is not served")
		}
	}, served)
}

// TestSpec: the spec is loaded once per process and shared by every fake,
// and every route the fake implements is a live operation of it (the
// validator answers 404 for anything else before the handler runs, so a
// route missing from the spec would be dead code in the fake).
func TestSpec(t *testing.T) {
	s, err := JiraSpec()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := JiraSpec(); again != s {
		t.Error("JiraSpec loaded the spec a second time")
	}
	a, b := New(), New()
	if a.validator.Spec() != s || b.validator.Spec() != s {
		t.Error("fakes do not share the process's spec")
	}
	if s.LoadTime <= 0 || a.SpecLoadTime() != s.LoadTime {
		t.Errorf("SpecLoadTime = %v, spec's LoadTime = %v; want the one measured load", a.SpecLoadTime(), s.LoadTime)
	}
	tests := []struct {
		method, path string
		deprecated   bool
	}{
		{"POST", "/rest/api/3/issue", false},
		{"POST", "/rest/api/3/search/jql", false},
		{"GET", "/rest/api/3/issue/IT-1", false},
		{"POST", "/rest/api/3/issue/IT-1/comment", false},
		{"POST", "/rest/api/3/issue/IT-1/attachments", false},
		{"GET", "/rest/api/3/myself", false},
		{"GET", "/rest/api/3/mypermissions", false},
		{"POST", "/rest/api/3/search", true}, // the validator answers 410
	}
	for _, tt := range tests {
		route, _, err := s.Router.FindRoute(httptest.NewRequest(tt.method, tt.path, nil))
		if err != nil {
			t.Errorf("%s %s is not an operation of the spec: %v", tt.method, tt.path, err)
			continue
		}
		if route.Operation.Deprecated != tt.deprecated {
			t.Errorf("%s %s deprecated = %v, want %v", tt.method, tt.path, route.Operation.Deprecated, tt.deprecated)
		}
	}
}

// TestJQLDates: dates are read in the account's time zone, periods from
// now, unquoted numbers as epoch milliseconds; other forms are refused.
func TestJQLDates(t *testing.T) {
	la := time.FixedZone("America/Los_Angeles", -8*60*60)
	now := time.Date(2026, 12, 6, 16, 45, 0, 0, time.UTC)
	is := &Issue{Updated: time.Date(2026, 12, 6, 16, 39, 30, 0, time.UTC)}
	tests := []struct {
		jql  string
		want bool
	}{
		{`updated >= "2026/12/06 08:39"`, true},
		{`updated >= "2026-12-06 08:40"`, false},
		{`updated >= "2026/12/06 16:39"`, false}, // the UTC wall time, read in LA
		{`updated > "-6m"`, true},
		{`updated > -5m`, false},
		{`updated >= 1796575170000`, true},
		{`updated < "2026/12/07"`, true},
		{`created <= "2026/12/06"`, true}, // zero created
	}
	for _, tt := range tests {
		q, err := parseJQL(tt.jql, la, now)
		if err != nil {
			t.Errorf("%s: %v", tt.jql, err)
			continue
		}
		if got := q.match(is); got != tt.want {
			t.Errorf("%s matches %v, want %v", tt.jql, got, tt.want)
		}
	}
	if _, err := parseJQL(`updated >= "06.12.2026"`, la, now); err == nil || !strings.Contains(err.Error(), "Date value '06.12.2026' for field 'updated' is invalid") {
		t.Errorf("a bad date: %v", err)
	}
}

// TestCommentProperties: properties sent with a comment come back from
// the comment list only with expand=properties; an empty key is refused.
func TestCommentProperties(t *testing.T) {
	f := start(t)
	is, err := f.AddIssue(Issue{ProjectKey: ProjectKey, Summary: "s"})
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}`
	path := "/rest/api/3/issue/" + is.ID + "/comment"
	code, _, b := f.do(t, call{method: "POST", path: path, body: `{"body":` + doc + `,"properties":[{"key":"p","value":{"key":"k1"}}]}`})
	var c struct{ ID string }
	if code != 201 || json.Unmarshal(b, &c) != nil {
		t.Fatalf("add comment = %d %s", code, b)
	}
	list := func(query string) string {
		code, _, b := f.do(t, call{method: "POST", path: "/rest/api/3/comment/list" + query, body: `{"ids":[` + c.ID + `,1]}`})
		if code != 200 {
			t.Fatalf("comment list = %d %s", code, b)
		}
		return string(b)
	}
	if got := list("?expand=properties"); !strings.Contains(got, `"properties":[{"key":"p","value":{"key":"k1"}}]`) || !strings.Contains(got, `"total":1`) {
		t.Errorf("expanded list = %s", got)
	}
	if got := list(""); strings.Contains(got, `"properties"`) {
		t.Errorf("list without expand = %s", got)
	}
	if code, _, _ := f.do(t, call{method: "POST", path: path, body: `{"body":` + doc + `,"properties":[{"key":"","value":1}]}`}); code != 400 {
		t.Errorf("empty property key = %d, want 400", code)
	}
	if n := len(f.Violations()); n != 1 {
		t.Errorf("violations = %v, want the one for the empty key", f.Violations())
	}
}
