package zdfake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

// maxBody bounds a request body (Zendesk's attachment limit is 50 MB).
const maxBody = 50 << 20

// maxKey is the longest Idempotency-Key Zendesk accepts.
const maxKey = 255

// Zendesk's error texts. "observed" ones are from captured responses
// (testdata/samples, and client issue threads for 401); the others are
// the fake's wording in Zendesk's shapes.
const (
	msgCouldNotAuthenticate = "Couldn't authenticate you"                                                                                 // observed
	msgInvalidToken         = "The access token provided is expired, revoked, malformed or invalid for other reasons."                    // observed
	msgForbidden            = "You do not have access to this page. Please contact the account owner of this help desk for further help." // observed
	msgNotFound             = "Not found"                                                                                                 // observed
	msgIdempotentMismatch   = "Request parameters don't match the given idempotency key"                                                  // documented
)

type apiError struct {
	Error       string                   `json:"error"`
	Description string                   `json:"description,omitempty"`
	Details     map[string][]fieldDetail `json:"details,omitempty"`
}

type fieldDetail struct {
	Description string `json:"description"`
	Error       string `json:"error"`
}

func recordInvalid(field, desc, code string) apiError {
	return apiError{Error: "RecordInvalid", Description: "Record validation errors",
		Details: map[string][]fieldDetail{field: {{Description: desc, Error: code}}}}
}

// serve is the vendor handler, after validation and faults.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})

	if !f.allow(w) {
		return
	}
	who, ok := f.authenticate(w, r)
	if !ok {
		return
	}
	if !acceptsJSON(r.Header.Get("Accept")) {
		f.validator.Record("%s %s: no Accept: application/json header", r.Method, r.URL.Path)
		writeText(w, http.StatusBadRequest, "Bad Request: the Accept header must allow application/json")
		return
	}

	path := r.URL.Path
	switch {
	case path == "/api/v2/users/me" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"user": f.renderUser(r, who)})
	case path == "/api/v2/uploads" && r.Method == http.MethodPost:
		f.upload(w, r, body)
	case path == "/api/v2/tickets" || strings.HasPrefix(path, "/api/v2/tickets/"):
		if who.Role == "end-user" {
			writeJSON(w, http.StatusForbidden, map[string]any{"error": map[string]string{"title": "Forbidden", "message": msgForbidden}})
			return
		}
		f.ticketRoutes(w, r, who, body)
	default:
		writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: msgNotFound})
	}
}

func (f *Fake) ticketRoutes(w http.ResponseWriter, r *http.Request, who *User, body []byte) {
	if r.URL.Path == "/api/v2/tickets" {
		switch r.Method {
		case http.MethodGet:
			f.list(w, r)
		case http.MethodPost:
			if f.needJSON(w, r) {
				f.create(w, r, who, body)
			}
		default:
			writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: msgNotFound})
		}
		return
	}
	if r.URL.Path == showManyPath {
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: msgNotFound})
			return
		}
		f.showMany(w, r)
		return
	}
	rest, comments := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v2/tickets/"), "/comments")
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: msgNotFound})
		return
	}
	t := f.ticket(id)
	if t == nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "RecordNotFound", Description: msgNotFound})
		return
	}
	if comments {
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: msgNotFound})
			return
		}
		f.listComments(w, r, t)
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.show(w, r, t)
	case http.MethodPut:
		if f.needJSON(w, r) {
			f.update(w, r, who, t, body)
		}
	default:
		writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: msgNotFound})
	}
}

// allow applies the per-minute rate limit and sets the rate headers Zendesk
// sends on every answer. The caller holds f.mu.
func (f *Fake) allow(w http.ResponseWriter) bool {
	limit := DefaultRateLimit
	if f.rateLimit > 0 {
		limit = f.rateLimit
	}
	now := f.now()
	if win := now.Truncate(time.Minute); !win.Equal(f.rlWindow) {
		f.rlWindow, f.rlCount = win, 0
	}
	f.rlCount++
	w.Header().Set("X-Rate-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(max(limit-f.rlCount, 0)))
	if f.rateLimit > 0 && f.rlCount > limit {
		wait := int(f.rlWindow.Add(time.Minute).Sub(now).Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(max(wait, 1)))
		writeText(w, http.StatusTooManyRequests, "Too Many Requests")
		return false
	}
	return true
}

// authenticate accepts "<email>/token:<token>" Basic credentials and
// OAuth bearer tokens. The caller holds f.mu.
func (f *Fake) authenticate(w http.ResponseWriter, r *http.Request) (*User, bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		switch {
		case secureEqual(cred, OAuthToken):
			return f.user(AgentID), true
		case secureEqual(cred, EndUserOAuthToken):
			return f.user(AliceID), true
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": msgInvalidToken})
		return nil, false
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		user, pass, _ := strings.Cut(string(raw), ":")
		email, isToken := strings.CutSuffix(user, "/token")
		// Password access to the API is off: only API tokens pass.
		if err == nil && isToken && equalFold(email, Email) && secureEqual(pass, APIToken) {
			return f.user(AgentID), true
		}
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Web Password"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": msgCouldNotAuthenticate})
	return nil, false
}

// needJSON enforces Content-Type: application/json on a ticket write.
func (f *Fake) needJSON(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		f.validator.Record("%s %s: Content-Type is %q, want application/json", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		writeText(w, http.StatusBadRequest, "Bad Request: Content-Type must be application/json")
		return false
	}
	return true
}

// ticketInput is the part of TicketObject the fake understands.
type ticketInput struct {
	Subject    *string         `json:"subject"`
	Comment    *commentInput   `json:"comment"`
	Priority   *string         `json:"priority"`
	Status     *string         `json:"status"`
	Type       *string         `json:"type"`
	Tags       json.RawMessage `json:"tags"`
	ExternalID *string         `json:"external_id"`
	Requester  json.RawMessage `json:"requester"`
	GroupID    *int64          `json:"group_id"`
	BrandID    *int64          `json:"brand_id"`
}

type commentInput struct {
	AuthorID *int64   `json:"author_id"`
	Body     string   `json:"body"`
	HTMLBody string   `json:"html_body"`
	Public   *bool    `json:"public"`
	Uploads  []string `json:"uploads"`
}

func decodeTicket(body []byte) (*ticketInput, *apiError) {
	var in struct {
		Ticket *ticketInput `json:"ticket"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{Error: "InvalidValue", Description: "The request body is not valid JSON"}
	}
	if in.Ticket == nil {
		return nil, &apiError{Error: "ParameterMissing", Description: "Parameter ticket is required"}
	}
	return in.Ticket, nil
}

// create handles POST /api/v2/tickets, with the Idempotency-Key. The
// caller holds f.mu.
func (f *Fake) create(w http.ResponseWriter, r *http.Request, who *User, body []byte) {
	key := r.Header.Get("Idempotency-Key")
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if key != "" {
		if len(key) > maxKey {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "InvalidValue", Description: "Idempotency-Key is too long"})
			return
		}
		if e, ok := f.keys[key]; ok && f.now().Before(e.expires) {
			if e.bodyHash != hash {
				writeJSON(w, http.StatusBadRequest, apiError{Error: "IdempotentRequestError", Description: msgIdempotentMismatch})
				return
			}
			for k, vs := range e.header {
				w.Header()[k] = slices.Clone(vs)
			}
			w.Header().Set("x-idempotency-lookup", "hit")
			w.WriteHeader(e.status)
			w.Write(e.body)
			return
		}
		delete(f.keys, key)
		w.Header().Set("x-idempotency-lookup", "miss")
	}
	in, apiErr := decodeTicket(body)
	if apiErr != nil {
		writeJSON(w, http.StatusBadRequest, apiErr)
		return
	}
	t, status, errBody := f.newTicket(in, who)
	if errBody != nil {
		writeJSON(w, status, errBody)
		return
	}
	f.tickets = append(f.tickets, t)
	out, _ := json.Marshal(map[string]any{"ticket": f.render(r, t)})
	loc := f.ticketURL(r, t.ID)
	w.Header().Set("Location", loc)
	if key != "" {
		f.keys[key] = &idemEntry{bodyHash: hash, status: http.StatusCreated, body: out,
			header:  http.Header{"Location": {loc}, "Content-Type": {"application/json; charset=utf-8"}},
			expires: f.now().Add(KeyLifetime)}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	w.Write(out)
}

// newTicket builds a ticket from a create request, or the error answer.
func (f *Fake) newTicket(in *ticketInput, who *User) (*Ticket, int, any) {
	now := f.now().UTC()
	if in.Comment == nil || (strings.TrimSpace(in.Comment.Body) == "" && strings.TrimSpace(in.Comment.HTMLBody) == "") {
		return nil, http.StatusUnprocessableEntity, recordInvalid("description", "Description: cannot be blank", "BlankValue")
	}
	if in.ExternalID == nil || strings.TrimSpace(*in.ExternalID) == "" {
		// Stricter than Zendesk: see the package comment.
		return nil, http.StatusUnprocessableEntity, recordInvalid("external_id", "External ID: cannot be blank (zdfake requires it)", "BlankValue")
	}
	t := &Ticket{Status: "new", RequesterID: who.ID, SubmitterID: who.ID, BrandID: DefaultBrandID,
		ExternalID: *in.ExternalID, CreatedAt: now, UpdatedAt: now}
	if in.Subject != nil {
		t.Subject = *in.Subject
	}
	if in.Priority != nil {
		t.Priority = *in.Priority
	}
	if in.Status != nil && *in.Status != "" {
		t.Status = *in.Status
	}
	if in.Type != nil {
		t.Type = *in.Type
	}
	if in.GroupID != nil && *in.GroupID != 0 {
		if _, ok := f.groups[*in.GroupID]; !ok {
			return nil, http.StatusUnprocessableEntity, recordInvalid("group", "Group: is invalid", "InvalidValue")
		}
		t.GroupID = *in.GroupID
	}
	if in.BrandID != nil && *in.BrandID != 0 {
		if _, ok := f.brands[*in.BrandID]; !ok {
			return nil, http.StatusUnprocessableEntity, recordInvalid("brand", "Brand: is invalid", "InvalidValue")
		}
		t.BrandID = *in.BrandID
	}
	tags, err := parseTags(in.Tags)
	if err != nil {
		return nil, http.StatusUnprocessableEntity, recordInvalid("tags", "Tags: is invalid", "InvalidValue")
	}
	t.Tags = tags
	if len(in.Requester) > 0 && string(in.Requester) != "null" {
		u, e := f.requester(in.Requester)
		if e != nil {
			return nil, http.StatusUnprocessableEntity, *e
		}
		t.RequesterID = u.ID
	}
	c, status, e := f.comment(in.Comment, t.RequesterID)
	if e != nil {
		return nil, status, e
	}
	c.Public = true // the first comment is always public
	t.Description = c.Body
	if t.Subject == "" {
		t.Subject = firstLine(c.Body)
	}
	t.ID = f.id()
	t.Comments = []Comment{c}
	f.audit(t, who.ID, []map[string]any{
		{"id": f.id(), "type": "Create", "field_name": "status", "value": t.Status},
		commentEvent(c),
	})
	return t, 0, nil
}

// requester finds or creates the requester of a new ticket. The caller
// holds f.mu.
func (f *Fake) requester(raw json.RawMessage) (*User, *apiError) {
	var id int64
	if json.Unmarshal(raw, &id) == nil {
		if u := f.user(id); u != nil {
			return u, nil
		}
		e := recordInvalid("requester", "Requester: is invalid", "InvalidValue")
		return nil, &e
	}
	var obj struct{ Name, Email string }
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Email == "" {
		e := recordInvalid("requester", "Requester: Email: cannot be blank", "BlankValue")
		return nil, &e
	}
	if a, err := mail.ParseAddress(obj.Email); err != nil || a.Address != obj.Email {
		e := recordInvalid("requester", "Requester: Email: "+obj.Email+" is not properly formatted", "InvalidFormat")
		return nil, &e
	}
	if u := f.userByEmail(obj.Email); u != nil {
		return u, nil
	}
	if strings.TrimSpace(obj.Name) == "" {
		e := recordInvalid("requester", "Requester: Name: is too short (minimum one character)", "TooShort")
		return nil, &e
	}
	u := &User{ID: 362000000000 + f.id(), Name: obj.Name, Email: obj.Email, Role: "end-user"}
	f.users = append(f.users, u)
	return u, nil
}

// comment builds a comment, consuming its upload tokens. The caller holds
// f.mu.
func (f *Fake) comment(in *commentInput, author int64) (Comment, int, any) {
	body := in.Body
	if body == "" {
		body = in.HTMLBody
	}
	if in.AuthorID != nil && *in.AuthorID != 0 {
		if f.user(*in.AuthorID) == nil {
			return Comment{}, http.StatusUnprocessableEntity, recordInvalid("author_id", "Author: is invalid", "InvalidValue")
		}
		author = *in.AuthorID
	}
	c := Comment{ID: f.id(), AuthorID: author, Body: body, Public: in.Public == nil || *in.Public, CreatedAt: f.now().UTC()}
	for _, tok := range in.Uploads {
		u, ok := f.uploads[tok]
		if !ok || !f.now().Before(u.expires) {
			return Comment{}, http.StatusUnprocessableEntity, recordInvalid("uploads", "Uploads: token "+tok+" is invalid or expired", "InvalidValue")
		}
		c.Attachments = append(c.Attachments, u.files...)
		delete(f.uploads, tok)
	}
	if strings.TrimSpace(c.Body) == "" {
		return Comment{}, http.StatusUnprocessableEntity, recordInvalid("comment", "Comment: cannot be blank", "BlankValue")
	}
	return c, 0, nil
}

// update handles PUT /api/v2/tickets/{id}. The caller holds f.mu.
func (f *Fake) update(w http.ResponseWriter, r *http.Request, who *User, t *Ticket, body []byte) {
	in, apiErr := decodeTicket(body)
	if apiErr != nil {
		writeJSON(w, http.StatusBadRequest, apiErr)
		return
	}
	if t.Status == "closed" {
		writeJSON(w, http.StatusUnprocessableEntity, recordInvalid("status", "Status: closed prevents ticket update", "ClosedPreventsUpdate"))
		return
	}
	var c *Comment
	if in.Comment != nil {
		cm, status, e := f.comment(in.Comment, who.ID)
		if e != nil {
			writeJSON(w, status, e)
			return
		}
		c = &cm
	}
	var events []map[string]any
	if c != nil {
		t.Comments = append(t.Comments, *c)
		events = append(events, commentEvent(*c))
	}
	if in.Priority != nil && *in.Priority != t.Priority {
		events = append(events, changeEvent(f.id(), "priority", *in.Priority, t.Priority))
		t.Priority = *in.Priority
	}
	if in.Status != nil && *in.Status != "" && *in.Status != t.Status {
		events = append(events, changeEvent(f.id(), "status", *in.Status, t.Status))
		t.Status = *in.Status
	}
	f.audit(t, who.ID, events)
	writeJSON(w, http.StatusOK, map[string]any{"ticket": f.render(r, t)})
}

// list handles GET /api/v2/tickets, with external_id. The caller holds
// f.mu.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	_, byExternal := q["external_id"]
	ext := q.Get("external_id")
	perPage := 100
	if v := q.Get("per_page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			perPage = min(n, 100)
		}
	}
	out := []any{}
	n := 0
	for _, t := range f.tickets {
		if byExternal && t.ExternalID != ext {
			continue
		}
		n++
		if len(out) < perPage {
			out = append(out, f.render(r, t))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out, "next_page": nil, "previous_page": nil, "count": n})
}

// upload handles POST /api/v2/uploads. The caller holds f.mu.
func (f *Fake) upload(w http.ResponseWriter, r *http.Request, body []byte) {
	name := r.URL.Query().Get("filename")
	if name == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "ParameterMissing", Description: "Parameter filename is required"})
		return
	}
	if len(body) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, recordInvalid("uploaded_data", "Uploaded data: cannot be blank", "BlankValue"))
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	a := Attachment{ID: 363000000000 + f.id(), FileName: name, ContentType: ct, Data: slices.Clone(body)}
	u, ok := f.uploads[r.URL.Query().Get("token")]
	if !ok {
		u = &upload{token: newToken()}
		f.uploads[u.token] = u
	}
	u.files = append(u.files, a)
	u.expires = f.now().Add(UploadLifetime)
	all := make([]any, len(u.files))
	for i, a := range u.files {
		all[i] = f.renderAttachment(r, a)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"upload": map[string]any{
		"token": u.token, "attachment": f.renderAttachment(r, a), "attachments": all}})
}

func (f *Fake) base(r *http.Request) string { return "http://" + r.Host }

func (f *Fake) ticketURL(r *http.Request, id int64) string {
	return fmt.Sprintf("%s/api/v2/tickets/%d.json", f.base(r), id)
}

// render is a ticket as the Tickets API answers it (only fields the spec
// allows in a response: no writeOnly ones).
func (f *Fake) render(r *http.Request, t *Ticket) map[string]any {
	nullable := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id": t.ID, "url": f.ticketURL(r, t.ID), "external_id": str(t.ExternalID),
		"subject": t.Subject, "raw_subject": t.Subject, "description": t.Description,
		"priority": str(t.Priority), "status": t.Status, "type": str(t.Type), "tags": tags,
		"requester_id": t.RequesterID, "submitter_id": t.SubmitterID, "assignee_id": nullable(t.AssigneeID),
		"organization_id": nil, "group_id": nullable(t.GroupID), "brand_id": t.BrandID,
		"collaborator_ids": []int64{}, "follower_ids": []int64{}, "email_cc_ids": []int64{},
		"has_incidents": false, "is_public": true, "allow_attachments": true, "allow_channelback": false,
		"created_at": t.CreatedAt.Format(time.RFC3339), "updated_at": t.UpdatedAt.Format(time.RFC3339),
		"generated_timestamp": t.UpdatedAt.Unix(), "custom_fields": []any{}, "fields": []any{},
	}
}

func (f *Fake) renderAttachment(r *http.Request, a Attachment) map[string]any {
	url := fmt.Sprintf("%s/api/v2/attachments/%d.json", f.base(r), a.ID)
	return map[string]any{"id": a.ID, "file_name": a.FileName, "content_type": a.ContentType, "size": len(a.Data),
		"url": url, "content_url": url, "mapped_content_url": url, "inline": false, "deleted": false}
}

func (f *Fake) renderUser(r *http.Request, u *User) map[string]any {
	return map[string]any{"id": u.ID, "url": fmt.Sprintf("%s/api/v2/users/%d.json", f.base(r), u.ID),
		"name": u.Name, "email": u.Email, "role": u.Role, "verified": true, "active": true,
		"time_zone": "UTC", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
}

// parseTags reads tags as Zendesk does: an array, or one string of
// space-separated tags; lowercase, no blanks.
func parseTags(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		list = []string{s}
	}
	var out []string
	for _, t := range list {
		for _, p := range strings.Fields(strings.ToLower(t)) {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 150 {
		s = s[:150]
	}
	return s
}

func acceptsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || mt == "application/*" || mt == "*/*") {
			return true
		}
	}
	return false
}

func secureEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json; charset=utf-8", v)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}
