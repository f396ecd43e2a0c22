// Package jsmfake is a Jira Service Management Cloud site for tests: the
// servicedeskapi (create request, get request, status, comments, service
// desk, request type, customers) on top of a jirafake site, whose Jira
// platform API (JQL search, attachments, …) it serves on the same host, as
// a real site does. Every request is validated against the vendor spec of
// the API it addresses (servicedeskapi → the JSM spec, the rest → the Jira
// spec); mismatches are answered 400 and recorded in Violations().
//
// One fake is one site: a Jira connection (project IT, issue type Task)
// and a JSM connection (service desk 10, project HELPDESK) can deliver to
// it side by side, and the site's JQL search spans both projects, as a
// real site's does.
package jsmfake

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/fake/openapi"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

// The vendor spec (Atlassian's, via xvrh/atlassian_apis, MIT; see
// testdata/) is embedded so tests do not depend on files outside the repo.
//
//go:embed testdata/jsm-servicedesk.xvrh-2023-08.json
var specJSON []byte

// Credentials: the site's, as for Jira.
const (
	Email       = jirafake.Email
	APIToken    = jirafake.APIToken
	BearerToken = jirafake.BearerToken
)

// The service desk every fake starts with. Its portal id differs from its
// service desk id, as it may on a real site, so links built from the wrong
// one are caught.
const (
	ServiceDeskID = "10"
	PortalID      = "3"
	ProjectKey    = "HELPDESK"
	ProjectID     = "11001"
	// RequestTypeID exposes summary, description and labels; see
	// ExposeFields.
	RequestTypeID = "25"
	// CustomerEmail is a customer of the service desk, with
	// CustomerAccountID.
	CustomerEmail     = "alice@example.com"
	CustomerAccountID = "qm:a713c8ea-1075-4e30-9d96-891a7d181739:5ad6d3581db05e2a66fa80b"
)

// Messages. JSM's error body is ErrorResponse {errorMessage,
// i18nErrorMessage}; these texts are modelled on Jira's, not captured.
const (
	MsgRequestNotFound     = "Request does not exist or you do not have permission to see it."
	MsgServiceDeskNotFound = "The service desk does not exist or you do not have permission to access it."
	MsgRequestTypeNotFound = "The request type does not exist or you do not have permission to access it."
)

// Spec returns the embedded servicedeskapi spec, loaded once per process.
func Spec() (*openapi.Spec, error) { return spec() }

var spec = sync.OnceValues(func() (*openapi.Spec, error) {
	return openapi.LoadSpec("jsm-servicedesk", specJSON, nil)
})

// ErrorResponse is JSM's error body.
func ErrorResponse(msg string) map[string]any {
	return map[string]any{"errorMessage": msg, "i18nErrorMessage": map[string]any{"i18nKey": "sd.public.rest.error", "parameters": []string{}}}
}

// RequestType is a request type and the fields it lets a request set.
type RequestType struct {
	ID, Name string
	Fields   []string // field ids accepted in requestFieldValues
}

// Customer is a customer of the service desk.
type Customer struct {
	AccountID, Email, DisplayName string
}

// Request is a customer request as the fake stores it; its issue lives in
// the Jira site (Site).
type Request struct {
	IssueID, IssueKey string
	ServiceDeskID     string
	RequestTypeID     string
	RaiseOnBehalfOf   string
	FieldValues       map[string]json.RawMessage
	// Comments are the issue's comments (public and internal).
	Comments []jirafake.Comment
	history  []statusEntry
}

type statusEntry struct {
	status string
	at     time.Time
}

// Fake is a Jira Service Management site.
type Fake struct {
	// Faults apply to every request (servicedeskapi and Jira), after
	// validation.
	Faults *fake.Injector
	fake.Server

	site    *jirafake.Fake
	jsmV    *openapi.Validator
	handler http.Handler

	mu           sync.Mutex
	requests     []*Request
	requestTypes map[string]*RequestType
	customers    []Customer
}

// New returns a site with service desk 10 (project HELPDESK), request type
// 25 and one customer. It panics if an embedded spec cannot be loaded,
// which is a build defect.
func New() *Fake {
	s, err := Spec()
	if err != nil {
		panic("jsmfake: " + err.Error())
	}
	site := jirafake.New()
	f := &Fake{
		Faults: &fake.Injector{},
		site:   site,
		// One log for both APIs, so violations stay in order.
		jsmV: openapi.NewValidator(s, openapi.Config{
			ErrorBody:       func(msg string) any { return ErrorResponse(msg) },
			Log:             site.Validator().Log(),
			LenientDateTime: true,
		}),
		requestTypes: map[string]*RequestType{},
	}
	f.site.AddProject(jirafake.Project{ID: ProjectID, Key: ProjectKey, Name: "IT Help Desk", IssueTypes: []string{"[System] Service request"}})
	f.requestTypes[RequestTypeID] = &RequestType{ID: RequestTypeID, Name: "Get IT help", Fields: []string{"summary", "description", "labels"}}
	f.customers = []Customer{{AccountID: CustomerAccountID, Email: CustomerEmail, DisplayName: "Alice Example"}}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /rest/servicedeskapi/request", f.createRequest)
	mux.HandleFunc("GET /rest/servicedeskapi/request/{idOrKey}", f.getRequest)
	mux.HandleFunc("GET /rest/servicedeskapi/request/{idOrKey}/status", f.getStatus)
	mux.HandleFunc("POST /rest/servicedeskapi/request/{idOrKey}/comment", f.addComment)
	mux.HandleFunc("GET /rest/servicedeskapi/request/{idOrKey}/comment", f.getComments)
	mux.HandleFunc("GET /rest/servicedeskapi/servicedesk/{id}", f.getServiceDesk)
	mux.HandleFunc("GET /rest/servicedeskapi/servicedesk/{id}/requesttype/{rt}", f.getRequestType)
	mux.HandleFunc("GET /rest/servicedeskapi/servicedesk/{id}/customer", f.getCustomers)
	mux.HandleFunc("/rest/servicedeskapi/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotImplemented, ErrorResponse(fmt.Sprintf("jsmfake does not implement %s %s", r.Method, r.URL.Path)))
	})
	sd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !jirafake.Authorized(r) {
			jirafake.Unauthorized(w)
			return
		}
		mux.ServeHTTP(w, r)
	})
	jiraRoutes := site.Routes()
	inner := f.Faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isServiceDesk(r) {
			sd.ServeHTTP(w, r)
			return
		}
		jiraRoutes.ServeHTTP(w, r)
	}))
	jsm, jira := f.jsmV.Wrap(inner), f.site.Validator().Wrap(inner)
	f.handler = site.Counted(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isServiceDesk(r) {
			jsm.ServeHTTP(w, r)
			return
		}
		jira.ServeHTTP(w, r)
	}))
	return f
}

func isServiceDesk(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/rest/servicedeskapi/")
}

// Handler is the whole site.
func (f *Fake) Handler() http.Handler { return f.handler }

// Site is the Jira side of the site: its issues, statuses, attachments.
func (f *Fake) Site() *jirafake.Fake { return f.site }

// Violations lists requests (and fake responses) that broke either spec
// or contract, oldest first.
func (f *Fake) Violations() []string { return f.jsmV.Violations() }

// SpecLoadTime is how long loading the embedded JSM spec took.
func (f *Fake) SpecLoadTime() time.Duration {
	s, _ := Spec()
	return s.LoadTime
}

// Start serves the site on a new loopback port.
func (f *Fake) Start() error { return f.StartAt("") }

// ExposeFields adds fields (such as "priority") to a request type, which
// many request types do not expose.
func (f *Fake) ExposeFields(requestTypeID string, fieldIDs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rt, ok := f.requestTypes[requestTypeID]
	if !ok {
		rt = &RequestType{ID: requestTypeID, Name: "Request type " + requestTypeID}
		f.requestTypes[requestTypeID] = rt
	}
	for _, id := range fieldIDs {
		if !slices.Contains(rt.Fields, id) {
			rt.Fields = append(rt.Fields, id)
		}
	}
}

// AddCustomer adds a customer to the service desk.
func (f *Fake) AddCustomer(c Customer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.customers = append(f.customers, c)
}

// SetStatus moves a request to a status and records it in its history.
func (f *Fake) SetStatus(idOrKey, status string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.site.SetStatus(idOrKey, status) {
		return false
	}
	if rq := f.findRequest(idOrKey); rq != nil {
		f.syncHistory(rq)
	}
	return true
}

// Assign assigns a request to the agent with this display name, as an
// agent would in the agent view.
func (f *Fake) Assign(idOrKey, displayName string) bool { return f.site.Assign(idOrKey, displayName) }

// Reply adds an agent's comment: public (shared with the customer, as
// the agent view's "Reply to customer") or internal ("Add internal
// note").
func (f *Fake) Reply(idOrKey, author, text string, public bool) bool {
	_, ok := f.site.AddAgentComment(idOrKey, jirafake.Comment{Author: author, Body: jirafake.TextDoc(text), Public: public})
	return ok
}

// Served is how many requests the site (both APIs) has served.
func (f *Fake) Served() int { return f.site.Requests() }

// Requests returns copies of every request, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, rq := range f.requests {
		c := *rq
		c.FieldValues = make(map[string]json.RawMessage, len(rq.FieldValues))
		for k, v := range rq.FieldValues {
			c.FieldValues[k] = slices.Clone(v)
		}
		c.history = nil
		if is, ok := f.site.Issue(rq.IssueID); ok {
			c.Comments = is.Comments
		}
		out[i] = c
	}
	return out
}

// Count is how many issues on the site carry the idempotency key's label.
func (f *Fake) Count(idempotencyKey string) int { return f.site.Count(idempotencyKey) }

func (f *Fake) findRequest(idOrKey string) *Request {
	for _, rq := range f.requests {
		if rq.IssueID == idOrKey || strings.EqualFold(rq.IssueKey, idOrKey) {
			return rq
		}
	}
	return nil
}

func (f *Fake) createRequest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ServiceDeskID      string                     `json:"serviceDeskId"`
		RequestTypeID      string                     `json:"requestTypeId"`
		RequestFieldValues map[string]json.RawMessage `json:"requestFieldValues"`
		RaiseOnBehalfOf    string                     `json:"raiseOnBehalfOf"`
		IsAdfRequest       bool                       `json:"isAdfRequest"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorResponse("Invalid request payload: "+err.Error()))
		return
	}
	if req.ServiceDeskID != ServiceDeskID {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgServiceDeskNotFound))
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	rt, ok := f.requestTypes[req.RequestTypeID]
	if !ok {
		writeJSON(w, http.StatusBadRequest, ErrorResponse(MsgRequestTypeNotFound))
		return
	}
	var reporter *Customer
	if req.RaiseOnBehalfOf != "" {
		// The spec takes an accountId; Jira Cloud does not accept an email
		// here (JSDCLOUD-6061).
		if strings.Contains(req.RaiseOnBehalfOf, "@") {
			f.jsmV.Record("POST /rest/servicedeskapi/request: raiseOnBehalfOf must be an accountId, got an email address")
		}
		for i, c := range f.customers {
			if c.AccountID == req.RaiseOnBehalfOf {
				reporter = &f.customers[i]
			}
		}
		if reporter == nil {
			writeJSON(w, http.StatusBadRequest, ErrorResponse(fmt.Sprintf("The user '%s' does not exist or is not a customer of this service desk.", req.RaiseOnBehalfOf)))
			return
		}
	}

	is := jirafake.Issue{ProjectKey: ProjectKey, IssueType: "[System] Service request", Status: "Waiting for support", Fields: req.RequestFieldValues}
	var errs []string
	for id, raw := range req.RequestFieldValues {
		if !slices.Contains(rt.Fields, id) {
			errs = append(errs, fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", id))
			continue
		}
		switch id {
		case "summary":
			_ = json.Unmarshal(raw, &is.Summary)
		case "description":
			var s string
			if req.IsAdfRequest {
				if err := jirafake.CheckADF(raw); err != nil {
					errs = append(errs, "description: "+jirafake.MsgNotADF)
				}
			} else if err := json.Unmarshal(raw, &s); err != nil {
				errs = append(errs, "description: Operation value must be a string")
			}
			is.Description = raw
		case "labels":
			if err := json.Unmarshal(raw, &is.Labels); err != nil {
				errs = append(errs, "labels: data was not an array")
			}
			for _, l := range is.Labels {
				if strings.ContainsFunc(l, unicode.IsSpace) {
					errs = append(errs, fmt.Sprintf("labels: The label '%s' contains spaces which is invalid.", l))
				}
			}
		case "priority":
			var p struct{ Name string }
			_ = json.Unmarshal(raw, &p)
			if i := slices.IndexFunc(jirafake.Priorities, func(n string) bool { return strings.EqualFold(n, p.Name) }); i >= 0 {
				is.Priority = jirafake.Priorities[i]
			} else {
				errs = append(errs, fmt.Sprintf("priority: Priority name '%s' is not valid", p.Name))
			}
		}
	}
	if strings.TrimSpace(is.Summary) == "" {
		errs = append(errs, "summary: "+jirafake.MsgSummaryRequired)
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		writeJSON(w, http.StatusBadRequest, ErrorResponse("Your request could not be created. Please check the fields have been correctly filled in. "+strings.Join(errs, " ")))
		return
	}
	stored, err := f.site.AddIssue(is)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ErrorResponse(err.Error()))
		return
	}
	rq := &Request{IssueID: stored.ID, IssueKey: stored.Key, ServiceDeskID: req.ServiceDeskID, RequestTypeID: rt.ID,
		RaiseOnBehalfOf: req.RaiseOnBehalfOf, FieldValues: req.RequestFieldValues,
		history: []statusEntry{{stored.Status, stored.Created}}}
	f.requests = append(f.requests, rq)
	writeJSON(w, http.StatusCreated, f.requestDTO(jirafake.BaseURL(r), rq, stored, reporter))
}

// syncHistory appends the issue's current status when a workflow change
// happened on the Jira side.
func (f *Fake) syncHistory(rq *Request) (jirafake.Issue, bool) {
	is, ok := f.site.Issue(rq.IssueID)
	if ok && rq.history[len(rq.history)-1].status != is.Status {
		rq.history = append(rq.history, statusEntry{is.Status, is.Updated})
	}
	return is, ok
}

func (f *Fake) requestDTO(base string, rq *Request, is jirafake.Issue, reporter *Customer) map[string]any {
	rep := map[string]any{"accountId": jirafake.AccountID, "emailAddress": Email, "displayName": "Ticketray Bot", "active": true, "timeZone": "UTC"}
	if reporter != nil {
		rep = map[string]any{"accountId": reporter.AccountID, "emailAddress": reporter.Email, "displayName": reporter.DisplayName, "active": true, "timeZone": "UTC"}
	}
	values := []map[string]any{}
	for _, id := range []string{"summary", "description", "priority", "labels"} {
		if raw, ok := rq.FieldValues[id]; ok {
			var v any
			_ = json.Unmarshal(raw, &v)
			values = append(values, map[string]any{"fieldId": id, "label": strings.ToUpper(id[:1]) + id[1:], "value": v})
		}
	}
	cur := rq.history[len(rq.history)-1]
	return map[string]any{
		"_expands":           []string{"participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action", "comment"},
		"issueId":            rq.IssueID,
		"issueKey":           rq.IssueKey,
		"requestTypeId":      rq.RequestTypeID,
		"serviceDeskId":      rq.ServiceDeskID,
		"createdDate":        dateDTO(is.Created),
		"reporter":           rep,
		"requestFieldValues": values,
		"currentStatus":      map[string]any{"status": cur.status, "statusCategory": category(cur.status), "statusDate": dateDTO(cur.at)},
		"_links": map[string]string{
			"jiraRest": base + "/rest/api/2/issue/" + rq.IssueID,
			"web":      base + "/servicedesk/customer/portal/" + PortalID + "/" + rq.IssueKey,
			"self":     base + "/rest/servicedeskapi/request/" + rq.IssueID,
			"agent":    base + "/browse/" + rq.IssueKey,
		},
	}
}

func category(status string) string {
	switch strings.ToLower(status) {
	case "resolved", "closed", "done", "canceled":
		return "DONE"
	case "waiting for support", "open":
		return "NEW"
	}
	return "INDETERMINATE"
}

func dateDTO(t time.Time) map[string]any {
	t = t.UTC()
	return map[string]any{
		"iso8601":     t.Format("2006-01-02T15:04:05-0700"),
		"jira":        t.Format("2006-01-02T15:04:05.000-0700"),
		"friendly":    t.Format("02/Jan/06 3:04 PM"),
		"epochMillis": t.UnixMilli(),
	}
}

func (f *Fake) getRequest(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rq := f.findRequest(r.PathValue("idOrKey"))
	if rq == nil {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestNotFound))
		return
	}
	is, _ := f.syncHistory(rq)
	var reporter *Customer
	for i, c := range f.customers {
		if c.AccountID == rq.RaiseOnBehalfOf {
			reporter = &f.customers[i]
		}
	}
	writeJSON(w, http.StatusOK, f.requestDTO(jirafake.BaseURL(r), rq, is, reporter))
}

// page reads start and limit the way servicedeskapi pages do.
func page(r *http.Request, n int) (start, limit int) {
	start, _ = strconv.Atoi(r.URL.Query().Get("start"))
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 {
		limit = 50
	}
	start = min(max(start, 0), n)
	return start, limit
}

func (f *Fake) getStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rq := f.findRequest(r.PathValue("idOrKey"))
	if rq == nil {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestNotFound))
		return
	}
	f.syncHistory(rq)
	// Most recent (current) status first, as the spec describes.
	var all []map[string]any
	for i := len(rq.history) - 1; i >= 0; i-- {
		h := rq.history[i]
		all = append(all, map[string]any{"status": h.status, "statusCategory": category(h.status), "statusDate": dateDTO(h.at)})
	}
	start, limit := page(r, len(all))
	end := min(start+limit, len(all))
	base := jirafake.BaseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"_expands": []string{}, "size": end - start, "start": start, "limit": limit, "isLastPage": end == len(all),
		"_links": map[string]string{"base": base + "/rest/servicedeskapi", "context": "", "self": base + r.URL.RequestURI()},
		"values": all[start:end],
	})
}

func (f *Fake) addComment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Body   string `json:"body"`
		Public *bool  `json:"public"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorResponse("Invalid request payload: "+err.Error()))
		return
	}
	if strings.TrimSpace(req.Body) == "" {
		writeJSON(w, http.StatusBadRequest, ErrorResponse("Comment body can not be empty!"))
		return
	}
	public := req.Public == nil || *req.Public
	f.mu.Lock()
	rq := f.findRequest(r.PathValue("idOrKey"))
	f.mu.Unlock()
	if rq == nil {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestNotFound))
		return
	}
	body, _ := json.Marshal(req.Body)
	c, ok := f.site.AddComment(rq.IssueID, body, public)
	if !ok {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestNotFound))
		return
	}
	base := jirafake.BaseURL(r)
	writeJSON(w, http.StatusCreated, map[string]any{
		"_expands": []string{"attachment", "renderedBody"},
		"id":       c.ID, "body": req.Body, "public": public,
		"author":  map[string]any{"accountId": jirafake.AccountID, "emailAddress": Email, "displayName": "Ticketray Bot", "active": true, "timeZone": "UTC"},
		"created": dateDTO(c.Created),
		"_links":  map[string]string{"self": base + "/rest/servicedeskapi/request/" + rq.IssueID + "/comment/" + c.ID},
	})
}

// maxCommentPage caps a page of comments, as the site caps its pages
// whatever limit asks for.
const maxCommentPage = 100

// getComments is GET /rest/servicedeskapi/request/{idOrKey}/comment: a
// page of the request's comments, oldest first, public and internal ones
// unless public=false or internal=false leaves them out, with bodies as
// plain text.
func (f *Fake) getComments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	flag := func(name string) bool { return q.Get(name) != "false" }
	wantPublic, wantInternal := flag("public"), flag("internal")
	f.mu.Lock()
	rq := f.findRequest(r.PathValue("idOrKey"))
	f.mu.Unlock()
	if rq == nil {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestNotFound))
		return
	}
	is, ok := f.site.Issue(rq.IssueID)
	if !ok {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestNotFound))
		return
	}
	all := []map[string]any{}
	for _, c := range is.Comments {
		if c.Public && !wantPublic || !c.Public && !wantInternal || c.Visibility != "" {
			continue
		}
		author := c.Author
		if author == "" {
			author = "Ticketray Bot"
		}
		all = append(all, map[string]any{
			"id": c.ID, "body": PlainBody(c.Body), "public": c.Public,
			"author":  map[string]any{"displayName": author, "active": true},
			"created": dateDTO(c.Created),
		})
	}
	start, limit := page(r, len(all))
	limit = min(limit, maxCommentPage)
	end := min(start+limit, len(all))
	base := jirafake.BaseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"_expands": []string{}, "size": end - start, "start": start, "limit": limit, "isLastPage": end == len(all),
		"_links": map[string]string{"base": base + "/rest/servicedeskapi", "context": "", "self": base + r.URL.RequestURI()},
		"values": all[start:end],
	})
}

// PlainBody is a stored comment body as the servicedeskapi shows it: the
// text as sent through it, or an ADF document's text, a line per
// paragraph.
func PlainBody(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var node struct {
		Type    string            `json:"type"`
		Text    string            `json:"text"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &node) != nil {
		return ""
	}
	if node.Type == "text" {
		return node.Text
	}
	var parts []string
	for _, c := range node.Content {
		parts = append(parts, PlainBody(c))
	}
	if node.Type == "doc" {
		return strings.Join(parts, "\n")
	}
	return strings.Join(parts, "")
}

func (f *Fake) getServiceDesk(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != ServiceDeskID {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgServiceDeskNotFound))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": ServiceDeskID, "projectId": ProjectID, "projectName": "IT Help Desk", "projectKey": ProjectKey,
		"_links": map[string]string{"self": jirafake.BaseURL(r) + "/rest/servicedeskapi/servicedesk/" + ServiceDeskID},
	})
}

func (f *Fake) getRequestType(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != ServiceDeskID {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgServiceDeskNotFound))
		return
	}
	f.mu.Lock()
	rt, ok := f.requestTypes[r.PathValue("rt")]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgRequestTypeNotFound))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": rt.ID, "name": rt.Name, "description": "", "helpText": "", "serviceDeskId": ServiceDeskID, "portalId": PortalID,
		"groupIds": []string{"12"}, "_expands": []string{"field"},
		"_links": map[string]string{"self": jirafake.BaseURL(r) + "/rest/servicedeskapi/servicedesk/" + ServiceDeskID + "/requesttype/" + rt.ID},
	})
}

func (f *Fake) getCustomers(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != ServiceDeskID {
		writeJSON(w, http.StatusNotFound, ErrorResponse(MsgServiceDeskNotFound))
		return
	}
	q := strings.ToLower(r.URL.Query().Get("query"))
	f.mu.Lock()
	var match []map[string]any
	for _, c := range f.customers {
		if strings.Contains(strings.ToLower(c.Email), q) || strings.Contains(strings.ToLower(c.DisplayName), q) {
			match = append(match, map[string]any{"accountId": c.AccountID, "emailAddress": c.Email, "displayName": c.DisplayName, "active": true, "timeZone": "UTC"})
		}
	}
	f.mu.Unlock()
	start, limit := page(r, len(match))
	end := min(start+limit, len(match))
	values := []map[string]any{}
	if start < end {
		values = match[start:end]
	}
	base := jirafake.BaseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"_expands": []string{}, "size": end - start, "start": start, "limit": limit, "isLastPage": end == len(match),
		"_links": map[string]string{"base": base + "/rest/servicedeskapi", "context": "", "self": base + r.URL.RequestURI()},
		"values": values,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}

// StartAt serves the fake on addr, reserved earlier with fake.Reserve (or
// a new port for ""), for a server that comes up after clients first
// failed to reach it. A closed fake may be started again; its data is kept.
func (f *Fake) StartAt(addr string) error { return f.Server.Serve(addr, f.handler) }
