package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ticketray/ticketray/connectors"
	_ "github.com/ticketray/ticketray/connectors/all"
	"github.com/ticketray/ticketray/connectors/signin"
	"github.com/ticketray/ticketray/connectors/signin/oauthfake"
)

type jsonRaw = json.RawMessage

// memStore is a keyring in memory.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	if !ok {
		return nil, fmt.Errorf("item %q: %w", name, fs.ErrNotExist)
	}
	return append([]byte(nil), v...), nil
}

func (s *memStore) Set(name string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = append([]byte(nil), v...)
	return nil
}

func (s *memStore) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, name)
	return nil
}

func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// clock is the sign-in's and the token source's time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// visit is what the test's browser saw at one URL.
type visit struct {
	status int
	body   string
}

// browser plays the user's browser: it follows the authorization URL to
// the fake's redirect and hands the callback URL to step, which visits
// it (or not, or another) as the case needs.
type browser struct {
	t        *testing.T
	authURLs []string
	step     func(b *browser, authURL, callback string)
	visits   []visit
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (b *browser) open(authURL string) error {
	b.authURLs = append(b.authURLs, authURL)
	callback := b.authorize(authURL)
	if b.step == nil {
		b.get(callback)
		return nil
	}
	b.step(b, authURL, callback)
	return nil
}

// authorize asks the fake for a code and returns where it redirects.
func (b *browser) authorize(authURL string) string {
	resp, err := noFollow.Get(authURL)
	if err != nil {
		b.t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("authorize: HTTP %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func (b *browser) get(u string) visit {
	resp, err := http.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	v := visit{resp.StatusCode, string(body)}
	b.visits = append(b.visits, v)
	return v
}

type env struct {
	t     *testing.T
	fake  *oauthfake.Server
	store *memStore
	clock *clock
	b     *browser
	out   strings.Builder
	after chan time.Time
}

func newEnv(t *testing.T) *env {
	f := oauthfake.Start()
	t.Cleanup(f.Close)
	e := &env{t: t, fake: f, store: newStore(), clock: &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}, after: make(chan time.Time)}
	e.b = &browser{t: t}
	return e
}

func (e *env) options() signin.Options {
	return signin.Options{
		Keyring: e.store, Getenv: func(k string) string {
			if k == "CLIENT_SECRET" {
				return oauthfake.ClientSecret
			}
			return ""
		},
		Browser: e.b.open, Out: &e.out, Now: e.clock.Now,
		After:                 func(time.Duration) <-chan time.Time { return e.after },
		Listen:                func(string) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") },
		AtlassianResourcesURL: e.fake.URL() + "/oauth/token/accessible-resources",
		AtlassianAPIRoot:      e.fake.URL() + "/ex/jira/",
	}
}

func (e *env) clientOptions() connectors.ClientOptions {
	o := e.options()
	return connectors.ClientOptions{Getenv: o.Getenv, Keyring: e.store, Now: e.clock.Now}
}

// jira is a Jira Cloud connection signing in through Atlassian 3LO (the
// fake's endpoints): a confidential client, no PKCE.
func (e *env) jira() connectors.Connection {
	return connectors.Connection{Name: "Jira", Type: "jira", BaseURL: oauthfake.SiteURL,
		Credentials: connectors.Credentials{Type: "oauth2_user", ClientID: oauthfake.ClientID, ClientSecret: "env:CLIENT_SECRET",
			AuthURL: e.fake.URL() + "/authorize", TokenURL: e.fake.URL() + "/oauth/token"},
		Options: map[string]jsonRaw{"projectKey": jsonRaw(`"IT"`), "issueType": jsonRaw(`"Task"`)}}
}

// servicenow is a ServiceNow connection at the fake: its endpoints are the
// defaults under baseUrl, a public client with PKCE.
func (e *env) servicenow() connectors.Connection {
	return connectors.Connection{Name: "ServiceNow", Type: "servicenow", BaseURL: e.fake.URL(),
		Credentials: connectors.Credentials{Type: "oauth2_user", ClientID: oauthfake.ClientID}}
}

func (e *env) login(c connectors.Connection) (*connectors.Grant, error) {
	return signin.Login(context.Background(), c, e.options())
}

func TestLoginAtlassian(t *testing.T) {
	e := newEnv(t)
	e.fake.RequireSecret = true
	c := e.jira()
	if errs := c.Validate(); len(errs) != 0 {
		t.Fatalf("config: %v", errs)
	}
	g, err := e.login(c)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, e.out.String())
	}
	q := mustQuery(t, e.b.authURLs[0])
	if q.Get("audience") != "api.atlassian.com" || q.Get("prompt") != "consent" || q.Get("code_challenge") != "" ||
		!strings.Contains(q.Get("scope"), "offline_access") || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Errorf("authorization URL %s", e.b.authURLs[0])
	}
	if !strings.Contains(e.out.String(), e.b.authURLs[0]) {
		t.Error("the URL was not printed")
	}
	if g.APIBase != e.fake.URL()+"/ex/jira/"+oauthfake.CloudID || g.Site != oauthfake.SiteURL {
		t.Errorf("site %q, API base %q", g.Site, g.APIBase)
	}
	if want := oauthfake.UserName + " <" + oauthfake.UserEmail + ">"; g.SignedInAs != want {
		t.Errorf("signed in as %q, want %q", g.SignedInAs, want)
	}
	if want := e.clock.Now().Add(30 * 24 * time.Hour); !g.ExpiresAt.Equal(want) {
		t.Errorf("grant expires %v, want %v", g.ExpiresAt, want)
	}
	if v := e.b.visits[0]; v.status != http.StatusOK || !strings.Contains(v.body, "Signed in") {
		t.Errorf("callback page %d %q", v.status, v.body)
	}
	// Requests to the site go to api.atlassian.com/ex/jira/{cloudid}.
	hc, err := connectors.NewHTTPClient(c, e.clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(oauthfake.SiteURL + "/rest/api/3/myself")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("API call through the grant: HTTP %d", resp.StatusCode)
	}
}

// TestLoginAtlassianGatewayOrOtherSite: a baseUrl that is already the
// gateway picks its site by id; a site the account cannot reach fails the
// sign-in and stores nothing.
func TestLoginAtlassianGatewayOrOtherSite(t *testing.T) {
	e := newEnv(t)
	c := e.jira()
	c.BaseURL = e.fake.URL() + "/ex/jira/" + oauthfake.CloudID
	g, err := e.login(c)
	if err != nil || g.Site != oauthfake.SiteURL || g.APIBase != "" || g.SignedInAs != oauthfake.UserName+" <"+oauthfake.UserEmail+">" {
		t.Fatalf("gateway baseUrl: %+v, %v", g, err)
	}
	e2 := newEnv(t)
	c = e2.jira()
	c.BaseURL = "https://elsewhere.atlassian.net"
	if _, err := e2.login(c); err == nil || !strings.Contains(err.Error(), "cannot reach https://elsewhere.atlassian.net") || e2.store.len() != 0 {
		t.Errorf("other site: %v, %d keyring items", err, e2.store.len())
	}
}

func TestLoginServiceNowPKCE(t *testing.T) {
	e := newEnv(t)
	e.fake.RequirePKCE = true
	g, err := e.login(e.servicenow())
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	q := mustQuery(t, e.b.authURLs[0])
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Errorf("no PKCE in %s", e.b.authURLs[0])
	}
	if want := oauthfake.UserName + " <ada.lovelace>"; g.SignedInAs != want {
		t.Errorf("signed in as %q, want %q", g.SignedInAs, want)
	}
	if stored, err := connectors.LoadGrant(e.store, "ServiceNow"); err != nil || stored == nil || stored.Token.RefreshToken != g.Token.RefreshToken {
		t.Errorf("stored grant %+v, %v", stored, err)
	}
}

// TestLoginGeneric: another vendor names its endpoints; the user's name
// comes from the OpenID Connect id_token.
func TestLoginGeneric(t *testing.T) {
	e := newEnv(t)
	e.fake.OIDC = true
	c := connectors.Connection{Name: "Zendesk", Type: "zendesk", BaseURL: e.fake.URL(),
		Credentials: connectors.Credentials{Type: "oauth2_user", ClientID: oauthfake.ClientID, ClientSecret: "env:CLIENT_SECRET",
			AuthURL: e.fake.URL() + "/authorize", TokenURL: e.fake.URL() + "/oauth/token", Scopes: []string{"read", "write"}}}
	g, err := e.login(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := oauthfake.UserName + " <" + oauthfake.UserEmail + ">"; g.SignedInAs != want || g.APIBase != "" {
		t.Errorf("signed in as %q (API base %q), want %q", g.SignedInAs, g.APIBase, want)
	}
	if q := mustQuery(t, e.b.authURLs[0]); q.Get("code_challenge") == "" || q.Get("scope") != "read write" {
		t.Errorf("authorization URL %s", e.b.authURLs[0])
	}
}

func TestLoginStateExpired(t *testing.T) {
	e := newEnv(t)
	e.b.step = func(b *browser, _, callback string) {
		e.clock.Advance(signin.StateTTL + time.Second) // the user came back too late
		b.get(callback)
	}
	_, err := e.login(e.servicenow())
	if !errors.Is(err, signin.ErrStateExpired) {
		t.Errorf("err = %v, want ErrStateExpired", err)
	}
	if v := e.b.visits[0]; v.status != http.StatusBadRequest || !strings.Contains(v.body, "expired") || !strings.Contains(v.body, "Nothing was stored") {
		t.Errorf("late callback page %d %q", v.status, v.body)
	}
	if e.store.len() != 0 || e.fake.Exchanges() != 0 {
		t.Errorf("%d keyring items, %d codes exchanged after an expired state", e.store.len(), e.fake.Exchanges())
	}
}

func TestLoginNoCallbackExpires(t *testing.T) {
	e := newEnv(t)
	e.b.step = func(*browser, string, string) { close(e.after) } // the user never comes back
	_, err := e.login(e.servicenow())
	if !errors.Is(err, signin.ErrStateExpired) || e.store.len() != 0 {
		t.Errorf("err = %v, %d keyring items", err, e.store.len())
	}
}

func TestLoginStateReused(t *testing.T) {
	e := newEnv(t)
	e.b.step = func(b *browser, _, callback string) {
		b.get(callback)
		b.get(callback) // replayed: from history, or by someone who saw it
	}
	g, err := e.login(e.servicenow())
	if err != nil {
		t.Fatal(err)
	}
	if v := e.b.visits[1]; v.status != http.StatusBadRequest || !strings.Contains(v.body, "already used") {
		t.Errorf("replayed callback page %d %q", v.status, v.body)
	}
	if e.fake.Exchanges() != 1 {
		t.Errorf("%d codes exchanged, want 1", e.fake.Exchanges())
	}
	if stored, _ := connectors.LoadGrant(e.store, "ServiceNow"); stored == nil || stored.Token.AccessToken != g.Token.AccessToken {
		t.Error("the replay changed the stored grant")
	}
}

func TestLoginWrongState(t *testing.T) {
	e := newEnv(t)
	e.b.step = func(b *browser, _, callback string) {
		u, _ := url.Parse(callback)
		forged := u.Query()
		forged.Set("state", "forged-state")
		forged.Set("code", "attacker-code")
		u.RawQuery = forged.Encode()
		if v := b.get(u.String()); e.store.len() != 0 || e.fake.Exchanges() != 0 {
			t.Errorf("a wrong state was acted on (page %d)", v.status)
		}
		b.get(callback) // the real one still works
	}
	if _, err := e.login(e.servicenow()); err != nil {
		t.Fatal(err)
	}
	if v := e.b.visits[0]; v.status != http.StatusBadRequest || !strings.Contains(v.body, "not the one Ticketray is waiting for") {
		t.Errorf("wrong-state page %d %q", v.status, v.body)
	}
	if e.fake.Exchanges() != 1 || e.store.len() != 1 {
		t.Errorf("%d exchanges, %d keyring items", e.fake.Exchanges(), e.store.len())
	}
}

func TestLoginPKCEMismatch(t *testing.T) {
	e := newEnv(t)
	e.fake.RequirePKCE = true
	e.b.step = func(b *browser, authURL, _ string) {
		// Someone else's challenge reaches the server (a code injected
		// into this sign-in): our verifier does not match it.
		u, _ := url.Parse(authURL)
		q := u.Query()
		sum := sha256.Sum256([]byte(oauth2.GenerateVerifier()))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		u.RawQuery = q.Encode()
		b.get(b.authorize(u.String()))
	}
	_, err := e.login(e.servicenow())
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("err = %v, want the token endpoint's invalid_grant", err)
	}
	if v := e.b.visits[0]; v.status != http.StatusBadGateway || !strings.Contains(v.body, "Sign-in failed") {
		t.Errorf("page %d %q", v.status, v.body)
	}
	if e.store.len() != 0 {
		t.Error("a grant was stored after a PKCE mismatch")
	}
}

// TestRefreshRotationPersistsAcrossRestart: every refresh rotates the
// refresh token; each new one is in the keyring before the access token
// is used, so a new process (a restart) refreshes with the newest and the
// server never sees an old one again (which would revoke the grant).
func TestRefreshRotationPersistsAcrossRestart(t *testing.T) {
	e := newEnv(t)
	e.fake.ExpiresIn = 1 // every call refreshes
	c := e.servicenow()
	g, err := e.login(c)
	if err != nil {
		t.Fatal(err)
	}
	rt0 := g.Token.RefreshToken
	call := func() {
		t.Helper()
		hc, err := connectors.NewHTTPClient(c, e.clientOptions()) // a new process each time
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Get(c.BaseURL + "/api/now/ui/user/current_user")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	}
	call()
	e.clock.Advance(time.Hour)
	call()
	refreshed := e.fake.Refreshes()
	stored, _ := connectors.LoadGrant(e.store, c.Name)
	if len(refreshed) != 2 || refreshed[0] != rt0 || refreshed[1] == rt0 {
		t.Errorf("refresh tokens presented %v (signed in with %s)", refreshed, rt0)
	}
	if live := e.fake.Current(); len(live) != 1 || stored.Token.RefreshToken != live[0] {
		t.Errorf("keyring holds %s, the server's live refresh token is %v", stored.Token.RefreshToken, live)
	}
	if e.fake.Reused() != 0 {
		t.Error("an old refresh token was presented")
	}
	if !stored.RefreshedAt.Equal(e.clock.Now()) || !stored.ExpiresAt.Equal(e.clock.Now().Add(30*24*time.Hour)) {
		t.Errorf("refreshed at %v, grant expires %v", stored.RefreshedAt, stored.ExpiresAt)
	}
}

// TestRevokedGrantAsksToSignInAgain: a revoked grant is a sign-in to do,
// not a refusal of the ticket: the vendor call fails Offline (no attempt
// spent, no ticket dead) with ErrSignInRequired, the grant is marked
// revoked, and the next build asks for a sign-in without calling the
// server.
func TestRevokedGrantAsksToSignInAgain(t *testing.T) {
	e := newEnv(t)
	e.fake.RequireSecret = true
	e.fake.ExpiresIn = 1
	c := e.jira()
	if _, err := e.login(c); err != nil {
		t.Fatal(err)
	}
	e.fake.RevokeAll()
	hc, err := connectors.NewHTTPClient(c, e.clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	vc, err := connectors.New(c, connectors.Deps{HTTP: hc, Credential: connectors.CredentialResolver(c, e.clientOptions())})
	if err != nil {
		t.Fatal(err)
	}
	tk := &connectors.Ticket{Summary: "VPN drops", Priority: connectors.PriorityMedium, IdempotencyKey: connectors.NewKey(), CreatedAt: e.clock.Now()}
	_, err = vc.Create(context.Background(), tk)
	if !connectors.IsSignInRequired(err) || connectors.ClassOf(err) != connectors.Offline {
		t.Fatalf("create with a revoked grant: %v (class %v), want an Offline sign-in-required error", err, connectors.ClassOf(err))
	}
	if !strings.Contains(err.Error(), "ticketray connections login Jira") {
		t.Errorf("error %q does not say how to sign in", err)
	}
	if stored, _ := connectors.LoadGrant(e.store, c.Name); stored == nil || !stored.Revoked {
		t.Error("the grant is not marked revoked")
	}
	before := len(e.fake.Refreshes())
	_, err = connectors.NewHTTPClient(c, e.clientOptions())
	if !connectors.IsSignInRequired(err) || len(e.fake.Refreshes()) != before {
		t.Errorf("build after revocation: %v (%d more refreshes)", err, len(e.fake.Refreshes())-before)
	}
	// Signing in again heals it.
	if _, err := e.login(c); err != nil {
		t.Fatal(err)
	}
	if _, err := connectors.NewHTTPClient(c, e.clientOptions()); err != nil {
		t.Errorf("after a new sign-in: %v", err)
	}
}

// TestLogoutStopsARunningClient: a process that built its client before
// the logout does not write the grant back at its next refresh.
func TestLogoutStopsARunningClient(t *testing.T) {
	e := newEnv(t)
	e.fake.ExpiresIn = 1
	c := e.servicenow()
	if _, err := e.login(c); err != nil {
		t.Fatal(err)
	}
	hc, err := connectors.NewHTTPClient(c, e.clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := signin.Logout(e.store, c.Name); err != nil {
		t.Fatal(err)
	}
	_, err = hc.Get(c.BaseURL + "/api/now/ui/user/current_user")
	if !connectors.IsSignInRequired(err) || e.store.len() != 0 || len(e.fake.Refreshes()) != 0 {
		t.Errorf("after logout: %v, %d keyring items, %d refreshes", err, e.store.len(), len(e.fake.Refreshes()))
	}
}

func TestNotSignedInOrOtherClient(t *testing.T) {
	e := newEnv(t)
	c := e.servicenow()
	_, err := connectors.NewHTTPClient(c, e.clientOptions())
	if !connectors.IsSignInRequired(err) || !strings.Contains(err.Error(), "run 'ticketray connections login ServiceNow'") {
		t.Errorf("before sign-in: %v", err)
	}
	if _, err := e.login(c); err != nil {
		t.Fatal(err)
	}
	c.Credentials.Scopes = []string{"useraccount", "incident"} // IT changed the scopes
	if _, err := connectors.NewHTTPClient(c, e.clientOptions()); !connectors.IsSignInRequired(err) || !strings.Contains(err.Error(), "changed") {
		t.Errorf("after a client change: %v", err)
	}
	if err := signin.Logout(e.store, c.Name); err != nil || e.store.len() != 0 {
		t.Errorf("logout: %v, %d items left", err, e.store.len())
	}
}

func TestLoginRefusesOtherCredentials(t *testing.T) {
	e := newEnv(t)
	c := e.servicenow()
	c.Credentials = connectors.Credentials{Type: "basic", Username: "u", Password: "p"}
	if _, err := e.login(c); err == nil || !strings.Contains(err.Error(), "oauth2_user") {
		t.Errorf("err = %v", err)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
