// Package jsm delivers tickets to Jira Service Management Cloud as customer
// requests (POST /rest/servicedeskapi/request).
//
// Mapping: requestFieldValues carries summary, description (plain text:
// the user's text, then reporter, system information and skill results),
// labels "ticketray" and "ticketray-<key>" (the idempotency key Find
// searches for) and, when options.setPriority is true, priority {name}
// through the priority mapping. Request types often do not expose
// priority (JSM then refuses the whole request), so it is off by default;
// the request type must expose the Labels field, or JSM refuses the labels
// and Find cannot work.
//
// With options.raiseOnBehalfOf true, the request is raised for the user:
// JSM Cloud takes an accountId there, not an email address (JSDCLOUD-6061),
// so the user's email is first looked up among the service desk's
// customers. When no customer has it (or the account may not list
// customers) the request is raised by the connection's account and the
// description names the user.
//
// A JSM site is a Jira site: Find uses Jira's JQL search and Attach uses
// Jira's attachments endpoint (the servicedeskapi's temporary-file flow
// would need two calls and makes the file a public comment; through Jira
// the file is attached to the issue, visible to agents, not sent to the
// customer).
//
// Options: serviceDeskId and requestTypeId (required), setPriority,
// raiseOnBehalfOf, and siteUrl as for Jira (browse links when the portal
// link is unknown).
package jsm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/jira"
	"github.com/ticketray/ticketray/connectors/rest"
)

func init() {
	connectors.Register("jsm", connectors.Driver{New: New, Validate: Validate, CheckMapping: jira.CheckMapping, StatusRows: StatusRows})
}

// StatusRows are the built-in status rows: a request's status category
// (currentStatus.statusCategory; Jira's statusCategory.key), then the
// status names of JSM's service-project workflows whose category does not
// say enough (Waiting for customer is in progress to Jira, but waits on
// the user; Closed and Canceled are done, but not resolved).
var StatusRows = map[string]string{
	// Status categories.
	"new":           connectors.StateBacklog,
	"indeterminate": connectors.StateInProgress,
	"done":          connectors.StateResolved,
	// Status names.
	"open":                 connectors.StateBacklog,
	"waiting for support":  connectors.StateBacklog,
	"in progress":          connectors.StateInProgress,
	"work in progress":     connectors.StateInProgress,
	"pending":              connectors.StateInProgress,
	"escalated":            connectors.StateInProgress,
	"waiting for approval": connectors.StateInProgress,
	"waiting for customer": connectors.StateWaitingOnYou,
	"resolved":             connectors.StateResolved,
	"completed":            connectors.StateResolved,
	"closed":               connectors.StateClosed,
	"canceled":             connectors.StateClosed,
	"cancelled":            connectors.StateClosed,
	"declined":             connectors.StateClosed,
}

// Validate is the JSM connection's own config rules: the service desk and
// request type ids are required (and are path segments, so no / ? #), and
// the flags are booleans. Priority mapping values are Jira's (see
// jira.CheckMapping).
func Validate(c connectors.Connection) []connectors.FieldError {
	errs := connectors.RequireOptions(c, "serviceDeskId", "requestTypeId")
	for _, n := range []string{"serviceDeskId", "requestTypeId"} {
		if strings.ContainsAny(c.Option(n, ""), "/?#") {
			errs = append(errs, connectors.FieldError{Field: "options." + n, Msg: "must be an id, such as \"10\""})
		}
	}
	for _, n := range []string{"setPriority", "raiseOnBehalfOf"} {
		if _, err := boolOption(c, n); err != nil {
			errs = append(errs, connectors.FieldError{Field: "options." + n, Msg: "must be true or false"})
		}
	}
	return errs
}

type connector struct {
	conn            connectors.Connection
	api             *rest.Client
	site            string
	serviceDeskID   string
	requestTypeID   string
	setPriority     bool
	raiseOnBehalfOf bool

	// projectID is the service desk's Jira project, which Find and Sync
	// search in; read once from the service desk, "" until then.
	projectMu sync.Mutex
	projectID string

	sync *jira.IssueSync
}

var _ connectors.Syncer = (*connector)(nil)

// New builds a Jira Service Management connector for c.
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTP == nil {
		return nil, fmt.Errorf("jsm connection %q: no HTTP client", c.Name)
	}
	api, err := rest.New(c.BaseURL, d.HTTP, jira.ErrorMessage)
	if err != nil {
		return nil, fmt.Errorf("jsm connection %q: %w", c.Name, err)
	}
	j := &connector{
		conn:          c,
		api:           api,
		site:          strings.TrimRight(c.Option("siteUrl", c.BaseURL), "/"),
		serviceDeskID: c.Option("serviceDeskId", ""),
		requestTypeID: c.Option("requestTypeId", ""),
		sync:          &jira.IssueSync{API: api},
	}
	for _, id := range []struct{ name, v string }{{"serviceDeskId", j.serviceDeskID}, {"requestTypeId", j.requestTypeID}} {
		if id.v == "" || strings.ContainsAny(id.v, "/?#") {
			return nil, fmt.Errorf("jsm connection %q: options.%s is required (the id, such as \"10\")", c.Name, id.name)
		}
	}
	if j.setPriority, err = boolOption(c, "setPriority"); err != nil {
		return nil, fmt.Errorf("jsm connection %q: %w", c.Name, err)
	}
	if j.raiseOnBehalfOf, err = boolOption(c, "raiseOnBehalfOf"); err != nil {
		return nil, fmt.Errorf("jsm connection %q: %w", c.Name, err)
	}
	return j, nil
}

func boolOption(c connectors.Connection, name string) (bool, error) {
	switch strings.ToLower(c.Option(name, "false")) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("options.%s must be true or false", name)
}

func permanent(op string, err error) error {
	return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
}

func (j *connector) browseURL(key string) string { return j.site + "/browse/" + url.PathEscape(key) }

type links struct {
	Web string `json:"web"`
}

// Create raises the customer request.
func (j *connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	if err := t.Validate(); err != nil {
		return connectors.Remote{}, permanent("create", err)
	}
	label, err := jira.IdempotencyLabel(t.IdempotencyKey)
	if err != nil {
		return connectors.Remote{}, permanent("create", err)
	}
	fields := map[string]any{
		"summary":     strings.Join(strings.Fields(t.Summary), " "),
		"description": jira.PlainDescription(t),
		"labels":      []string{jira.Label, label},
	}
	if j.setPriority {
		if p := j.conn.MapPriority(t.Priority, jira.VendorPriorities); p != "" {
			fields["priority"] = map[string]string{"name": p}
		}
	}
	body := map[string]any{
		"serviceDeskId":      j.serviceDeskID,
		"requestTypeId":      j.requestTypeID,
		"requestFieldValues": fields,
	}
	if j.raiseOnBehalfOf && t.User.Email != "" {
		id, err := j.customerAccountID(ctx, t.User.Email)
		if err != nil {
			return connectors.Remote{}, err
		}
		if id != "" {
			body["raiseOnBehalfOf"] = id
		}
	}
	var out struct {
		IssueID  string `json:"issueId"`
		IssueKey string `json:"issueKey"`
		Links    links  `json:"_links"`
	}
	if _, err := j.api.Do(ctx, rest.Request{Op: "create", Method: http.MethodPost, Path: "/rest/servicedeskapi/request", JSON: body}, &out); err != nil {
		return connectors.Remote{}, err
	}
	if out.IssueID == "" || out.IssueKey == "" {
		return connectors.Remote{}, &connectors.Error{Op: "create", Class: connectors.Retryable, Status: http.StatusCreated, Sent: true, Err: errors.New("response has no issue id or key")}
	}
	return connectors.Remote{ID: out.IssueID, Number: out.IssueKey, URL: j.webURL(out.Links, out.IssueKey)}, nil
}

func (j *connector) webURL(l links, key string) string {
	if l.Web != "" {
		return l.Web
	}
	return j.browseURL(key)
}

// customerAccountID finds the accountId of the service desk's customer
// with this email, or "" when there is none. Only a failure that a retry
// may fix (or bad credentials) fails the delivery: the request can always
// be raised by the connection's own account instead.
func (j *connector) customerAccountID(ctx context.Context, email string) (string, error) {
	var out struct {
		Values []struct {
			AccountID    string `json:"accountId"`
			EmailAddress string `json:"emailAddress"`
		} `json:"values"`
	}
	_, err := j.api.Do(ctx, rest.Request{
		Op: "create", Method: http.MethodGet,
		Path:  "/rest/servicedeskapi/servicedesk/" + j.serviceDeskID + "/customer",
		Query: url.Values{"query": {email}, "limit": {"50"}},
		// Listed as experimental in older API versions; harmless otherwise.
		Header: http.Header{"X-Experimentalapi": {"opt-in"}},
	}, &out)
	if err != nil {
		var e *connectors.Error
		if errors.As(err, &e) && e.Class == connectors.Permanent && e.Status != http.StatusUnauthorized && e.Status != 0 {
			return "", nil
		}
		return "", err
	}
	for _, v := range out.Values {
		if strings.EqualFold(v.EmailAddress, email) {
			return v.AccountID, nil
		}
	}
	// Privacy settings may hide the address; a query by the full address
	// that matches one customer is that customer.
	if len(out.Values) == 1 && out.Values[0].EmailAddress == "" {
		return out.Values[0].AccountID, nil
	}
	return "", nil
}

// Find looks the request up by its idempotency label (Jira search) in the
// service desk's project, then reads its portal link. The site's search
// covers every project, and a Jira connection on the same site labels its
// issues the same way: the project keeps the search to this desk.
func (j *connector) Find(ctx context.Context, idempotencyKey string) (connectors.Remote, error) {
	label, err := jira.IdempotencyLabel(idempotencyKey)
	if err != nil {
		return connectors.Remote{}, permanent("find", err)
	}
	project, err := j.deskProject(ctx)
	if err != nil {
		return connectors.Remote{}, err
	}
	f, err := jira.FindByLabel(ctx, j.api, "find", project, label)
	if err != nil {
		return connectors.Remote{}, err
	}
	r := connectors.Remote{ID: f.ID, Number: f.Key, URL: j.browseURL(f.Key)}
	path, err := jira.IssuePath("/rest/servicedeskapi/request/", f.ID, "")
	if err != nil {
		return r, nil
	}
	var out struct {
		Links links `json:"_links"`
	}
	if _, err := j.api.Do(ctx, rest.Request{Op: "find", Method: http.MethodGet, Path: path}, &out); err != nil {
		var e *connectors.Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			return r, nil // an issue without a request: the agent view link still works
		}
		return connectors.Remote{}, err
	}
	r.URL = j.webURL(out.Links, f.Key)
	return r, nil
}

// deskProject returns the id of the service desk's Jira project, read from
// the service desk once (a desk never changes project).
func (j *connector) deskProject(ctx context.Context) (string, error) {
	j.projectMu.Lock()
	defer j.projectMu.Unlock()
	if j.projectID != "" {
		return j.projectID, nil
	}
	var out struct {
		ProjectID string `json:"projectId"`
	}
	if _, err := j.api.Do(ctx, rest.Request{Op: "find", Method: http.MethodGet, Path: "/rest/servicedeskapi/servicedesk/" + j.serviceDeskID}, &out); err != nil {
		return "", err
	}
	if out.ProjectID == "" {
		return "", &connectors.Error{Op: "find", Class: connectors.Retryable, Err: fmt.Errorf("service desk %s: the response names no project", j.serviceDeskID)}
	}
	j.projectID = out.ProjectID
	return j.projectID, nil
}

type dateDTO struct {
	EpochMillis int64 `json:"epochMillis"`
}

type statusDTO struct {
	Status     string  `json:"status"`
	StatusDate dateDTO `json:"statusDate"`
}

// Status reads the request's current status: the status history lists the
// most recent first.
func (j *connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	path, err := jira.IssuePath("/rest/servicedeskapi/request/", jira.RemoteRef(r), "/status")
	if err != nil {
		return connectors.RemoteStatus{}, permanent("status", err)
	}
	var out struct {
		Values []statusDTO `json:"values"`
	}
	q := url.Values{"start": {"0"}, "limit": {"1"}}
	if _, err := j.api.Do(ctx, rest.Request{Op: "status", Method: http.MethodGet, Path: path, Query: q}, &out); err != nil {
		return connectors.RemoteStatus{}, err
	}
	cur := statusDTO{}
	if len(out.Values) > 0 {
		cur = out.Values[0]
	} else {
		// No history (should not happen): the request carries its status.
		var req struct {
			CurrentStatus statusDTO `json:"currentStatus"`
		}
		path, _ := jira.IssuePath("/rest/servicedeskapi/request/", jira.RemoteRef(r), "")
		if _, err := j.api.Do(ctx, rest.Request{Op: "status", Method: http.MethodGet, Path: path}, &req); err != nil {
			return connectors.RemoteStatus{}, err
		}
		cur = req.CurrentStatus
	}
	if cur.Status == "" {
		return connectors.RemoteStatus{}, &connectors.Error{Op: "status", Class: connectors.Retryable, Err: errors.New("the response names no status")}
	}
	st := connectors.RemoteStatus{Remote: r, Status: cur.Status}
	if cur.StatusDate.EpochMillis > 0 {
		st.UpdatedAt = time.UnixMilli(cur.StatusDate.EpochMillis).UTC()
	}
	return st, nil
}

// Sync reads the state of the desk's requests changed since since with
// one Jira search (a JSM request is a Jira issue): `project = <the desk's
// project> AND labels = ticketray AND updated >= "<since>"`, with status
// (name and category), assignee, updated and comments. Only the comments
// the customer sees on the portal (jsdPublic) come back; internal notes
// stay with the agents. The servicedeskapi has no batched read: its
// request comments and status are one GET per request, and it does not
// show the assignee.
func (j *connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	project, err := j.deskProject(ctx)
	if err != nil {
		return nil, err
	}
	return j.sync.Sync(ctx, jira.SyncScope{Project: project, PortalOnly: true, Browse: j.browseURL}, since, remotes)
}

// Comment adds an internal comment: Ticketray's notes are for agents, not
// mailed to the customer.
func (j *connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	if strings.TrimSpace(text) == "" {
		return permanent("comment", errors.New("the comment is empty"))
	}
	path, err := jira.IssuePath("/rest/servicedeskapi/request/", jira.RemoteRef(r), "/comment")
	if err != nil {
		return permanent("comment", err)
	}
	_, err = j.api.Do(ctx, rest.Request{Op: "comment", Method: http.MethodPost, Path: path, JSON: map[string]any{"body": text, "public": false}}, nil)
	return err
}

// Attach uploads a file through Jira's attachments endpoint on the same
// site.
func (j *connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	return jira.AttachFile(ctx, j.api, "attach", jira.RemoteRef(r), a)
}

// Check reads the service desk and the request type: it proves the
// credentials, access to the desk and that both configured ids exist.
func (j *connector) Check(ctx context.Context) error {
	desk := "/rest/servicedeskapi/servicedesk/" + j.serviceDeskID
	if _, err := j.api.Do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: desk}, nil); err != nil {
		return err
	}
	_, err := j.api.Do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: desk + "/requesttype/" + j.requestTypeID}, nil)
	return err
}
