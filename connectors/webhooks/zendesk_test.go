package webhooks_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

// The signed timestamp must be within 5 minutes of the receiver's clock,
// either way.
func TestZendeskTimestampWindow(t *testing.T) {
	body := readFixture(t, "zendesk/ticket.status_changed.json")
	tests := []struct {
		name   string
		sign   func(h http.Header)
		code   int
		reason webhooks.Reason
	}{
		{"now", func(h http.Header) { signZendesk(h, body, secret, now) }, http.StatusNoContent, ""},
		{"4m59s ago", func(h http.Header) { signZendesk(h, body, secret, now.Add(-4*time.Minute-59*time.Second)) }, http.StatusNoContent, ""},
		{"4m59s ahead", func(h http.Header) { signZendesk(h, body, secret, now.Add(4*time.Minute+59*time.Second)) }, http.StatusNoContent, ""},
		{"5m01s ago", func(h http.Header) { signZendesk(h, body, secret, now.Add(-5*time.Minute-time.Second)) }, http.StatusUnauthorized, webhooks.ReasonStale},
		{"5m01s ahead", func(h http.Header) { signZendesk(h, body, secret, now.Add(5*time.Minute+time.Second)) }, http.StatusUnauthorized, webhooks.ReasonStale},
		{"a day ago", func(h http.Header) { signZendesk(h, body, secret, now.Add(-24*time.Hour)) }, http.StatusUnauthorized, webhooks.ReasonStale},
		{"timestamp not RFC 3339", func(h http.Header) {
			ts := now.Format(time.RFC1123)
			h.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
			h.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(hmacSHA256(secret, []byte(ts), body)))
		}, http.StatusUnauthorized, webhooks.ReasonStale},
		{"timestamp moved after signing", func(h http.Header) {
			signZendesk(h, body, secret, now.Add(-time.Hour))
			h.Set("X-Zendesk-Webhook-Signature-Timestamp", now.Format(time.RFC3339))
		}, http.StatusUnauthorized, webhooks.ReasonBadSignature},
		{"body only signed", func(h http.Header) {
			h.Set("X-Zendesk-Webhook-Signature-Timestamp", now.Format(time.RFC3339))
			h.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(hmacSHA256(secret, body)))
		}, http.StatusUnauthorized, webhooks.ReasonBadSignature},
		{"other secret", func(h http.Header) { signZendesk(h, body, []byte("other"), now) }, http.StatusUnauthorized, webhooks.ReasonBadSignature},
		{"no timestamp", func(h http.Header) {
			signZendesk(h, body, secret, now)
			h.Del("X-Zendesk-Webhook-Signature-Timestamp")
		}, http.StatusUnauthorized, webhooks.ReasonMissingSignature},
		{"no signature", func(h http.Header) {
			signZendesk(h, body, secret, now)
			h.Del("X-Zendesk-Webhook-Signature")
		}, http.StatusUnauthorized, webhooks.ReasonMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			rec := r.post("Zendesk", body, tt.sign)
			if rec.Code != tt.code {
				t.Fatalf("status = %d, want %d; log:\n%s", rec.Code, tt.code, r.log)
			}
			if tt.reason != "" {
				if n := len(r.apply.calls()); n != 0 {
					t.Errorf("Apply called %d times, want 0", n)
				}
				if r.stats.count(tt.reason) != 1 {
					t.Errorf("Rejected(%s) not counted: %v", tt.reason, r.stats.rejected)
				}
			}
		})
	}
}

func TestParseZendesk(t *testing.T) {
	tests := []struct {
		file string
		want webhooks.Event
	}{
		{"ticket.status_changed.json", webhooks.Event{
			Type: "zen:event-type:ticket.status_changed", Action: webhooks.ActionUpdated,
			RemoteID: "5158", RemoteKey: "5158", ExternalID: "01JEXAMPLEKEY", Status: "solved",
			UpdatedAt: time.Date(2026, 12, 6, 15, 2, 11, 0, time.UTC),
		}},
		{"ticket.comment_added.json", webhooks.Event{
			Type: "zen:event-type:ticket.comment_added", Action: webhooks.ActionComment,
			RemoteID: "5158", RemoteKey: "5158", ExternalID: "01JEXAMPLEKEY", Status: "pending",
			UpdatedAt: time.Date(2026, 12, 6, 14, 25, 30, 0, time.UTC),
			Comment: &webhooks.Comment{ID: "9876543210", Author: "Support Agent", Public: true,
				Body:      "Please restart the VPN client and tell us if it helps.",
				CreatedAt: time.Date(2026, 12, 6, 14, 25, 30, 123456789, time.UTC)},
		}},
		{"trigger-template.json", webhooks.Event{
			Type: "trigger", Action: webhooks.ActionUpdated,
			RemoteID: "5158", RemoteKey: "5158", ExternalID: "01JEXAMPLEKEY", Status: "solved",
			Assignee: "Support Agent", AssigneeSet: true,
			UpdatedAt: time.Date(2026, 12, 6, 15, 2, 11, 0, time.UTC),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := webhooks.Parse(webhooks.KindZendesk, readFixture(t, "zendesk/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Kind = webhooks.KindZendesk
			assertEvent(t, got, tt.want)
		})
	}
}

// The README's template, with placeholders filled the way Zendesk fills
// them, parses; an unassigned ticket renders an empty assignee.
func TestZendeskTriggerTemplate(t *testing.T) {
	body := strings.NewReplacer(
		"{{ticket.id}}", "77", "{{ticket.external_id}}", "", "{{ticket.status}}", "Pending",
		"{{ticket.assignee.name}}", "", "{{ticket.updated_at_with_timestamp}}", "2026-12-06T15:02:11Z",
	).Replace(webhooks.ZendeskTriggerTemplate)
	ev, err := webhooks.Parse(webhooks.KindZendesk, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if ev.RemoteKey != "77" || ev.Status != "pending" || !ev.AssigneeSet || ev.Assignee != "" || ev.UpdatedAt.IsZero() {
		t.Errorf("event = %+v", ev)
	}
}

// A verified event about something other than a ticket is answered 202
// and changes nothing.
func TestZendeskNonTicketEvent(t *testing.T) {
	r := newRig(t)
	body := readFixture(t, "zendesk/event-user.active_changed.docs-example.json")
	rec := r.post("Zendesk", body, func(h http.Header) { signZendesk(h, body, secret, now) })
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202", rec.Code)
	}
	if n := len(r.apply.calls()); n != 0 {
		t.Errorf("Apply called %d times, want 0", n)
	}
}

// Zendesk's invocation id is the delivery id; without it, the signed
// timestamp and body are.
func TestZendeskDeliveryID(t *testing.T) {
	body := readFixture(t, "zendesk/ticket.status_changed.json")
	h := http.Header{}
	signZendesk(h, body, secret, now)
	id, err := webhooks.Verify(webhooks.KindZendesk, h, body, secret, now)
	if err != nil || !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("id, err = %q, %v; want a sha256: id", id, err)
	}
	h.Set("X-Zendesk-Webhook-Invocation-Id", "inv-1")
	if id, _ := webhooks.Verify(webhooks.KindZendesk, h, body, secret, now); id != "inv-1" {
		t.Errorf("id = %q, want inv-1", id)
	}
}
