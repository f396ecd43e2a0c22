package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Zendesk sends two families of payloads:
//
//   - event-subscription webhooks: Zendesk's envelope
//     {type: "zen:event-type:ticket.…", id, time, subject: "zen:ticket:<id>",
//     detail{id, status, external_id, updated_at, …}, event{…}};
//   - trigger and automation webhooks: whatever JSON the admin wrote. Ours
//     is ZendeskTriggerTemplate (README "Status webhooks").
type zendeskPayload struct {
	Type    *string          `json:"type"`
	Time    string           `json:"time"`
	Subject string           `json:"subject"`
	Detail  json.RawMessage  `json:"detail"` // read for ticket events only
	Event   json.RawMessage  `json:"event"`
	Ticket  *zendeskTemplate `json:"ticket"`
}

type zendeskDetail struct {
	ID         text   `json:"id"`
	Status     string `json:"status"`
	ExternalID text   `json:"external_id"`
	UpdatedAt  string `json:"updated_at"`
}

type zendeskCommentEvent struct {
	Comment *struct {
		ID       text   `json:"id"`
		Body     string `json:"body"`
		IsPublic *bool  `json:"is_public"`
		Author   struct {
			Name string `json:"name"`
		} `json:"author"`
	} `json:"comment"`
}

// zendeskTemplate is the "ticket" object of ZendeskTriggerTemplate.
type zendeskTemplate struct {
	ID         text  `json:"id"`
	ExternalID text  `json:"external_id"`
	Status     text  `json:"status"`
	Assignee   *text `json:"assignee"`
	UpdatedAt  text  `json:"updated_at"`
}

// ZendeskTriggerTemplate is the JSON body to give a Zendesk webhook that a
// trigger (or automation) calls, e.g. on "Ticket is updated" with
// "Status changed" or "Assignee changed". Zendesk fills the placeholders;
// an unassigned ticket renders an empty assignee.
const ZendeskTriggerTemplate = `{
  "ticketray": 1,
  "ticket": {
    "id": "{{ticket.id}}",
    "external_id": "{{ticket.external_id}}",
    "status": "{{ticket.status}}",
    "assignee": "{{ticket.assignee.name}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}"
  }
}`

const (
	zendeskEventPrefix  = "zen:event-type:"
	zendeskTicketPrefix = "zen:ticket:"
)

func parseZendesk(body []byte) (Event, error) {
	var p zendeskPayload
	if err := decode(body, &p); err != nil {
		return Event{}, err
	}
	switch {
	case p.Type != nil:
		return zendeskEvent(&p)
	case p.Ticket != nil:
		return zendeskTrigger(p.Ticket)
	}
	return Event{}, fmt.Errorf("%w: neither a Zendesk event nor the Ticketray trigger template", ErrMalformed)
}

func zendeskEvent(p *zendeskPayload) (Event, error) {
	typ := *p.Type
	name, ok := strings.CutPrefix(typ, zendeskEventPrefix)
	if !ok {
		return Event{}, fmt.Errorf("%w: type is not a zen:event-type", ErrMalformed)
	}
	if !strings.HasPrefix(name, "ticket.") {
		return Event{}, fmt.Errorf("%w: %s", ErrNotTicket, typ)
	}
	id, _ := strings.CutPrefix(p.Subject, zendeskTicketPrefix)
	ev := Event{Type: typ, Action: ActionUpdated}
	var d *zendeskDetail
	if err := unmarshalOptional(p.Detail, &d); err != nil {
		return Event{}, fmt.Errorf("%w: detail: %s", ErrMalformed, jsonError(err))
	}
	if d != nil {
		if id == "" {
			id = string(d.ID)
		}
		ev.Status = strings.ToLower(d.Status)
		ev.ExternalID = string(d.ExternalID)
		ev.UpdatedAt = parseTime(d.UpdatedAt)
	}
	if id == "" {
		return Event{}, fmt.Errorf("%w: %s names no ticket", ErrMalformed, typ)
	}
	ev.RemoteID, ev.RemoteKey = id, id
	if ev.UpdatedAt.IsZero() {
		ev.UpdatedAt = parseTime(p.Time)
	}
	switch name {
	case "ticket.soft_deleted", "ticket.permanently_deleted", "ticket.deleted":
		ev.Action = ActionDeleted
	case "ticket.comment_added":
		var e zendeskCommentEvent
		if err := unmarshalOptional(p.Event, &e); err != nil {
			return Event{}, fmt.Errorf("%w: event: %s", ErrMalformed, jsonError(err))
		}
		if c := e.Comment; c != nil {
			ev.Action = ActionComment
			ev.Comment = &Comment{
				ID:        string(c.ID),
				Author:    c.Author.Name,
				Body:      c.Body,
				Public:    c.IsPublic == nil || *c.IsPublic,
				CreatedAt: parseTime(p.Time),
			}
		}
	case "ticket.status_changed":
		if ev.Status == "" {
			var e struct {
				Current string `json:"current"`
			}
			if json.Unmarshal(p.Event, &e) == nil {
				ev.Status = strings.ToLower(e.Current)
			}
		}
	}
	return ev, nil
}

func zendeskTrigger(t *zendeskTemplate) (Event, error) {
	id := strings.TrimSpace(string(t.ID))
	if id == "" {
		return Event{}, fmt.Errorf("%w: ticket.id is empty", ErrMalformed)
	}
	ev := Event{
		Type:       "trigger",
		Action:     ActionUpdated,
		RemoteID:   id,
		RemoteKey:  id,
		ExternalID: strings.TrimSpace(string(t.ExternalID)),
		Status:     strings.ToLower(strings.TrimSpace(string(t.Status))),
		UpdatedAt:  parseTime(string(t.UpdatedAt)),
	}
	if t.Assignee != nil {
		ev.AssigneeSet = true
		ev.Assignee = strings.TrimSpace(string(*t.Assignee))
	}
	return ev, nil
}

// unmarshalOptional decodes raw unless it is absent.
func unmarshalOptional(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}
