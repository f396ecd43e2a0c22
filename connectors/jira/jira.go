// Package jira delivers tickets to Jira Cloud through the platform REST API
// v3.
//
// Mapping: the ticket becomes an issue in options.projectKey of type
// options.issueType ("Task"), with an ADF description (the user's text,
// then reporter, system information and each skill result), priority by
// name through the priority mapping, components from options.components
// (a JSON array of names), and labels "ticketray", "ticketray-<key>" (the
// idempotency key Find searches for) and the mapped category when it is a
// valid label as it is (no spaces, at most 255 characters). A category
// that is not is left out rather than rewritten: a rewritten label would
// not match the labels staff already filter on; map such categories to a
// label-safe value in mappings.category instead.
//
// Options: projectKey and issueType (both required; see Validate),
// components, and siteUrl, the site's own address for browse links when
// baseUrl is the API gateway (https://api.atlassian.com/ex/jira/<cloudId>,
// used by scoped tokens).
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

func init() {
	connectors.Register("jira", connectors.Driver{New: New, Validate: Validate, CheckMapping: CheckMapping, StatusRows: StatusRows})
}

// Validate is the Jira connection's own config rules: the project and the
// issue type to create in must be named.
func Validate(c connectors.Connection) []connectors.FieldError {
	errs := connectors.RequireOptions(c, "projectKey", "issueType")
	if _, err := StringList(c, "components"); err != nil {
		errs = append(errs, connectors.FieldError{Field: "options.components", Msg: "must be an array of names"})
	}
	return errs
}

// CheckMapping accepts a priority mapping value that is a Jira priority
// name, or empty to leave priority out (for projects whose create screen
// has no priority field). Other tables take any value.
func CheckMapping(kind, value string) error {
	if kind != "priority" || value == "" {
		return nil
	}
	if strings.TrimSpace(value) != value || utf8.RuneCountInString(value) > 255 {
		return errors.New("must be a Jira priority name (such as High), without surrounding spaces, or empty to leave priority out")
	}
	return nil
}

// VendorPriorities are Jira's default priority scheme names; the
// connection's mappings.priority overrides them.
var VendorPriorities = map[connectors.Priority]string{
	connectors.PriorityCritical: "Highest",
	connectors.PriorityHigh:     "High",
	connectors.PriorityMedium:   "Medium",
	connectors.PriorityLow:      "Low",
}

type connector struct {
	conn       connectors.Connection
	api        *rest.Client
	site       string // for browse links
	projectKey string
	issueType  string
	components []string
	sync       *IssueSync
}

var _ connectors.Syncer = (*connector)(nil)

// New builds a Jira Cloud connector for c.
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTP == nil {
		return nil, fmt.Errorf("jira connection %q: no HTTP client", c.Name)
	}
	api, err := rest.New(c.BaseURL, d.HTTP, ErrorMessage)
	if err != nil {
		return nil, fmt.Errorf("jira connection %q: %w", c.Name, err)
	}
	j := &connector{
		conn:       c,
		api:        api,
		site:       strings.TrimRight(c.Option("siteUrl", c.BaseURL), "/"),
		projectKey: c.Option("projectKey", ""),
		issueType:  c.Option("issueType", "Task"),
		sync:       &IssueSync{API: api},
	}
	if j.projectKey == "" {
		return nil, fmt.Errorf("jira connection %q: options.projectKey is required", c.Name)
	}
	if j.components, err = StringList(c, "components"); err != nil {
		return nil, fmt.Errorf("jira connection %q: %w", c.Name, err)
	}
	return j, nil
}

// StringList reads an option holding a JSON array of strings (a single
// string is a comma-separated list).
func StringList(c connectors.Connection, name string) ([]string, error) {
	raw, ok := c.Options[name]
	if !ok {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, fmt.Errorf("options.%s must be an array of names", name)
		}
		list = strings.Split(s, ",")
	}
	var out []string
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}

func permanent(op string, err error) error {
	return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
}

func (j *connector) browseURL(key string) string { return j.site + "/browse/" + url.PathEscape(key) }

// Create creates the issue.
func (j *connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	if err := t.Validate(); err != nil {
		return connectors.Remote{}, permanent("create", err)
	}
	label, err := IdempotencyLabel(t.IdempotencyKey)
	if err != nil {
		return connectors.Remote{}, permanent("create", err)
	}
	fields := map[string]any{
		"project":     map[string]string{"key": j.projectKey},
		"issuetype":   map[string]string{"name": j.issueType},
		"summary":     strings.Join(strings.Fields(t.Summary), " "), // Jira refuses newlines in a summary
		"description": DescriptionADF(t),
		"labels":      j.labels(t, label),
	}
	// An empty mapping value leaves priority out, for projects whose create
	// screen has no priority field.
	if p := j.conn.MapPriority(t.Priority, VendorPriorities); p != "" {
		fields["priority"] = map[string]string{"name": p}
	}
	if len(j.components) > 0 {
		comps := make([]map[string]string, len(j.components))
		for i, n := range j.components {
			comps[i] = map[string]string{"name": n}
		}
		fields["components"] = comps
	}
	var out struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if _, err := j.api.Do(ctx, rest.Request{Op: "create", Method: http.MethodPost, Path: "/rest/api/3/issue", JSON: map[string]any{"fields": fields}}, &out); err != nil {
		return connectors.Remote{}, err
	}
	if out.ID == "" || out.Key == "" {
		// Jira said it created something but not what: look it up next time.
		return connectors.Remote{}, &connectors.Error{Op: "create", Class: connectors.Retryable, Status: http.StatusCreated, Sent: true, Err: errors.New("response has no issue id or key")}
	}
	return connectors.Remote{ID: out.ID, Number: out.Key, URL: j.browseURL(out.Key)}, nil
}

func (j *connector) labels(t *connectors.Ticket, idLabel string) []string {
	labels := []string{Label, idLabel}
	if c := strings.TrimSpace(j.conn.MapCategory(t.Category)); LabelSafe(c) && c != Label && c != idLabel {
		labels = append(labels, c)
	}
	return labels
}

// Find looks the issue up by its idempotency label in the connection's
// project.
func (j *connector) Find(ctx context.Context, idempotencyKey string) (connectors.Remote, error) {
	label, err := IdempotencyLabel(idempotencyKey)
	if err != nil {
		return connectors.Remote{}, permanent("find", err)
	}
	f, err := FindByLabel(ctx, j.api, "find", j.projectKey, label)
	if err != nil {
		return connectors.Remote{}, err
	}
	return connectors.Remote{ID: f.ID, Number: f.Key, URL: j.browseURL(f.Key)}, nil
}

// Status reads the issue's workflow status name.
func (j *connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	path, err := IssuePath("/rest/api/3/issue/", RemoteRef(r), "")
	if err != nil {
		return connectors.RemoteStatus{}, permanent("status", err)
	}
	var out struct {
		ID     string `json:"id"`
		Key    string `json:"key"`
		Fields struct {
			Status struct {
				Name string `json:"name"`
			} `json:"status"`
			Updated string `json:"updated"`
		} `json:"fields"`
	}
	q := url.Values{"fields": {"status,updated"}}
	if _, err := j.api.Do(ctx, rest.Request{Op: "status", Method: http.MethodGet, Path: path, Query: q}, &out); err != nil {
		return connectors.RemoteStatus{}, err
	}
	st := connectors.RemoteStatus{Remote: r, Status: out.Fields.Status.Name, UpdatedAt: ParseTime(out.Fields.Updated)}
	if out.ID != "" {
		st.ID = out.ID
	}
	if out.Key != "" {
		st.Number, st.URL = out.Key, j.browseURL(out.Key)
	}
	return st, nil
}

// Sync reads the state of the connection's issues changed since since:
// one JQL search, `project = <projectKey> AND labels = ticketray AND
// updated >= "<since>"`, with status (name and category), assignee,
// updated and the comments, keeping those not restricted to a role or
// group.
func (j *connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	return j.sync.Sync(ctx, SyncScope{Project: j.projectKey, Browse: j.browseURL}, since, remotes)
}

// ParseTime reads Jira's timestamps (2023-06-24T19:24:50.000+0000, or
// RFC 3339); the zero time when it cannot.
func ParseTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Comment adds a comment (ADF paragraphs).
func (j *connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	if strings.TrimSpace(text) == "" {
		return permanent("comment", errors.New("the comment is empty"))
	}
	path, err := IssuePath("/rest/api/3/issue/", RemoteRef(r), "/comment")
	if err != nil {
		return permanent("comment", err)
	}
	_, err = j.api.Do(ctx, rest.Request{Op: "comment", Method: http.MethodPost, Path: path, JSON: map[string]any{"body": TextADF(text)}}, nil)
	return err
}

// Attach uploads a file to the issue.
func (j *connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	return AttachFile(ctx, j.api, "attach", RemoteRef(r), a)
}

// Check proves the credentials (GET myself) and the permission to create
// issues in the project (mypermissions), which Jira reports without
// creating anything.
func (j *connector) Check(ctx context.Context) error {
	if _, err := j.api.Do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: "/rest/api/3/myself"}, nil); err != nil {
		return err
	}
	const perm = "CREATE_ISSUES"
	var out struct {
		Permissions map[string]struct {
			HavePermission bool `json:"havePermission"`
		} `json:"permissions"`
	}
	q := url.Values{"projectKey": {j.projectKey}, "permissions": {perm}}
	if _, err := j.api.Do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: "/rest/api/3/mypermissions", Query: q}, &out); err != nil {
		return err
	}
	if p, ok := out.Permissions[perm]; !ok || !p.HavePermission {
		return &connectors.Error{Op: "check", Class: connectors.Permanent,
			Message: fmt.Sprintf("the account may not create issues in project %s (it lacks the %s permission)", j.projectKey, perm)}
	}
	return nil
}
