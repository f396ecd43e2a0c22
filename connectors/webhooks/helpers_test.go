package webhooks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

var (
	secret = []byte("s3cret-webhook-key")
	now    = time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
)

func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func signJira(h http.Header, body []byte, key []byte) {
	h.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(hmacSHA256(key, body)))
}

func signZendesk(h http.Header, body []byte, key []byte, at time.Time) {
	ts := at.UTC().Format(time.RFC3339)
	h.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	h.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(hmacSHA256(key, []byte(ts), body)))
}

func signServiceNowBase64(h http.Header, body []byte, key []byte) {
	h.Set("X-ServiceNow-Signature", base64.StdEncoding.EncodeToString(hmacSHA256(key, body)))
}

// endpoints is a fixed Endpoints.
type endpoints map[string]webhooks.Endpoint

func (e endpoints) Lookup(name string) (webhooks.Endpoint, bool) {
	ep, ok := e[name]
	return ep, ok
}

// applier records events; tickets it knows by RemoteKey.
type applier struct {
	mu     sync.Mutex
	known  map[string]bool
	err    error
	events []webhooks.Event
}

func (a *applier) Apply(_ context.Context, conn string, ev webhooks.Event) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, ev)
	if a.err != nil {
		return false, a.err
	}
	return a.known == nil || a.known[ev.RemoteKey], nil
}

func (a *applier) calls() []webhooks.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]webhooks.Event(nil), a.events...)
}

type stats struct {
	mu       sync.Mutex
	accepted map[string]int
	rejected map[webhooks.Reason]int
	last     time.Time
}

func (s *stats) Accepted(conn string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accepted == nil {
		s.accepted = map[string]int{}
	}
	s.accepted[conn]++
	s.last = at
}

func (s *stats) Rejected(_ string, r webhooks.Reason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejected == nil {
		s.rejected = map[webhooks.Reason]int{}
	}
	s.rejected[r]++
}

func (s *stats) count(r webhooks.Reason) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[r]
}

// rig is a Handler with fakes around it and its log in a buffer.
type rig struct {
	h     *webhooks.Handler
	apply *applier
	stats *stats
	log   *bytes.Buffer
	clock time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{apply: &applier{}, stats: &stats{}, log: &bytes.Buffer{}, clock: now}
	r.h = webhooks.New(webhooks.Options{
		Endpoints: endpoints{
			"Jira":         {Kind: webhooks.KindJira, Secret: secret},
			"JSM desk":     {Kind: webhooks.KindJSM, Secret: secret},
			"Zendesk":      {Kind: webhooks.KindZendesk, Secret: secret},
			"ServiceNow":   {Kind: webhooks.KindServiceNow, Secret: secret},
			"No secret":    {Kind: webhooks.KindJira},
			"Freshservice": {Kind: "freshservice", Secret: secret},
		},
		Applier: r.apply,
		Stats:   r.stats,
		Log:     slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:     func() time.Time { return r.clock },
	})
	return r
}

// post sends body to the connection's URL with the headers sign sets.
func (r *rig) post(conn string, body []byte, sign func(http.Header)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, webhooks.URLPath(conn), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sign != nil {
		sign(req.Header)
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return rec
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtures(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures %s: %v", pattern, err)
	}
	return files
}
