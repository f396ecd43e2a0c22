package description

import (
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

func TestPlain(t *testing.T) {
	sec := Section{Title: "T", Items: []Item{{"A", "1"}, {"Empty", ""}},
		Steps: []Step{{Name: "s", Status: "ok", TimeMs: 5, Output: "o1\r\no2"}}, Notes: []Note{{Text: "n", Aside: true}}}
	for _, tt := range []struct {
		style Style
		want  string
	}{
		{Style{Rule: "---"}, "hi\n\n--- T ---\nA: 1\n1. s\n   Status: ok\n   Time: 5 ms\n   Output:\n     o1\n     o2\nn"},
		{Style{Rule: "===", Bullet: "- ", OneLine: true}, "hi\n\n=== T ===\n- A: 1\n1. s: ok (5 ms)\n> o1\n> o2\nn"},
	} {
		if got := Plain("  hi \n", tt.style, sec); got != tt.want {
			t.Errorf("Plain(%+v) = %q, want %q", tt.style, got, tt.want)
		}
	}
}

func TestHTML(t *testing.T) {
	got := HTML(Section{Title: "<T>", Items: []Item{{"A", "a&b"}, {"Empty", ""}}, Notes: []Note{{Text: "x"}, {Text: "y", Aside: true}}},
		Section{Notes: []Note{{Text: "untitled"}}})
	want := "<h3>&lt;T&gt;</h3>\n<ul>\n<li><strong>A:</strong> a&amp;b</li>\n</ul>\n<p>x</p>\n<p><em>y</em></p>\n<p>untitled</p>\n"
	if got != want {
		t.Errorf("HTML = %q, want %q", got, want)
	}
	if got := Paragraphs("a\r\nb\n\n\n<c>"); got != "<p>a<br>b</p>\n<p>&lt;c&gt;</p>\n" {
		t.Errorf("Paragraphs = %q", got)
	}
}

func TestFindings(t *testing.T) {
	if s := Findings(&connectors.Ticket{}, "att"); len(s) != 0 {
		t.Errorf("a ticket without findings has sections %+v", s)
	}
	tk := &connectors.Ticket{SystemInfo: &diagnostics.SystemInfo{CPUCores: 4, DeviceName: "d", DeviceID: "i"},
		SkillResults: []diagnostics.SkillResult{{SkillID: "id"}}}
	s := Findings(tk, "att")
	if len(s) != 2 || s[0].Items[2] != (Item{"Device", "d (ID i)"}) || s[0].Items[3] != (Item{"CPU", "4 cores"}) ||
		s[0].Notes[0].Text != "att" || s[1].Steps[0].Name != "id" {
		t.Errorf("Findings = %+v", s)
	}
}
