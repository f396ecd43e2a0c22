package webhooks

import "github.com/ticketray/ticketray/connectors"

// Update is ev in the sync job's terms, so that Apply stores it through the
// same status mapping and storage: Remote{ID: RemoteID, Number: RemoteKey},
// Status, Category (Jira's status category, else ServiceNow's hold reason),
// Assignee, UpdatedAt, and the comment when it is public and was added or
// edited. Update cannot say what Event says besides: when AssigneeSet is
// false keep the stored assignee instead of Update's empty one, and an
// ActionDeleted or ActionCommentDeleted event is Apply's to handle.
func (ev Event) Update() connectors.Update {
	u := connectors.Update{
		Remote:    connectors.Remote{ID: ev.RemoteID, Number: ev.RemoteKey},
		Status:    ev.Status,
		Category:  ev.StatusCategory,
		Assignee:  ev.Assignee,
		UpdatedAt: ev.UpdatedAt,
	}
	if u.Category == "" {
		u.Category = ev.StatusReason
	}
	if c := ev.Comment; c != nil && c.Public && (ev.Action == ActionComment || ev.Action == ActionCommentUpdated) {
		u.Comments = []connectors.RemoteComment{{ID: c.ID, Author: c.Author, Body: c.Body, CreatedAt: c.CreatedAt}}
	}
	return u
}
