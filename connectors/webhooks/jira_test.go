package webhooks_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

// jiraWant reads what a delivery says through a generic map, not the
// parser's structs: key, status, statusCategory, assignee (when the
// payload has the field).
func jiraWant(t *testing.T, body []byte) (key, status, category, assignee string, assigneeSet bool) {
	t.Helper()
	var p struct {
		Issue struct {
			Key    string         `json:"key"`
			Fields map[string]any `json:"fields"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	f := p.Issue.Fields
	if st, ok := f["status"].(map[string]any); ok {
		status, _ = st["name"].(string)
		if c, ok := st["statusCategory"].(map[string]any); ok {
			category, _ = c["key"].(string)
		}
	}
	a, assigneeSet := f["assignee"]
	if u, ok := a.(map[string]any); ok {
		assignee, _ = u["displayName"].(string)
	}
	return p.Issue.Key, status, category, assignee, assigneeSet
}

// Every shared Jira delivery, signed, is accepted and parsed.
func TestJiraSharedDeliveriesSigned(t *testing.T) {
	for _, file := range fixtures(t, "jira/*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := newRig(t)
			body := readFixture(t, filepath.Join("jira", filepath.Base(file)))
			rec := r.post("Jira", body, func(h http.Header) {
				signJira(h, body, secret)
				h.Set("X-Atlassian-Webhook-Identifier", "id-"+filepath.Base(file))
			})
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d, want 204; log:\n%s", rec.Code, r.log)
			}
			calls := r.apply.calls()
			if len(calls) != 1 {
				t.Fatalf("Apply called %d times, want 1", len(calls))
			}
			ev := calls[0]
			key, status, category, assignee, assigneeSet := jiraWant(t, body)
			if ev.RemoteKey != key || ev.Status != status || ev.StatusCategory != category {
				t.Errorf("key, status, category = %q, %q, %q; want %q, %q, %q", ev.RemoteKey, ev.Status, ev.StatusCategory, key, status, category)
			}
			if ev.Assignee != assignee || ev.AssigneeSet != assigneeSet {
				t.Errorf("assignee = %q (set %v), want %q (set %v)", ev.Assignee, ev.AssigneeSet, assignee, assigneeSet)
			}
			if ev.RemoteID == "" || ev.UpdatedAt.IsZero() || ev.Action == "" {
				t.Errorf("id %q, updatedAt %v, action %q: want all set", ev.RemoteID, ev.UpdatedAt, ev.Action)
			}
			if ev.DeliveryID != "id-"+filepath.Base(file) || ev.Connection != "Jira" || ev.Kind != webhooks.KindJira {
				t.Errorf("delivery, connection, kind = %q, %q, %q", ev.DeliveryID, ev.Connection, ev.Kind)
			}
			if r.stats.accepted["Jira"] != 1 {
				t.Errorf("Accepted = %d, want 1", r.stats.accepted["Jira"])
			}
		})
	}
}

// Every shared Jira delivery, mis-signed in any way, is refused with 401
// and never reaches Apply.
func TestJiraSharedDeliveriesMisSigned(t *testing.T) {
	wrong := []struct {
		name   string
		reason webhooks.Reason
		sign   func(h http.Header, body []byte)
	}{
		{"other secret", webhooks.ReasonBadSignature, func(h http.Header, b []byte) { signJira(h, b, []byte("other")) }},
		{"body changed", webhooks.ReasonBadSignature, func(h http.Header, b []byte) { signJira(h, append([]byte(" "), b...), secret) }},
		{"sha1 method", webhooks.ReasonBadSignature, func(h http.Header, b []byte) {
			h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(hmacSHA256(secret, b)))
		}},
		{"no prefix", webhooks.ReasonBadSignature, func(h http.Header, b []byte) {
			h.Set("X-Hub-Signature", hex.EncodeToString(hmacSHA256(secret, b)))
		}},
		{"truncated", webhooks.ReasonBadSignature, func(h http.Header, b []byte) {
			h.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(hmacSHA256(secret, b))[:40])
		}},
		{"X-Jira-Signature wrong", webhooks.ReasonBadSignature, func(h http.Header, b []byte) {
			h.Set("X-Jira-Signature", hex.EncodeToString(hmacSHA256([]byte("other"), b)))
		}},
		{"missing", webhooks.ReasonMissingSignature, func(http.Header, []byte) {}},
	}
	for _, file := range fixtures(t, "jira/*.json") {
		body := readFixture(t, filepath.Join("jira", filepath.Base(file)))
		for _, w := range wrong {
			t.Run(filepath.Base(file)+"/"+w.name, func(t *testing.T) {
				r := newRig(t)
				rec := r.post("Jira", body, func(h http.Header) { w.sign(h, body) })
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("status = %d, want 401", rec.Code)
				}
				if n := len(r.apply.calls()); n != 0 {
					t.Fatalf("Apply called %d times, want 0", n)
				}
				if got := r.stats.count(w.reason); got != 1 {
					t.Errorf("Rejected(%s) = %d, want 1", w.reason, got)
				}
				if !strings.Contains(r.log.String(), "reason="+string(w.reason)) {
					t.Errorf("no log line for %s:\n%s", w.reason, r.log)
				}
			})
		}
	}
}

func TestJiraSignatureHeaders(t *testing.T) {
	body := readFixture(t, "jira/webhook-issue-updated-resolved.json")
	sig := hex.EncodeToString(hmacSHA256(secret, body))
	for _, set := range []func(http.Header){
		func(h http.Header) { h.Set("X-Hub-Signature", "sha256="+sig) },
		func(h http.Header) { h.Set("X-Hub-Signature", "SHA256="+strings.ToUpper(sig)) },
		func(h http.Header) { h.Set("X-Jira-Signature", sig) },
	} {
		r := newRig(t)
		if rec := r.post("JSM desk", body, set); rec.Code != http.StatusNoContent {
			t.Errorf("status = %d, want 204", rec.Code)
		}
	}
}

func TestParseJira(t *testing.T) {
	tests := []struct {
		file string
		want webhooks.Event
	}{
		{"webhook-issue-updated-resolved.json", webhooks.Event{
			Type: "jira:issue_updated", Action: webhooks.ActionUpdated, RemoteID: "10040", RemoteKey: "TES-41",
			Status: "Done", StatusCategory: "done", AssigneeSet: true,
			UpdatedAt: time.Date(2019, 2, 15, 19, 15, 40, 477e6, time.FixedZone("", -8*3600)),
		}},
		{"webhook-issue-updated-started-working.json", webhooks.Event{
			Type: "jira:issue_updated", Action: webhooks.ActionUpdated, RemoteID: "10040", RemoteKey: "TES-41",
			Status: "In Progress", StatusCategory: "indeterminate", AssigneeSet: true,
			UpdatedAt: time.Date(2019, 2, 15, 19, 14, 22, 2e6, time.FixedZone("", -8*3600)),
		}},
		{"webhook-issue-updated-assigned.json", webhooks.Event{
			Type: "jira:issue_updated", Action: webhooks.ActionUpdated, RemoteID: "10040", RemoteKey: "TES-41",
			Status: "To Do", StatusCategory: "new", Assignee: "Test User", AssigneeSet: true,
			UpdatedAt: time.Date(2019, 2, 15, 19, 18, 1, 707e6, time.FixedZone("", -8*3600)),
		}},
		{"webhook-issue-deleted.json", webhooks.Event{
			Type: "jira:issue_deleted", Action: webhooks.ActionDeleted, RemoteID: "10303", RemoteKey: "IDT-19",
			Status: "To Do", StatusCategory: "new", AssigneeSet: true,
			UpdatedAt: time.Date(2019, 7, 3, 11, 4, 43, 20e6, time.FixedZone("", -7*3600)),
		}},
		// a Cloud comment event: no issue_event_type_name, no fields.updated
		{"webhook-cloud-comment-deleted.json", webhooks.Event{
			Type: "comment_deleted", Action: webhooks.ActionCommentDeleted, RemoteID: "10357", RemoteKey: "KT-7",
			Status: "To Do", StatusCategory: "new", Assignee: "Test User", AssigneeSet: true,
			UpdatedAt: time.Date(2019, 10, 7, 22, 42, 1, 801e6, time.FixedZone("", -7*3600)),
			Comment: &webhooks.Comment{ID: "10757", Author: "Test User", Body: "wd\n\ndwd", Public: true,
				CreatedAt: time.Date(2019, 10, 7, 22, 42, 1, 801e6, time.FixedZone("", -7*3600))},
		}},
		// Server: a comment riding on jira:issue_updated / issue_commented
		{"webhook-issue-comment-created-indentation.json", webhooks.Event{
			Type: "jira:issue_updated", Action: webhooks.ActionComment, RemoteID: "10101", RemoteKey: "TEST-4",
			Status: "To Do", StatusCategory: "new", AssigneeSet: true,
			UpdatedAt: time.Date(2020, 6, 27, 0, 43, 53, 99e6, time.UTC),
			Comment: &webhooks.Comment{ID: "10503", Author: "User", Public: true,
				Body:      "[~Test] creating a test comment\r\n\r\na second line for the test comment",
				CreatedAt: time.Date(2020, 6, 27, 0, 44, 57, 13e6, time.UTC)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := webhooks.Parse(webhooks.KindJira, readFixture(t, "jira/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Kind = webhooks.KindJira
			assertEvent(t, got, tt.want)
		})
	}
}

func assertEvent(t *testing.T, got, want webhooks.Event) {
	t.Helper()
	gc, wc := got.Comment, want.Comment
	got.Comment, want.Comment = nil, nil
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, want.UpdatedAt)
	}
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("event =\n%+v\nwant\n%+v", got, want)
	}
	switch {
	case (gc == nil) != (wc == nil):
		t.Errorf("comment = %+v, want %+v", gc, wc)
	case gc != nil:
		if !gc.CreatedAt.Equal(wc.CreatedAt) {
			t.Errorf("comment CreatedAt = %v, want %v", gc.CreatedAt, wc.CreatedAt)
		}
		gc.CreatedAt, wc.CreatedAt = time.Time{}, time.Time{}
		if *gc != *wc {
			t.Errorf("comment = %+v, want %+v", *gc, *wc)
		}
	}
}
