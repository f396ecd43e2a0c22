package freshservice

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
	"github.com/ticketray/ticketray/connectors/rest"
)

var _ connectors.Adder = (*Connector)(nil)

// Add posts the reporter's addition as one public note (POST
// /api/v2/tickets/{id}/notes, private false) carrying its files
// (multipart attachments[]), so text and files land together or not at
// all. Freshservice conversations have no properties, so the note ends in
// a paragraph holding connectors.AdditionMarker(a.Key). A note rather than
// a reply: a reply is mail from the agent to the requester.
func (c *Connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	const op = "add"
	id, err := ticketID(op, r)
	if err != nil {
		return err
	}
	if err := checkKey(a.Key); err != nil {
		return permanent(op, err.Error())
	}
	if strings.TrimSpace(a.Text) == "" && len(a.Attachments) == 0 {
		return permanent(op, "the addition is empty")
	}
	return c.note(ctx, op, id, additionBody(a), false, a.Attachments)
}

// additionBody is the note's HTML: the reporter's words, who added them,
// and the marker FindAddition looks for.
func additionBody(a *connectors.Addition) string {
	body := description.Paragraphs(a.Text)
	if who := description.Reporter(a.Author); who != "" {
		body += "<p>Added by " + html.EscapeString(who) + " with Ticketray</p>\n"
	}
	return body + "<p>" + html.EscapeString(connectors.AdditionMarker(a.Key)) + "</p>"
}

// FindAddition pages through the ticket's own conversations (GET
// /api/v2/tickets/{id}/conversations, 100 a page) for a note carrying the
// key's marker. A conversation that only quotes the marker (a reply
// quoting the note) also counts: the note it quotes is there.
func (c *Connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	const op = "find addition"
	id, err := ticketID(op, r)
	if err != nil {
		return false, err
	}
	if err := checkKey(key); err != nil {
		return false, permanent(op, err.Error())
	}
	marker := connectors.AdditionMarker(key)
	path := ticketsPath + "/" + strconv.FormatInt(id, 10) + "/conversations"
	for page := 1; page <= maxPages; page++ {
		var out struct {
			Conversations []struct {
				Body     string `json:"body"`
				BodyText string `json:"body_text"`
			} `json:"conversations"`
		}
		err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: path,
			Query: url.Values{"per_page": {strconv.Itoa(conversationPage)}, "page": {strconv.Itoa(page)}}}, &out)
		if err != nil {
			return false, err
		}
		for _, cv := range out.Conversations {
			if strings.Contains(cv.BodyText, marker) || strings.Contains(html.UnescapeString(cv.Body), marker) {
				return true, nil
			}
		}
		if len(out.Conversations) < conversationPage {
			return false, nil
		}
	}
	return false, permanent(op, "the ticket has too many conversations to search for the addition")
}
