package snfake

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

// maxBody bounds a request body, like com.glide.attachment.max_size and
// the REST payload limit bound a real instance's.
const maxBody = 32 << 20

// Error bodies. Those marked "observed" are ServiceNow's own texts (vendor
// docs or captured responses); the others are the fake's wording in
// ServiceNow's format.
var (
	errUnauthenticated = apiError{"User Not Authenticated", "Required to provide Auth information"}                 // observed
	errNoRecord        = apiError{"No Record found", "Record doesn't exist or ACL restricts the record retrieval"}  // observed
	errNoResource      = apiError{"Requested URI does not represent any resource", ""}                              // observed
	errBadJSON         = apiError{"Exception while reading request", "The payload is not valid JSON."}              // observed wording
	errTooLarge        = apiError{"Exception while reading request", "Rejected large REST payload"}                 // observed wording
	errNoAccept        = apiError{"Invalid request", "An Accept header is required (application/json)"}             // fake
	errNotAcceptable   = apiError{"Not acceptable", "snfake serves application/json only"}                          // fake
	errNoContentType   = apiError{"Invalid request", "A Content-Type header is required for a request with a body"} // fake
	errMediaType       = apiError{"Unsupported media type", "snfake accepts application/json request bodies only"}  // fake
	errMethod          = apiError{"Method not Supported", "The HTTP method is not supported for this resource"}     // fake
)

type apiError struct{ message, detail string }

// writeError answers in ServiceNow's error format. A detail of "" is sent
// as null, as ServiceNow does (e.g. "Invalid table x").
func writeError(w http.ResponseWriter, status int, e apiError) {
	var detail any
	if e.detail != "" {
		detail = e.detail
	}
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"message": e.message, "detail": detail},
		"status": "failure",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	f.record(r, body)
	if readErr != nil {
		writeError(w, http.StatusBadRequest, errBadJSON)
		return
	}
	if len(body) > maxBody {
		writeError(w, http.StatusBadRequest, errTooLarge)
		return
	}

	user, ok := authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `BASIC realm="Service-now"`)
		writeError(w, http.StatusUnauthorized, errUnauthenticated)
		return
	}

	kind, tableName, sysID := route(r.URL.Path)
	if kind == "" {
		writeError(w, http.StatusBadRequest, errNoResource)
		return
	}
	if kind == "table" && f.rateLimited(w, user) {
		return
	}

	// REST API docs: every request needs Accept, requests with a body need
	// Content-Type; without them the instance answers 400.
	if status, e, bad := checkAccept(r.Header.Get("Accept")); bad {
		writeError(w, status, e)
		return
	}
	hasBody := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
	if hasBody {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			writeError(w, http.StatusBadRequest, errNoContentType)
			return
		}
		// The Attachment API takes any content type: it is the file's.
		if mt, _, _ := mime.ParseMediaType(ct); kind == "table" && mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, errMediaType)
			return
		}
	}

	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	switch {
	case kind == "attachment" && r.Method == http.MethodPost:
		f.uploadAttachment(w, r, body, user, base)
	case kind == "attachment":
		writeError(w, http.StatusMethodNotAllowed, errMethod)
	case f.table(tableName) == nil:
		writeError(w, http.StatusBadRequest, apiError{"Invalid table " + tableName, ""})
	case sysID == "" && r.Method == http.MethodGet:
		f.list(w, r, tableName, base)
	case sysID == "" && r.Method == http.MethodPost:
		f.insert(w, r, tableName, body, user, base)
	case sysID != "" && r.Method == http.MethodGet:
		f.get(w, r, tableName, sysID, base)
	case sysID != "" && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		f.modify(w, r, tableName, sysID, body, user, base)
	case sysID != "" && r.Method == http.MethodDelete:
		f.delete(w, tableName, sysID)
	default:
		writeError(w, http.StatusMethodNotAllowed, errMethod)
	}
}

func (f *Fake) record(r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: slices.Clone(body),
	})
}

// authenticate returns the user name for valid Basic or Bearer credentials.
func authenticate(r *http.Request) (string, bool) {
	if u, p, ok := r.BasicAuth(); ok {
		if eq(u, Username) && eq(p, Password) {
			return u, true
		}
		return "", false
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && eq(tok, Token) {
		return Username, true
	}
	return "", false
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// route splits /api/now[/v1|/v2]/table/{table}[/{sys_id}] and
// /api/now[/v1]/attachment/file.
func route(path string) (kind, table, sysID string) {
	rest, ok := strings.CutPrefix(path, "/api/now/")
	if !ok {
		return "", "", ""
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) > 0 && len(parts[0]) >= 2 && parts[0][0] == 'v' {
		if _, err := strconv.Atoi(parts[0][1:]); err == nil {
			parts = parts[1:]
		}
	}
	switch {
	case len(parts) == 2 && parts[0] == "table":
		return "table", parts[1], ""
	case len(parts) == 3 && parts[0] == "table":
		return "table", parts[1], parts[2]
	case len(parts) == 2 && parts[0] == "attachment" && parts[1] == "file":
		return "attachment", "", ""
	}
	return "", "", ""
}

// checkAccept reports the error for a missing or unsupported Accept header.
func checkAccept(h string) (int, apiError, bool) {
	if strings.TrimSpace(h) == "" {
		return http.StatusBadRequest, errNoAccept, true
	}
	for _, part := range strings.Split(h, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || mt == "application/*" || mt == "*/*") {
			return 0, apiError{}, false
		}
	}
	return http.StatusNotAcceptable, errNotAcceptable, true
}

// rateLimited applies WithRateLimit and sets the rate-limit headers.
func (f *Fake) rateLimited(w http.ResponseWriter, user string) bool {
	f.mu.Lock()
	if f.rateLimit <= 0 {
		f.mu.Unlock()
		return false
	}
	now := f.now().UTC()
	window := now.Truncate(time.Hour)
	if !window.Equal(f.rlWindow) {
		f.rlWindow, f.rlCount = window, map[string]int{}
	}
	f.rlCount[user]++
	over := f.rlCount[user] > f.rateLimit
	limit := f.rateLimit
	f.mu.Unlock()

	reset := window.Add(time.Hour)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Rule", RateLimitRuleSysID)
	if !over {
		return false
	}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(reset.Sub(now).Seconds()))))
	writeError(w, http.StatusTooManyRequests, apiError{"Rate limit exceeded",
		fmt.Sprintf("Rate limit of %d requests per hour for Table API exceeded", limit)})
	return true
}

func (f *Fake) table(name string) *table {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tables[name]
}

// render turns a stored row into the Table API's JSON: only the requested
// fields (sysparm_fields; unknown names ignored), references as
// {"link","value"} unless sysparm_exclude_reference_link=true, journal
// fields empty. With sysparm_display_value=true each field is its display
// value (a choice's label, a reference's display field); with "all" it is
// {"display_value","value"} (and "link" for a reference). Date-times
// display in UTC, the fake users' time zone. The caller holds f.mu.
func (f *Fake) render(t *table, row map[string]string, r *http.Request, base string) map[string]any {
	q := r.URL.Query()
	names := slices.Sorted(maps.Keys(row))
	if fl := q.Get("sysparm_fields"); fl != "" {
		names = names[:0]
		for _, n := range strings.Split(fl, ",") {
			if n = strings.TrimSpace(n); n != "" {
				if _, ok := row[n]; ok {
					names = append(names, n)
				}
			}
		}
	}
	noLinks := q.Get("sysparm_exclude_reference_link") == "true"
	display := q.Get("sysparm_display_value")
	out := make(map[string]any, len(names))
	for _, n := range names {
		v := row[n]
		if journalFields[n] {
			v = ""
		}
		link := ""
		if t.refs[n] != "" && v != "" && !noLinks {
			link = base + "/api/now/table/" + t.refs[n] + "/" + v
		}
		switch display {
		case "true":
			out[n] = f.displayValue(t, n, v)
		case "all":
			m := map[string]string{"display_value": f.displayValue(t, n, v), "value": v}
			if link != "" {
				m["link"] = link
			}
			out[n] = m
		default:
			if link != "" {
				out[n] = map[string]string{"link": link, "value": v}
			} else {
				out[n] = v
			}
		}
	}
	return out
}

// displayValue is field n's display value for the stored value v. The
// caller holds f.mu.
func (f *Fake) displayValue(t *table, n, v string) string {
	if label, ok := choices[n][v]; ok && t == f.tables["incident"] {
		return label
	}
	if ref := t.refs[n]; ref != "" && v != "" {
		if rt, df := f.tables[ref], displayFields[ref]; rt != nil && df != "" {
			if row := rt.find(v); row != nil {
				return row[df]
			}
		}
		return ""
	}
	return v
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request, name, base string) {
	q := r.URL.Query()
	query, err := parseQuery(q.Get("sysparm_query"))
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{"Invalid query", err.Error()})
		return
	}
	limit := intParam(q.Get("sysparm_limit"), 10000)
	offset := intParam(q.Get("sysparm_offset"), 0)

	f.mu.Lock()
	t := f.tables[name]
	matched := query.apply(t)
	total := len(matched)
	page := matched[min(offset, total):min(offset+limit, total)]
	result := make([]map[string]any, 0, len(page))
	for _, row := range page {
		result = append(result, f.render(t, row, r, base))
	}
	f.mu.Unlock()

	if q.Get("sysparm_no_count") != "true" {
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
}

func intParam(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return def
	}
	return n
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request, name, sysID, base string) {
	f.mu.Lock()
	t := f.tables[name]
	row := t.find(sysID)
	var out map[string]any
	if row != nil {
		out = f.render(t, row, r, base)
	}
	f.mu.Unlock()
	if row == nil {
		writeError(w, http.StatusNotFound, errNoRecord)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

// decodeFields reads a JSON object body into string values, as the
// instance coerces them; a value that is an object or array is ignored.
func decodeFields(body []byte) (map[string]string, bool) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, false
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
			out[k] = ""
		}
	}
	return out, true
}

// required are the fields Ticketray must send on every incident (a
// test-strictness choice: ServiceNow itself requires none of them).
var required = []string{"correlation_id", "correlation_display", "short_description", "urgency", "impact"}

func (f *Fake) insert(w http.ResponseWriter, r *http.Request, name string, body []byte, user, base string) {
	fields, ok := decodeFields(body)
	if !ok {
		writeError(w, http.StatusBadRequest, errBadJSON)
		return
	}
	if name == "incident" {
		var missing []string
		for _, k := range required {
			if strings.TrimSpace(fields[k]) == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			writeError(w, http.StatusBadRequest, apiError{"Missing required fields",
				"snfake requires the fields Ticketray must send: " + strings.Join(missing, ", ")})
			return
		}
		if Priority(fields["urgency"], fields["impact"]) == "" {
			writeError(w, http.StatusBadRequest, apiError{"Invalid field value",
				"snfake requires urgency and impact between 1 and 3"})
			return
		}
	}

	f.mu.Lock()
	t := f.tables[name]
	row := maps.Clone(t.defaults)
	now := f.timestamp()
	sysID := newSysID()
	row["sys_id"] = sysID
	row["sys_created_on"], row["sys_updated_on"] = now, now
	row["sys_created_by"], row["sys_updated_by"] = user, user
	f.apply(t, row, sysID, fields, user)
	if name == "incident" {
		f.nextNumber++
		row["number"] = fmt.Sprintf("INC%07d", 10000+f.nextNumber)
		row["opened_at"] = now
		row["opened_by"] = IntegrationUserSysID
		row["state"], row["incident_state"] = "1", "1"
		row["priority"] = Priority(row["urgency"], row["impact"])
	}
	t.rows = append(t.rows, row)
	out := f.render(t, row, r, base)
	f.mu.Unlock()

	w.Header().Set("Location", base+"/api/now/table/"+name+"/"+sysID)
	writeJSON(w, http.StatusCreated, map[string]any{"result": out})
}

// apply writes client fields to a row: unknown fields and system (sys_*)
// fields are ignored, journal fields become journal entries. The caller
// holds f.mu.
func (f *Fake) apply(t *table, row map[string]string, sysID string, fields map[string]string, user string) {
	for k, v := range fields {
		if _, known := t.defaults[k]; !known || strings.HasPrefix(k, "sys_") || k == "number" {
			continue
		}
		if journalFields[k] {
			f.addJournal(t, sysID, k, v, user)
			continue
		}
		row[k] = v
	}
}

func (f *Fake) modify(w http.ResponseWriter, r *http.Request, name, sysID string, body []byte, user, base string) {
	fields, ok := decodeFields(body)
	if !ok {
		writeError(w, http.StatusBadRequest, errBadJSON)
		return
	}
	f.mu.Lock()
	t := f.tables[name]
	row := t.find(sysID)
	if row == nil {
		f.mu.Unlock()
		writeError(w, http.StatusNotFound, errNoRecord)
		return
	}
	f.apply(t, row, sysID, fields, user)
	if name == "incident" {
		if _, ok := fields["state"]; ok {
			row["incident_state"] = row["state"]
		}
		row["priority"] = Priority(row["urgency"], row["impact"])
	}
	f.touch(row, user)
	out := f.render(t, row, r, base)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

func (f *Fake) delete(w http.ResponseWriter, name, sysID string) {
	f.mu.Lock()
	t := f.tables[name]
	i := slices.IndexFunc(t.rows, func(row map[string]string) bool { return row["sys_id"] == sysID })
	if i >= 0 {
		t.rows = slices.Delete(t.rows, i, i+1)
	}
	f.mu.Unlock()
	if i < 0 {
		writeError(w, http.StatusNotFound, errNoRecord)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// uploadAttachment is POST /api/now/attachment/file: the raw body is the
// file, its Content-Type the file's type.
func (f *Fake) uploadAttachment(w http.ResponseWriter, r *http.Request, body []byte, user, base string) {
	q := r.URL.Query()
	tableName, tableSysID, fileName := q.Get("table_name"), q.Get("table_sys_id"), q.Get("file_name")
	if tableName == "" || tableSysID == "" || fileName == "" {
		writeError(w, http.StatusBadRequest, apiError{"Missing mandatory parameters",
			"table_name, table_sys_id and file_name are required"})
		return
	}
	f.mu.Lock()
	t := f.tables[tableName]
	if t == nil || t.find(tableSysID) == nil {
		f.mu.Unlock()
		writeError(w, http.StatusNotFound, apiError{"Invalid table_sys_id",
			"The record doesn't exist or ACL restricts the record retrieval"})
		return
	}
	a := Attachment{SysID: newSysID(), TableName: tableName, TableSysID: tableSysID, FileName: fileName,
		ContentType: r.Header.Get("Content-Type"), Data: body}
	f.attachments = append(f.attachments, a)
	now := f.timestamp()
	f.mu.Unlock()

	size := strconv.Itoa(len(body))
	link := base + "/api/now/attachment/" + a.SysID + "/file"
	w.Header().Set("Location", base+"/api/now/attachment/"+a.SysID)
	writeJSON(w, http.StatusCreated, map[string]any{"result": map[string]string{
		"average_image_color": "",
		"compressed":          "true",
		"content_type":        a.ContentType,
		"created_by_name":     "Ticketray Integration",
		"download_link":       link,
		"file_name":           fileName,
		"image_height":        "",
		"image_width":         "",
		"size_bytes":          size,
		"size_compressed":     size,
		"sys_created_by":      user,
		"sys_created_on":      now,
		"sys_id":              a.SysID,
		"sys_mod_count":       "0",
		"sys_tags":            "",
		"sys_updated_by":      user,
		"sys_updated_on":      now,
		"table_name":          tableName,
		"table_sys_id":        tableSysID,
		"updated_by_name":     "Ticketray Integration",
	}})
}
