// Package zendesk delivers Ticketray tickets to Zendesk Support as tickets,
// through the Ticketing API (tickets, uploads, users/me).
//
// Field mapping on create (POST /api/v2/tickets):
//
//	subject        the summary
//	comment.body   the first, public comment (the ticket's description): the
//	               user's text, then plain-text sections for the system
//	               information, each skill result and who reported it when
//	priority       from the priority through the priority table (below)
//	tags           "ticketray", and the category as a tag through
//	               Connection.MapCategory (Zendesk has no category field;
//	               tags drive views, triggers and reports)
//	requester      {name, email} of the reporter: Zendesk finds the user by
//	               email or creates an end user; omitted without an email
//	               (the agent whose credentials are used is then the requester)
//	external_id    the delivery's idempotency key (Find lists by it)
//	group_id       options.groupId, when set
//	brand_id       options.brandId, when set
//
// Exactly once: the create carries the key twice. The Idempotency-Key
// header makes Zendesk answer a repeated create with the first ticket, but
// only for about two hours; a queue can be offline longer, so a retry after
// an unknown outcome first lists GET /api/v2/tickets?external_id=<key>
// (not the search API, whose index lags). Several connections may share an
// account: each Find keeps to the group and brand its connection creates
// in, and delivery keys differ per connection anyway.
//
// Priority: Zendesk's priorities are low, normal, high and urgent. The
// built-in rows: critical → urgent, high → high, medium → normal, low → low.
// mappings.priority overrides them (see connectors.Connection.PriorityTable).
//
// Attachments (the system information as JSON, then the user's files) are
// uploaded with POST /api/v2/uploads after the ticket exists, and added in
// one private comment with comment.uploads. They are not part of the create
// request: upload tokens differ on every attempt, and a create repeated with
// another body under the same Idempotency-Key is refused.
//
// Additions (Add, FindAddition; add.go): the reporter's comment is one
// public comment with its files, ending in connectors.AdditionMarker (Zendesk
// comments have no properties), authored by the requester when that is the
// reporter; FindAddition pages through the ticket's comments for that line.
//
// Status sync (Sync): GET /api/v2/tickets/show_many, 100 ids a request,
// with the users and last_audits sideloads; see sync.go for the built-in
// status rows.
//
// Credentials: api_token (username = the agent's email; sent as
// "<email>/token:<apiToken>") or bearer (an OAuth access token).
package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"

	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

func init() {
	connectors.Register("zendesk", connectors.Driver{New: New, Validate: Validate, CheckMapping: CheckMapping, StatusRows: statusRows})
}

var _ connectors.Connector = (*Connector)(nil)

const (
	ticketsPath = "/api/v2/tickets"
	uploadsPath = "/api/v2/uploads"
	mePath      = "/api/v2/users/me"

	// Tag is on every ticket Ticketray creates.
	Tag = "ticketray"

	// maxKey is the longest Idempotency-Key Zendesk accepts.
	maxKey = 255
)

// Priorities are Zendesk's priority values.
var Priorities = []string{"low", "normal", "high", "urgent"}

// vendorPriority is the built-in priority table.
var vendorPriority = map[connectors.Priority]string{
	connectors.PriorityCritical: "urgent",
	connectors.PriorityHigh:     "high",
	connectors.PriorityMedium:   "normal",
	connectors.PriorityLow:      "low",
}

// Validate is the Zendesk connection's own config rules: the credential
// types Zendesk takes, an account address without a path, and numeric
// group and brand ids.
func Validate(c connectors.Connection) []connectors.FieldError {
	var errs []connectors.FieldError
	add := func(field, msg string) { errs = append(errs, connectors.FieldError{Field: field, Msg: msg}) }
	switch c.Credentials.Type {
	case "api_token":
		if u := c.Credentials.Username; u != "" && !isReference(u) && !strings.Contains(u, "@") {
			add("credentials.username", "must be the agent's email address (Zendesk API tokens are used as <email>/token)")
		}
	case "bearer":
	default:
		add("credentials.type", "must be api_token (the agent's email and an API token) or bearer (an OAuth access token) for zendesk connections")
	}
	if u, err := url.Parse(c.BaseURL); err == nil && u.Host != "" && strings.Trim(u.Path, "/") != "" {
		add("baseUrl", "must be the account's address, https://<subdomain>.zendesk.com, without a path such as /api/v2")
	}
	for _, name := range []string{"groupId", "brandId"} {
		if _, err := idOption(c, name); err != nil {
			add("options."+name, err.Error())
		}
	}
	return errs
}

// CheckMapping accepts Zendesk's priorities in a priority table and one
// tag (no spaces or commas) in a category table.
func CheckMapping(kind, value string) error {
	switch kind {
	case "priority":
		if !slices.Contains(Priorities, value) {
			return errors.New("must be a Zendesk priority: low, normal, high or urgent")
		}
	case "category":
		if strings.TrimSpace(value) == "" || strings.ContainsFunc(value, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
			return errors.New("must be one Zendesk tag: not blank, no spaces or commas")
		}
	}
	return nil
}

// Connector is a Zendesk Support connection.
type Connector struct {
	conn  connectors.Connection
	rest  *rest.Client
	auth  string // an Authorization header of our own (api_token), "" to use the client's
	group int64  // options.groupId, 0 for none
	brand int64  // options.brandId, 0 for none
}

// New builds the connector for a zendesk connection. d.HTTP carries the
// bearer token; for api_token credentials the connector sends
// "<email>/token:<apiToken>" itself, resolved through d.Credential.
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTP == nil {
		return nil, fmt.Errorf("zendesk: connection %q: no HTTP client", c.Name)
	}
	if err := connectors.CheckBaseURL(c.BaseURL); err != nil {
		return nil, fmt.Errorf("zendesk: connection %q: baseUrl %w", c.Name, err)
	}
	if errs := Validate(c); len(errs) > 0 {
		return nil, fmt.Errorf("zendesk: connection %q: %s %s", c.Name, errs[0].Field, errs[0].Msg)
	}
	cn := &Connector{conn: c}
	cn.group, _ = idOption(c, "groupId")
	cn.brand, _ = idOption(c, "brandId")
	if c.Credentials.Type == "api_token" {
		auth, err := tokenAuth(c, d.Credential)
		if err != nil {
			return nil, err
		}
		cn.auth = auth
	}
	rc, err := rest.New(strings.TrimRight(c.BaseURL, "/"), d.HTTP, vendorMessage)
	if err != nil {
		return nil, fmt.Errorf("zendesk: connection %q: %w", c.Name, err)
	}
	cn.rest = rc
	return cn, nil
}

// tokenAuth is Zendesk's API token authentication: Basic with
// "<email>/token" as the user name. A username that already ends in
// "/token" is taken as it is.
func tokenAuth(c connectors.Connection, cred func(string) (string, error)) (string, error) {
	if cred == nil {
		return "", fmt.Errorf("zendesk: connection %q: api_token credentials need a credential resolver", c.Name)
	}
	user, err := cred("username")
	if err != nil {
		return "", fmt.Errorf("zendesk: %w", err)
	}
	tok, err := cred("apiToken")
	if err != nil {
		return "", fmt.Errorf("zendesk: %w", err)
	}
	if !strings.HasSuffix(user, "/token") {
		user += "/token"
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+tok)), nil
}

// ticket holds the fields the connector reads from a ticket.
type ticket struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	ExternalID string `json:"external_id"`
	GroupID    *int64 `json:"group_id"`
	BrandID    *int64 `json:"brand_id"`
	UpdatedAt  string `json:"updated_at"`
}

// Create creates the ticket, then uploads the system information and the
// ticket's attachments.
func (c *Connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	const op = "create"
	if err := connectors.CheckTicket(t, checkKey); err != nil {
		return connectors.Remote{}, err
	}
	var out struct {
		Ticket ticket `json:"ticket"`
	}
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: ticketsPath,
		Header: http.Header{"Idempotency-Key": {t.IdempotencyKey}},
		JSON:   map[string]any{"ticket": c.newTicket(t)}}, &out)
	if isIdempotencyMismatch(err) {
		// The key was used within the last two hours with another body (the
		// config changed between attempts): that create went through, so
		// the ticket is there to find.
		if r, ferr := c.Find(ctx, t.IdempotencyKey); ferr == nil {
			return r, nil
		}
		return connectors.Remote{}, err
	}
	if err != nil {
		return connectors.Remote{}, err
	}
	if out.Ticket.ID <= 0 {
		// A 2xx without a ticket: Zendesk may have created it, so the
		// outcome is unknown and a retry looks it up first.
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Retryable, Sent: true,
			Err: errors.New("the response carries no ticket id")}
	}
	r := c.remote(out.Ticket.ID)

	// Best effort: the ticket exists. A failed upload must not turn a
	// delivered ticket into a failed one.
	if files := connectors.FilesToAttach(t); len(files) > 0 && ctx.Err() == nil {
		_ = c.attach(ctx, r, files)
	}
	return r, nil
}

// newTicket is the create request's ticket object. It depends on the
// ticket and the config only, so a retry sends the same body under the
// same Idempotency-Key.
func (c *Connector) newTicket(t *connectors.Ticket) map[string]any {
	prio := c.conn.MapPriority(t.Priority, vendorPriority)
	if !slices.Contains(Priorities, prio) {
		prio = vendorPriority[connectors.PriorityMedium]
	}
	tags := []string{Tag}
	if cat := CategoryTag(c.conn.MapCategory(t.Category)); cat != "" && cat != Tag {
		tags = append(tags, cat)
	}
	body := map[string]any{
		"subject":     t.Summary,
		"comment":     map[string]any{"body": describe(t), "public": true},
		"priority":    prio,
		"tags":        tags,
		"external_id": t.IdempotencyKey,
	}
	if email := strings.TrimSpace(t.User.Email); email != "" {
		name := strings.TrimSpace(t.User.Name)
		if name == "" {
			name = email // Zendesk needs a name to create the user
		}
		body["requester"] = map[string]string{"name": name, "email": email}
	}
	if c.group != 0 {
		body["group_id"] = c.group
	}
	if c.brand != 0 {
		body["brand_id"] = c.brand
	}
	return body
}

// CategoryTag turns a category into a Zendesk tag: lower case, runs of
// spaces and commas as one underscore.
func CategoryTag(category string) string {
	f := strings.FieldsFunc(strings.ToLower(category), func(r rune) bool { return unicode.IsSpace(r) || r == ',' })
	return strings.Join(f, "_")
}

// Find returns the oldest ticket whose external_id is the key, among the
// tickets this connection creates (its group and brand, when set). The
// list endpoint reads the database, unlike search, so a ticket created a
// moment ago is found.
func (c *Connector) Find(ctx context.Context, key string) (connectors.Remote, error) {
	const op = "find"
	if err := checkKey(key); err != nil {
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	var out struct {
		Tickets []ticket `json:"tickets"`
	}
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath,
		Query: url.Values{"external_id": {key}, "per_page": {"100"}}}, &out)
	if err != nil {
		return connectors.Remote{}, err
	}
	var best int64
	for _, t := range out.Tickets {
		// External ids need not be unique, and a parameter the account
		// ignored would list every ticket: check each one.
		if t.ExternalID != key || t.ID <= 0 || !c.inScope(t) {
			continue
		}
		if best == 0 || t.ID < best {
			best = t.ID
		}
	}
	if best == 0 {
		return connectors.Remote{}, connectors.ErrNotFound
	}
	return c.remote(best), nil
}

// inScope reports whether t is where this connection creates.
func (c *Connector) inScope(t ticket) bool {
	match := func(want int64, got *int64) bool { return want == 0 || (got != nil && *got == want) }
	return match(c.group, t.GroupID) && match(c.brand, t.BrandID)
}

// Status reads the ticket's status: new, open, pending, hold, solved or
// closed (with custom statuses, their category).
func (c *Connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	const op = "status"
	id, err := ticketID(op, r)
	if err != nil {
		return connectors.RemoteStatus{}, err
	}
	var out struct {
		Ticket ticket `json:"ticket"`
	}
	if err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath + "/" + strconv.FormatInt(id, 10)}, &out); err != nil {
		return connectors.RemoteStatus{}, err
	}
	st := connectors.RemoteStatus{Remote: c.remote(id), Status: out.Ticket.Status}
	if ts, err := time.Parse(time.RFC3339, out.Ticket.UpdatedAt); err == nil {
		st.UpdatedAt = ts.UTC()
	}
	return st, nil
}

// Comment adds a private comment (an internal note agents see; the
// requester gets no email).
func (c *Connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	const op = "comment"
	id, err := ticketID(op, r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the comment is empty")}
	}
	return c.update(ctx, op, id, map[string]any{"body": text, "public": false})
}

// Attach uploads a file and adds it to the ticket in a private comment.
func (c *Connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	return c.attach(ctx, r, []connectors.Attachment{a})
}

// attach uploads each file and adds them to the ticket in one private
// comment.
func (c *Connector) attach(ctx context.Context, r connectors.Remote, files []connectors.Attachment) error {
	const op = "attach"
	id, err := ticketID(op, r)
	if err != nil {
		return err
	}
	tokens, err := c.upload(ctx, op, files)
	if err != nil || len(tokens) == 0 {
		return err
	}
	names := make([]string, len(files))
	for i, a := range files {
		names[i] = a.Filename
	}
	body := "Attached by Ticketray: " + strings.Join(names, ", ")
	return c.update(ctx, op, id, map[string]any{"body": body, "public": false, "uploads": tokens})
}

// upload uploads each file (POST /api/v2/uploads, a token each) for a
// comment's uploads. Separate tokens rather than one token for several
// files: comment.uploads takes a list, and the upload operation then needs
// no parameter beyond filename.
func (c *Connector) upload(ctx context.Context, op string, files []connectors.Attachment) ([]string, error) {
	tokens := make([]string, 0, len(files))
	for _, a := range files {
		if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\") {
			return nil, &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the attachment needs a plain file name")}
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		var out struct {
			Upload struct {
				Token string `json:"token"`
			} `json:"upload"`
		}
		err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: uploadsPath, Query: url.Values{"filename": {a.Filename}},
			Header: http.Header{"Content-Type": {ct}}, Body: bytes.NewReader(a.Data)}, &out)
		if err != nil {
			return nil, err
		}
		if out.Upload.Token == "" {
			return nil, &connectors.Error{Op: op, Class: connectors.Retryable, Err: errors.New("the upload response carries no token")}
		}
		tokens = append(tokens, out.Upload.Token)
	}
	return tokens, nil
}

// update adds a comment to ticket id.
func (c *Connector) update(ctx context.Context, op string, id int64, comment map[string]any) error {
	return c.do(ctx, rest.Request{Op: op, Method: http.MethodPut, Path: ticketsPath + "/" + strconv.FormatInt(id, 10),
		JSON: map[string]any{"ticket": map[string]any{"comment": comment}}}, nil)
}

// Check proves the credentials with GET /api/v2/users/me, that they are an
// agent's, and that the agent may list tickets by external id (what Find
// needs). Errors carry a hint for the usual setup mistakes.
func (c *Connector) Check(ctx context.Context) error {
	const op = "check"
	var me struct {
		User struct {
			ID   *int64 `json:"id"`
			Role string `json:"role"`
		} `json:"user"`
	}
	if err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: mePath}, &me); err != nil {
		return c.hint(err)
	}
	if me.User.ID == nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Status: http.StatusUnauthorized,
			Err: errors.New("Zendesk answered as an anonymous user: the credentials were not accepted")}
	}
	if me.User.Role == "end-user" {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Status: http.StatusForbidden,
			Err: errors.New("the credentials belong to an end user: use an agent's API token, or an OAuth token issued to an agent")}
	}
	err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: ticketsPath,
		Query: url.Values{"external_id": {"ticketray-connection-test"}, "per_page": {"1"}}}, nil)
	return c.hint(err)
}

// hint adds what to check for the usual setup mistakes to a Check error.
func (c *Connector) hint(err error) error {
	var e *connectors.Error
	if !errors.As(err, &e) {
		return err
	}
	var h string
	switch {
	case e.Status == http.StatusUnauthorized && c.auth != "":
		h = "Zendesk refused the API token: credentials.username must be the agent's email address (Ticketray adds /token) and apiToken an active token from Admin Center > Apps and integrations > APIs > Zendesk API, with token access enabled"
	case e.Status == http.StatusUnauthorized:
		h = "Zendesk refused the OAuth access token: it is expired, revoked, or was issued for another subdomain"
	case e.Status == http.StatusForbidden:
		h = "the account may not list tickets: it needs an agent role that can view and create tickets (and, with a group set, access to that group)"
	case e.Status == http.StatusNotFound:
		// An unclaimed subdomain answers "There is no help desk configured
		// at this address…".
		h = "no Zendesk account answers at baseUrl: it must be https://<subdomain>.zendesk.com, with the subdomain of the agents' browser address"
	case e.Class == connectors.Offline && isNoSuchHost(e):
		h = "the host does not exist: check the subdomain in baseUrl"
	case e.Status == 0 && e.Err != nil && strings.Contains(e.Err.Error(), "refusing redirect to another host"):
		// A host-mapped or mistyped address that sends the client elsewhere.
		e.Class = connectors.Permanent
		h = "baseUrl redirects to another host: use the account's own address, https://<subdomain>.zendesk.com, not a host-mapped help center domain"
	default:
		return err
	}
	if e.Err != nil {
		h = e.Err.Error() + ": " + h
	}
	e.Err = errors.New(h)
	return e
}

func (c *Connector) remote(id int64) connectors.Remote {
	s := strconv.FormatInt(id, 10)
	return connectors.Remote{ID: s, Number: s, URL: c.rest.Base.String() + "/agent/tickets/" + s}
}

// do sends a request with the connector's own Authorization, if any.
func (c *Connector) do(ctx context.Context, r rest.Request, out any) error {
	if c.auth != "" {
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set("Authorization", c.auth)
	}
	_, err := c.rest.Do(ctx, r, out)
	var e *connectors.Error
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		// Zendesk answers 409 when a write collides with a concurrent one
		// on the same record (or a create under the same Idempotency-Key
		// is still running): worth retrying, and the create may have
		// happened, so the retry finds first.
		e.Class, e.Sent = connectors.Retryable, true
	}
	return err
}

func ticketID(op string, r connectors.Remote) (int64, error) {
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil || id <= 0 {
		return 0, &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("the remote id is not a Zendesk ticket id")}
	}
	return id, nil
}

// checkKey accepts keys that fit an Idempotency-Key header and an
// external_id: 1 to 255 printable ASCII characters without spaces.
func checkKey(k string) error {
	if k == "" || len(k) > maxKey {
		return fmt.Errorf("the idempotency key must be 1 to %d characters", maxKey)
	}
	for _, r := range k {
		if r <= ' ' || r > '~' {
			return errors.New("the idempotency key must be printable ASCII without spaces")
		}
	}
	return nil
}

// idOption reads a numeric id option: 0 when absent.
func idOption(c connectors.Connection, name string) (int64, error) {
	v := strings.TrimSpace(c.Option(name, ""))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("must be a Zendesk id: a positive whole number")
	}
	return id, nil
}

func isReference(s string) bool {
	return strings.HasPrefix(s, "env:") || strings.HasPrefix(s, "keyring:")
}
