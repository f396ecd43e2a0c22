package connectors

// Credentials of type oauth2_user: the authorization-code grant, signed in
// by a person (`ticketray connections login NAME`, or Settings' Sign in).
// The interactive flow lives in connectors/signin; what a delivering
// process needs — the stored grant, the refreshing token source that
// persists every rotated refresh token, the classification of a revoked
// grant — lives here, next to NewHTTPClient.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrSignInRequired marks an oauth2_user connection whose user has to sign
// in (again): never signed in on this machine, signed out, the grant
// revoked or expired at the vendor (invalid_grant), or the OAuth client in
// the config changed since sign-in.
//
// A call that fails for it returns an *Error of Class Offline wrapping
// ErrSignInRequired (errors.Is): no attempt is spent and no ticket dies,
// because only a person can fix it and the tickets are fine. A courier
// should not probe such a connection back to life (the network is up):
// it should show "sign in again" and wait until the grant changes. Use
// IsSignInRequired to tell it from a network outage.
var ErrSignInRequired = errors.New("sign-in required")

// IsSignInRequired reports whether err asks a person to sign in again.
func IsSignInRequired(err error) bool { return errors.Is(err, ErrSignInRequired) }

// signInRequired is the error a call returns while a connection waits for
// a sign-in; why is a short reason ("the grant was revoked").
func signInRequired(op, name, why string) *Error {
	return &Error{Op: op, Class: Offline, Err: fmt.Errorf("%w: %s: run 'ticketray connections login %s'", ErrSignInRequired, why, name)}
}

// DefaultRedirectPort is the loopback port of the redirect URI when a
// connection sets no credentials.redirectPort. Vendors match redirect URIs
// exactly, so the port is fixed: register
// http://127.0.0.1:47613/callback with the OAuth app.
const DefaultRedirectPort = 47613

// Atlassian 3LO endpoints (developer.atlassian.com, OAuth 2.0 3LO apps).
const (
	AtlassianAuthURL  = "https://auth.atlassian.com/authorize"
	AtlassianTokenURL = "https://auth.atlassian.com/oauth/token"
	AtlassianAudience = "api.atlassian.com"
)

// Atlassian refresh tokens rotate, expire after 90 days without use and
// 365 days after consent.
const (
	atlassianIdle     = 90 * 24 * time.Hour
	atlassianAbsolute = 365 * 24 * time.Hour
)

// UserOAuth is how a connection's oauth2_user credentials sign in: the
// endpoints (configured, else the vendor's), the scopes, and the vendor's
// quirks.
type UserOAuth struct {
	AuthURL, TokenURL string
	Scopes            []string
	// PKCE: send an S256 code challenge (RFC 7636). Atlassian's 3LO does
	// not take PKCE (it needs the client secret); ServiceNow and generic
	// servers get it.
	PKCE bool
	// Atlassian: audience=api.atlassian.com, prompt=consent, the site is
	// picked through accessible-resources and API calls go to
	// https://api.atlassian.com/ex/jira/{cloudid}.
	Atlassian bool
	// RedirectPort is the loopback port of the redirect URI.
	RedirectPort int
	// InParams: the client id (and secret) go in the token request body,
	// as Atlassian and ServiceNow document; otherwise x/oauth2 detects it.
	InParams bool
}

// IsAtlassian reports whether a connection type is served by Atlassian
// Cloud (3LO).
func IsAtlassian(typ string) bool { return typ == "jira" || typ == "jsm" }

// atlassianScopes are the scopes asked for when a Jira or JSM connection
// names none: create and read issues and requests, the user's name, and a
// refresh token.
var atlassianScopes = map[string][]string{
	"jira": {"read:jira-work", "write:jira-work", "read:jira-user", "offline_access"},
	"jsm":  {"read:jira-work", "write:jira-work", "read:jira-user", "read:servicedesk-request", "write:servicedesk-request", "offline_access"},
}

// UserOAuthOf returns how connection c signs in. It fails when a generic
// connection (neither Jira, JSM nor ServiceNow) lacks authUrl or tokenUrl.
func UserOAuthOf(c Connection) (UserOAuth, error) {
	cr := c.Credentials
	u := UserOAuth{AuthURL: cr.AuthURL, TokenURL: cr.TokenURL, Scopes: slices.Clone(cr.Scopes), PKCE: true, RedirectPort: cr.RedirectPort}
	if u.RedirectPort == 0 {
		u.RedirectPort = DefaultRedirectPort
	}
	switch {
	case IsAtlassian(c.Type):
		u.Atlassian, u.PKCE, u.InParams = true, false, true
		u.AuthURL = cmpOr(u.AuthURL, AtlassianAuthURL)
		u.TokenURL = cmpOr(u.TokenURL, AtlassianTokenURL)
		if len(u.Scopes) == 0 {
			u.Scopes = slices.Clone(atlassianScopes[c.Type])
		}
		// Without offline_access there is no refresh token, and the user
		// would have to sign in every hour.
		if !slices.Contains(u.Scopes, "offline_access") {
			u.Scopes = append(u.Scopes, "offline_access")
		}
	case c.Type == "servicenow":
		base := strings.TrimRight(c.BaseURL, "/")
		u.AuthURL = cmpOr(u.AuthURL, base+"/oauth_auth.do")
		u.TokenURL = cmpOr(u.TokenURL, base+"/oauth_token.do")
		u.InParams = true
	}
	if u.AuthURL == "" || u.TokenURL == "" {
		return u, fmt.Errorf("connection %q: oauth2_user credentials of a %s connection need authUrl and tokenUrl", c.Name, c.Type)
	}
	return u, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// oauthUserErrors are the oauth2_user rules that depend on the type:
// connections other than Jira, JSM and ServiceNow name their endpoints.
func (c *Connection) oauthUserErrors() []FieldError {
	cr := c.Credentials
	if cr.Type != "oauth2_user" || IsAtlassian(c.Type) || c.Type == "servicenow" {
		return nil
	}
	var errs []FieldError
	if cr.AuthURL == "" {
		errs = append(errs, FieldError{"credentials.authUrl", fmt.Sprintf("is required for oauth2_user credentials of a %s connection", c.Type)})
	}
	if cr.TokenURL == "" {
		errs = append(errs, FieldError{"credentials.tokenUrl", fmt.Sprintf("is required for oauth2_user credentials of a %s connection", c.Type)})
	}
	return errs
}

// Grant is what a sign-in stores in the keyring (item GrantKey(name)) for
// an oauth2_user connection. It is rewritten every time the refresh token
// rotates.
type Grant struct {
	Token *oauth2.Token `json:"token"`
	// Client fingerprints what the grant was issued for (ClientOf): a
	// grant for another client, site or scopes is not used.
	Client     string    `json:"client"`
	SignedInAs string    `json:"signedInAs,omitempty"`
	SignedInAt time.Time `json:"signedInAt"`
	// RefreshedAt is the last time the refresh token was used.
	RefreshedAt time.Time `json:"refreshedAt,omitzero"`
	// APIBase, when set, takes the place of the connection's baseUrl for
	// API calls (Atlassian: https://api.atlassian.com/ex/jira/{cloudid});
	// Site is the site it was picked for.
	APIBase string `json:"apiBase,omitempty"`
	Site    string `json:"site,omitempty"`
	// IdleLifetime and NotAfter bound the grant where the vendor documents
	// it (Atlassian: 90 days without use, 365 days after consent).
	IdleLifetime time.Duration `json:"idleLifetime,omitempty"`
	NotAfter     time.Time     `json:"notAfter,omitzero"`
	// ExpiresAt is when the grant ends unless it is used (zero: not
	// known). RefreshExpiresIn is the server's refresh_token_expires_in,
	// when it sends one.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Revoked is set when the server refused the refresh token
	// (invalid_grant): the user has to sign in again.
	Revoked bool `json:"revoked,omitempty"`
}

// GrantKey is the keyring item that holds connection name's grant.
func GrantKey(name string) string { return "oauth2-user-" + name }

// ClientOf fingerprints what a grant for c is issued for: the type, site,
// client, endpoints and scopes. A config change to any of them asks the
// user to sign in again rather than sending an unfit token.
func ClientOf(c Connection) string {
	u, _ := UserOAuthOf(c)
	scopes := slices.Sorted(slices.Values(u.Scopes))
	sum := sha256.Sum256([]byte(strings.Join([]string{c.Type, strings.TrimRight(c.BaseURL, "/"), c.Credentials.ClientID, u.AuthURL, u.TokenURL, strings.Join(scopes, " ")}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// Renewed updates the grant's expiry after the refresh token was issued or
// used at now; rtExpiresIn is the server's refresh_token_expires_in (0:
// not sent).
func (g *Grant) Renewed(now time.Time, rtExpiresIn time.Duration) {
	g.RefreshedAt = now
	switch {
	case rtExpiresIn > 0:
		g.ExpiresAt = now.Add(rtExpiresIn)
	case g.IdleLifetime > 0:
		g.ExpiresAt = now.Add(g.IdleLifetime)
	}
	if !g.NotAfter.IsZero() && (g.ExpiresAt.IsZero() || g.NotAfter.Before(g.ExpiresAt)) {
		g.ExpiresAt = g.NotAfter
	}
}

// AtlassianLifetime sets the documented bounds of an Atlassian grant
// consented to at now.
func (g *Grant) AtlassianLifetime(now time.Time) {
	g.IdleLifetime = atlassianIdle
	g.NotAfter = now.Add(atlassianAbsolute)
}

// ExpiryFrom dates a token's expiry by the clock now (x/oauth2 dates it
// by the wall clock): expires_in after now, or tokenLifetime when the
// server sent none.
func ExpiryFrom(t *oauth2.Token, now time.Time) {
	switch {
	case t.ExpiresIn > 0:
		t.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	case t.Expiry.IsZero():
		t.Expiry = now.Add(tokenLifetime)
	}
}

// RefreshExpiresIn reads refresh_token_expires_in from a token response.
func RefreshExpiresIn(t *oauth2.Token) time.Duration {
	var secs float64
	switch v := t.Extra("refresh_token_expires_in").(type) {
	case float64:
		secs = v
	case string:
		fmt.Sscan(v, &secs)
	}
	if secs <= 0 || secs > 10*365*24*3600 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// LoadGrant reads connection name's grant; nil without error when there is
// none.
func LoadGrant(store SecretStore, name string) (*Grant, error) {
	if store == nil {
		return nil, errors.New("no keyring is available")
	}
	b, err := store.Get(GrantKey(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var g Grant
	if err := json.Unmarshal(b, &g); err != nil || g.Token == nil {
		return nil, fmt.Errorf("keyring item %s is not a sign-in grant", GrantKey(name))
	}
	return &g, nil
}

// SaveGrant stores connection name's grant.
func SaveGrant(store SecretStore, name string, g *Grant) error {
	if store == nil {
		return errors.New("no keyring is available")
	}
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return store.Set(GrantKey(name), b)
}

// PolicyClient is an HTTP client under the TLS policy (https except
// loopback), with the User-Agent and no credentials: for token requests
// and the calls a sign-in makes.
func PolicyClient(o ClientOptions, timeout time.Duration) *http.Client {
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Timeout: timeout, CheckRedirect: checkRedirect, Transport: &policyTransport{next: base, userAgent: o.UserAgent}}
}

// userTransport builds the transport of an oauth2_user connection from its
// stored grant: an error asking to sign in when there is none, or it is
// revoked or for another client.
func userTransport(c Connection, o ClientOptions, rt http.RoundTripper, tokenClient *http.Client, get func(string, string) (string, error)) (http.RoundTripper, error) {
	u, err := UserOAuthOf(c)
	if err != nil {
		return nil, err
	}
	secret := ""
	if c.Credentials.ClientSecret != "" {
		if secret, err = get("clientSecret", c.Credentials.ClientSecret); err != nil {
			return nil, err
		}
	}
	g, err := LoadGrant(o.Keyring, c.Name)
	switch {
	case err != nil:
		return nil, fmt.Errorf("connection %q: reading the sign-in from the keyring: %w", c.Name, err)
	case g == nil:
		return nil, fmt.Errorf("connection %q: %w: nobody has signed in on this machine: run 'ticketray connections login %s'", c.Name, ErrSignInRequired, c.Name)
	case g.Revoked:
		return nil, fmt.Errorf("connection %q: %w: the sign-in was revoked or has expired: run 'ticketray connections login %s'", c.Name, ErrSignInRequired, c.Name)
	case g.Client != ClientOf(c):
		return nil, fmt.Errorf("connection %q: %w: its OAuth client, site or scopes changed since the sign-in: run 'ticketray connections login %s'", c.Name, ErrSignInRequired, c.Name)
	}
	style := oauth2.AuthStyleAutoDetect
	if u.InParams {
		style = oauth2.AuthStyleInParams
	}
	src := &userSource{
		name:  c.Name,
		cfg:   &oauth2.Config{ClientID: c.Credentials.ClientID, ClientSecret: secret, Endpoint: oauth2.Endpoint{AuthURL: u.AuthURL, TokenURL: u.TokenURL, AuthStyle: style}, Scopes: u.Scopes},
		ctx:   context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient),
		store: o.Keyring,
		now:   o.Now,
		grant: g,
	}
	if src.now == nil {
		src.now = time.Now
	}
	base := rt
	if g.APIBase != "" {
		from, err1 := url.Parse(c.BaseURL)
		to, err2 := url.Parse(g.APIBase)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("connection %q: the stored API base is not a URL: run 'ticketray connections login %s'", c.Name, c.Name)
		}
		base = &rebaseTransport{next: rt, from: from, to: to}
	}
	return &oauth2.Transport{Source: src, Base: base}, nil
}

// expiryDelta refreshes an access token this long before it expires, as
// x/oauth2 does.
const expiryDelta = 10 * time.Second

// userSource is the refreshing token source of an oauth2_user connection.
// x/oauth2's own keeps a rotated refresh token only in memory; this one
// writes the grant to the keyring before the new access token is used, so
// a restart (or a crash) never falls back on a refresh token the server
// has already replaced (Atlassian revokes the whole grant when an old one
// is reused). One refresh at a time; another process's newer grant in the
// keyring is adopted instead of refreshing again.
type userSource struct {
	name  string
	cfg   *oauth2.Config
	ctx   context.Context
	store SecretStore
	now   func() time.Time

	mu    sync.Mutex
	grant *Grant
	dirty bool // refreshed, but not yet stored
}

func (s *userSource) valid(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || t.Expiry.Add(-expiryDelta).After(s.now()))
}

func (s *userSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty {
		if err := s.save(); err != nil {
			return nil, err
		}
	}
	if s.valid(s.grant.Token) {
		return s.grant.Token, nil
	}
	// Another process (the tray while a CLI drains) may have refreshed,
	// signed out or signed in afresh: the keyring's grant wins over ours,
	// which must then never be written back over it.
	switch g, err := LoadGrant(s.store, s.name); {
	case err != nil: // the keyring is unreadable for now: go on with ours
	case g == nil:
		return nil, signInRequired("oauth2 token", s.name, "signed out on this machine")
	case g.Client != s.grant.Client:
		return nil, signInRequired("oauth2 token", s.name, "signed in again for another OAuth client")
	default:
		s.grant = g
	}
	if s.grant.Revoked {
		return nil, signInRequired("oauth2 token", s.name, "the sign-in was revoked or has expired")
	}
	if s.valid(s.grant.Token) {
		return s.grant.Token, nil
	}
	if s.grant.Token.RefreshToken == "" {
		return nil, signInRequired("oauth2 token", s.name, "the sign-in has expired and gave no refresh token")
	}
	used := s.grant.Token.RefreshToken
	t, err := s.cfg.TokenSource(s.ctx, &oauth2.Token{RefreshToken: used}).Token()
	if err != nil {
		return nil, s.refreshError(err, used)
	}
	if t.RefreshToken == "" { // not rotated: x/oauth2 keeps it, but be sure
		t.RefreshToken = s.grant.Token.RefreshToken
	}
	ExpiryFrom(t, s.now())
	s.grant.Token = t
	s.grant.Renewed(s.now(), RefreshExpiresIn(t))
	s.dirty = true
	if err := s.save(); err != nil {
		return nil, err
	}
	return t, nil
}

// save writes the grant; a failure keeps it in memory and marked dirty, so
// the next call tries again before using the token.
func (s *userSource) save() error {
	if err := SaveGrant(s.store, s.name, s.grant); err != nil {
		return &Error{Op: "oauth2 token", Class: Offline, Err: fmt.Errorf("storing the rotated refresh token of %q in the keyring: %w", s.name, err)}
	}
	s.dirty = false
	return nil
}

// refreshError classifies a failed refresh. invalid_grant means the grant
// is gone (revoked, expired, or an old refresh token reused): it is marked
// revoked in the keyring, so neither this process nor another one asks the
// server again, and the call asks for a sign-in.
func (s *userSource) refreshError(err error, used string) error {
	var re *oauth2.RetrieveError
	var own *Error
	switch {
	case errors.As(err, &own):
		own.Op = "oauth2 token"
		return own
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		s.grant.Revoked = true
		// Best effort (the server will say it again), and only over the
		// grant that was refused: not over a sign-in made meanwhile.
		if cur, err := LoadGrant(s.store, s.name); err == nil && cur != nil && cur.Token.RefreshToken == used {
			_ = SaveGrant(s.store, s.name, s.grant)
		}
		e := signInRequired("oauth2 token", s.name, "the sign-in was revoked or has expired")
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		e.Message = re.ErrorCode
		return e
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		// The body may echo credentials: keep the status and the code only.
		return &Error{Op: "oauth2 token", Class: StatusClass(status), Status: status, Message: re.ErrorCode}
	}
	return TransportError("oauth2 token", err)
}

// rebaseTransport sends the requests a connector makes to its baseUrl to
// the grant's API base instead (Atlassian 3LO: the site's URL becomes
// https://api.atlassian.com/ex/jira/{cloudid}); links shown to people keep
// the site's URL.
type rebaseTransport struct {
	next     http.RoundTripper
	from, to *url.URL
}

func (t *rebaseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != t.from.Scheme || !strings.EqualFold(r.URL.Host, t.from.Host) {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	path := strings.TrimPrefix(r.URL.Path, strings.TrimRight(t.from.Path, "/"))
	u := *r.URL
	u.Scheme, u.Host, u.User = t.to.Scheme, t.to.Host, nil
	u.Path = strings.TrimRight(t.to.Path, "/") + path
	u.RawPath = ""
	r.URL, r.Host = &u, t.to.Host
	return t.next.RoundTrip(r)
}
