package connectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/diagnostics"
)

func validTicket() Ticket {
	return Ticket{
		Summary:        "VPN drops every hour",
		Priority:       PriorityHigh,
		User:           User{ID: "alice", Name: "Alice", Email: "alice@example.com"},
		CreatedAt:      time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		IdempotencyKey: "0123456789abcdef0123456789abcdef",
		Context:        Context{AppVersion: "1.0.0"},
	}
}

func TestValidate(t *testing.T) {
	big := make([]byte, MaxAttachmentBytes+1)
	tests := []struct {
		name   string
		mutate func(*Ticket)
		fields []string // the fields that must be reported; none means valid
	}{
		{"valid", func(*Ticket) {}, nil},
		{"summary required", func(t *Ticket) { t.Summary = "  " }, []string{"summary"}},
		{"summary too long", func(t *Ticket) { t.Summary = strings.Repeat("é", MaxSummary+1) }, []string{"summary"}},
		{"summary at limit (runes, not bytes)", func(t *Ticket) { t.Summary = strings.Repeat("é", MaxSummary) }, nil},
		{"invalid utf-8", func(t *Ticket) { t.Description = "\xff\xfe" }, []string{"description"}},
		{"description too long", func(t *Ticket) { t.Description = strings.Repeat("x", MaxDescription+1) }, []string{"description"}},
		{"priority enum", func(t *Ticket) { t.Priority = "urgent" }, []string{"priority"}},
		{"priority case", func(t *Ticket) { t.Priority = "High" }, []string{"priority"}},
		{"email syntax", func(t *Ticket) { t.User.Email = "alice@" }, []string{"user.email"}},
		{"email with display name", func(t *Ticket) { t.User.Email = "Alice <alice@example.com>" }, []string{"user.email"}},
		{"no email is fine", func(t *Ticket) { t.User.Email = "" }, nil},
		{"too many attachments", func(t *Ticket) {
			for i := 0; i <= MaxAttachments; i++ {
				t.Attachments = append(t.Attachments, Attachment{Filename: "a.txt", Data: []byte("x"), SizeBytes: 1})
			}
		}, []string{"attachments"}},
		{"attachment too big", func(t *Ticket) {
			t.Attachments = []Attachment{{Filename: "big.bin", Data: big, SizeBytes: int64(len(big))}}
		}, []string{"attachments[0]"}},
		{"attachment path", func(t *Ticket) {
			t.Attachments = []Attachment{{Filename: "../etc/passwd", Data: []byte("x"), SizeBytes: 1}}
		}, []string{"attachments[0].filename"}},
		{"attachment size mismatch", func(t *Ticket) {
			t.Attachments = []Attachment{{Filename: "a", Data: []byte("xy"), SizeBytes: 1}}
		}, []string{"attachments[0].sizeBytes"}},
		{"missing key and time", func(t *Ticket) { t.IdempotencyKey = ""; t.CreatedAt = time.Time{} }, []string{"idempotencyKey", "createdAt"}},
		{"all at once", func(t *Ticket) { t.Summary = ""; t.Priority = "x"; t.User.Email = "bob@@corp" }, []string{"summary", "priority", "user.email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := validTicket()
			tt.mutate(&tk)
			err := tk.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			v, ok := err.(ValidationError)
			if !ok || !IsValidation(err) {
				t.Fatalf("Validate() = %v, want ValidationError", err)
			}
			if len(v) != len(tt.fields) {
				t.Errorf("got %d errors (%v), want %v", len(v), err, tt.fields)
			}
			for _, f := range tt.fields {
				if v.Field(f) == "" {
					t.Errorf("no error for %s in %v", f, err)
				}
			}
			if tk.User.Email != "" && strings.Contains(err.Error(), tk.User.Email) {
				t.Errorf("error repeats the email: %v", err)
			}
		})
	}
}

// TestTicketJSONGolden pins the standard ticket's wire names.
func TestTicketJSONGolden(t *testing.T) {
	tk := validTicket()
	tk.Description = "since Monday"
	tk.Category = "Network"
	tk.SystemInfo = &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", Architecture: "amd64", DeviceName: "lap-42", DeviceID: "abc"}
	tk.SkillResults = []diagnostics.SkillResult{{SkillID: "dns-flush", SkillName: "Flush DNS cache", Status: "success", Output: "ok", ExecutionTimeMs: 120}}
	start := tk.CreatedAt.Add(-time.Minute)
	tk.Context.SessionID = "s1"
	tk.Context.CorrelationID = "c1"
	tk.Context.TroubleshootingSession = &TroubleshootingSession{StartTime: start, EndTime: tk.CreatedAt, DurationMs: 60000, StepsAttempted: 1, StepsSuccessful: 1}
	tk.Attachments = []Attachment{{Filename: "log.txt", ContentType: "text/plain", SizeBytes: 2, Data: []byte("hi")}}
	got, err := json.MarshalIndent(tk, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "ticket.golden.json")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create)", err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("ticket JSON changed:\n%s\nwant:\n%s", got, want)
	}
	var back Ticket
	if err := json.Unmarshal(got, &back); err != nil || back.Validate() != nil || string(back.Attachments[0].Data) != "hi" {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestCheckBaseURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://acme.service-now.com", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3", true},
		{"http://[::1]:9000/x", true},
		{"http://localhost:3000", true},
		{"http://acme.service-now.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"ftp://x", false},
		{"acme.service-now.com", false},
		{"", false},
	} {
		if err := CheckBaseURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckBaseURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}
