// Package sffake is an in-process Salesforce org for tests: the REST API
// paths the salesforce connector uses (Case upsert by external ID, record
// reads, SOQL query, Case describe, CaseComment and ContentVersion
// creation), the My Domain OAuth token endpoint (client credentials), and
// Salesforce's wire format: bearer sessions, error arrays
// [{"message","errorCode","fields"}], Sforce-Limit-Info on every API
// response and 403 REQUEST_LIMIT_EXCEEDED when the org's allowance is used
// up. It is strict where a real org is (unknown fields, read-only fields,
// field lengths, restricted picklists, the external ID field in an upsert
// body, Content-Type) and, as a test choice, requires the fields Ticketray
// must send on every Case (Subject, Priority, Origin).
//
// Faults (connectors/fake) are applied in front of every request.
package sffake

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

// Credentials the fake accepts.
const (
	// Token is a valid bearer token (an OAuth access token, as an org's
	// session ids look).
	Token = "00DFK0000000001!AQ4AQFakeSessionTokenForTests"
	// ClientID and ClientSecret are the External Client App's consumer key
	// and secret, for the client credentials flow.
	ClientID     = "3MVG9FakeConsumerKeyForTicketrayTests"
	ClientSecret = "FAKE0CONSUMER0SECRET"
	// ExternalIDField is the Case external ID field every fake org has.
	ExternalIDField = "Ticketray_Key__c"
	// MaxVersion is the newest API version the fake org serves.
	MaxVersion = 66
	// DefaultAPILimit is the daily API request allowance reported when
	// WithAPILimit is not used.
	DefaultAPILimit = 15000
)

// Case is a stored Case.
type Case struct {
	ID           string
	Fields       map[string]string // by canonical field name
	Created      time.Time
	LastModified time.Time
}

// Comment is a stored CaseComment.
type Comment struct {
	ID, ParentID, Body string
	IsPublished        bool
}

// File is a stored ContentVersion.
type File struct {
	ID, Title, PathOnClient, FirstPublishLocationID string
	Data                                            []byte
}

// Request is a request the fake received.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// Option configures a Fake.
type Option func(*Fake)

// WithAPILimit sets the org's API request allowance: the request after
// the limit-th is refused with 403 REQUEST_LIMIT_EXCEEDED.
func WithAPILimit(n int) Option { return func(f *Fake) { f.apiLimit, f.enforce = n, true } }

// WithOrigins adds values to the (restricted) Case Origin picklist.
func WithOrigins(v ...string) Option {
	return func(f *Fake) { f.origins = append(f.origins, v...) }
}

// WithExternalIDField adds another Case external ID field (Text 255,
// External ID, Unique).
func WithExternalIDField(name string) Option {
	return func(f *Fake) {
		f.extra = append(f.extra, fieldDef{name: name, kind: "string", length: 255, externalID: true, unique: true, createable: true, updateable: true})
	}
}

// WithoutExternalIDField removes Ticketray_Key__c: the admin has not
// created it yet.
func WithoutExternalIDField() Option { return func(f *Fake) { f.noExtField = true } }

// WithUpdateNoContent makes an upsert that updates answer 204 with no
// body, as API versions before the created flag did.
func WithUpdateNoContent() Option { return func(f *Fake) { f.update204 = true } }

// WithoutRunAsUser makes the token endpoint refuse the client credentials
// flow as an app without a Run As user does.
func WithoutRunAsUser() Option { return func(f *Fake) { f.noRunAs = true } }

// WithReadOnlyCases takes Create and Edit on Case away from the user.
func WithReadOnlyCases() Option { return func(f *Fake) { f.readOnly = true } }

// Fake is a fake Salesforce org.
type Fake struct {
	fake.Server
	Faults *fake.Injector

	mu         sync.Mutex
	cases      []*Case
	comments   []Comment
	files      []File
	requests   []Request
	violations []string
	sessions   map[string]bool
	seq        int
	apiUsed    int
	apiLimit   int
	enforce    bool
	origins    []string
	extra      []fieldDef
	noExtField bool
	update204  bool
	noRunAs    bool
	readOnly   bool
	now        func() time.Time
}

// New returns a fake org that is not serving yet (see StartAt).
func New(opts ...Option) *Fake {
	f := &Fake{Faults: &fake.Injector{}, sessions: map[string]bool{Token: true}, apiLimit: DefaultAPILimit,
		origins: []string{"Phone", "Email", "Web", "Ticketray"}, now: time.Now}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Start returns a fake org serving on a fresh loopback port.
func Start(opts ...Option) *Fake { return fake.Started(New(opts...)) }

// StartAt serves the fake on addr (from fake.Reserve), or on a fresh port
// for "". The org keeps its data across Close and StartAt.
func (f *Fake) StartAt(addr string) error {
	return f.Serve(addr, f.Faults.Wrap(http.HandlerFunc(f.serve)))
}

// Count is how many Cases carry key in an external ID field.
func (f *Fake) Count(key string) int { return len(f.Places(key)) }

// Places lists the Origin of every Case that carries key in an external
// ID field.
func (f *Fake) Places(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.cases {
		for _, d := range f.fieldDefs() {
			if d.externalID && key != "" && strings.EqualFold(c.Fields[d.name], key) {
				out = append(out, c.Fields["Origin"])
				break
			}
		}
	}
	return out
}

// Cases returns a copy of every Case.
func (f *Fake) Cases() []Case {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Case, len(f.cases))
	for i, c := range f.cases {
		out[i] = Case{ID: c.ID, Fields: cloneMap(c.Fields), Created: c.Created, LastModified: c.LastModified}
	}
	return out
}

// Comments returns every CaseComment.
func (f *Fake) Comments() []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.comments)
}

// Files returns every ContentVersion.
func (f *Fake) Files() []File {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.files)
}

// Requests returns every request received, faults included.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Violations lists requests that break the request shapes of Salesforce's
// Postman collection (see spec.go).
func (f *Fake) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.violations)
}

// SetStatus sets a Case's Status, as an agent would.
func (f *Fake) SetStatus(id, status string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cases {
		if c.ID == id {
			c.Fields["Status"] = status
			c.Fields["IsClosed"] = fmt.Sprint(status == "Closed")
			c.LastModified = f.now().UTC()
			return true
		}
	}
	return false
}

// AddCase stores a Case with the fields given (for duplicates an admin
// might have made), returning its id.
func (f *Fake) AddCase(fields map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.insert(fields).ID
}

// ExpireSessions ends every session the token endpoint issued, as the
// org's session timeout does.
func (f *Fake) ExpireSessions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.sessions {
		if k != Token {
			delete(f.sessions, k)
		}
	}
}

// SetAPIUsage sets the API requests used in the last 24 hours.
func (f *Fake) SetAPIUsage(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apiUsed = n
}

// insert stores a new Case; the caller holds f.mu.
func (f *Fake) insert(fields map[string]string) *Case {
	f.seq++
	now := f.now().UTC()
	c := &Case{ID: fmt.Sprintf("500FK%010dAAA", f.seq), Fields: map[string]string{
		"Status": "New", "IsClosed": "false", "CaseNumber": fmt.Sprintf("%08d", 1000+f.seq)}, Created: now, LastModified: now}
	for k, v := range fields {
		c.Fields[k] = v
	}
	f.cases = append(f.cases, c)
	return c
}

func (f *Fake) findCase(id string) *Case {
	for _, c := range f.cases {
		if strings.EqualFold(c.ID, id) || (len(id) == 15 && strings.HasPrefix(c.ID, id)) {
			return c
		}
	}
	return nil
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// apiError is one entry of Salesforce's error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func writeErr(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	e := apiError{Message: msg, ErrorCode: code, Fields: fields}
	if e.Fields == nil && code != "INVALID_SESSION_ID" && code != "NOT_FOUND" && code != "REQUEST_LIMIT_EXCEEDED" {
		e.Fields = []string{}
	}
	writeJSON(w, status, []apiError{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
