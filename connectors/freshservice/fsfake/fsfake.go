// Package fsfake is a Freshservice API v2 server for tests. It speaks
// Freshservice's wire format for what Ticketray uses: create a ticket (JSON,
// or multipart/form-data with attachments[]), view and list tickets, the
// filter API (GET /api/v2/tickets/filter?query="…"), private notes (JSON or
// multipart), a ticket's conversations (paged, at most 100 a page), agents
// by id, and the ticket form fields. Tests act as an agent with Act
// (status, assignee, a public reply, a private note) and SetStatus. It authenticates as Freshservice
// does (Basic auth, the agent's API key as the user name, any password),
// rate-limits per minute with Freshservice's headers and a Retry-After in
// seconds, and validates JSON requests against Freshworks' own (partial)
// Swagger, recording what does not match in Violations. Faults are
// injected in front of the vendor handler.
//
// Freshness: the fake's filter sees a ticket as soon as it is created. A
// real account's filter index may lag (unverified); see the connector's
// package doc.
package fsfake

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/fake/openapi"
)

// Credentials and account data every fake starts with.
const (
	// APIKey is the agent's API key the fake accepts as the Basic user
	// name. The password is ignored, as Freshservice ignores it ("X" by
	// convention).
	APIKey = "fsfake-agent-api-key-3f9a1c"
	// PrimaryWorkspaceID is the account's primary workspace: tickets
	// created without workspace_id land there, and a filter query without
	// a workspace_id condition sees only it.
	PrimaryWorkspaceID int64 = 2
	// ITWorkspaceID is a second workspace.
	ITWorkspaceID int64 = 3
	// ServiceDeskGroupID and NetworkGroupID are agent groups.
	ServiceDeskGroupID int64 = 14000000101
	NetworkGroupID     int64 = 14000000102
	// ExternalIDField is a single-line text custom field the fake knows
	// when started WithTicketrayField.
	ExternalIDField = "ticketray_id"
)

// DefaultCategories are the category choices a fake starts with.
var DefaultCategories = []string{"Hardware", "Software", "Network", "Office Applications", "Other"}

// decodeNote reads a JSON note ({"body","private"}) or a multipart one
// (body, private, attachments[]). A note is private unless it says
// otherwise, as in Freshservice.
func decodeNote(r *http.Request, body []byte) (Note, *FieldError) {
	n := Note{Private: true}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		var in struct {
			Body    *string `json:"body"`
			Private *bool   `json:"private"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return n, &FieldError{"", "Request body has invalid json format", "invalid_json"}
		}
		if in.Body != nil {
			n.Body = *in.Body
		}
		if in.Private != nil {
			n.Private = *in.Private
		}
		return n, nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	total := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, &FieldError{"", "The multipart body could not be read", "invalid_json"}
		}
		data, _ := io.ReadAll(p)
		switch p.FormName() {
		case "body":
			n.Body = string(data)
		case "private":
			n.Private = string(data) == "true"
		case "attachments[]":
			if p.FileName() == "" {
				return n, &FieldError{"attachments", "It should be a/an Array of Files", "datatype_mismatch"}
			}
			total += len(data)
			n.Attachments = append(n.Attachments, Attachment{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
		default:
			return n, &FieldError{p.FormName(), "Unexpected/invalid field in request", "invalid_field"}
		}
	}
	if total > maxAttachments {
		return n, &FieldError{"attachments", "The total size of the attachments cannot exceed 15MB", "invalid_value"}
	}
	return n, nil
}

// maxAttachments is Freshservice's limit on a ticket's attachments
// together (the spec: "cannot exceed 15MB").
const maxAttachments = 15 << 20

// maxBody bounds a request body.
const maxBody = 32 << 20

// Ticket is a stored ticket.
type Ticket struct {
	ID           int64
	Subject      string
	Description  string // HTML
	Email        string
	RequesterID  int64
	Status       int
	Priority     int
	Urgency      int
	Impact       int
	Source       int
	Category     string
	Tags         []string
	CustomFields map[string]any
	WorkspaceID  int64
	GroupID      int64 // 0: none
	ResponderID  int64 // the assigned agent, 0: none
	Attachments  []Attachment
	Notes        []Note
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Attachment is a stored file.
type Attachment struct {
	ID          int64
	Name        string
	ContentType string
	Data        []byte
}

// Note is a conversation on a ticket: a note added through the API, or an
// agent's reply or note (Act).
type Note struct {
	ID          int64
	UserID      int64  // the author: an agent
	Body        string // HTML
	Private     bool
	Source      int // 0 email (a reply), 2 note
	Attachments []Attachment
	CreatedAt   time.Time
}

// Request is a request the fake received.
type Request struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         []byte
}

// Option configures a Fake.
type Option func(*Fake)

// WithRateLimit allows n requests a minute (Freshservice's minute-level
// limits); the next ones get 429 with Retry-After until the minute ends.
func WithRateLimit(n int) Option { return func(f *Fake) { f.rateLimit = n } }

// WithClock sets the fake's clock.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// WithCustomField defines a ticket custom field of a Freshservice field
// type: custom_text, custom_number, custom_checkbox, custom_dropdown or
// custom_date.
func WithCustomField(name, fieldType string) Option {
	return func(f *Fake) { f.fields[name] = fieldType }
}

// WithFilterableText lets the filter API query single-line text custom
// fields, which Freshservice documents as not filterable: for testing a
// client against an account (or a stand-in) that allows it.
func WithFilterableText() Option { return func(f *Fake) { f.filterableText = true } }

// WithCategories sets the account's ticket categories (the choices of the
// category dropdown); DefaultCategories otherwise.
func WithCategories(names ...string) Option { return func(f *Fake) { f.categories = names } }

// WithIndexLag makes the filter API miss tickets created less than d ago
// (by the fake's clock), as a search index that lags the database would.
// View and list stay current.
func WithIndexLag(d time.Duration) Option { return func(f *Fake) { f.indexLag = d } }

// WithTicketrayField defines ExternalIDField as a single-line text field.
func WithTicketrayField() Option { return WithCustomField(ExternalIDField, "custom_text") }

// Fake is a Freshservice account.
type Fake struct {
	fake.Server
	Faults *fake.Injector

	validator *openapi.Validator // records every violation, the spec's and the fake's own

	mu             sync.Mutex
	tickets        []*Ticket
	nextID         int64
	nextAttID      int64
	requesters     map[string]int64
	agents         []Agent
	nextNoteID     int64
	fields         map[string]string
	requests       []Request
	rateLimit      int
	filterableText bool
	categories     []string
	indexLag       time.Duration
	rlWindow       time.Time
	rlCount        int
	now            func() time.Time
}

// New returns a fake that is not serving yet (see StartAt). It panics if
// the embedded spec cannot be loaded, which is a build defect.
func New(opts ...Option) *Fake {
	s, err := spec()
	if err != nil {
		panic("fsfake: " + err.Error())
	}
	f := &Fake{Faults: &fake.Injector{}, validator: openapi.NewValidator(s, openapi.Config{}),
		nextID: 0, nextAttID: 14000000000, requesters: map[string]int64{},
		fields: map[string]string{}, categories: DefaultCategories, now: time.Now,
		agents: []Agent{{ID: APIAgentID, FirstName: "Ticketray", LastName: "Agent", Email: "ticketray-agent@example.com"}}, nextNoteID: 14000900000}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Start returns a fake serving on a new loopback port.
func Start(opts ...Option) *Fake { return fake.Started(New(opts...)) }

// StartAt serves on addr (from fake.Reserve), or a new port for "". The
// fake keeps its tickets across Close and StartAt.
func (f *Fake) StartAt(addr string) error { return f.Serve(addr, f.Handler()) }

// Handler is the fake's HTTP handler, faults first.
func (f *Fake) Handler() http.Handler { return f.Faults.Wrap(http.HandlerFunc(f.serve)) }

// Count is how many tickets carry the idempotency key: as a tag or as the
// value of a custom field.
func (f *Fake) Count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.tickets {
		if carries(t, key) {
			n++
		}
	}
	return n
}

func carries(t *Ticket, key string) bool {
	if slices.Contains(t.Tags, key) {
		return true
	}
	for _, v := range t.CustomFields {
		if s, ok := v.(string); ok && s == key {
			return true
		}
	}
	return false
}

// Place names where a ticket lives: its workspace and group.
func Place(workspaceID, groupID int64) string {
	return fmt.Sprintf("workspace %d, group %d", workspaceID, groupID)
}

// Places lists where each ticket carrying key lives (see Place).
func (f *Fake) Places(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.tickets {
		if carries(t, key) {
			out = append(out, Place(t.WorkspaceID, t.GroupID))
		}
	}
	return out
}

// Ticket returns a copy of the ticket with the id, or nil.
func (f *Fake) Ticket(id int64) *Ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.find(id); t != nil {
		c := *t
		c.Tags = slices.Clone(t.Tags)
		c.CustomFields = maps.Clone(t.CustomFields)
		c.Attachments = slices.Clone(t.Attachments)
		c.Notes = slices.Clone(t.Notes)
		return &c
	}
	return nil
}

// SetTags replaces a ticket's tags, as an agent editing them would.
func (f *Fake) SetTags(id int64, tags ...string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.find(id)
	if t == nil {
		return false
	}
	t.Tags, t.UpdatedAt = tags, f.now().UTC()
	return true
}

// SetStatus changes a ticket's status, as an agent would.
func (f *Fake) SetStatus(id int64, status int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.find(id)
	if t == nil {
		return false
	}
	t.Status, t.UpdatedAt = status, f.now().UTC()
	return true
}

// Requests returns the requests received, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Violations lists requests that broke the spec or Freshservice's rules
// the fake enforces (the answer was 400), oldest first.
func (f *Fake) Violations() []string { return f.validator.Violations() }

func (f *Fake) find(id int64) *Ticket {
	for _, t := range f.tickets {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Error answers. Freshservice's v2 errors are {"code","message"} for
// authentication and access, and {"description","errors":[{field,message,
// code}]} for validation (the Freshworks v2 convention; codes from the
// Freshworks-published spec). The message texts of invalid_credentials
// and access_denied are Freshworks' own as clients report them; the others
// are the fake's wording in that format.
const (
	msgLoginRequired = "You have to be logged in to perform this action."
	msgAccessDenied  = "You are not authorized to perform this action."
	msgNotFound      = "The requested resource could not be found."
	msgValidation    = "Validation failed"
	msgRateLimit     = "You have exceeded the limit of requests per minute"
)

// FieldError is one entry of a validation error body.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json; charset=utf-8", v)
}

func writeCode(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

func writeInvalid(w http.ResponseWriter, errs ...FieldError) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"description": msgValidation, "errors": errs})
}

func (f *Fake) violation(format string, args ...any) { f.validator.Record(format, args...) }

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: slices.Clone(body)})
	f.mu.Unlock()
	if err != nil || len(body) > maxBody {
		writeInvalid(w, FieldError{"", "The request body could not be read", "invalid_json"})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	// Freshservice v2 takes the API key as the Basic user name; the
	// password is ignored.
	user, _, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(APIKey)) != 1 {
		writeCode(w, http.StatusUnauthorized, "invalid_credentials", msgLoginRequired)
		return
	}
	if f.rateLimited(w) {
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" && mt != "multipart/form-data" {
			writeCode(w, http.StatusUnsupportedMediaType, "invalid_content_type",
				"Content-Type header is set to "+strconvQuote(mt)+". It should be set to application/json")
			f.violation("%s %s: Content-Type %q", r.Method, r.URL.Path, mt)
			return
		}
	}
	if v := f.validate(r); v != "" {
		f.violation("%s", v)
		writeInvalid(w, FieldError{"", v, "invalid_value"})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	path := strings.TrimSuffix(r.URL.Path, "/")
	rest, ok := strings.CutPrefix(path, "/api/v2/")
	if !ok {
		writeCode(w, http.StatusNotFound, "not_found", msgNotFound)
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case rest == "tickets" && r.Method == http.MethodPost:
		f.create(w, r, body)
	case rest == "tickets" && r.Method == http.MethodGet:
		f.list(w, r)
	case rest == "tickets/filter" && r.Method == http.MethodGet:
		f.filter(w, r)
	case rest == "ticket_form_fields" && r.Method == http.MethodGet:
		f.formFields(w)
	case len(parts) == 2 && parts[0] == "tickets" && r.Method == http.MethodGet:
		f.get(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "tickets" && parts[2] == "conversations" && r.Method == http.MethodGet:
		f.conversations(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "agents" && r.Method == http.MethodGet:
		f.agent(w, parts[1])
	case len(parts) == 3 && parts[0] == "tickets" && parts[2] == "notes" && r.Method == http.MethodPost:
		f.note(w, r, parts[1], body)
	default:
		writeCode(w, http.StatusNotFound, "not_found", msgNotFound)
	}
}

func strconvQuote(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// rateLimited counts the request in the current minute and sets
// Freshservice's rate-limit headers.
func (f *Fake) rateLimited(w http.ResponseWriter) bool {
	f.mu.Lock()
	if f.rateLimit <= 0 {
		f.mu.Unlock()
		return false
	}
	now := f.now().UTC()
	window := now.Truncate(time.Minute)
	if !window.Equal(f.rlWindow) {
		f.rlWindow, f.rlCount = window, 0
	}
	f.rlCount++
	used, limit := f.rlCount, f.rateLimit
	f.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Total", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
	h.Set("X-RateLimit-Used-CurrentRequest", "1")
	if used <= limit {
		return false
	}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(window.Add(time.Minute).Sub(now).Seconds()))))
	writeCode(w, http.StatusTooManyRequests, "rate_limit_exceeded", msgRateLimit)
	return true
}
