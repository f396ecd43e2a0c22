package salesforce

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// Salesforce's token endpoint answers the client credentials grant without
// expires_in: an access token is a session that ends after the org's
// session timeout (15 minutes to 24 hours of inactivity) or when revoked.
// golang.org/x/oauth2 takes a token without an expiry for one that never
// expires, so the shared client would send a dead session forever (and
// keep it in the keyring cache across restarts). For client_credentials the
// connector therefore keeps its own session: it fetches a token through the
// connection's transport (TLS policy, User-Agent), and when the org answers
// 401 it fetches a new one and sends the request once more.

// sessionClient returns the client requests go through: d.HTTP, or for
// the client_credentials grant a client with a session that renews itself.
func sessionClient(c connectors.Connection, d connectors.Deps) *http.Client {
	cr := c.Credentials
	ot, ok := d.HTTP.Transport.(*oauth2.Transport)
	if cr.Type != "oauth2" || (cr.Grant != "" && cr.Grant != "client_credentials") || !ok || ot.Base == nil || d.Credential == nil {
		return d.HTTP
	}
	s := &session{base: ot.Base, credential: d.Credential,
		cfg:         clientcredentials.Config{ClientID: cr.ClientID, TokenURL: cr.TokenURL, Scopes: cr.Scopes, AuthStyle: oauth2.AuthStyleInParams},
		tokenClient: &http.Client{Transport: ot.Base, Timeout: d.HTTP.Timeout, CheckRedirect: d.HTTP.CheckRedirect}}
	hc := *d.HTTP
	hc.Transport = s
	return &hc
}

// session is an http.RoundTripper that authenticates with a cached
// client-credentials token and renews it on 401.
type session struct {
	base        http.RoundTripper
	credential  func(string) (string, error)
	cfg         clientcredentials.Config
	tokenClient *http.Client

	mu  sync.Mutex
	tok *oauth2.Token
}

func (s *session) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := s.token(r.Context())
	if err != nil {
		return nil, err
	}
	resp, err := s.send(r, tok, false)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The session ended. A 401 means the org did nothing, so the request
	// can be sent again with a new session, when its body can be replayed.
	s.invalidate(tok)
	if r.Body != nil && r.Body != http.NoBody && r.GetBody == nil {
		return resp, nil
	}
	fresh, err := s.token(r.Context())
	if err != nil || fresh == tok {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return s.send(r, fresh, true)
}

func (s *session) send(r *http.Request, tok string, replay bool) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	if replay && r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		r2.Body = body
	}
	r2.Header.Set("Authorization", "Bearer "+tok)
	return s.base.RoundTrip(r2)
}

// token returns the cached access token, fetching one when there is none
// (or it carries an expiry that has passed).
func (s *session) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.Valid() {
		return s.tok.AccessToken, nil
	}
	secret, err := s.credential("clientSecret")
	if err != nil {
		return "", &connectors.Error{Op: "oauth2 token", Class: connectors.Permanent, Err: err}
	}
	cfg := s.cfg
	cfg.ClientSecret = secret
	t, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.tokenClient))
	if err != nil {
		return "", tokenError(err)
	}
	s.tok = t
	return t.AccessToken, nil
}

func (s *session) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == tok {
		s.tok = nil
	}
}

// tokenError classifies a failed token request. Salesforce's token errors
// are fixed texts ("invalid_client: invalid client credentials", "invalid_grant:
// no client credentials user enabled") that never echo the request, so the
// description is kept: it is what tells a misconfigured app apart.
func tokenError(err error) error {
	var own *connectors.Error
	if errors.As(err, &own) {
		own.Op = "oauth2 token"
		return own
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		msg := re.ErrorCode
		if d := strings.TrimSpace(re.ErrorDescription); d != "" {
			msg += ": " + rest.Truncate(d, 200)
		}
		return &connectors.Error{Op: "oauth2 token", Class: connectors.StatusClass(re.Response.StatusCode), Status: re.Response.StatusCode, Message: msg}
	}
	return connectors.TransportError("oauth2 token", err)
}
