package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
	"github.com/ticketray/ticketray/connectors/rest"
)

var _ connectors.Adder = (*Connector)(nil)

// Add posts the reporter's addition as a private CaseComment (agents see
// it on the Case; it does not come back through Sync, which reads public
// comments only), then uploads the files as ContentVersions on the Case,
// best effort like Create's. CaseComment has no place for custom data, so
// the body ends with the reporter's name and connectors.AdditionMarker on
// a line of its own; the text is cut to leave room for both within
// CommentBody's 4,000 characters.
func (c *Connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	const op = "add"
	if !isID(r.ID, "500") {
		return badID(op)
	}
	if err := checkKey(a.Key); err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	if strings.TrimSpace(a.Text) == "" {
		return permanent(op, "the comment is empty")
	}
	var res saveResult
	if _, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: c.data + "/sobjects/CaseComment",
		JSON: map[string]any{"ParentId": r.ID, "CommentBody": additionBody(a), "IsPublished": false}}, &res); err != nil {
		return err
	}
	connectors.AttachEach(ctx, c.Attach, r, a.Attachments)
	return nil
}

// additionBody is the CaseComment's body: the text, who added it, and the
// marker line, at most maxComment characters.
func additionBody(a *connectors.Addition) string {
	tail := "\n" + connectors.AdditionMarker(a.Key)
	if who := description.Reporter(a.Author); who != "" {
		tail = "\n\nAdded by " + clip(who, 500) + " with Ticketray" + tail
	} else {
		tail = "\n" + tail
	}
	text := strings.TrimSpace(a.Text)
	return clip(text, maxComment-utf8.RuneCountInString(tail)) + tail
}

// FindAddition looks for the marker of key in the Case's own comments:
// one SOQL query on the Case with a CaseComments subquery (newest first),
// following the subquery's further batches until the marker turns up.
// The bodies are matched here, line by line, rather than with a LIKE
// filter: the sffake org, as for long text fields, refuses to filter
// CommentBody, and a line match needs no wildcard escaping.
func (c *Connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	const op = "find addition"
	if !isID(r.ID, "500") {
		return false, badID(op)
	}
	if err := checkKey(key); err != nil {
		return false, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	soql := fmt.Sprintf("SELECT Id, (SELECT Id, CommentBody FROM CaseComments ORDER BY CreatedDate DESC) FROM Case WHERE Id = '%s'", r.ID)
	var recs []syncRecord
	if err := c.queryAll(ctx, op, soql, &recs); err != nil {
		return false, err
	}
	if len(recs) != 1 || !sameCase(recs[0].ID, r.ID) {
		return false, permanent(op, "the Case is not there, or the user cannot see it")
	}
	marker := connectors.AdditionMarker(key)
	for p := recs[0].CaseComments; p != nil; {
		for _, cm := range p.Records {
			if hasLine(cm.CommentBody, marker) {
				return true, nil
			}
		}
		if p.Done {
			break
		}
		req, err := c.nextPage(op, p.NextRecordsURL)
		if err != nil {
			return false, err
		}
		var next queryPage[commentRecord]
		if _, err := c.do(ctx, req, &next); err != nil {
			return false, err
		}
		p = &next
	}
	return false, nil
}

// hasLine reports whether one of body's lines is line.
func hasLine(body, line string) bool {
	for l := range strings.Lines(body) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// sameCase compares record ids, 15- or 18-character.
func sameCase(a, b string) bool {
	if len(a) == 18 && len(b) == 18 {
		return a == b
	}
	return len(a) >= 15 && len(b) >= 15 && a[:15] == b[:15]
}
