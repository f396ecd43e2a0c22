package salesforce

import (
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// limitWait is how long to wait after 403 REQUEST_LIMIT_EXCEEDED, which
// carries no Retry-After: the org's allowance is a rolling 24 hours, so
// capacity comes back gradually, not at a known time.
const limitWait = 15 * time.Minute

// apiError is one entry of Salesforce's error body, a JSON array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// vendorMessage extracts Salesforce's error text. The REST API answers
// [{"message","errorCode","fields"}]: each becomes "CODE: message (fields:
// a, b)", joined by "; ". A 300 to an upsert lists the matching records'
// URLs: they become "several records match: <ids>". The OAuth endpoint's
// {"error","error_description"} becomes "error: description". Any other
// body (an HTML page from a proxy, a login redirect) gives "".
func vendorMessage(status int, body []byte) string {
	var list []apiError
	if json.Unmarshal(body, &list) == nil && len(list) > 0 && list[0].ErrorCode != "" {
		parts := make([]string, 0, len(list))
		for _, e := range list {
			s := strings.TrimSpace(e.ErrorCode + ": " + strings.TrimSpace(e.Message))
			if len(e.Fields) > 0 {
				s += " (fields: " + strings.Join(e.Fields, ", ") + ")"
			}
			parts = append(parts, s)
		}
		return rest.Truncate(strings.Join(parts, "; "), rest.MaxMessage)
	}
	var urls []string
	if status == http.StatusMultipleChoices && json.Unmarshal(body, &urls) == nil && len(urls) > 0 {
		ids := make([]string, len(urls))
		for i, u := range urls {
			ids[i] = path.Base(u)
		}
		return rest.Truncate("several records match: "+strings.Join(ids, ", "), rest.MaxMessage)
	}
	var oa struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oa) == nil && oa.Error != "" {
		return rest.Truncate(strings.TrimSpace(oa.Error+": "+oa.Description), rest.MaxMessage)
	}
	return ""
}

// errorCode is the first error code in a message vendorMessage made.
func errorCode(msg string) string {
	code, _, ok := strings.Cut(msg, ":")
	if !ok || code == "" || strings.ToUpper(code) != code || strings.ContainsAny(code, " ") {
		return ""
	}
	return code
}

// classify applies Salesforce's semantics on top of the HTTP status:
//
//   - 403 REQUEST_LIMIT_EXCEEDED (the org's API allowance is used up) and
//     400/409 UNABLE_TO_LOCK_ROW (another transaction holds the record) are
//     waits: retryable. The limit waits limitWait unless told otherwise.
//   - 503 SERVER_UNAVAILABLE and every 5xx stay retryable.
//   - 300 (several records carry the key) is permanent: a retry would find
//     the same duplicates.
//   - Everything else keeps the status's class (401 INVALID_SESSION_ID,
//     403 INSUFFICIENT_ACCESS, 404 NOT_FOUND, 400 INVALID_FIELD … are
//     permanent).
func classify(err error) error {
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status == 0 {
		return err
	}
	switch code := errorCode(e.Message); {
	case code == "REQUEST_LIMIT_EXCEEDED":
		e.Class, e.Throttled = connectors.Retryable, true
		if e.RetryAfter == 0 {
			e.RetryAfter = limitWait
		}
	case code == "UNABLE_TO_LOCK_ROW":
		e.Class = connectors.Retryable
	case e.Status == http.StatusMultipleChoices:
		e.Class = connectors.Permanent
	}
	return err
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
