// Package zdfake is a fake Zendesk Support account for tests: the Ticketing
// API's create, list by external_id, show, show_many (with the users and
// last_audits sideloads) and update of tickets, file uploads and the
// current user, in Zendesk's wire format, behind the shared fault
// injector. Tests act as an agent with Act (status, assignee, a public
// reply or an internal note, in one audit) and SetStatus.
//
// It enforces what Zendesk documents and what real accounts answer:
//   - authentication: Basic "<email>/token:<api token>" or an OAuth
//     "Bearer" token; a password (Basic without "/token") is refused, as
//     accounts have password access to the API turned off; a bad
//     credential gets 401 {"error":"Couldn't authenticate you"} (an OAuth
//     token gets {"error":"invalid_token",…});
//   - Accept: application/json on every request and Content-Type:
//     application/json on a ticket POST or PUT, else 400 in text/plain;
//   - every request and JSON response is validated against the embedded
//     Support API OpenAPI document (.json suffixes stripped first);
//     mismatches are answered 400 and listed in Violations;
//   - the Idempotency-Key header on ticket creation: the first request
//     answers x-idempotency-lookup: miss; the same key with the same body
//     within KeyLifetime replays the first answer (hit); the same key with
//     another body is 400 IdempotentRequestError; after KeyLifetime the key
//     is forgotten and creates again (the clock is injectable);
//   - show_many takes at most 100 ids; more is 400 and a violation;
//   - List Comments (GET /api/v2/tickets/{id}/comments) pages by cursor
//     (page[size] 1 to 100, else 400 and a violation; page[after]) or by
//     offset; Comments and Files show what a ticket holds; a comment's
//     author_id must be a user (else 422); show takes include=users;
//   - uploads: POST /api/v2/uploads?filename= with the raw file gives a
//     token valid for an hour, consumed by comment.uploads;
//   - error bodies in Zendesk's shapes: RecordInvalid with details,
//     RecordNotFound, InvalidEndpoint, 403 {"error":{"title","message"}};
//   - X-Rate-Limit and X-Rate-Limit-Remaining on every answer, and with
//     WithRateLimit a 429 with Retry-After and a text/plain body.
//
// It is stricter than Zendesk in one place, on purpose: a ticket POST must
// carry external_id, else 422. Zendesk does not require it, but Ticketray
// finds its tickets by it.
package zdfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/fake/openapi"
)

// Credentials the fake accepts.
const (
	// Email is the agent whose API token is APIToken.
	Email    = "ticketray-agent@example.com"
	APIToken = "zdfake-api-token-0123456789abcdef" // deliberately distinctive, so tests can search for it
	// OAuthToken is an OAuth access token of the same agent.
	OAuthToken = "zdfake-oauth-access-token-fedcba9876543210"
	// EndUserOAuthToken is an OAuth token of an end user (Alice): it
	// authenticates, but the Tickets API refuses it (403).
	EndUserOAuthToken = "zdfake-end-user-oauth-token-0011223344"
)

// Seeded records.
const (
	AgentID    int64 = 361000000001
	AliceID    int64 = 361000000002
	AliceEmail       = "alice@example.com"

	SupportGroupID int64 = 360000000101
	NetworkGroupID int64 = 360000000102
	DefaultBrandID int64 = 360000000201
	ITBrandID      int64 = 360000000202
)

// KeyLifetime is how long Zendesk keeps an Idempotency-Key (about two
// hours, per its Ticketing API introduction).
const KeyLifetime = 2 * time.Hour

// UploadLifetime is how long an upload token can be used (60 minutes).
const UploadLifetime = time.Hour

// DefaultRateLimit is X-Rate-Limit's value when WithRateLimit is not used
// (the Team plan's 200 requests a minute).
const DefaultRateLimit = 200

// Ticket is a ticket as the fake stores it.
type Ticket struct {
	ID          int64
	Subject     string
	Description string // the first comment's body
	Priority    string
	Status      string
	Type        string
	Tags        []string
	ExternalID  string
	RequesterID int64
	SubmitterID int64
	GroupID     int64 // 0 for none
	BrandID     int64
	AssigneeID  int64 // 0 for nobody
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Comments    []Comment
	// Audits are the ticket's updates, oldest first: one per create, API
	// update or agent action (Act).
	Audits []Audit
}

// Audit is one update of a ticket, with its events as Zendesk renders
// them (Create, Change, Comment).
type Audit struct {
	ID        int64
	AuthorID  int64
	CreatedAt time.Time
	Events    []map[string]any
}

// Comment is a ticket comment.
type Comment struct {
	ID          int64
	AuthorID    int64
	Body        string
	Public      bool
	Attachments []Attachment
	CreatedAt   time.Time
}

// Attachment is an uploaded file.
type Attachment struct {
	ID          int64
	FileName    string
	ContentType string
	Data        []byte
}

// User is a Zendesk user.
type User struct {
	ID    int64
	Name  string
	Email string
	Role  string // end-user, agent, admin
}

type upload struct {
	token   string
	files   []Attachment
	expires time.Time
}

type idemEntry struct {
	bodyHash string
	status   int
	header   http.Header
	body     []byte
	expires  time.Time
}

// Request is a request as the fake's handler received it (after the
// validator and the fault injector).
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// Fake is a fake Zendesk Support account. It is safe for concurrent use.
type Fake struct {
	// Faults schedules failures in front of the vendor handler (after
	// spec validation).
	Faults *fake.Injector
	fake.Server

	handler   http.Handler
	validator *openapi.Validator

	mu        sync.Mutex
	now       func() time.Time
	nextID    int64
	tickets   []*Ticket
	users     []*User
	groups    map[int64]string
	brands    map[int64]string
	uploads   map[string]*upload
	keys      map[string]*idemEntry
	requests  []Request
	rateLimit int
	rlWindow  time.Time
	rlCount   int
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the clock for timestamps, idempotency keys, upload
// tokens and the rate-limit window.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// WithRateLimit allows n requests per clock minute; the next get 429 with
// Retry-After (seconds to the next minute) and a text/plain body.
func WithRateLimit(n int) Option { return func(f *Fake) { f.rateLimit = n } }

// New returns a fake with the seeded agent, Alice (an end user), two
// groups (Support, Network) and two brands (Default, IT). Start it with
// StartAt, or serve Handler yourself.
func New(opts ...Option) *Fake {
	f := &Fake{
		Faults:  &fake.Injector{},
		now:     time.Now,
		nextID:  1,
		groups:  map[int64]string{SupportGroupID: "Support", NetworkGroupID: "Network"},
		brands:  map[int64]string{DefaultBrandID: "Default", ITBrandID: "IT"},
		uploads: map[string]*upload{},
		keys:    map[string]*idemEntry{},
		users: []*User{
			{ID: AgentID, Name: "Ticketray Agent", Email: Email, Role: "agent"},
			{ID: AliceID, Name: "Alice Example", Email: AliceEmail, Role: "end-user"},
		},
	}
	for _, o := range opts {
		o(f)
	}
	f.Faults.Now = f.now
	spec, err := supportSpec()
	if err != nil {
		panic("zdfake: " + err.Error()) // the embedded spec: only a broken build fails here
	}
	f.validator = newValidator(spec)
	f.handler = fake.ReadBody(f.validator.Wrap(f.Faults.Wrap(http.HandlerFunc(f.serve))), maxBody, refuseBody)
	return f
}

// Start returns a new fake serving on a fresh loopback port.
func Start(opts ...Option) *Fake { return fake.Started(New(opts...)) }

// StartAt serves the fake on addr, reserved earlier with fake.Reserve (or
// a new port for ""). A closed fake may be started again; its data is kept.
func (f *Fake) StartAt(addr string) error { return f.Server.Serve(addr, f.handler) }

// Handler is the fake's HTTP handler: validation, faults, then Zendesk.
func (f *Fake) Handler() http.Handler { return f.handler }

// Violations lists requests (and fake responses) that broke the Support
// API spec or a rule Zendesk states only in prose, oldest first.
func (f *Fake) Violations() []string { return f.validator.Violations() }

// Count returns how many tickets carry the external id (the delivery's
// idempotency key).
func (f *Fake) Count(externalID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.tickets {
		if t.ExternalID == externalID {
			n++
		}
	}
	return n
}

// GroupsOf lists the group_id ("" for none) of each ticket carrying the
// external id, oldest first: where the connection that created it placed
// it.
func (f *Fake) GroupsOf(externalID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.tickets {
		if t.ExternalID == externalID {
			g := ""
			if t.GroupID != 0 {
				g = strconv.FormatInt(t.GroupID, 10)
			}
			out = append(out, g)
		}
	}
	return out
}

// Tickets returns a copy of every ticket, oldest first.
func (f *Fake) Tickets() []Ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Ticket, len(f.tickets))
	for i, t := range f.tickets {
		out[i] = cloneTicket(t)
	}
	return out
}

// Ticket returns a copy of the ticket with id, and whether it exists.
func (f *Fake) Ticket(id int64) (Ticket, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.ticket(id); t != nil {
		return cloneTicket(t), true
	}
	return Ticket{}, false
}

// SetStatus changes a ticket's status as an agent would (solved, closed,
// …) and reports whether it exists.
func (f *Fake) SetStatus(id int64, status string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticket(id)
	if t == nil {
		return false
	}
	if status != t.Status {
		f.audit(t, AgentID, []map[string]any{changeEvent(f.id(), "status", status, t.Status)})
		t.Status = status
	} else {
		t.UpdatedAt = f.now().UTC()
	}
	return true
}

// AgentUpdate is what an agent does to a ticket in one submit of the
// agent workspace: one audit.
type AgentUpdate struct {
	Status   string // new, open, pending, hold, solved or closed; "" keeps it
	Assignee string // an agent's name, found or created; "" keeps the assignee
	Comment  string // "" for none
	Public   bool   // the comment is a public reply, not an internal note
}

// Act updates a ticket as an agent would in the agent workspace: the
// status, the assignee and a comment in one audit, by the assignee. Like Zendesk it refuses
// to change a closed ticket.
func (f *Fake) Act(id int64, u AgentUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticket(id)
	switch {
	case t == nil:
		return fmt.Errorf("zdfake: no ticket %d", id)
	case t.Status == "closed":
		return fmt.Errorf("zdfake: ticket %d is closed", id)
	case u.Status != "" && !slices.Contains(statuses, u.Status):
		return fmt.Errorf("zdfake: %q is not a ticket status", u.Status)
	}
	// The acting agent is the assignee: the one given, else the current
	// one, else the seeded agent.
	author := AgentID
	if u.Assignee != "" {
		author = f.agentNamed(u.Assignee).ID
	} else if t.AssigneeID != 0 {
		author = t.AssigneeID
	}
	var events []map[string]any
	if u.Comment != "" {
		c := Comment{ID: f.id(), AuthorID: author, Body: u.Comment, Public: u.Public, CreatedAt: f.now().UTC()}
		t.Comments = append(t.Comments, c)
		events = append(events, commentEvent(c))
	}
	if u.Status != "" && u.Status != t.Status {
		events = append(events, changeEvent(f.id(), "status", u.Status, t.Status))
		t.Status = u.Status
	}
	if u.Assignee != "" && author != t.AssigneeID {
		events = append(events, changeEvent(f.id(), "assignee_id", strconv.FormatInt(author, 10), idString(t.AssigneeID)))
		t.AssigneeID = author
	}
	f.audit(t, author, events)
	return nil
}

// RequesterReply adds a public comment by the ticket's requester, as an
// emailed reply would, in its own audit.
func (f *Fake) RequesterReply(id int64, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticket(id)
	if t == nil || t.Status == "closed" {
		return fmt.Errorf("zdfake: no open ticket %d", id)
	}
	c := Comment{ID: f.id(), AuthorID: t.RequesterID, Body: body, Public: true, CreatedAt: f.now().UTC()}
	t.Comments = append(t.Comments, c)
	f.audit(t, t.RequesterID, []map[string]any{commentEvent(c)})
	return nil
}

// agentNamed returns the agent with the name, created if there is none.
// The caller holds f.mu.
func (f *Fake) agentNamed(name string) *User {
	for _, u := range f.users {
		if u.Name == name && u.Role != "end-user" {
			return u
		}
	}
	u := &User{ID: 361000000000 + f.id(), Name: name, Role: "agent",
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@agents.example.com"}
	f.users = append(f.users, u)
	return u
}

// audit records an update of t and moves its updated_at. The caller holds
// f.mu.
func (f *Fake) audit(t *Ticket, author int64, events []map[string]any) {
	now := f.now().UTC()
	t.Audits = append(t.Audits, Audit{ID: f.id(), AuthorID: author, CreatedAt: now, Events: events})
	t.UpdatedAt = now
}

func commentEvent(c Comment) map[string]any {
	return map[string]any{"id": c.ID, "type": "Comment", "author_id": c.AuthorID, "body": c.Body,
		"html_body":  "<div class=\"zd-comment\"><p>" + html.EscapeString(c.Body) + "</p></div>",
		"plain_body": c.Body, "public": c.Public, "attachments": []any{}, "audit_id": nil}
}

func changeEvent(id int64, field, value, previous string) map[string]any {
	var prev any
	if previous != "" {
		prev = previous
	}
	return map[string]any{"id": id, "type": "Change", "field_name": field, "value": value, "previous_value": prev}
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// statuses are Zendesk's ticket statuses (the status categories, with
// custom statuses on).
var statuses = []string{"new", "open", "pending", "hold", "solved", "closed"}

// User returns the user with the email, and whether there is one.
func (f *Fake) User(email string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.userByEmail(email); u != nil {
		return *u, true
	}
	return User{}, false
}

// Requests returns a copy of every request the vendor handler received.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

func cloneTicket(t *Ticket) Ticket {
	c := *t
	c.Tags = slices.Clone(t.Tags)
	c.Audits = slices.Clone(t.Audits)
	c.Comments = make([]Comment, len(t.Comments))
	for i, cm := range t.Comments {
		cm.Attachments = slices.Clone(cm.Attachments)
		c.Comments[i] = cm
	}
	return c
}

// ticket returns the ticket with id, or nil. The caller holds f.mu.
func (f *Fake) ticket(id int64) *Ticket {
	for _, t := range f.tickets {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// userByEmail returns the user with email, or nil. The caller holds f.mu.
func (f *Fake) userByEmail(email string) *User {
	for _, u := range f.users {
		if u.Email != "" && equalFold(u.Email, email) {
			return u
		}
	}
	return nil
}

func (f *Fake) user(id int64) *User {
	for _, u := range f.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// id returns a new record id. The caller holds f.mu.
func (f *Fake) id() int64 {
	n := f.nextID
	f.nextID++
	return n
}

// refuseBody answers a body that failed to read or is over maxBody.
func refuseBody(w http.ResponseWriter, err error, tooLarge bool) bool {
	switch {
	case err != nil:
		writeText(w, http.StatusBadRequest, "Bad Request")
	case tooLarge:
		writeText(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	default:
		return false
	}
	return true
}

func newToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("zdfake: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
