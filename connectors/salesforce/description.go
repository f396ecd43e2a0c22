package salesforce

import (
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
)

// maxDescription is Case.Description's length (a long text area).
const maxDescription = 32000

// describe builds the Case description: the user's text, then plain-text
// sections (the field is plain text; Lightning keeps the line breaks) an
// agent can read on the Case page, naming the reporter when no Contact
// matched the Web Email. It never exceeds maxDescription.
func describe(t *connectors.Ticket) string {
	sections := append(description.Findings(t, "(Full details in the attachment "+connectors.SystemInfoFile+".)"),
		description.Reported(t, description.Item{Label: "Category", Value: strings.TrimSpace(t.Category)},
			description.Item{Label: "Priority", Value: string(t.Priority)}))
	return clip(description.Plain(t.Description, description.Style{Rule: "---"}, sections...), maxDescription)
}
