package connectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

const hcUserAgent = "Ticketray/9.9.9-test"

// hcStore is an in-memory SecretStore.
type hcStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newHCStore(kv ...string) *hcStore {
	s := &hcStore{m: map[string][]byte{}}
	for i := 0; i < len(kv); i += 2 {
		s.m[kv[i]] = []byte(kv[i+1])
	}
	return s
}

func (s *hcStore) Get(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	if !ok {
		return nil, errors.New("the specified item could not be found in the keyring")
	}
	return append([]byte(nil), v...), nil
}

// tokenKey finds the OAuth2 cache item of connection name (its key also
// carries a hash of the credentials it was issued for).
func (s *hcStore) tokenKey(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.m {
		if strings.HasPrefix(k, "oauth2-token-"+name+"-") {
			return k
		}
	}
	return "oauth2-token-" + name + "-(none)"
}

func (s *hcStore) Set(name string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = append([]byte(nil), v...)
	return nil
}

func hcEnv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// hcSeen records what an API server received.
type hcSeen struct {
	mu   sync.Mutex
	auth []string
	ua   []string
	path []string
}

func (s *hcSeen) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.ua = append(s.ua, r.UserAgent())
	s.path = append(s.path, r.URL.Path)
}

func (s *hcSeen) snapshot() (auth, ua, path []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...), append([]string(nil), s.ua...), append([]string(nil), s.path...)
}

// hcAPI starts a loopback API server that records requests and answers 200.
func hcAPI(t *testing.T) (*httptest.Server, *hcSeen) {
	t.Helper()
	seen := &hcSeen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.record(r)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func hcGet(t *testing.T, c *http.Client, u string) (*http.Response, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestNewHTTPClientAuthorization(t *testing.T) {
	getenv := hcEnv("TR_USER", "alice@example.com", "TR_PASS", "pw-from-env", "TR_TOKEN", "bearer-from-env")
	store := newHCStore("jira-token", "atl-token-from-keyring", "sn-pass", "pw-from-keyring", "bearer", "bearer-from-keyring")
	tests := []struct {
		name string
		cr   Credentials
		want string
	}{
		{"basic literal", Credentials{Type: "basic", Username: "admin", Password: "pw-literal"}, basicHeader("admin", "pw-literal")},
		{"basic env", Credentials{Type: "basic", Username: "env:TR_USER", Password: "env:TR_PASS"}, basicHeader("alice@example.com", "pw-from-env")},
		{"basic keyring", Credentials{Type: "basic", Username: "admin", Password: "keyring:sn-pass"}, basicHeader("admin", "pw-from-keyring")},
		{"api_token keyring", Credentials{Type: "api_token", Username: "env:TR_USER", APIToken: "keyring:jira-token"}, basicHeader("alice@example.com", "atl-token-from-keyring")},
		{"api_token ignores password", Credentials{Type: "api_token", Username: "bob", Password: "not-this", APIToken: "tok"}, basicHeader("bob", "tok")},
		{"bearer literal", Credentials{Type: "bearer", Token: "bearer-literal"}, "Bearer bearer-literal"},
		{"bearer env", Credentials{Type: "bearer", Token: "env:TR_TOKEN"}, "Bearer bearer-from-env"},
		{"bearer keyring", Credentials{Type: "bearer", Token: "keyring:bearer"}, "Bearer bearer-from-keyring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := hcAPI(t)
			c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: srv.URL, Credentials: tt.cr},
				ClientOptions{UserAgent: hcUserAgent, Getenv: getenv, Keyring: store})
			if err != nil {
				t.Fatalf("NewHTTPClient: %v", err)
			}
			if _, err := hcGet(t, c, srv.URL+"/api/now/table/incident"); err != nil {
				t.Fatalf("GET: %v", err)
			}
			auth, ua, _ := seen.snapshot()
			if len(auth) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(auth))
			}
			if got, want := auth[0], tt.want; got != want {
				t.Errorf("Authorization = %q, want %q", got, want)
			}
			if got, want := ua[0], hcUserAgent; got != want {
				t.Errorf("User-Agent = %q, want %q", got, want)
			}
		})
	}
}

func TestNewHTTPClientConfigErrors(t *testing.T) {
	secrets := []string{"alice-secret-user", "pw-SECRET-present", "tok-SECRET-present", "cs-SECRET-present"}
	getenv := hcEnv("TR_USER", secrets[0], "TR_PASS", secrets[1])
	store := newHCStore("present-token", secrets[2], "present-client-secret", secrets[3])
	tests := []struct {
		name    string
		baseURL string
		cr      Credentials
		ring    SecretStore
		want    []string // substrings the error must contain
	}{
		{"basic password env missing", "", Credentials{Type: "basic", Username: "env:TR_USER", Password: "env:TR_MISSING"}, store,
			[]string{`connection "conn"`, "credentials.password", "TR_MISSING"}},
		{"basic username env missing", "", Credentials{Type: "basic", Username: "env:TR_NOUSER", Password: "env:TR_PASS"}, store,
			[]string{"credentials.username", "TR_NOUSER"}},
		{"api_token keyring item missing", "", Credentials{Type: "api_token", Username: "env:TR_USER", APIToken: "keyring:absent-token"}, store,
			[]string{"credentials.apiToken", "keyring:absent-token"}},
		{"api_token no keyring", "", Credentials{Type: "api_token", Username: "bob", APIToken: "keyring:present-token"}, nil,
			[]string{"credentials.apiToken", "keyring:present-token", "no keyring"}},
		{"bearer env missing", "", Credentials{Type: "bearer", Token: "env:TR_NOTOKEN"}, store,
			[]string{"credentials.token", "TR_NOTOKEN"}},
		{"oauth2 client secret missing", "", Credentials{Type: "oauth2", ClientID: "id", ClientSecret: "keyring:absent-cs", TokenURL: "https://auth.example.test/token"}, store,
			[]string{"credentials.clientSecret", "keyring:absent-cs"}},
		{"oauth2 refresh token missing", "", Credentials{Type: "oauth2", Grant: "refresh_token", ClientID: "id", ClientSecret: "keyring:present-client-secret", RefreshToken: "env:TR_NORT", TokenURL: "https://auth.example.test/token"}, store,
			[]string{"credentials.refreshToken", "TR_NORT"}},
		{"oauth2 unknown grant", "", Credentials{Type: "oauth2", Grant: "password", ClientID: "id", ClientSecret: "keyring:present-client-secret", TokenURL: "https://auth.example.test/token"}, store,
			[]string{"grant", "password"}},
		{"unknown credentials type", "", Credentials{Type: "ntlm", Password: "env:TR_PASS"}, store,
			[]string{`unknown credentials type "ntlm"`}},
		{"plain http base URL", "http://sn.example.com", Credentials{Type: "basic", Username: "env:TR_USER", Password: "env:TR_PASS"}, store,
			[]string{"baseUrl", "https"}},
		{"relative base URL", "/api", Credentials{Type: "bearer", Token: "keyring:present-token"}, store,
			[]string{"baseUrl", "absolute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.baseURL
			if base == "" {
				base = "https://sn.example.test"
			}
			c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: base, Credentials: tt.cr},
				ClientOptions{UserAgent: hcUserAgent, Getenv: getenv, Keyring: tt.ring})
			if err == nil {
				t.Fatalf("NewHTTPClient = %v, nil; want an error", c)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error %q leaks the secret %q", msg, s)
				}
			}
		})
	}
}

func TestNewHTTPClientTimeout(t *testing.T) {
	tests := []struct {
		ms   int
		want time.Duration
	}{
		{0, DefaultTimeout},
		{1500, 1500 * time.Millisecond},
		{600000, 10 * time.Minute},
	}
	for _, tt := range tests {
		c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: "https://x.example.test", TimeoutMs: tt.ms, Credentials: Credentials{Type: "bearer", Token: "t"}}, ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Timeout; got != tt.want {
			t.Errorf("timeoutMs %d: Timeout = %v, want %v", tt.ms, got, tt.want)
		}
	}

	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: srv.URL, TimeoutMs: 100, Credentials: Credentials{Type: "bearer", Token: "t"}}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = hcGet(t, c, srv.URL)
	elapsed := time.Since(start)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("GET against a hanging server: err = %v, want a timeout", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("timeout took %v, want about 100ms", elapsed)
	}
}

// hcCountingRT answers every request itself: no network.
type hcCountingRT struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *hcCountingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func (rt *hcCountingRT) count() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.reqs)
}

func (rt *hcCountingRT) last() *http.Request {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.reqs[len(rt.reqs)-1]
}

func TestNewHTTPClientTLSPolicy(t *testing.T) {
	rt := &hcCountingRT{}
	c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: "http://127.0.0.1:8080", Credentials: Credentials{Type: "bearer", Token: "tok-policy"}},
		ClientOptions{UserAgent: hcUserAgent, Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url     string
		allowed bool
	}{
		{"http://example.invalid/x", false},
		{"http://example.com/", false},
		{"http://10.0.0.1/", false},
		{"http://0.0.0.0:8080/", false},
		{"http://localhost.example.com/", false},
		{"http://127.0.0.1.example.com/", false},
		{"ftp://127.0.0.1/", false},
		{"https://sn.example.invalid/api", true},
		{"http://127.0.0.1:8080/api", true},
		{"http://127.4.5.6/", true},
		{"http://[::1]:9/", true},
		{"http://localhost:3000/", true},
		{"http://LocalHost/", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			before := rt.count()
			_, err := hcGet(t, c, tt.url)
			sent := rt.count() - before
			if tt.allowed {
				if err != nil {
					t.Fatalf("GET %s: %v, want it allowed", tt.url, err)
				}
				if sent != 1 {
					t.Fatalf("GET %s reached the transport %d times, want 1", tt.url, sent)
				}
				r := rt.last()
				if got, want := r.Header.Get("Authorization"), "Bearer tok-policy"; got != want {
					t.Errorf("Authorization = %q, want %q", got, want)
				}
				if got, want := r.Header.Get("User-Agent"), hcUserAgent; got != want {
					t.Errorf("User-Agent = %q, want %q", got, want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("GET %s: err = %v, want a *connectors.Error", tt.url, err)
			}
			if e.Class != Permanent || e.Sent {
				t.Errorf("refusal = {Class %v, Sent %v}, want {permanent, false}", e.Class, e.Sent)
			}
			if sent != 0 {
				t.Errorf("GET %s reached the transport %d times, want 0 (refused before any I/O)", tt.url, sent)
			}
		})
	}
}

// The refusal happens before any network I/O on the real default
// transport too: no connection is asked for, no name is looked up.
func TestNewHTTPClientTLSPolicyNoIO(t *testing.T) {
	c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: "http://localhost:1", Credentials: Credentials{Type: "bearer", Token: "t"}}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	ev := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	trace := &httptrace.ClientTrace{
		GetConn:      func(string) { ev("GetConn") },
		DNSStart:     func(httptrace.DNSStartInfo) { ev("DNSStart") },
		ConnectStart: func(string, string) { ev("ConnectStart") },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, "http://example.invalid/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET http://example.invalid/ succeeded, want a refusal")
	}
	var e *Error
	if !errors.As(err, &e) || e.Class != Permanent {
		t.Fatalf("err = %v, want a permanent *connectors.Error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 0 {
		t.Errorf("network activity before the refusal: %v", events)
	}
}

func TestNewHTTPClientHTTPS(t *testing.T) {
	seen := &hcSeen{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen.record(r) }))
	defer srv.Close()
	base := srv.Client().Transport
	c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: srv.URL, Credentials: Credentials{Type: "basic", Username: "u", Password: "p"}},
		ClientOptions{UserAgent: hcUserAgent, Transport: base})
	if err != nil {
		t.Fatal(err)
	}
	pt, ok := c.Transport.(*policyTransport)
	if !ok {
		t.Fatalf("client transport is %T, want *policyTransport", c.Transport)
	}
	if pt.next != base {
		t.Errorf("policyTransport wraps %T %p, want the given transport %p", pt.next, pt.next, base)
	}
	resp, err := hcGet(t, c, srv.URL+"/rest/api/3/myself")
	if err != nil {
		t.Fatalf("GET over https: %v", err)
	}
	if got, want := resp.StatusCode, 200; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	auth, ua, _ := seen.snapshot()
	if len(auth) != 1 || auth[0] != basicHeader("u", "p") || ua[0] != hcUserAgent {
		t.Errorf("server saw auth %q, UA %q; want [%q], [%q]", auth, ua, basicHeader("u", "p"), hcUserAgent)
	}
	// The policy still applies with a caller's transport.
	if _, err := hcGet(t, c, "http://example.invalid/"); err == nil {
		t.Errorf("GET http://example.invalid/ through a custom transport succeeded, want a refusal")
	}
}

func TestNewHTTPClientDefaultTransport(t *testing.T) {
	c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: "https://x.example.test", Credentials: Credentials{Type: "bearer", Token: "t"}}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pt, ok := c.Transport.(*policyTransport)
	if !ok {
		t.Fatalf("client transport is %T, want *policyTransport", c.Transport)
	}
	ht, ok := pt.next.(*http.Transport)
	if !ok {
		t.Fatalf("base transport is %T, want *http.Transport", pt.next)
	}
	if ht == http.DefaultTransport {
		t.Errorf("base transport is http.DefaultTransport itself, want a clone")
	}
	if ht.TLSClientConfig == nil || ht.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLSClientConfig = %+v, want MinVersion TLS 1.2", ht.TLSClientConfig)
	}
	if ht.Proxy == nil {
		t.Fatalf("Proxy is nil, want the proxy from the environment")
	}
	if got, want := reflect.ValueOf(ht.Proxy).Pointer(), reflect.ValueOf(http.ProxyFromEnvironment).Pointer(); got != want {
		t.Errorf("Proxy is not http.ProxyFromEnvironment")
	}

	// Behaviourally: trust the test servers' certificate, then a TLS 1.1
	// server is refused while a current one is accepted.
	old := httptest.NewUnstartedServer(http.NotFoundHandler())
	old.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	old.Config.ErrorLog = discardLog()
	old.StartTLS()
	defer old.Close()
	cur := httptest.NewTLSServer(http.NotFoundHandler())
	defer cur.Close()
	pool := x509.NewCertPool()
	pool.AddCert(old.Certificate())
	pool.AddCert(cur.Certificate())
	ht.TLSClientConfig.RootCAs = pool
	ht.Proxy = nil // loopback only

	if _, err := hcGet(t, c, old.URL); err == nil {
		t.Errorf("GET from a TLS 1.1 server succeeded, want a handshake failure")
	}
	if resp, err := hcGet(t, c, cur.URL); err != nil {
		t.Errorf("GET from a TLS 1.3 server: %v", err)
	} else if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("negotiated TLS state %+v, want TLS 1.2 or later", resp.TLS)
	}
}

func TestNewHTTPClientRedirects(t *testing.T) {
	var otherHits sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Store(r.URL.Path, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	seen := &hcSeen{}
	mux := http.NewServeMux()
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/final", http.StatusFound) })
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) { seen.record(r) })
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	var loops atomic.Int32
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		loops.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c, err := NewHTTPClient(Connection{Name: "conn", BaseURL: srv.URL, Credentials: Credentials{Type: "basic", Username: "u", Password: "pw-redirect"}},
		ClientOptions{UserAgent: hcUserAgent})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		wantErr string // "" for success
	}{
		{"/same", ""},
		{"/other", "refusing redirect to another host"},
		{"/loop", "stopped after 5 redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := hcGet(t, c, srv.URL+tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("GET %s: %v", tt.path, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("GET %s: err = %v, want one containing %q", tt.path, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw-redirect") || strings.Contains(err.Error(), basicHeader("u", "pw-redirect")) {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
	auth, _, path := seen.snapshot()
	if len(path) != 1 || path[0] != "/final" || auth[0] != basicHeader("u", "pw-redirect") {
		t.Errorf("same-host redirect: /final saw paths %q auth %q, want one authenticated request", path, auth)
	}
	if got, want := loops.Load(), int32(5); got != want {
		t.Errorf("redirect loop: server hit %d times, want %d (stop after 5 redirects)", got, want)
	}
	n := 0
	otherHits.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("the other host received %d requests, want 0", n)
	}
}

// hcTokenServer is a fake OAuth 2.0 token endpoint: client_credentials and
// refresh_token (rotating the refresh token on every use).
type hcTokenServer struct {
	*httptest.Server
	clientID, clientSecret string

	mu           sync.Mutex
	validRefresh string // the one refresh token currently accepted
	issued       int
	calls        int
	refreshSeen  []string
	failStatus   int // answer every request with this status when set
	lastErrBody  string
	ua           []string
	noExpiry     bool // answer without expires_in, as Salesforce does
}

func newHCTokenServer(t *testing.T, id, secret, refresh string) *hcTokenServer {
	t.Helper()
	ts := &hcTokenServer{clientID: id, clientSecret: secret, validRefresh: refresh}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *hcTokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.calls++
	ts.ua = append(ts.ua, r.UserAgent())
	fail := func(status int, code string) {
		// Echo what the client sent, as careless servers do.
		body, _ := json.Marshal(map[string]string{"error": code,
			"error_description": fmt.Sprintf("rejected client_secret=%s refresh_token=%s", secret, r.PostForm.Get("refresh_token"))})
		ts.lastErrBody = string(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}
	if ts.failStatus != 0 {
		fail(ts.failStatus, "invalid_client")
		return
	}
	if id != ts.clientID || secret != ts.clientSecret {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": 3600}
	if ts.noExpiry {
		delete(resp, "expires_in")
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		ts.refreshSeen = append(ts.refreshSeen, rt)
		if rt == "" || rt != ts.validRefresh {
			fail(http.StatusBadRequest, "invalid_grant")
			return
		}
		ts.validRefresh = fmt.Sprintf("rt-%d", ts.issued+1)
		resp["refresh_token"] = ts.validRefresh
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	ts.issued++
	resp["access_token"] = fmt.Sprintf("at-%d", ts.issued)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (ts *hcTokenServer) stats() (calls int, refreshSeen []string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.calls, append([]string(nil), ts.refreshSeen...)
}

// cachedToken reads the token the client cached for connection name.
func cachedToken(t *testing.T, s *hcStore, name string) map[string]any {
	t.Helper()
	b, err := s.Get(s.tokenKey(name))
	if err != nil {
		t.Fatalf("no cached token for %s: %v", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("cached token %s: %v", b, err)
	}
	return m
}

// expireCachedToken moves the cached token's expiry into the past.
func expireCachedToken(t *testing.T, s *hcStore, name string) {
	t.Helper()
	m := cachedToken(t, s, name)
	m["expiry"] = time.Now().Add(-time.Hour).Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s.Set(s.tokenKey(name), b)
}

func TestOAuth2ClientCredentials(t *testing.T) {
	ts := newHCTokenServer(t, "ticketray", "cs-SECRET-1", "")
	api, seen := hcAPI(t)
	store := newHCStore()
	conn := Connection{Name: "sn-prod", BaseURL: api.URL, Credentials: Credentials{Type: "oauth2", ClientID: "ticketray",
		ClientSecret: "env:SN_SECRET", TokenURL: ts.URL + "/oauth_token.do", Scopes: []string{"useraccount"}}}
	opts := ClientOptions{UserAgent: hcUserAgent, Getenv: hcEnv("SN_SECRET", "cs-SECRET-1"), Keyring: store}

	get := func(step string, wantAuth string, wantCalls int) {
		t.Helper()
		c, err := NewHTTPClient(conn, opts)
		if err != nil {
			t.Fatalf("%s: NewHTTPClient: %v", step, err)
		}
		for range 2 {
			if _, err := hcGet(t, c, api.URL+"/api/now/table/incident"); err != nil {
				t.Fatalf("%s: GET: %v", step, err)
			}
		}
		auth, _, _ := seen.snapshot()
		if got := auth[len(auth)-2:]; got[0] != wantAuth || got[1] != wantAuth {
			t.Errorf("%s: API saw Authorization %q, want %q twice", step, got, wantAuth)
		}
		if calls, _ := ts.stats(); calls != wantCalls {
			t.Errorf("%s: token endpoint called %d times in all, want %d", step, calls, wantCalls)
		}
		if got := cachedToken(t, store, conn.Name)["access_token"]; got != strings.TrimPrefix(wantAuth, "Bearer ") {
			t.Errorf("%s: cached access_token = %v, want %q", step, got, strings.TrimPrefix(wantAuth, "Bearer "))
		}
	}
	get("first client", "Bearer at-1", 1)
	get("second client, token still valid", "Bearer at-1", 1)
	expireCachedToken(t, store, conn.Name)
	get("third client, cached token expired", "Bearer at-2", 2)

	ts.mu.Lock()
	ua := ts.ua
	ts.mu.Unlock()
	for _, got := range ua {
		if got != hcUserAgent {
			t.Errorf("token request User-Agent = %q, want %q", got, hcUserAgent)
		}
	}
}

func TestOAuth2RefreshTokenRotation(t *testing.T) {
	ts := newHCTokenServer(t, "ticketray", "cs-SECRET-2", "rt-0")
	api, seen := hcAPI(t)
	store := newHCStore("jira-refresh", "rt-0")
	conn := Connection{Name: "jira-cloud", BaseURL: api.URL, Credentials: Credentials{Type: "oauth2", Grant: "refresh_token", ClientID: "ticketray",
		ClientSecret: "cs-SECRET-2", RefreshToken: "keyring:jira-refresh", TokenURL: ts.URL + "/oauth/token"}}
	opts := ClientOptions{UserAgent: hcUserAgent, Keyring: store}

	steps := []struct {
		name        string
		expire      bool
		wantAuth    string
		wantRefresh []string // refresh tokens the endpoint has seen so far
		wantCached  string   // refresh token in the cache afterwards
	}{
		{"first use: configured refresh token", false, "Bearer at-1", []string{"rt-0"}, "rt-1"},
		{"cached access token still valid", false, "Bearer at-1", []string{"rt-0"}, "rt-1"},
		{"expired: rotated refresh token used", true, "Bearer at-2", []string{"rt-0", "rt-1"}, "rt-2"},
		{"expired again: newest refresh token used", true, "Bearer at-3", []string{"rt-0", "rt-1", "rt-2"}, "rt-3"},
	}
	for _, st := range steps {
		if st.expire {
			expireCachedToken(t, store, conn.Name)
		}
		c, err := NewHTTPClient(conn, opts)
		if err != nil {
			t.Fatalf("%s: NewHTTPClient: %v", st.name, err)
		}
		if _, err := hcGet(t, c, api.URL+"/rest/api/3/myself"); err != nil {
			t.Fatalf("%s: GET: %v", st.name, err)
		}
		auth, _, _ := seen.snapshot()
		if got := auth[len(auth)-1]; got != st.wantAuth {
			t.Errorf("%s: Authorization = %q, want %q", st.name, got, st.wantAuth)
		}
		if _, got := ts.stats(); !reflect.DeepEqual(got, st.wantRefresh) {
			t.Errorf("%s: refresh tokens sent = %q, want %q", st.name, got, st.wantRefresh)
		}
		if got := cachedToken(t, store, conn.Name)["refresh_token"]; got != st.wantCached {
			t.Errorf("%s: cached refresh_token = %v, want %q", st.name, got, st.wantCached)
		}
	}
}

func TestOAuth2TokenEndpointErrors(t *testing.T) {
	const secret, refresh = "cs-SECRET-leak-check", "rt-SECRET-leak-check"
	down, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		grant      string
		clientSec  string // what the client sends
		failStatus int
		tokenURL   string // "" for the fake
		want       Class
		wantStatus int
		wantCode   string
	}{
		{"client_credentials wrong secret", "client_credentials", secret, 0, "", Permanent, 401, "invalid_client"},
		{"client_credentials 401", "client_credentials", secret, 401, "", Permanent, 401, "invalid_client"},
		{"refresh_token 401", "refresh_token", secret, 401, "", Permanent, 401, "invalid_client"},
		{"refresh_token revoked", "refresh_token", secret, 0, "", Permanent, 400, "invalid_grant"},
		{"token endpoint 503", "client_credentials", secret, 503, "", Retryable, 503, "invalid_client"},
		{"token endpoint down", "refresh_token", secret, 0, "http://" + down + "/token", Offline, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The server knows another secret (wrong secret) or another
			// refresh token (revoked) unless it fails outright.
			ts := newHCTokenServer(t, "ticketray", "the-right-secret", "another-refresh-token")
			if tt.failStatus == 0 && tt.name != "client_credentials wrong secret" {
				ts.clientSecret = secret
			}
			ts.failStatus = tt.failStatus
			tokenURL := tt.tokenURL
			if tokenURL == "" {
				tokenURL = ts.URL + "/token"
			}
			api, seen := hcAPI(t)
			store := newHCStore()
			conn := Connection{Name: "c", BaseURL: api.URL, Credentials: Credentials{Type: "oauth2", Grant: tt.grant, ClientID: "ticketray",
				ClientSecret: tt.clientSec, RefreshToken: refresh, TokenURL: tokenURL}}
			c, err := NewHTTPClient(conn, ClientOptions{UserAgent: hcUserAgent, Keyring: store})
			if err != nil {
				t.Fatal(err)
			}
			_, err = hcGet(t, c, api.URL+"/api")
			if err == nil {
				t.Fatal("GET succeeded, want a token error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want a *connectors.Error", err, err)
			}
			if e.Op != "oauth2 token" || e.Class != tt.want || e.Status != tt.wantStatus || e.Message != tt.wantCode {
				t.Errorf("error = {Op %q, Class %v, Status %d, Message %q}, want {%q, %v, %d, %q}",
					e.Op, e.Class, e.Status, e.Message, "oauth2 token", tt.want, tt.wantStatus, tt.wantCode)
			}
			for _, s := range []string{secret, refresh} {
				if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", e), s) {
					t.Errorf("error %q leaks %q", err, s)
				}
			}
			if tt.tokenURL == "" {
				ts.mu.Lock()
				body := ts.lastErrBody
				ts.mu.Unlock()
				if !strings.Contains(body, secret) {
					t.Errorf("the fake did not echo the secret (body %q): the leak check proves nothing", body)
				}
			}
			if auth, _, _ := seen.snapshot(); len(auth) != 0 {
				t.Errorf("the API was called %d times without a token, want 0", len(auth))
			}
			if _, err := store.Get(store.tokenKey("c")); err == nil {
				t.Errorf("a token was cached after a failure")
			}
		})
	}
}

// For every credential type, failures never put the secret into an error.
func TestNewHTTPClientNeverLeaks(t *testing.T) {
	down, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	const user, secret = "svc-user", "SECRET-never-in-errors"
	ts := newHCTokenServer(t, "id", "not-the-secret", "not-the-refresh-token")
	ts.failStatus = 401
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A careless server echoes the request's credentials.
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"bad credentials %s"}`, r.Header.Get("Authorization"))
	}))
	defer unauthorized.Close()

	creds := map[string]func(ref string) Credentials{
		"basic": func(ref string) Credentials { return Credentials{Type: "basic", Username: user, Password: ref} },
		"api_token": func(ref string) Credentials {
			return Credentials{Type: "api_token", Username: user, APIToken: ref}
		},
		"bearer": func(ref string) Credentials { return Credentials{Type: "bearer", Token: ref} },
		"oauth2 client_credentials": func(ref string) Credentials {
			return Credentials{Type: "oauth2", ClientID: "id", ClientSecret: ref, TokenURL: ts.URL + "/token"}
		},
		"oauth2 refresh_token": func(ref string) Credentials {
			return Credentials{Type: "oauth2", Grant: "refresh_token", ClientID: "id", ClientSecret: ref, RefreshToken: ref, TokenURL: ts.URL + "/token"}
		},
	}
	forbidden := []string{secret, base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))}
	check := func(t *testing.T, what string, err error) {
		t.Helper()
		if err == nil {
			return
		}
		for _, s := range forbidden {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q leaks %q", what, err, s)
			}
		}
	}
	for name, mk := range creds {
		t.Run(name, func(t *testing.T) {
			opts := ClientOptions{Getenv: hcEnv("TR_SECRET", secret), Keyring: newHCStore("tr-secret", secret)}
			// A missing reference, with the secret present elsewhere.
			_, err := NewHTTPClient(Connection{Name: "c", BaseURL: "https://x.example.test", Credentials: mk("env:TR_ABSENT")}, opts)
			if err == nil {
				t.Errorf("missing env: NewHTTPClient succeeded, want an error")
			}
			check(t, "missing env", err)
			// A bad base URL.
			_, err = NewHTTPClient(Connection{Name: "c", BaseURL: "http://x.example.com/" + secret, Credentials: mk("env:TR_SECRET")}, opts)
			if err == nil {
				t.Errorf("bad baseUrl: NewHTTPClient succeeded, want an error")
			}
			check(t, "bad baseUrl", err)

			for _, ref := range []string{secret, "env:TR_SECRET", "keyring:tr-secret"} {
				for _, target := range []string{"http://" + down + "/api", unauthorized.URL + "/api", "http://example.invalid/api"} {
					c, err := NewHTTPClient(Connection{Name: "c", BaseURL: "http://127.0.0.1:1", Credentials: mk(ref)}, opts)
					if err != nil {
						t.Fatalf("NewHTTPClient: %v", err)
					}
					resp, err := hcGet(t, c, target)
					check(t, "GET "+target, err)
					if err == nil && resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("GET %s: status %d, want 401 or an error", target, resp.StatusCode)
					}
				}
			}
		})
	}
}

func TestOAuth2RefreshTokenFromConfigReplacesStaleCache(t *testing.T) {
	ts := newHCTokenServer(t, "ticketray", "cs", "rt-new")
	api, seen := hcAPI(t)
	stale, _ := json.Marshal(map[string]any{"access_token": "at-old", "token_type": "Bearer", "refresh_token": "rt-revoked",
		"expiry": time.Now().Add(-time.Hour).Format(time.RFC3339Nano)})
	store := newHCStore("oauth2-token-jira", string(stale))
	conn := Connection{Name: "jira", BaseURL: api.URL, Credentials: Credentials{Type: "oauth2", Grant: "refresh_token", ClientID: "ticketray",
		ClientSecret: "cs", RefreshToken: "rt-new", TokenURL: ts.URL + "/token"}}
	c, err := NewHTTPClient(conn, ClientOptions{Keyring: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hcGet(t, c, api.URL+"/api"); err != nil {
		t.Fatalf("GET with a new configured refresh token: %v", err)
	}
	if auth, _, _ := seen.snapshot(); len(auth) != 1 || auth[0] != "Bearer at-1" {
		t.Errorf("API saw %q, want [\"Bearer at-1\"]", auth)
	}
}

// hcRedirectRT answers a token request with a redirect to plain http on
// the same (non-loopback) host, without any network.
type hcRedirectRT struct{}

func (hcRedirectRT) RoundTrip(r *http.Request) (*http.Response, error) {
	loc := *r.URL
	loc.Scheme = "http"
	return &http.Response{StatusCode: http.StatusMovedPermanently, Status: "301 Moved Permanently", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Location": {loc.String()}}, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}, nil
}

func TestOAuth2TokenPolicyRefusalStaysPermanent(t *testing.T) {
	c, err := NewHTTPClient(Connection{Name: "c", BaseURL: "https://api.example.test", Credentials: Credentials{Type: "oauth2", ClientID: "id",
		ClientSecret: "cs", TokenURL: "https://login.example.test/token"}}, ClientOptions{Transport: hcRedirectRT{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hcGet(t, c, "https://api.example.test/api")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *connectors.Error", err)
	}
	if e.Class != Permanent || e.Sent {
		t.Errorf("token policy refusal = {Class %v, Sent %v}, want {permanent, false} (err %v)", e.Class, e.Sent, err)
	}
}

// A connector that logs in for a session token sets Authorization itself:
// the client's static credentials fill in only where it did not, and
// CredentialResolver hands it the resolved fields.
func TestSessionAuthorizationWins(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Get("Authorization") }))
	defer srv.Close()
	c := Connection{Name: "B", Type: "bmc_helix", BaseURL: srv.URL, Credentials: Credentials{Type: "basic", Username: "svc", Password: "env:BMC_PW"}}
	o := ClientOptions{Getenv: func(k string) string { return map[string]string{"BMC_PW": "s3cret"}[k] }}
	hc, err := NewHTTPClient(c, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"AR-JWT abc", ""} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if set != "" {
			req.Header.Set("Authorization", set)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if a, b := <-got, <-got; a != "AR-JWT abc" || !strings.HasPrefix(b, "Basic ") {
		t.Errorf("Authorization sent: %q then %q", a, b)
	}
	cred := CredentialResolver(c, o)
	if pw, err := cred("password"); err != nil || pw != "s3cret" {
		t.Errorf("password = %q, %v", pw, err)
	}
	if _, err := cred("token"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("an unset field: %v", err)
	}
	c.Credentials.Password = "env:NOPE"
	if _, err := CredentialResolver(c, o)("password"); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("an unresolved reference: %v", err)
	}
}

// A token the server gave no expiry is used for tokenLifetime, not for
// ever; one cached without an expiry (by an older version) is replaced.
func TestOAuth2TokenWithoutExpiry(t *testing.T) {
	ts := newHCTokenServer(t, "ticketray", "cs-SECRET-1", "")
	ts.noExpiry = true
	api, _ := hcAPI(t)
	store := newHCStore()
	conn := Connection{Name: "sf", BaseURL: api.URL, Credentials: Credentials{Type: "oauth2", ClientID: "ticketray",
		ClientSecret: "env:SF_SECRET", TokenURL: ts.URL + "/services/oauth2/token"}}
	opts := ClientOptions{Getenv: hcEnv("SF_SECRET", "cs-SECRET-1"), Keyring: store}
	get := func() {
		t.Helper()
		c, err := NewHTTPClient(conn, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hcGet(t, c, api.URL+"/services/data"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	exp, err := time.Parse(time.RFC3339Nano, cachedToken(t, store, conn.Name)["expiry"].(string))
	if err != nil || exp.Before(time.Now()) || exp.After(time.Now().Add(tokenLifetime)) {
		t.Errorf("cached expiry %v (%v), want within %v from now", exp, err, tokenLifetime)
	}
	m := cachedToken(t, store, conn.Name)
	delete(m, "expiry") // as an older version kept it
	b, _ := json.Marshal(m)
	store.Set(store.tokenKey(conn.Name), b)
	get()
	if calls, _ := ts.stats(); calls != 2 {
		t.Errorf("token endpoint called %d times, want 2 (the expiry-less cached token replaced)", calls)
	}
}
