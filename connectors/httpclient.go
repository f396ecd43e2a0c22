package connectors

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultTimeout applies when a connection sets no timeoutMs.
const DefaultTimeout = 30 * time.Second

// SecretStore resolves and caches secrets: the keyring behind keyring:
// references and OAuth2 tokens.
type SecretStore interface {
	Get(name string) ([]byte, error)
	Set(name string, value []byte) error
}

// ClientOptions configure NewHTTPClient.
type ClientOptions struct {
	UserAgent string // "Ticketray/<version>"
	Getenv    func(string) string
	Keyring   SecretStore // may be nil when no secret uses keyring:
	// Transport overrides the base transport (tests); nil means a clone of
	// http.DefaultTransport, which takes the proxy from the environment.
	Transport http.RoundTripper
	// Now is the clock oauth2_user grants are refreshed and dated by
	// (tests); nil means time.Now.
	Now func() time.Time
}

// NewHTTPClient builds the client a connection's requests go through:
// TLS 1.2 or later, https only (plain http to loopback hosts), the proxy
// from the environment, the connection's timeout, the User-Agent and the
// credentials. Secrets are resolved here and never appear in errors.
func NewHTTPClient(c Connection, o ClientOptions) (*http.Client, error) {
	if err := CheckBaseURL(c.BaseURL); err != nil {
		return nil, fmt.Errorf("connection %q: baseUrl %v", c.Name, err)
	}
	base := o.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		base = t
	}
	rt := &policyTransport{next: base, userAgent: o.UserAgent}
	timeout := DefaultTimeout
	if c.TimeoutMs > 0 {
		timeout = time.Duration(c.TimeoutMs) * time.Millisecond
	}
	client := &http.Client{Timeout: timeout, CheckRedirect: checkRedirect}
	get := func(field, ref string) (string, error) {
		v, err := resolveSecret(ref, o)
		if err != nil {
			return "", fmt.Errorf("connection %q: credentials.%s: %w", c.Name, field, err)
		}
		return v, nil
	}
	cr := c.Credentials
	switch cr.Type {
	case "basic", "api_token":
		secret, field := cr.Password, "password"
		if cr.Type == "api_token" {
			secret, field = cr.APIToken, "apiToken"
		}
		user, err := get("username", cr.Username)
		if err != nil {
			return nil, err
		}
		pass, err := get(field, secret)
		if err != nil {
			return nil, err
		}
		rt.auth = func(r *http.Request) { r.SetBasicAuth(user, pass) }
	case "bearer":
		tok, err := get("token", cr.Token)
		if err != nil {
			return nil, err
		}
		rt.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	case "oauth2":
		ts, err := oauthSource(c, o, &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: checkRedirect}, get)
		if err != nil {
			return nil, err
		}
		client.Transport = &oauth2.Transport{Source: ts, Base: rt}
		return client, nil
	case "oauth2_user":
		// The grant a person signed in with (connections login): refreshed
		// and rotated in the keyring; none yet asks to sign in.
		tr, err := userTransport(c, o, rt, &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: checkRedirect}, get)
		if err != nil {
			return nil, err
		}
		client.Transport = tr
		return client, nil
	default:
		return nil, fmt.Errorf("connection %q: unknown credentials type %q", c.Name, cr.Type)
	}
	client.Transport = rt
	return client, nil
}

// CredentialResolver returns a function that resolves one credentials
// field of c (username, password, apiToken, token, clientSecret,
// refreshToken) as NewHTTPClient does: for connectors that must exchange
// the credentials themselves (a login request). Errors name the field and
// reference, never the value.
func CredentialResolver(c Connection, o ClientOptions) func(field string) (string, error) {
	return func(field string) (string, error) {
		cr := c.Credentials
		ref := map[string]string{"username": cr.Username, "password": cr.Password, "apiToken": cr.APIToken,
			"token": cr.Token, "clientSecret": cr.ClientSecret, "refreshToken": cr.RefreshToken}[field]
		if ref == "" {
			return "", fmt.Errorf("connection %q: credentials.%s is not set", c.Name, field)
		}
		v, err := resolveSecret(ref, o)
		if err != nil {
			return "", fmt.Errorf("connection %q: credentials.%s: %w", c.Name, field, err)
		}
		return v, nil
	}
}

func resolveSecret(ref string, o ClientOptions) (string, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	switch {
	case len(ref) > 4 && ref[:4] == "env:":
		if v := getenv(ref[4:]); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("environment variable %s is not set", ref[4:])
	case len(ref) > 8 && ref[:8] == "keyring:":
		if o.Keyring == nil {
			return "", fmt.Errorf("%s: no keyring is available", ref)
		}
		v, err := o.Keyring.Get(ref[8:])
		if err != nil {
			return "", fmt.Errorf("%s: %w", ref, err)
		}
		return string(v), nil
	}
	return ref, nil
}

// policyTransport enforces the TLS policy on every request (redirects
// included) and adds the User-Agent and static credentials.
type policyTransport struct {
	next      http.RoundTripper
	userAgent string
	auth      func(*http.Request)
}

func (t *policyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" && !(r.URL.Scheme == "http" && IsLoopback(r.URL.Hostname())) {
		return nil, &Error{Op: "request", Class: Permanent, Err: fmt.Errorf("refusing %s://%s: https is required except for loopback hosts", r.URL.Scheme, r.URL.Host)}
	}
	r = r.Clone(r.Context())
	if t.userAgent != "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	// A connector that exchanges the credentials for a session token of its
	// own (BMC's AR-JWT) sets Authorization itself; static credentials fill
	// in only where it did not.
	if t.auth != nil && r.Header.Get("Authorization") == "" {
		t.auth(r)
	}
	return t.next.RoundTrip(r)
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	// Never follow a redirect to another host with our credentials.
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refusing redirect to another host (%s)", req.URL.Host)
	}
	return nil
}

// oauthSource returns a token source for the client_credentials or
// refresh_token grant. Tokens are cached in the keyring (when there is
// one) so a restart does not fetch a new token for every connection, and a
// rotated refresh token is kept.
func oauthSource(c Connection, o ClientOptions, tokenClient *http.Client, get func(string, string) (string, error)) (oauth2.TokenSource, error) {
	cr := c.Credentials
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient)
	secret := ""
	if cr.ClientSecret != "" {
		s, err := get("clientSecret", cr.ClientSecret)
		if err != nil {
			return nil, err
		}
		secret = s
	}
	// The cache key covers what the token was issued for, so new
	// credentials in the config (a re-authorised refresh token, another
	// client or scope) never reuse a stale token.
	sum := sha256.Sum256([]byte(strings.Join([]string{cr.ClientID, cr.TokenURL, cr.Grant, cr.RefreshToken, strings.Join(cr.Scopes, " ")}, "\x00")))
	cacheKey := "oauth2-token-" + c.Name + "-" + hex.EncodeToString(sum[:6])
	var cached *oauth2.Token
	if o.Keyring != nil {
		if b, err := o.Keyring.Get(cacheKey); err == nil {
			var t oauth2.Token
			// A token kept without an expiry (from before tokenLifetime)
			// would be reused for ever: fetch a new one instead.
			if json.Unmarshal(b, &t) == nil && !t.Expiry.IsZero() {
				cached = &t
			}
		}
	}
	var src oauth2.TokenSource
	switch cr.Grant {
	case "", "client_credentials":
		cc := clientcredentials.Config{ClientID: cr.ClientID, ClientSecret: secret, TokenURL: cr.TokenURL, Scopes: cr.Scopes}
		src = cc.TokenSource(ctx)
	case "refresh_token":
		rt, err := get("refreshToken", cr.RefreshToken)
		if err != nil {
			return nil, err
		}
		if cached != nil && cached.RefreshToken != "" {
			rt = cached.RefreshToken // the server may have rotated it
		}
		cfg := oauth2.Config{ClientID: cr.ClientID, ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: cr.TokenURL}, Scopes: cr.Scopes}
		src = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt})
	default:
		return nil, fmt.Errorf("connection %q: unknown oauth2 grant %q", c.Name, cr.Grant)
	}
	return oauth2.ReuseTokenSource(cached, &cachingSource{src: src, store: o.Keyring, key: cacheKey}), nil
}

// tokenLifetime is how long a token whose server gave no expiry is used
// before a new one is fetched: shorter than any common session timeout.
const tokenLifetime = 15 * time.Minute

// cachingSource stores every new token in the keyring.
type cachingSource struct {
	mu    sync.Mutex
	src   oauth2.TokenSource
	store SecretStore
	key   string
}

func (s *cachingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		var own *Error
		if errors.As(err, &own) { // the TLS policy refused the token request
			own.Op = "oauth2 token"
			return nil, own
		}
		if errors.As(err, &re) {
			// The token endpoint's body may echo credentials: keep only the
			// status and the OAuth error code.
			return nil, &Error{Op: "oauth2 token", Class: StatusClass(re.Response.StatusCode), Status: re.Response.StatusCode, Message: re.ErrorCode}
		}
		return nil, TransportError("oauth2 token", err)
	}
	if t.Expiry.IsZero() {
		// Some servers (Salesforce's client credentials flow) send no
		// expires_in; x/oauth2 would then reuse the token for ever, and the
		// keyring cache across restarts too.
		t.Expiry = time.Now().Add(tokenLifetime)
	}
	if s.store != nil {
		if b, err := json.Marshal(t); err == nil {
			_ = s.store.Set(s.key, b) // a cache: failing to store only costs a token fetch later
		}
	}
	return t, nil
}
