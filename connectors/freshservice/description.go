package freshservice

import (
	"fmt"
	"html"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

// maxSkillOutput bounds each skill's output in the description.
const maxSkillOutput = 4000

// describe builds the ticket description. Freshservice's description is
// HTML (the agent UI renders it; description_text is derived from it), so
// the user's text is escaped and kept in paragraphs, and the system
// information and skill results are headings with definition-style lists
// an agent can read at a glance. skipped names files that did not fit
// under Freshservice's attachment limit; notice, when set, is a line for
// the agent about how the ticket was delivered.
func describe(t *connectors.Ticket, skipped []string, notice string) string {
	var b strings.Builder
	if d := strings.TrimSpace(t.Description); d != "" {
		b.WriteString(paragraphs(d))
	}
	if si := t.SystemInfo; si != nil {
		b.WriteString("<h3>System information</h3>\n<ul>\n")
		item := func(label, value string) {
			if value = strings.TrimSpace(value); value != "" {
				fmt.Fprintf(&b, "<li><strong>%s:</strong> %s</li>\n", label, html.EscapeString(value))
			}
		}
		osLine := strings.TrimSpace(si.OSName + " " + si.OSVersion)
		if si.OSBuild != "" {
			osLine += " (build " + si.OSBuild + ")"
		}
		item("OS", osLine)
		item("Architecture", si.Architecture)
		device := si.DeviceName
		if si.DeviceID != "" {
			device += " (ID " + si.DeviceID + ")"
		}
		item("Device", device)
		cpu := si.CPUModel
		switch {
		case si.CPUCores > 0 && cpu != "":
			cpu = fmt.Sprintf("%s (%d cores)", cpu, si.CPUCores)
		case si.CPUCores > 0:
			cpu = fmt.Sprintf("%d cores", si.CPUCores)
		}
		item("CPU", cpu)
		if si.MemoryTotalMB > 0 {
			item("Memory", fmt.Sprintf("%d MB used of %d MB", si.MemoryUsedMB, si.MemoryTotalMB))
		}
		if si.UptimeSeconds > 0 {
			item("Uptime", (time.Duration(si.UptimeSeconds) * time.Second).String())
		}
		item("Time zone", si.Timezone)
		b.WriteString("</ul>\n")
		if si.Partial {
			b.WriteString("<p><em>Some probes failed; this information is incomplete.</em></p>\n")
		}
		b.WriteString("<p>Full details are attached as " + systemInfoFile + ".</p>\n")
	}
	if len(t.SkillResults) > 0 {
		head := "Troubleshooting steps"
		if s := t.Context.TroubleshootingSession; s != nil {
			head = fmt.Sprintf("Troubleshooting steps (%d run, %d succeeded, %s)",
				s.StepsAttempted, s.StepsSuccessful, time.Duration(s.DurationMs)*time.Millisecond)
		}
		b.WriteString("<h3>" + html.EscapeString(head) + "</h3>\n<ol>\n")
		for _, r := range t.SkillResults {
			name := r.SkillName
			if name == "" {
				name = r.SkillID
			}
			fmt.Fprintf(&b, "<li><strong>%s</strong><br>Status: %s<br>Time: %d ms", html.EscapeString(name), html.EscapeString(r.Status), r.ExecutionTimeMs)
			if out := strings.TrimSpace(r.Output); out != "" {
				if utf8.RuneCountInString(out) > maxSkillOutput {
					out = string([]rune(out)[:maxSkillOutput]) + "\n… (output truncated)"
				}
				out = strings.ReplaceAll(out, "\r\n", "\n")
				b.WriteString("<br>Output:<pre>" + html.EscapeString(out) + "</pre>")
			}
			b.WriteString("</li>\n")
		}
		b.WriteString("</ol>\n")
	}
	if len(skipped) > 0 {
		b.WriteString("<p><em>Not attached (over Freshservice's 15 MB limit for a ticket's attachments): " +
			html.EscapeString(strings.Join(skipped, ", ")) + "</em></p>\n")
	}
	if notice != "" {
		b.WriteString("<p><em>" + html.EscapeString(notice) + "</em></p>\n")
	}
	b.WriteString("<h3>Reported with Ticketray</h3>\n<ul>\n")
	if who := reporter(t.User); who != "" {
		b.WriteString("<li><strong>Reported by:</strong> " + html.EscapeString(who) + "</li>\n")
	}
	if !t.CreatedAt.IsZero() {
		b.WriteString("<li><strong>Reported at:</strong> " + t.CreatedAt.UTC().Format("2006-01-02 15:04:05") + " UTC</li>\n")
	}
	if t.Context.AppVersion != "" {
		b.WriteString("<li><strong>App version:</strong> " + html.EscapeString(t.Context.AppVersion) + "</li>\n")
	}
	b.WriteString("</ul>")
	return b.String()
}

// paragraphs turns plain text into HTML paragraphs: blank lines separate
// paragraphs, single line breaks become <br>.
func paragraphs(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var b strings.Builder
	for _, p := range strings.Split(text, "\n\n") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>") + "</p>\n")
	}
	return b.String()
}

// reporter names the user, so an agent knows who reported even when the
// requester is a fallback address.
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
