package jira

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"field errors", `{"errorMessages":[],"errors":{"project":"Specify a valid project ID or key"}}`, "project: Specify a valid project ID or key"},
		{"messages and fields, fields sorted", `{"errorMessages":["Bad request"],"errors":{"summary":"You must specify a summary of the issue.","issuetype":"Specify an issue type"}}`,
			"Bad request; issuetype: Specify an issue type; summary: You must specify a summary of the issue."},
		{"JQL error", `{"errorMessages":["Field 'x' does not exist"],"warningMessages":[]}`, "Field 'x' does not exist"},
		{"gateway", `{"timestamp":"2024-07-29T11:56:50.846388822Z","status":404,"error":"Not Found","message":"No message available","path":"/ex/jira/x/rest/api/3/issue"}`, "Not Found: No message available"},
		{"service management", `{"errorMessage":"The service desk does not exist.","i18nErrorMessage":{"i18nKey":"sd.x","parameters":[]}}`, "The service desk does not exist."},
		{"plain text 401", "Client must be authenticated to access this resource.\n", "Client must be authenticated to access this resource."},
		{"HTML page", "<html><head><title>Unauthorized (401)</title></head><body>…</body></html>", "Unauthorized (401)"},
		{"empty", "", ""},
		{"binary", "\xff\xfe", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorMessage(400, []byte(tt.body)); got != tt.want {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.want)
			}
		})
	}
	long := `{"errorMessages":["` + strings.Repeat("x", 5000) + `"]}`
	if got := ErrorMessage(400, []byte(long)); utf8.RuneCountInString(got) > maxMessage+1 {
		t.Errorf("a long message is kept whole (%d runes)", len(got))
	}
}

func TestIdempotencyLabel(t *testing.T) {
	for key, ok := range map[string]bool{"0123abcd": true, "": false, "has space": false, strings.Repeat("k", 250): false} {
		if _, err := IdempotencyLabel(key); (err == nil) != ok {
			t.Errorf("IdempotencyLabel(%q) error = %v", key, err)
		}
	}
	if got := jqlString(`a"b\c`); got != `"a\"b\\c"` {
		t.Errorf("jqlString = %s", got)
	}
}

func TestDescriptionFitsJira(t *testing.T) {
	tests := []struct {
		name   string
		desc   string
		output string
	}{
		{"huge skill output", "short", strings.Repeat("output line\n", 20000)},
		{"long description and output", strings.Repeat("Lorem ipsum dolor sit amet.\n\n", 1100), strings.Repeat("y", 3900)},
		{"long description that escapes in JSON", strings.Repeat(`"q" `, 7500), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := conformance.Ticket()
			tk.Description = tt.desc
			for i := 0; i < 8; i++ {
				tk.SkillResults = append(tk.SkillResults, tk.SkillResults[0])
				tk.SkillResults[i].Output = tt.output
			}
			doc := DescriptionADF(tk)
			// Measured as Jira counts: after JSON decoding of the HTML
			// escapes json.Marshal adds.
			if n := adfSize(doc); n > MaxRichText {
				t.Errorf("ADF is %d bytes, limit %d", n, MaxRichText)
			}
			b, _ := json.Marshal(doc)
			if err := jirafake.CheckADF(b); err != nil {
				t.Errorf("not valid ADF: %v", err)
			}
			if p := PlainDescription(tk); utf8.RuneCountInString(p) > MaxRichText {
				t.Errorf("plain text is %d characters", utf8.RuneCountInString(p))
			}
		})
	}
}

func TestPlainDescription(t *testing.T) {
	tk := richTicket()
	got := PlainDescription(tk)
	for _, want := range []string{
		"Since Monday the VPN disconnects.\nAbout once an hour.\n\nIt reconnects by itself.",
		"\n\nReported by\n- Name: Alice Example\n- Email: alice@example.com",
		"\n\nSystem information\n- OS: debian 12",
		"\n\nSkill: Flush DNS cache\n- Status: success\n- Duration: 120 ms\n- Skill ID: dns-flush\nOutput:\n    flushed\n    ok",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plain description lacks %q:\n%s", want, got)
		}
	}
}

func TestTextADFControlCharacters(t *testing.T) {
	doc := TextADF("a\x00b\r\nc\x1b")
	b, _ := json.Marshal(doc)
	if err := jirafake.CheckADF(b); err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, `\u0000`) || strings.Contains(s, `\u001b`) {
		t.Errorf("control characters kept: %s", s)
	}
}
