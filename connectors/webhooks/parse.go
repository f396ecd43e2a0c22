package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Parse reads one verified body of kind into an Event. DeliveryID and
// Connection are left for the caller. Errors wrap ErrMalformed (not the
// vendor's JSON), ErrNotTicket (well-formed, about no ticket) or
// ErrUnsupported; they never quote the body.
func Parse(kind Kind, body []byte) (Event, error) {
	var (
		ev  Event
		err error
	)
	switch kind {
	case KindJira, KindJSM:
		ev, err = parseJira(body)
	case KindZendesk:
		ev, err = parseZendesk(body)
	case KindServiceNow:
		ev, err = parseServiceNow(body)
	default:
		return Event{}, fmt.Errorf("%w: %q", ErrUnsupported, kind)
	}
	if err != nil {
		return Event{}, fmt.Errorf("%s webhook: %w", kind, err)
	}
	ev.Kind = kind
	return ev, nil
}

// decode unmarshals one JSON object; anything else is ErrMalformed, with
// the decoder's message (an offset and a type, never the text).
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s", ErrMalformed, jsonError(err))
	}
	return nil
}

// jsonError describes a decoding error without the input's bytes.
func jsonError(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at offset %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("%s: a JSON %s where %s was expected", e.Field, e.Value, e.Type)
	}
	return "invalid JSON"
}

// text is a JSON string, number, boolean or null read as a string: vendors
// send ids either way ("5158" and 5158).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '{' || b[0] == '[':
		return &json.UnmarshalTypeError{Value: "object", Type: jsonTextType}
	default:
		*t = text(b) // a number or a boolean, as written
	}
	return nil
}

var jsonTextType = reflect.TypeFor[string]()

// parseTime reads the time formats vendors send; a zero time if none fits.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000-0700", // Jira
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04:05",       // ServiceNow, UTC
	"2006-01-02 15:04:05 -0700", // Zendesk placeholders
	"2006-01-02 15:04:05.000000000 -0700",
}
