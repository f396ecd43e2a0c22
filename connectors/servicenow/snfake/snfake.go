// Package snfake is a fake ServiceNow instance for tests: the Table API
// (incident, sys_user, sys_user_group and sys_journal_field, where every
// comment and work note is kept) and the Attachment API's raw file upload,
// in ServiceNow's wire format, behind the shared fault injector. Act lets a
// test work an incident as an agent would.
//
// It enforces what the vendor documents: authentication (Basic or Bearer),
// the Accept header on every request and Content-Type on requests with a
// body (400 when missing), ServiceNow's error body
// {"error":{"message","detail"},"status":"failure"}, and optionally the
// hourly rate limit with its X-RateLimit-* headers and 429.
//
// It is stricter than ServiceNow in one place, on purpose: an incident
// POST must carry correlation_id, correlation_display, short_description,
// urgency and impact (urgency and impact 1..3), else 400. ServiceNow does
// not require these, but Ticketray must always send them, so a connector
// that forgets one fails its tests instead of creating a ticket that
// cannot be found again.
package snfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

// Credentials the fake accepts: Basic Username/Password, or Bearer Token.
const (
	Username = "ticketray.integration"
	Password = "Fake-Pa55word!" // deliberately distinctive, so tests can search for it
	Token    = "snfake-bearer-token-0123456789"
)

// The seeded users and groups tests can rely on.
const (
	IntegrationUserSysID = "f298d2d2c611227b0106c6be7f154bc8" // Username; opened_by of every incident
	AliceSysID           = "62826bf03710200044e0bfc8bcbe5df1"
	AliceEmail           = "alice@example.com"
	BobSysID             = "a8f98bb0eb32010045e1a5115206fe3a"
	BobEmail             = "bob@example.com"
	ServiceDeskSysID     = "d625dccec0a8016700a222a0f7900d06"
	ServiceDeskName      = "Service Desk"
	NetworkGroupSysID    = "287ebd7da9fe198100f92cc8d1d2154e"
	NetworkGroupName     = "Network"
	RateLimitRuleSysID   = "5a7b1e0fdb3a2010a9a1f1b5ca961901" // X-RateLimit-Rule
)

// timeLayout is how the Table API renders date-times (UTC).
const timeLayout = "2006-01-02 15:04:05"

// Fake is a fake ServiceNow instance. It is safe for concurrent use.
type Fake struct {
	// Faults schedules failures in front of the fake's handler.
	Faults *fake.Injector
	fake.Server

	handler http.Handler

	mu          sync.Mutex
	now         func() time.Time
	tables      map[string]*table
	nextNumber  int
	attachments []Attachment
	requests    []Request
	rateLimit   int
	rlWindow    time.Time
	rlCount     map[string]int
}

// SysUser is a row of the sys_user table.
type SysUser struct {
	SysID, UserName, Name, Email string
}

// Attachment is a file uploaded through the Attachment API.
type Attachment struct {
	SysID, TableName, TableSysID, FileName, ContentType string
	Data                                                []byte
}

// Request is a request as the fake's handler received it (after the fault
// injector, so a request answered by a Respond fault is not listed).
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

type table struct {
	name     string
	defaults map[string]string
	refs     map[string]string
	rows     []map[string]string
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the clock for timestamps and the rate-limit window.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// WithRateLimit limits each user to n Table API requests per clock hour,
// as a ServiceNow rate limit rule does: every Table API response carries
// X-RateLimit-Limit, X-RateLimit-Reset (UNIX time) and X-RateLimit-Rule,
// and requests over the limit get 429 with Retry-After (seconds).
func WithRateLimit(n int) Option { return func(f *Fake) { f.rateLimit = n } }

// WithUsers adds sys_user rows.
func WithUsers(users ...SysUser) Option {
	return func(f *Fake) {
		for _, u := range users {
			f.addUser(u)
		}
	}
}

// New returns a fake with the seeded users (the integration user, Alice
// and Bob) and groups (Service Desk, Network). Start it with StartAt, or
// serve Handler yourself.
func New(opts ...Option) *Fake {
	f := &Fake{
		Faults:  &fake.Injector{},
		now:     time.Now,
		rlCount: map[string]int{},
		tables: map[string]*table{
			"incident":          {name: "incident", defaults: incidentDefaults, refs: incidentRefs},
			"sys_user":          {name: "sys_user", defaults: userDefaults, refs: map[string]string{}},
			"sys_user_group":    {name: "sys_user_group", defaults: groupDefaults, refs: groupRefs},
			"sys_journal_field": {name: "sys_journal_field", defaults: journalDefaults, refs: map[string]string{}},
		},
	}
	f.addUser(SysUser{SysID: IntegrationUserSysID, UserName: Username, Name: "Ticketray Integration"})
	f.addUser(SysUser{SysID: AliceSysID, UserName: "alice.example", Name: "Alice Example", Email: AliceEmail})
	f.addUser(SysUser{SysID: BobSysID, UserName: "bob.example", Name: "Bob Example", Email: BobEmail})
	f.addGroup(ServiceDeskSysID, ServiceDeskName)
	f.addGroup(NetworkGroupSysID, NetworkGroupName)
	for _, o := range opts {
		o(f)
	}
	f.handler = fake.ReadBody(f.Faults.Wrap(http.HandlerFunc(f.serve)), maxBody, refuseBody)
	return f
}

// refuseBody answers a body that failed to read; serve answers one over
// maxBody, after recording it.
func refuseBody(w http.ResponseWriter, err error, _ bool) bool {
	if err != nil {
		writeError(w, http.StatusBadRequest, errBadJSON)
	}
	return err != nil
}

// Start returns a new fake serving on a fresh loopback port.
func Start(opts ...Option) *Fake { return fake.Started(New(opts...)) }

// Handler is the fake's HTTP handler, fault injector included.
func (f *Fake) Handler() http.Handler { return f.handler }

// Incidents returns a copy of every incident, oldest first, with
// reference fields as their sys_id.
func (f *Fake) Incidents() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]map[string]string, 0, len(f.tables["incident"].rows))
	for _, row := range f.tables["incident"].rows {
		out = append(out, maps.Clone(row))
	}
	return out
}

// Incident returns a copy of the incident with sys_id, or nil.
func (f *Fake) Incident(sysID string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if row := f.tables["incident"].find(sysID); row != nil {
		return maps.Clone(row)
	}
	return nil
}

// Count returns how many incidents carry correlationID.
func (f *Fake) Count(correlationID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, row := range f.tables["incident"].rows {
		if row["correlation_id"] == correlationID {
			n++
		}
	}
	return n
}

// GroupsOf lists the assignment_group (a sys_id, "" for none) of each
// incident carrying correlationID, oldest first: where on the instance the
// connection that created it placed it.
func (f *Fake) GroupsOf(correlationID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, row := range f.tables["incident"].rows {
		if row["correlation_id"] == correlationID {
			out = append(out, row["assignment_group"])
		}
	}
	return out
}

// Update sets fields of an incident as the admin would (state "6"
// resolves it) and reports whether it exists.
func (f *Fake) Update(sysID string, fields map[string]string) bool {
	return f.Act(sysID, "admin", fields)
}

// Act works an incident as the agent with user_name by would in the UI:
// it sets fields (state, hold_reason, assigned_to as a sys_id, …); a
// journal field ("comments" is an additional comment the caller sees,
// "work_notes" a work note) adds a sys_journal_field entry written by the
// agent. The incident's sys_updated_on and sys_updated_by change. It
// reports whether the incident exists.
func (f *Fake) Act(sysID, by string, fields map[string]string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables["incident"]
	row := t.find(sysID)
	if row == nil {
		return false
	}
	for k, v := range fields {
		if journalFields[k] {
			f.addJournal(t, sysID, k, v, by)
			continue
		}
		row[k] = v
	}
	if s, ok := fields["state"]; ok {
		row["incident_state"] = s
	}
	f.touch(row, by)
	return true
}

// AddUser adds a sys_user (a fresh sys_id when u has none) and returns its
// sys_id; a user whose user_name exists is returned as it is.
func (f *Fake) AddUser(u SysUser) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, row := range f.tables["sys_user"].rows {
		if row["user_name"] == u.UserName {
			return row["sys_id"]
		}
	}
	if u.SysID == "" {
		u.SysID = newSysID()
	}
	f.addUser(u)
	return u.SysID
}

// WorkNotes returns the work notes added to an incident, oldest first.
func (f *Fake) WorkNotes(sysID string) []string { return f.journalValues(sysID, "work_notes") }

// Comments returns the additional comments (the caller sees them) added
// to an incident, oldest first.
func (f *Fake) Comments(sysID string) []string { return f.journalValues(sysID, "comments") }

func (f *Fake) journalValues(sysID, element string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, row := range f.tables["sys_journal_field"].rows {
		if row["element_id"] == sysID && row["element"] == element {
			out = append(out, row["value"])
		}
	}
	return out
}

// addJournal appends a journal entry for field of the record sysID of t,
// as a write of a journal field does; a blank value adds nothing. The
// caller holds f.mu.
func (f *Fake) addJournal(t *table, sysID, field, value, by string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	row := maps.Clone(journalDefaults)
	row["sys_id"], row["name"], row["element_id"], row["element"] = newSysID(), t.name, sysID, field
	row["value"], row["sys_created_by"], row["sys_created_on"] = value, by, f.timestamp()
	j := f.tables["sys_journal_field"]
	j.rows = append(j.rows, row)
}

// RequestTotal is how many requests the handler received.
func (f *Fake) RequestTotal() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// Attachments returns a copy of every uploaded attachment, oldest first.
func (f *Fake) Attachments() []Attachment {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Attachment, len(f.attachments))
	for i, a := range f.attachments {
		a.Data = slices.Clone(a.Data)
		out[i] = a
	}
	return out
}

// Requests returns a copy of every request the handler received.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		r.Query = cloneValues(r.Query)
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

// RequestCount counts the requests with method and path.
func (f *Fake) RequestCount(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func (f *Fake) addUser(u SysUser) {
	row := maps.Clone(userDefaults)
	row["sys_id"], row["user_name"], row["name"], row["email"] = u.SysID, u.UserName, u.Name, u.Email
	row["sys_created_on"] = "2024-01-01 00:00:00"
	row["sys_updated_on"] = row["sys_created_on"]
	t := f.tables["sys_user"]
	t.rows = append(t.rows, row)
}

func (f *Fake) addGroup(sysID, name string) {
	row := maps.Clone(groupDefaults)
	row["sys_id"], row["name"] = sysID, name
	row["sys_created_on"] = "2024-01-01 00:00:00"
	row["sys_updated_on"] = row["sys_created_on"]
	t := f.tables["sys_user_group"]
	t.rows = append(t.rows, row)
}

func (t *table) find(sysID string) map[string]string {
	for _, row := range t.rows {
		if row["sys_id"] == sysID {
			return row
		}
	}
	return nil
}

// touch records a modification. The caller holds f.mu.
func (f *Fake) touch(row map[string]string, by string) {
	row["sys_updated_on"] = f.timestamp()
	row["sys_updated_by"] = by
	n := 0
	fmt.Sscan(row["sys_mod_count"], &n)
	row["sys_mod_count"] = fmt.Sprint(n + 1)
}

func (f *Fake) timestamp() string { return f.now().UTC().Format(timeLayout) }

func newSysID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("snfake: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// StartAt serves the fake on addr, reserved earlier with fake.Reserve (or
// a new port for ""), for a server that comes up after clients first
// failed to reach it. A closed fake may be started again; its data is kept.
func (f *Fake) StartAt(addr string) error { return f.Server.Serve(addr, f.handler) }
