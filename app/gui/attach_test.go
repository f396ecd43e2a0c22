package gui

import (
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
)

func file(name string, n int64) connectors.Attachment {
	return connectors.Attachment{Filename: name, SizeBytes: n, ContentType: "text/plain"}
}

func TestAttachmentList(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name    string
		adds    []connectors.Attachment
		remove  int // index removed after the adds; -1 none
		wantErr []string
		want    string
	}{
		{"two files", []connectors.Attachment{file("a.log", 10), file("b.png", 2048)}, -1, []string{"", ""}, "a.log (10 bytes)|b.png (2.0 KiB)"},
		{"at most five", []connectors.Attachment{file("1", 1), file("2", 1), file("3", 1), file("4", 1), file("5", 1), file("6", 1)}, -1,
			[]string{"", "", "", "", "", "at most 5 files can be attached"}, "1 (1 bytes)|2 (1 bytes)|3 (1 bytes)|4 (1 bytes)|5 (1 bytes)"},
		{"total limit", []connectors.Attachment{file("a", 9*mib), file("b", 9*mib), file("c", 3*mib)}, -1,
			[]string{"", "", "c would bring the attachments to 21.0 MiB; the limit is 20.0 MiB"}, "a (9.0 MiB)|b (9.0 MiB)"},
		{"same file twice", []connectors.Attachment{file("a.log", 10), file("a.log", 10)}, -1, []string{"", "a.log is already attached"}, "a.log (10 bytes)"},
		{"same name, other file", []connectors.Attachment{file("a.log", 10), file("a.log", 11)}, -1, []string{"", ""}, "a.log (10 bytes)|a.log (11 bytes)"},
		{"remove one", []connectors.Attachment{file("a", 1), file("b", 2), file("c", 3)}, 1, []string{"", "", ""}, "a (1 bytes)|c (3 bytes)"},
		{"remove out of range is a no-op", []connectors.Attachment{file("a", 1)}, 5, []string{""}, "a (1 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l attachmentList
			for i, a := range tt.adds {
				err := l.add(a)
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != tt.wantErr[i] {
					t.Errorf("add %s: error %q, want %q", a.Filename, got, tt.wantErr[i])
				}
			}
			if tt.remove >= 0 {
				l.remove(tt.remove)
			}
			var labels []string
			for i := range l.items {
				labels = append(labels, l.label(i))
			}
			if got := strings.Join(labels, "|"); got != tt.want {
				t.Errorf("list = %s, want %s", got, tt.want)
			}
		})
	}
}
