// Package jirafake is a Jira Cloud platform REST v3 server for tests. It
// speaks Jira's wire format (create issue, enhanced JQL search, get issue,
// comments, attachments, myself, mypermissions), checks credentials the
// way Jira does, and validates every request it receives against the
// embedded vendor OpenAPI spec: a request that does not match is answered
// 400 and recorded in Violations(), so connector tests catch malformed
// requests. Faults are injected in front of the vendor handler.
package jirafake

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/fake/openapi"
)

// Credentials the fake accepts: Basic auth with Email and APIToken (how a
// Jira Cloud API token is used), or a bearer token (OAuth 2.0 3LO).
const (
	Email       = "ticketray-bot@example.com"
	APIToken    = "ATATT3xFfGF0-jirafake-api-token"
	BearerToken = "jirafake-oauth2-access-token"
	// AccountID is the authenticated user's account id.
	AccountID = "5b10a2844c20165700ede21g"
)

// The project every fake starts with.
const (
	ProjectKey = "IT"
	ProjectID  = "10000"
)

// Jira's own messages. The first four are from captured responses
// (testdata/samples, amp-labs/connectors); MsgNotAuthenticated is what Jira
// Cloud answers for a bad API token (reported by several clients; not in
// the spec, which only names ErrorCollection); the rest are Jira's
// well-known validation texts, not verified against a capture.
const (
	MsgInvalidProject   = "Specify a valid project ID or key"
	MsgInvalidIssueType = "Specify an issue type"
	MsgIssueNotFound    = "Issue does not exist or you do not have permission to see it."
	MsgNotAuthenticated = "Client must be authenticated to access this resource."
	MsgXSRF             = "XSRF check failed"
	MsgNotADF           = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	MsgSummaryRequired  = "You must specify a summary of the issue."
	MsgSummaryNewline   = "The summary is invalid because it contains newline characters."
)

// Priorities are the default Jira Cloud priority scheme's names.
var Priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}

// Permissions the fake knows for mypermissions, all granted by default.
var permissionNames = map[string]string{
	"BROWSE_PROJECTS":    "Browse Projects",
	"CREATE_ISSUES":      "Create Issues",
	"ADD_COMMENTS":       "Add Comments",
	"CREATE_ATTACHMENTS": "Create Attachments",
	"EDIT_ISSUES":        "Edit Issues",
}

// Project is a Jira project the fake knows.
type Project struct {
	ID, Key, Name string
	IssueTypes    []string // names accepted in issuetype.name
	Components    []string // names accepted in components[].name
}

// Issue is an issue as the fake stores it.
type Issue struct {
	ID, Key    string
	ProjectKey string
	ProjectID  string
	IssueType  string
	Summary    string
	// Description is the ADF document as sent (nil when absent).
	Description json.RawMessage
	Priority    string
	Labels      []string
	Components  []string
	Status      string
	// Assignee is the display name of the agent it is assigned to, ""
	// for nobody.
	Assignee string
	// Fields holds every field of the create request as sent.
	Fields      map[string]json.RawMessage
	Comments    []Comment
	Attachments []Attachment
	Created     time.Time
	Updated     time.Time
}

// Comment is a comment on an issue.
type Comment struct {
	ID   string
	Body json.RawMessage // ADF as sent
	// Author is the display name of who wrote it ("" is the connection's
	// own account, Ticketray Bot).
	Author string
	// Public is false for JSM internal comments; Jira comments are public.
	Public bool
	// Visibility, when set, restricts the comment to a project role (such
	// as "Administrators"), as Jira's restricted comments are.
	Visibility string
	// Properties are the comment's entity properties, by key, as sent
	// with the comment.
	Properties map[string]json.RawMessage
	Created    time.Time
}

// Attachment is a file attached to an issue.
type Attachment struct {
	ID, Filename, MimeType string
	Data                   []byte
}

func (is *Issue) clone() Issue {
	c := *is
	c.Description = slices.Clone(is.Description)
	c.Labels = slices.Clone(is.Labels)
	c.Components = slices.Clone(is.Components)
	c.Fields = make(map[string]json.RawMessage, len(is.Fields))
	for k, v := range is.Fields {
		c.Fields[k] = slices.Clone(v)
	}
	c.Comments = slices.Clone(is.Comments)
	c.Attachments = make([]Attachment, len(is.Attachments))
	for i, a := range is.Attachments {
		a.Data = slices.Clone(a.Data)
		c.Attachments[i] = a
	}
	return c
}

// Fake is a Jira Cloud site.
type Fake struct {
	// Faults are applied after validation, before the vendor handler.
	Faults *fake.Injector
	fake.Server

	validator *openapi.Validator
	routes    http.Handler

	mu          sync.Mutex
	now         func() time.Time
	projects    map[string]*Project // by upper-case key
	issues      []*Issue
	nextID      int
	nextNum     map[string]int
	nextChildID int
	permissions map[string]bool
	timeZone    *time.Location // the account's, in which JQL reads dates
	// searchComments caps the comments an issue shows in its comment
	// field; the comments endpoint pages through the rest.
	searchComments int
	requests       atomic.Int64
	searches       []Search
}

// Search is a JQL search the site answered.
type Search struct {
	JQL    string
	Fields []string
}

// New returns a fake with project IT (issue types Task, Bug, Story,
// Incident; components Hardware, Network, Software). It panics if the
// embedded spec cannot be loaded, which is a build defect.
func New() *Fake {
	spec, err := JiraSpec()
	if err != nil {
		panic("jirafake: " + err.Error())
	}
	f := &Fake{
		Faults:      &fake.Injector{},
		now:         time.Now,
		projects:    map[string]*Project{},
		nextID:      10000,
		nextNum:     map[string]int{},
		nextChildID: 20000,
		permissions: map[string]bool{},
		timeZone:    time.UTC,
		// An issue's comment field carries a page of its comments, not
		// all of them (total says how many there are).
		searchComments: 100,
	}
	for p := range permissionNames {
		f.permissions[p] = true
	}
	f.validator = openapi.NewValidator(spec, openapi.Config{
		ErrorBody:       func(msg string) any { return ErrorCollection(msg) },
		LenientDateTime: true,
	})
	f.AddProject(Project{ID: ProjectID, Key: ProjectKey, Name: "IT Support",
		IssueTypes: []string{"Task", "Bug", "Story", "Incident"},
		Components: []string{"Hardware", "Network", "Software"}})
	f.routes = f.newRoutes()
	return f
}

// ErrorCollection is Jira's error body with only general messages.
func ErrorCollection(msgs ...string) map[string]any {
	if msgs == nil {
		msgs = []string{}
	}
	return map[string]any{"errorMessages": msgs, "errors": map[string]string{}}
}

// FieldErrors is Jira's error body for field validation failures.
func FieldErrors(errs map[string]string) map[string]any {
	return map[string]any{"errorMessages": []string{}, "errors": errs}
}

// Handler is the whole site: validation, then faults, then Jira.
func (f *Fake) Handler() http.Handler {
	return f.Counted(f.validator.Wrap(f.Faults.Wrap(f.routes)))
}

// Counted counts every request h serves (see Requests).
func (f *Fake) Counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		h.ServeHTTP(w, r)
	})
}

// Requests is how many requests the site has served.
func (f *Fake) Requests() int { return int(f.requests.Load()) }

// Routes is Jira alone (with its authentication), for a site that serves
// more than Jira (Jira Service Management) and validates on its own.
func (f *Fake) Routes() http.Handler { return f.routes }

// Validator is the site's Jira spec validator.
func (f *Fake) Validator() *openapi.Validator { return f.validator }

// Violations lists requests (and fake responses) that broke the Jira spec
// or contract.
func (f *Fake) Violations() []string { return f.validator.Violations() }

// SpecLoadTime is how long loading the embedded spec took (once per
// process).
func (f *Fake) SpecLoadTime() time.Duration {
	s, _ := JiraSpec()
	return s.LoadTime
}

// Start serves the fake on a new loopback port.
func (f *Fake) Start() error { return f.StartAt("") }

// SetClock replaces the clock used for created/updated times.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetTimeZone sets the account's time zone (its profile's), in which Jira
// reads the dates of a JQL query and which myself reports.
func (f *Fake) SetTimeZone(loc *time.Location) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timeZone = loc
}

// Searches lists the JQL searches the site received, oldest first.
func (f *Fake) Searches() []Search {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.searches)
}

// SetSearchComments sets how many comments an issue's comment field
// carries at most (100 unless set).
func (f *Fake) SetSearchComments(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searchComments = n
}

// AddProject adds (or replaces) a project.
func (f *Fake) AddProject(p Project) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.projects[strings.ToUpper(p.Key)] = &p
}

// SetPermission grants or withdraws a permission (CREATE_ISSUES, …) in
// every project, as mypermissions reports it.
func (f *Fake) SetPermission(key string, have bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.permissions[key] = have
}

// AddIssue stores an issue as if it had been created, assigning its id,
// key and times; it is how a Jira Service Management request lands in the
// site. The project must exist.
func (f *Fake) AddIssue(is Issue) (Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.projects[strings.ToUpper(is.ProjectKey)]
	if !ok {
		return Issue{}, fmt.Errorf("jirafake: no project %q", is.ProjectKey)
	}
	stored := is.clone()
	f.storeLocked(&stored, p)
	return stored.clone(), nil
}

// storeLocked numbers and stores a new issue; f.mu is held.
func (f *Fake) storeLocked(is *Issue, p *Project) {
	f.nextID++
	f.nextNum[p.Key]++
	is.ID = strconv.Itoa(f.nextID)
	is.Key = fmt.Sprintf("%s-%d", p.Key, f.nextNum[p.Key])
	is.ProjectKey, is.ProjectID = p.Key, p.ID
	if is.Status == "" {
		is.Status = "To Do"
	}
	now := f.now().UTC()
	is.Created, is.Updated = now, now
	f.issues = append(f.issues, is)
}

// SetStatus moves an issue to a status, as a workflow transition would.
func (f *Fake) SetStatus(idOrKey, status string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(idOrKey)
	if is == nil {
		return false
	}
	is.Status = status
	is.Updated = f.now().UTC()
	return true
}

// AddComment stores a comment as the site's other APIs (JSM) do.
func (f *Fake) AddComment(idOrKey string, body json.RawMessage, public bool) (Comment, bool) {
	return f.AddAgentComment(idOrKey, Comment{Body: body, Public: public})
}

// AddAgentComment stores c (its Author, Body, Public and Visibility) as a
// help desk agent's comment, numbering and dating it.
func (f *Fake) AddAgentComment(idOrKey string, c Comment) (Comment, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(idOrKey)
	if is == nil {
		return Comment{}, false
	}
	f.nextChildID++
	c.ID, c.Body, c.Created = strconv.Itoa(f.nextChildID), slices.Clone(c.Body), f.now().UTC()
	is.Comments = append(is.Comments, c)
	is.Updated = c.Created
	return c, true
}

// Assign assigns an issue to the agent with this display name ("" to
// unassign it), as an agent would.
func (f *Fake) Assign(idOrKey, displayName string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(idOrKey)
	if is == nil {
		return false
	}
	is.Assignee = displayName
	is.Updated = f.now().UTC()
	return true
}

// TextDoc is text as an ADF document, one paragraph per line: how an
// agent's comment typed in Jira is stored.
func TextDoc(text string) json.RawMessage {
	var paras []any
	for _, line := range strings.Split(text, "\n") {
		p := map[string]any{"type": "paragraph", "content": []any{}}
		if line != "" {
			p["content"] = []any{map[string]any{"type": "text", "text": line}}
		}
		paras = append(paras, p)
	}
	b, _ := json.Marshal(map[string]any{"type": "doc", "version": 1, "content": paras})
	return b
}

// Issue returns a copy of one issue.
func (f *Fake) Issue(idOrKey string) (Issue, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(idOrKey)
	if is == nil {
		return Issue{}, false
	}
	return is.clone(), true
}

// Issues returns copies of every issue, oldest first.
func (f *Fake) Issues() []Issue {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Issue, len(f.issues))
	for i, is := range f.issues {
		out[i] = is.clone()
	}
	return out
}

// Count is how many issues carry the idempotency key's label.
func (f *Fake) Count(idempotencyKey string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, is := range f.issues {
		if slices.Contains(is.Labels, "ticketray-"+idempotencyKey) {
			n++
		}
	}
	return n
}

// ProjectsOf lists the project key of each issue carrying the idempotency
// key's label, oldest first: where on the site the connection that
// created it placed it.
func (f *Fake) ProjectsOf(idempotencyKey string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, is := range f.issues {
		if slices.Contains(is.Labels, "ticketray-"+idempotencyKey) {
			out = append(out, is.ProjectKey)
		}
	}
	return out
}

func (f *Fake) find(idOrKey string) *Issue {
	for _, is := range f.issues {
		if is.ID == idOrKey || strings.EqualFold(is.Key, idOrKey) {
			return is
		}
	}
	return nil
}

// Authorized reports whether r carries the fake's credentials.
func Authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return subtle.ConstantTimeCompare([]byte(u), []byte(Email)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(APIToken)) == 1
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(BearerToken)) == 1
	}
	return false
}

// Unauthorized answers as Jira Cloud does for a missing or wrong API token:
// 401 with a one-line body served as text/html. (The spec names
// ErrorCollection for 401; observed responses are this text.)
func Unauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, MsgNotAuthenticated)
}

func (f *Fake) newRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rest/api/3/issue", f.createIssue)
	mux.HandleFunc("POST /rest/api/3/search/jql", f.searchJQL)
	mux.HandleFunc("GET /rest/api/3/issue/{idOrKey}", f.getIssue)
	mux.HandleFunc("POST /rest/api/3/issue/{idOrKey}/comment", f.addComment)
	mux.HandleFunc("GET /rest/api/3/issue/{idOrKey}/comment", f.getComments)
	mux.HandleFunc("POST /rest/api/3/issue/{idOrKey}/attachments", f.addAttachments)
	mux.HandleFunc("POST /rest/api/3/comment/list", f.commentList)
	mux.HandleFunc("GET /rest/api/3/myself", f.myself)
	mux.HandleFunc("GET /rest/api/3/mypermissions", f.myPermissions)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotImplemented, ErrorCollection(fmt.Sprintf("jirafake does not implement %s %s", r.Method, r.URL.Path)))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Authorized(r) {
			Unauthorized(w)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// BaseURL is the site URL as the client addressed it, for self links.
func BaseURL(r *http.Request) string { return "http://" + r.Host }

func (f *Fake) createIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorCollection("Unexpected character in the request body: "+err.Error()))
		return
	}
	fields := req.Fields

	f.mu.Lock()
	defer f.mu.Unlock()

	// Jira reports an invalid project alone: nothing else can be checked
	// without the project's configuration.
	var ref struct{ ID, Key string }
	_ = json.Unmarshal(fields["project"], &ref)
	var project *Project
	for _, p := range f.projects {
		if (ref.Key != "" && strings.EqualFold(p.Key, ref.Key)) || (ref.ID != "" && p.ID == ref.ID) {
			project = p
		}
	}
	if project == nil {
		writeJSON(w, http.StatusBadRequest, FieldErrors(map[string]string{"project": MsgInvalidProject}))
		return
	}

	is := Issue{ProjectKey: project.Key, ProjectID: project.ID, Fields: fields}
	errs := map[string]string{}
	var it struct{ ID, Name string }
	_ = json.Unmarshal(fields["issuetype"], &it)
	for _, name := range project.IssueTypes {
		if strings.EqualFold(name, it.Name) {
			is.IssueType = name
		}
	}
	if is.IssueType == "" {
		errs["issuetype"] = MsgInvalidIssueType
	}

	_ = json.Unmarshal(fields["summary"], &is.Summary)
	switch {
	case strings.TrimSpace(is.Summary) == "":
		errs["summary"] = MsgSummaryRequired
	case strings.ContainsAny(is.Summary, "\r\n"):
		errs["summary"] = MsgSummaryNewline
	case utf8.RuneCountInString(is.Summary) > 255:
		errs["summary"] = "Summary must be less than 255 characters."
	}

	if d, ok := fields["description"]; ok && string(d) != "null" {
		if err := CheckADF(d); err != nil {
			f.validator.Record("POST /rest/api/3/issue: description is not ADF: %v", err)
			errs["description"] = MsgNotADF
		} else if jsonLen(d) > 32767 {
			errs["description"] = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
		}
		is.Description = d
	}

	if raw, ok := fields["priority"]; ok {
		var p struct{ ID, Name string }
		if err := json.Unmarshal(raw, &p); err != nil || (p.Name == "" && p.ID == "") {
			errs["priority"] = "Specify the Priority (id or name) in the string format"
		} else if i := slices.IndexFunc(Priorities, func(n string) bool { return strings.EqualFold(n, p.Name) }); i >= 0 {
			is.Priority = Priorities[i]
		} else {
			errs["priority"] = fmt.Sprintf("Priority name '%s' is not valid", p.Name)
		}
	} else {
		is.Priority = "Medium"
	}

	if raw, ok := fields["labels"]; ok {
		if err := json.Unmarshal(raw, &is.Labels); err != nil {
			errs["labels"] = "data was not an array"
		}
		for _, l := range is.Labels {
			switch {
			case strings.ContainsFunc(l, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }):
				errs["labels"] = fmt.Sprintf("The label '%s' contains spaces which is invalid.", l)
			case utf8.RuneCountInString(l) > 255:
				errs["labels"] = "The label must not exceed 255 characters."
			}
		}
	}

	if raw, ok := fields["components"]; ok {
		var comps []struct{ ID, Name string }
		if err := json.Unmarshal(raw, &comps); err != nil {
			errs["components"] = "data was not an array"
		}
		for _, c := range comps {
			if !slices.Contains(project.Components, c.Name) {
				errs["components"] = fmt.Sprintf("Component name '%s' is not valid", c.Name)
				continue
			}
			is.Components = append(is.Components, c.Name)
		}
	}

	for k := range fields {
		switch k {
		case "project", "issuetype", "summary", "description", "priority", "labels", "components":
		default:
			errs[k] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", k)
		}
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, FieldErrors(errs))
		return
	}

	f.storeLocked(&is, project)
	writeJSON(w, http.StatusCreated, map[string]string{
		"id": is.ID, "key": is.Key, "self": BaseURL(r) + "/rest/api/3/issue/" + is.ID,
	})
}

// jsonLen is the length of raw re-encoded without HTML escapes: Jira
// counts the characters of the document, not the client's escaping.
func jsonLen(raw json.RawMessage) int {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return len(raw)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return len(raw)
	}
	return b.Len() - 1
}

func (f *Fake) searchJQL(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JQL           string   `json:"jql"`
		Fields        []string `json:"fields"`
		MaxResults    *int     `json:"maxResults"`
		NextPageToken string   `json:"nextPageToken"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorCollection("Invalid request payload. Refer to the REST API documentation and try again."))
		return
	}
	f.mu.Lock()
	loc, now := f.timeZone, f.now()
	f.searches = append(f.searches, Search{JQL: req.JQL, Fields: slices.Clone(req.Fields)})
	f.mu.Unlock()
	q, err := parseJQL(req.JQL, loc, now)
	if err != nil {
		// The shape of a captured JQL error (testdata/samples/amplabs-jql-error.json).
		writeJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{err.Error()}, "warningMessages": []string{}})
		return
	}
	limit := 50
	if req.MaxResults != nil {
		limit = min(max(*req.MaxResults, 0), 5000)
	}
	start := 0
	if req.NextPageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(req.NextPageToken)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, ErrorCollection("The provided next page token is invalid or expired."))
			return
		}
		start = n
	}

	f.mu.Lock()
	var hits []*Issue
	for _, is := range f.issues { // stored oldest first
		if q.match(is) {
			hits = append(hits, is)
		}
	}
	if !q.oldest {
		slices.Reverse(hits)
	}
	base := BaseURL(r)
	issues := []map[string]any{}
	for i := start; i < len(hits) && i < start+limit; i++ {
		issues = append(issues, f.issueBean(base, hits[i], req.Fields))
	}
	f.mu.Unlock()

	resp := map[string]any{"issues": issues, "isLast": start+limit >= len(hits)}
	if start+limit < len(hits) {
		resp["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(start + limit)))
	}
	writeJSON(w, http.StatusOK, resp)
}

// issueBean renders an issue with the requested fields (Jira's "fields"
// rules: "*all", "*navigable", names, "-name" to exclude; none means id);
// f.mu is held.
func (f *Fake) issueBean(base string, is *Issue, want []string) map[string]any {
	shown := is.Comments[:min(len(is.Comments), f.searchComments)]
	all := map[string]any{
		"comment": map[string]any{
			"comments": f.commentBeans(base, is, shown, false), "maxResults": f.searchComments,
			"total": len(is.Comments), "startAt": 0,
		},
		"summary":    is.Summary,
		"status":     statusBean(base, is.Status),
		"updated":    jiraTime(is.Updated),
		"created":    jiraTime(is.Created),
		"labels":     append([]string{}, is.Labels...),
		"project":    map[string]string{"id": is.ProjectID, "key": is.ProjectKey, "self": base + "/rest/api/3/project/" + is.ProjectID},
		"issuetype":  map[string]string{"name": is.IssueType},
		"priority":   map[string]string{"name": is.Priority},
		"components": componentBeans(is.Components),
	}
	if is.Description != nil {
		all["description"] = is.Description
	}
	// Jira renders an unassigned issue's assignee as null, which the
	// spec's schema does not allow; the fake leaves the field out.
	if is.Assignee != "" {
		all["assignee"] = userBean(base, is.Assignee)
	}
	fields := map[string]any{}
	for _, spec := range want {
		for _, name := range strings.Split(spec, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "*all" || name == "*navigable":
				for k, v := range all {
					fields[k] = v
				}
			case strings.HasPrefix(name, "-"):
				delete(fields, name[1:])
			default:
				if v, ok := all[name]; ok {
					fields[name] = v
				}
			}
		}
	}
	return map[string]any{"id": is.ID, "key": is.Key, "self": base + "/rest/api/3/issue/" + is.ID, "fields": fields}
}

func componentBeans(names []string) []map[string]string {
	out := []map[string]string{}
	for _, n := range names {
		out = append(out, map[string]string{"name": n})
	}
	return out
}

// statusBean is a status with the category Jira would give its usual
// names.
func statusBean(base, name string) map[string]any {
	var cat map[string]string
	switch strings.ToLower(name) {
	case "done", "closed", "resolved", "canceled":
		cat = map[string]string{"key": "done", "name": "Done"}
	case "to do", "open", "waiting for support", "backlog":
		cat = map[string]string{"key": "new", "name": "To Do"}
	default:
		cat = map[string]string{"key": "indeterminate", "name": "In Progress"}
	}
	return map[string]any{"name": name, "self": base + "/rest/api/3/status/" + slug(name), "statusCategory": cat}
}

func slug(s string) string { return strings.ReplaceAll(strings.ToLower(s), " ", "-") }

// jiraTime is Jira's timestamp format: ISO 8601 with milliseconds and a
// numeric offset without a colon (2023-06-24T19:24:50.000+0000).
func jiraTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func (f *Fake) getIssue(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(r.PathValue("idOrKey"))
	if is == nil {
		writeJSON(w, http.StatusNotFound, ErrorCollection(MsgIssueNotFound))
		return
	}
	want := r.URL.Query()["fields"]
	if len(want) == 0 {
		want = []string{"*all"}
	}
	writeJSON(w, http.StatusOK, f.issueBean(BaseURL(r), is, want))
}

// userBean is a user as Jira renders one in an issue or a comment; the
// account id is derived from the name so one name is one account.
func userBean(base, displayName string) map[string]any {
	id := fmt.Sprintf("712020:%08x", crc32.ChecksumIEEE([]byte(displayName)))
	if displayName == "Ticketray Bot" {
		id = AccountID
	}
	return map[string]any{
		"accountId": id, "accountType": "atlassian", "active": true, "displayName": displayName, "timeZone": "UTC",
		"self": base + "/rest/api/3/user?accountId=" + id,
	}
}

// commentBeans renders comments as the comment field and the comments
// endpoints do, with their properties when withProps; f.mu is held.
func (f *Fake) commentBeans(base string, is *Issue, cs []Comment, withProps bool) []map[string]any {
	out := []map[string]any{}
	for _, c := range cs {
		author := c.Author
		if author == "" {
			author = "Ticketray Bot"
		}
		b := map[string]any{
			"id": c.ID, "self": base + "/rest/api/3/issue/" + is.ID + "/comment/" + c.ID,
			"author": userBean(base, author), "updateAuthor": userBean(base, author),
			"body": adfBody(c.Body), "created": jiraTime(c.Created), "updated": jiraTime(c.Created),
			"jsdPublic": c.Public,
		}
		if withProps {
			props := []map[string]any{}
			for _, k := range slices.Sorted(maps.Keys(c.Properties)) {
				props = append(props, map[string]any{"key": k, "value": c.Properties[k]})
			}
			b["properties"] = props
		}
		if c.Visibility != "" {
			b["visibility"] = map[string]any{"type": "role", "value": c.Visibility, "identifier": c.Visibility}
		}
		out = append(out, b)
	}
	return out
}

// adfBody is a comment body as REST v3 renders it: ADF, even for a comment
// written as plain text through the servicedeskapi.
func adfBody(body json.RawMessage) json.RawMessage {
	var text string
	if json.Unmarshal(body, &text) == nil {
		return TextDoc(text)
	}
	return body
}

// getComments is GET /rest/api/3/issue/{idOrKey}/comment: a page of the
// issue's comments, oldest first unless orderBy is -created.
func (f *Fake) getComments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("startAt"))
	limit := 100
	if v := q.Get("maxResults"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	limit = min(max(limit, 0), 100) // Jira's cap for this page
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(r.PathValue("idOrKey"))
	if is == nil {
		writeJSON(w, http.StatusNotFound, ErrorCollection(MsgIssueNotFound))
		return
	}
	cs := slices.Clone(is.Comments)
	if q.Get("orderBy") == "-created" {
		slices.Reverse(cs)
	}
	start = min(max(start, 0), len(cs))
	end := min(start+limit, len(cs))
	writeJSON(w, http.StatusOK, map[string]any{
		"comments": f.commentBeans(BaseURL(r), is, cs[start:end], false), "maxResults": limit, "total": len(cs), "startAt": start,
	})
}

func (f *Fake) zoneName() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timeZone.String()
}

func (f *Fake) addComment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Body       json.RawMessage `json:"body"`
		Properties []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorCollection("Invalid request payload. Refer to the REST API documentation and try again."))
		return
	}
	if err := CheckADF(req.Body); err != nil {
		f.validator.Record("POST %s: comment body is not ADF: %v", r.URL.Path, err)
		writeJSON(w, http.StatusBadRequest, FieldErrors(map[string]string{"comment": MsgNotADF}))
		return
	}
	var props map[string]json.RawMessage
	for _, p := range req.Properties {
		// Jira: the key is required, at most 255 characters; the value
		// is required, valid JSON of at most 32 KiB.
		if p.Key == "" || utf8.RuneCountInString(p.Key) > 255 || len(p.Value) == 0 || string(p.Value) == "null" || len(p.Value) > 32768 {
			f.validator.Record("POST %s: invalid comment property %q", r.URL.Path, p.Key)
			writeJSON(w, http.StatusBadRequest, ErrorCollection("The property key or value is not valid."))
			return
		}
		if props == nil {
			props = map[string]json.RawMessage{}
		}
		props[p.Key] = slices.Clone(p.Value)
	}
	c, ok := f.AddAgentComment(r.PathValue("idOrKey"), Comment{Body: req.Body, Public: true, Properties: props})
	if !ok {
		writeJSON(w, http.StatusNotFound, ErrorCollection(MsgIssueNotFound))
		return
	}
	self := BaseURL(r) + "/rest/api/3/issue/" + r.PathValue("idOrKey") + "/comment/" + c.ID
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": c.ID, "self": self, "body": c.Body, "jsdPublic": true,
		"author":  map[string]any{"accountId": AccountID, "displayName": "Ticketray Bot", "active": true},
		"created": jiraTime(c.Created), "updated": jiraTime(c.Created),
	})
}

// commentList is POST /rest/api/3/comment/list: the comments with these
// ids (at most 1000) on any issue, with their properties when expand has
// "properties".
func (f *Fake) commentList(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []int64 `json:"ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.IDs == nil {
		writeJSON(w, http.StatusBadRequest, ErrorCollection("Invalid request payload. Refer to the REST API documentation and try again."))
		return
	}
	if len(req.IDs) > 1000 {
		writeJSON(w, http.StatusBadRequest, ErrorCollection("The number of IDs is more than 1000."))
		return
	}
	want := map[string]bool{}
	for _, id := range req.IDs {
		want[strconv.FormatInt(id, 10)] = true
	}
	expand := slices.Contains(strings.Split(r.URL.Query().Get("expand"), ","), "properties")
	f.mu.Lock()
	defer f.mu.Unlock()
	values := []map[string]any{}
	for _, is := range f.issues {
		var cs []Comment
		for _, c := range is.Comments {
			if want[c.ID] {
				cs = append(cs, c)
			}
		}
		values = append(values, f.commentBeans(BaseURL(r), is, cs, expand)...)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"isLast": true, "maxResults": 1000, "startAt": 0, "total": len(values), "values": values,
	})
}

func (f *Fake) addAttachments(w http.ResponseWriter, r *http.Request) {
	// Jira's XSRF filter blocks multipart posts without this header; the
	// spec says so only in prose, so the validator cannot.
	if tok := r.Header.Get("X-Atlassian-Token"); tok != "no-check" && tok != "nocheck" {
		f.validator.Record("POST %s: missing header X-Atlassian-Token: no-check", r.URL.Path)
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, MsgXSRF)
		return
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		writeJSON(w, http.StatusUnsupportedMediaType, ErrorCollection("Expected multipart/form-data"))
		return
	}
	var files []Attachment
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorCollection("Invalid multipart body: "+err.Error()))
			return
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorCollection("Invalid multipart body: "+err.Error()))
			return
		}
		ct := part.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		files = append(files, Attachment{Filename: part.FileName(), MimeType: ct, Data: data})
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.find(r.PathValue("idOrKey"))
	if is == nil {
		writeJSON(w, http.StatusNotFound, ErrorCollection(MsgIssueNotFound))
		return
	}
	base := BaseURL(r)
	out := []map[string]any{}
	now := f.now().UTC()
	for _, a := range files {
		f.nextChildID++
		a.ID = strconv.Itoa(f.nextChildID)
		is.Attachments = append(is.Attachments, a)
		out = append(out, map[string]any{
			"id": a.ID, "filename": a.Filename, "mimeType": a.MimeType, "size": len(a.Data),
			"self":    base + "/rest/api/3/attachments/" + a.ID,
			"content": base + "/rest/api/3/attachment/content/" + a.ID,
			"created": jiraTime(now),
			"author":  map[string]any{"accountId": AccountID, "displayName": "Ticketray Bot", "active": true},
		})
	}
	is.Updated = now
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) myself(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"accountId": AccountID, "accountType": "atlassian", "active": true,
		"displayName": "Ticketray Bot", "emailAddress": Email, "timeZone": f.zoneName(), "locale": "en_US",
		"self": BaseURL(r) + "/rest/api/3/user?accountId=" + AccountID,
	})
}

func (f *Fake) myPermissions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("permissions") == "" {
		writeJSON(w, http.StatusBadRequest, ErrorCollection("The permissions query parameter is required."))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if key := q.Get("projectKey"); key != "" {
		if _, ok := f.projects[strings.ToUpper(key)]; !ok {
			writeJSON(w, http.StatusNotFound, ErrorCollection(fmt.Sprintf("No project could be found with key '%s'.", key)))
			return
		}
	}
	perms := map[string]any{}
	var keys []string
	for _, k := range strings.Split(q.Get("permissions"), ",") {
		keys = append(keys, strings.TrimSpace(k))
	}
	sort.Strings(keys)
	for i, k := range keys {
		name, ok := permissionNames[k]
		if !ok {
			writeJSON(w, http.StatusBadRequest, ErrorCollection(fmt.Sprintf("Invalid permission key(s): %s", k)))
			return
		}
		perms[k] = map[string]any{
			"id": strconv.Itoa(10 + i), "key": k, "name": name, "type": "PROJECT",
			"description": "Ability to " + strings.ToLower(name) + ".", "havePermission": f.permissions[k],
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"permissions": perms})
}

// StartAt serves the fake on addr, reserved earlier with fake.Reserve (or
// a new port for ""), for a server that comes up after clients first
// failed to reach it. A closed fake may be started again; its data is kept.
func (f *Fake) StartAt(addr string) error { return f.Server.Serve(addr, f.Handler()) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}
