package fsfake

// The ticket handlers: create (JSON or multipart), view, list, form
// fields and notes, with the rules Freshservice applies to each.

import (
	"bytes"
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
	"time"
)

// ticketInput is a create request, from JSON or multipart.
type ticketInput struct {
	fields       map[string]any // top-level JSON values (numbers as float64)
	tags         []string
	customFields map[string]any
	attachments  []Attachment
	multipart    bool
}

// createFields are the fields a create request may carry (Freshservice's
// create ticket parameters). Any other is invalid_field.
var createFields = []string{"subject", "description", "email", "requester_id", "phone", "name", "status", "priority",
	"urgency", "impact", "source", "type", "category", "sub_category", "item_category", "group_id", "responder_id",
	"department_id", "workspace_id", "tags", "custom_fields", "cc_emails", "due_by", "fr_due_by"}

func (f *Fake) create(w http.ResponseWriter, r *http.Request, body []byte) {
	in, errs := f.decodeCreate(r, body)
	if len(errs) == 0 {
		errs = f.checkCreate(in)
	}
	if len(errs) > 0 {
		// An unknown category is the account's data, not a malformed
		// request.
		if slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field != "category" }) {
			f.violation("POST /api/v2/tickets: %+v", errs)
		}
		writeInvalid(w, errs...)
		return
	}
	now := f.now().UTC().Truncate(time.Second)
	num := func(k string, def int) int {
		if v, ok := in.fields[k].(float64); ok {
			return int(v)
		}
		return def
	}
	str := func(k string) string { s, _ := in.fields[k].(string); return s }

	f.mu.Lock()
	f.nextID++
	t := &Ticket{ID: f.nextID, Subject: str("subject"), Description: str("description"), Email: str("email"),
		Status: num("status", 2), Priority: num("priority", 1), Urgency: num("urgency", 1), Impact: num("impact", 1),
		Source: num("source", 2), Category: str("category"), Tags: in.tags, CustomFields: map[string]any{},
		WorkspaceID: int64(num("workspace_id", int(PrimaryWorkspaceID))), GroupID: int64(num("group_id", 0)),
		CreatedAt: now, UpdatedAt: now}
	for name := range f.fields {
		t.CustomFields[name] = nil
	}
	maps.Copy(t.CustomFields, in.customFields)
	if t.Email != "" {
		id, ok := f.requesters[strings.ToLower(t.Email)]
		if !ok { // Freshservice adds a requester for an unknown email
			id = 14000000500 + int64(len(f.requesters))
			f.requesters[strings.ToLower(t.Email)] = id
		}
		t.RequesterID = id
	}
	for _, a := range in.attachments {
		f.nextAttID++
		a.ID = f.nextAttID
		t.Attachments = append(t.Attachments, a)
	}
	f.tickets = append(f.tickets, t)
	out := f.render(t, r, true)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"ticket": out})
}

// decodeCreate reads a JSON or multipart create request.
func (f *Fake) decodeCreate(r *http.Request, body []byte) (ticketInput, []FieldError) {
	in := ticketInput{fields: map[string]any{}, customFields: map[string]any{}}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if err := json.Unmarshal(body, &in.fields); err != nil || in.fields == nil {
			return in, []FieldError{{"", "Request body has invalid json format", "invalid_json"}}
		}
		var errs []FieldError
		if raw, ok := in.fields["tags"]; ok {
			list, ok := raw.([]any)
			for _, v := range list {
				s, isStr := v.(string)
				ok = ok && isStr
				in.tags = append(in.tags, s)
			}
			if !ok {
				errs = append(errs, FieldError{"tags", "It should be a/an Array of Strings", "datatype_mismatch"})
			}
		}
		if raw, ok := in.fields["custom_fields"]; ok {
			m, ok := raw.(map[string]any)
			if !ok {
				errs = append(errs, FieldError{"custom_fields", "It should be a/an key/value pair", "datatype_mismatch"})
			}
			in.customFields = m
		}
		delete(in.fields, "tags")
		delete(in.fields, "custom_fields")
		return in, errs
	}
	in.multipart = true
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var errs []FieldError
	total := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return in, []FieldError{{"", "The multipart body could not be read", "invalid_value"}}
		}
		data, _ := io.ReadAll(p)
		name := p.FormName()
		switch {
		case name == "attachments[]":
			if p.FileName() == "" {
				errs = append(errs, FieldError{"attachments", "It should be a/an Array of Files", "datatype_mismatch"})
				continue
			}
			total += len(data)
			ct := p.Header.Get("Content-Type")
			in.attachments = append(in.attachments, Attachment{Name: p.FileName(), ContentType: ct, Data: data})
		case name == "tags[]":
			in.tags = append(in.tags, string(data))
		case strings.HasPrefix(name, "custom_fields[") && strings.HasSuffix(name, "]"):
			in.customFields[name[len("custom_fields["):len(name)-1]] = string(data)
		case slices.Contains([]string{"status", "priority", "urgency", "impact", "source", "group_id", "workspace_id",
			"requester_id", "responder_id", "department_id"}, name):
			n, err := strconv.ParseFloat(string(data), 64)
			if err != nil {
				errs = append(errs, FieldError{name, "It should be a/an Integer", "datatype_mismatch"})
				continue
			}
			in.fields[name] = n
		case slices.Contains(createFields, name):
			in.fields[name] = string(data)
		default:
			errs = append(errs, FieldError{name, "Unexpected/invalid field in request", "invalid_field"})
		}
	}
	if total > maxAttachments {
		errs = append(errs, FieldError{"attachments", "The total size of the attachments cannot exceed 15MB", "invalid_value"})
	}
	return in, errs
}

// checkCreate applies Freshservice's create rules.
func (f *Fake) checkCreate(in ticketInput) []FieldError {
	var errs []FieldError
	for k := range in.fields {
		if !slices.Contains(createFields, k) {
			errs = append(errs, FieldError{k, "Unexpected/invalid field in request", "invalid_field"})
		}
	}
	if s, _ := in.fields["subject"].(string); strings.TrimSpace(s) == "" {
		errs = append(errs, FieldError{"subject", "It should not be blank as this is a mandatory field", "missing_field"})
	}
	if s, _ := in.fields["description"].(string); strings.TrimSpace(s) == "" {
		errs = append(errs, FieldError{"description", "It should not be blank as this is a mandatory field", "missing_field"})
	}
	_, hasEmail := in.fields["email"]
	_, hasReq := in.fields["requester_id"]
	_, hasPhone := in.fields["phone"]
	if !hasEmail && !hasReq && !hasPhone {
		errs = append(errs, FieldError{"requester_id", "Please fill at least 1 of requester_id, phone, email fields", "missing_field"})
	}
	if e, ok := in.fields["email"].(string); hasEmail && (!ok || !strings.Contains(e, "@")) {
		errs = append(errs, FieldError{"email", "It should be in the 'valid email address' format", "invalid_value"})
	}
	for _, rule := range []struct {
		name     string
		lo, hi   int
		required bool
	}{{"status", 2, 5, true}, {"priority", 1, 4, true}, {"urgency", 1, 3, false}, {"impact", 1, 3, false}, {"source", 1, 10, false}} {
		v, ok := in.fields[rule.name]
		if !ok {
			if rule.required {
				errs = append(errs, FieldError{rule.name, "It should not be blank as this is a mandatory field", "missing_field"})
			}
			continue
		}
		n, isNum := v.(float64)
		if !isNum || n != math.Trunc(n) {
			errs = append(errs, FieldError{rule.name, "It should be a/an Integer", "datatype_mismatch"})
			continue
		}
		if int(n) < rule.lo || int(n) > rule.hi {
			errs = append(errs, FieldError{rule.name, fmt.Sprintf("It should be one of these values: '%s'", rangeList(rule.lo, rule.hi)), "invalid_value"})
		}
	}
	if v, ok := in.fields["category"]; ok {
		if c, _ := v.(string); !slices.Contains(f.categories, c) {
			errs = append(errs, FieldError{"category", "It should be one of these values: '" + strings.Join(f.categories, ",") + "'", "invalid_value"})
		}
	}
	if v, ok := in.fields["workspace_id"]; ok {
		if n, _ := v.(float64); int64(n) != PrimaryWorkspaceID && int64(n) != ITWorkspaceID {
			errs = append(errs, FieldError{"workspace_id", "There is no workspace matching the given workspace_id", "invalid_value"})
		}
	}
	if v, ok := in.fields["group_id"]; ok {
		if n, _ := v.(float64); int64(n) != ServiceDeskGroupID && int64(n) != NetworkGroupID {
			errs = append(errs, FieldError{"group_id", "There is no group matching the given group_id", "invalid_value"})
		}
	}
	errs = append(errs, f.checkCustomFields(in)...)
	for _, tag := range in.tags {
		if strings.TrimSpace(tag) == "" || len(tag) > 255 || strings.Contains(tag, ",") {
			errs = append(errs, FieldError{"tags", "It should not contain elements that are blank, longer than 255 characters or hold a comma", "invalid_value"})
			break
		}
	}
	return errs
}

// checkCustomFields checks each custom field value against its field's
// type. A multipart form carries every value as text, which must then
// parse as the type.
func (f *Fake) checkCustomFields(in ticketInput) []FieldError {
	var errs []FieldError
	for _, k := range slices.Sorted(maps.Keys(in.customFields)) {
		v := in.customFields[k]
		typ, ok := f.fields[k]
		if !ok {
			errs = append(errs, FieldError{k, "Unexpected/invalid field in request", "invalid_field"})
			continue
		}
		if v == nil {
			continue
		}
		text, isText := v.(string)
		var good bool
		var want string
		switch typ {
		case "custom_number":
			_, isNum := v.(float64)
			_, err := strconv.ParseInt(text, 10, 64)
			good, want = isNum || (in.multipart && isText && err == nil), "Integer"
		case "custom_checkbox":
			_, isBool := v.(bool)
			good, want = isBool || (in.multipart && (text == "true" || text == "false")), "Boolean"
		case "custom_date":
			_, err := time.Parse("2006-01-02", text)
			good, want = isText && err == nil, "date in the format yyyy-mm-dd"
		default:
			good, want = isText, "String"
		}
		if !good {
			errs = append(errs, FieldError{k, "It should be a/an " + want, "datatype_mismatch"})
		}
	}
	return errs
}

func rangeList(lo, hi int) string {
	var s []string
	for i := lo; i <= hi; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, ",")
}

// render is a ticket as the API returns it. View includes tags and
// attachments; list and filter answers leave tags out (Freshservice
// embeds them only on request). The caller holds f.mu.
func (f *Fake) render(t *Ticket, r *http.Request, view bool) map[string]any {
	var group any
	if t.GroupID != 0 {
		group = t.GroupID
	}
	var category any
	if t.Category != "" {
		category = t.Category
	}
	out := map[string]any{
		"id": t.ID, "subject": t.Subject, "description": t.Description, "description_text": stripTags(t.Description),
		"status": t.Status, "priority": t.Priority, "urgency": t.Urgency, "impact": t.Impact, "source": t.Source,
		"type": "Incident", "category": category, "group_id": group, "requester_id": t.RequesterID, "responder_id": nullID(t.ResponderID),
		"workspace_id": t.WorkspaceID, "custom_fields": maps.Clone(t.CustomFields),
		"created_at": t.CreatedAt.Format(time.RFC3339), "updated_at": t.UpdatedAt.Format(time.RFC3339),
		"spam": false, "is_escalated": false, "fr_escalated": false,
	}
	if view {
		out["tags"] = append([]string{}, t.Tags...)
		atts := []map[string]any{}
		base := "http://" + r.Host
		for _, a := range t.Attachments {
			atts = append(atts, map[string]any{"id": a.ID, "name": a.Name, "content_type": a.ContentType, "size": len(a.Data),
				"attachment_url": fmt.Sprintf("%s/helpdesk/attachments/%d", base, a.ID)})
		}
		out["attachments"] = atts
	}
	return out
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request, idText string) {
	id, err := strconv.ParseInt(idText, 10, 64)
	f.mu.Lock()
	var t *Ticket
	if err == nil {
		t = f.find(id)
	}
	var out map[string]any
	if t != nil {
		out = f.render(t, r, true)
	}
	f.mu.Unlock()
	if t == nil {
		writeCode(w, http.StatusNotFound, "not_found", msgNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": out})
}

// list is GET /api/v2/tickets: the primary workspace's tickets (or
// workspace_id's), updated_since filtering, order_type (default desc,
// newest first), per_page up to 100. It reads the database, not the
// search index, so it is current even WithIndexLag.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perPage, page := intParam(q.Get("per_page"), 30), intParam(q.Get("page"), 1)
	if perPage < 1 || perPage > 100 || page < 1 {
		writeInvalid(w, FieldError{"per_page", "It should be a Positive Integer less than or equal to 100", "invalid_value"})
		return
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.violation("list: updated_since %q is not a UTC date-time", v)
			writeInvalid(w, FieldError{"updated_since", "It should be in the 'valid date-time' format", "invalid_value"})
			return
		}
		since = t
	}
	workspace := PrimaryWorkspaceID
	if v := q.Get("workspace_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeInvalid(w, FieldError{"workspace_id", "It should be a/an Integer", "datatype_mismatch"})
			return
		}
		workspace = n
	}
	order := q.Get("order_type")
	if order != "" && order != "asc" && order != "desc" {
		writeInvalid(w, FieldError{"order_type", "It should be one of these values: 'asc,desc'", "invalid_value"})
		return
	}
	f.mu.Lock()
	var out []map[string]any
	for _, t := range f.tickets { // oldest first
		if t.WorkspaceID == workspace && !t.UpdatedAt.Before(since) {
			out = append(out, f.render(t, r, false))
		}
	}
	f.mu.Unlock()
	if order != "asc" {
		slices.Reverse(out)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": pageOf(out, page, perPage)})
}

func pageOf(list []map[string]any, page, perPage int) []map[string]any {
	start := min((page-1)*perPage, len(list))
	end := min(start+perPage, len(list))
	if list == nil {
		return []map[string]any{}
	}
	return list[start:end]
}

func intParam(s string, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func (f *Fake) formFields(w http.ResponseWriter) {
	f.mu.Lock()
	fields := []map[string]any{
		{"id": 1, "name": "requester", "label": "Requester", "field_type": "default_requester", "default_field": true},
		{"id": 2, "name": "subject", "label": "Subject", "field_type": "default_subject", "default_field": true},
		{"id": 3, "name": "status", "label": "Status", "field_type": "default_status", "default_field": true},
		{"id": 4, "name": "priority", "label": "Priority", "field_type": "default_priority", "default_field": true},
		{"id": 5, "name": "category", "label": "Category", "field_type": "default_category", "default_field": true},
	}
	for i, name := range slices.Sorted(maps.Keys(f.fields)) {
		fields = append(fields, map[string]any{"id": 100 + i, "name": name, "label": name, "field_type": f.fields[name], "default_field": false})
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ticket_fields": fields})
}

func (f *Fake) note(w http.ResponseWriter, r *http.Request, idText string, body []byte) {
	n, fe := decodeNote(r, body)
	if fe == nil && strings.TrimSpace(n.Body) == "" {
		fe = &FieldError{"body", "It should not be blank as this is a mandatory field", "missing_field"}
	}
	if fe != nil {
		if fe.Code != "invalid_value" || fe.Field != "attachments" { // an oversized file is data, not a malformed request
			f.violation("POST notes: %s: %s", fe.Field, fe.Message)
		}
		writeInvalid(w, *fe)
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	f.mu.Lock()
	var t *Ticket
	if err == nil {
		t = f.find(id)
	}
	if t == nil {
		f.mu.Unlock()
		writeCode(w, http.StatusNotFound, "not_found", msgNotFound)
		return
	}
	for i := range n.Attachments {
		f.nextAttID++
		n.Attachments[i].ID = f.nextAttID
	}
	t.UpdatedAt = f.now().UTC().Truncate(time.Second)
	f.nextNoteID++
	n.ID, n.UserID, n.Source, n.CreatedAt = f.nextNoteID, APIAgentID, sourceNote, t.UpdatedAt
	t.Notes = append(t.Notes, n)
	out := renderConversation(t.ID, n)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"conversation": out})
}
