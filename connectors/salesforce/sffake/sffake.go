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
	// IntegrationUserID and IntegrationUserName are the user the tokens
	// belong to: the creator and first owner of the Cases Ticketray makes.
	IntegrationUserID   = "005FK0000000001AAA"
	IntegrationUserName = "Ticketray Integration"
	// DefaultBatch is a query's batch size (the REST API's default and
	// maximum) and DefaultChildBatch a subquery's, beyond which the child
	// relationship has its own nextRecordsUrl.
	DefaultBatch      = 2000
	DefaultChildBatch = 200
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
	CreatedByID        string
	Created            time.Time
}

// CaseStatus is a value of the Case Status picklist (a CaseStatus
// record): whether it closes the Case.
type CaseStatus struct {
	Value    string
	IsClosed bool
}

// DefaultStatuses are a new org's Case Status values.
var DefaultStatuses = []CaseStatus{{"New", false}, {"Working", false}, {"Escalated", false}, {"Closed", true}}

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

// WithCaseStatuses adds values to the Case Status picklist, as an admin
// does under Case Statuses (Closed ones set IsClosed).
func WithCaseStatuses(v ...CaseStatus) Option {
	return func(f *Fake) { f.statuses = append(f.statuses, v...) }
}

// WithQueryBatch sets the batch sizes of query results: records per page,
// and child records per parent before the subquery pages too.
func WithQueryBatch(records, children int) Option {
	return func(f *Fake) { f.batch, f.childBatch = records, children }
}

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
	principals map[string]string // user and queue ids → names
	statuses   []CaseStatus
	cursors    map[string]cursor // query locators
	batch      int
	childBatch int
}

// New returns a fake org that is not serving yet (see StartAt).
func New(opts ...Option) *Fake {
	f := &Fake{Faults: &fake.Injector{}, sessions: map[string]bool{Token: true}, apiLimit: DefaultAPILimit,
		origins: []string{"Phone", "Email", "Web", "Ticketray"}, now: time.Now,
		principals: map[string]string{IntegrationUserID: IntegrationUserName},
		statuses:   slices.Clone(DefaultStatuses), cursors: map[string]cursor{},
		batch: DefaultBatch, childBatch: DefaultChildBatch}
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

// CaseComments returns the comments on the Case id, oldest first, as the
// Case's Comments list shows them.
func (f *Fake) CaseComments(id string) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Comment
	for _, cm := range f.comments {
		if sameID(cm.ParentID, id) {
			out = append(out, cm)
		}
	}
	return out
}

// CaseFiles returns the files on the Case id (ContentVersions first
// published there), as its Files list shows them.
func (f *Fake) CaseFiles(id string) []File {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []File
	for _, fl := range f.files {
		if sameID(fl.FirstPublishLocationID, id) {
			out = append(out, fl)
		}
	}
	return out
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

// SetStatus sets a Case's Status to a value of the picklist, and IsClosed
// from it, as an agent would; false for an unknown Case or value.
func (f *Fake) SetStatus(id, status string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.findCase(id)
	i := slices.IndexFunc(f.statuses, func(s CaseStatus) bool { return s.Value == status })
	if c == nil || i < 0 {
		return false
	}
	c.Fields["Status"] = status
	c.Fields["IsClosed"] = fmt.Sprint(f.statuses[i].IsClosed)
	c.LastModified = f.now().UTC()
	return true
}

// Assign makes the user named name (a new one if the org has none) the
// Case's owner, as an agent taking it does.
func (f *Fake) Assign(id, name string) bool { return f.setOwner(id, name, "005") }

// AssignQueue puts the Case in the queue named name (a new one if
// needed): owned by a queue, not yet by a person.
func (f *Fake) AssignQueue(id, name string) bool { return f.setOwner(id, name, "00G") }

func (f *Fake) setOwner(id, name, prefix string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.findCase(id)
	if c == nil {
		return false
	}
	c.Fields["OwnerId"] = f.principal(name, prefix)
	c.LastModified = f.now().UTC()
	return true
}

// principal returns the id of the user or queue named name, adding it if
// needed; the caller holds f.mu.
func (f *Fake) principal(name, prefix string) string {
	for pid, n := range f.principals {
		if n == name && strings.HasPrefix(pid, prefix) {
			return pid
		}
	}
	f.seq++
	pid := fmt.Sprintf("%sFK%010dAAA", prefix, f.seq)
	f.principals[pid] = name
	return pid
}

// AddComment adds a CaseComment written by the user named author, public
// (IsPublished) or private, as an agent does in the Case's Comments list.
// Like a real org's, it leaves the Case's LastModifiedDate alone (that a
// comment touches its parent is not documented), so a sync must find
// comments by their own dates. It returns the comment's id.
func (f *Fake) AddComment(id, author, body string, public bool) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.findCase(id)
	if c == nil {
		return "", false
	}
	return f.addComment(c.ID, body, public, f.principal(author, "005")), true
}

// addComment stores a CaseComment; the caller holds f.mu.
func (f *Fake) addComment(parent, body string, public bool, by string) string {
	f.seq++
	cid := fmt.Sprintf("00aFK%010dAAA", f.seq)
	f.comments = append(f.comments, Comment{ID: cid, ParentID: parent, Body: body, IsPublished: public, CreatedByID: by, Created: f.now().UTC()})
	return cid
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
		"Status": "New", "IsClosed": "false", "CaseNumber": fmt.Sprintf("%08d", 1000+f.seq),
		"OwnerId": IntegrationUserID, "CreatedById": IntegrationUserID}, Created: now, LastModified: now}
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
