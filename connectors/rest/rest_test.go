package rest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newTestClient(t *testing.T, base string, hc *http.Client, msg func(int, []byte) string) *Client {
	t.Helper()
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	}
	c, err := New(base, hc, msg)
	if err != nil {
		t.Fatalf("New(%q): %v", base, err)
	}
	c.Now = func() time.Time { return testNow }
	return c
}

// received is what a test server saw of one request.
type received struct {
	method, path, rawQuery string
	header                 http.Header
	body                   string
}

func recordingServer(t *testing.T, status int, respBody string) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(b)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, respBody)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestDoJSONRoundTrip(t *testing.T) {
	srv, seen := recordingServer(t, http.StatusCreated, `{"result":{"sys_id":"abc123","number":"INC0010001"}}`)
	c := newTestClient(t, srv.URL+"/sub", nil, nil)
	var out struct {
		Result struct {
			SysID  string `json:"sys_id"`
			Number string `json:"number"`
		} `json:"result"`
	}
	resp, err := c.Do(context.Background(), Request{
		Op: "create", Method: http.MethodPost, Path: "/api/now/table/incident",
		Query: url.Values{"sysparm_display_value": {"false"}},
		JSON:  map[string]string{"short_description": "VPN drops"},
	}, &out)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if got, want := resp.StatusCode, http.StatusCreated; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if out.Result.SysID != "abc123" || out.Result.Number != "INC0010001" {
		t.Errorf("decoded %+v, want sys_id abc123, number INC0010001", out.Result)
	}
	r := seen()[0]
	checks := []struct{ what, got, want string }{
		{"method", r.method, http.MethodPost},
		{"path", r.path, "/sub/api/now/table/incident"},
		{"query", r.rawQuery, "sysparm_display_value=false"},
		{"Accept", r.header.Get("Accept"), "application/json"},
		{"Content-Type", r.header.Get("Content-Type"), "application/json"},
		{"body", r.body, `{"short_description":"VPN drops"}`},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
}

func TestDoWithoutJSONBody(t *testing.T) {
	srv, seen := recordingServer(t, http.StatusOK, `{}`)
	c := newTestClient(t, srv.URL, nil, nil)
	tests := []struct {
		name    string
		req     Request
		wantCT  string
		wantBod string
	}{
		{"GET has no Content-Type", Request{Op: "status", Method: http.MethodGet, Path: "/x"}, "", ""},
		{"raw body keeps its Content-Type", Request{Op: "attach", Method: http.MethodPost, Path: "/x",
			Header: http.Header{"Content-Type": {"text/plain"}}, Body: strings.NewReader("raw bytes")}, "text/plain", "raw bytes"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Do(context.Background(), tt.req, nil); err != nil {
				t.Fatalf("Do: %v", err)
			}
			r := seen()[i]
			if got := r.header.Get("Content-Type"); got != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
			}
			if got := r.header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q, want application/json", got)
			}
			if r.body != tt.wantBod {
				t.Errorf("body = %q, want %q", r.body, tt.wantBod)
			}
		})
	}
}

// rawServer accepts HTTP/1.1 requests on loopback and hands over each
// request's header block exactly as it came off the wire.
func rawServer(t *testing.T) (string, <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	heads := make(chan string, 16)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				var head strings.Builder
				n := 0
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					head.WriteString(line)
					if line == "\r\n" {
						break
					}
					if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
						n, _ = strconv.Atoi(strings.TrimSpace(v))
					}
				}
				io.CopyN(io.Discard, br, int64(n))
				heads <- head.String()
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
			}()
		}
	}()
	return "http://" + l.Addr().String(), heads
}

// headerLines returns the header lines named name (any case) in a raw
// header block.
func headerLines(head, name string) []string {
	var out []string
	for _, line := range strings.Split(head, "\r\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			out = append(out, line)
		}
	}
	return out
}

func TestDoCanonicalHeadersOnTheWire(t *testing.T) {
	base, heads := rawServer(t)
	c := newTestClient(t, base, nil, nil)
	tests := []struct {
		name   string
		req    Request
		header string
		want   []string
	}{
		{"lower-case custom header", Request{Method: http.MethodPost, Path: "/att", Header: http.Header{"x-atlassian-token": {"no-check"}}, Body: strings.NewReader("x")},
			"X-Atlassian-Token", []string{"X-Atlassian-Token: no-check"}},
		{"lower-case Accept replaces the default", Request{Method: http.MethodGet, Path: "/csv", Header: http.Header{"accept": {"text/csv"}}},
			"Accept", []string{"Accept: text/csv"}},
		{"lower-case Content-Type replaces the JSON one", Request{Method: http.MethodPatch, Path: "/p", JSON: map[string]int{"a": 1}, Header: http.Header{"content-type": {"application/merge-patch+json"}}},
			"Content-Type", []string{"Content-Type: application/merge-patch+json"}},
		{"multi-valued header kept", Request{Method: http.MethodGet, Path: "/m", Header: http.Header{"x-trace": {"a", "b"}}},
			"X-Trace", []string{"X-Trace: a", "X-Trace: b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Op = "create"
			if _, err := c.Do(context.Background(), tt.req, nil); err != nil {
				t.Fatalf("Do: %v", err)
			}
			head := <-heads
			got := headerLines(head, tt.header)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("%s lines on the wire = %q, want %q\n%s", tt.header, got, tt.want, head)
			}
		})
	}
}

func TestDoStatusErrors(t *testing.T) {
	resetAt := strconv.FormatInt(testNow.Add(time.Minute).Unix(), 10)
	tests := []struct {
		status    int
		header    http.Header
		body      string
		wantRetry time.Duration
	}{
		{304, nil, "", 0},
		{400, nil, `{"error":{"message":"Invalid field"}}`, 0},
		{401, nil, `{"error":{"message":"User Not Authenticated"}}`, 0},
		{403, nil, `{"error":{"message":"Forbidden"}}`, 0},
		{404, nil, `{"error":{"message":"No Record found"}}`, 0},
		{408, nil, "", 0},
		{409, nil, `conflict`, 0},
		{422, nil, `{"errors":{"summary":"required"}}`, 0},
		{429, http.Header{"Retry-After": {"7"}}, `{"error":{"message":"Rate limit exceeded"}}`, 7 * time.Second},
		{429, http.Header{"X-Ratelimit-Reset": {resetAt}}, `too many`, time.Minute},
		{429, http.Header{"X-Ratelimit-Reset": {"2026-11-23T10:05Z"}}, `too many`, 5 * time.Minute},
		{429, http.Header{"Retry-After": {"3"}, "X-Ratelimit-Reset": {resetAt}}, `too many`, 3 * time.Second},
		{400, http.Header{"X-Ratelimit-Reset": {resetAt}}, `bad`, 0}, // a reset time is a wait only on a 429
		{500, nil, `{"error":{"message":"boom"}}`, 0},
		{502, nil, `<html>bad gateway</html>`, 0},
		{503, http.Header{"Retry-After": {testNow.Add(30 * time.Second).Format(http.TimeFormat)}}, `maintenance`, 30 * time.Second},
		{503, http.Header{"X-Ratelimit-Reset": {resetAt}}, `maintenance`, 0},
		{503, http.Header{"Retry-After": {"9"}, "X-Ratelimit-Reset": {resetAt}}, `maintenance`, 9 * time.Second},
		{504, nil, "", 0},
	}
	msg := func(status int, body []byte) string {
		if len(body) == 0 {
			return ""
		}
		return fmt.Sprintf("vendor %d: %s", status, body)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %v", tt.status, tt.header), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, vs := range tt.header {
					w.Header()[k] = vs
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			for _, withMsg := range []bool{true, false} {
				var m func(int, []byte) string
				if withMsg {
					m = msg
				}
				c := newTestClient(t, srv.URL, nil, m)
				resp, err := c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "/api", JSON: map[string]string{}}, nil)
				var e *connectors.Error
				if !errors.As(err, &e) {
					t.Fatalf("Do = %v, want a *connectors.Error", err)
				}
				if resp == nil || resp.StatusCode != tt.status {
					t.Errorf("resp = %v, want the %d response", resp, tt.status)
				}
				wantMsg := ""
				if withMsg {
					wantMsg = msg(tt.status, []byte(tt.body))
				}
				want := connectors.Error{Op: "create", Class: connectors.StatusClass(tt.status), Status: tt.status,
					Message: wantMsg, RetryAfter: tt.wantRetry, Sent: tt.status >= 500}
				if e.Op != want.Op || e.Class != want.Class || e.Status != want.Status || e.Message != want.Message ||
					e.RetryAfter != want.RetryAfter || e.Sent != want.Sent {
					t.Errorf("error = %+v, want %+v", *e, want)
				}
			}
		})
	}
}

func TestDo2xxBodies(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		decode   bool
		wantErr  bool
		wantName string
	}{
		{"json", 200, `{"name":"n1"}`, true, false, "n1"},
		{"no content", 204, ``, true, false, ""},
		{"whitespace only", 200, " \n", true, false, ""},
		{"html from a proxy", 200, `<html>login</html>`, true, true, ""},
		{"wrong JSON type", 200, `["a"]`, true, true, ""},
		{"garbage not decoded", 200, `<html>`, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := recordingServer(t, tt.status, tt.body)
			c := newTestClient(t, srv.URL, nil, nil)
			var out struct{ Name string }
			var dst any
			if tt.decode {
				dst = &out
			}
			resp, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/q"}, dst)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if out.Name != tt.wantName {
					t.Errorf("decoded name %q, want %q", out.Name, tt.wantName)
				}
				return
			}
			var e *connectors.Error
			if !errors.As(err, &e) {
				t.Fatalf("Do = %v, want a *connectors.Error", err)
			}
			if e.Class != connectors.Retryable || !e.Sent || e.Status != tt.status || e.Op != "find" {
				t.Errorf("error = {Op %q, Class %v, Status %d, Sent %v}, want {find, retryable, %d, true}", e.Op, e.Class, e.Status, e.Sent, tt.status)
			}
			if !strings.Contains(err.Error(), "decode response") {
				t.Errorf("error %q does not say the response could not be decoded", err)
			}
			if resp == nil {
				t.Errorf("resp = nil, want the response")
			}
		})
	}
}

func TestDoBodyLimit(t *testing.T) {
	jsonOfSize := func(n int) string { return `{"d":"` + strings.Repeat("a", n-8) + `"}` }
	t.Run("exactly the limit decodes", func(t *testing.T) {
		srv, _ := recordingServer(t, 200, jsonOfSize(maxBody))
		c := newTestClient(t, srv.URL, nil, nil)
		var out struct{ D string }
		if _, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/"}, &out); err != nil {
			t.Fatalf("Do with a %d-byte body: %v", maxBody, err)
		}
		if got, want := len(out.D), maxBody-8; got != want {
			t.Errorf("decoded %d bytes, want %d", got, want)
		}
	})
	t.Run("one byte over is cut", func(t *testing.T) {
		srv, _ := recordingServer(t, 200, jsonOfSize(maxBody+1))
		c := newTestClient(t, srv.URL, nil, nil)
		var out struct{ D string }
		_, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/"}, &out)
		var e *connectors.Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), "unexpected end of JSON input") {
			t.Fatalf("Do = %v, want a decode error for the cut body", err)
		}
	})
	t.Run("error body passed to Message is cut", func(t *testing.T) {
		srv, _ := recordingServer(t, 500, strings.Repeat("x", 5<<20))
		var gotLen int
		c := newTestClient(t, srv.URL, nil, func(_ int, b []byte) string { gotLen = len(b); return "" })
		if _, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/"}, nil); err == nil {
			t.Fatal("Do succeeded, want a 500 error")
		}
		if gotLen != maxBody {
			t.Errorf("Message saw %d bytes, want %d", gotLen, maxBody)
		}
	})
	t.Run("endless body is not read to the end", func(t *testing.T) {
		const endless = 1 << 30
		written := make(chan int64, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var n int64
			defer func() { written <- n }()
			w.Header().Set("Content-Type", "application/json")
			k, err := io.WriteString(w, `{"d":"`)
			n += int64(k)
			chunk := []byte(strings.Repeat("a", 64<<10))
			for err == nil && n < endless {
				k, err = w.Write(chunk)
				n += int64(k)
			}
		}))
		defer srv.Close()
		c := newTestClient(t, srv.URL, nil, nil)
		var out struct{ D string }
		_, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/"}, &out)
		if err == nil || !strings.Contains(err.Error(), "decode response") {
			t.Fatalf("Do = %v, want a decode error", err)
		}
		select {
		case n := <-written:
			if n < maxBody || n > 64<<20 {
				t.Errorf("server wrote %d bytes before the client hung up, want between %d and 64 MiB", n, maxBody)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the server is still writing: the client did not stop reading")
		}
	})
}

func TestURL(t *testing.T) {
	tests := []struct {
		base, path string
		q          url.Values
		want       string
	}{
		{"https://x/sub", "/api", nil, "https://x/sub/api"},
		{"https://x/sub/", "/api", nil, "https://x/sub/api"},
		{"https://x/sub///", "/api", nil, "https://x/sub/api"},
		{"https://x", "/api/now/table/incident", nil, "https://x/api/now/table/incident"},
		{"https://x/", "/api", nil, "https://x/api"},
		{"https://x/jira/a", "/rest/api/3/search/jql", url.Values{"jql": {"key = PROJ-1"}, "maxResults": {"1"}}, "https://x/jira/a/rest/api/3/search/jql?jql=key+%3D+PROJ-1&maxResults=1"},
		{"https://x:8443/sub", "/issue/A B", nil, "https://x:8443/sub/issue/A%20B"},
		{"https://x/sub", "", nil, "https://x/sub"},
	}
	for _, tt := range tests {
		c, err := New(tt.base, nil, nil)
		if err != nil {
			t.Fatalf("New(%q): %v", tt.base, err)
		}
		for range 2 { // the base is not changed by use
			if got := c.URL(tt.path, tt.q).String(); got != tt.want {
				t.Errorf("New(%q).URL(%q, %v) = %q, want %q", tt.base, tt.path, tt.q, got, tt.want)
			}
		}
	}
	if _, err := New("https://x/%zz", nil, nil); err == nil {
		t.Errorf("New with an invalid URL succeeded, want an error")
	}
}

func TestDoKeepsBasePathOnTheWire(t *testing.T) {
	srv, seen := recordingServer(t, 200, `{}`)
	c := newTestClient(t, srv.URL+"/jira/", nil, nil)
	if _, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/rest/api/3/issue/PROJ-1"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := seen()[0].path, "/jira/rest/api/3/issue/PROJ-1"; got != want {
		t.Errorf("server saw path %q, want %q", got, want)
	}
}

func TestDoTransportErrors(t *testing.T) {
	refused, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	inj := &fake.Injector{}
	inj.Always("", "/reset", fake.Fault{Kind: fake.ResetAfter})
	inj.Always("", "/hang", fake.Fault{Kind: fake.Hang})
	mux := http.NewServeMux()
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, `{"partial"`) // then the connection closes
	})
	mux.Handle("/", http.NotFoundHandler())
	srv := httptest.NewServer(inj.Wrap(mux))
	defer srv.Close()

	tests := []struct {
		name     string
		base     string
		path     string
		timeout  time.Duration
		want     connectors.Class
		wantSent bool
		wantResp bool
	}{
		{"connection refused", "http://" + refused, "/api", 5 * time.Second, connectors.Offline, false, false},
		{"reset after the request", srv.URL, "/reset", 5 * time.Second, connectors.Retryable, true, false},
		{"timeout", srv.URL, "/hang", 100 * time.Millisecond, connectors.Retryable, true, false},
		{"body cut short", srv.URL, "/short", 5 * time.Second, connectors.Retryable, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.base, &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: tt.timeout}, nil)
			var out map[string]any
			resp, err := c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: tt.path, JSON: map[string]string{"a": "b"}}, &out)
			var e *connectors.Error
			if !errors.As(err, &e) {
				t.Fatalf("Do = %v, want a *connectors.Error", err)
			}
			if e.Op != "create" || e.Class != tt.want || e.Sent != tt.wantSent || e.Status != 0 {
				t.Errorf("error = {Op %q, Class %v, Sent %v, Status %d}, want {create, %v, %v, 0}", e.Op, e.Class, e.Sent, e.Status, tt.want, tt.wantSent)
			}
			if got := resp != nil; got != tt.wantResp {
				t.Errorf("resp returned = %v, want %v", got, tt.wantResp)
			}
		})
	}
}

// Transport errors name the path but not the query (it may hold an email
// or a file name) nor any user info.
func TestDoErrorsOmitQuery(t *testing.T) {
	refused, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	inj := &fake.Injector{}
	inj.Always("", "/", fake.Fault{Kind: fake.ResetBefore})
	reset := httptest.NewServer(inj.Wrap(http.NotFoundHandler()))
	defer reset.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	q := url.Values{"query": {"email=alice@example.com"}, "file": {"payslip-alice.pdf"}}
	tests := []struct {
		name, base string
	}{
		{"refused", "http://" + refused},
		{"refused with user info", "http://svc:pw-in-url@" + refused},
		{"reset", reset.URL},
		{"timeout", hang.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.base, &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 200 * time.Millisecond}, nil)
			_, err := c.Do(context.Background(), Request{Op: "find", Method: http.MethodGet, Path: "/api/now/table/incident", Query: q}, nil)
			if err == nil {
				t.Fatal("Do succeeded, want a transport error")
			}
			msg := err.Error()
			for _, leak := range []string{"alice", "payslip", "pw-in-url", "svc"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains %q", msg, leak)
				}
			}
			if !strings.Contains(msg, "/api/now/table/incident") {
				t.Errorf("error %q does not name the path", msg)
			}
		})
	}
}

func TestDoRequestBuildErrors(t *testing.T) {
	srv, seen := recordingServer(t, 200, `{}`)
	c := newTestClient(t, srv.URL, nil, nil)
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"unencodable JSON", Request{Op: "create", Method: http.MethodPost, Path: "/", JSON: map[string]any{"c": make(chan int)}}, "encode request"},
		{"invalid method", Request{Op: "create", Method: "BAD METHOD", Path: "/"}, "invalid method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Do(context.Background(), tt.req, nil)
			var e *connectors.Error
			if !errors.As(err, &e) || e.Class != connectors.Permanent || e.Sent || e.Op != "create" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Do = %v, want a permanent unsent *connectors.Error for op create mentioning %q", err, tt.want)
			}
		})
	}
	if n := len(seen()); n != 0 {
		t.Errorf("server received %d requests, want 0", n)
	}
}

// Errors raised inside the connection's client (the TLS policy, the OAuth
// token) keep their class through Do.
func TestDoClientErrors(t *testing.T) {
	api, seen := recordingServer(t, 200, `{}`)
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"bad secret cs-SECRET"}`)
	}))
	defer token.Close()
	tests := []struct {
		name       string
		base       string
		cr         connectors.Credentials
		wantOp     string
		wantStatus int
	}{
		{"plain http to a remote host", "http://example.invalid/api", connectors.Credentials{Type: "bearer", Token: "t"}, "create", 0},
		{"oauth2 token refused", api.URL, connectors.Credentials{Type: "oauth2", ClientID: "id", ClientSecret: "cs-SECRET", TokenURL: token.URL}, "oauth2 token", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := connectors.NewHTTPClient(connectors.Connection{Name: "c", BaseURL: api.URL, Credentials: tt.cr}, connectors.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := newTestClient(t, tt.base, hc, nil)
			_, err = c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "/x", JSON: map[string]string{}}, nil)
			var e *connectors.Error
			if !errors.As(err, &e) {
				t.Fatalf("Do = %v, want a *connectors.Error", err)
			}
			if e.Op != tt.wantOp || e.Class != connectors.Permanent || e.Status != tt.wantStatus || e.Sent {
				t.Errorf("error = {Op %q, Class %v, Status %d, Sent %v}, want {%q, permanent, %d, false}", e.Op, e.Class, e.Status, e.Sent, tt.wantOp, tt.wantStatus)
			}
			if strings.Contains(err.Error(), "cs-SECRET") {
				t.Errorf("error %q leaks the client secret", err)
			}
		})
	}
	if n := len(seen()); n != 0 {
		t.Errorf("API received %d requests, want 0", n)
	}
}
