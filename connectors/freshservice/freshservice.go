// Package freshservice delivers Ticketray tickets to Freshservice (API v2)
// as incidents.
//
// Authentication: Freshservice v2 takes the agent's API key as the Basic
// user name; the password is ignored ("X" by convention). With api_token
// credentials the connector sends apiToken that way itself (the username
// is ignored); with basic credentials, username is the API key and
// password anything.
//
// Field mapping on create (POST /api/v2/tickets):
//
//	subject          the summary
//	description      HTML: the user's text, then the system information,
//	                 each skill result and who reported it when
//	email            the reporter's email (Freshservice adds an unknown one
//	                 as a requester); options.requesterEmail when the
//	                 ticket has none
//	status           2 (Open)
//	priority, urgency, impact
//	                 from the priority table (below)
//	source           options.source, default 2 (Portal)
//	category         from the category, through Connection.MapCategory;
//	                 omitted when empty. Categories are the account's
//	                 dropdown choices: when Freshservice refuses the value
//	                 (400 naming category) nothing was created, so the
//	                 create is sent once more without it, and the
//	                 description says why
//	workspace_id     options.workspaceId (accounts with workspaces)
//	group_id         options.groupId
//	tags             "Ticketray" and the delivery's idempotency key
//	custom_fields    options.customFields, plus options.externalIdField =
//	                 the idempotency key when set
//	attachments[]    systeminfo.json and the user's files: the request is
//	                 multipart/form-data when there are files, JSON
//	                 otherwise; files beyond Freshservice's 15 MB per
//	                 ticket are left out and named in the description
//
// Exactly once: Freshservice has no idempotency key and no external id on
// tickets. The filter API (GET /api/v2/tickets/filter?query="…") can
// query tags and custom fields of type number, checkbox, dropdown and
// date, but not single-line text, and a 32-character key fits neither a
// number nor a dropdown. So the key goes in a tag, and Find asks for
// "tag:'<key>'", scoped to where this connection creates: AND
// workspace_id:<workspaceId> AND group_id:<groupId> for those that are
// set. Without a workspace condition the API searches only the primary
// workspace, which is where a connection without workspaceId creates. With
// options.externalIdField the key is also written to that custom field
// (visible on the ticket form) and Find checks it on the match; when the
// tag finds nothing, Find asks the filter for the field too (a 400 there,
// as Freshservice documents text fields as not filterable, is no answer)
// and then looks through the tickets updated in the last hour (GET
// /api/v2/tickets?updated_since=…, up to 300, newest first) for the key
// in the field. That last step covers the filter's search index lagging a
// create: Freshworks says its search index may take minutes, and the
// retry after a lost answer comes sooner. Without the field, a lagging
// index can hide the ticket from such a retry, which then creates a
// second one; set externalIdField where that matters. Two connections to
// one account must differ in workspaceId or groupId, or each may take the
// other's record for its own; a ticket moved to another group before a
// retry is not found, and the retry creates a second one.
//
// Priority: Freshservice priority is 1 Low … 4 Urgent; urgency and impact
// are 1 Low … 3 High. A priority table value is "priority" or
// "priority,urgency,impact". The built-in rows:
//
//	critical  4,3,3   Urgent
//	high      3,3,2   High
//	medium    2,2,2   Medium
//	low       1,1,1   Low
//
// Status sync (Sync, sync.go): one listing of the tickets changed since
// the last cycle in the connection's workspace, kept to the delivered ids
// (not to the group: agents move tickets between groups), the assigned
// agents' names, and one conversations read per changed ticket.
//
// Comments are private notes (POST /api/v2/tickets/{id}/notes); Attach
// adds a private note carrying the file (multipart attachments[]), as
// Freshservice v2 has no separate upload endpoint.
//
// Additions (Add, FindAddition; add.go): the reporter's comment is one
// public note with its files, ending in connectors.AdditionMarker
// (conversations have no properties); FindAddition pages through the
// ticket's conversations for it.
package freshservice

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/description"
	"github.com/ticketray/ticketray/connectors/rest"
)

func init() {
	connectors.Register("freshservice", connectors.Driver{New: New, Validate: Validate, CheckMapping: CheckMapping, TokenOnly: true,
		StatusRows: statusRows, LocalStatus: localStatus})
}

var _ connectors.Connector = (*Connector)(nil)

const (
	ticketsPath    = "/api/v2/tickets"
	filterPath     = "/api/v2/tickets/filter"
	formFieldsPath = "/api/v2/ticket_form_fields"

	productTag = "Ticketray"

	statusOpen    = 2
	defaultSource = 2 // Portal

	// maxFiles is Freshservice's limit on a ticket's (or a note's)
	// attachments together.
	maxFiles = 15 << 20
)

// The options a freshservice connection reads.
const (
	OptExternalIDField = "externalIdField"
	OptWorkspaceID     = "workspaceId"
	OptGroupID         = "groupId"
	OptSource          = "source"
	OptRequesterEmail  = "requesterEmail"
	OptCustomFields    = "customFields"
)

// vendorPriority is the built-in priority table: "priority,urgency,impact".
var vendorPriority = map[connectors.Priority]string{
	connectors.PriorityCritical: "4,3,3",
	connectors.PriorityHigh:     "3,3,2",
	connectors.PriorityMedium:   "2,2,2",
	connectors.PriorityLow:      "1,1,1",
}

// levels is a parsed priority table value; urgency and impact are 0 when
// the value gives the priority alone.
type levels struct{ priority, urgency, impact int }

// parseLevels reads "priority" (1–4) or "priority,urgency,impact" (each
// of the last two 1–3).
func parseLevels(v string) (levels, error) {
	parts := strings.Split(v, ",")
	bad := fmt.Errorf(`must be a priority 1 (low) to 4 (urgent), or "priority,urgency,impact" with urgency and impact 1 (low) to 3 (high), such as "3,3,2"`)
	if len(parts) != 1 && len(parts) != 3 {
		return levels{}, bad
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(strings.TrimSpace(p))
		hi := 3
		if i == 0 {
			hi = 4
		}
		if err != nil || x < 1 || x > hi {
			return levels{}, bad
		}
		n[i] = x
	}
	return levels{n[0], n[1], n[2]}, nil
}

// CheckMapping accepts a priority value parseLevels reads; other tables
// take any value (categories are the account's own).
func CheckMapping(kind, value string) error {
	if kind != "priority" {
		return nil
	}
	_, err := parseLevels(value)
	return err
}

// config is a connection's options, parsed.
type config struct {
	externalIDField string
	workspaceID     int64
	groupID         int64
	source          int
	requesterEmail  string
	customFields    map[string]any
}

// Validate is the Freshservice connection's own rules: the credentials
// must carry an API key, and the options must have their forms.
func Validate(c connectors.Connection) []connectors.FieldError {
	var errs []connectors.FieldError
	switch c.Credentials.Type {
	case "api_token", "basic":
	default:
		errs = append(errs, connectors.FieldError{Field: "credentials.type",
			Msg: "must be api_token (apiToken = the agent's API key) or basic (username = the API key, password X): Freshservice API v2 takes the API key, not a bearer or OAuth token"})
	}
	_, fes := parseConfig(c)
	return append(errs, fes...)
}

func parseConfig(c connectors.Connection) (config, []connectors.FieldError) {
	var errs []connectors.FieldError
	add := func(opt, msg string) { errs = append(errs, connectors.FieldError{Field: "options." + opt, Msg: msg}) }
	cfg := config{source: defaultSource}
	positive := func(opt string) int64 {
		v := c.Option(opt, "")
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			add(opt, "must be a positive whole number (the id shown in Freshservice's admin pages)")
			return 0
		}
		return n
	}
	cfg.workspaceID = positive(OptWorkspaceID)
	cfg.groupID = positive(OptGroupID)
	if s := positive(OptSource); s > 0 {
		if s > 1000 {
			add(OptSource, "must be a ticket source id such as 2 (Portal)")
		}
		cfg.source = int(s)
	}
	if f := c.Option(OptExternalIDField, ""); f != "" {
		if !fieldName(f) {
			add(OptExternalIDField, "must be a custom field's name as the API shows it (lowercase letters, digits and _), such as ticketray_id")
		}
		cfg.externalIDField = f
	}
	if e := c.Option(OptRequesterEmail, ""); e != "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			add(OptRequesterEmail, "must be a plain email address")
		}
		cfg.requesterEmail = e
	}
	if raw, ok := c.Options[OptCustomFields]; ok {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			add(OptCustomFields, "must be an object of custom field names and values")
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch m[k].(type) {
			case string, float64, bool, nil:
			default:
				add(OptCustomFields+"."+k, "must be a string, number or true/false")
			}
			if !fieldName(k) {
				add(OptCustomFields+"."+k, "is not a custom field name (lowercase letters, digits and _)")
			}
			if k == cfg.externalIDField {
				add(OptCustomFields+"."+k, "is the externalIdField, which Ticketray fills")
			}
		}
		cfg.customFields = m
	}
	return cfg, errs
}

func fieldName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Connector is a Freshservice connection.
type Connector struct {
	conn  connectors.Connection
	rest  *rest.Client
	cfg   config
	auth  string // the Authorization header, "" when the client sets it
	table map[string]levels
	now   func() time.Time

	mu     sync.Mutex
	agents map[int64]string // agent id → display name, read by Sync
}

// New builds the connector for a freshservice connection. d.HTTP applies
// the TLS policy and User-Agent; with api_token credentials d.Credential
// must resolve apiToken.
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	wrap := func(format string, args ...any) error {
		return fmt.Errorf("freshservice: connection %q: "+format, append([]any{c.Name}, args...)...)
	}
	if d.HTTP == nil {
		return nil, wrap("no HTTP client")
	}
	if err := connectors.CheckBaseURL(c.BaseURL); err != nil {
		return nil, wrap("baseUrl %w", err)
	}
	cfg, errs := parseConfig(c)
	if len(errs) > 0 {
		return nil, wrap("%v", errs[0])
	}
	table := map[string]levels{}
	pt := c.PriorityTable(vendorPriority)
	for _, k := range slices.Sorted(maps.Keys(pt)) {
		l, err := parseLevels(pt[k])
		if err != nil {
			return nil, wrap("mappings.priority.%s %w", k, err)
		}
		table[k] = l
	}
	cn := &Connector{conn: c, cfg: cfg, table: table, now: time.Now}
	switch c.Credentials.Type {
	case "api_token":
		if d.Credential == nil {
			return nil, wrap("api_token credentials need a credential resolver")
		}
		key, err := d.Credential("apiToken")
		if err != nil {
			return nil, wrap("%w", err)
		}
		cn.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":X"))
	case "basic":
		// The client sends username (the API key) and password as they are.
	default:
		return nil, wrap("credentials.type must be api_token or basic")
	}
	// The account's address; a baseUrl that already names the API root
	// is accepted as well.
	base := strings.TrimSuffix(strings.TrimRight(c.BaseURL, "/"), "/api/v2")
	rc, err := rest.New(base, d.HTTP, vendorMessage)
	if err != nil {
		return nil, wrap("%w", err)
	}
	cn.rest = rc
	return cn, nil
}

// ticket holds the fields the connector reads from a ticket.
type ticket struct {
	ID           int64          `json:"id"`
	Status       int            `json:"status"`
	GroupID      *int64         `json:"group_id"`
	WorkspaceID  *int64         `json:"workspace_id"`
	CustomFields map[string]any `json:"custom_fields"`
	UpdatedAt    string         `json:"updated_at"`
}

// Create creates the ticket with its files.
func (c *Connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	const op = "create"
	if err := connectors.CheckTicket(t, checkKey); err != nil {
		return connectors.Remote{}, err
	}
	email := t.User.Email
	if email == "" {
		email = c.cfg.requesterEmail
	}
	if email == "" {
		return connectors.Remote{}, permanent(op, "the ticket has no reporter email and options.requesterEmail is not set: Freshservice needs a requester")
	}
	files, skipped := filesFor(t)
	cat := c.conn.MapCategory(t.Category)
	r, err := c.post(ctx, c.createFields(t, email, cat, describe(t, skipped, "")), files)
	if cat != "" && rejectedField(err, "category") {
		// Categories are the account's own choices: a category it does
		// not have must not cost the report. Nothing was created (400);
		// send it without one and tell the agent why.
		notice := "The category " + strconv.Quote(cat) + " is not one of this account's categories; an admin can map it in the connection's mappings.category."
		r, err = c.post(ctx, c.createFields(t, email, "", describe(t, skipped, notice)), files)
	}
	return r, err
}

// createFields is the create request's fields (see the package doc).
func (c *Connector) createFields(t *connectors.Ticket, email, category, description string) map[string]any {
	l := c.levelsFor(t.Priority)
	fields := map[string]any{
		"subject":     t.Summary,
		"description": description,
		"email":       email,
		"status":      statusOpen,
		"priority":    l.priority,
		"source":      c.cfg.source,
		"tags":        []string{productTag, t.IdempotencyKey},
	}
	if l.urgency > 0 {
		fields["urgency"], fields["impact"] = l.urgency, l.impact
	}
	if category != "" {
		fields["category"] = category
	}
	if c.cfg.workspaceID > 0 {
		fields["workspace_id"] = c.cfg.workspaceID
	}
	if c.cfg.groupID > 0 {
		fields["group_id"] = c.cfg.groupID
	}
	custom := maps.Clone(c.cfg.customFields)
	if c.cfg.externalIDField != "" {
		if custom == nil {
			custom = map[string]any{}
		}
		custom[c.cfg.externalIDField] = t.IdempotencyKey
	}
	if len(custom) > 0 {
		fields["custom_fields"] = custom
	}
	return fields
}

// post sends a create: JSON, or multipart/form-data with the files.
func (c *Connector) post(ctx context.Context, fields map[string]any, files []connectors.Attachment) (connectors.Remote, error) {
	const op = "create"
	req := rest.Request{Op: op, Method: http.MethodPost, Path: ticketsPath, JSON: fields}
	if len(files) > 0 {
		body, ct, err := multipartBody(fields, files)
		if err != nil {
			return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
		}
		req = rest.Request{Op: op, Method: http.MethodPost, Path: ticketsPath, Header: http.Header{"Content-Type": {ct}}, Body: body}
	}
	var out struct{ Ticket ticket }
	if err := c.do(ctx, req, &out); err != nil {
		return connectors.Remote{}, err
	}
	if out.Ticket.ID <= 0 {
		// A 2xx without a ticket: it may exist, so a retry looks first.
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Retryable, Sent: true,
			Err: errors.New("the response carries no ticket id")}
	}
	return c.remote(out.Ticket.ID), nil
}

// rejectedField reports whether err is a 400 whose validation errors
// name field (vendorMessage renders each as "field: message (code)").
func rejectedField(err error, field string) bool {
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		return false
	}
	msg := strings.TrimPrefix(e.Message, "Validation failed: ")
	for _, part := range strings.Split(msg, "; ") {
		if strings.HasPrefix(part, field+": ") {
			return true
		}
	}
	return false
}

// levelsFor maps a priority through the connection's table.
func (c *Connector) levelsFor(p connectors.Priority) levels {
	if l, ok := c.table[string(p)]; ok {
		return l
	}
	if l, ok := c.table[connectors.DefaultRow]; ok {
		return l
	}
	l, _ := parseLevels(vendorPriority[connectors.PriorityMedium])
	return l
}

// filesFor lists the files to attach on create: the system information
// as JSON, then the user's files, as long as they fit Freshservice's
// limit together; skipped names those that did not.
func filesFor(t *connectors.Ticket) (files []connectors.Attachment, skipped []string) {
	total := 0
	for _, a := range connectors.FilesToAttach(t) {
		if total+len(a.Data) > maxFiles || !plainName(a.Filename) {
			skipped = append(skipped, a.Filename)
			continue
		}
		total += len(a.Data)
		files = append(files, a)
	}
	return files, skipped
}

func plainName(n string) bool {
	return n != "" && !strings.ContainsAny(n, "/\\\"\r\n")
}

// multipartBody encodes a create request as multipart/form-data, as
// Freshservice takes it with files: scalar fields as parts, tags[] and
// custom_fields[name] for the collections, attachments[] for each file.
func multipartBody(fields map[string]any, files []connectors.Attachment) (io.Reader, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		switch v := fields[k].(type) {
		case []string:
			for _, s := range v {
				if err := w.WriteField(k+"[]", s); err != nil {
					return nil, "", err
				}
			}
		case map[string]any:
			for _, name := range slices.Sorted(maps.Keys(v)) {
				if v[name] == nil {
					continue
				}
				if err := w.WriteField("custom_fields["+name+"]", fmt.Sprint(v[name])); err != nil {
					return nil, "", err
				}
			}
		default:
			if err := w.WriteField(k, fmt.Sprint(v)); err != nil {
				return nil, "", err
			}
		}
	}
	for _, a := range files {
		if err := writeFile(w, a); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

func writeFile(w *multipart.Writer, a connectors.Attachment) error {
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments[]"; filename="%s"`, a.Filename))
	h.Set("Content-Type", ct)
	p, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = p.Write(a.Data)
	return err
}

// Find returns the oldest ticket carrying the key where this connection
// creates (see the package doc): it asks for the tag, and, when
// options.externalIdField is set and the tag finds nothing (an agent
// removed it), for the field. An account that cannot filter on that field
// answers the second query 400, which counts as not found.
func (c *Connector) Find(ctx context.Context, key string) (connectors.Remote, error) {
	const op = "find"
	if err := checkKey(key); err != nil {
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	queries := []string{c.findQuery("tag", key)}
	if f := c.cfg.externalIDField; f != "" {
		queries = append(queries, c.findQuery(f, key))
	}
	for i, q := range queries {
		r, err := c.findBy(ctx, q, key)
		var e *connectors.Error
		if i > 0 && errors.As(err, &e) && e.Status == http.StatusBadRequest {
			break // the field is not filterable on this account
		}
		if !errors.Is(err, connectors.ErrNotFound) {
			return r, err
		}
	}
	if c.cfg.externalIDField != "" {
		return c.findRecent(ctx, key)
	}
	return connectors.Remote{}, connectors.ErrNotFound
}

// Recent tickets are looked through when the filter finds nothing: the
// filter API answers from a search index that may lag a create by
// minutes (Freshworks says so of its search APIs), while the ticket list
// is current.
const (
	recentWindow = time.Hour
	recentPages  = 3
	recentPage   = 100
)

// findRecent looks for the key in options.externalIdField among the
// tickets updated in the last recentWindow, newest first, where this
// connection creates. It returns the oldest match.
func (c *Connector) findRecent(ctx context.Context, key string) (connectors.Remote, error) {
	const op = "find"
	q := url.Values{
		"updated_since": {c.now().Add(-recentWindow).UTC().Format(time.RFC3339)},
		"order_type":    {"desc"},
		"per_page":      {strconv.Itoa(recentPage)},
	}
	if c.cfg.workspaceID > 0 {
		q.Set("workspace_id", strconv.FormatInt(c.cfg.workspaceID, 10))
	}
	var best int64
	for page := 1; page <= recentPages; page++ {
		q.Set("page", strconv.Itoa(page))
		var out struct {
			Tickets []ticket `json:"tickets"`
		}
		if err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath, Query: q}, &out); err != nil {
			return connectors.Remote{}, err
		}
		for _, t := range out.Tickets {
			if t.CustomFields[c.cfg.externalIDField] == key && c.ours(t, key) && (best == 0 || t.ID < best) {
				best = t.ID
			}
		}
		if len(out.Tickets) < recentPage {
			break
		}
	}
	if best == 0 {
		return connectors.Remote{}, connectors.ErrNotFound
	}
	return c.remote(best), nil
}

// findBy runs one filter query and picks the oldest ticket that is ours.
func (c *Connector) findBy(ctx context.Context, query, key string) (connectors.Remote, error) {
	const op = "find"
	var out struct {
		Tickets []ticket `json:"tickets"`
	}
	if err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: filterPath,
		Query: url.Values{"query": {query}}}, &out); err != nil {
		return connectors.Remote{}, err
	}
	var best *ticket
	for i, t := range out.Tickets {
		if !c.ours(t, key) {
			continue
		}
		if best == nil || t.ID < best.ID {
			best = &out.Tickets[i]
		}
	}
	switch {
	case best != nil:
		return c.remote(best.ID), nil
	case len(out.Tickets) > 0:
		// The account answered with tickets the query excludes: never
		// take one of them for ours.
		return connectors.Remote{}, permanent(op, "Freshservice answered the filter with tickets outside this connection's workspace, group or external-id field; check options.workspaceId, groupId and externalIdField")
	}
	return connectors.Remote{}, connectors.ErrNotFound
}

// findQuery is the filter query for field = key, scoped, in its double
// quotes.
func (c *Connector) findQuery(field, key string) string {
	q := field + ":'" + key + "'"
	if c.cfg.workspaceID > 0 {
		q += " AND workspace_id:" + strconv.FormatInt(c.cfg.workspaceID, 10)
	}
	if c.cfg.groupID > 0 {
		q += " AND group_id:" + strconv.FormatInt(c.cfg.groupID, 10)
	}
	return `"` + q + `"`
}

// ours checks a filter result against what the query asked for.
func (c *Connector) ours(t ticket, key string) bool {
	if t.ID <= 0 {
		return false
	}
	if c.cfg.workspaceID > 0 && (t.WorkspaceID == nil || *t.WorkspaceID != c.cfg.workspaceID) {
		return false
	}
	if c.cfg.groupID > 0 && (t.GroupID == nil || *t.GroupID != c.cfg.groupID) {
		return false
	}
	if f := c.cfg.externalIDField; f != "" {
		// Empty is fine: the ticket may predate the option.
		if v := t.CustomFields[f]; v != nil && v != "" && v != key {
			return false
		}
	}
	return true
}

// Status reads the ticket's status code: 2 Open, 3 Pending, 4 Resolved,
// 5 Closed, or an account's custom status id.
func (c *Connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	const op = "status"
	id, err := ticketID(op, r)
	if err != nil {
		return connectors.RemoteStatus{}, err
	}
	var out struct{ Ticket ticket }
	if err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath + "/" + strconv.FormatInt(id, 10)}, &out); err != nil {
		return connectors.RemoteStatus{}, err
	}
	if out.Ticket.Status == 0 {
		return connectors.RemoteStatus{}, &connectors.Error{Op: op, Class: connectors.Retryable, Err: errors.New("the response carries no ticket status")}
	}
	st := connectors.RemoteStatus{Remote: c.remote(id), Status: strconv.Itoa(out.Ticket.Status)}
	if ts, err := time.Parse(time.RFC3339, out.Ticket.UpdatedAt); err == nil {
		st.UpdatedAt = ts.UTC()
	}
	return st, nil
}

// Comment adds a private note (agents see it; the requester does not).
func (c *Connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	const op = "comment"
	id, err := ticketID(op, r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return permanent(op, "the comment is empty")
	}
	return c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: notesPath(id),
		JSON: map[string]any{"body": description.Paragraphs(text), "private": true}}, nil)
}

// Attach adds a private note carrying the file.
func (c *Connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	const op = "attach"
	id, err := ticketID(op, r)
	if err != nil {
		return err
	}
	return c.note(ctx, op, id, "<p>Attached by Ticketray: "+html.EscapeString(a.Filename)+"</p>", true, []connectors.Attachment{a})
}

// note adds a note with an HTML body to ticket id: JSON without files,
// multipart/form-data with them (attachments[]).
func (c *Connector) note(ctx context.Context, op string, id int64, body string, private bool, files []connectors.Attachment) error {
	if len(files) == 0 {
		return c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: notesPath(id),
			JSON: map[string]any{"body": body, "private": private}}, nil)
	}
	total := 0
	for _, a := range files {
		if !plainName(a.Filename) {
			return permanent(op, "the attachment needs a plain file name")
		}
		total += len(a.Data)
	}
	if total > maxFiles {
		return permanent(op, "the files are larger than Freshservice's 15 MB attachment limit")
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	err := w.WriteField("body", body)
	if err == nil {
		err = w.WriteField("private", strconv.FormatBool(private))
	}
	for _, a := range files {
		if err == nil {
			err = writeFile(w, a)
		}
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	return c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: notesPath(id),
		Header: http.Header{"Content-Type": {w.FormDataContentType()}}, Body: &buf}, nil)
}

func notesPath(id int64) string { return ticketsPath + "/" + strconv.FormatInt(id, 10) + "/notes" }

// Check lists one ticket (proving the domain, the API key and read access
// to tickets), runs Find's filter query for a key no ticket has (proving
// the filter API takes this connection's scope), and, with
// options.externalIdField, checks that the account has that ticket field.
// Failures carry a hint for the usual setup mistakes.
func (c *Connector) Check(ctx context.Context) error {
	var out struct {
		Tickets *[]json.RawMessage `json:"tickets"`
	}
	err := c.do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: ticketsPath, Query: url.Values{"per_page": {"1"}}}, &out)
	if err == nil && out.Tickets == nil {
		err = &connectors.Error{Op: "check", Class: connectors.Permanent}
	}
	if err == nil {
		var found struct {
			Tickets *[]json.RawMessage `json:"tickets"`
		}
		err = c.do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: filterPath,
			Query: url.Values{"query": {c.findQuery("tag", connectors.NewKey())}}}, &found)
		if err == nil && found.Tickets == nil {
			err = &connectors.Error{Op: "check", Class: connectors.Permanent}
		}
	}
	if err != nil {
		return withHint(err, c.conn.BaseURL)
	}
	if f := c.cfg.externalIDField; f != "" {
		var fields struct {
			TicketFields []formField `json:"ticket_fields"`
		}
		if err := c.do(ctx, rest.Request{Op: "check", Method: http.MethodGet, Path: formFieldsPath}, &fields); err != nil {
			return withHint(err, c.conn.BaseURL)
		}
		if !slices.ContainsFunc(fields.TicketFields, func(tf formField) bool { return tf.Name == f }) {
			return &connectors.Error{Op: "check", Class: connectors.Permanent, Message: fmt.Sprintf(
				"the account has no ticket field named %q (options.externalIdField): an admin must add it in Admin → Field Manager → Ticket Fields (a Single-line text field), or remove the option", f)}
		}
	}
	return nil
}

// formField is an entry of GET /api/v2/ticket_form_fields.
type formField struct {
	Name      string `json:"name"`
	FieldType string `json:"field_type"`
}

// withHint adds the likely cause of a failed check to the vendor's
// message.
func withHint(err error, baseURL string) error {
	var e *connectors.Error
	if !errors.As(err, &e) {
		return err
	}
	hint := ""
	switch {
	case e.Class == connectors.Offline:
		hint = "cannot reach " + baseURL + ": check the domain (https://<your-domain>.freshservice.com) and the network"
	case e.Status == http.StatusUnauthorized:
		hint = "Freshservice refused the API key: credentials.apiToken must be the agent's API key (Profile Settings → View API Key), not the password or an OAuth token; with basic credentials the key goes in username"
	case e.Status == http.StatusForbidden:
		hint = "the agent may not use the API or view tickets here: give the agent a role that can view and create tickets (and access to the workspace or group set in options)"
	case e.Status == http.StatusBadRequest:
		hint = "Freshservice refused the ticket filter for this connection's scope: check options.workspaceId and groupId"
	case e.Status == http.StatusNotFound, e.Status == 0 && e.Class == connectors.Permanent, e.Status > 0 && e.Status < 300,
		e.Message == "" && e.Status > 0 && e.Status < 500 && e.Status != http.StatusTooManyRequests:
		hint = "no Freshservice API v2 answered at " + baseURL + ": baseUrl must be the account's own domain (https://<your-domain>.freshservice.com); custom CNAMEs do not work with API v2"
		if e.Status < 300 { // a page that is not the API: retrying will not help
			e.Class, e.Sent = connectors.Permanent, false
		}
	}
	if hint == "" {
		return err
	}
	if e.Message != "" {
		hint += " (Freshservice: " + e.Message + ")"
	}
	e.Message = hint
	return e
}

func (c *Connector) remote(id int64) connectors.Remote {
	s := strconv.FormatInt(id, 10)
	return connectors.Remote{ID: s, Number: "INC-" + s, URL: c.rest.Base.String() + "/a/tickets/" + s}
}

// do sends the request with the connection's Authorization.
func (c *Connector) do(ctx context.Context, r rest.Request, out any) error {
	if c.auth != "" {
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set("Authorization", c.auth)
	}
	resp, err := c.rest.Do(ctx, r, out)
	var e *connectors.Error
	if resp != nil && errors.As(err, &e) && e.RetryAfter == 0 {
		// Freshworks' spec types Retry-After as a date-time; the docs and
		// clients say seconds, which rest reads. Take the other form too.
		if t, perr := time.Parse(time.RFC3339, strings.TrimSpace(resp.Header.Get("Retry-After"))); perr == nil {
			e.RetryAfter = min(max(time.Until(t), 0), 24*time.Hour)
		}
	}
	return err
}

func ticketID(op string, r connectors.Remote) (int64, error) {
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil || id <= 0 {
		return 0, permanent(op, "the remote id is not a Freshservice ticket id")
	}
	return id, nil
}

// checkKey accepts keys that fit a tag and a filter query's single
// quotes as they are.
func checkKey(k string) error { return connectors.CheckKey(k, 64) }

func permanent(op, msg string) error {
	return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New(msg)}
}
