package openapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testSpec = `
openapi: 3.0.3
info: {title: test, version: "1"}
paths:
  /items:
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string}
                due: {type: string, format: date-time}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: integer}
  /old:
    get:
      operationId: oldItems
      deprecated: true
      responses:
        "200": {description: ok}
`

const testSwagger2 = `{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "host": "api.example.com",
 "paths": {"/items/{id}": {"get": {"operationId": "getItem",
  "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer"}],
  "responses": {"200": {"description": "ok"}}}}}}`

func TestWrap(t *testing.T) {
	spec, err := LoadSpec("test", []byte(testSpec), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		lenient                  bool
		answer                   string // the handler's JSON answer
		wantCode                 int
		wantPath                 string // as the handler saw it
		wantViolation            string
	}{
		{name: "match", method: "POST", path: "/items", body: `{"name":"a"}`, answer: `{"id":1}`, wantCode: 201, wantPath: "/items"},
		{name: "rewritten path", method: "POST", path: "/items.json", body: `{"name":"a"}`, answer: `{"id":1}`, wantCode: 201, wantPath: "/items"},
		{name: "bad body", method: "POST", path: "/items", body: `{}`, wantCode: 400, wantViolation: "POST /items does not match the test spec"},
		{name: "bad response", method: "POST", path: "/items", body: `{"name":"a"}`, answer: `{}`, wantCode: 201, wantPath: "/items", wantViolation: "response 201 to POST /items does not match"},
		{name: "unknown path", method: "GET", path: "/nope", wantCode: 404, wantViolation: "is not an operation of the test spec"},
		{name: "wrong method", method: "DELETE", path: "/items", wantCode: 405, wantViolation: "is not an operation of the test spec"},
		{name: "deprecated", method: "GET", path: "/old", wantCode: 410, wantViolation: "(oldItems) is deprecated"},
		{name: "offset without colon", method: "POST", path: "/items", body: `{"name":"a","due":"2023-06-24T19:24:50.000+0000"}`, wantCode: 400, wantViolation: "does not match"},
		{name: "offset without colon, lenient", method: "POST", path: "/items", body: `{"name":"a","due":"2023-06-24T19:24:50.000+0000"}`, lenient: true, answer: `{"id":1}`, wantCode: 201, wantPath: "/items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewValidator(spec, Config{
				ErrorBody:       func(msg string) any { return map[string]string{"error": msg} },
				RewritePath:     func(p string) string { return strings.TrimSuffix(p, ".json") },
				LenientDateTime: tt.lenient,
			})
			var gotPath string
			h := v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.Path
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, tt.answer)
			}))
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantCode || gotPath != tt.wantPath {
				t.Errorf("answer %d, handler saw %q; want %d, %q", rec.Code, gotPath, tt.wantCode, tt.wantPath)
			}
			if rec.Code >= 400 {
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body["error"], tt.wantViolation) {
					t.Errorf("error body = %s, want ErrorBody with %q", rec.Body, tt.wantViolation)
				}
			}
			got := v.Violations()
			if tt.wantViolation == "" && len(got) > 0 || tt.wantViolation != "" && (len(got) != 1 || !strings.Contains(got[0], tt.wantViolation)) {
				t.Errorf("violations = %q, want %q", got, tt.wantViolation)
			}
		})
	}
}

// TestCheckRequest: a request outside the spec has no route, so a fake
// with a partial spec can leave it to its handler; a Swagger 2.0 document
// is routed on "/" whatever its host.
func TestCheckRequest(t *testing.T) {
	spec, err := LoadSwagger2("swagger", []byte(testSwagger2), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator(spec, Config{})
	tests := []struct {
		path              string
		wantRoute, wantOK bool
	}{
		{"/items/7", true, true},
		{"/items/seven", true, false},
		{"/other", false, false},
	}
	for _, tt := range tests {
		route, err := v.CheckRequest(httptest.NewRequest("GET", tt.path, nil))
		if (route != nil) != tt.wantRoute || (err == nil) != tt.wantOK {
			t.Errorf("GET %s: route %v, err %v; want route %v, match %v", tt.path, route, err, tt.wantRoute, tt.wantOK)
		}
		if route != nil && route.Operation.OperationID != "getItem" {
			t.Errorf("GET %s: operation %q", tt.path, route.Operation.OperationID)
		}
	}
	if len(v.Violations()) != 0 {
		t.Errorf("CheckRequest recorded %q; the caller decides", v.Violations())
	}
}

func TestSummarize(t *testing.T) {
	spec, _ := LoadSpec("test", []byte(testSpec), nil)
	v := NewValidator(spec, Config{})
	req := httptest.NewRequest("POST", "/items", strings.NewReader(`{"name": 1, "due": "yesterday"}`))
	req.Header.Set("Content-Type", "application/json")
	_, err := v.CheckRequest(req)
	if err == nil {
		t.Fatal("no error for a bad body")
	}
	s := Summarize(err)
	if strings.Contains(s, "\n") || strings.Contains(s, "Schema:") || strings.Count(s, " | ") != 1 {
		t.Errorf("Summarize = %q, want one line, two errors, no schema", s)
	}
}
