package freshservice

import (
	"html"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
)

// describe builds the ticket description. Freshservice's description is
// HTML (the agent UI renders it; description_text is derived from it), so
// the user's text is escaped and kept in paragraphs, and the system
// information and skill results are headings with definition-style lists
// an agent can read at a glance. skipped names files that did not fit
// under Freshservice's attachment limit; notice, when set, is a line for
// the agent about how the ticket was delivered. The requester may be a
// fallback address, so the last section names the reporter.
func describe(t *connectors.Ticket, skipped []string, notice string) string {
	var b strings.Builder
	b.WriteString(description.Paragraphs(t.Description))
	b.WriteString(description.HTML(description.Findings(t, "Full details are attached as "+connectors.SystemInfoFile+".")...))
	if len(skipped) > 0 {
		b.WriteString("<p><em>Not attached (over Freshservice's 15 MB limit for a ticket's attachments): " +
			html.EscapeString(strings.Join(skipped, ", ")) + "</em></p>\n")
	}
	if notice != "" {
		b.WriteString("<p><em>" + html.EscapeString(notice) + "</em></p>\n")
	}
	b.WriteString(description.HTML(description.Reported(t)))
	return strings.TrimSuffix(b.String(), "\n")
}
