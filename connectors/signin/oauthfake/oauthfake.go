// Package oauthfake is a fake OAuth 2.0 authorization server for tests of
// the sign-in: the authorization-code grant with PKCE (S256), single-use
// codes, rotating refresh tokens that revoke their whole grant when an old
// one is reused (as Atlassian's do), Atlassian's accessible-resources and
// a protected "who am I" for Jira and ServiceNow. Its authorization page
// consents at once: it redirects straight back with a code.
package oauthfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// The client the fake knows.
const (
	ClientID     = "ticketray-test-client"
	ClientSecret = "s3cret-client"
	CloudID      = "11111111-2222-3333-4444-555555555555"
	SiteURL      = "https://acme.atlassian.net"
	UserName     = "Ada Lovelace"
	UserEmail    = "ada@example.com"
)

// Server is a running fake.
type Server struct {
	srv *httptest.Server
	// ExpiresIn is the access tokens' lifetime in seconds (default 3600);
	// below 10 every use refreshes (x/oauth2's and Ticketray's margin).
	ExpiresIn int
	// RequireSecret refuses token requests without the client secret
	// (Atlassian); RequirePKCE refuses authorizations without a challenge.
	RequireSecret, RequirePKCE bool
	// OIDC adds an id_token naming the user to code exchanges.
	OIDC bool

	mu        sync.Mutex
	codes     map[string]*code
	access    map[string]bool
	refresh   map[string]*family // every refresh token ever issued
	exchanges int
	refreshes []string // refresh tokens presented, in order
	reused    int
}

type code struct {
	redirect, challenge, method string
	used                        bool
}

type family struct {
	current string
	revoked bool
}

// Start starts a fake on a loopback port.
func Start() *Server {
	s := &Server{ExpiresIn: 3600, codes: map[string]*code{}, access: map[string]bool{}, refresh: map[string]*family{}}
	mux := http.NewServeMux()
	for _, p := range []string{"/authorize", "/oauth_auth.do"} {
		mux.HandleFunc(p, s.authorize)
	}
	for _, p := range []string{"/oauth/token", "/oauth_token.do"} {
		mux.HandleFunc(p, s.token)
	}
	mux.HandleFunc("/oauth/token/accessible-resources", s.protected(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []map[string]any{
			{"id": "99999999-0000-0000-0000-000000000000", "url": "https://other.atlassian.net", "name": "other", "scopes": []string{"read:jira-work"}},
			{"id": CloudID, "url": SiteURL, "name": "acme", "scopes": []string{"read:jira-work", "write:jira-work"}},
		})
	}))
	mux.HandleFunc("/ex/jira/"+CloudID+"/rest/api/3/myself", s.protected(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"accountId": "5b10a2844c20165700ede21g", "displayName": UserName, "emailAddress": UserEmail})
	}))
	mux.HandleFunc("/api/now/ui/user/current_user", s.protected(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"result": map[string]string{"user_name": "ada.lovelace", "user_display_name": UserName, "user_sys_id": "6816f79cc0a8016401c5a33be04be441"}})
	}))
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the fake's base URL (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Exchanges counts authorization codes exchanged successfully.
func (s *Server) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// Refreshes lists the refresh tokens presented, in order.
func (s *Server) Refreshes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refreshes...)
}

// Reused counts refresh tokens presented after they had been rotated away
// (each revoked its grant).
func (s *Server) Reused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reused
}

// Current is a grant's live refresh token: the one issued last.
func (s *Server) Current() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	seen := map[*family]bool{}
	for _, f := range s.refresh {
		if !seen[f] && !f.revoked {
			seen[f] = true
			out = append(out, f.current)
		}
	}
	return out
}

// RevokeAll revokes every grant, as a user removing the app's access (or
// an admin) would: refresh tokens then get invalid_grant.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.refresh {
		f.revoked = true
	}
	s.access = map[string]bool{}
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" {
		http.Error(w, "redirect_uri must be http://127.0.0.1:PORT/callback", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != ClientID || q.Get("response_type") != "code" {
		http.Error(w, "unknown client or response type", http.StatusBadRequest)
		return
	}
	if s.RequirePKCE && (q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256") {
		http.Error(w, "PKCE S256 is required", http.StatusBadRequest)
		return
	}
	c := randomToken("code")
	s.mu.Lock()
	s.codes[c] = &code{redirect: redirect.String(), challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method")}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("code", c)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != ClientID || (secret != "" && secret != ClientSecret) || (s.RequireSecret && secret == "") {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := s.codes[r.PostForm.Get("code")]
		if c == nil || c.used || c.redirect != r.PostForm.Get("redirect_uri") {
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		c.used = true // single use, even when the verifier is wrong
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if c.method != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				oauthError(w, http.StatusBadRequest, "invalid_grant")
				return
			}
		}
		s.exchanges++
		s.issue(w, &family{}, s.OIDC)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		s.refreshes = append(s.refreshes, rt)
		f := s.refresh[rt]
		switch {
		case f == nil || f.revoked:
			oauthError(w, http.StatusForbidden, "invalid_grant")
		case f.current != rt:
			// An old refresh token: the whole grant is revoked.
			s.reused++
			f.revoked = true
			oauthError(w, http.StatusForbidden, "invalid_grant")
		default:
			s.issue(w, f, false)
		}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// issue answers with a new access token and a new refresh token of grant
// f (the rotation); s.mu is held.
func (s *Server) issue(w http.ResponseWriter, f *family, idToken bool) {
	at, rt := randomToken("at"), randomToken("rt")
	s.access[at] = true
	f.current = rt
	s.refresh[rt] = f
	body := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": s.ExpiresIn,
		"refresh_token": rt, "refresh_token_expires_in": 30 * 24 * 3600, "scope": "read:jira-work write:jira-work offline_access"}
	if idToken {
		claims, _ := json.Marshal(map[string]string{"sub": "user-1", "name": UserName, "email": UserEmail})
		enc := base64.RawURLEncoding.EncodeToString
		body["id_token"] = enc([]byte(`{"alg":"none"}`)) + "." + enc(claims) + "." + enc([]byte("unsigned"))
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) protected(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		live := ok && s.access[tok]
		s.mu.Unlock()
		if !live {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		h(w, r)
	}
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": "refused by the fake"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomToken(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}
