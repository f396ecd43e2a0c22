package servicenow

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

// Add posts the reporter's text as an additional comment (the incident's
// comments journal field: agents and the caller see it), signed with the
// reporter's name and ending with connectors.AdditionMarker(a.Key) on a
// line of its own, then uploads a.Attachments with the Attachment API,
// best effort as on create. A journal entry has no properties, so the
// marker is how FindAddition knows the comment again.
func (c *Connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	const op = "add"
	if !isSysID(r.ID) {
		return badID(op)
	}
	if err := checkKey(a.Key); err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	if strings.TrimSpace(a.Text) == "" && len(a.Attachments) == 0 {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the addition has no text and no files")}
	}
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPatch, Path: incidentPath + "/" + r.ID,
		Query: url.Values{"sysparm_fields": {"sys_id"}}, JSON: map[string]string{"comments": description.Addition(a)}}, nil)
	if err != nil {
		return err
	}
	connectors.AttachEach(ctx, c.Attach, r, a.Attachments)
	return nil
}

// FindAddition searches the incident's own additional comments
// (sys_journal_field of element comments and element_id the incident's
// sys_id) for the key's marker: one request, paged by journalPage. The
// query narrows to entries containing the key, and each entry is checked
// again here, since an instance drops conditions on fields the account
// cannot read.
func (c *Connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	const op = "find addition"
	if !isSysID(r.ID) {
		return false, badID(op)
	}
	if err := checkKey(key); err != nil {
		return false, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	marker := connectors.AdditionMarker(key)
	query := "name=incident^element=comments^element_id=" + r.ID + "^valueLIKE" + key
	for offset := 0; ; offset += journalPage {
		var page struct{ Result []journalRecord }
		err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: journalPath, Query: url.Values{
			"sysparm_query":    {query + "^ORDERBYsys_created_on"},
			"sysparm_fields":   {"sys_id,element_id,element,value"},
			"sysparm_limit":    {strconv.Itoa(journalPage)},
			"sysparm_offset":   {strconv.Itoa(offset)},
			"sysparm_no_count": {"true"},
		}}, &page)
		if err != nil {
			return false, err
		}
		for _, e := range page.Result {
			if e.Element == "comments" && strings.EqualFold(e.ElementID, r.ID) && hasMarkerLine(e.Value, marker) {
				return true, nil
			}
		}
		if len(page.Result) < journalPage {
			return false, nil
		}
	}
}

// hasMarkerLine reports whether marker is a line of body of its own.
func hasMarkerLine(body, marker string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.TrimSpace(l) == marker {
			return true
		}
	}
	return false
}
