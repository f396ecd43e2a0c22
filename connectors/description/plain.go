package description

import (
	"fmt"
	"strings"

	"github.com/ticketray/ticketray/connectors"
)

// Style is a plain-text layout.
type Style struct {
	// Rule frames each section title: "---" gives "--- Title ---".
	Rule string
	// Bullet starts each item line ("- " reads the same whether or not
	// the field renders Markdown).
	Bullet string
	// OneLine puts a step on one line, its output quoted with "> ",
	// instead of indented Status, Time and Output lines.
	OneLine bool
}

// Plain renders the user's text, then the sections, a blank line apart.
func Plain(text string, st Style, sections ...Section) string {
	var b strings.Builder
	if d := strings.TrimSpace(text); d != "" {
		b.WriteString(d + "\n\n")
	}
	for _, s := range sections {
		b.WriteString(st.Rule + " " + s.Title + " " + st.Rule + "\n")
		for _, it := range s.Items {
			if it.Value != "" {
				b.WriteString(st.Bullet + it.Label + ": " + it.Value + "\n")
			}
		}
		for i, step := range s.Steps {
			st.step(&b, i+1, step)
		}
		for _, n := range s.Notes {
			b.WriteString(n.Text + "\n")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (st Style) step(b *strings.Builder, n int, s Step) {
	prefix := "     "
	if st.OneLine {
		fmt.Fprintf(b, "%d. %s: %s (%d ms)\n", n, s.Name, s.Status, s.TimeMs)
		prefix = "> "
	} else {
		fmt.Fprintf(b, "%d. %s\n   Status: %s\n   Time: %d ms\n", n, s.Name, s.Status, s.TimeMs)
	}
	if s.Output == "" {
		return
	}
	if !st.OneLine {
		b.WriteString("   Output:\n")
	}
	for _, l := range strings.Split(s.Output, "\n") {
		b.WriteString(prefix + strings.TrimRight(l, "\r") + "\n")
	}
}

// Addition is the plain-text body of a reporter's addition: their words,
// who wrote them (the vendor's author is the integration's account), and
// connectors.AdditionMarker last, on a line of its own, for FindAddition.
func Addition(a *connectors.Addition) string {
	var b strings.Builder
	if t := strings.TrimSpace(a.Text); t != "" {
		b.WriteString(t + "\n\n")
	}
	if who := Reporter(a.Author); who != "" {
		b.WriteString("Added by " + who + " with Ticketray\n")
	}
	b.WriteString(connectors.AdditionMarker(a.Key))
	return b.String()
}
