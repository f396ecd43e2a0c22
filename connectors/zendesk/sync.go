package zendesk

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

var _ connectors.Syncer = (*Connector)(nil)

const showManyPath = ticketsPath + "/show_many"

// maxShowMany is how many ids one GET /api/v2/tickets/show_many takes.
const maxShowMany = 100

// statusRows are the built-in status rows: Zendesk's statuses (with
// custom statuses on, their categories). Pending waits on the requester;
// on-hold waits on a third party, so the help desk still has it.
var statusRows = map[string]string{
	"new":     connectors.StateBacklog,
	"open":    connectors.StateInProgress,
	"pending": connectors.StateWaitingOnYou,
	"hold":    connectors.StateInProgress,
	"solved":  connectors.StateResolved,
	"closed":  connectors.StateClosed,
}

// syncTicket is what Sync reads of a ticket.
type syncTicket struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	AssigneeID  *int64 `json:"assignee_id"`
	RequesterID int64  `json:"requester_id"`
	UpdatedAt   string `json:"updated_at"`
}

// audit is a sideloaded ticket audit (last_audits): one update and its
// events.
type audit struct {
	TicketID  int64        `json:"ticket_id"`
	AuthorID  int64        `json:"author_id"`
	CreatedAt string       `json:"created_at"`
	Events    []auditEvent `json:"events"`
}

// auditEvent is one event of an audit; Comment events carry a body.
type auditEvent struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	AuthorID  int64  `json:"author_id"`
	Body      string `json:"body"`
	PlainBody string `json:"plain_body"`
	Public    bool   `json:"public"`
}

// Sync reads the tickets with GET /api/v2/tickets/show_many, 100 ids a
// request, sideloading users (the assignees' and authors' names) and
// last_audits (each ticket's latest update, whose public Comment events
// are the help desk's new replies). It reports the tickets updated at or
// after since. The incremental export would be cheaper still but is for
// admins only, and the ids are exactly the tickets this connection
// created.
//
// Comments come from each ticket's latest audit only: a public reply
// followed, within one poll interval, by another update without a comment
// (an automation closing the ticket, say) is not seen by the sync.
func (c *Connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	const op = "sync"
	var ids []string
	for _, r := range remotes {
		if id, err := ticketID(op, r); err == nil && !slices.Contains(ids, strconv.FormatInt(id, 10)) {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
	}
	var ups []connectors.Update
	for batch := range slices.Chunk(ids, maxShowMany) {
		var out struct {
			Tickets []syncTicket `json:"tickets"`
			Users   []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"users"`
			Audits []audit `json:"audits"`
		}
		err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: showManyPath,
			Query: url.Values{"ids": {strings.Join(batch, ",")}, "include": {"users,last_audits"}}}, &out)
		if err != nil {
			return ups, err
		}
		names := make(map[int64]string, len(out.Users))
		for _, u := range out.Users {
			names[u.ID] = u.Name
		}
		for _, t := range out.Tickets {
			if !slices.Contains(batch, strconv.FormatInt(t.ID, 10)) {
				continue // not asked for
			}
			upd, err := time.Parse(time.RFC3339, t.UpdatedAt)
			if err == nil && !since.IsZero() && upd.Before(since) {
				continue
			}
			u := connectors.Update{Remote: c.remote(t.ID), Status: t.Status, UpdatedAt: upd.UTC()}
			if t.AssigneeID != nil {
				u.Assignee = names[*t.AssigneeID]
			}
			for _, a := range out.Audits {
				if a.TicketID == t.ID {
					u.Comments = append(u.Comments, publicComments(a, t.RequesterID, names)...)
				}
			}
			ups = append(ups, u)
		}
	}
	return ups, nil
}

// publicComments are the help desk's public Comment events of an audit, as
// plain text: not internal notes, and not the requester's own replies.
func publicComments(a audit, requester int64, names map[int64]string) []connectors.RemoteComment {
	created, _ := time.Parse(time.RFC3339, a.CreatedAt)
	var out []connectors.RemoteComment
	if slices.ContainsFunc(a.Events, func(e auditEvent) bool { return e.Type == "Create" }) {
		return nil // the ticket's creation: its comment is the user's own description
	}
	for _, e := range a.Events {
		if e.Type != "Comment" || !e.Public {
			continue
		}
		body := e.PlainBody
		if body == "" {
			body = e.Body
		}
		author := e.AuthorID
		if author == 0 {
			author = a.AuthorID
		}
		if author == requester {
			continue
		}
		out = append(out, connectors.RemoteComment{ID: strconv.FormatInt(e.ID, 10), Author: names[author],
			Body: body, CreatedAt: created.UTC()})
	}
	return out
}
