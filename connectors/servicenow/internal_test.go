package servicenow

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/description"
	"github.com/ticketray/ticketray/connectors/rest"
	"github.com/ticketray/ticketray/diagnostics"
)

func TestVendorMessage(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"message and detail", `{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}`,
			"No Record found: Record doesn't exist or ACL restricts the record retrieval"},
		{"null detail", `{"error":{"message":"Invalid table incidentx","detail":null},"status":"failure"}`, "Invalid table incidentx"},
		{"no detail", `{"error":{"message":"Invalid table x"},"status":"failure"}`, "Invalid table x"},
		{"detail repeats message", `{"error":{"message":"Boom","detail":"Boom"},"status":"failure"}`, "Boom"},
		{"detail only", `{"error":{"message":"","detail":"Only detail"},"status":"failure"}`, "Only detail"},
		{"detail not a string", `{"error":{"message":"Bad","detail":{"x":1}},"status":"failure"}`, "Bad"},
		{"HTML page", `<html><body>Instance hibernating</body></html>`, ""},
		{"another vendor's shape", `{"errorMessages":["nope"]}`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vendorMessage(400, []byte(tt.body)); got != tt.want {
				t.Errorf("vendorMessage = %q, want %q", got, tt.want)
			}
		})
	}
	long := `{"error":{"message":"` + strings.Repeat("é", rest.MaxMessage) + `"}}`
	if got := vendorMessage(500, []byte(long)); len(got) > rest.MaxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long message kept %d bytes", len(got))
	}
}

func TestParseLevels(t *testing.T) {
	tests := []struct{ in, u, i string }{
		{"1", "1", "1"}, {"3", "3", "3"}, {"1,2", "1", "2"}, {" 2 , 3 ", "2", "3"},
		{"", "", ""}, {"0", "", ""}, {"4", "", ""}, {"1,", "", ""}, {",1", "", ""}, {"1,2,3", "", ""}, {"High", "", ""},
	}
	for _, tt := range tests {
		u, i, err := parseLevels(tt.in)
		if (err == nil) != (tt.u != "") || u != tt.u || i != tt.i {
			t.Errorf("parseLevels(%q) = %q, %q, %v; want %q, %q", tt.in, u, i, err, tt.u, tt.i)
		}
	}
	// Every built-in row parses.
	for p, v := range vendorPriority {
		if _, _, err := parseLevels(v); err != nil {
			t.Errorf("built-in %s: %v", p, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	long := strings.Repeat("x", description.MaxSkillOutput+10)
	tk := &connectors.Ticket{
		Summary:     "s",
		Description: "  It broke.  ",
		SystemInfo:  &diagnostics.SystemInfo{OSName: "windows", OSVersion: "11", OSBuild: "22631", CPUCores: 8, MemoryTotalMB: 16384, MemoryUsedMB: 4096, UptimeSeconds: 3600, Partial: true},
		SkillResults: []diagnostics.SkillResult{
			{SkillID: "ping", SkillName: "Ping gateway", Status: "failed", Output: "line 1\r\nline 2", ExecutionTimeMs: 30},
			{SkillID: "big", Status: "success", Output: long},
		},
		Context:   connectors.Context{TroubleshootingSession: &connectors.TroubleshootingSession{StepsAttempted: 2, StepsSuccessful: 1, DurationMs: 1500}},
		User:      connectors.User{Name: "Bob"},
		CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
	d := describe(tk)
	conformance.Golden(t, "testdata/description.golden", []byte(d))
	for _, want := range []string{
		"It broke.\n\n--- System information ---\n",
		"OS: windows 11 (build 22631)\n",
		"CPU: 8 cores\n",
		"Memory: 4096 MB used of 16384 MB\n",
		"Uptime: 1h0m0s\n",
		"this information is incomplete",
		"--- Troubleshooting steps (2 run, 1 succeeded, 1.5s) ---\n",
		"1. Ping gateway\n   Status: failed\n   Time: 30 ms\n   Output:\n     line 1\n     line 2\n",
		"2. big\n", // no name: the id
		"… (output truncated)",
		"Reported by: Bob\n",
		"Reported at: 2026-03-02 08:00:00 UTC",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, strings.Repeat("x", description.MaxSkillOutput+1)) {
		t.Error("skill output was not truncated")
	}
	if strings.Contains(d, "Architecture:") {
		t.Error("empty values are listed")
	}

	bare := describe(&connectors.Ticket{Summary: "s"})
	if bare != "--- Reported with Ticketray ---" {
		t.Errorf("description of a bare ticket = %q", bare)
	}
}
