package webhooks_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

func jiraSigned(body []byte, id string) func(http.Header) {
	return func(h http.Header) {
		signJira(h, body, secret)
		if id != "" {
			h.Set("X-Atlassian-Webhook-Identifier", id)
		}
	}
}

// A delivery id seen within 24 h is answered 200 and not applied again;
// after 24 h it is new again.
func TestReplayedDeliveryID(t *testing.T) {
	r := newRig(t)
	body := readFixture(t, "jira/webhook-issue-updated-resolved.json")
	if rec := r.post("Jira", body, jiraSigned(body, "d-1")); rec.Code != http.StatusNoContent {
		t.Fatalf("first delivery: status %d, want 204", rec.Code)
	}
	r.clock = now.Add(23 * time.Hour)
	rec := r.post("Jira", body, jiraSigned(body, "d-1"))
	if rec.Code != http.StatusOK {
		t.Fatalf("replay: status %d, want 200", rec.Code)
	}
	if n := len(r.apply.calls()); n != 1 {
		t.Fatalf("Apply called %d times, want 1", n)
	}
	if r.stats.count(webhooks.ReasonReplay) != 1 || !strings.Contains(r.log.String(), "reason=replay") {
		t.Errorf("replay not counted or logged: %v\n%s", r.stats.rejected, r.log)
	}
	r.clock = now.Add(24 * time.Hour)
	if rec := r.post("Jira", body, jiraSigned(body, "d-1")); rec.Code != http.StatusNoContent {
		t.Errorf("after 24 h: status %d, want 204", rec.Code)
	}
}

// Without an id header, the signed bytes name the delivery: a sender's
// retry of the same body is a replay, another body is not.
func TestReplayWithoutDeliveryID(t *testing.T) {
	r := newRig(t)
	body := readFixture(t, "jira/webhook-issue-updated-resolved.json")
	other := readFixture(t, "jira/webhook-issue-updated-reopened.json")
	for _, step := range []struct {
		body []byte
		code int
	}{{body, http.StatusNoContent}, {body, http.StatusOK}, {other, http.StatusNoContent}} {
		if rec := r.post("Jira", step.body, jiraSigned(step.body, "")); rec.Code != step.code {
			t.Errorf("status %d, want %d", rec.Code, step.code)
		}
	}
}

// A delivery that Apply failed is answered 500 and its retry is applied,
// not taken for a replay.
func TestApplyFailureIsRetryable(t *testing.T) {
	r := newRig(t)
	body := readFixture(t, "jira/webhook-issue-updated-resolved.json")
	r.apply.err = errors.New("database is locked")
	if rec := r.post("Jira", body, jiraSigned(body, "d-2")); rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	r.apply.err = nil
	if rec := r.post("Jira", body, jiraSigned(body, "d-2")); rec.Code != http.StatusNoContent {
		t.Fatalf("retry: status %d, want 204", rec.Code)
	}
	if r.stats.accepted["Jira"] != 1 {
		t.Errorf("Accepted = %d, want 1", r.stats.accepted["Jira"])
	}
}

// A verified payload about an issue nobody delivered: 202, nothing changed.
func TestUnknownIssue(t *testing.T) {
	r := newRig(t)
	r.apply.known = map[string]bool{"OTHER-1": true}
	body := readFixture(t, "jira/webhook-issue-created.json")
	if rec := r.post("Jira", body, jiraSigned(body, "d-3")); rec.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202", rec.Code)
	}
	if r.stats.accepted["Jira"] != 1 || !r.stats.last.Equal(now) {
		t.Errorf("Accepted = %d at %v, want 1 at %v", r.stats.accepted["Jira"], r.stats.last, now)
	}
}

// Bodies over 1 MiB are refused with 413, whether Content-Length says so or
// not; exactly 1 MiB is read.
func TestBodyLimit(t *testing.T) {
	valid := readFixture(t, "jira/webhook-issue-updated-resolved.json")
	pad := func(n int) []byte { return append(bytes.Clone(valid), bytes.Repeat([]byte(" "), n-len(valid))...) }

	r := newRig(t)
	body := pad(webhooks.MaxBody)
	if rec := r.post("Jira", body, jiraSigned(body, "")); rec.Code != http.StatusNoContent {
		t.Errorf("1 MiB: status %d, want 204", rec.Code)
	}

	body = pad(webhooks.MaxBody + 1)
	if rec := r.post("Jira", body, jiraSigned(body, "")); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB + 1: status %d, want 413", rec.Code)
	}
	// chunked: no Content-Length to refuse early
	req := httptest.NewRequest(http.MethodPost, webhooks.URLPath("Jira"), io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	signJira(req.Header, body, secret)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 1 MiB + 1: status %d, want 413", rec.Code)
	}
	if r.stats.count(webhooks.ReasonTooLarge) != 2 || len(r.apply.calls()) != 1 {
		t.Errorf("Rejected(too_large) = %d, Apply calls %d; want 2 and 1", r.stats.count(webhooks.ReasonTooLarge), len(r.apply.calls()))
	}
}

// A correctly signed body that is not the vendor's JSON is refused with
// 400 and never applied.
func TestMalformedJSON(t *testing.T) {
	bodies := []string{``, `not json`, `{"issue": `, `[1,2]`, `{"issue": {"key": 12}}`, `{"issue": {}}`,
		`{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "A-1", "fields": {"status": "Done"}}}`}
	for _, b := range bodies {
		r := newRig(t)
		body := []byte(b)
		if rec := r.post("Jira", body, jiraSigned(body, "")); rec.Code != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", b, rec.Code)
		}
		if len(r.apply.calls()) != 0 || r.stats.count(webhooks.ReasonMalformed) != 1 {
			t.Errorf("%q: Apply calls %d, Rejected %v", b, len(r.apply.calls()), r.stats.rejected)
		}
	}
	for kind, conn := range map[string]string{"zendesk": "Zendesk", "servicenow": "ServiceNow"} {
		r := newRig(t)
		body := []byte(`{"detail": "`)
		rec := r.post(conn, body, func(h http.Header) {
			signZendesk(h, body, secret, now)
			signServiceNowBase64(h, body, secret)
		})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", kind, rec.Code)
		}
	}
}

func TestRouting(t *testing.T) {
	body := readFixture(t, "jira/webhook-issue-updated-resolved.json")
	tests := []struct {
		name, method, path string
		code               int
		reason             webhooks.Reason
	}{
		{"unknown connection", http.MethodPost, "/webhooks/Nope", http.StatusNotFound, webhooks.ReasonUnknownConnection},
		{"no name", http.MethodPost, "/webhooks/", http.StatusNotFound, webhooks.ReasonUnknownConnection},
		{"sub path", http.MethodPost, "/webhooks/Jira/x", http.StatusNotFound, webhooks.ReasonUnknownConnection},
		{"no webhookSecret", http.MethodPost, webhooks.URLPath("No secret"), http.StatusNotFound, webhooks.ReasonUnknownConnection},
		{"type without webhooks", http.MethodPost, webhooks.URLPath("Freshservice"), http.StatusNotFound, webhooks.ReasonUnknownConnection},
		{"GET", http.MethodGet, "/webhooks/Jira", http.StatusMethodNotAllowed, webhooks.ReasonMethod},
		{"PUT", http.MethodPut, "/webhooks/Jira", http.StatusMethodNotAllowed, webhooks.ReasonMethod},
		{"escaped name", http.MethodPost, "/webhooks/JSM%20desk", http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			req := httptest.NewRequest(tt.method, tt.path, bytes.NewReader(body))
			signJira(req.Header, body, secret)
			rec := httptest.NewRecorder()
			r.h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d", rec.Code, tt.code)
			}
			if tt.reason != "" && (r.stats.count(tt.reason) != 1 || len(r.apply.calls()) != 0) {
				t.Errorf("Rejected %v, Apply calls %d", r.stats.rejected, len(r.apply.calls()))
			}
			if tt.code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", rec.Header().Get("Allow"))
			}
		})
	}
}

// No log line holds a body, a signature or the secret, whatever the outcome.
func TestLogsHoldNoBody(t *testing.T) {
	const marker = "PERSONAL-DATA-MARKER"
	r := newRig(t)
	good := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"A-1","fields":{"summary":"` + marker + `"}},` +
		`"comment":{"id":"9","body":"` + marker + `"}}`)
	bad := []byte(`{"issue": "` + marker)
	r.post("Jira", good, jiraSigned(good, "x-1"))
	r.post("Jira", good, jiraSigned(good, "x-1")) // replay
	r.post("Jira", bad, jiraSigned(bad, ""))      // malformed
	r.post("Jira", good, func(h http.Header) { signJira(h, good, []byte("other")) })
	r.apply.err = errors.New("boom")
	r.post("Jira", good, jiraSigned(good, "x-2"))
	log := r.log.String()
	for _, banned := range []string{marker, string(secret), "sha256="} {
		if strings.Contains(log, banned) {
			t.Errorf("the log holds %q:\n%s", banned, log)
		}
	}
	if n := strings.Count(log, "webhook rejected"); n != 3 {
		t.Errorf("%d rejection lines, want 3:\n%s", n, log)
	}
}
