package servicenow

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

const (
	journalPath = "/api/now/table/sys_journal_field"

	// syncBatch is how many incidents one query names (sys_idIN…): 100
	// sys_ids keep the URL near 4 KB, well inside what instances accept.
	syncBatch = 100
	// journalPage is the page size for comments (sysparm_limit).
	journalPage = 1000

	stateOnHold = "3"
	// holdAwaitingCaller is the base system's hold_reason code for
	// Awaiting Caller.
	holdAwaitingCaller = "1"
	// awaitingCallerRow is the status table row an On Hold incident
	// awaiting the caller maps through.
	awaitingCallerRow = "awaiting caller"
)

// statusRows are the built-in status rows: the base system's incident
// states (1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8
// Canceled; 4 Awaiting User Info and 5 Awaiting Evidence of the state
// model before Helsinki), and the row On Hold awaiting the caller takes
// (see LocalStatus).
var statusRows = map[string]string{
	"1":               connectors.StateBacklog,
	"2":               connectors.StateInProgress,
	"3":               connectors.StateInProgress,
	"4":               connectors.StateWaitingOnYou,
	"5":               connectors.StateInProgress,
	"6":               connectors.StateResolved,
	"7":               connectors.StateClosed,
	"8":               connectors.StateClosed,
	awaitingCallerRow: connectors.StateWaitingOnYou,
}

// LocalStatus is ServiceNow's rule the table alone cannot give: an
// incident On Hold (state 3) whose hold reason (Update.Category) is
// Awaiting Caller — code 1, or the label itself — maps through the
// "awaiting caller" row (built in: waiting_on_you). A hold reason given
// by its label ("Awaiting Vendor") maps through a row of that name when
// mappings.status has one. Otherwise On Hold is the "3" row.
func LocalStatus(table map[string]string, u connectors.Update) string {
	if u.Status != stateOnHold {
		return ""
	}
	reason := strings.ToLower(strings.TrimSpace(u.Category))
	switch {
	case reason == holdAwaitingCaller:
		reason = awaitingCallerRow
	case reason == "" || strings.Trim(reason, "0123456789") == "":
		return "" // no reason, or a code that would collide with a state's row
	}
	return table[reason]
}

// journalRecord is a sys_journal_field row: one comment or work note.
type journalRecord struct {
	SysID     string `json:"sys_id"`
	ElementID string `json:"element_id"`
	Element   string `json:"element"`
	Value     string `json:"value"`
	CreatedOn string `json:"sys_created_on"`
	CreatedBy string `json:"sys_created_by"` // a user_name
}

// field is a Table API field read with sysparm_display_value=all.
type field struct {
	Value   string `json:"value"`
	Display string `json:"display_value"`
}

// syncRecord is an incident as Sync reads it.
type syncRecord struct {
	SysID              field `json:"sys_id"`
	Number             field `json:"number"`
	State              field `json:"state"`
	HoldReason         field `json:"hold_reason"`
	AssignedTo         field `json:"assigned_to"`
	CallerID           field `json:"caller_id"`
	OpenedBy           field `json:"opened_by"`
	UpdatedOn          field `json:"sys_updated_on"`
	CorrelationDisplay field `json:"correlation_display"`
}

// Sync reads the state of the given incidents in batches of syncBatch,
// each with at most three requests however many incidents it names:
//
//  1. the incidents this connection created (correlation_display
//     Ticketray) among the batch's sys_ids, updated at or after since:
//     state, hold_reason, assigned_to (its display value: the assignee's
//     name), number and sys_updated_on, with sysparm_display_value=all;
//  2. the additional comments (sys_journal_field element "comments": what
//     the caller sees, never work notes) on those incidents written at or
//     after since, oldest first, a page of journalPage at a time;
//  3. the names and sys_ids of comment authors not seen before (sys_user
//     by user_name; cached for the connector's life).
//
// Comments by the caller or by the account that opened the incident (the
// integration account, which writes what the user adds from Ticketray)
// are the user's own words, not the help desk's, and are left out.
//
// The batch names its incidents rather than scoping by
// options.assignmentGroup as Find does: agents reassign incidents between
// groups as they work them, and a reassigned incident must still be
// followed. Date-times in the query are UTC, as the instance reads a
// plain value. Remotes whose id is not a sys_id are skipped.
func (c *Connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	var ids []string
	for _, r := range remotes {
		if isSysID(r.ID) && !slices.Contains(ids, strings.ToLower(r.ID)) {
			ids = append(ids, strings.ToLower(r.ID))
		}
	}
	return connectors.SyncBatches(ids, syncBatch, func(batch []string) ([]connectors.Update, error) {
		return c.syncBatch(ctx, since, batch)
	})
}

func (c *Connector) syncBatch(ctx context.Context, since time.Time, ids []string) ([]connectors.Update, error) {
	recs, err := c.changedIncidents(ctx, since, ids)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	changed := make([]string, 0, len(recs))
	for _, r := range recs {
		changed = append(changed, r.SysID.Value)
	}
	comments, err := c.comments(ctx, since, changed)
	if err != nil {
		return nil, err
	}
	ups := make([]connectors.Update, 0, len(recs))
	for _, r := range recs {
		u := connectors.Update{
			Remote:   c.remote(record{SysID: r.SysID.Value, Number: r.Number.Value}),
			Status:   r.State.Value,
			Assignee: r.AssignedTo.Display,
		}
		for _, cm := range comments[r.SysID.Value] {
			if cm.by == "" || !strings.EqualFold(cm.by, r.CallerID.Value) && !strings.EqualFold(cm.by, r.OpenedBy.Value) {
				u.Comments = append(u.Comments, cm.RemoteComment)
			}
		}
		if r.State.Value == stateOnHold {
			u.Category = r.HoldReason.Value
		}
		if r.AssignedTo.Value == "" {
			u.Assignee = ""
		}
		if ts, err := time.Parse(timeLayout, r.UpdatedOn.Value); err == nil {
			u.UpdatedAt = ts.UTC()
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// changedIncidents is step 1 of Sync: the incidents among ids changed at
// or after since. Records the query did not ask for (an instance drops a
// condition on a field the account cannot read) are left out.
func (c *Connector) changedIncidents(ctx context.Context, since time.Time, ids []string) ([]syncRecord, error) {
	const op = "sync"
	query := "correlation_display=" + correlationDisplay + "^sys_idIN" + strings.Join(ids, ",")
	if !since.IsZero() {
		query += "^sys_updated_on>=" + since.UTC().Format(timeLayout)
	}
	var out struct{ Result []syncRecord }
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: incidentPath, Query: url.Values{
		"sysparm_query":                  {query + "^ORDERBYsys_updated_on"},
		"sysparm_fields":                 {"sys_id,number,state,hold_reason,assigned_to,caller_id,opened_by,sys_updated_on,correlation_display"},
		"sysparm_display_value":          {"all"},
		"sysparm_exclude_reference_link": {"true"},
		"sysparm_limit":                  {strconv.Itoa(len(ids))},
		"sysparm_no_count":               {"true"},
	}}, &out)
	if err != nil {
		return nil, err
	}
	recs := out.Result[:0]
	for _, r := range out.Result {
		if slices.Contains(ids, strings.ToLower(r.SysID.Value)) && r.CorrelationDisplay.Value == correlationDisplay {
			r.SysID.Value = strings.ToLower(r.SysID.Value)
			recs = append(recs, r)
		}
	}
	return recs, nil
}

// comment is a remote comment and its author's sys_id ("" when unknown).
type comment struct {
	connectors.RemoteComment
	by string
}

// author is a sys_user as comments name it.
type author struct{ sysID, name string }

// comments is steps 2 and 3 of Sync: the additional comments on the
// incidents ids written at or after since, by incident, oldest first,
// with their authors.
func (c *Connector) comments(ctx context.Context, since time.Time, ids []string) (map[string][]comment, error) {
	const op = "sync"
	query := "name=incident^element=comments^element_idIN" + strings.Join(ids, ",")
	if !since.IsZero() {
		query += "^sys_created_on>=" + since.UTC().Format(timeLayout)
	}
	var entries []journalRecord
	for offset := 0; ; offset += journalPage {
		var page struct{ Result []journalRecord }
		err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: journalPath, Query: url.Values{
			"sysparm_query":    {query + "^ORDERBYsys_created_on"},
			"sysparm_fields":   {"sys_id,element_id,element,value,sys_created_on,sys_created_by"},
			"sysparm_limit":    {strconv.Itoa(journalPage)},
			"sysparm_offset":   {strconv.Itoa(offset)},
			"sysparm_no_count": {"true"},
		}}, &page)
		if err != nil {
			return nil, err
		}
		entries = append(entries, page.Result...)
		if len(page.Result) < journalPage {
			break
		}
	}
	var authors []string
	for _, e := range entries {
		if !slices.Contains(authors, e.CreatedBy) {
			authors = append(authors, e.CreatedBy)
		}
	}
	people, err := c.authors(ctx, authors)
	if err != nil {
		return nil, err
	}
	out := map[string][]comment{}
	for _, e := range entries {
		id := strings.ToLower(e.ElementID)
		// Never a work note, nor an entry of another record, whatever
		// conditions the instance dropped.
		if e.Element != "comments" || !slices.Contains(ids, id) {
			continue
		}
		p := people[e.CreatedBy]
		cm := comment{RemoteComment: connectors.RemoteComment{ID: e.SysID, Author: p.name, Body: e.Value}, by: p.sysID}
		if ts, err := time.Parse(timeLayout, e.CreatedOn); err == nil {
			cm.CreatedAt = ts.UTC()
		}
		out[id] = append(out[id], cm)
	}
	return out, nil
}

// authors maps user_names to the sys_user's sys_id and name ("Beth
// Anglin"), looking up those not cached in one sys_user query. A
// user_name without a sys_user the account can read, or one that cannot
// go into a query, keeps itself as the name and no sys_id.
func (c *Connector) authors(ctx context.Context, logins []string) (map[string]author, error) {
	return c.users.Resolve(ctx, logins, c.readUsers, func(login string, a author) author {
		if a.name == "" {
			a.name = login
		}
		return a
	})
}

// readUsers reads the sys_users of the user_names that can go into a
// query (none: no request).
func (c *Connector) readUsers(ctx context.Context, logins []string) (map[string]author, error) {
	logins = slices.DeleteFunc(slices.Clone(logins), func(l string) bool { return !queryable(l) || strings.Contains(l, ",") })
	if len(logins) == 0 {
		return nil, nil
	}
	var out struct{ Result []record }
	err := c.do(ctx, rest.Request{Op: "sync", Method: http.MethodGet, Path: userPath, Query: url.Values{
		"sysparm_query":    {"user_nameIN" + strings.Join(logins, ",")},
		"sysparm_fields":   {"sys_id,user_name,name"},
		"sysparm_limit":    {strconv.Itoa(len(logins))},
		"sysparm_no_count": {"true"},
	}}, &out)
	users := map[string]author{}
	for _, r := range out.Result {
		if isSysID(r.SysID) {
			users[r.UserName] = author{sysID: strings.ToLower(r.SysID), name: strings.TrimSpace(r.Name)}
		}
	}
	return users, err
}
