package bmchelix

import (
	"strings"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
)

// describe builds Detailed_Decription: plain text, as the Smart IT and
// Mid Tier incident forms show it. The summary goes first when it did not
// fit Description's 100 characters. The incident's customer is the
// integration account, so the closing section names the reporter.
func describe(t *connectors.Ticket) string {
	var head string
	if s := oneLine(t.Summary); utf8.RuneCountInString(s) > maxSummary {
		head = "Summary: " + s + "\n\n"
	}
	sections := append(description.Findings(t, "(Full details in the work info attachment "+connectors.SystemInfoFile+".)"),
		description.Reported(t, description.Item{Label: "Category", Value: strings.TrimSpace(t.Category)},
			description.Item{Label: "Priority", Value: string(t.Priority)}))
	return head + description.Plain(t.Description, description.Style{Rule: "==="}, sections...)
}
