package zendesk

import (
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// vendorMessage extracts Zendesk's error text from the shapes its API
// answers with:
//
//	{"error":"RecordInvalid","description":"Record validation errors","details":{"<field>":[{"description":"…","error":"…"}]}}
//	{"error":"RecordNotFound","description":"Not found"}
//	{"error":{"title":"Forbidden","message":"…"}}                       (403)
//	{"error":"invalid_token","error_description":"…"}                    (OAuth)
//	{"error":"Couldn't authenticate you"}                                 (401)
//	{"status":500,"error":"Internal Server Error"}
//	text/plain, as 429 and API-level errors may be
//
// The result is "error: description" followed by each detail's own
// description, sorted by field. An HTML page (a proxy, a closed account)
// gives "".
func vendorMessage(_ int, body []byte) string {
	b := strings.TrimSpace(string(body))
	if b == "" || !utf8.ValidString(b) {
		return ""
	}
	if !strings.HasPrefix(b, "{") {
		if strings.HasPrefix(b, "<") {
			return ""
		}
		line, _, _ := strings.Cut(b, "\n")
		return rest.Truncate(strings.TrimSpace(line), rest.MaxMessage)
	}
	var e struct {
		Error            json.RawMessage `json:"error"`
		Description      string          `json:"description"`
		ErrorDescription string          `json:"error_description"`
		Details          map[string][]struct {
			Description string `json:"description"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var parts []string
	var code string
	var obj struct{ Title, Message string }
	switch {
	case json.Unmarshal(e.Error, &code) == nil:
		parts = append(parts, code)
	case json.Unmarshal(e.Error, &obj) == nil:
		parts = append(parts, obj.Title, obj.Message)
	}
	parts = append(parts, e.Description, e.ErrorDescription)
	msg := join(parts, ": ")
	var details []string
	for _, field := range slices.Sorted(maps.Keys(e.Details)) {
		for _, d := range e.Details[field] {
			details = append(details, d.Description)
		}
	}
	if d := join(details, "; "); d != "" {
		msg = join([]string{msg, d}, ": ")
	}
	return rest.Truncate(msg, rest.MaxMessage)
}

// join joins the non-blank parts.
func join(parts []string, sep string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// isIdempotencyMismatch reports whether Zendesk refused a create because
// its Idempotency-Key was used with another body.
func isIdempotencyMismatch(err error) bool {
	var e *connectors.Error
	return errors.As(err, &e) && e.Status == http.StatusBadRequest && strings.HasPrefix(e.Message, "IdempotentRequestError")
}

// isNoSuchHost reports whether the error is a DNS answer that the host
// does not exist (a mistyped subdomain), not a resolver that is down.
func isNoSuchHost(err error) bool {
	var d *net.DNSError
	return errors.As(err, &d) && d.IsNotFound
}
