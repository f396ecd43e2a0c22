package zendesk

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

const (
	// maxSkillOutput bounds each skill's output in the description: the
	// whole output is for reading in the ticket, not for archiving.
	maxSkillOutput = 4000
	// maxBody keeps the first comment well inside Zendesk's comment size
	// limit (64 KB), counted in characters.
	maxBody = 60000
)

// describe builds the ticket's first comment: the user's text, then
// plain-text sections an agent reads in the ticket view. Items are "- "
// lines, which read the same whether or not the account renders Markdown
// in comments; nothing is indented four spaces (a Markdown code block).
func describe(t *connectors.Ticket) string {
	var b strings.Builder
	desc := strings.TrimSpace(t.Description)
	if desc != "" {
		b.WriteString(desc)
		b.WriteString("\n\n")
	}
	section := func(title string) { b.WriteString("--- " + title + " ---\n") }
	item := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fmt.Fprintf(&b, "- %s: %s\n", label, value)
		}
	}
	if si := t.SystemInfo; si != nil {
		section("System information")
		osLine := strings.TrimSpace(si.OSName + " " + si.OSVersion)
		if si.OSBuild != "" {
			osLine += " (build " + si.OSBuild + ")"
		}
		item("OS", osLine)
		item("Architecture", si.Architecture)
		item("Device", si.DeviceName)
		item("Device ID", si.DeviceID)
		cpu := si.CPUModel
		if si.CPUCores > 0 {
			cpu = strings.TrimSpace(fmt.Sprintf("%s (%d cores)", cpu, si.CPUCores))
		}
		item("CPU", cpu)
		if si.MemoryTotalMB > 0 {
			item("Memory", fmt.Sprintf("%d MB used of %d MB", si.MemoryUsedMB, si.MemoryTotalMB))
		}
		if si.UptimeSeconds > 0 {
			item("Uptime", (time.Duration(si.UptimeSeconds) * time.Second).String())
		}
		item("Time zone", si.Timezone)
		if si.Partial {
			item("Note", "some probes failed; this information is incomplete")
		}
		item("Details", "attached as "+systemInfoFile)
		b.WriteString("\n")
	}
	if len(t.SkillResults) > 0 {
		title := "Troubleshooting steps"
		if s := t.Context.TroubleshootingSession; s != nil {
			title = fmt.Sprintf("Troubleshooting steps (%d run, %d succeeded, %s)",
				s.StepsAttempted, s.StepsSuccessful, time.Duration(s.DurationMs)*time.Millisecond)
		}
		section(title)
		for i, r := range t.SkillResults {
			name := r.SkillName
			if name == "" {
				name = r.SkillID
			}
			fmt.Fprintf(&b, "%d. %s: %s (%d ms)\n", i+1, name, r.Status, r.ExecutionTimeMs)
			if out := strings.TrimSpace(r.Output); out != "" {
				if utf8.RuneCountInString(out) > maxSkillOutput {
					out = string([]rune(out)[:maxSkillOutput]) + "\n… (output truncated)"
				}
				for _, l := range strings.Split(out, "\n") {
					b.WriteString("> " + strings.TrimRight(l, "\r") + "\n")
				}
			}
		}
		b.WriteString("\n")
	}
	section("Reported with Ticketray")
	item("Reported by", reporter(t.User))
	if !t.CreatedAt.IsZero() {
		item("Reported at", t.CreatedAt.UTC().Format("2006-01-02 15:04:05")+" UTC")
	}
	item("Priority", string(t.Priority))
	item("Category", t.Category)
	item("App version", t.Context.AppVersion)
	item("Session ID", t.Context.SessionID)
	item("Correlation ID", t.Context.CorrelationID)
	s := strings.TrimRight(b.String(), "\n")
	if utf8.RuneCountInString(s) > maxBody {
		// Keep the sections: cut the user's text instead.
		over := utf8.RuneCountInString(s) - maxBody + 64
		d := []rune(desc)
		d = d[:max(len(d)-over, 0)]
		s = string(d) + "\n… (truncated: too long for a Zendesk comment)" + s[len(desc):]
		if utf8.RuneCountInString(s) > maxBody {
			s = string([]rune(s)[:maxBody])
		}
	}
	return s
}

// reporter names the user, so an agent knows who reported even when the
// requester is the integration's agent.
func reporter(u connectors.User) string {
	s := u.Name
	if u.Email != "" {
		s = strings.TrimSpace(s + " <" + u.Email + ">")
	}
	if u.ID != "" {
		s = strings.TrimSpace(s + " (user ID " + u.ID + ")")
	}
	return s
}
