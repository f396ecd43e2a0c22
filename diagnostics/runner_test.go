package diagnostics

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCapText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "hello", 20, "hello"},
		{"exact", "hello", 5, "hello"},
		{"cut", strings.Repeat("a", 30), 20, strings.Repeat("a", 20-len(TruncatedMarker)) + TruncatedMarker},
		// 16 bytes less the 12-byte marker leaves 4: two 2-byte runes.
		{"cut on a rune boundary", strings.Repeat("é", 20), 16, "éé" + TruncatedMarker},
		{"never splits a rune", strings.Repeat("é", 20), 17, "éé" + TruncatedMarker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := capText(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("capText = %q, want %q", got, tt.want)
			}
			if len(got) > tt.max || !utf8.ValidString(got) {
				t.Errorf("len %d > %d or invalid UTF-8", len(got), tt.max)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine("netsh", []string{"interface", "set", "interface", "name=Wi-Fi 2", ""})
	if want := `netsh interface set interface "name=Wi-Fi 2" ""`; got != want {
		t.Errorf("commandLine = %q, want %q", got, want)
	}
}
