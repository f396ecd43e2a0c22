// Package bmchelix delivers Ticketray tickets to BMC Helix ITSM (AR System
// REST API) as incidents.
//
// Authentication: the connection's basic credentials are exchanged for an
// AR-JWT with POST /api/jwt/login (form-encoded username and password; the
// answer's body is the token), sent as "Authorization: AR-JWT <token>". The
// token is cached, renewed before the server's default hour is up and once
// on a 401, and never logged.
//
// Field mapping on create (POST /api/arsys/v1/entry/HPD:IncidentInterface_Create
// with fields=values(Incident Number), so the answer carries the number):
//
//	z1D_Action           CREATE (runs the interface form's create workflow)
//	Login_ID             the connection's username: the integration account
//	                     is the customer (it needs a People record); the
//	                     reporter is named in the detailed description
//	Description          the summary (the field holds 100 characters)
//	Detailed_Decription  the user's description, then plain-text sections
//	                     for the system information, each skill result and
//	                     who reported it (the field name keeps BMC's typo)
//	Impact, Urgency      from the priority, through the priority table
//	Status               New
//	Reported Source      Direct Input
//	Service_Type         options.serviceType (User Service Restoration)
//	Company              options.company, when set
//	Categorization Tier 1  the mapped category, only with a category table
//	                     or defaultCategory (values must exist in the
//	                     operational catalog)
//	<referenceField>     the idempotency key; options.referenceField,
//	                     default "Vendor Ticket Number"
//
// Priority: a priority table value is "urgency,impact", each 1 (highest)
// to 4 (lowest), or one value for both. BMC's priority matrix gives
// Critical for 1,1 down to Low for 4,4; the built-in rows are
// critical 1,1, high 2,2, medium 3,3, low 4,4.
//
// Find queries HPD:Help Desk with q='<referenceField>'="<key>" (and
// 'Company'="<company>" when options.company is set, so connections that
// share a server each find only their own records); Status reads Status
// from HPD:Help Desk by Incident Number; Comment and Attach create
// HPD:WorkLog entries (work info), the file in the z2AF Work Log01
// attachment field through a multipart request. Add (add.go) posts a
// reporter's addition as one public work info entry ending with
// connectors.AdditionMarker, its first three files in the same entry;
// FindAddition looks for that line in the incident's work info.
//
// Status sync (Sync, in sync.go) names up to 50 Incident Numbers in one
// HPD:Help Desk query with 'Last Modified Date' >= the last cycle, reads
// the public work info of those that changed from HPD:WorkLog in one more
// (internal entries never), and the authors' full names from CTM:People
// once. The built-in status rows map Status; Pending with Status_Reason
// Client Action Required is waiting_on_you (LocalStatus).
package bmchelix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// Type is the connector type in the config.
const Type = "bmc_helix"

func init() {
	connectors.Register(Type, connectors.Driver{New: New, Validate: Validate, CheckMapping: CheckMapping,
		StatusRows: statusRows, LocalStatus: LocalStatus})
}

// Forms and fields of the ITSM data model.
const (
	loginPath   = "/api/jwt/login"
	entryPath   = "/api/arsys/v1/entry/"
	createForm  = "HPD:IncidentInterface_Create"
	incidentFrm = "HPD:Help Desk"
	workLogForm = "HPD:WorkLog"

	fieldNumber   = "Incident Number"
	fieldStatus   = "Status"
	fieldCompany  = "Company"
	fieldModified = "Last Modified Date"
	fieldSubmit   = "Submit Date"
	fieldEntryID  = "Request ID"
	attachField   = "z2AF Work Log01"

	// DefaultReferenceField holds the idempotency key when
	// options.referenceField is not set.
	DefaultReferenceField = "Vendor Ticket Number"
	// DefaultServiceType is Service_Type when options.serviceType is not set.
	DefaultServiceType = "User Service Restoration"

	maxSummary = 100 // HPD:Help Desk Description
	// tokenLifetime is how long a token is used before a fresh login: the
	// AR server's default JWT lifetime is an hour.
	tokenLifetime = 50 * time.Minute
	// timeLayout is how the AR REST API renders date-times.
	timeLayout = "2006-01-02T15:04:05.000-0700"
)

// ServiceTypes are the Service_Type values of HPD:Help Desk.
var ServiceTypes = []string{"User Service Restoration", "User Service Request", "Infrastructure Restoration", "Infrastructure Event"}

// Impacts and Urgencies are the selection values, index 0 = level 1.
var (
	Impacts   = []string{"1-Extensive/Widespread", "2-Significant/Large", "3-Moderate/Limited", "4-Minor/Localized"}
	Urgencies = []string{"1-Critical", "2-High", "3-Medium", "4-Low"}
)

// vendorPriority is the built-in priority table: "urgency,impact".
var vendorPriority = map[connectors.Priority]string{
	connectors.PriorityCritical: "1,1",
	connectors.PriorityHigh:     "2,2",
	connectors.PriorityMedium:   "3,3",
	connectors.PriorityLow:      "4,4",
}

// Validate is the BMC Helix connection's own config rules: basic
// credentials (they are exchanged for an AR-JWT), a reference field name
// and company that fit a qualification, and a known service type.
func Validate(c connectors.Connection) []connectors.FieldError {
	var errs []connectors.FieldError
	if c.Credentials.Type != "basic" {
		errs = append(errs, connectors.FieldError{Field: "credentials.type",
			Msg: "must be basic for bmc_helix: the AR user's username and password, exchanged for an AR-JWT"})
	}
	if ref := c.Option("referenceField", DefaultReferenceField); !fieldName(ref) {
		errs = append(errs, connectors.FieldError{Field: "options.referenceField", Msg: "must be a field name without quotes or line breaks"})
	}
	if strings.ContainsAny(c.Option("company", ""), "\r\n") {
		errs = append(errs, connectors.FieldError{Field: "options.company", Msg: "must not contain line breaks"})
	}
	if st := c.Option("serviceType", DefaultServiceType); !slices.Contains(ServiceTypes, st) {
		errs = append(errs, connectors.FieldError{Field: "options.serviceType", Msg: "must be one of " + strings.Join(ServiceTypes, ", ")})
	}
	return errs
}

// CheckMapping accepts a priority value "urgency,impact" (each 1 to 4) or
// one level for both. Other tables take any value.
func CheckMapping(kind, value string) error {
	if kind != "priority" {
		return nil
	}
	if _, _, err := parseLevels(value); err != nil {
		return errors.New(`must be an urgency and impact, each 1 (highest) to 4 (lowest): "2,3" for urgency 2-High and impact 3-Moderate/Limited, or "3" for both`)
	}
	return nil
}

// parseLevels reads "urgency,impact" or one level for both, each 1..4,
// and returns BMC's selection values.
func parseLevels(v string) (urgency, impact string, err error) {
	u, i, pair := strings.Cut(v, ",")
	u, i = strings.TrimSpace(u), strings.TrimSpace(i)
	if !pair {
		i = u
	}
	level := func(s string) int {
		if len(s) == 1 && s[0] >= '1' && s[0] <= '4' {
			return int(s[0] - '1')
		}
		return -1
	}
	lu, li := level(u), level(i)
	if lu < 0 || li < 0 {
		return "", "", fmt.Errorf("%q is not an urgency and impact (1 highest to 4 lowest)", v)
	}
	return Urgencies[lu], Impacts[li], nil
}

var _ connectors.Connector = (*Connector)(nil)

// Connector is a BMC Helix ITSM connection.
type Connector struct {
	conn        connectors.Connection
	rest        *rest.Client
	http        *http.Client
	credential  func(string) (string, error)
	refField    string
	company     string
	serviceType string
	now         func() time.Time

	people connectors.AuthorCache[string] // login → full name, for work info authors

	mu       sync.Mutex // held during a login, so concurrent calls share one
	token    string
	loggedAt time.Time
	username string
}

// New builds the connector for a bmc_helix connection. d.Credential must
// resolve the username and password for the login.
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTP == nil {
		return nil, fmt.Errorf("bmc_helix: connection %q: no HTTP client", c.Name)
	}
	if d.Credential == nil {
		return nil, fmt.Errorf("bmc_helix: connection %q: no credential resolver for the AR-JWT login", c.Name)
	}
	if err := connectors.CheckBaseURL(c.BaseURL); err != nil {
		return nil, fmt.Errorf("bmc_helix: connection %q: baseUrl %w", c.Name, err)
	}
	if errs := Validate(c); len(errs) > 0 {
		return nil, fmt.Errorf("bmc_helix: connection %q: %s %s", c.Name, errs[0].Field, errs[0].Msg)
	}
	table := c.PriorityTable(vendorPriority)
	for _, k := range slices.Sorted(maps.Keys(table)) {
		if _, _, err := parseLevels(table[k]); err != nil {
			return nil, fmt.Errorf("bmc_helix: connection %q: mappings.priority.%s: %w", c.Name, k, err)
		}
	}
	rc, err := rest.New(c.BaseURL, d.HTTP, vendorMessage)
	if err != nil {
		return nil, fmt.Errorf("bmc_helix: connection %q: %w", c.Name, err)
	}
	return &Connector{
		conn: c, rest: rc, http: d.HTTP, credential: d.Credential,
		refField:    c.Option("referenceField", DefaultReferenceField),
		company:     strings.TrimSpace(c.Option("company", "")),
		serviceType: c.Option("serviceType", DefaultServiceType),
		now:         time.Now,
	}, nil
}

// entry is one AR entry as the REST API renders it.
type entry struct {
	Values map[string]any `json:"values"`
}

func (e entry) str(field string) string {
	switch v := e.Values[field].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

// Create creates the incident, then adds the system information and the
// ticket's attachments as work info.
func (c *Connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	const op = "create"
	if err := connectors.CheckTicket(t, checkKey); err != nil {
		return connectors.Remote{}, err
	}
	urgency, impact, err := parseLevels(c.conn.MapPriority(t.Priority, vendorPriority))
	if err != nil { // New checked the table; only a missing row gets here
		urgency, impact, _ = parseLevels(vendorPriority[connectors.PriorityMedium])
	}
	if _, err := c.login(ctx, op); err != nil {
		return connectors.Remote{}, err
	}
	c.mu.Lock()
	login := c.username
	c.mu.Unlock()
	values := c.createValues(t, login, urgency, impact)
	var out entry
	err = c.call(ctx, op, http.MethodPost, createForm, url.Values{"fields": {"values(" + fieldNumber + ")"}},
		jsonBody(map[string]any{"values": values}), &out)
	if err != nil {
		return connectors.Remote{}, err
	}
	number := out.str(fieldNumber)
	if !isNumber(number) {
		// A 2xx without the number: the server may have created it, so
		// the outcome is unknown and a retry looks it up first.
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Retryable, Sent: true,
			Err: errors.New("the response carries no Incident Number")}
	}
	r := c.remote(number)

	connectors.AttachEach(ctx, c.Attach, r, connectors.FilesToAttach(t))
	return r, nil
}

// createValues are the HPD:IncidentInterface_Create values for t.
func (c *Connector) createValues(t *connectors.Ticket, login, urgency, impact string) map[string]any {
	values := map[string]any{
		"z1D_Action":          "CREATE",
		"Login_ID":            login,
		"Description":         truncate(oneLine(t.Summary), maxSummary),
		"Detailed_Decription": describe(t),
		"Impact":              impact,
		"Urgency":             urgency,
		"Status":              "New",
		"Reported Source":     "Direct Input",
		"Service_Type":        c.serviceType,
		c.refField:            t.IdempotencyKey,
	}
	if c.company != "" {
		values[fieldCompany] = c.company
	}
	if len(c.conn.Mappings["category"]) > 0 || c.conn.DefaultCategory != "" {
		if cat := c.conn.MapCategory(t.Category); cat != "" {
			values["Categorization Tier 1"] = cat
		}
	}
	return values
}

// Find returns the oldest incident whose reference field holds the key
// (and, with options.company, whose Company is that company).
func (c *Connector) Find(ctx context.Context, key string) (connectors.Remote, error) {
	const op = "find"
	if err := checkKey(key); err != nil {
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	q := qual(c.refField, key)
	if c.company != "" {
		q += " AND " + qual(fieldCompany, c.company)
	}
	var out struct{ Entries []entry }
	err := c.call(ctx, op, http.MethodGet, incidentFrm, url.Values{
		"q":      {q},
		"fields": {"values(" + strings.Join([]string{fieldNumber, c.refField, fieldCompany, fieldSubmit}, ",") + ")"},
	}, body{}, &out)
	if err != nil {
		return connectors.Remote{}, err
	}
	var best *entry
	for i, e := range out.Entries {
		// A qualification the server did not apply as meant would return
		// other records: never take one of those for ours.
		if e.str(c.refField) != key || (c.company != "" && e.str(fieldCompany) != c.company) || !isNumber(e.str(fieldNumber)) {
			return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent,
				Err: errors.New("the server answered with an incident that does not match the query")}
		}
		if best == nil || e.str(fieldSubmit) < best.str(fieldSubmit) {
			best = &out.Entries[i]
		}
	}
	if best == nil {
		return connectors.Remote{}, connectors.ErrNotFound
	}
	return c.remote(best.str(fieldNumber)), nil
}

// Status reads the incident's Status (New, Assigned, In Progress,
// Pending, Resolved, Closed, Cancelled).
func (c *Connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	const op = "status"
	e, err := c.incident(ctx, op, r)
	if err != nil {
		return connectors.RemoteStatus{}, err
	}
	st := connectors.RemoteStatus{Remote: c.remote(e.str(fieldNumber)), Status: e.str(fieldStatus)}
	if ts, err := time.Parse(timeLayout, e.str(fieldModified)); err == nil {
		st.UpdatedAt = ts.UTC()
	}
	if st.Status == "" {
		return connectors.RemoteStatus{}, &connectors.Error{Op: op, Class: connectors.Retryable,
			Err: errors.New("the incident was read without its Status; can the account read HPD:Help Desk Status?")}
	}
	return st, nil
}

// incident reads the HPD:Help Desk entry of r by its Incident Number.
func (c *Connector) incident(ctx context.Context, op string, r connectors.Remote) (entry, error) {
	number := r.ID
	if number == "" {
		number = r.Number
	}
	if !isNumber(number) {
		return entry{}, permanent(op, "the remote id is not a BMC Incident Number")
	}
	var out struct{ Entries []entry }
	err := c.call(ctx, op, http.MethodGet, incidentFrm, url.Values{
		"q":      {qual(fieldNumber, number)},
		"fields": {"values(" + strings.Join([]string{fieldEntryID, fieldNumber, fieldStatus, fieldModified}, ",") + ")"},
	}, body{}, &out)
	if err != nil {
		return entry{}, err
	}
	for _, e := range out.Entries {
		if e.str(fieldNumber) == number {
			return e, nil
		}
	}
	return entry{}, &connectors.Error{Op: op, Class: connectors.Permanent, Status: http.StatusNotFound,
		Err: fmt.Errorf("no incident %s on %s", number, incidentFrm)}
}

// workInfo are the HPD:WorkLog values that tie a work info entry to the
// incident.
func (c *Connector) workInfo(ctx context.Context, op string, r connectors.Remote, summary, details string) (map[string]any, error) {
	e, err := c.incident(ctx, op, r)
	if err != nil {
		return nil, err
	}
	v := map[string]any{
		fieldNumber:            e.str(fieldNumber),
		"Work Log Type":        "General Information",
		"Description":          truncate(oneLine(summary), maxSummary),
		"Detailed Description": details,
		"View Access":          "Internal",
		"Secure Work Log":      "No",
	}
	if id := e.str(fieldEntryID); id != "" {
		v["Incident Entry ID"] = id
	}
	return v, nil
}

// Comment adds a work info entry (internal: agents see it, the customer
// does not).
func (c *Connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	const op = "comment"
	if strings.TrimSpace(text) == "" {
		return permanent(op, "the comment is empty")
	}
	v, err := c.workInfo(ctx, op, r, "Note from Ticketray", text)
	if err != nil {
		return err
	}
	return c.call(ctx, op, http.MethodPost, workLogForm, nil, jsonBody(map[string]any{"values": v}), nil)
}

// Attach adds a work info entry carrying the file in its first attachment
// field.
func (c *Connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	const op = "attach"
	if !plainName(a.Filename) {
		return permanent(op, "the attachment needs a plain file name")
	}
	v, err := c.workInfo(ctx, op, r, "Attachment from Ticketray", "File attached by Ticketray: "+a.Filename)
	if err != nil {
		return err
	}
	return c.postWorkLog(ctx, op, v, []connectors.Attachment{a})
}

// attachFields are HPD:WorkLog's attachment fields: one entry carries up
// to three files.
var attachFields = []string{attachField, "z2AF Work Log02", "z2AF Work Log03"}

// plainName reports whether a file name fits a multipart part header as
// it is.
func plainName(s string) bool { return s != "" && !strings.ContainsAny(s, "/\\\"\r\n") }

// postWorkLog creates the work info entry v: as JSON without files, else
// as a multipart request with the entry as JSON in the part "entry" and
// each file (at most len(attachFields), plain names) in the part
// "attach-<field>" of its attachment field.
func (c *Connector) postWorkLog(ctx context.Context, op string, v map[string]any, files []connectors.Attachment) error {
	if len(files) == 0 {
		return c.call(ctx, op, http.MethodPost, workLogForm, nil, jsonBody(map[string]any{"values": v}), nil)
	}
	for i, a := range files {
		v[attachFields[i]] = a.Filename
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="entry"`)
	h.Set("Content-Type", "application/json; charset=UTF-8")
	pw, _ := mw.CreatePart(h)
	if err := json.NewEncoder(pw).Encode(map[string]any{"values": v}); err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: fmt.Errorf("encode work info: %w", err)}
	}
	for i, a := range files {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h = textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attach-%s"; filename="%s"`, attachFields[i], a.Filename))
		h.Set("Content-Type", ct)
		pw, _ = mw.CreatePart(h)
		pw.Write(a.Data)
	}
	mw.Close()
	return c.call(ctx, op, http.MethodPost, workLogForm, nil, body{ct: mw.FormDataContentType(), data: buf.Bytes()}, nil)
}

// Check logs in and runs the query Find runs: it proves the URL, the
// credentials, read access to HPD:Help Desk and that the reference field
// exists there. The error names the likely setup mistake.
func (c *Connector) Check(ctx context.Context) error {
	const op = "check"
	if _, err := c.login(ctx, op); err != nil {
		return err
	}
	err := c.call(ctx, op, http.MethodGet, incidentFrm, url.Values{
		"q":      {qual(c.refField, "ticketray-connection-test")},
		"fields": {"values(" + fieldNumber + "," + c.refField + ")"},
		"limit":  {"1"},
	}, body{}, nil)
	var e *connectors.Error
	if errors.As(err, &e) {
		switch {
		case e.Status == http.StatusForbidden:
			e.Err = errors.New("the account may not read HPD:Help Desk: give it an Incident Management permission (Incident User or Incident Master) and a support group")
		case e.Status == http.StatusNotFound:
			e.Err = errors.New("HPD:Help Desk was not found: is BMC Helix ITSM installed on this AR server?")
		case e.Status == http.StatusBadRequest || e.Status == http.StatusInternalServerError && strings.Contains(e.Message, "(314)"):
			e.Err = fmt.Errorf("HPD:Help Desk cannot be searched by %q: set options.referenceField to a character field that exists on HPD:Help Desk and HPD:IncidentInterface_Create", c.refField)
		}
	}
	return err
}

// body is a request body that can be sent again (after a token renewal).
type body struct {
	ct   string
	data []byte
}

func jsonBody(v any) body {
	b, _ := json.Marshal(v) // maps of strings: cannot fail
	return body{ct: "application/json", data: b}
}

// call sends one request to a form with the AR-JWT, logging in first when
// there is no token, and once more when the server answers 401 (the token
// expired or the server restarted).
func (c *Connector) call(ctx context.Context, op, method, form string, q url.Values, b body, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.login(ctx, op)
		if err != nil {
			return err
		}
		req := rest.Request{Op: op, Method: method, Path: entryPath + form, Query: q,
			Header: http.Header{"Authorization": {"AR-JWT " + tok}}}
		if b.data != nil {
			req.Header.Set("Content-Type", b.ct)
			req.Body = bytes.NewReader(b.data)
		}
		_, err = c.rest.Do(ctx, req, out)
		var e *connectors.Error
		if attempt == 0 && errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			c.forget(tok)
			continue
		}
		classify(e)
		return err
	}
}

// login returns the cached AR-JWT, or logs in for a new one.
func (c *Connector) login(ctx context.Context, op string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Sub(c.loggedAt) < tokenLifetime {
		return c.token, nil
	}
	c.token = ""
	user, err := c.credential("username")
	if err != nil {
		return "", &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	pass, err := c.credential("password")
	if err != nil {
		return "", &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	tok, err := c.postLogin(ctx, op, user, pass)
	if err != nil {
		return "", err
	}
	c.token, c.loggedAt, c.username = tok, c.now(), user
	return tok, nil
}

// postLogin exchanges the credentials for a token. Its errors never mark
// the ticket as sent: only the login was.
func (c *Connector) postLogin(ctx context.Context, op, user, pass string) (string, error) {
	form := url.Values{"username": {user}, "password": {pass}}.Encode()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.rest.URL(loginPath, nil).String(), strings.NewReader(form))
	if err != nil {
		return "", &connectors.Error{Op: op, Class: connectors.Permanent, Err: fmt.Errorf("login: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/plain, application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		e := connectors.TransportError(op, err)
		if !wrote.Load() && e.Class == connectors.Retryable {
			e.Class = connectors.Offline // a timeout before the login left: nothing reached the server
		}
		e.Sent, e.Err = false, fmt.Errorf("login: %w", e.Err)
		return "", e
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		e := connectors.TransportError(op, err)
		e.Sent, e.Err = false, fmt.Errorf("login: %w", e.Err)
		return "", e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", c.loginError(op, resp, data)
	}
	tok := strings.TrimSpace(string(data))
	if !plausibleToken(tok) {
		return "", &connectors.Error{Op: op, Class: connectors.Permanent, Status: resp.StatusCode, Err: errors.New(
			"login: the answer is not an AR-JWT: baseUrl must be the AR REST server (such as https://<tenant>-restapi.onbmc.com), not Smart IT or the Mid Tier")}
	}
	return tok, nil
}

// loginError classifies a refused login and names the likely mistake.
func (c *Connector) loginError(op string, resp *http.Response, data []byte) *connectors.Error {
	e := &connectors.Error{Op: op, Class: connectors.StatusClass(resp.StatusCode), Status: resp.StatusCode,
		Message: vendorMessage(resp.StatusCode, data), RetryAfter: connectors.RetryAfter(resp.Header, c.now())}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Err = errors.New("login: the AR server refused the username or password (credentials must be an AR user's login and password)")
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		e.Err = errors.New("login: no AR-JWT login at baseUrl: it must be the AR REST server (such as https://<tenant>-restapi.onbmc.com), not Smart IT or the Mid Tier")
	default:
		e.Err = errors.New("login failed")
	}
	classify(e)
	return e
}

// forget drops tok if it is still the cached token.
func (c *Connector) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// plausibleToken rejects an HTML page or JSON answered by something that
// is not the AR REST login.
func plausibleToken(s string) bool {
	if len(s) < 16 || len(s) > 16<<10 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '<' || r == '{' || r == '[' || r == '"' || r > '~' {
			return false
		}
	}
	return true
}

func (c *Connector) remote(number string) connectors.Remote {
	q := url.Values{"q": {qual(fieldNumber, number)}}
	return connectors.Remote{ID: number, Number: number, URL: c.rest.URL(entryPath+incidentFrm, q).String()}
}

// qual is the qualification 'field' = "value"; a double quote in value is
// doubled, as AR qualifications escape it.
func qual(field, value string) string {
	return "'" + field + "' = \"" + strings.ReplaceAll(value, `"`, `""`) + "\""
}

// fieldName reports whether s can be quoted as a field in a qualification
// and in fields=values(...).
func fieldName(s string) bool {
	return strings.TrimSpace(s) != "" && len(s) <= 254 && !strings.ContainsAny(s, "'\",()\r\n")
}

// checkKey accepts keys that fit a character field and a qualification as
// they are.
func checkKey(k string) error { return connectors.CheckKey(k, 100) }

// isNumber reports whether s looks like an Incident Number (INC and
// digits; some servers use a custom prefix, so letters then digits).
func isNumber(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	i := 0
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == 0 || i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func permanent(op, msg string) error {
	return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New(msg)}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
