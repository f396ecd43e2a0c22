package zendesk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
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
	tokens, err := c.upload(ctx, op, a.Attachments)
	if err != nil {
		return err
	}
	comment := map[string]any{"body": additionBody(a), "public": true}
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

// additionBody is the comment's text: the reporter's words, who added
// them, and the marker line FindAddition looks for.
func additionBody(a *connectors.Addition) string {
	var b strings.Builder
	if t := strings.TrimSpace(a.Text); t != "" {
		b.WriteString(t)
		b.WriteString("\n\n")
	}
	if who := author(a.Author); who != "" {
		b.WriteString("Added by " + who + " with Ticketray\n")
	}
	b.WriteString(connectors.AdditionMarker(a.Key))
	return b.String()
}

func author(u connectors.User) string {
	name, email := strings.TrimSpace(u.Name), strings.TrimSpace(u.Email)
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case name != "":
		return name
	}
	return email
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
