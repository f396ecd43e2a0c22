package bmcfake

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors/fake"
)

// maxBody bounds a request body.
const maxBody = 32 << 20

// arError is one AR status entry. Those marked "observed" are the AR
// server's own texts (captured responses quoted in public client code);
// the others are the fake's wording in the AR format.
type arError struct {
	number int
	text   string
}

var (
	errAuth         = arError{623, "Authentication failed"}                                                               // observed
	errNoEntry      = arError{302, "Entry does not exist in database"}                                                    // observed
	errNoForm       = arError{303, "Form does not exist on server"}                                                       // observed
	errNoField      = arError{314, "Field does not exist on current form"}                                                // observed
	errQual         = arError{1587, "Error in qualification"}                                                             // observed number
	errRequired     = arError{326, "Required field cannot be blank."}                                                     // observed
	errBadValue     = arError{306, "Value does not fall within the limits specified for the field"}                       // observed
	errTooLong      = arError{306, "Value exceeds the length limit for the field"}                                        // fake
	errBadBody      = arError{8960, "The request body is not valid JSON of the form {\"values\":{…}}"}                    // fake
	errMediaType    = arError{8960, "Unsupported media type"}                                                             // fake
	errMethod       = arError{8960, "The HTTP method is not supported for this resource"}                                 // fake
	errNoCustomer   = arError{1291053, "A valid customer is required: Login_ID of a person, or First_Name and Last_Name"} // fake wording
	errNoIncident   = arError{1291053, "The incident of this work info does not exist"}                                   // fake wording
	errAttachment   = arError{8960, "Each attachment field needs its part attach-<field>, and each part its field"}       // fake
	errBadCompany   = arError{1291053, "The company is not a valid company"}                                              // fake wording
	errRateLimited  = arError{9093, "Too many requests; try again later"}                                                 // fake
	errBadLoginBody = arError{8960, "The login takes a form-encoded body with username and password"}                     // fake
)

func writeError(w http.ResponseWriter, status int, e arError, appended string) {
	var app any
	if appended != "" {
		app = appended
	}
	writeJSON(w, status, []map[string]any{{
		"messageType": "ERROR", "messageText": e.text, "messageAppendedText": app, "messageNumber": e.number,
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fake.WriteJSON(w, status, "application/json", v)
}

// refuseBody answers a body that failed to read or is over maxBody.
func refuseBody(w http.ResponseWriter, err error, tooLarge bool) bool {
	if err != nil || tooLarge {
		writeError(w, http.StatusRequestEntityTooLarge, errTooLong, "request body")
		return true
	}
	return false
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.URL.Path == "/api/jwt/login":
		f.record(r, nil)
		f.login(w, r, body)
		return
	case r.URL.Path == "/api/jwt/logout":
		f.record(r, nil)
		f.logout(w, r)
		return
	}
	f.record(r, body)
	form, id, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/arsys/v1/entry/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/api/arsys/v1/entry/") || form == "" || strings.Contains(id, "/") {
		writeError(w, http.StatusNotFound, arError{8960, "Requested resource not found"}, r.URL.Path)
		return
	}
	if !f.authorized(r) {
		writeError(w, http.StatusUnauthorized, errAuth, "")
		return
	}
	if f.rateLimited(w) {
		return
	}
	switch {
	case form == "HPD:IncidentInterface_Create" && !ok && r.Method == http.MethodPost:
		f.create(w, r, body)
	case form == "HPD:Help Desk" && !ok && r.Method == http.MethodGet:
		f.list(w, r, form)
	case form == "HPD:Help Desk" && ok && r.Method == http.MethodGet:
		f.get(w, r, id)
	case form == "HPD:WorkLog" && !ok && r.Method == http.MethodPost:
		f.addWorkLog(w, r, body)
	case form == "HPD:WorkLog" && !ok && r.Method == http.MethodGet:
		f.list(w, r, form)
	case form == "CTM:People" && !ok && r.Method == http.MethodGet:
		f.list(w, r, form)
	case slices.Contains([]string{"HPD:IncidentInterface_Create", "HPD:Help Desk", "HPD:WorkLog", "CTM:People"}, form):
		writeError(w, http.StatusMethodNotAllowed, errMethod, r.Method)
	default:
		writeError(w, http.StatusNotFound, errNoForm, form)
	}
}

func (f *Fake) record(r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: slices.Clone(body)})
}

// login answers POST /api/jwt/login: form-encoded username and password,
// the token as text/plain.
func (f *Fake) login(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, errMethod, r.Method)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form, err := url.ParseQuery(string(body))
	if mt != "application/x-www-form-urlencoded" || err != nil {
		writeError(w, http.StatusBadRequest, errBadLoginBody, "")
		return
	}
	user, pass := form.Get("username"), form.Get("password")
	if !eq(user, Username) || !eq(pass, Password) {
		writeError(w, http.StatusUnauthorized, errAuth, user)
		return
	}
	tok := newToken()
	f.mu.Lock()
	f.tokens[tok] = f.now().Add(f.tokenTTL)
	f.logins++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, tok)
}

func (f *Fake) logout(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "AR-JWT ")
	f.mu.Lock()
	delete(f.tokens, tok)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// authorized accepts only a live AR-JWT.
func (f *Fake) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AR-JWT ")
	if !ok || tok == "" {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.tokens[tok]
	return ok && f.now().Before(exp)
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (f *Fake) rateLimited(w http.ResponseWriter) bool {
	f.mu.Lock()
	if f.rateLimit <= 0 {
		f.mu.Unlock()
		return false
	}
	now := f.now()
	window := now.Truncate(time.Minute)
	if !window.Equal(f.rlWindow) {
		f.rlWindow, f.rlCount = window, 0
	}
	f.rlCount++
	over := f.rlCount > f.rateLimit
	f.mu.Unlock()
	if !over {
		return false
	}
	wait := window.Add(time.Minute).Sub(now)
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeError(w, http.StatusTooManyRequests, errRateLimited, "")
	return true
}

// Field sets of the forms (the subset the fake models).
var (
	createFields = []string{"z1D_Action", "First_Name", "Last_Name", "Login_ID", "Description", "Detailed_Decription",
		"Impact", "Urgency", "Status", "Reported Source", "Service_Type", "Company", "Categorization Tier 1",
		"Categorization Tier 2", "Categorization Tier 3", "Assigned Group", "Assigned Support Company",
		"Assigned Support Organization", "TemplateID", "Incident Number"}
	helpDeskFields = []string{"Request ID", "Incident Number", "Description", "Detailed Decription", "Impact", "Urgency",
		"Priority", "Status", "Reported Source", "Service Type", "Company", "Customer Login ID", "First Name", "Last Name",
		"Categorization Tier 1", "Categorization Tier 2", "Categorization Tier 3", "Assigned Group",
		"Submitter", "Submit Date", "Last Modified Date", "Last Modified By", "Status_Reason", "Assignee", "Assignee Login ID"}
	peopleFields  = []string{"Person ID", "Remedy Login ID", "First Name", "Last Name", "Full Name"}
	workLogFields = []string{"Work Log ID", "Incident Number", "Incident Entry ID", "Work Log Type", "Description",
		"Detailed Description", "View Access", "Secure Work Log", "Submitter", "Submit Date",
		"z2AF Work Log01", "z2AF Work Log02", "z2AF Work Log03"}

	// interfaceToHelpDesk renames interface form fields to HPD:Help Desk's.
	interfaceToHelpDesk = map[string]string{"Detailed_Decription": "Detailed Decription", "Service_Type": "Service Type",
		"First_Name": "First Name", "Last_Name": "Last Name", "Login_ID": "Customer Login ID"}

	selections = map[string][]string{
		"Impact":          {"1-Extensive/Widespread", "2-Significant/Large", "3-Moderate/Limited", "4-Minor/Localized"},
		"Urgency":         {"1-Critical", "2-High", "3-Medium", "4-Low"},
		"Status":          {"New", "Assigned", "In Progress", "Pending", "Resolved", "Closed", "Cancelled"},
		"Reported Source": {"Direct Input", "Email", "External Escalation", "Fax", "Self Service", "Systems Management", "Phone", "Voice Mail", "Walk In", "Web", "Other"},
		"Service_Type":    {"User Service Restoration", "User Service Request", "Infrastructure Restoration", "Infrastructure Event"},
		"Work Log Type":   {"General Information", "Working Log", "Email System", "Customer Communication", "Customer Inbound", "Customer Outbound", "Resolution Communications"},
		"View Access":     {"Internal", "Public"},
		"Secure Work Log": {"Yes", "No"},
	}
)

func (f *Fake) fieldsOf(form string) []string {
	switch form {
	case "HPD:IncidentInterface_Create":
		return append(slices.Clone(createFields), f.refFields...)
	case "HPD:Help Desk":
		return append(slices.Clone(helpDeskFields), f.refFields...)
	case "CTM:People":
		return peopleFields
	}
	return workLogFields
}

// decodeValues reads {"values":{…}}; values are strings or null.
func decodeValues(b []byte) (map[string]any, bool) {
	var in struct {
		Values map[string]any `json:"values"`
	}
	if json.Unmarshal(b, &in) != nil || in.Values == nil {
		return nil, false
	}
	for _, v := range in.Values {
		switch v.(type) {
		case string, float64, nil:
		default:
			return nil, false
		}
	}
	return in.Values, true
}

// checkValues rejects unknown fields and selection values out of range.
func checkValues(w http.ResponseWriter, values map[string]any, known []string) bool {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(known, k) {
			writeError(w, http.StatusBadRequest, errNoField, k)
			return false
		}
		s, _ := values[k].(string)
		if opts, ok := selections[k]; ok && s != "" && !slices.Contains(opts, s) {
			writeError(w, http.StatusBadRequest, errBadValue, k)
			return false
		}
	}
	return true
}

func isJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json"
}

// priority is BMC's default priority matrix over urgency and impact.
func priority(urgency, impact string) string {
	if urgency == "" || impact == "" {
		return "Low"
	}
	switch s := int(urgency[0]-'0') + int(impact[0]-'0'); {
	case s <= 2:
		return "Critical"
	case s <= 4:
		return "High"
	case s <= 6:
		return "Medium"
	}
	return "Low"
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request, body []byte) {
	if !isJSON(r) {
		writeError(w, http.StatusUnsupportedMediaType, errMediaType, r.Header.Get("Content-Type"))
		return
	}
	values, ok := decodeValues(body)
	if !ok {
		writeError(w, http.StatusBadRequest, errBadBody, "")
		return
	}
	if !checkValues(w, values, f.fieldsOf("HPD:IncidentInterface_Create")) {
		return
	}
	str := func(k string) string { s, _ := values[k].(string); return s }
	for _, k := range []string{"z1D_Action", "Description", "Impact", "Urgency", "Status", "Reported Source", "Service_Type"} {
		if strings.TrimSpace(str(k)) == "" {
			writeError(w, http.StatusBadRequest, errRequired, k)
			return
		}
	}
	if str("z1D_Action") != "CREATE" {
		writeError(w, http.StatusBadRequest, errBadValue, "z1D_Action")
		return
	}
	if utf8.RuneCountInString(str("Description")) > 100 {
		writeError(w, http.StatusBadRequest, errTooLong, "Description")
		return
	}
	f.mu.Lock()
	person, known := f.people[str("Login_ID")]
	refs := slices.Clone(f.refFields)
	f.mu.Unlock()
	switch {
	case str("Login_ID") != "" && known:
	case str("Login_ID") == "" && str("First_Name") != "" && str("Last_Name") != "":
	default:
		writeError(w, http.StatusBadRequest, errNoCustomer, "")
		return
	}
	if c := str("Company"); c != "" && c != CompanyCalbro && c != CompanyInvention {
		writeError(w, http.StatusBadRequest, errBadCompany, "")
		return
	}
	hasRef := false
	for _, rf := range refs {
		hasRef = hasRef || str(rf) != ""
	}
	if !hasRef {
		writeError(w, http.StatusBadRequest, errRequired, "the reference field (bmcfake requires Ticketray's key)")
		return
	}
	fields, err := projection(r.URL.Query().Get("fields"), f.fieldsOf("HPD:IncidentInterface_Create"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errNoField, err.Error())
		return
	}

	f.mu.Lock()
	id, number := f.nextIDs()
	now := f.timestamp()
	row := map[string]any{"Request ID": id, "Incident Number": number, "Submitter": Username,
		"Submit Date": now, "Last Modified Date": now, "Company": CompanyCalbro, "Assigned Group": nil}
	for k, v := range values {
		if k == "z1D_Action" {
			continue
		}
		if hk, ok := interfaceToHelpDesk[k]; ok {
			k = hk
		}
		row[k] = v
	}
	if known {
		row["First Name"], row["Last Name"] = person[0], person[1]
	}
	row["Priority"] = priority(str("Urgency"), str("Impact"))
	f.incidents = append(f.incidents, row)
	f.mu.Unlock()

	self := base(r) + "/api/arsys/v1/entry/HPD:IncidentInterface_Create/" + id
	w.Header().Set("Location", self)
	if fields == nil {
		w.WriteHeader(http.StatusCreated)
		return
	}
	out := map[string]any{}
	for _, k := range fields {
		if k == "Incident Number" {
			out[k] = number
		} else {
			out[k] = values[k]
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"values": out, "_links": map[string]any{"self": []map[string]string{{"href": self}}}})
}

func base(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// projection reads fields=values(a,b,…); nil means every field.
func projection(p string, known []string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	inner, ok := strings.CutPrefix(p, "values(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, fmt.Errorf("fields=%s", p)
	}
	var out []string
	for _, n := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("%s", n)
		}
		out = append(out, n)
	}
	return out, nil
}

func (f *Fake) rows(form string) []map[string]any {
	switch form {
	case "HPD:Help Desk":
		return f.incidents
	case "CTM:People":
		var out []map[string]any
		for i, login := range slices.Sorted(maps.Keys(f.people)) {
			n := f.people[login]
			out = append(out, map[string]any{"Person ID": fmt.Sprintf("PPL%012d", i+1), "Remedy Login ID": login,
				"First Name": n[0], "Last Name": n[1], "Full Name": n[0] + " " + n[1]})
		}
		return out
	}
	out := make([]map[string]any, len(f.workLogs))
	for i, w := range f.workLogs {
		out[i] = w.Values
	}
	return out
}

func render(row map[string]any, fields []string) map[string]any {
	if fields == nil {
		return maps.Clone(row)
	}
	out := make(map[string]any, len(fields))
	for _, k := range fields {
		out[k] = row[k]
	}
	return out
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request, form string) {
	q := r.URL.Query()
	known := f.fieldsOf(form)
	qual, err := parseQual(q.Get("q"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errQual, err.Error())
		return
	}
	for _, c := range qual.conds() {
		if !slices.Contains(known, c.field) {
			writeError(w, http.StatusBadRequest, errNoField, form+" : <"+c.field+">")
			return
		}
	}
	fields, err := projection(q.Get("fields"), known)
	if err != nil {
		writeError(w, http.StatusBadRequest, errNoField, form+" : <"+err.Error()+">")
		return
	}
	limit, offset := 0, 0
	for name, dst := range map[string]*int{"limit": &limit, "offset": &offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, errBadValue, name)
				return
			}
			*dst = n
		}
	}
	sortBy, err := sortOrder(q.Get("sort"), known)
	if err != nil {
		writeError(w, http.StatusBadRequest, errNoField, form+" : <"+err.Error()+">")
		return
	}
	self := base(r) + "/api/arsys/v1/entry/" + url.PathEscape(form)
	f.mu.Lock()
	var rows []map[string]any
	for _, row := range f.rows(form) {
		if qual.match(row) {
			rows = append(rows, row)
		}
	}
	sortRows(rows, sortBy)
	rows = rows[min(offset, len(rows)):]
	more := limit > 0 && len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	entries := []map[string]any{}
	for _, row := range rows {
		id, _ := row["Request ID"].(string)
		for _, k := range []string{"Work Log ID", "Person ID"} {
			if id == "" {
				id, _ = row[k].(string)
			}
		}
		entries = append(entries, map[string]any{"values": render(row, fields),
			"_links": map[string]any{"self": []map[string]string{{"href": self + "/" + id}}}})
	}
	f.mu.Unlock()
	links := map[string]any{"self": []map[string]string{{"href": self + "?" + r.URL.RawQuery}}}
	if more {
		// As the AR REST API pages: a next link while entries remain.
		next := maps.Clone(q)
		next.Set("offset", strconv.Itoa(offset+limit))
		links["next"] = []map[string]string{{"href": self + "?" + next.Encode()}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "_links": links})
}

// sortKey is one field of sort=Field.asc,Other.desc.
type sortKey struct {
	field string
	desc  bool
}

// sortOrder reads sort=; each field must be one the form has.
func sortOrder(p string, known []string) ([]sortKey, error) {
	if p == "" {
		return nil, nil
	}
	var out []sortKey
	for _, part := range strings.Split(p, ",") {
		part = strings.TrimSpace(part)
		field, dir, ok := cutLast(part, ".")
		if !ok || (dir != "asc" && dir != "desc") || !slices.Contains(known, field) {
			return nil, fmt.Errorf("sort=%s", part)
		}
		out = append(out, sortKey{field: field, desc: dir == "desc"})
	}
	return out, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// sortRows orders rows by keys; date/times share one layout and zone, so
// values compare as text.
func sortRows(rows []map[string]any, keys []sortKey) {
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		for _, k := range keys {
			x, _ := a[k.field].(string)
			y, _ := b[k.field].(string)
			if c := strings.Compare(x, y); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request, id string) {
	fields, err := projection(r.URL.Query().Get("fields"), f.fieldsOf("HPD:Help Desk"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errNoField, err.Error())
		return
	}
	f.mu.Lock()
	var out map[string]any
	for _, row := range f.incidents {
		if row["Request ID"] == id {
			out = render(row, fields)
		}
	}
	f.mu.Unlock()
	if out == nil {
		writeError(w, http.StatusNotFound, errNoEntry, "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"values": out})
}

// addWorkLog creates an HPD:WorkLog entry from JSON, or from a multipart
// body with the entry in the part "entry" and each attachment field's file
// in the part "attach-<field>".
func (f *Fake) addWorkLog(w http.ResponseWriter, r *http.Request, body []byte) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var values map[string]any
	var files []File
	switch mt {
	case "application/json":
		v, ok := decodeValues(body)
		if !ok {
			writeError(w, http.StatusBadRequest, errBadBody, "")
			return
		}
		values = v
	case "multipart/form-data":
		v, fs, ok := readMultipart(body, params["boundary"])
		if !ok {
			writeError(w, http.StatusBadRequest, errAttachment, "")
			return
		}
		values, files = v, fs
	default:
		writeError(w, http.StatusUnsupportedMediaType, errMediaType, r.Header.Get("Content-Type"))
		return
	}
	if !checkValues(w, values, workLogFields) {
		return
	}
	// Every attachment field named in the entry has its part, and no part
	// is left over.
	named := 0
	for _, k := range workLogFields {
		if strings.HasPrefix(k, "z2AF ") && values[k] != nil {
			named++
			if !slices.ContainsFunc(files, func(fl File) bool { return fl.Field == k && fl.Name == values[k] }) {
				writeError(w, http.StatusBadRequest, errAttachment, k)
				return
			}
		}
	}
	if named != len(files) {
		writeError(w, http.StatusBadRequest, errAttachment, "")
		return
	}
	str := func(k string) string { s, _ := values[k].(string); return s }
	for _, k := range []string{"Incident Number", "Description"} {
		if strings.TrimSpace(str(k)) == "" {
			writeError(w, http.StatusBadRequest, errRequired, k)
			return
		}
	}
	if utf8.RuneCountInString(str("Description")) > 100 {
		writeError(w, http.StatusBadRequest, errTooLong, "Description")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var inc map[string]any
	for _, row := range f.incidents {
		if row["Incident Number"] == str("Incident Number") {
			inc = row
		}
	}
	if inc == nil || (values["Incident Entry ID"] != nil && values["Incident Entry ID"] != inc["Request ID"]) {
		writeError(w, http.StatusBadRequest, errNoIncident, "")
		return
	}
	id := fmt.Sprintf("WLG%012d", len(f.workLogs)+1)
	values["Work Log ID"], values["Submitter"], values["Submit Date"] = id, Username, f.timestamp()
	f.workLogs = append(f.workLogs, WorkLog{Values: values, Files: files})
	inc["Last Modified Date"] = f.timestamp()
	w.Header().Set("Location", base(r)+"/api/arsys/v1/entry/HPD:WorkLog/"+id)
	w.WriteHeader(http.StatusCreated)
}

func readMultipart(body []byte, boundary string) (map[string]any, []File, bool) {
	if boundary == "" {
		return nil, nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var values map[string]any
	var files []File
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, false
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, false
		}
		switch name := p.FormName(); {
		case name == "entry" && values == nil:
			mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			v, ok := decodeValues(data)
			if mt != "application/json" || !ok {
				return nil, nil, false
			}
			values = v
		case strings.HasPrefix(name, "attach-") && p.FileName() != "":
			files = append(files, File{Field: strings.TrimPrefix(name, "attach-"), Name: p.FileName(),
				ContentType: p.Header.Get("Content-Type"), Data: data})
		default:
			return nil, nil, false
		}
	}
	return values, files, values != nil
}
