package description

import (
	"fmt"
	"html"
	"strings"
)

// HTML renders sections for a field that takes HTML: a heading each, the
// items as a list (steps as a numbered one), the notes as paragraphs. A
// section without a title renders its notes only. Text is escaped.
func HTML(sections ...Section) string {
	var b strings.Builder
	for _, s := range sections {
		if s.Title != "" {
			b.WriteString("<h3>" + html.EscapeString(s.Title) + "</h3>\n")
			if len(s.Steps) > 0 {
				htmlSteps(&b, s.Steps)
			} else {
				htmlItems(&b, s.Items)
			}
		}
		for _, n := range s.Notes {
			b.WriteString("<p>" + emphasis(html.EscapeString(n.Text), n.Aside) + "</p>\n")
		}
	}
	return b.String()
}

// emphasis wraps HTML in <em> when on.
func emphasis(h string, on bool) string {
	if !on {
		return h
	}
	return "<em>" + h + "</em>"
}

func htmlItems(b *strings.Builder, items []Item) {
	b.WriteString("<ul>\n")
	for _, it := range items {
		if it.Value != "" {
			fmt.Fprintf(b, "<li><strong>%s:</strong> %s</li>\n", html.EscapeString(it.Label), html.EscapeString(it.Value))
		}
	}
	b.WriteString("</ul>\n")
}

func htmlSteps(b *strings.Builder, steps []Step) {
	b.WriteString("<ol>\n")
	for _, s := range steps {
		fmt.Fprintf(b, "<li><strong>%s</strong><br>Status: %s<br>Time: %d ms", html.EscapeString(s.Name), html.EscapeString(s.Status), s.TimeMs)
		if s.Output != "" {
			out := strings.ReplaceAll(s.Output, "\r\n", "\n")
			b.WriteString("<br>Output:<pre>" + html.EscapeString(out) + "</pre>")
		}
		b.WriteString("</li>\n")
	}
	b.WriteString("</ol>\n")
}

// Paragraphs turns plain text into HTML paragraphs: blank lines separate
// paragraphs, single line breaks become <br>.
func Paragraphs(text string) string {
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
