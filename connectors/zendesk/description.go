package zendesk

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
	"github.com/ticketray/ticketray/diagnostics"
)

// maxBody keeps the first comment well inside Zendesk's comment size
// limit (64 KB), counted in characters.
const maxBody = 60000

// style: items are "- " lines, which read the same whether or not the
// account renders Markdown in comments; nothing is indented four spaces
// (a Markdown code block).
var style = description.Style{Rule: "---", Bullet: "- ", OneLine: true}

// describe builds the ticket's first comment: the user's text, then
// plain-text sections an agent reads in the ticket view. The requester
// may be the integration's agent, so the last section names the reporter.
func describe(t *connectors.Ticket) string {
	var sections []description.Section
	if si := t.SystemInfo; si != nil {
		sections = append(sections, systemSection(si))
	}
	if len(t.SkillResults) > 0 {
		sections = append(sections, description.Skills(t))
	}
	sections = append(sections, description.Section{Title: "Reported with Ticketray", Items: items(
		"Reported by", description.Reporter(t.User),
		"Reported at", description.ReportedAt(t.CreatedAt),
		"Priority", string(t.Priority),
		"Category", t.Category,
		"App version", t.Context.AppVersion,
		"Session ID", t.Context.SessionID,
		"Correlation ID", t.Context.CorrelationID)})
	desc := strings.TrimSpace(t.Description)
	return fit(description.Plain(desc, style, sections...), desc)
}

// systemSection lists the system information as items, the note and the
// attachment included, so every line reads as a Markdown list item.
func systemSection(si *diagnostics.SystemInfo) description.Section {
	cpu := si.CPUModel
	if si.CPUCores > 0 {
		cpu = strings.TrimSpace(fmt.Sprintf("%s (%d cores)", cpu, si.CPUCores))
	}
	note := ""
	if si.Partial {
		note = "some probes failed; this information is incomplete"
	}
	return description.Section{Title: "System information", Items: items(
		"OS", description.OS(si), "Architecture", si.Architecture, "Device", si.DeviceName, "Device ID", si.DeviceID,
		"CPU", cpu, "Memory", description.Memory(si), "Uptime", description.Uptime(si), "Time zone", si.Timezone,
		"Note", note, "Details", "attached as "+connectors.SystemInfoFile)}
}

// items pairs labels with trimmed values.
func items(pairs ...string) []description.Item {
	out := make([]description.Item, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, description.Item{Label: pairs[i], Value: strings.TrimSpace(pairs[i+1])})
	}
	return out
}

// fit keeps s, which starts with desc, within maxBody: it cuts the
// user's text rather than the sections.
func fit(s, desc string) string {
	if utf8.RuneCountInString(s) <= maxBody {
		return s
	}
	over := utf8.RuneCountInString(s) - maxBody + 64
	d := []rune(desc)
	d = d[:max(len(d)-over, 0)]
	s = string(d) + "\n… (truncated: too long for a Zendesk comment)" + s[len(desc):]
	if utf8.RuneCountInString(s) > maxBody {
		s = string([]rune(s)[:maxBody])
	}
	return s
}
