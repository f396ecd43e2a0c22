package app

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TermSafe makes text from a ticket, a vendor or a damaged file safe to
// print on a terminal: every character that could move the cursor, clear
// the screen, set the window title, start an escape sequence or reorder
// the text is shown visibly as an escape (\x1b, \u202e) instead.
//
// Escaped: the C0 controls (ESC among them), DEL, the C1 controls (among
// them the one-byte CSI and OSC introducers), the Unicode bidi controls
// and the line and paragraph separators, and bytes that are not UTF-8.
// With multiline set, \n and \t are kept (a description has lines);
// otherwise they are escaped too. Backslashes are kept as they are: the
// result is for people to read, not to parse.
func TermSafe(s string, multiline bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r, multiline) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x100 && unsafeRune(r, multiline):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r, multiline):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func unsafeRune(r rune, multiline bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return !multiline
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// ts is TermSafe for a one-line field.
func ts(s string) string { return TermSafe(s, false) }
