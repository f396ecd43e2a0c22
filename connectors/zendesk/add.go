package zendesk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
	"github.com/ticketray/ticketray/connectors/rest"
)

var _ connectors.Adder = (*Connector)(nil)

// maxCommentPages bounds FindAddition's walk through a ticket's comments
// (100 a page).
const maxCommentPages = 50

// Add posts the reporter's addition as one public comment (PUT
// /api/v2/tickets/{id} with comment.public and comment.uploads): the text,
// who added it, and connectors.AdditionMarker(a.Key) on its own last line,
// since Zendesk comments have no properties of their own. The files are
// uploaded first and carried by the same comment, so text and files land
// together or not at all; a retry uploads again (unused upload tokens
// expire) and finds the comment first.
func (c *Connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	const op = "add"
	id, err := ticketID(op, r)
	if err != nil {
		return err
	}
	if err := checkKey(a.Key); err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	if strings.TrimSpace(a.Text) == "" && len(a.Attachments) == 0 {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the addition is empty")}
	}
	requester, err := c.requesterIs(ctx, op, id, a.Author.Email)
	if err != nil {
		return err
	}
	tokens, err := c.upload(ctx, op, a.Attachments)
	if err != nil {
		return err
	}
	comment := map[string]any{"body": description.Addition(a), "public": true}
	if requester != 0 {
		// The reporter's own reply, as if by email: Zendesk does not mail
		// them their own words, and a pending or solved ticket reopens.
		comment["author_id"] = requester
	}
	if len(tokens) > 0 {
		comment["uploads"] = tokens
	}
	err = c.update(ctx, op, id, comment)
	var e *connectors.Error
	if errors.As(err, &e) && e.Class == connectors.Retryable {
		// The comment may be on the ticket: the retry finds first.
		e.Sent = true
	}
	return err
}

// requesterIs returns the ticket's requester's user id when the
// requester's email is email (the reporter, as Create sets it), else 0:
// the comment is then the agent's, naming the reporter in its body.
func (c *Connector) requesterIs(ctx context.Context, op string, id int64, email string) (int64, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return 0, nil
	}
	var out struct {
		Ticket struct {
			RequesterID int64 `json:"requester_id"`
		} `json:"ticket"`
		Users []struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"users"`
	}
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath + "/" + strconv.FormatInt(id, 10),
		Query: url.Values{"include": {"users"}}}, &out)
	if err != nil {
		return 0, err
	}
	for _, u := range out.Users {
		if u.ID != 0 && u.ID == out.Ticket.RequesterID && strings.EqualFold(u.Email, email) {
			return u.ID, nil
		}
	}
	return 0, nil
}

// FindAddition lists the ticket's own comments (GET
// /api/v2/tickets/{id}/comments, cursor pagination, 100 a page) and
// reports whether one has the key's marker as a line of its body.
func (c *Connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	const op = "find addition"
	id, err := ticketID(op, r)
	if err != nil {
		return false, err
	}
	if err := checkKey(key); err != nil {
		return false, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	marker := connectors.AdditionMarker(key)
	path := ticketsPath + "/" + strconv.FormatInt(id, 10) + "/comments"
	q := url.Values{"page[size]": {"100"}}
	for range maxCommentPages {
		var out struct {
			Comments []struct {
				Body string `json:"body"`
			} `json:"comments"`
			Meta struct {
				HasMore     bool   `json:"has_more"`
				AfterCursor string `json:"after_cursor"`
			} `json:"meta"`
		}
		if err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: path, Query: q}, &out); err != nil {
			return false, err
		}
		for _, cm := range out.Comments {
			if hasLine(cm.Body, marker) {
				return true, nil
			}
		}
		if !out.Meta.HasMore || out.Meta.AfterCursor == "" {
			return false, nil
		}
		q = url.Values{"page[size]": {"100"}, "page[after]": {out.Meta.AfterCursor}}
	}
	return false, &connectors.Error{Op: op, Class: connectors.Permanent,
		Err: errors.New("the ticket has too many comments to search for the addition")}
}

// hasLine reports whether line is one of body's lines (surrounding spaces
// aside).
func hasLine(body, line string) bool {
	for l := range strings.Lines(body) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
