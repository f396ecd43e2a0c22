// Package bmcfake is a fake BMC Helix ITSM server for tests: the AR System
// REST API's JWT login and the entry API on the incident forms
// (HPD:IncidentInterface_Create, HPD:Help Desk, HPD:WorkLog) and, read
// only, CTM:People, in the AR wire format, behind the shared fault
// injector. Act and AddWorkInfo let a test work an incident as an agent.
//
// It enforces what the AR REST API does: a form-encoded login answered
// with the token as plain text; "Authorization: AR-JWT <token>" on every
// entry call (Basic is refused) and tokens that expire; errors as a JSON
// array [{"messageType","messageText","messageAppendedText",
// "messageNumber"}]; qualifications (= and != on quoted values, < <= > >=
// on date/times as seconds since 1970, AND, OR and parentheses; see
// qual.go), fields=values(…) projections and sort=Field.asc that name
// only fields the form has (400, ARERR 314, otherwise); limit and offset
// paging with a next link; selection fields that take only their values;
// the attachment field of a work info entry sent as a multipart part
// "attach-<field>" next to the JSON part "entry".
//
// It is stricter than a server in a few places, on purpose: a create must
// carry z1D_Action CREATE, a customer (Login_ID of a known person, or
// First_Name and Last_Name), Description (at most 100 characters),
// Impact, Urgency, Status, Reported Source, Service_Type and a reference
// field value, and it may name only fields the interface form has; a
// date/time in a qualification must be seconds since 1970 (a server also
// reads a date string in its own locale, which Ticketray never sends).
package bmcfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

// Credentials the fake accepts at /api/jwt/login.
const (
	Username = "svc_ticketray"
	Password = "Fake-Helix-Pa55!" // distinctive, so tests can search for it
)

// Companies the fake knows (COM:Company).
const (
	CompanyCalbro    = "Calbro Services"
	CompanyInvention = "Invention, Inc."
)

// DefaultReferenceField is the HPD:Help Desk field the fake lets the
// interface form set as a reference; WithReferenceField adds others.
const DefaultReferenceField = "Vendor Ticket Number"

// TimeLayout is how the AR REST API renders date-times.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Fake is a fake BMC Helix ITSM server. It is safe for concurrent use.
type Fake struct {
	// Faults schedules failures in front of the fake's handler.
	Faults *fake.Injector
	fake.Server

	handler http.Handler

	mu        sync.Mutex
	now       func() time.Time
	tokenTTL  time.Duration
	tokens    map[string]time.Time // token → expiry
	logins    int
	people    map[string][2]string // login → first, last name
	refFields []string
	incidents []map[string]any
	workLogs  []WorkLog
	requests  []Request
	next      int
	rateLimit int
	rlWindow  time.Time
	rlCount   int
}

// WorkLog is one HPD:WorkLog entry (work info).
type WorkLog struct {
	Values map[string]any
	Files  []File
}

// File is an attachment field's content.
type File struct {
	Field, Name, ContentType string
	Data                     []byte
}

// Request is a request as the handler received it (after the fault
// injector, so one a Respond fault answered is not listed). Login bodies
// are not kept: they hold the password.
type Request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the clock for timestamps, token expiry and the rate
// limit window.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// WithTokenTTL sets how long an AR-JWT stays valid (default an hour, the
// AR server's default).
func WithTokenTTL(d time.Duration) Option { return func(f *Fake) { f.tokenTTL = d } }

// WithReferenceField adds a character field to HPD:Help Desk and the
// interface form, as an admin adds a field for an integration's key.
func WithReferenceField(name string) Option {
	return func(f *Fake) { f.refFields = append(f.refFields, name) }
}

// WithPerson adds a person (CTM:People) a create may name by Login_ID.
func WithPerson(login, first, last string) Option {
	return func(f *Fake) { f.people[login] = [2]string{first, last} }
}

// WithRateLimit answers entry calls beyond n per clock minute with 429 and
// Retry-After (seconds to the next minute). BMC documents no rate-limit
// headers for the AR REST API; a gateway in front of it answers so.
func WithRateLimit(n int) Option { return func(f *Fake) { f.rateLimit = n } }

// New returns a fake with the integration account as a person. Start it
// with StartAt, or serve Handler yourself.
func New(opts ...Option) *Fake {
	f := &Fake{
		Faults:    &fake.Injector{},
		now:       time.Now,
		tokenTTL:  time.Hour,
		tokens:    map[string]time.Time{},
		people:    map[string][2]string{Username: {"Ticketray", "Integration"}, "Allen": {"Allen", "Allbrook"}},
		refFields: []string{DefaultReferenceField},
	}
	for _, o := range opts {
		o(f)
	}
	f.handler = fake.ReadBody(f.Faults.Wrap(http.HandlerFunc(f.serve)), maxBody, refuseBody)
	return f
}

// Start returns a new fake serving on a fresh loopback port.
func Start(opts ...Option) *Fake { return fake.Started(New(opts...)) }

// StartAt serves the fake on addr (from fake.Reserve), or a new port for "".
func (f *Fake) StartAt(addr string) error { return f.Server.Serve(addr, f.handler) }

// Handler is the fake's HTTP handler, fault injector included.
func (f *Fake) Handler() http.Handler { return f.handler }

// Count returns how many incidents carry key in a reference field.
func (f *Fake) Count(key string) int { return len(f.CompaniesOf(key)) }

// CompaniesOf lists the Company of each incident carrying key in a
// reference field, oldest first: where the connection that created it
// placed it.
func (f *Fake) CompaniesOf(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, row := range f.incidents {
		for _, rf := range f.refFields {
			if row[rf] == key {
				c, _ := row["Company"].(string)
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Incidents returns a copy of every HPD:Help Desk entry, oldest first.
func (f *Fake) Incidents() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]map[string]any, 0, len(f.incidents))
	for _, row := range f.incidents {
		out = append(out, maps.Clone(row))
	}
	return out
}

// SetStatus sets an incident's Status as an agent would and reports
// whether the incident exists.
func (f *Fake) SetStatus(number, status string) bool {
	return f.Act(number, "Allen", map[string]string{"Status": status})
}

// Act works an incident as the agent with login by would in Smart IT: it
// sets HPD:Help Desk fields (Status, Status_Reason, Assignee Login ID —
// which also sets Assignee to the person's full name —, …) and the Last
// Modified Date and By. It reports false, changing nothing, when the
// incident does not exist, a field is not on the form or a Status is not
// one of its values.
func (f *Fake) Act(number, by string, values map[string]string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	row := f.incident(number)
	if row == nil {
		return false
	}
	known := f.fieldsOf("HPD:Help Desk")
	for k, v := range values {
		if !slices.Contains(known, k) || k == "Status" && !slices.Contains(selections["Status"], v) {
			return false
		}
	}
	for k, v := range values {
		row[k] = v
		if n, ok := f.people[v]; ok && k == "Assignee Login ID" {
			row["Assignee"] = n[0] + " " + n[1]
		}
	}
	row["Last Modified Date"], row["Last Modified By"] = f.timestamp(), by
	return true
}

// AddWorkInfo adds a work info entry to an incident as the agent with
// login by would: access "Public" is seen by the customer, "Internal" only
// by support staff. It touches the incident and reports whether it exists.
func (f *Fake) AddWorkInfo(number, by, access, notes string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	row := f.incident(number)
	if row == nil || !slices.Contains(selections["View Access"], access) {
		return false
	}
	now := f.timestamp()
	f.workLogs = append(f.workLogs, WorkLog{Values: map[string]any{
		"Work Log ID": fmt.Sprintf("WLG%012d", len(f.workLogs)+1), "Incident Number": number,
		"Incident Entry ID": row["Request ID"], "Work Log Type": "Customer Communication",
		"Description": truncate(notes, 100), "Detailed Description": notes, "View Access": access,
		"Secure Work Log": "No", "Submitter": by, "Submit Date": now,
	}})
	row["Last Modified Date"], row["Last Modified By"] = now, by
	return true
}

// AddPerson adds a person (CTM:People) as WithPerson does.
func (f *Fake) AddPerson(login, first, last string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.people[login] = [2]string{first, last}
}

// incident is the HPD:Help Desk row of number, or nil. The caller holds
// f.mu.
func (f *Fake) incident(number string) map[string]any {
	for _, row := range f.incidents {
		if row["Incident Number"] == number {
			return row
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// WorkLogs returns the work info entries of an incident, oldest first.
func (f *Fake) WorkLogs(number string) []WorkLog {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []WorkLog
	for _, w := range f.workLogs {
		if w.Values["Incident Number"] == number {
			out = append(out, WorkLog{Values: maps.Clone(w.Values), Files: slices.Clone(w.Files)})
		}
	}
	return out
}

// RequestTotal is how many requests the handler received, logins
// included.
func (f *Fake) RequestTotal() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// Logins returns how many logins succeeded.
func (f *Fake) Logins() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

// ExpireTokens makes every issued token invalid, as a server restart or
// the token lifetime does.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

// Requests returns the requests the handler received, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		out[i] = Request{Method: r.Method, Path: r.Path, Query: maps.Clone(r.Query), Header: r.Header.Clone(), Body: slices.Clone(r.Body)}
	}
	return out
}

func (f *Fake) timestamp() string { return f.now().UTC().Format(TimeLayout) }

func newToken() string {
	b := make([]byte, 48)
	rand.Read(b)
	return "eyJhbGciOiJIUzI1NiJ9." + hex.EncodeToString(b)
}

func (f *Fake) nextIDs() (requestID, number string) {
	f.next++
	return fmt.Sprintf("%015d", f.next), fmt.Sprintf("INC%012d", 1000+f.next)
}
