package webhooks_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

// The README's "Status webhooks" section gives admins the Zendesk trigger
// template and the ServiceNow Business Rule: they must match the code.
func TestREADMEStatusWebhooks(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Status webhooks\n")
	if !ok {
		t.Fatal(`README.md has no "## Status webhooks" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, tmpl, _ := strings.Cut(section, "```json\n")
	tmpl, _, _ = strings.Cut(tmpl, "\n```")
	if tmpl != webhooks.ZendeskTriggerTemplate {
		t.Errorf("the README's Zendesk template:\n%s\nwant webhooks.ZendeskTriggerTemplate:\n%s", tmpl, webhooks.ZendeskTriggerTemplate)
	}
	for _, want := range []string{webhooks.HeaderServiceNowSignature, webhooks.HeaderTicketrayDelivery,
		"webhookSecret", "/webhooks/", "X-Hub-Signature", "'HmacSHA256'"} {
		if !strings.Contains(section, want) {
			t.Errorf("the section does not mention %s", want)
		}
	}
}
