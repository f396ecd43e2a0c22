package freshservice

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

// TestDescribeGolden pins the HTML an agent sees in Freshservice.
func TestDescribeGolden(t *testing.T) {
	tk := &connectors.Ticket{
		Summary:     "s",
		Description: "  VPN drops <every> hour.\nSince Monday.\n\nWorks on LTE.  ",
		SystemInfo: &diagnostics.SystemInfo{OSName: "windows", OSVersion: "11", OSBuild: "22631", Architecture: "amd64",
			DeviceName: "LAP-42", DeviceID: "dev-1", CPUModel: "i7", CPUCores: 8, MemoryTotalMB: 16384, MemoryUsedMB: 4096,
			UptimeSeconds: 3600, Timezone: "Europe/Berlin", Partial: true},
		SkillResults: []diagnostics.SkillResult{
			{SkillID: "ping", SkillName: "Ping gateway", Status: "failed", Output: "line 1\r\n<line 2>", ExecutionTimeMs: 30},
			{SkillID: "dns-flush", Status: "success", ExecutionTimeMs: 5},
		},
		Context: connectors.Context{AppVersion: "1.2.3", TroubleshootingSession: &connectors.TroubleshootingSession{
			StepsAttempted: 2, StepsSuccessful: 1, DurationMs: 1500}},
		User:      connectors.User{ID: "bob", Name: "Bob & Co", Email: "bob@example.com"},
		CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
	got := describe(tk, []string{"dump.bin"}, "The category \"VPN\" is not one of this account's categories.")
	conformance.Golden(t, "testdata/description.golden.html", []byte(got))
	if bare := describe(&connectors.Ticket{Summary: "s"}, nil, ""); bare != "<h3>Reported with Ticketray</h3>\n<ul>\n</ul>" {
		t.Errorf("bare description = %q", bare)
	}
	long := describe(&connectors.Ticket{SkillResults: []diagnostics.SkillResult{{SkillID: "x", Output: strings.Repeat("y", description.MaxSkillOutput+5)}}}, nil, "")
	if strings.Contains(long, strings.Repeat("y", description.MaxSkillOutput+1)) || !strings.Contains(long, "(output truncated)") {
		t.Error("a long skill output was not truncated")
	}
}

func TestVendorMessage(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"validation", `{"description":"Validation failed","errors":[{"field":"email","message":"It should be in the 'valid email address' format","code":"invalid_value"},{"field":"status","message":"It should be one of these values: '2,3,4,5'","code":"invalid_value"}]}`,
			"Validation failed: email: It should be in the 'valid email address' format (invalid_value); status: It should be one of these values: '2,3,4,5' (invalid_value)"},
		{"spec form without description", `{"errors":[{"field":"subject","code":"missing_field","message":"It should not be blank"}]}`,
			"subject: It should not be blank (missing_field)"},
		{"code and message", `{"code":"access_denied","message":"You are not authorized to perform this action."}`,
			"You are not authorized to perform this action. (access_denied)"},
		{"code only", `{"code":"account_suspended"}`, "account_suspended"},
		{"message only", `{"message":"Retry later"}`, "Retry later"},
		{"description only", `{"description":"Validation failed","errors":[]}`, "Validation failed"},
		{"HTML page", `<html><body>Page not found</body></html>`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vendorMessage(400, []byte(tt.body)); got != tt.want {
				t.Errorf("vendorMessage = %q, want %q", got, tt.want)
			}
		})
	}
	long := `{"message":"` + strings.Repeat("é", rest.MaxMessage) + `"}`
	if got := vendorMessage(500, []byte(long)); len(got) > rest.MaxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long message kept %d bytes", len(got))
	}
}

func TestParseLevels(t *testing.T) {
	tests := []struct {
		in   string
		want levels
		ok   bool
	}{
		{"1", levels{1, 0, 0}, true}, {"4", levels{4, 0, 0}, true}, {"3,3,2", levels{3, 3, 2}, true}, {" 2 , 1 , 3 ", levels{2, 1, 3}, true},
		{"", levels{}, false}, {"0", levels{}, false}, {"5", levels{}, false}, {"3,3", levels{}, false}, {"3,4,1", levels{}, false},
		{"3,1,0", levels{}, false}, {"3,3,2,1", levels{}, false}, {"High", levels{}, false},
	}
	for _, tt := range tests {
		got, err := parseLevels(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseLevels(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for p, v := range vendorPriority {
		if _, err := parseLevels(v); err != nil {
			t.Errorf("built-in %s: %v", p, err)
		}
	}
}
