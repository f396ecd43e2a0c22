package freshservice

import (
	"encoding/json"
	"strings"

	"github.com/ticketray/ticketray/connectors/rest"
)

// vendorMessage extracts Freshservice's error text. Freshservice v2
// answers with one of:
//
//	{"description":"Validation failed","errors":[{"field":"email","message":"…","code":"invalid_value"}]}
//	{"errors":[{"field":"…","code":"…","message":"…"}]}   (the Freshworks-published spec)
//	{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}
//	{"message":"…"}
//
// Field errors read "field: message (code)", joined by "; " after the
// description. Any other body (an HTML page for an unknown domain or a
// proxy) gives "".
func vendorMessage(_ int, body []byte) string {
	var b struct {
		Description string `json:"description"`
		Code        string `json:"code"`
		Message     string `json:"message"`
		Errors      []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	var parts []string
	for _, e := range b.Errors {
		s := strings.TrimSpace(e.Message)
		if f := strings.TrimSpace(e.Field); f != "" {
			s = strings.TrimSpace(f + ": " + s)
		}
		if c := strings.TrimSpace(e.Code); c != "" {
			s = strings.TrimSpace(s + " (" + c + ")")
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	msg := strings.TrimSpace(b.Message)
	if c := strings.TrimSpace(b.Code); c != "" && msg != "" {
		msg += " (" + c + ")"
	} else if msg == "" {
		msg = c
	}
	head := strings.TrimSpace(b.Description)
	if msg != "" {
		head = strings.TrimSpace(strings.TrimSuffix(head+": "+msg, ": "))
		head = strings.TrimPrefix(head, ": ")
	}
	switch {
	case head != "" && len(parts) > 0:
		head += ": " + strings.Join(parts, "; ")
	case len(parts) > 0:
		head = strings.Join(parts, "; ")
	}
	return rest.Truncate(head, rest.MaxMessage)
}
