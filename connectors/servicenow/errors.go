package servicenow

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

// maxMessage bounds the vendor message kept with a failed delivery.
const maxMessage = 1000

// vendorMessage extracts ServiceNow's error text from
// {"error":{"message":"…","detail":"…"},"status":"failure"}: "message:
// detail", or the message alone when detail is empty, null or the same.
// Any other body (an HTML page from a proxy, a hibernating instance) gives
// "".
func vendorMessage(_ int, body []byte) string {
	var b struct {
		Error *struct {
			Message string          `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil || b.Error == nil {
		return ""
	}
	msg := strings.TrimSpace(b.Error.Message)
	var detail string
	if json.Unmarshal(b.Error.Detail, &detail) == nil {
		detail = strings.TrimSpace(detail)
		switch {
		case msg == "":
			msg = detail
		case detail != "" && detail != msg:
			msg += ": " + detail
		}
	}
	return truncate(msg, maxMessage)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) { // do not split a character
		s = s[:len(s)-1]
	}
	return s + "…"
}

// redact removes the query (an email in a user lookup, a file name in an
// upload) and any user info from the URL that net/http puts in transport
// errors, so error text carries no ticket data.
func redact(err error) error {
	var e *connectors.Error
	if !errors.As(err, &e) || e.Err == nil {
		return err
	}
	var ue *url.Error
	if errors.As(e.Err, &ue) {
		clean := "request"
		if u, perr := url.Parse(ue.URL); perr == nil {
			clean = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
		}
		e.Err = &url.Error{Op: ue.Op, URL: clean, Err: ue.Err}
	}
	return err
}
