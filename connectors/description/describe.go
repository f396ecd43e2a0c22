// Package description builds what a ticket description carries after the
// user's own text, for the vendors whose description is one text field:
// the system information, the troubleshooting steps and who reported it,
// as sections rendered in plain text (Plain) or HTML (HTML). A vendor
// keeps only its own choices: which sections, its wording for where the
// full details are, its layout and its length limit.
package description

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

// MaxSkillOutput bounds each skill's output in a description: it is for
// reading, and a long output would push what follows past the field's
// length.
const MaxSkillOutput = 4000

// Section is one titled part of a description.
type Section struct {
	Title string
	Items []Item // "label: value" lines
	Steps []Step // numbered skill results
	Notes []Note // lines after the items
}

// Item is one "label: value" line. An empty Value leaves the line out;
// values are rendered as they are (builders trim where they want to).
type Item struct{ Label, Value string }

// Note is a sentence for the agent. An aside is emphasised in HTML.
type Note struct {
	Text  string
	Aside bool
}

// Step is one skill's result. Output is trimmed and bounded.
type Step struct {
	Name, Status string
	TimeMs       int64
	Output       string
}

// Findings are the system information and troubleshooting sections, those
// the ticket has. attached says where the full system information is.
func Findings(t *connectors.Ticket, attached string) []Section {
	var out []Section
	if t.SystemInfo != nil {
		out = append(out, System(t.SystemInfo, attached))
	}
	if len(t.SkillResults) > 0 {
		out = append(out, Skills(t))
	}
	return out
}

// System is the system information section: the items, a note when some
// probes failed, then attached.
func System(si *diagnostics.SystemInfo, attached string) Section {
	s := Section{Title: "System information", Items: SystemItems(si)}
	if si.Partial {
		s.Notes = append(s.Notes, Note{Text: "Some probes failed; this information is incomplete.", Aside: true})
	}
	s.Notes = append(s.Notes, Note{Text: attached})
	return s
}

// SystemItems are the system information an agent reads first, trimmed.
func SystemItems(si *diagnostics.SystemInfo) []Item {
	device := si.DeviceName
	if si.DeviceID != "" {
		device += " (ID " + si.DeviceID + ")"
	}
	cpu := si.CPUModel
	switch {
	case si.CPUCores > 0 && cpu != "":
		cpu = fmt.Sprintf("%s (%d cores)", cpu, si.CPUCores)
	case si.CPUCores > 0:
		cpu = fmt.Sprintf("%d cores", si.CPUCores)
	}
	return trimmed(
		Item{"OS", OS(si)},
		Item{"Architecture", si.Architecture},
		Item{"Device", device},
		Item{"CPU", cpu},
		Item{"Memory", Memory(si)},
		Item{"Uptime", Uptime(si)},
		Item{"Time zone", si.Timezone},
	)
}

// OS is the OS name, version and build.
func OS(si *diagnostics.SystemInfo) string {
	os := strings.TrimSpace(si.OSName + " " + si.OSVersion)
	if si.OSBuild != "" {
		os += " (build " + si.OSBuild + ")"
	}
	return os
}

// Memory is the memory in use of the total, "" when unknown.
func Memory(si *diagnostics.SystemInfo) string {
	if si.MemoryTotalMB == 0 {
		return ""
	}
	return fmt.Sprintf("%d MB used of %d MB", si.MemoryUsedMB, si.MemoryTotalMB)
}

// Uptime is how long the machine has been up, "" when unknown.
func Uptime(si *diagnostics.SystemInfo) string {
	if si.UptimeSeconds == 0 {
		return ""
	}
	return (time.Duration(si.UptimeSeconds) * time.Second).String()
}

// trimmed trims each value.
func trimmed(items ...Item) []Item {
	for i := range items {
		items[i].Value = strings.TrimSpace(items[i].Value)
	}
	return items
}

// Skills is the troubleshooting section: one step per skill result, the
// title summing up the session when there was one.
func Skills(t *connectors.Ticket) Section {
	title := "Troubleshooting steps"
	if s := t.Context.TroubleshootingSession; s != nil {
		title = fmt.Sprintf("Troubleshooting steps (%d run, %d succeeded, %s)",
			s.StepsAttempted, s.StepsSuccessful, time.Duration(s.DurationMs)*time.Millisecond)
	}
	sec := Section{Title: title}
	for _, r := range t.SkillResults {
		name := r.SkillName
		if name == "" {
			name = r.SkillID
		}
		out := strings.TrimSpace(r.Output)
		if utf8.RuneCountInString(out) > MaxSkillOutput {
			out = string([]rune(out)[:MaxSkillOutput]) + "\n… (output truncated)"
		}
		sec.Steps = append(sec.Steps, Step{Name: name, Status: r.Status, TimeMs: r.ExecutionTimeMs, Output: out})
	}
	return sec
}

// Reported is the closing section: who reported, extra (the vendor's
// choice), when, and the app's version.
func Reported(t *connectors.Ticket, extra ...Item) Section {
	items := []Item{{"Reported by", Reporter(t.User)}}
	items = append(items, extra...)
	items = append(items, Item{"Reported at", ReportedAt(t.CreatedAt)}, Item{"App version", t.Context.AppVersion})
	return Section{Title: "Reported with Ticketray", Items: items}
}

// Reporter names the user, so an agent knows who reported even when the
// vendor's requester or caller is the integration's own account.
func Reporter(u connectors.User) string {
	s := u.Name
	if u.Email != "" {
		s = strings.TrimSpace(s + " <" + u.Email + ">")
	}
	if u.ID != "" {
		s = strings.TrimSpace(s + " (user ID " + u.ID + ")")
	}
	return s
}

// ReportedAt is when the ticket was created, in UTC, "" when unknown.
func ReportedAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
