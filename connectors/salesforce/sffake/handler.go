package sffake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBody bounds a request body (the REST API takes JSON bodies of up to
// 50 MB for base64 blobs).
const maxBody = 50 << 20

// timeLayout is how the REST API renders date-times.
const timeLayout = "2006-01-02T15:04:05.000-0700"

// fieldDef is one Case field as describe reports it.
type fieldDef struct {
	name, label, kind     string
	length                int
	externalID, unique    bool
	createable            bool
	updateable            bool
	restricted            bool
	picklist              []string
	nillable, defaultedOn bool
}

// fieldDefs is the Case schema; the caller holds f.mu.
func (f *Fake) fieldDefs() []fieldDef {
	defs := []fieldDef{
		{name: "Id", label: "Case ID", kind: "id", length: 18},
		{name: "CaseNumber", label: "Case Number", kind: "string", length: 30},
		{name: "Subject", label: "Subject", kind: "string", length: 255, createable: true, updateable: true, nillable: true},
		{name: "Description", label: "Description", kind: "textarea", length: 32000, createable: true, updateable: true, nillable: true},
		{name: "Priority", label: "Priority", kind: "picklist", length: 40, createable: true, updateable: true, restricted: true, picklist: []string{"High", "Medium", "Low"}, nillable: true},
		{name: "Origin", label: "Case Origin", kind: "picklist", length: 40, createable: true, updateable: true, restricted: true, picklist: f.origins, nillable: true},
		{name: "Status", label: "Status", kind: "picklist", length: 40, createable: true, updateable: true, picklist: f.statusValues(), defaultedOn: true},
		{name: "Type", label: "Case Type", kind: "picklist", length: 40, createable: true, updateable: true, picklist: []string{"Mechanical", "Electrical", "Electronic", "Structural", "Other"}, nillable: true},
		{name: "Reason", label: "Case Reason", kind: "picklist", length: 40, createable: true, updateable: true, picklist: []string{"Installation", "Equipment Complexity", "Performance", "Breakdown", "Equipment Design", "Feedback", "Other"}, nillable: true},
		{name: "SuppliedEmail", label: "Web Email", kind: "email", length: 80, createable: true, updateable: true, nillable: true},
		{name: "SuppliedName", label: "Web Name", kind: "string", length: 80, createable: true, updateable: true, nillable: true},
		{name: "IsClosed", label: "Closed", kind: "boolean"},
		{name: "OwnerId", label: "Owner ID", kind: "reference", length: 18},
		{name: "CreatedById", label: "Created By ID", kind: "reference", length: 18},
		{name: "CreatedDate", label: "Created Date", kind: "datetime"},
		{name: "LastModifiedDate", label: "Last Modified Date", kind: "datetime"},
		{name: "SystemModstamp", label: "System Modstamp", kind: "datetime"},
	}
	if !f.noExtField {
		defs = append(defs, fieldDef{name: ExternalIDField, label: "Ticketray Key", kind: "string", length: 255, externalID: true, unique: true, createable: true, updateable: true, nillable: true})
	}
	return append(defs, f.extra...)
}

func (f *Fake) statusValues() []string {
	out := make([]string, len(f.statuses))
	for i, s := range f.statuses {
		out[i] = s.Value
	}
	return out
}

func (f *Fake) field(name string) (fieldDef, bool) {
	for _, d := range f.fieldDefs() {
		if strings.EqualFold(d.name, name) {
			return d, true
		}
	}
	return fieldDef{}, false
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	f.record(r, body)
	if len(body) > maxBody {
		writeErr(w, http.StatusRequestEntityTooLarge, "JSON_PARSER_ERROR", "Request body too large")
		return
	}
	if status := requestTooLarge(r); status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	switch {
	case r.URL.Path == "/services/oauth2/token":
		f.token(w, r, body)
		return
	case !strings.HasPrefix(r.URL.Path, "/services/data/"):
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if !f.authenticated(r) {
		writeErr(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if !f.countCall(w) {
		writeErr(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	ver, rest, ok := splitVersion(r.URL.Path)
	if !ok {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if a := r.Header.Get("Accept"); a != "" && !acceptsJSON(a) {
		writeErr(w, http.StatusNotAcceptable, "UNSUPPORTED_MEDIA_TYPE", "sffake answers application/json only")
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeErr(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type header specified in HTTP request is not supported: "+r.Header.Get("Content-Type"))
			return
		}
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "query":
		f.only(w, r, []string{"GET"}, func() { f.query(w, r, ver) })
	case len(parts) == 2 && parts[0] == "query":
		f.only(w, r, []string{"GET"}, func() { f.queryMore(w, ver, parts[1]) })
	case len(parts) == 3 && parts[0] == "sobjects" && parts[1] == "Case" && parts[2] == "describe":
		f.only(w, r, []string{"GET"}, func() { f.describe(w) })
	case len(parts) == 4 && parts[0] == "sobjects" && parts[1] == "Case":
		f.only(w, r, []string{"PATCH"}, func() { f.upsert(w, ver, parts[2], parts[3], body) })
	case len(parts) == 3 && parts[0] == "sobjects" && parts[1] == "Case":
		f.only(w, r, []string{"GET"}, func() { f.get(w, r, ver, parts[2]) })
	case len(parts) == 2 && parts[0] == "sobjects" && parts[1] == "CaseComment":
		f.only(w, r, []string{"POST"}, func() { f.createComment(w, body) })
	case len(parts) == 2 && parts[0] == "sobjects" && parts[1] == "ContentVersion":
		f.only(w, r, []string{"POST"}, func() { f.createFile(w, body) })
	default:
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

// maxRequestLine is the REST API's limit on the URI and headers of a
// request together: a longer URI is 414 URI Too Long, longer headers 431
// (Salesforce knowledge article 000386264).
const maxRequestLine = 16384

func requestTooLarge(r *http.Request) int {
	n := len(r.RequestURI)
	if n > maxRequestLine {
		return http.StatusRequestURITooLong
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	if n > maxRequestLine {
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return 0
}

func (f *Fake) only(w http.ResponseWriter, r *http.Request, methods []string, h func()) {
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ","))
		writeErr(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, strings.Join(methods, ",")))
		return
	}
	h()
}

func acceptsJSON(h string) bool {
	for _, part := range strings.Split(h, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || mt == "application/*" || mt == "*/*") {
			return true
		}
	}
	return false
}

// splitVersion splits /services/data/vNN.N/rest; versions 31.0 to
// MaxVersion exist.
func splitVersion(p string) (ver, rest string, ok bool) {
	s := strings.TrimPrefix(p, "/services/data/")
	v, rest, _ := strings.Cut(s, "/")
	num, found := strings.CutPrefix(v, "v")
	major, minor, dot := strings.Cut(num, ".")
	n, err := strconv.Atoi(major)
	if !found || !dot || minor != "0" || err != nil || n < 31 || n > MaxVersion {
		return "", "", false
	}
	return v, rest, true
}

func (f *Fake) record(r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: bytes.Clone(body)})
	f.violations = append(f.violations, checkShape(r)...)
}

func (f *Fake) authenticated(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "OAuth ")
	}
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.sessions {
		if eq(s, tok) {
			return true
		}
	}
	return false
}

// countCall counts an API request and sets Sforce-Limit-Info; false when
// the allowance is used up.
func (f *Fake) countCall(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.enforce && f.apiUsed >= f.apiLimit {
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", f.apiUsed, f.apiLimit))
		return false
	}
	f.apiUsed++
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", f.apiUsed, f.apiLimit))
	return true
}

// token is the My Domain token endpoint, client credentials flow only.
func (f *Fake) token(w http.ResponseWriter, r *http.Request, body []byte) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		oauthErr(http.StatusBadRequest, "invalid_request", "unsupported content type")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	case !eq(id, ClientID) || !eq(secret, ClientSecret):
		oauthErr(http.StatusBadRequest, "invalid_client", "invalid client credentials")
	case f.noRunAs:
		oauthErr(http.StatusBadRequest, "invalid_grant", "no client credentials user enabled")
	default:
		f.mu.Lock()
		f.seq++
		tok := fmt.Sprintf("00DFK0000000001!AQ4AQSession%06d", f.seq)
		f.sessions[tok] = true
		f.mu.Unlock()
		base := "http://" + r.Host
		writeJSON(w, http.StatusOK, map[string]string{
			"access_token": tok,
			"signature":    base64.StdEncoding.EncodeToString([]byte("sig-" + tok)),
			"scope":        "api",
			"instance_url": base,
			"id":           base + "/id/00DFK0000000001AAA/005FK0000000001AAA",
			"token_type":   "Bearer",
			"issued_at":    strconv.FormatInt(f.now().UnixMilli(), 10),
		})
	}
}

func (f *Fake) describe(w http.ResponseWriter) {
	f.mu.Lock()
	defs := f.fieldDefs()
	readOnly := f.readOnly
	f.mu.Unlock()
	fields := make([]map[string]any, 0, len(defs))
	for _, d := range defs {
		var pl []map[string]any
		for _, v := range d.picklist {
			pl = append(pl, map[string]any{"active": true, "defaultValue": v == "New", "label": v, "validFor": nil, "value": v})
		}
		if pl == nil {
			pl = []map[string]any{}
		}
		fields = append(fields, map[string]any{
			"name": d.name, "label": d.label, "type": d.kind, "length": d.length,
			"externalId": d.externalID, "unique": d.unique, "idLookup": d.externalID || d.name == "Id",
			"createable": d.createable && !readOnly, "updateable": d.updateable && !readOnly,
			"nillable": d.nillable, "defaultedOnCreate": d.defaultedOn, "custom": strings.HasSuffix(d.name, "__c"),
			"restrictedPicklist": d.restricted, "picklistValues": pl,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "Case", "label": "Case", "keyPrefix": "500", "custom": false,
		"createable": !readOnly, "updateable": !readOnly, "queryable": true, "deletable": !readOnly,
		"fields": fields,
	})
}

// checkFields validates an upsert body; the caller holds f.mu. It returns
// the values to store or writes the error.
func (f *Fake) checkFields(w http.ResponseWriter, body []byte, extField string) (map[string]string, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not a JSON object")
		return nil, false
	}
	out := map[string]string{}
	for k, v := range raw {
		d, known := f.field(k)
		switch {
		case !known:
			writeErr(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type Case", k))
			return nil, false
		case strings.EqualFold(k, "Id") || strings.EqualFold(k, extField):
			writeErr(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("The field %s can't be in the request body of an upsert by %s: it is in the URL", d.name, extField), d.name)
			return nil, false
		case !d.createable || f.readOnly:
			writeErr(w, http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE",
				fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", d.name), d.name)
			return nil, false
		}
		if string(v) == "null" {
			out[d.name] = ""
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of %s from %s value", d.kind, firstToken(v)))
			return nil, false
		}
		if n := utf8.RuneCountInString(s); n > d.length {
			writeErr(w, http.StatusBadRequest, "STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: (max length=%d)", d.label, d.length), d.name)
			return nil, false
		}
		if d.restricted && !slices.Contains(d.picklist, s) {
			writeErr(w, http.StatusBadRequest, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fmt.Sprintf("%s: bad value for restricted picklist field: %s", d.label, s), d.name)
			return nil, false
		}
		if d.kind == "email" && s != "" {
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				writeErr(w, http.StatusBadRequest, "INVALID_EMAIL_ADDRESS", fmt.Sprintf("%s: invalid email address: %s", d.label, s), d.name)
				return nil, false
			}
		}
		out[d.name] = s
	}
	// A test-strictness choice: what Ticketray must send on every Case.
	var missing []string
	for _, k := range []string{"Subject", "Priority", "Origin"} {
		if strings.TrimSpace(out[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		writeErr(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
		return nil, false
	}
	return out, true
}

func firstToken(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	switch {
	case strings.HasPrefix(s, "{"):
		return "START_OBJECT"
	case strings.HasPrefix(s, "["):
		return "START_ARRAY"
	case s == "true" || s == "false":
		return "VALUE_" + strings.ToUpper(s)
	}
	return "VALUE_NUMBER"
}

// upsert is PATCH /sobjects/Case/<field>/<value>.
func (f *Fake) upsert(w http.ResponseWriter, ver, field, value string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.field(field)
	if !ok || !d.externalID {
		// The REST API guide's answer for an incorrect external ID field
		// (dome_upsert): the resource does not exist.
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	fields, ok := f.checkFields(w, body, d.name)
	if !ok {
		return
	}
	var matches []*Case
	for _, c := range f.cases {
		if strings.EqualFold(c.Fields[d.name], value) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		fields[d.name] = value
		c := f.insert(fields)
		w.Header().Set("Location", "/services/data/"+ver+"/sobjects/Case/"+c.ID)
		writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "success": true, "errors": []any{}, "created": true})
	case 1:
		c := matches[0]
		for k, v := range fields {
			c.Fields[k] = v
		}
		c.LastModified = f.now().UTC()
		if f.update204 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "success": true, "errors": []any{}, "created": false})
	default:
		urls := make([]string, len(matches))
		for i, c := range matches {
			urls[i] = "/services/data/" + ver + "/sobjects/Case/" + c.ID
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
	}
}

// render is a Case as the REST API returns it: attributes, then the
// fields asked for (all when names is empty).
func (f *Fake) render(c *Case, ver string, names []string) map[string]any {
	out := map[string]any{"attributes": map[string]string{"type": "Case", "url": "/services/data/" + ver + "/sobjects/Case/" + c.ID}}
	if len(names) == 0 {
		for _, d := range f.fieldDefs() {
			names = append(names, d.name)
		}
	}
	for _, n := range names {
		d, _ := f.field(n)
		switch d.name {
		case "Id":
			out["Id"] = c.ID
		case "IsClosed":
			out["IsClosed"] = c.Fields["IsClosed"] == "true"
		case "CreatedDate":
			out["CreatedDate"] = c.Created.Format(timeLayout)
		case "LastModifiedDate", "SystemModstamp":
			out[d.name] = c.LastModified.Format(timeLayout)
		default:
			if v, ok := c.Fields[d.name]; ok && v != "" {
				out[d.name] = v
			} else {
				out[d.name] = nil
			}
		}
	}
	return out
}

// get is GET /sobjects/Case/<id>[?fields=a,b].
func (f *Fake) get(w http.ResponseWriter, r *http.Request, ver, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	if fl := r.URL.Query().Get("fields"); fl != "" {
		for _, n := range strings.Split(fl, ",") {
			n = strings.TrimSpace(n)
			if _, ok := f.field(n); !ok {
				writeErr(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity 'Case'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", n))
				return
			}
			names = append(names, n)
		}
	}
	c := f.findCase(id)
	if c == nil {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	writeJSON(w, http.StatusOK, f.render(c, ver, names))
}

// query is GET /query?q=<SOQL>.
func (f *Fake) query(w http.ResponseWriter, r *http.Request, ver string) {
	q, err := parseQuery(r.URL.Query().Get("q"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "MALFORMED_QUERY", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out, err := f.run(q, ver)
	if err != nil {
		e, _ := err.(*soqlError)
		writeErr(w, http.StatusBadRequest, e.code, e.msg)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// queryMore is GET /query/<locator>: the next batch of a query's results.
func (f *Fake) queryMore(w http.ResponseWriter, ver, locator string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, ok := f.more(ver, locator)
	if !ok {
		writeErr(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// createComment is POST /sobjects/CaseComment.
func (f *Fake) createComment(w http.ResponseWriter, body []byte) {
	var in struct {
		ParentID    *string `json:"ParentId"`
		CommentBody *string `json:"CommentBody"`
		IsPublished *bool   `json:"IsPublished"`
	}
	if !decodeStrict(w, body, &in, "CaseComment") {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case in.ParentID == nil || in.CommentBody == nil || strings.TrimSpace(*in.CommentBody) == "":
		writeErr(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [ParentId, CommentBody]", "ParentId", "CommentBody")
		return
	case utf8.RuneCountInString(*in.CommentBody) > 4000:
		writeErr(w, http.StatusBadRequest, "STRING_TOO_LONG", "Body: data value too large: (max length=4000)", "CommentBody")
		return
	case f.findCase(*in.ParentID) == nil:
		writeErr(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Parent Case ID: id value of incorrect type: "+*in.ParentID, "ParentId")
		return
	}
	id := f.addComment(f.findCase(*in.ParentID).ID, *in.CommentBody, in.IsPublished != nil && *in.IsPublished, IntegrationUserID)
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

// createFile is POST /sobjects/ContentVersion with the file base64 in
// VersionData.
func (f *Fake) createFile(w http.ResponseWriter, body []byte) {
	var in struct {
		Title                  *string `json:"Title"`
		PathOnClient           *string `json:"PathOnClient"`
		VersionData            *string `json:"VersionData"`
		FirstPublishLocationID *string `json:"FirstPublishLocationId"`
	}
	if !decodeStrict(w, body, &in, "ContentVersion") {
		return
	}
	if in.PathOnClient == nil || in.VersionData == nil || *in.PathOnClient == "" {
		writeErr(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [PathOnClient, VersionData]", "PathOnClient", "VersionData")
		return
	}
	data, err := base64.StdEncoding.DecodeString(*in.VersionData)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Cannot deserialize instance of base64 from VALUE_STRING value: not valid base64")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	loc := ""
	if in.FirstPublishLocationID != nil {
		loc = *in.FirstPublishLocationID
		if f.findCase(loc) == nil {
			writeErr(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "First Publish Location ID: id value of incorrect type: "+loc, "FirstPublishLocationId")
			return
		}
	}
	title := *in.PathOnClient
	if in.Title != nil {
		title = *in.Title
	}
	f.seq++
	id := fmt.Sprintf("068FK%010dAAA", f.seq)
	f.files = append(f.files, File{ID: id, Title: title, PathOnClient: *in.PathOnClient, FirstPublishLocationID: loc, Data: data})
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

// decodeStrict decodes a JSON object, refusing fields the struct lacks as
// the org refuses unknown columns.
func decodeStrict(w http.ResponseWriter, body []byte, v any, object string) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			writeErr(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column %s on sobject of type %s", strings.ReplaceAll(name, `"`, "'"), object))
			return false
		}
		writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON for "+object)
		return false
	}
	return true
}
