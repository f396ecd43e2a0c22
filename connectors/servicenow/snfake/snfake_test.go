package snfake_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

type response struct {
	status int
	header http.Header
	body   map[string]any
}

// call sends a well-formed request (credentials, Accept, and Content-Type
// when there is a body) unless hdr overrides a header.
func call(t *testing.T, base, method, path, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(snfake.Username, snfake.Password)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&r.body); err != nil {
			t.Fatalf("%s %s: body: %v", method, path, err)
		}
	}
	return r
}

func start(t *testing.T, opts ...snfake.Option) *snfake.Fake {
	t.Helper()
	f := snfake.Start(opts...)
	t.Cleanup(f.Close)
	return f
}

const incidentBody = `{"short_description":"Printer jammed","urgency":"2","impact":"3","correlation_id":"k1","correlation_display":"Ticketray","caller_id":"` + snfake.AliceSysID + `","unknown_field":"x","sys_id":"ffffffffffffffffffffffffffffffff","work_notes":"first note"}`

func result(t *testing.T, r response) map[string]any {
	t.Helper()
	m, ok := r.body["result"].(map[string]any)
	if !ok {
		t.Fatalf("result is %T in %v", r.body["result"], r.body)
	}
	return m
}

func sampleKeys(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Result map[string]any }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(s.Result))
}

func TestInsertIncident(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 5, 0, time.UTC)
	f := start(t, snfake.WithClock(func() time.Time { return now }))
	r := call(t, f.URL(), "POST", "/api/now/table/incident", incidentBody)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	inc := result(t, r)
	// The sample is from a release before the On Hold state and its
	// hold_reason field.
	want := slices.Sorted(slices.Values(append(sampleKeys(t, "table-post-now-table-tablename-1.json"), "hold_reason")))
	if got := slices.Sorted(maps.Keys(inc)); !slices.Equal(got, want) {
		t.Errorf("fields differ from the vendor sample:\ngot  %v\nwant %v", got, want)
	}
	for k, v := range inc {
		switch v := v.(type) {
		case string:
		case map[string]any: // a reference
			if len(v) != 2 || v["link"] == nil || v["value"] == nil {
				t.Errorf("%s = %v, want {link, value}", k, v)
			}
		default:
			t.Errorf("%s is %T, want a string", k, v)
		}
	}
	sysID, _ := inc["sys_id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(sysID) || sysID == strings.Repeat("f", 32) {
		t.Errorf("sys_id = %q", sysID)
	}
	for k, want := range map[string]string{
		"number": "INC0010001", "state": "1", "urgency": "2", "impact": "3", "priority": "4",
		"opened_at": "2026-03-02 09:30:05", "sys_created_on": "2026-03-02 09:30:05",
		"correlation_id": "k1", "work_notes": "", "sys_created_by": snfake.Username,
	} {
		if inc[k] != want {
			t.Errorf("%s = %v, want %q", k, inc[k], want)
		}
	}
	caller, _ := inc["caller_id"].(map[string]any)
	if caller["value"] != snfake.AliceSysID || caller["link"] != f.URL()+"/api/now/table/sys_user/"+snfake.AliceSysID {
		t.Errorf("caller_id = %v", inc["caller_id"])
	}
	if loc := r.header.Get("Location"); loc != f.URL()+"/api/now/table/incident/"+sysID {
		t.Errorf("Location = %q", loc)
	}
	if _, ok := f.Incident(sysID)["unknown_field"]; ok {
		t.Error("an unknown field was stored")
	}
	if notes := f.WorkNotes(sysID); !slices.Equal(notes, []string{"first note"}) {
		t.Errorf("work notes = %q", notes)
	}

	second := result(t, call(t, f.URL(), "POST", "/api/now/v2/table/incident?sysparm_fields=number,sys_id&sysparm_exclude_reference_link=true", incidentBody))
	if len(second) != 2 || second["number"] != "INC0010002" {
		t.Errorf("second incident (versioned URL, two fields) = %v", second)
	}
	if f.Count("k1") != 2 || len(f.Incidents()) != 2 {
		t.Errorf("Count = %d, incidents = %d", f.Count("k1"), len(f.Incidents()))
	}
}

func TestInsertStrictness(t *testing.T) {
	f := start(t)
	tests := []struct {
		name, body string
		want       int
	}{
		{"missing correlation_id", `{"short_description":"x","urgency":"1","impact":"1","correlation_display":"Ticketray"}`, 400},
		{"missing urgency", `{"short_description":"x","impact":"1","correlation_id":"k","correlation_display":"Ticketray"}`, 400},
		{"urgency out of range", `{"short_description":"x","urgency":"4","impact":"1","correlation_id":"k","correlation_display":"Ticketray"}`, 400},
		{"numbers are coerced", `{"short_description":"x","urgency":1,"impact":1,"correlation_id":"k","correlation_display":"Ticketray"}`, 201},
		{"not JSON", `short_description=x`, 400},
		{"an array", `[{"short_description":"x"}]`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, f.URL(), "POST", "/api/now/table/incident", tt.body)
			if r.status != tt.want {
				t.Errorf("status = %d, want %d: %v", r.status, tt.want, r.body)
			}
			if tt.want == 400 && r.body["status"] != "failure" {
				t.Errorf("body = %v", r.body)
			}
		})
	}
	// Other tables are not held to Ticketray's fields.
	if r := call(t, f.URL(), "POST", "/api/now/table/sys_user_group", `{"name":"Desk 2"}`); r.status != 201 {
		t.Errorf("group insert = %d", r.status)
	}
}

func TestErrorBodies(t *testing.T) {
	f := start(t)
	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
		body               string
	}{
		{"no credentials", "GET", "/api/now/table/incident", []string{"Authorization", ""}, 401,
			`{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`},
		{"wrong password", "GET", "/api/now/table/incident", []string{"Authorization", "Basic dGlja2V0cmF5LmludGVncmF0aW9uOm5vcGU="}, 401,
			`{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`},
		{"wrong bearer", "GET", "/api/now/table/incident", []string{"Authorization", "Bearer nope"}, 401,
			`{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`},
		{"no record", "GET", "/api/now/table/incident/" + strings.Repeat("0", 32), nil, 404,
			`{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}`},
		{"invalid table", "GET", "/api/now/table/incidentx", nil, 400,
			`{"error":{"message":"Invalid table incidentx","detail":null},"status":"failure"}`},
		{"unknown API", "GET", "/api/now/nothing", nil, 400,
			`{"error":{"message":"Requested URI does not represent any resource","detail":null},"status":"failure"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, f.URL(), tt.method, tt.path, "", tt.hdr...)
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.body), &want); err != nil {
				t.Fatal(err)
			}
			if r.status != tt.status || !equalJSON(r.body, want) {
				t.Errorf("got %d %v, want %d %s", r.status, r.body, tt.status, tt.body)
			}
		})
	}
	if r := call(t, f.URL(), "GET", "/api/now/table/incident", "", "Authorization", ""); r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	if r := call(t, f.URL(), "GET", "/api/now/table/incident", "", "Authorization", "Bearer "+snfake.Token); r.status != 200 {
		t.Errorf("bearer token: status %d", r.status)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestList(t *testing.T) {
	f := start(t)
	for i, key := range []string{"a", "b", "a", "c"} {
		body := fmt.Sprintf(`{"short_description":"n%d","urgency":"3","impact":"3","correlation_id":"%s","correlation_display":"Ticketray"}`, i, key)
		if r := call(t, f.URL(), "POST", "/api/now/table/incident", body); r.status != 201 {
			t.Fatal(r.body)
		}
	}
	tests := []struct {
		query     string
		wantDescs []string
		total     string // X-Total-Count, "" when absent
	}{
		{"sysparm_query=correlation_id=a", []string{"n0", "n2"}, "2"},
		{"sysparm_query=correlation_id=a%5Eshort_description=n2", []string{"n2"}, "1"},
		{"sysparm_query=correlation_id=a&sysparm_limit=1", []string{"n0"}, "2"},
		{"sysparm_query=correlation_id=a&sysparm_limit=1&sysparm_offset=1", []string{"n2"}, "2"},
		{"sysparm_query=correlation_id!=a%5EORDERBYDESCshort_description", []string{"n3", "n1"}, "2"},
		{"sysparm_query=short_descriptionSTARTSWITHn%5Ecorrelation_idISNOTEMPTY&sysparm_no_count=true", []string{"n0", "n1", "n2", "n3"}, ""},
		{"sysparm_query=correlation_id=zzz", []string{}, "0"},
		{"sysparm_query=correlation_idINa,c%5EORDERBYDESCshort_description", []string{"n3", "n2", "n0"}, "3"},
		{"sysparm_query=sys_created_on>=2000-01-01%2000:00:00%5Ecorrelation_id=b", []string{"n1"}, "1"},
		{"sysparm_query=sys_created_on<2000-01-01%2000:00:00", []string{}, "0"},
		// An unknown field is dropped from the query, as on an instance.
		{"sysparm_query=no_such_field=a%5Ecorrelation_id=c", []string{"n3"}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := call(t, f.URL(), "GET", "/api/now/table/incident?sysparm_fields=short_description&"+tt.query, "")
			if r.status != 200 {
				t.Fatalf("status %d: %v", r.status, r.body)
			}
			var got []string
			for _, rec := range r.body["result"].([]any) {
				m := rec.(map[string]any)
				if len(m) != 1 {
					t.Errorf("sysparm_fields ignored: %v", m)
				}
				got = append(got, m["short_description"].(string))
			}
			if !slices.Equal(got, tt.wantDescs) && len(got)+len(tt.wantDescs) > 0 {
				t.Errorf("result = %v, want %v", got, tt.wantDescs)
			}
			if h := r.header.Get("X-Total-Count"); h != tt.total {
				t.Errorf("X-Total-Count = %q, want %q", h, tt.total)
			}
		})
	}
	for _, q := range []string{"correlation_id=a%5EORcorrelation_id=b", "caller_id.email=x", "correlation_idNOT%20IN1,2",
		"sys_updated_on>=2026-03-02T09:00:00Z", "short_description>n1", "sys_class_nameINSTANCEOFtask"} {
		if r := call(t, f.URL(), "GET", "/api/now/table/incident?sysparm_query="+q, ""); r.status != 400 {
			t.Errorf("unsupported query %s: status %d", q, r.status)
		}
	}
	users := call(t, f.URL(), "GET", "/api/now/table/sys_user?sysparm_query=email="+snfake.BobEmail+"&sysparm_fields=sys_id&sysparm_limit=1", "")
	if res := users.body["result"].([]any); len(res) != 1 || res[0].(map[string]any)["sys_id"] != snfake.BobSysID {
		t.Errorf("user lookup = %v", users.body)
	}
}

func TestModify(t *testing.T) {
	f := start(t)
	id := result(t, call(t, f.URL(), "POST", "/api/now/table/incident", incidentBody))["sys_id"].(string)
	r := call(t, f.URL(), "PATCH", "/api/now/table/incident/"+id+"?sysparm_fields=sys_id,work_notes,sys_mod_count,urgency,priority", `{"work_notes":"second","urgency":"1"}`)
	if r.status != 200 {
		t.Fatalf("PATCH: %d %v", r.status, r.body)
	}
	got := result(t, r)
	if got["work_notes"] != "" || got["sys_mod_count"] != "1" || got["urgency"] != "1" || got["priority"] != "3" {
		t.Errorf("after PATCH: %v", got)
	}
	if notes := f.WorkNotes(id); !slices.Equal(notes, []string{"first note", "second"}) {
		t.Errorf("work notes = %q", notes)
	}
	if r := call(t, f.URL(), "PATCH", "/api/now/table/incident/"+strings.Repeat("1", 32), `{"work_notes":"x"}`); r.status != 404 {
		t.Errorf("PATCH missing: %d", r.status)
	}
	if !f.Update(id, map[string]string{"state": "6"}) || f.Incident(id)["incident_state"] != "6" {
		t.Error("Update did not resolve the incident")
	}
	if r := call(t, f.URL(), "DELETE", "/api/now/table/incident/"+id, ""); r.status != 204 || f.Incident(id) != nil {
		t.Errorf("DELETE: %d", r.status)
	}
}

func TestAttachment(t *testing.T) {
	f := start(t)
	id := result(t, call(t, f.URL(), "POST", "/api/now/table/incident", incidentBody))["sys_id"].(string)
	path := "/api/now/attachment/file?table_name=incident&table_sys_id=" + id + "&file_name=log.txt"
	r := call(t, f.URL(), "POST", path, "line 1\nline 2\n", "Content-Type", "text/plain")
	if r.status != 201 {
		t.Fatalf("upload: %d %v", r.status, r.body)
	}
	got := result(t, r)
	for _, k := range sampleKeys(t, "attachment-post-now-attachment-file-1.json") {
		if _, ok := got[k]; !ok {
			t.Errorf("attachment result lacks %s (in the vendor sample)", k)
		}
	}
	if got["size_bytes"] != "14" || got["file_name"] != "log.txt" || got["table_sys_id"] != id || got["content_type"] != "text/plain" {
		t.Errorf("result = %v", got)
	}
	as := f.Attachments()
	if len(as) != 1 || string(as[0].Data) != "line 1\nline 2\n" || as[0].SysID != got["sys_id"] {
		t.Errorf("stored = %+v", as)
	}

	for name, tt := range map[string]struct {
		path   string
		hdr    []string
		status int
	}{
		"missing file_name":    {"/api/now/attachment/file?table_name=incident&table_sys_id=" + id, []string{"Content-Type", "text/plain"}, 400},
		"no such record":       {"/api/now/attachment/file?table_name=incident&table_sys_id=" + strings.Repeat("2", 32) + "&file_name=a", []string{"Content-Type", "text/plain"}, 404},
		"missing Content-Type": {path, []string{"Content-Type", ""}, 400},
	} {
		if r := call(t, f.URL(), "POST", tt.path, "x", tt.hdr...); r.status != tt.status {
			t.Errorf("%s: status %d, want %d", name, r.status, tt.status)
		}
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	f := start(t, snfake.WithRateLimit(1), snfake.WithClock(func() time.Time { return now }))
	first := call(t, f.URL(), "GET", "/api/now/table/incident", "")
	reset := strconv.FormatInt(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Unix(), 10)
	if first.status != 200 || first.header.Get("X-RateLimit-Limit") != "1" || first.header.Get("X-RateLimit-Reset") != reset ||
		first.header.Get("X-RateLimit-Rule") != snfake.RateLimitRuleSysID || first.header.Get("Retry-After") != "" {
		t.Errorf("first: %d %v", first.status, first.header)
	}
	second := call(t, f.URL(), "GET", "/api/now/table/incident", "")
	if second.status != 429 || second.header.Get("Retry-After") != "2700" || second.header.Get("X-RateLimit-Reset") != reset {
		t.Errorf("second: %d %v", second.status, second.header)
	}
	if e, _ := second.body["error"].(map[string]any); e["message"] != "Rate limit exceeded" {
		t.Errorf("body = %v", second.body)
	}
}

func TestStartAt(t *testing.T) {
	f := snfake.New()
	fake.CheckRestart(t, f, func() {
		call(t, f.URL(), "POST", "/api/now/table/incident", incidentBody)
	}, func() bool {
		return call(t, f.URL(), "GET", "/api/now/table/incident", "").header.Get("X-Total-Count") == "1"
	})
}

// TestHangEndsWhenClientGivesUp guards the body read in front of the fault
// injector: a hung POST must end when the client times out, so Close
// returns.
func TestHangEndsWhenClientGivesUp(t *testing.T) {
	f := snfake.Start()
	f.Faults.Add("POST", "/api/now/table/incident", fake.Fault{Kind: fake.Hang})
	req, _ := http.NewRequest("POST", f.URL()+"/api/now/table/incident", strings.NewReader(incidentBody))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	fake.CheckHangEnds(t, f, req)
}

func TestConcurrentInserts(t *testing.T) {
	f := start(t)
	const n = 20
	var wg sync.WaitGroup
	numbers := make([]string, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", f.URL()+"/api/now/table/incident", strings.NewReader(incidentBody))
			req.SetBasicAuth(snfake.Username, snfake.Password)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var out struct{ Result struct{ Number string } }
			json.NewDecoder(resp.Body).Decode(&out)
			numbers[i] = out.Result.Number
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	if uniq := slices.Compact(slices.Clone(numbers)); len(uniq) != n || uniq[0] == "" || f.Count("k1") != n {
		t.Errorf("numbers = %v, count = %d", numbers, f.Count("k1"))
	}
}

func TestPriorityMatrix(t *testing.T) {
	for _, tt := range []struct{ u, i, want string }{
		{"1", "1", "1"}, {"1", "2", "2"}, {"2", "1", "2"}, {"2", "2", "3"}, {"1", "3", "3"},
		{"2", "3", "4"}, {"3", "2", "4"}, {"3", "3", "5"}, {"0", "1", ""}, {"1", "", ""},
	} {
		if got := snfake.Priority(tt.u, tt.i); got != tt.want {
			t.Errorf("Priority(%s, %s) = %q, want %q", tt.u, tt.i, got, tt.want)
		}
	}
}

// TestActAndJournal: an agent's work shows in the incident (with display
// values) and in sys_journal_field, comments apart from work notes.
func TestActAndJournal(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 5, 0, time.UTC)
	f := start(t, snfake.WithClock(func() time.Time { return now }))
	id := result(t, call(t, f.URL(), "POST", "/api/now/table/incident", incidentBody))["sys_id"].(string)
	agent := f.AddUser(snfake.SysUser{UserName: "beth.anglin", Name: "Beth Anglin"})
	if again := f.AddUser(snfake.SysUser{UserName: "beth.anglin"}); again != agent {
		t.Errorf("AddUser twice: %s, %s", agent, again)
	}
	now = now.Add(time.Minute)
	if !f.Act(id, "beth.anglin", map[string]string{"state": "3", "hold_reason": "1", "assigned_to": agent, "comments": "Which printer?", "work_notes": "Caller unsure"}) {
		t.Fatal("Act found no incident")
	}
	r := call(t, f.URL(), "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=all&sysparm_exclude_reference_link=true&sysparm_fields=state,hold_reason,assigned_to,sys_updated_on,comments", "")
	got := result(t, r)
	for k, want := range map[string]map[string]any{
		"state":          {"display_value": "On Hold", "value": "3"},
		"hold_reason":    {"display_value": "Awaiting Caller", "value": "1"},
		"assigned_to":    {"display_value": "Beth Anglin", "value": agent},
		"sys_updated_on": {"display_value": "2026-03-02 09:31:05", "value": "2026-03-02 09:31:05"},
		"comments":       {"display_value": "", "value": ""},
	} {
		if !equalJSON(got[k], want) {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if r := call(t, f.URL(), "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=true&sysparm_fields=assigned_to,urgency", ""); !equalJSON(result(t, r), map[string]any{"assigned_to": "Beth Anglin", "urgency": "2 - Medium"}) {
		t.Errorf("display values = %v", r.body)
	}
	if r := call(t, f.URL(), "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=all&sysparm_fields=assigned_to", ""); result(t, r)["assigned_to"].(map[string]any)["link"] == nil {
		t.Errorf("a reference with display values lost its link: %v", r.body)
	}
	j := call(t, f.URL(), "GET", "/api/now/table/sys_journal_field?sysparm_query=name=incident%5Eelement=comments%5Eelement_idIN"+id+"&sysparm_fields=element,element_id,value,sys_created_by,sys_created_on", "")
	entries, _ := j.body["result"].([]any)
	if len(entries) != 1 || !equalJSON(entries[0], map[string]any{"element": "comments", "element_id": id, "value": "Which printer?",
		"sys_created_by": "beth.anglin", "sys_created_on": "2026-03-02 09:31:05"}) {
		t.Errorf("journal = %v", j.body)
	}
	if c, w := f.Comments(id), f.WorkNotes(id); !slices.Equal(c, []string{"Which printer?"}) || !slices.Equal(w, []string{"first note", "Caller unsure"}) {
		t.Errorf("comments %q, work notes %q", c, w)
	}
}
