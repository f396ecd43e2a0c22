package webhooks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors/jira"
)

// jiraPayload is the part of a Jira webhook (Cloud and Server/Data
// Center, issue and comment events) that Ticketray reads. Server/DC and
// comment_* deliveries may lack issue_event_type_name.
type jiraPayload struct {
	Timestamp          text         `json:"timestamp"` // ms since the epoch
	WebhookEvent       string       `json:"webhookEvent"`
	IssueEventTypeName string       `json:"issue_event_type_name"`
	Issue              *jiraIssue   `json:"issue"`
	Comment            *jiraComment `json:"comment"`
}

type jiraIssue struct {
	ID     text `json:"id"`
	Key    string
	Fields struct {
		Status *struct {
			Name           string `json:"name"`
			StatusCategory *struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
		Assignee json.RawMessage `json:"assignee"` // absent, null or a user
		Updated  string          `json:"updated"`
		Labels   json.RawMessage `json:"labels"`
	} `json:"fields"`
}

type jiraUser struct {
	DisplayName string `json:"displayName"`
}

type jiraComment struct {
	ID         text            `json:"id"`
	Author     *jiraUser       `json:"author"`
	Body       json.RawMessage `json:"body"` // a string (v2) or an ADF document
	Created    string          `json:"created"`
	Updated    string          `json:"updated"`
	JSDPublic  *bool           `json:"jsdPublic"`
	Visibility json.RawMessage `json:"visibility"` // set: restricted to a group or role
}

// jiraLabelPrefix marks the label holding Ticketray's idempotency key
// (see connectors/jira).
const jiraLabelPrefix = "ticketray-"

func parseJira(body []byte) (Event, error) {
	var p jiraPayload
	if err := decode(body, &p); err != nil {
		return Event{}, err
	}
	if p.Issue == nil {
		return Event{}, fmt.Errorf("%w: %q has no issue", ErrNotTicket, p.WebhookEvent)
	}
	is := p.Issue
	if is.ID == "" && is.Key == "" {
		return Event{}, fmt.Errorf("%w: the issue has neither id nor key", ErrMalformed)
	}
	ev := Event{
		Type:       p.WebhookEvent,
		Action:     jiraAction(p.WebhookEvent, p.IssueEventTypeName),
		RemoteID:   string(is.ID),
		RemoteKey:  is.Key,
		ExternalID: jiraExternalID(is.Fields.Labels),
	}
	if ev.Type == "" {
		ev.Type = p.IssueEventTypeName
	}
	if st := is.Fields.Status; st != nil {
		ev.Status = st.Name
		if st.StatusCategory != nil {
			ev.StatusCategory = st.StatusCategory.Key
		}
	}
	if len(is.Fields.Assignee) > 0 {
		var u *jiraUser
		if err := json.Unmarshal(is.Fields.Assignee, &u); err != nil {
			return Event{}, fmt.Errorf("%w: issue.fields.assignee: %s", ErrMalformed, jsonError(err))
		}
		ev.AssigneeSet = true
		if u != nil {
			ev.Assignee = u.DisplayName
		}
	}
	ev.UpdatedAt = parseTime(is.Fields.Updated)
	if c := p.Comment; c != nil {
		ev.Comment = &Comment{
			ID:        string(c.ID),
			Body:      jira.PlainText(c.Body), // as status sync reads it
			Public:    len(c.Visibility) == 0 || string(c.Visibility) == "null",
			CreatedAt: parseTime(c.Created),
		}
		if c.JSDPublic != nil { // Jira Service Management: shared with the customer
			ev.Comment.Public = *c.JSDPublic
		}
		if c.Author != nil {
			ev.Comment.Author = c.Author.DisplayName
		}
		if ev.Action == ActionUpdated { // a comment rode on an issue event
			ev.Action = ActionComment
		}
		if ev.UpdatedAt.IsZero() {
			ev.UpdatedAt = parseTime(c.Updated)
		}
	}
	if ev.UpdatedAt.IsZero() {
		if ms, err := strconv.ParseInt(string(p.Timestamp), 10, 64); err == nil && ms > 0 {
			ev.UpdatedAt = time.UnixMilli(ms).UTC()
		}
	}
	return ev, nil
}

func jiraAction(webhookEvent, typeName string) Action {
	switch webhookEvent {
	case "jira:issue_deleted":
		return ActionDeleted
	case "comment_created":
		return ActionComment
	case "comment_updated":
		return ActionCommentUpdated
	case "comment_deleted":
		return ActionCommentDeleted
	}
	switch typeName {
	case "issue_deleted":
		return ActionDeleted
	case "issue_commented":
		return ActionComment
	case "issue_comment_edited":
		return ActionCommentUpdated
	case "issue_comment_deleted":
		return ActionCommentDeleted
	}
	return ActionUpdated
}

// jiraExternalID finds the ticketray-<key> label; labels of another shape
// are not an error (they are not Ticketray's).
func jiraExternalID(raw json.RawMessage) string {
	var labels []string
	if json.Unmarshal(raw, &labels) != nil {
		return ""
	}
	for _, l := range labels {
		if key, ok := strings.CutPrefix(l, jiraLabelPrefix); ok && key != "" {
			return key
		}
	}
	return ""
}
