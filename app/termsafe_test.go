package app

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTermSafe(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		multiline bool
		want      string
	}{
		{"plain", "VPN drops — every hour, C:\\Users", false, "VPN drops — every hour, C:\\Users"},
		{"clear screen", "a\x1b[2Jb", false, `a\x1b[2Jb`},
		{"OSC title with BEL", "\x1b]0;pwned\x07x", false, `\x1b]0;pwned\x07x`},
		{"OSC title with ST", "\x1b]0;pwned\x1b\\x", false, `\x1b]0;pwned\x1b\x`},
		{"C1 CSI and OSC", "a\u009b2Jb\u009d0;t\u009c", false, `a\x9b2Jb\x9d0;t\x9c`},
		{"DEL and NUL", "a\x7fb\x00c", false, `a\x7fb\x00c`},
		{"carriage return", "ok\rFAKE", true, `ok\x0dFAKE`},
		{"bidi override", "invoice\u202etxt.exe", false, `invoice\u202etxt.exe`},
		{"bidi isolates and marks", "\u2066a\u2069\u200f\u061c", false, `\u2066a\u2069\u200f\u061c`},
		{"line separator", "a\u2028b", true, `a\u2028b`},
		{"newline and tab, one line", "a\nb\tc", false, `a\x0ab\x09c`},
		{"newline and tab, multiline", "a\nb\tc", true, "a\nb\tc"},
		{"invalid UTF-8", "a\xffb", false, `a\xffb`},
		{"replacement character kept", "a\ufffdb", false, "a\ufffdb"},
		{"non-Latin kept", "Принтер 打印机 🖨", false, "Принтер 打印机 🖨"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TermSafe(tt.in, tt.multiline); got != tt.want {
				t.Errorf("TermSafe(%q, %v) = %q, want %q", tt.in, tt.multiline, got, tt.want)
			}
		})
	}
}

// hostile strings a reporter (or a vendor's error) could send.
const (
	clearScreen = "\x1b[2J"
	setTitle    = "\x1b]0;title\x07"
	bidi        = "\u202e"
)

// TestQueueOutputTermSafe: queue list and queue show print no control
// sequence from a ticket raw, and show each visibly; --json keeps the
// exact text.
func TestQueueOutputTermSafe(t *testing.T) {
	h := newHarness(t)
	summary := "printer " + clearScreen + " on fire"
	desc := "line one\n" + setTitle + "\tline two"
	name := "Mallory " + bidi + "gpj.exe"
	id := strings.TrimSpace(h.mustRun("report", "--summary", summary, "--description", desc, "--user-name", name, "--no-system-info").stdout)

	outputs := []struct {
		name string
		args []string
	}{
		{"queue list", []string{"queue", "list"}},
		{"queue show", []string{"queue", "show", id}},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			r := h.mustRun(o.args...)
			out := r.stdout + r.stderr
			for _, raw := range []string{"\x1b", "\x07", bidi, "\u009b"} {
				if strings.Contains(out, raw) {
					t.Errorf("output holds %q raw:\n%s", raw, out)
				}
			}
			if !strings.Contains(out, `\x1b[2J`) {
				t.Errorf("output does not show the clear-screen sequence visibly:\n%s", out)
			}
			if o.name == "queue show" {
				for _, want := range []string{`\x1b]0;title\x07`, `\u202egpj.exe`, "line one\n", "\tline two"} {
					if !strings.Contains(out, want) {
						t.Errorf("show lacks %q:\n%s", want, out)
					}
				}
			}
		})
	}

	t.Run("json stays exact", func(t *testing.T) {
		var e entryJSON
		if err := json.Unmarshal([]byte(h.mustRun("queue", "show", id, "--json").stdout), &e); err != nil {
			t.Fatal(err)
		}
		if e.Summary != summary || e.Ticket.Description != desc || e.Ticket.User.Name != name {
			t.Errorf("show --json = %q / %q / %q, want the exact text", e.Summary, e.Ticket.Description, e.Ticket.User.Name)
		}
		if got := h.list(); len(got) != 1 || got[0].Summary != summary {
			t.Errorf("list --json = %+v", got)
		}
	})
}
