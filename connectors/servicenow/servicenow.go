// Package servicenow delivers Ticketray tickets to ServiceNow as incidents,
// through the Table API (incident, sys_user, sys_user_group) and the
// Attachment API.
//
// Field mapping on create:
//
//	short_description    the summary
//	description          the user's description, then plain-text sections for
//	                     the system information, each skill result (name,
//	                     status, time, output) and who reported it when
//	urgency, impact      from the priority, through the priority table (below)
//	category             from the category, through Connection.MapCategory;
//	                     omitted when empty (the instance's default applies)
//	caller_id            the sys_user whose email is the reporter's, looked up
//	                     once per connector and cached; omitted when there is
//	                     no such user
//	assignment_group     options.assignmentGroup: a sys_id, or a group name
//	                     looked up in sys_user_group (omitted if unknown)
//	correlation_id       the idempotency key (Find searches by it)
//	correlation_display  "Ticketray"
//
// Priority: ServiceNow computes an incident's priority from urgency and
// impact (1 High, 2 Medium, 3 Low; the default lookup gives P1 for 1/1 down
// to P5 for 3/3). A priority table value is "urgency,impact" such as "1,2",
// or a single value that sets both ("2" means 2,2). The built-in rows aim
// at the matching ServiceNow priority:
//
//	critical  1,1  P1 Critical
//	high      1,2  P2 High
//	medium    2,2  P3 Moderate
//	low       2,3  P4 Low  (P5 "Planning" is left for planned work)
//
// mappings.priority in the config overrides rows; its default row applies
// to priorities without a row (see connectors.Connection.PriorityTable).
//
// All values are sent as actual values (choice codes and sys_ids), so
// sysparm_input_display_value stays at its default, false.
//
// Status sync (Sync, in sync.go) reads the incidents a connection created
// in batches of 100 sys_ids: one incident query for those updated since
// the last cycle (state, hold reason, the assignee's name), one
// sys_journal_field query for their additional comments (never work
// notes) and, for authors not seen before, one sys_user query. The
// built-in status rows map the state codes; On Hold awaiting the caller is
// waiting_on_you (LocalStatus).
//
// Add (add.go) posts a reporter's addition as an additional comment ending
// with connectors.AdditionMarker, and FindAddition looks for that line in
// the incident's comments in sys_journal_field.
//
// An instance drops a query condition on a field the account cannot read
// and answers with other records, so Find and the user and group lookups
// ask for the field they searched by and check it. X-RateLimit-Reset
// counts only on a 429: an instance sends it on every response a rate
// limit rule matches.
package servicenow

import (
	"bytes"
	"context"

	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

func init() {
	connectors.Register("servicenow", connectors.Driver{New: New, Validate: Validate, CheckMapping: CheckMapping,
		StatusRows: statusRows, LocalStatus: LocalStatus})
}

// Validate is the ServiceNow connection's own config rules beyond its
// mapping values: options.assignmentGroup must fit an encoded query.
func Validate(c connectors.Connection) []connectors.FieldError {
	if !queryable(c.Option("assignmentGroup", "")) {
		return []connectors.FieldError{{Field: "options.assignmentGroup", Msg: "must not contain ^ or line breaks"}}
	}
	return nil
}

// CheckMapping accepts a priority mapping value in the form parseLevels
// reads: "urgency,impact" or one level for both, each 1 (high) to 3 (low).
// Other tables take any value.
func CheckMapping(kind, value string) error {
	if kind != "priority" {
		return nil
	}
	if _, _, err := parseLevels(value); err != nil {
		return errors.New(`must be an urgency and impact, each 1 (high) to 3 (low): "1,2" for urgency 1 and impact 2, or "2" for both`)
	}
	return nil
}

var _ connectors.Connector = (*Connector)(nil)

const (
	incidentPath   = "/api/now/table/incident"
	userPath       = "/api/now/table/sys_user"
	groupPath      = "/api/now/table/sys_user_group"
	attachmentPath = "/api/now/attachment/file"

	correlationDisplay = "Ticketray"

	// timeLayout is how the Table API renders date-times: UTC unless
	// display values are requested.
	timeLayout = "2006-01-02 15:04:05"
)

// vendorPriority is the built-in priority table: "urgency,impact".
var vendorPriority = map[connectors.Priority]string{
	connectors.PriorityCritical: "1,1",
	connectors.PriorityHigh:     "1,2",
	connectors.PriorityMedium:   "2,2",
	connectors.PriorityLow:      "2,3",
}

// Connector is a ServiceNow connection.
type Connector struct {
	conn  connectors.Connection
	rest  *rest.Client
	group string // options.assignmentGroup: a sys_id or a group name

	callers sync.Map                       // reporter email → caller sys_id, "" when there is none
	groups  sync.Map                       // group name → sys_id, "" when there is none
	users   connectors.AuthorCache[author] // user_name → sys_id and name, for comments
}

// New builds the connector for a servicenow connection. d.HTTP must
// already carry the credentials (connectors.NewHTTPClient).
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTP == nil {
		return nil, fmt.Errorf("servicenow: connection %q: no HTTP client", c.Name)
	}
	if err := connectors.CheckBaseURL(c.BaseURL); err != nil {
		return nil, fmt.Errorf("servicenow: connection %q: baseUrl %w", c.Name, err)
	}
	table := c.PriorityTable(vendorPriority)
	for _, k := range slices.Sorted(maps.Keys(table)) {
		if _, _, err := parseLevels(table[k]); err != nil {
			return nil, fmt.Errorf("servicenow: connection %q: mappings.priority.%s: %w", c.Name, k, err)
		}
	}
	group := strings.TrimSpace(c.Option("assignmentGroup", ""))
	if !queryable(group) {
		return nil, fmt.Errorf("servicenow: connection %q: options.assignmentGroup must not contain ^ or line breaks", c.Name)
	}
	rc, err := rest.New(c.BaseURL, d.HTTP, vendorMessage)
	if err != nil {
		return nil, fmt.Errorf("servicenow: connection %q: %w", c.Name, err)
	}
	return &Connector{conn: c, rest: rc, group: group}, nil
}

// parseLevels reads a priority table value: "urgency,impact" or one value
// for both, each 1 (high) to 3 (low).
func parseLevels(v string) (urgency, impact string, err error) {
	u, i, pair := strings.Cut(v, ",")
	u, i = strings.TrimSpace(u), strings.TrimSpace(i)
	if !pair {
		i = u
	}
	for _, s := range []string{u, i} {
		if s != "1" && s != "2" && s != "3" {
			return "", "", fmt.Errorf("%q is not an urgency and impact (1 high to 3 low): write \"1,2\" for urgency 1, impact 2, or \"2\" for both", v)
		}
	}
	return u, i, nil
}

// record holds the fields the connector reads from any of its tables.
type record struct {
	SysID         string `json:"sys_id"`
	Number        string `json:"number"`
	State         string `json:"state"`
	UpdatedOn     string `json:"sys_updated_on"`
	CorrelationID string `json:"correlation_id"`
	// AssignmentGroup is read only with sysparm_exclude_reference_link,
	// which renders a reference as its sys_id.
	AssignmentGroup string `json:"assignment_group"`
	Email           string `json:"email"`
	Name            string `json:"name"`
	UserName        string `json:"user_name"`
}

// Create creates the incident, then uploads the system information and the
// ticket's attachments.
func (c *Connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	const op = "create"
	if err := connectors.CheckTicket(t, checkKey); err != nil {
		return connectors.Remote{}, err
	}
	u, i, err := parseLevels(c.conn.MapPriority(t.Priority, vendorPriority))
	if err != nil { // New validated the table; only a missing row gets here
		u, i, _ = parseLevels(vendorPriority[connectors.PriorityMedium])
	}
	body := map[string]string{
		"short_description":   t.Summary,
		"description":         describe(t),
		"urgency":             u,
		"impact":              i,
		"correlation_id":      t.IdempotencyKey,
		"correlation_display": correlationDisplay,
	}
	if cat := c.conn.MapCategory(t.Category); cat != "" {
		body["category"] = cat
	}
	caller, err := c.callerID(ctx, t.User.Email)
	if err != nil {
		return connectors.Remote{}, err
	}
	if caller != "" {
		body["caller_id"] = caller
	}
	group, err := c.groupID(ctx, op)
	if err != nil {
		return connectors.Remote{}, err
	}
	if group != "" {
		body["assignment_group"] = group
	}

	var out struct{ Result record }
	err = c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: incidentPath,
		Query: url.Values{"sysparm_fields": {"sys_id,number"}}, JSON: body}, &out)
	if err != nil {
		return connectors.Remote{}, err
	}
	if !isSysID(out.Result.SysID) {
		// A 2xx without a record: the instance may have created it, so
		// the outcome is unknown and a retry looks it up first.
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Retryable, Sent: true,
			Err: errors.New("the response carries no incident sys_id")}
	}
	r := c.remote(out.Result)

	connectors.AttachEach(ctx, c.Attach, r, connectors.FilesToAttach(t))
	return r, nil
}

// Find returns the oldest incident whose correlation_id is the key, among
// the incidents this connection creates: with options.assignmentGroup,
// those of that group (of none when the group is unknown, as create then
// leaves it out). Several connections may share an instance's incident
// table; the group is what sets them apart. The price: an incident
// reassigned to another group between a lost answer and the retry is not
// found, and the retry creates a second one.
func (c *Connector) Find(ctx context.Context, key string) (connectors.Remote, error) {
	const op = "find"
	if err := checkKey(key); err != nil {
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	query := "correlation_id=" + key
	group := ""
	if c.group != "" {
		var err error
		if group, err = c.groupID(ctx, op); err != nil {
			return connectors.Remote{}, err
		}
		if group == "" {
			query += "^assignment_groupISEMPTY"
		} else {
			query += "^assignment_group=" + group
		}
	}
	var out struct{ Result []record }
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: incidentPath, Query: url.Values{
		"sysparm_query":  {query + "^ORDERBYsys_created_on"},
		"sysparm_fields": {"sys_id,number,correlation_id,assignment_group"},
		// The group as a plain sys_id, not {link, value}.
		"sysparm_exclude_reference_link": {"true"},
		"sysparm_limit":                  {"1"},
		"sysparm_no_count":               {"true"},
	}}, &out)
	if err != nil {
		return connectors.Remote{}, err
	}
	if len(out.Result) == 0 {
		return connectors.Remote{}, connectors.ErrNotFound
	}
	rec := out.Result[0]
	// An instance drops query conditions on fields it cannot read (ACLs)
	// and would then return any incident: never take that for ours.
	if rec.CorrelationID != key || !isSysID(rec.SysID) || (c.group != "" && rec.AssignmentGroup != group) {
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent,
			Err: errors.New("the instance answered with an incident that does not match the query; can the account read incident.correlation_id and incident.assignment_group?")}
	}
	return c.remote(rec), nil
}

// Status reads the incident's state code ("1" New … "6" Resolved, "7"
// Closed, "8" Canceled in the base system).
func (c *Connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	const op = "status"
	if !isSysID(r.ID) {
		return connectors.RemoteStatus{}, badID(op)
	}
	var out struct{ Result record }
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: incidentPath + "/" + r.ID,
		Query: url.Values{"sysparm_fields": {"sys_id,number,state,sys_updated_on"}}}, &out)
	if err != nil {
		return connectors.RemoteStatus{}, err
	}
	rec := out.Result
	if rec.SysID == "" {
		rec.SysID = r.ID
	}
	st := connectors.RemoteStatus{Remote: c.remote(rec), Status: rec.State}
	if ts, err := time.Parse(timeLayout, rec.UpdatedOn); err == nil {
		st.UpdatedAt = ts.UTC()
	}
	return st, nil
}

// Comment adds a work note (visible to agents, not to the caller).
func (c *Connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	const op = "comment"
	if !isSysID(r.ID) {
		return badID(op)
	}
	if strings.TrimSpace(text) == "" {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the comment is empty")}
	}
	return c.do(ctx, rest.Request{Op: op, Method: http.MethodPatch, Path: incidentPath + "/" + r.ID,
		Query: url.Values{"sysparm_fields": {"sys_id"}}, JSON: map[string]string{"work_notes": text}}, nil)
}

// Attach uploads a file to the incident with the Attachment API.
func (c *Connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	const op = "attach"
	if !isSysID(r.ID) {
		return badID(op)
	}
	if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\") {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the attachment needs a plain file name")}
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: attachmentPath,
		Query:  url.Values{"table_name": {"incident"}, "table_sys_id": {r.ID}, "file_name": {a.Filename}},
		Header: http.Header{"Content-Type": {ct}},
		Body:   bytes.NewReader(a.Data)}, nil)
}

// Check reads one incident id: it proves the credentials and read access
// to incidents. (The Table API cannot tell whether the account may create
// without creating.)
func (c *Connector) Check(ctx context.Context) error {
	return c.do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: incidentPath, Query: url.Values{
		"sysparm_fields":   {"sys_id"},
		"sysparm_limit":    {"1"},
		"sysparm_no_count": {"true"},
	}}, nil)
}

// callerID returns the sys_id of the sys_user with the email, "" when
// there is none or the account may not look.
func (c *Connector) callerID(ctx context.Context, email string) (string, error) {
	if email == "" || !queryable(email) {
		return "", nil
	}
	if v, ok := c.callers.Load(email); ok {
		return v.(string), nil
	}
	id, err := c.lookup(ctx, "create", userPath, "email", email)
	if err != nil {
		return "", err
	}
	c.callers.Store(email, id)
	return id, nil
}

// groupID returns the assignment group's sys_id ("" for none), for op.
func (c *Connector) groupID(ctx context.Context, op string) (string, error) {
	if c.group == "" || isSysID(c.group) {
		return c.group, nil
	}
	if v, ok := c.groups.Load(c.group); ok {
		return v.(string), nil
	}
	id, err := c.lookup(ctx, op, groupPath, "name", c.group)
	if err != nil {
		return "", err
	}
	c.groups.Store(c.group, id)
	return id, nil
}

// lookup finds the sys_id of the first record whose field equals value,
// for op. A lookup serves create (and find, which must scope the search
// as create placed the incident): it never fails the ticket for a missing record
// or a refused read (the account may lack the role to read users), but a
// failure that would fail the create anyway (bad credentials, rate limit,
// server or network trouble) is returned so the delivery is retried.
func (c *Connector) lookup(ctx context.Context, op, path, field, value string) (string, error) {
	var out struct{ Result []record }
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: path, Query: url.Values{
		"sysparm_query":    {field + "=" + value},
		"sysparm_fields":   {"sys_id," + field},
		"sysparm_limit":    {"1"},
		"sysparm_no_count": {"true"},
	}}, &out)
	if err != nil {
		var e *connectors.Error
		if errors.As(err, &e) && e.Class == connectors.Permanent && e.Status != http.StatusUnauthorized {
			return "", nil
		}
		if e != nil {
			e.Sent = false // the incident was not sent
		}
		return "", err
	}
	if len(out.Result) == 0 {
		return "", nil
	}
	rec := out.Result[0]
	got := rec.Email
	if field == "name" {
		got = rec.Name
	}
	// As in Find: a dropped condition would return some other record.
	if !strings.EqualFold(got, value) || !isSysID(rec.SysID) {
		return "", nil
	}
	return rec.SysID, nil
}

func (c *Connector) remote(r record) connectors.Remote {
	return connectors.Remote{ID: r.SysID, Number: r.Number,
		URL: strings.TrimRight(c.rest.Base.String(), "/") + "/nav_to.do?uri=incident.do?sys_id=" + r.SysID}
}

// do sends the request and keeps URLs with their query (emails, file
// names) out of the error text.
func (c *Connector) do(ctx context.Context, r rest.Request, out any) error {
	resp, err := c.rest.Do(ctx, r, out)
	var e *connectors.Error
	if resp != nil && errors.As(err, &e) && e.Status != http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		// An instance sends X-RateLimit-Reset on every response a rate
		// limit rule matches, not only on 429: it is no reason to hold
		// back the retry of a 500 until the hour is over.
		e.RetryAfter = 0
	}
	return rest.Redact(err)
}

// checkKey accepts keys that can go into an encoded query as they are
// (no ^, =, spaces) and fit correlation_id (100 characters).
func checkKey(k string) error { return connectors.CheckKey(k, 100) }

// isSysID reports whether s is a sys_id: 32 hexadecimal digits.
func isSysID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// queryable reports whether s can be a value in an encoded query, which
// has no escape for the ^ separator.
func queryable(s string) bool { return !strings.ContainsAny(s, "^\r\n") }

func badID(op string) error {
	return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the remote id is not a ServiceNow sys_id")}
}
