package bmchelix

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors"
)

var _ connectors.Syncer = (*Connector)(nil)

const (
	peopleForm = "CTM:People"

	fieldReason     = "Status_Reason"
	fieldAssignee   = "Assignee" // the assignee's full name
	fieldViewAccess = "View Access"
	fieldSecure     = "Secure Work Log"
	fieldNotes      = "Detailed Description"
	fieldWorkLogID  = "Work Log ID"
	fieldSubmitter  = "Submitter"
	fieldLoginID    = "Remedy Login ID"
	fieldCustomer   = "Customer Login ID"
	fieldFullName   = "Full Name"

	// syncBatch is how many incidents one qualification names: 50 terms
	// keep the URL near 4 KB.
	syncBatch = 50
	// workLogPage is the page size (limit) for work info entries.
	workLogPage = 500

	statusPending = "Pending"
	// clientActionRow is the status table row a Pending incident whose
	// Status_Reason is Client Action Required maps through.
	clientActionRow = "client action required"
)

// statusRows are the built-in status rows: HPD:Help Desk's Status values,
// and the Status_Reason that makes Pending the customer's move (see
// LocalStatus).
var statusRows = map[string]string{
	"New":           connectors.StateBacklog,
	"Assigned":      connectors.StateBacklog,
	"In Progress":   connectors.StateInProgress,
	statusPending:   connectors.StateInProgress,
	"Resolved":      connectors.StateResolved,
	"Closed":        connectors.StateClosed,
	"Cancelled":     connectors.StateClosed,
	clientActionRow: connectors.StateWaitingOnYou,
}

// LocalStatus is BMC's rule the table alone cannot give: a Pending
// incident maps through the row of its Status_Reason (Update.Category)
// when the table has one — built in, Client Action Required is
// waiting_on_you; mappings.status may add others ("Supplier Delivery").
// Otherwise Pending is the "Pending" row.
func LocalStatus(table map[string]string, u connectors.Update) string {
	if !strings.EqualFold(u.Status, statusPending) || u.Category == "" {
		return ""
	}
	return table[strings.ToLower(strings.TrimSpace(u.Category))]
}

// Sync reads the state of the given incidents in batches of syncBatch,
// each with at most three requests however many incidents it names:
//
//  1. HPD:Help Desk entries of the batch's Incident Numbers (with
//     options.company, of that company, as Find scopes) whose Last
//     Modified Date is at or after since: Status, Status_Reason, Assignee
//     (the full name) and Last Modified Date;
//  2. their public work info (HPD:WorkLog, View Access Public and not
//     secure: what the customer sees; internal entries never) submitted at
//     or after since, oldest first, a page of workLogPage at a time;
//  3. the full names of work info submitters not seen before (CTM:People
//     by Remedy Login ID; cached for the connector's life).
//
// Work info by the incident's customer or by the account that submitted
// it (the integration account, the customer of every incident Ticketray
// creates) is the user's side of the conversation and is left out.
//
// Date/times go into the qualification as seconds since 1970, which the
// AR server reads the same whatever its locale. Remotes whose id is not an
// Incident Number are skipped.
func (c *Connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	var numbers []string
	for _, r := range remotes {
		n := r.ID
		if n == "" {
			n = r.Number
		}
		if isNumber(n) && !slices.Contains(numbers, n) {
			numbers = append(numbers, n)
		}
	}
	return connectors.SyncBatches(numbers, syncBatch, func(batch []string) ([]connectors.Update, error) {
		return c.syncBatch(ctx, since, batch)
	})
}

func (c *Connector) syncBatch(ctx context.Context, since time.Time, numbers []string) ([]connectors.Update, error) {
	const op = "sync"
	q := anyOf(fieldNumber, numbers) + sinceQual(fieldModified, since)
	if c.company != "" {
		q += " AND " + qual(fieldCompany, c.company)
	}
	var out struct{ Entries []entry }
	err := c.call(ctx, op, http.MethodGet, incidentFrm, url.Values{
		"q":      {q},
		"fields": {"values(" + strings.Join([]string{fieldNumber, fieldStatus, fieldReason, fieldAssignee, fieldModified, fieldCompany, fieldCustomer, fieldSubmitter}, ",") + ")"},
		"limit":  {strconv.Itoa(len(numbers))},
	}, body{}, &out)
	if err != nil {
		return nil, err
	}
	var changed []string
	var entries []entry
	for _, e := range out.Entries {
		n := e.str(fieldNumber)
		// Never take an entry the query did not ask for.
		if !slices.Contains(numbers, n) || slices.Contains(changed, n) || (c.company != "" && e.str(fieldCompany) != c.company) {
			continue
		}
		changed = append(changed, n)
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	comments, err := c.publicWorkInfo(ctx, since, changed)
	if err != nil {
		return nil, err
	}
	ups := make([]connectors.Update, 0, len(entries))
	for _, e := range entries {
		n := e.str(fieldNumber)
		u := connectors.Update{Remote: c.remote(n), Status: e.str(fieldStatus), Category: e.str(fieldReason),
			Assignee: strings.TrimSpace(e.str(fieldAssignee))}
		for _, cm := range comments[n] {
			if !strings.EqualFold(cm.by, e.str(fieldCustomer)) && !strings.EqualFold(cm.by, e.str(fieldSubmitter)) {
				u.Comments = append(u.Comments, cm.RemoteComment)
			}
		}
		if ts, err := time.Parse(timeLayout, e.str(fieldModified)); err == nil {
			u.UpdatedAt = ts.UTC()
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// comment is a remote comment and its submitter's login.
type comment struct {
	connectors.RemoteComment
	by string
}

// publicWorkInfo is steps 2 and 3 of Sync: by Incident Number, the public
// work info entries submitted at or after since, oldest first.
func (c *Connector) publicWorkInfo(ctx context.Context, since time.Time, numbers []string) (map[string][]comment, error) {
	const op = "sync"
	q := anyOf(fieldNumber, numbers) + " AND " + qual(fieldViewAccess, "Public") + sinceQual(fieldSubmit, since)
	var entries []entry
	for offset := 0; ; offset += workLogPage {
		var page struct{ Entries []entry }
		err := c.call(ctx, op, http.MethodGet, workLogForm, url.Values{
			"q":      {q},
			"fields": {"values(" + strings.Join([]string{fieldWorkLogID, fieldNumber, "Description", fieldNotes, fieldViewAccess, fieldSecure, fieldSubmitter, fieldSubmit}, ",") + ")"},
			"sort":   {fieldSubmit + ".asc"},
			"limit":  {strconv.Itoa(workLogPage)},
			"offset": {strconv.Itoa(offset)},
		}, body{}, &page)
		if err != nil {
			return nil, err
		}
		entries = append(entries, page.Entries...)
		if len(page.Entries) < workLogPage {
			break
		}
	}
	var logins []string
	for _, e := range entries {
		if l := e.str(fieldSubmitter); !slices.Contains(logins, l) {
			logins = append(logins, l)
		}
	}
	names, err := c.fullNames(ctx, logins)
	if err != nil {
		return nil, err
	}
	out := map[string][]comment{}
	for _, e := range entries {
		n := e.str(fieldNumber)
		if e.str(fieldViewAccess) != "Public" || e.str(fieldSecure) == "Yes" || !slices.Contains(numbers, n) {
			continue // internal notes stay with the help desk
		}
		text := e.str(fieldNotes)
		if strings.TrimSpace(text) == "" {
			text = e.str("Description")
		}
		by := e.str(fieldSubmitter)
		cm := comment{RemoteComment: connectors.RemoteComment{ID: e.str(fieldWorkLogID), Author: names[by], Body: text}, by: by}
		if ts, err := time.Parse(timeLayout, e.str(fieldSubmit)); err == nil {
			cm.CreatedAt = ts.UTC()
		}
		out[n] = append(out[n], cm)
	}
	return out, nil
}

// fullNames maps logins to people's full names, looking up those not
// cached in one CTM:People query. A login without a person the account
// can read stays as it is.
func (c *Connector) fullNames(ctx context.Context, logins []string) (map[string]string, error) {
	return c.people.Resolve(ctx, logins, c.readPeople, func(login, name string) string {
		if name == "" {
			return login
		}
		return name
	})
}

// readPeople reads the full names of logins from CTM:People.
func (c *Connector) readPeople(ctx context.Context, logins []string) (map[string]string, error) {
	var out struct{ Entries []entry }
	err := c.call(ctx, "sync", http.MethodGet, peopleForm, url.Values{
		"q":      {anyOf(fieldLoginID, logins)},
		"fields": {"values(" + fieldLoginID + "," + fieldFullName + ")"},
	}, body{}, &out)
	names := map[string]string{}
	for _, p := range out.Entries {
		if n := strings.TrimSpace(p.str(fieldFullName)); n != "" {
			names[p.str(fieldLoginID)] = n
		}
	}
	return names, err
}

// anyOf is ('field' = "a" OR 'field' = "b" …).
func anyOf(field string, values []string) string {
	terms := make([]string, len(values))
	for i, v := range values {
		terms[i] = qual(field, v)
	}
	return "(" + strings.Join(terms, " OR ") + ")"
}

// sinceQual is " AND 'field' >= <seconds since 1970>", or "" for a zero
// since.
func sinceQual(field string, since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return " AND '" + field + "' >= " + strconv.FormatInt(since.Unix(), 10)
}
