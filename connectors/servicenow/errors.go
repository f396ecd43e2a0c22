package servicenow

import (
	"encoding/json"
	"strings"

	"github.com/ticketray/ticketray/connectors/rest"
)

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
	return rest.Truncate(msg, rest.MaxMessage)
}
