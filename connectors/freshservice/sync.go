package freshservice

import (
	"context"
	"errors"
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

const (
	agentsPath = "/api/v2/agents"

	// listPage is the list API's largest page; filterPage the filter
	// API's fixed page; conversationPage the conversations API's largest.
	listPage         = 100
	filterPage       = 30
	conversationPage = 100
	// maxPages bounds one listing, so a misbehaving answer cannot loop.
	maxPages = 100
)

// statusRows are the built-in status rows: Freshservice's status codes.
// Open (2) is in_progress, or backlog while nobody is assigned (see
// localStatus).
var statusRows = map[string]string{
	"2": connectors.StateInProgress,
	"3": connectors.StateWaitingOnYou,
	"4": connectors.StateResolved,
	"5": connectors.StateClosed,
}

// localStatus is the one rule the table cannot say: Freshservice has no
// "new" status, so an Open ticket nobody is assigned to is still in the
// backlog. A mappings.status row for 2 other than in_progress wins.
func localStatus(table map[string]string, u connectors.Update) string {
	if u.Status == "2" && u.Assignee == "" && table["2"] == connectors.StateInProgress {
		return connectors.StateBacklog
	}
	return ""
}

// syncTicket is what Sync reads of a ticket.
type syncTicket struct {
	ID          int64  `json:"id"`
	Status      int    `json:"status"`
	ResponderID *int64 `json:"responder_id"`
	RequesterID int64  `json:"requester_id"`
	UpdatedAt   string `json:"updated_at"`
}

// conversation is a reply or note on a ticket.
type conversation struct {
	ID        int64  `json:"id"`
	UserID    int64  `json:"user_id"`
	BodyText  string `json:"body_text"`
	Private   bool   `json:"private"`
	Incoming  bool   `json:"incoming"`
	CreatedAt string `json:"created_at"`
}

// Sync finds the tickets changed since with one listing of the
// connection's workspace: GET /api/v2/tickets?updated_since=…&order_type=asc
// (100 a page), or, on a first sync (since zero), the filter API for the
// Ticketray tag, as Find scopes it (30 a page). It keeps those among
// remotes, names their agents (GET /api/v2/agents/{id}, once per agent
// and connector) and reads each changed ticket's public replies and notes
// (GET /api/v2/tickets/{id}/conversations): Freshservice embeds
// conversations only when viewing one ticket, so comments cost one request
// per changed ticket; unchanged tickets cost nothing.
func (c *Connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	const op = "sync"
	want := map[int64]bool{}
	for _, r := range remotes {
		if id, err := ticketID(op, r); err == nil {
			want[id] = true
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	changed, err := c.changed(ctx, since)
	if err != nil {
		return nil, err
	}
	var ups []connectors.Update
	for _, t := range changed {
		upd, perr := time.Parse(time.RFC3339, t.UpdatedAt)
		if !want[t.ID] || t.Status == 0 || (perr == nil && !since.IsZero() && upd.Before(since)) {
			continue
		}
		delete(want, t.ID) // a ticket listed twice (it moved between pages) is reported once
		u := connectors.Update{Remote: c.remote(t.ID), Status: strconv.Itoa(t.Status), UpdatedAt: upd.UTC()}
		if t.ResponderID != nil {
			if u.Assignee, err = c.agentName(ctx, *t.ResponderID); err != nil {
				return ups, err
			}
		}
		if u.Comments, err = c.publicComments(ctx, t, since); err != nil {
			return ups, err
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// changed lists the tickets of the connection's workspace updated at or
// after since, oldest first; with since zero, every ticket carrying the
// Ticketray tag where the connection creates.
func (c *Connector) changed(ctx context.Context, since time.Time) ([]syncTicket, error) {
	const op = "sync"
	var all []syncTicket
	for page := 1; page <= maxPages; page++ {
		var req rest.Request
		size := listPage
		if since.IsZero() {
			size = filterPage
			q := "tag:'" + productTag + "'"
			if c.cfg.workspaceID > 0 {
				q += " AND workspace_id:" + strconv.FormatInt(c.cfg.workspaceID, 10)
			}
			req = rest.Request{Op: op, Method: http.MethodGet, Path: filterPath,
				Query: url.Values{"query": {`"` + q + `"`}, "page": {strconv.Itoa(page)}}}
		} else {
			q := url.Values{
				"updated_since": {since.UTC().Truncate(time.Second).Format(time.RFC3339)},
				"order_type":    {"asc"},
				"per_page":      {strconv.Itoa(listPage)},
				"page":          {strconv.Itoa(page)},
			}
			if c.cfg.workspaceID > 0 {
				q.Set("workspace_id", strconv.FormatInt(c.cfg.workspaceID, 10))
			}
			req = rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath, Query: q}
		}
		var out struct {
			Tickets []syncTicket `json:"tickets"`
		}
		if err := c.do(ctx, req, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Tickets...)
		if len(out.Tickets) < size {
			break
		}
	}
	return all, nil
}

// agentName is the agent's display name, read once per connector.
func (c *Connector) agentName(ctx context.Context, id int64) (string, error) {
	c.mu.Lock()
	name, ok := c.agents[id]
	c.mu.Unlock()
	if ok {
		return name, nil
	}
	var out struct {
		Agent struct {
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
		} `json:"agent"`
	}
	err := c.do(ctx, rest.Request{Op: "sync", Method: http.MethodGet, Path: agentsPath + "/" + strconv.FormatInt(id, 10)}, &out)
	var e *connectors.Error
	if err != nil && !(errors.As(err, &e) && e.Status == http.StatusNotFound) {
		return "", err
	}
	// A requester or a deleted agent (404) stays nameless, and is not
	// asked for again.
	name = strings.TrimSpace(out.Agent.FirstName + " " + out.Agent.LastName)
	c.mu.Lock()
	if c.agents == nil {
		c.agents = map[int64]string{}
	}
	c.agents[id] = name
	c.mu.Unlock()
	return name, nil
}

// publicComments reads a ticket's conversations and keeps what the
// requester sees from the help desk: replies and public notes, not private
// notes nor the requester's own messages (incoming, or by the requester),
// created at or after since.
func (c *Connector) publicComments(ctx context.Context, t syncTicket, since time.Time) ([]connectors.RemoteComment, error) {
	var out []connectors.RemoteComment
	for page := 1; page <= maxPages; page++ {
		var resp struct {
			Conversations []conversation `json:"conversations"`
		}
		err := c.do(ctx, rest.Request{Op: "sync", Method: http.MethodGet, Path: ticketsPath + "/" + strconv.FormatInt(t.ID, 10) + "/conversations",
			Query: url.Values{"per_page": {strconv.Itoa(conversationPage)}, "page": {strconv.Itoa(page)}}}, &resp)
		if err != nil {
			return out, err
		}
		for _, cv := range resp.Conversations {
			at, _ := time.Parse(time.RFC3339, cv.CreatedAt)
			if cv.Private || cv.Incoming || cv.UserID == t.RequesterID || (!since.IsZero() && at.Before(since)) {
				continue
			}
			author, err := c.agentName(ctx, cv.UserID)
			if err != nil {
				return out, err
			}
			out = append(out, connectors.RemoteComment{ID: strconv.FormatInt(cv.ID, 10), Author: author,
				Body: strings.TrimSpace(cv.BodyText), CreatedAt: at.UTC()})
		}
		if len(resp.Conversations) < conversationPage {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b connectors.RemoteComment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}
