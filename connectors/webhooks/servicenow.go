package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ServiceNow has no webhook product: a Business Rule posts the incident
// with sn_ws.RESTMessageV2 (README "Status webhooks"). The contract is
// Ticketray's own, the Table API record shape:
//
//	{"number": "INC0010023", "sys_id": "…", "state": "6", "hold_reason": "",
//	 "assigned_to": "Beth Anglin", "sys_updated_on": "2026-12-06 16:00:00",
//	 "correlation_id": "<Ticketray key>",
//	 "comment": {"id": "…", "author": "…", "body": "…", "public": true,
//	             "created_at": "2026-12-06 16:00:00"}}
//
// "comment" is optional. The record may also come wrapped as a Table API
// response ({"result": {…}}), and each field as a string or as the
// {"value", "display_value"} or {"link", "value"} object of
// sysparm_display_value=all. Times without a zone are UTC (the Table API's
// value format).
type snRecord struct {
	Number        snValue    `json:"number"`
	SysID         snValue    `json:"sys_id"`
	State         snValue    `json:"state"`
	HoldReason    snValue    `json:"hold_reason"`
	AssignedTo    *snValue   `json:"assigned_to"`
	SysUpdatedOn  snValue    `json:"sys_updated_on"`
	CorrelationID snValue    `json:"correlation_id"`
	Comment       *snComment `json:"comment"`
}

type snComment struct {
	ID        text  `json:"id"`
	Author    text  `json:"author"`
	Body      text  `json:"body"`
	Public    *bool `json:"public"`
	CreatedAt text  `json:"created_at"`
}

// snValue is a Table API field: a plain value, or an object with value,
// display_value and link.
type snValue struct {
	Value      string
	Display    string
	HasDisplay bool
}

func (v *snValue) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
		var o struct {
			Value   text  `json:"value"`
			Display *text `json:"display_value"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		v.Value = string(o.Value)
		if o.Display != nil {
			v.Display, v.HasDisplay = string(*o.Display), true
		}
		return nil
	}
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	v.Value, v.Display, v.HasDisplay = string(t), string(t), true
	return nil
}

// shown is the value people read.
func (v snValue) shown() string {
	if v.HasDisplay && v.Display != "" {
		return v.Display
	}
	return v.Value
}

func parseServiceNow(body []byte) (Event, error) {
	var wrapped struct {
		Result json.RawMessage `json:"result"`
	}
	if err := decode(body, &wrapped); err != nil {
		return Event{}, err
	}
	if len(wrapped.Result) > 0 && string(wrapped.Result) != "null" {
		body = wrapped.Result
	}
	var r snRecord
	if err := decode(body, &r); err != nil {
		return Event{}, err
	}
	if r.Number.Value == "" && r.SysID.Value == "" {
		return Event{}, fmt.Errorf("%w: the record has neither number nor sys_id", ErrMalformed)
	}
	ev := Event{
		Type:         "business_rule",
		Action:       ActionUpdated,
		RemoteID:     r.SysID.Value,
		RemoteKey:    r.Number.shown(),
		ExternalID:   r.CorrelationID.Value,
		Status:       r.State.Value,
		StatusReason: r.HoldReason.Value,
		UpdatedAt:    parseTime(r.SysUpdatedOn.Value),
	}
	if a := r.AssignedTo; a != nil {
		switch {
		case a.HasDisplay && a.Display != "":
			ev.Assignee, ev.AssigneeSet = a.Display, true
		case a.Value == "": // nobody
			ev.AssigneeSet = true
		} // else a sys_id without a name: keep what is stored
	}
	if c := r.Comment; c != nil {
		ev.Action = ActionComment
		ev.Comment = &Comment{
			ID:        string(c.ID),
			Author:    strings.TrimSpace(string(c.Author)),
			Body:      string(c.Body),
			Public:    c.Public == nil || *c.Public,
			CreatedAt: parseTime(string(c.CreatedAt)),
		}
	}
	return ev, nil
}
