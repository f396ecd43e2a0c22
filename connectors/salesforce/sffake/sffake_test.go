package sffake

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		soql    string
		wantErr bool
		where   []cond
		limit   int
	}{
		{"SELECT Id, CaseNumber FROM Case WHERE Ticketray_Key__c = 'abc' AND Origin = 'It\\'s' ORDER BY CreatedDate ASC LIMIT 1",
			false, []cond{{field: "Ticketray_Key__c", op: "=", value: "abc", kind: "str"}, {field: "Origin", op: "=", value: "It's", kind: "str"}}, 1},
		{"select Id from Case", false, nil, -1},
		{"SELECT Id FROM Case WHERE Origin = 'a\\\\b'", false, []cond{{field: "Origin", op: "=", value: `a\b`, kind: "str"}}, -1},
		{"SELECT Id, Owner.Name, (SELECT Id FROM CaseComments WHERE IsPublished = true ORDER BY CreatedDate) FROM Case WHERE Id IN ('500FK0000000001AAA', '500FK0000000002AAA') AND LastModifiedDate >= 2026-12-06T16:00:00Z AND Ticketray_Key__c != null",
			false, []cond{{field: "Id", op: "IN", values: []string{"500FK0000000001AAA", "500FK0000000002AAA"}}, {field: "LastModifiedDate", op: ">=", value: "2026-12-06T16:00:00Z", kind: "datetime"}, {field: "Ticketray_Key__c", op: "!=", value: "null", kind: "null"}}, -1},
		{"SELECT Id FROM Case WHERE LastModifiedDate >= 2026-13-06T16:00:00Z", true, nil, 0},
		{"SELECT Id, (SELECT Id, (SELECT Id FROM X) FROM CaseComments) FROM Case", true, nil, 0},
		{"SELECT Id FROM Case WHERE Id IN ()", true, nil, 0},
		{"SELECT FROM Case", true, nil, 0},
		{"SELECT Id FROM Case WHERE Origin = 'open", true, nil, 0},
		{"SELECT Id FROM Case WHERE Origin = x", true, nil, 0},
		{"SELECT Id FROM Case WHERE Origin = 'a' OR Origin = 'b'", true, nil, 0},
		{"SELECT Id FROM Case LIMIT", true, nil, 0},
		{"SELECT Id FROM Case WHERE Origin = 'a\\q'", true, nil, 0},
	}
	for _, tc := range tests {
		q, err := parseQuery(tc.soql)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseQuery(%q) error = %v, want error %v", tc.soql, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if len(q.where) != len(tc.where) || q.limit != tc.limit {
			t.Errorf("parseQuery(%q) = %+v", tc.soql, q)
			continue
		}
		for i := range tc.where {
			if g, w := q.where[i], tc.where[i]; g.field != w.field || g.op != w.op || g.value != w.value || g.kind != w.kind || strings.Join(g.values, ",") != strings.Join(w.values, ",") {
				t.Errorf("parseQuery(%q) where[%d] = %+v, want %+v", tc.soql, i, q.where[i], tc.where[i])
			}
		}
	}
}

// TestWireFormat pins what the fake answers for requests a connector must
// not make: the error array, the session error, Sforce-Limit-Info, and
// the Postman shape check.
func TestWireFormat(t *testing.T) {
	f := Start()
	defer f.Close()
	tests := []struct {
		name, method, path, auth, ctype, body string
		status                                int
		contains                              string
		violation                             bool
	}{
		{"no session", "GET", "/services/data/v64.0/sobjects/Case/describe", "", "", "", 401, `"errorCode":"INVALID_SESSION_ID"`, true},
		{"unknown version", "GET", "/services/data/v99.0/sobjects/Case/describe", "Bearer " + Token, "", "", 404, `"errorCode":"NOT_FOUND"`, false},
		{"upsert without content type", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/k1", "Bearer " + Token, "", `{"Subject":"s"}`, 415, "UNSUPPORTED_MEDIA_TYPE", true},
		{"key field in body", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/k1", "Bearer " + Token, "application/json", `{"Subject":"s","Priority":"High","Origin":"Web","Ticketray_Key__c":"k1"}`, 400, `"errorCode":"INVALID_FIELD"`, false},
		{"unknown field", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/k1", "Bearer " + Token, "application/json", `{"Subjekt":"s"}`, 400, "No such column 'Subjekt' on sobject of type Case", false},
		{"read-only field", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/k1", "Bearer " + Token, "application/json", `{"CaseNumber":"1"}`, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", false},
		{"restricted picklist", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/k1", "Bearer " + Token, "application/json", `{"Subject":"s","Priority":"Urgent","Origin":"Web"}`, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", false},
		{"unknown external id", "PATCH", "/services/data/v64.0/sobjects/Case/Other__c/k1", "Bearer " + Token, "application/json", `{"Subject":"s"}`, 404, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, false},
		{"create", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/k1", "Bearer " + Token, "application/json", `{"Subject":"s","Priority":"High","Origin":"Web"}`, 201, `"created":true`, false},
		{"update", "PATCH", "/services/data/v64.0/sobjects/Case/Ticketray_Key__c/K1", "Bearer " + Token, "application/json", `{"Subject":"s2","Priority":"High","Origin":"Web"}`, 200, `"created":false`, false},
		{"malformed query", "GET", "/services/data/v64.0/query?q=" + url.QueryEscape("SELECT Id FROM Case WHERE"), "Bearer " + Token, "", "", 400, "MALFORMED_QUERY", false},
		{"token with a wrong grant", "POST", "/services/oauth2/token", "", "application/x-www-form-urlencoded", "grant_type=password&client_id=" + ClientID, 400, `"error":"unsupported_grant_type"`, false},
		{"token", "POST", "/services/oauth2/token", "", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=" + ClientID + "&client_secret=" + ClientSecret, 200, `"token_type":"Bearer"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.Violations())
			req, err := http.NewRequest(tc.method, f.URL()+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.contains) {
				t.Errorf("%s %s = %d %s; want %d containing %s", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.contains)
			}
			if strings.HasPrefix(tc.path, "/services/data/") && tc.status != 401 && !strings.HasPrefix(resp.Header.Get("Sforce-Limit-Info"), "api-usage=") {
				t.Errorf("Sforce-Limit-Info = %q", resp.Header.Get("Sforce-Limit-Info"))
			}
			if got := len(f.Violations()) > before; got != tc.violation {
				t.Errorf("violation recorded = %v, want %v (%v)", got, tc.violation, f.Violations())
			}
		})
	}
	if f.Count("k1") != 1 || f.Cases()[0].Fields["Subject"] != "s2" {
		t.Errorf("after create and update: %d Cases, %+v", f.Count("k1"), f.Cases())
	}
}

// TestQueryWireFormat pins what the sync query gets back and what a real
// org refuses in a query.
func TestQueryWireFormat(t *testing.T) {
	f := Start(WithQueryBatch(2, 1))
	defer f.Close()
	a := f.AddCase(map[string]string{ExternalIDField: "k1", "Origin": "Ticketray"})
	b := f.AddCase(map[string]string{ExternalIDField: "k2", "Origin": "Ticketray"})
	f.AddCase(map[string]string{ExternalIDField: "k3", "Origin": "Ticketray"})
	f.Assign(a, "Agent Smith")
	f.AssignQueue(b, "Tier 1")
	f.AddComment(a, "Agent Smith", "one", true)
	f.AddComment(a, "Agent Smith", "two", true)
	f.AddComment(a, "Agent Smith", "hidden", false)
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", f.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	q := func(soql string) string { return "/services/data/v64.0/query?q=" + url.QueryEscape(soql) }
	code, body := get(q("SELECT Id, Owner.Name, Owner.Type, (SELECT CommentBody, CreatedBy.Name FROM CaseComments WHERE IsPublished = true ORDER BY CreatedDate) FROM Case WHERE Origin = 'Ticketray' ORDER BY CreatedDate"))
	for _, want := range []string{`"done":false`, `"nextRecordsUrl":"/services/data/v64.0/query/01g`, `"totalSize":3`,
		`"Owner":{"Name":"Agent Smith","Type":"User","attributes":{"type":"Name","url":"/services/data/v64.0/sobjects/User/005`,
		`"Owner":{"Name":"Tier 1","Type":"Queue","attributes":{"type":"Name","url":"/services/data/v64.0/sobjects/Group/00G`,
		`"CaseComments":{"done":false,"nextRecordsUrl":"/services/data/v64.0/query/01g`, `"CommentBody":"one"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("query = %d %s; want %s", code, body, want)
		}
	}
	if strings.Contains(body, "hidden") || strings.Contains(body, `"CommentBody":"two"`) {
		t.Errorf("query = %s; want one comment per batch and no private one", body)
	}
	_, first := get(q("SELECT Id, (SELECT Id FROM CaseComments) FROM Case WHERE Id = '" + b + "'"))
	if !strings.Contains(first, `"CaseComments":null`) {
		t.Errorf("a Case without comments = %s; want a null relationship", first)
	}
	if code, body := get("/services/data/v64.0/query/01gFK0000000099AAA-2"); code != 400 || !strings.Contains(body, "INVALID_QUERY_LOCATOR") {
		t.Errorf("unknown locator = %d %s", code, body)
	}
	for _, tc := range []struct{ soql, want string }{
		{"SELECT Id FROM Case WHERE IsClosed = 'false'", "must be of type boolean"},
		{"SELECT Id FROM Case WHERE LastModifiedDate >= '2026-12-06T16:00:00Z'", "must be of type dateTime"},
		{"SELECT Id FROM Case WHERE Description = 'x'", "can not be filtered"},
		{"SELECT Id FROM Case WHERE Id IN ('500FK', '" + a + "')", "INVALID_QUERY_FILTER_OPERATOR"},
		{"SELECT Id, Manager.Name FROM Case", "Didn't understand relationship 'Manager'"},
		{"SELECT Id, (SELECT Id FROM Comments) FROM Case", "Didn't understand relationship 'Comments'"},
		{"SELECT Id, (SELECT Body FROM CaseComments) FROM Case", "No such column 'Body' on entity 'CaseComment'"},
	} {
		if code, body := get(q(tc.soql)); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s = %d %s; want 400 %s", tc.soql, code, body, tc.want)
		}
	}
	long := "SELECT Id FROM Case WHERE Id IN ('" + strings.Repeat(a+"', '", 700) + a + "')"
	if code, _ := get(q(long)); code != http.StatusRequestURITooLong {
		t.Errorf("a query of %d characters = %d, want 414", len(long), code)
	}
}
