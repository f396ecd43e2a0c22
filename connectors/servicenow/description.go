package servicenow

import (
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
)

// describe builds the incident description: the user's text, then plain
// text sections (the field is plain text) an agent can read in the form.
// A caller no sys_user matched is named in the closing section.
func describe(t *connectors.Ticket) string {
	sections := append(description.Findings(t, "(Full details in the attachment "+connectors.SystemInfoFile+".)"), description.Reported(t))
	return description.Plain(t.Description, description.Style{Rule: "---"}, sections...)
}
