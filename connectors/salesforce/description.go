package salesforce

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

// maxSkillOutput bounds each skill's output in the description: the
// description is for reading, and a long output would push what follows
// past the field's length.
const maxSkillOutput = 4000

// maxDescription is Case.Description's length (a long text area).
const maxDescription = 32000

// describe builds the Case description: the user's text, then plain-text
// sections (the field is plain text; Lightning keeps the line breaks) an
// agent can read on the Case page. It never exceeds maxDescription.
func describe(t *connectors.Ticket) string {
	return clip(describeFull(t), maxDescription)
}

func describeFull(t *connectors.Ticket) string {
	var b strings.Builder
	if d := strings.TrimSpace(t.Description); d != "" {
		b.WriteString(d)
		b.WriteString("\n\n")
	}
	if si := t.SystemInfo; si != nil {
		b.WriteString("--- System information ---\n")
		line := func(label, value string) {
			if value = strings.TrimSpace(value); value != "" {
				fmt.Fprintf(&b, "%s: %s\n", label, value)
			}
		}
		osLine := strings.TrimSpace(si.OSName + " " + si.OSVersion)
		if si.OSBuild != "" {
			osLine += " (build " + si.OSBuild + ")"
		}
		line("OS", osLine)
		line("Architecture", si.Architecture)
		device := si.DeviceName
		if si.DeviceID != "" {
			device += " (ID " + si.DeviceID + ")"
		}
		line("Device", device)
		cpu := si.CPUModel
		switch {
		case si.CPUCores > 0 && cpu != "":
			cpu = fmt.Sprintf("%s (%d cores)", cpu, si.CPUCores)
		case si.CPUCores > 0:
			cpu = fmt.Sprintf("%d cores", si.CPUCores)
		}
		line("CPU", cpu)
		if si.MemoryTotalMB > 0 {
			line("Memory", fmt.Sprintf("%d MB used of %d MB", si.MemoryUsedMB, si.MemoryTotalMB))
		}
		if si.UptimeSeconds > 0 {
			line("Uptime", (time.Duration(si.UptimeSeconds) * time.Second).String())
		}
		line("Time zone", si.Timezone)
		if si.Partial {
			b.WriteString("Some probes failed; this information is incomplete.\n")
		}
		b.WriteString("(Full details in the attachment " + systemInfoFile + ".)\n\n")
	}
	if len(t.SkillResults) > 0 {
		head := "--- Troubleshooting steps ---\n"
		if s := t.Context.TroubleshootingSession; s != nil {
			head = fmt.Sprintf("--- Troubleshooting steps (%d run, %d succeeded, %s) ---\n",
				s.StepsAttempted, s.StepsSuccessful, time.Duration(s.DurationMs)*time.Millisecond)
		}
		b.WriteString(head)
		for i, r := range t.SkillResults {
			name := r.SkillName
			if name == "" {
				name = r.SkillID
			}
			fmt.Fprintf(&b, "%d. %s\n", i+1, name)
			fmt.Fprintf(&b, "   Status: %s\n", r.Status)
			fmt.Fprintf(&b, "   Time: %d ms\n", r.ExecutionTimeMs)
			if out := strings.TrimSpace(r.Output); out != "" {
				if utf8.RuneCountInString(out) > maxSkillOutput {
					out = string([]rune(out)[:maxSkillOutput]) + "\n… (output truncated)"
				}
				b.WriteString("   Output:\n")
				for _, l := range strings.Split(out, "\n") {
					b.WriteString("     " + strings.TrimRight(l, "\r") + "\n")
				}
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("--- Reported with Ticketray ---\n")
	if who := reporter(t.User); who != "" {
		b.WriteString("Reported by: " + who + "\n")
	}
	if c := strings.TrimSpace(t.Category); c != "" {
		b.WriteString("Category: " + c + "\n")
	}
	if t.Priority != "" {
		b.WriteString("Priority: " + string(t.Priority) + "\n")
	}
	if !t.CreatedAt.IsZero() {
		b.WriteString("Reported at: " + t.CreatedAt.UTC().Format("2006-01-02 15:04:05") + " UTC\n")
	}
	if t.Context.AppVersion != "" {
		b.WriteString("App version: " + t.Context.AppVersion + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// reporter names the user, so an agent knows who reported even when no
// Contact matched the Web Email.
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
