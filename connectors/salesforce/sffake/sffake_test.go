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
