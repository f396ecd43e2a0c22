package bmchelix

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
)

var _ connectors.Adder = (*Connector)(nil)

// addLogType is the Work Log Type of a reporter's addition: the
// customer's side of the conversation.
const addLogType = "Customer Inbound"

// Add creates one HPD:WorkLog entry (work info, View Access Public:
// agents see it in the incident's work info) whose Detailed Description
// is the reporter's text, who wrote it, and connectors.AdditionMarker on
// the last line; work info has no properties, so the marker is how
// FindAddition knows the entry again. The first three files travel in the
// same entry's attachment fields, in one multipart request, so the
// comment and its files arrive together or not at all; further files
// follow as work info of their own, best effort as on create.
func (c *Connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	const op = "add"
	if err := checkKey(a.Key); err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	if strings.TrimSpace(a.Text) == "" && len(a.Attachments) == 0 {
		return permanent(op, "the addition has no text and no files")
	}
	var files, rest []connectors.Attachment
	for _, f := range a.Attachments {
		if !plainName(f.Filename) {
			return permanent(op, "an attachment needs a plain file name")
		}
		if len(files) < len(attachFields) {
			files = append(files, f)
		} else {
			rest = append(rest, f)
		}
	}
	summary := oneLine(a.Text)
	if summary == "" {
		summary = "Files from the reporter"
	}
	v, err := c.workInfo(ctx, op, r, summary, description.Addition(a))
	if err != nil {
		return err
	}
	v["Work Log Type"], v[fieldViewAccess] = addLogType, "Public"
	if err := c.postWorkLog(ctx, op, v, files); err != nil {
		return err
	}
	connectors.AttachEach(ctx, c.Attach, r, rest)
	return nil
}

// FindAddition reads the incident's own work info (HPD:WorkLog by
// Incident Number: one query, paged by workLogPage) and looks for an entry
// whose Detailed Description has the key's marker on a line of its own.
// AR qualifications on long text are not portable across databases, so
// the marker is matched here, not in the query.
func (c *Connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	const op = "find addition"
	if err := checkKey(key); err != nil {
		return false, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	number := r.ID
	if number == "" {
		number = r.Number
	}
	if !isNumber(number) {
		return false, permanent(op, "the remote id is not a BMC Incident Number")
	}
	marker := connectors.AdditionMarker(key)
	for offset := 0; ; offset += workLogPage {
		var page struct{ Entries []entry }
		err := c.call(ctx, op, http.MethodGet, workLogForm, url.Values{
			"q":      {qual(fieldNumber, number)},
			"fields": {"values(" + strings.Join([]string{fieldWorkLogID, fieldNumber, fieldNotes}, ",") + ")"},
			"sort":   {fieldSubmit + ".asc"},
			"limit":  {strconv.Itoa(workLogPage)},
			"offset": {strconv.Itoa(offset)},
		}, body{}, &page)
		if err != nil {
			return false, err
		}
		for _, e := range page.Entries {
			if e.str(fieldNumber) == number && hasMarkerLine(e.str(fieldNotes), marker) {
				return true, nil
			}
		}
		if len(page.Entries) < workLogPage {
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
