package description

import (
	"fmt"
	"strings"
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
