package zendesk

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors/rest"
)

func TestVendorMessage(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"record invalid, details sorted by field", `{"error":"RecordInvalid","description":"Record validation errors","details":{"z":[{"description":"Z bad","error":"InvalidValue"}],"a":[{"description":"A blank","error":"BlankValue"},{"description":"A short","error":"TooShort"}]}}`,
			"RecordInvalid: Record validation errors: A blank; A short; Z bad"},
		{"not found", `{"error":"RecordNotFound","description":"Not found"}`, "RecordNotFound: Not found"},
		{"forbidden", `{"error":{"title":"Forbidden","message":"You do not have access to this page."}}`, "Forbidden: You do not have access to this page."},
		{"oauth", `{"error":"invalid_token","error_description":"The access token provided is expired"}`, "invalid_token: The access token provided is expired"},
		{"server error", `{"status":500,"error":"Internal Server Error"}`, "Internal Server Error"},
		{"plain text", "Too Many Requests\nmore", "Too Many Requests"},
		{"HTML page", "<!DOCTYPE html><html><body>Help Center Closed</body></html>", ""},
		{"JSON without error", `{"foo":1}`, ""},
		{"broken JSON", `{"error":`, ""},
		{"empty", "", ""},
		{"binary", "\xff\xfe", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vendorMessage(400, []byte(tt.body)); got != tt.want {
				t.Errorf("vendorMessage = %q, want %q", got, tt.want)
			}
		})
	}
	long := `{"error":"RecordInvalid","description":"` + strings.Repeat("é", 3000) + `"}`
	if got := vendorMessage(422, []byte(long)); len(got) > rest.MaxMessage+len("…") || !utf8.ValidString(got) {
		t.Errorf("a long message is %d bytes (valid UTF-8: %v)", len(got), utf8.ValidString(got))
	}
}

func TestCheckMapping(t *testing.T) {
	tests := []struct {
		kind, value string
		ok          bool
	}{
		{"priority", "urgent", true},
		{"priority", "normal", true},
		{"priority", "medium", false},
		{"priority", "Urgent", false},
		{"category", "network", true},
		{"category", "access_request", true},
		{"category", "two words", false},
		{"category", "a,b", false},
		{"category", " ", false},
		{"status", "anything", true},
	}
	for _, tt := range tests {
		if err := CheckMapping(tt.kind, tt.value); (err == nil) != tt.ok {
			t.Errorf("CheckMapping(%q, %q) = %v, want ok %v", tt.kind, tt.value, err, tt.ok)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"0123456789abcdef0123456789abcdef": true,
		"":                                 false,
		"has space":                        false,
		"tab\tkey":                         false,
		"ünï":                              false,
		strings.Repeat("k", maxKey):        true,
		strings.Repeat("k", maxKey+1):      false,
	} {
		if err := checkKey(key); (err == nil) != ok {
			t.Errorf("checkKey(%q) = %v, want ok %v", key, err, ok)
		}
	}
}
