// Package signin runs the OAuth 2.0 authorization-code flow for a
// connection whose credentials are of type oauth2_user, the way RFC 8252
// asks a desktop app to: the system browser, a redirect to a loopback
// listener on 127.0.0.1, PKCE (S256) wherever the vendor takes it, and a
// state that is single-use and expires after five minutes. The grant it
// gets is stored in the keyring, where connectors.NewHTTPClient finds it.
//
// Login is what `ticketray connections login NAME` and the Settings
// window's "Sign in" button call; Logout is `connections logout NAME`.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/ticketray/ticketray/connectors"
)

// StateTTL is how long a sign-in waits for the browser: a callback after
// it gets a page saying so, and nothing is stored.
const StateTTL = 5 * time.Minute

// grace is how long the listener stays up after the state expired, so a
// late callback still gets a clear page instead of a refused connection.
const grace = time.Minute

// Errors of a sign-in (errors.Is).
var (
	// ErrStateExpired: the browser came back after StateTTL, or never.
	ErrStateExpired = errors.New("the sign-in was not completed within 5 minutes")
	// ErrDenied: the user (or the server) refused the authorization.
	ErrDenied = errors.New("the authorization was refused")
)

// Atlassian's API, for the site lookup and the user's name.
const (
	AtlassianResourcesURL = "https://api.atlassian.com/oauth/token/accessible-resources"
	AtlassianAPIRoot      = "https://api.atlassian.com/ex/jira/"
)

// Options configure Login. Only Keyring is required.
type Options struct {
	// Keyring holds the grant (and keyring: secrets).
	Keyring connectors.SecretStore
	Getenv  func(string) string
	// Browser opens the authorization URL; nil means OpenBrowser. Its
	// failure is not fatal: the URL is printed to Out as well.
	Browser func(url string) error
	// Out receives the URL and progress lines (standard error in the CLI).
	Out io.Writer
	// Now and After are the clock (tests); nil means the real one.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Listen opens the loopback listener on addr (tests); nil means
	// net.Listen("tcp", addr).
	Listen func(addr string) (net.Listener, error)
	// Transport is the base HTTP transport (tests); nil means the default.
	Transport http.RoundTripper
	UserAgent string
	// AtlassianResourcesURL and AtlassianAPIRoot override Atlassian's
	// (tests).
	AtlassianResourcesURL, AtlassianAPIRoot string
}

// Login signs a person in to connection c: it opens the browser on the
// vendor's authorization page, receives the redirect on
// http://127.0.0.1:PORT/callback, exchanges the code (with the PKCE
// verifier), finds the Atlassian site and who signed in, and stores the
// grant in the keyring. It returns once the callback was handled, the
// state expired, or ctx is done.
func Login(ctx context.Context, c connectors.Connection, o Options) (*connectors.Grant, error) {
	if c.Credentials.Type != "oauth2_user" {
		return nil, fmt.Errorf("connection %q: login needs credentials of type oauth2_user (it has %q)", c.Name, c.Credentials.Type)
	}
	if o.Keyring == nil {
		return nil, fmt.Errorf("connection %q: no keyring to keep the sign-in in", c.Name)
	}
	u, err := connectors.UserOAuthOf(c)
	if err != nil {
		return nil, err
	}
	co := connectors.ClientOptions{Getenv: o.Getenv, Keyring: o.Keyring, Transport: o.Transport, UserAgent: o.UserAgent}
	secret := ""
	if c.Credentials.ClientSecret != "" {
		if secret, err = connectors.CredentialResolver(c, co)("clientSecret"); err != nil {
			return nil, err
		}
	}
	f := &flow{conn: c, o: o, u: u, http: connectors.PolicyClient(co, 0), done: make(chan result, 1)}
	f.fill()
	o = f.o
	listen := o.Listen
	if listen == nil {
		listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	ln, err := listen(net.JoinHostPort("127.0.0.1", strconv.Itoa(u.RedirectPort)))
	if err != nil {
		return nil, fmt.Errorf("connection %q: cannot receive the sign-in on 127.0.0.1:%d (another sign-in running, or the port taken? set credentials.redirectPort and register that redirect URI): %w", c.Name, u.RedirectPort, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	style := oauth2.AuthStyleAutoDetect
	if u.InParams {
		style = oauth2.AuthStyleInParams
	}
	f.cfg = &oauth2.Config{ClientID: c.Credentials.ClientID, ClientSecret: secret, Scopes: u.Scopes,
		Endpoint:    oauth2.Endpoint{AuthURL: u.AuthURL, TokenURL: u.TokenURL, AuthStyle: style},
		RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/callback", port)}
	f.state = randomState()
	f.verifier = oauth2.GenerateVerifier()
	f.expires = f.o.Now().Add(StateTTL)

	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	authURL := f.authURL()
	fmt.Fprintf(o.Out, "Sign in to %s in your browser. If it does not open, visit:\n  %s\n", c.Name, authURL)
	if err := o.Browser(authURL); err != nil {
		fmt.Fprintf(o.Out, "Could not open a browser (%v): open the URL above yourself.\n", err)
	}
	select {
	case r := <-f.done:
		return r.grant, r.err
	case <-ctx.Done():
		f.close()
		return nil, ctx.Err()
	case <-o.After(StateTTL + grace):
		if f.close() {
			return nil, fmt.Errorf("connection %q: %w: run 'ticketray connections login %s' again", c.Name, ErrStateExpired, c.Name)
		}
		r := <-f.done // a callback is being handled: its outcome wins
		return r.grant, r.err
	}
}

// Logout removes connection name's grant from the keyring. Signing out of
// the vendor itself (revoking the app's access) is done in the vendor's
// account settings.
func Logout(store interface{ Remove(string) error }, name string) error {
	return store.Remove(connectors.GrantKey(name))
}

// OpenBrowser opens url in the system browser (RFC 8252 §8.12: never an
// embedded web view).
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

type result struct {
	grant *connectors.Grant
	err   error
}

// flow is one sign-in: its state, verifier and the callback handler.
type flow struct {
	conn connectors.Connection
	o    Options
	u    connectors.UserOAuth
	cfg  *oauth2.Config
	http *http.Client

	state, verifier string
	expires         time.Time

	mu   sync.Mutex
	used bool // the state was presented (or expired): never again
	done chan result
	once sync.Once
}

func (f *flow) fill() {
	if f.o.Now == nil {
		f.o.Now = time.Now
	}
	if f.o.After == nil {
		f.o.After = time.After
	}
	if f.o.Browser == nil {
		f.o.Browser = OpenBrowser
	}
	if f.o.Out == nil {
		f.o.Out = io.Discard
	}
	if f.o.AtlassianResourcesURL == "" {
		f.o.AtlassianResourcesURL = AtlassianResourcesURL
	}
	if f.o.AtlassianAPIRoot == "" {
		f.o.AtlassianAPIRoot = AtlassianAPIRoot
	}
}

// close marks the state used, so no callback is handled any more; false
// when a callback took it first.
func (f *flow) close() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used {
		return false
	}
	f.used = true
	return true
}

func (f *flow) finish(g *connectors.Grant, err error) {
	f.once.Do(func() { f.done <- result{g, err} })
}

func (f *flow) authURL() string {
	opts := []oauth2.AuthCodeOption{}
	if f.u.PKCE {
		opts = append(opts, oauth2.S256ChallengeOption(f.verifier))
	}
	if f.u.Atlassian {
		opts = append(opts, oauth2.SetAuthURLParam("audience", connectors.AtlassianAudience), oauth2.SetAuthURLParam("prompt", "consent"))
	}
	return f.cfg.AuthCodeURL(f.state, opts...)
}

func randomState() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ServeHTTP handles the redirect. A state that is not this sign-in's is
// refused and the sign-in keeps waiting (it may be an old tab, or a
// forgery); this sign-in's state is taken once: a second use, or one after
// five minutes, gets a page saying so and nothing is exchanged or stored.
func (f *flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/callback" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	st := q.Get("state")
	f.mu.Lock()
	switch {
	case subtle.ConstantTimeCompare([]byte(st), []byte(f.state)) != 1:
		f.mu.Unlock()
		fmt.Fprintln(f.o.Out, "Ignored a sign-in callback that does not belong to this sign-in (wrong state).")
		page(w, http.StatusBadRequest, "This sign-in link is not the one Ticketray is waiting for",
			"It may come from an earlier attempt. Nothing was stored. Use the browser window that the latest sign-in opened, or start again with: ticketray connections login "+f.conn.Name)
		return
	case f.used:
		f.mu.Unlock()
		page(w, http.StatusBadRequest, "This sign-in link was already used",
			"Each sign-in can be completed once. Nothing more was stored. To sign in again, run: ticketray connections login "+f.conn.Name)
		return
	case f.o.Now().After(f.expires):
		f.used = true
		f.mu.Unlock()
		page(w, http.StatusBadRequest, "This sign-in has expired",
			"Ticketray waits 5 minutes for a sign-in. Nothing was stored. Start again with: ticketray connections login "+f.conn.Name)
		f.finish(nil, fmt.Errorf("connection %q: %w (the browser came back too late): run 'ticketray connections login %s' again", f.conn.Name, ErrStateExpired, f.conn.Name))
		return
	}
	f.used = true
	f.mu.Unlock()
	if e := q.Get("error"); e != "" {
		page(w, http.StatusForbidden, "Sign-in refused", "The help desk answered: "+e+" "+q.Get("error_description"))
		f.finish(nil, fmt.Errorf("connection %q: %w: %s", f.conn.Name, ErrDenied, e))
		return
	}
	code := q.Get("code")
	if code == "" {
		page(w, http.StatusBadRequest, "Sign-in failed", "The redirect carried no authorization code. Nothing was stored.")
		f.finish(nil, fmt.Errorf("connection %q: the redirect carried no authorization code", f.conn.Name))
		return
	}
	g, err := f.complete(r.Context(), code)
	if err != nil {
		page(w, http.StatusBadGateway, "Sign-in failed", err.Error()+". Nothing was stored.")
		f.finish(nil, err)
		return
	}
	who := g.SignedInAs
	if who == "" {
		who = "your account"
	}
	page(w, http.StatusOK, "Signed in to "+f.conn.Name, "Ticketray now creates tickets as "+who+". You can close this window.")
	f.finish(g, nil)
}

// complete exchanges the code, finds the site and the user, and stores
// the grant.
func (f *flow) complete(ctx context.Context, code string) (*connectors.Grant, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.http)
	var opts []oauth2.AuthCodeOption
	if f.u.PKCE {
		opts = append(opts, oauth2.VerifierOption(f.verifier))
	}
	tok, err := f.cfg.Exchange(ctx, code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) { // the body may echo secrets: the code only
			return nil, fmt.Errorf("connection %q: the token endpoint refused the code (%s)", f.conn.Name, cmpOr(re.ErrorCode, strconv.Itoa(statusOf(re))))
		}
		return nil, fmt.Errorf("connection %q: exchanging the code: %w", f.conn.Name, err)
	}
	if tok.RefreshToken == "" {
		fmt.Fprintln(f.o.Out, "Warning: the server gave no refresh token: you will have to sign in again when the access token expires.")
	}
	now := f.o.Now()
	connectors.ExpiryFrom(tok, now)
	g := &connectors.Grant{Token: tok, Client: connectors.ClientOf(f.conn), SignedInAt: now}
	if f.u.Atlassian {
		g.AtlassianLifetime(now)
		if err := f.atlassianSite(ctx, g); err != nil {
			return nil, err
		}
	}
	g.Renewed(now, connectors.RefreshExpiresIn(tok))
	g.SignedInAs = f.whoAmI(ctx, g)
	if err := connectors.SaveGrant(f.o.Keyring, f.conn.Name, g); err != nil {
		return nil, fmt.Errorf("connection %q: storing the sign-in in the keyring: %w", f.conn.Name, err)
	}
	return g, nil
}

func statusOf(re *oauth2.RetrieveError) int {
	if re.Response == nil {
		return 0
	}
	return re.Response.StatusCode
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// atlassianSite picks the connection's site among the grant's
// accessible-resources (the one whose URL is the baseUrl) and points API
// calls at https://api.atlassian.com/ex/jira/{cloudid}.
func (f *flow) atlassianSite(ctx context.Context, g *connectors.Grant) error {
	var sites []struct{ ID, URL, Name string }
	if err := f.getJSON(ctx, g.Token, f.o.AtlassianResourcesURL, &sites); err != nil {
		return fmt.Errorf("connection %q: listing the Atlassian sites the sign-in reaches: %w", f.conn.Name, err)
	}
	want := strings.TrimRight(strings.ToLower(f.conn.BaseURL), "/")
	// baseUrl may already be the gateway (…/ex/jira/{cloudid}, with the
	// siteUrl option for links): then it names the site by its id.
	gatewayID, gateway := strings.CutPrefix(strings.TrimRight(f.conn.BaseURL, "/"), f.o.AtlassianAPIRoot)
	var names []string
	for _, s := range sites {
		switch {
		case s.ID == "":
		case gateway && s.ID == gatewayID:
			g.Site = s.URL // requests already go to the gateway
			return nil
		case !gateway && strings.TrimRight(strings.ToLower(s.URL), "/") == want:
			g.Site, g.APIBase = s.URL, f.o.AtlassianAPIRoot+url.PathEscape(s.ID)
			return nil
		}
		names = append(names, s.URL)
	}
	return fmt.Errorf("connection %q: the account that signed in cannot reach %s (it reaches: %s); set baseUrl to one of those sites or sign in with another account",
		f.conn.Name, f.conn.BaseURL, cmpOr(strings.Join(names, ", "), "no site"))
}

// whoAmI names the signed-in user for `connections list`: Jira's myself,
// ServiceNow's current user, else the id_token's claims. "" when it cannot
// tell; that does not fail the sign-in.
func (f *flow) whoAmI(ctx context.Context, g *connectors.Grant) string {
	switch {
	case f.u.Atlassian:
		var me struct {
			DisplayName, EmailAddress string
		}
		if f.getJSON(ctx, g.Token, cmpOr(g.APIBase, strings.TrimRight(f.conn.BaseURL, "/"))+"/rest/api/3/myself", &me) == nil {
			return joinName(me.DisplayName, me.EmailAddress)
		}
	case f.conn.Type == "servicenow":
		var me struct {
			Result struct {
				UserDisplayName string `json:"user_display_name"`
				UserName        string `json:"user_name"`
			} `json:"result"`
		}
		if f.getJSON(ctx, g.Token, strings.TrimRight(f.conn.BaseURL, "/")+"/api/now/ui/user/current_user", &me) == nil {
			return joinName(me.Result.UserDisplayName, me.Result.UserName)
		}
	}
	return idTokenName(g.Token)
}

func joinName(name, id string) string {
	switch {
	case name != "" && id != "" && name != id:
		return name + " <" + id + ">"
	case name != "":
		return name
	}
	return id
}

// idTokenName reads the name from an OpenID Connect id_token. It came
// straight from the token endpoint over TLS, so (for display only) its
// signature need not be checked.
func idTokenName(t *oauth2.Token) string {
	raw, _ := t.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Name              string `json:"name"`
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
		Sub               string `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return joinName(c.Name, cmpOr(c.Email, cmpOr(c.PreferredUsername, c.Sub)))
}

func (f *flow) getJSON(ctx context.Context, tok *oauth2.Token, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	resp, err := f.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(into)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Ticketray: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

// page answers the browser with a short page; its text is escaped.
func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pageTmpl.Execute(w, struct{ Title, Text string }{title, text})
}
