package bmchelix

import (
	"os"
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
	for _, tc := range []struct {
		name, body, want string
	}{
		{"login refused", `[{"messageType":"ERROR","messageText":"Authentication failed","messageAppendedText":"svc","messageNumber":623}]`,
			"ERROR (623): Authentication failed; svc"},
		{"appended null", `[{"messageType":"ERROR","messageText":"Entry does not exist in database","messageAppendedText":null,"messageNumber":302}]`,
			"ERROR (302): Entry does not exist in database"},
		{"several", `[{"messageType":"ERROR","messageText":"Required field cannot be blank.","messageAppendedText":"Impact","messageNumber":326},{"messageType":"WARNING","messageText":"Check the form","messageNumber":52}]`,
			"ERROR (326): Required field cannot be blank.; Impact | WARNING (52): Check the form"},
		{"one object", `{"messageType":"ERROR","messageText":"Form does not exist on server","messageNumber":303}`,
			"ERROR (303): Form does not exist on server"},
		{"html from a proxy", `<html><body>502 Bad Gateway</body></html>`, ""},
		{"empty array", `[]`, ""},
		{"other json", `{"error":"x"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := vendorMessage(400, []byte(tc.body)); got != tc.want {
				t.Errorf("vendorMessage = %q, want %q", got, tc.want)
			}
		})
	}
	long := `[{"messageType":"ERROR","messageText":"` + strings.Repeat("é", 800) + `","messageNumber":1}]`
	if got := vendorMessage(400, []byte(long)); len(got) > rest.MaxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("a long message is not cut to %d bytes: %d", rest.MaxMessage, len(got))
	}
}

func TestParseLevels(t *testing.T) {
	for _, tc := range []struct {
		in, urgency, impact string
		bad                 bool
	}{
		{in: "1,1", urgency: "1-Critical", impact: "1-Extensive/Widespread"},
		{in: "2, 3", urgency: "2-High", impact: "3-Moderate/Limited"},
		{in: "4", urgency: "4-Low", impact: "4-Minor/Localized"},
		{in: "0", bad: true},
		{in: "5,1", bad: true},
		{in: "High", bad: true},
		{in: "", bad: true},
		{in: "1,2,3", bad: true},
	} {
		u, i, err := parseLevels(tc.in)
		if (err != nil) != tc.bad || u != tc.urgency || i != tc.impact {
			t.Errorf("parseLevels(%q) = %q, %q, %v", tc.in, u, i, err)
		}
	}
}

func TestQual(t *testing.T) {
	for _, tc := range []struct{ field, value, want string }{
		{"Vendor Ticket Number", "abc", `'Vendor Ticket Number' = "abc"`},
		{"Company", `Say "Hi", Inc.`, `'Company' = "Say ""Hi"", Inc."`},
	} {
		if got := qual(tc.field, tc.value); got != tc.want {
			t.Errorf("qual(%q, %q) = %s, want %s", tc.field, tc.value, got, tc.want)
		}
	}
}

func TestPlausibleToken(t *testing.T) {
	for tok, want := range map[string]bool{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJl": true,
		"<html><head><title>Mid Tier</title>":                  false,
		`[{"messageType":"ERROR"}]`:                            false,
		"short":                                                false,
		"token with spaces in the middle":                      false,
	} {
		if got := plausibleToken(tok); got != want {
			t.Errorf("plausibleToken(%q) = %v, want %v", tok, got, want)
		}
	}
}

// TestDescribe compares the detailed description of a full ticket with
// testdata/description.golden (go test -update rewrites it).
func TestDescribe(t *testing.T) {
	tk := &connectors.Ticket{
		Summary:     "Outlook keeps asking for my password after this morning's update, and Teams cannot sign in either since then",
		Description: "  It broke after the update.  ",
		Category:    "Software",
		Priority:    connectors.PriorityHigh,
		SystemInfo: &diagnostics.SystemInfo{OSName: "windows", OSVersion: "11", OSBuild: "22631", Architecture: "amd64",
			DeviceName: "LAP-042", DeviceID: "dev-1", CPUModel: "Intel Core i7", CPUCores: 8, MemoryTotalMB: 16384, MemoryUsedMB: 4096,
			UptimeSeconds: 3600, Timezone: "Europe/Berlin", Partial: true},
		SkillResults: []diagnostics.SkillResult{
			{SkillID: "ping", SkillName: "Ping gateway", Status: "failed", Output: "line 1\r\nline 2", ExecutionTimeMs: 30},
			{SkillID: "dns-flush", Status: "success", ExecutionTimeMs: 120},
		},
		Context:   connectors.Context{AppVersion: "1.4.0", TroubleshootingSession: &connectors.TroubleshootingSession{StepsAttempted: 2, StepsSuccessful: 1, DurationMs: 1500}},
		User:      connectors.User{ID: "bob", Name: "Bob Example", Email: "bob@example.com"},
		CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
	got := describe(tk)
	conformance.Golden(t, "testdata/description.golden", []byte(got))

	long := describe(&connectors.Ticket{Summary: "s", SkillResults: []diagnostics.SkillResult{{SkillID: "big", Output: strings.Repeat("x", description.MaxSkillOutput+10)}}})
	if strings.Contains(long, strings.Repeat("x", description.MaxSkillOutput+1)) || !strings.Contains(long, "… (output truncated)") {
		t.Error("a long skill output is not truncated")
	}
	if bare := describe(&connectors.Ticket{Summary: "s"}); bare != "=== Reported with Ticketray ===" {
		t.Errorf("description of a bare ticket = %q", bare)
	}
}

// TestTokenLifetime: a token older than tokenLifetime is not used; the
// connector logs in again before the server's hour is up.
func TestTokenLifetime(t *testing.T) {
	logins := 0
	c := &Connector{now: time.Now}
	c.token, c.loggedAt = "eyJhbGciOiJIUzI1NiJ9.cached-token", time.Now()
	c.credential = func(string) (string, error) { logins++; return "", os.ErrNotExist }
	if tok, err := c.login(t.Context(), "check"); err != nil || tok != c.token {
		t.Fatalf("fresh token: %q, %v", tok, err)
	}
	c.now = func() time.Time { return time.Now().Add(tokenLifetime + time.Second) }
	if _, err := c.login(t.Context(), "check"); err == nil || logins == 0 {
		t.Fatalf("an old token was used again (logins %d, err %v)", logins, err)
	}
	if c.token != "" {
		t.Error("the old token is still cached after a failed login")
	}
}

// TestClassify: a 5xx is permanent only when its AR error says the
// request itself is wrong.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   connectors.Class
	}{
		{500, `[{"messageType":"ERROR","messageText":"Required field cannot be blank.","messageAppendedText":"Impact","messageNumber":326}]`, connectors.Permanent},
		{500, `[{"messageType":"ERROR","messageText":"The Customer is not valid","messageNumber":1291053}]`, connectors.Permanent},
		{500, `[{"messageType":"ERROR","messageText":"Cannot establish a network connection to the AR System server","messageNumber":90}]`, connectors.Retryable},
		{500, `[{"messageType":"ERROR","messageText":"User is currently connected from another machine","messageNumber":9093}]`, connectors.Retryable},
		{500, `[{"messageType":"ERROR","messageText":"Unknown","messageNumber":8999}]`, connectors.Retryable},
		{503, `<html>Service Unavailable</html>`, connectors.Retryable},
		{400, `[{"messageType":"ERROR","messageText":"x","messageNumber":90}]`, connectors.Permanent},
	} {
		e := &connectors.Error{Status: tc.status, Class: connectors.StatusClass(tc.status), Message: vendorMessage(tc.status, []byte(tc.body))}
		classify(e)
		if e.Class != tc.want {
			t.Errorf("%d %s: class %v, want %v", tc.status, tc.body, e.Class, tc.want)
		}
	}
}
