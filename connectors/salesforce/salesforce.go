// Package salesforce delivers Ticketray tickets to Salesforce Service Cloud
// as Cases, through the REST API (sObject rows, SOQL query, describe) and
// Salesforce Files (ContentVersion).
//
// Exactly once by construction: Create upserts the Case by an external ID
// field, PATCH /services/data/vXX.X/sobjects/Case/<externalIdField>/<key>.
// 201 means created; 200 (or 204 in old API versions) means a Case already
// carried the key, which is then taken as this delivery's; 300 means several
// Cases carry it (nothing is written; a permanent error names them).
//
// Field mapping on create:
//
//	Subject          the summary
//	Description      the user's description, then plain-text sections for
//	                 the system information, each skill result and who
//	                 reported it (Case.Description is a 32,000-character
//	                 long text area, shown as is in Lightning)
//	Priority         from the priority, through the priority table (below)
//	Origin           options.origin, default "Ticketray"
//	SuppliedEmail    the reporter's email  (Web Email)
//	SuppliedName     the reporter's name   (Web Name)
//	<categoryField>  the category through Connection.MapCategory, when
//	                 options.categoryField names a Case field
//	<externalIdField> the delivery's key, in the URL only (the API refuses
//	                 it in the body)
//
// Priority: the standard Case.Priority picklist has High, Medium and Low.
// The built-in rows are critical High, high High, medium Medium, low Low;
// mappings.priority overrides them (values are the org's picklist API
// names) and its default row applies to priorities without a row.
//
// Find is scoped to where the connection creates: Cases whose external ID
// field holds the key and whose Origin is the connection's origin. Two
// connections on one org keep apart by their origins (or external ID
// fields); the per-delivery key already keeps their upserts apart.
//
// The org's API request limit answers 403 REQUEST_LIMIT_EXCEEDED: a wait,
// not a dead ticket. Sforce-Limit-Info (api-usage=used/limit) is read from
// every response; Report shows it for connections test.
package salesforce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

func init() {
	connectors.Register("salesforce", connectors.Driver{New: New, Validate: Validate, CheckMapping: CheckMapping, StatusRows: statusRows})
}

// Option names and defaults.
const (
	OptExternalIDField = "externalIdField"
	OptAPIVersion      = "apiVersion"
	OptOrigin          = "origin"
	OptCategoryField   = "categoryField"

	DefaultExternalIDField = "Ticketray_Key__c"
	DefaultAPIVersion      = "v64.0"
	DefaultOrigin          = "Ticketray"

	// maxComment is CaseComment.CommentBody's length.
	maxComment = 4000
	// maxOrigin is Case.Origin's picklist value length.
	maxOrigin = 40
	// timeLayout is how the REST API renders date-times.
	timeLayout = "2006-01-02T15:04:05.000-0700"
)

var (
	customField = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*__c$`)
	fieldName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	apiVersion  = regexp.MustCompile(`^v[1-9][0-9]\.0$`)
)

// vendorPriority is the built-in priority table: standard Case.Priority
// picklist values.
var vendorPriority = map[connectors.Priority]string{
	connectors.PriorityCritical: "High",
	connectors.PriorityHigh:     "High",
	connectors.PriorityMedium:   "Medium",
	connectors.PriorityLow:      "Low",
}

// Validate is the Salesforce connection's own config rules.
func Validate(c connectors.Connection) []connectors.FieldError {
	var errs []connectors.FieldError
	add := func(field, msg string) { errs = append(errs, connectors.FieldError{Field: field, Msg: msg}) }
	if u, err := url.Parse(c.BaseURL); err == nil && u.Host != "" {
		h := strings.ToLower(u.Hostname())
		switch {
		case strings.HasSuffix(h, ".lightning.force.com"), strings.HasSuffix(h, ".salesforce-setup.com"):
			add("baseUrl", "is a Lightning or Setup address: use the org's My Domain URL, https://<org>.my.salesforce.com")
		case h == "login.salesforce.com", h == "test.salesforce.com":
			add("baseUrl", "is the login server: use the org's My Domain URL, https://<org>.my.salesforce.com")
		}
		if strings.Trim(u.Path, "/") != "" {
			add("baseUrl", "must be the My Domain URL without a path (https://<org>.my.salesforce.com)")
		}
	}
	switch cr := c.Credentials; cr.Type {
	case "bearer":
	case "oauth2":
		if cr.Grant != "" && cr.Grant != "client_credentials" && cr.Grant != "refresh_token" {
			break // the shared rules report it
		}
		if tu, err := url.Parse(cr.TokenURL); err == nil && tu.Host != "" {
			if bu, err := url.Parse(c.BaseURL); err == nil && bu.Host != "" &&
				(!strings.EqualFold(tu.Host, bu.Host) || strings.TrimRight(tu.Path, "/") != "/services/oauth2/token") {
				add("credentials.tokenUrl", "must be the org's My Domain token URL, <baseUrl>/services/oauth2/token (the client credentials flow does not work on login.salesforce.com)")
			}
		}
	default:
		add("credentials.type", "must be oauth2 (client_credentials of an External Client App or connected app) or bearer for salesforce")
	}
	if v := c.Option(OptExternalIDField, DefaultExternalIDField); !customField.MatchString(v) {
		add("options."+OptExternalIDField, "must be the API name of a custom Case field, such as Ticketray_Key__c")
	}
	if _, ok := normalizeVersion(c.Option(OptAPIVersion, DefaultAPIVersion)); !ok {
		add("options."+OptAPIVersion, "must be an API version such as v64.0")
	}
	if o := c.Option(OptOrigin, DefaultOrigin); len([]rune(o)) > maxOrigin || strings.ContainsAny(o, "\r\n") {
		add("options."+OptOrigin, "must be one line of at most 40 characters (a Case Origin picklist value)")
	}
	if f := c.Option(OptCategoryField, ""); f != "" && !fieldName.MatchString(f) {
		add("options."+OptCategoryField, "must be the API name of a Case field, such as Type or Category__c")
	}
	return errs
}

// CheckMapping accepts any one-line picklist value of at most 255
// characters: an org names its own Priority and category values.
func CheckMapping(kind, value string) error {
	if kind == "status" {
		return nil
	}
	if strings.TrimSpace(value) == "" || strings.ContainsAny(value, "\r\n") || len([]rune(value)) > 255 {
		return errors.New("must be a picklist value: one line of 1 to 255 characters")
	}
	return nil
}

// normalizeVersion accepts "v64.0" or "64.0".
func normalizeVersion(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v, apiVersion.MatchString(v)
}

var _ connectors.Connector = (*Connector)(nil)

// Connector is a Salesforce connection.
type Connector struct {
	conn     connectors.Connection
	rest     *rest.Client
	data     string // /services/data/vXX.X
	extField string
	origin   string
	catField string

	mu    sync.Mutex
	usage string // the last Sforce-Limit-Info seen
}

// New builds the connector for a salesforce connection. d.HTTP must
// already carry the credentials (connectors.NewHTTPClient).
func New(c connectors.Connection, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTP == nil {
		return nil, fmt.Errorf("salesforce: connection %q: no HTTP client", c.Name)
	}
	if errs := Validate(c); len(errs) > 0 {
		return nil, fmt.Errorf("salesforce: connection %q: %s", c.Name, errs[0].Error())
	}
	ver, _ := normalizeVersion(c.Option(OptAPIVersion, DefaultAPIVersion))
	rc, err := rest.New(c.BaseURL, sessionClient(c, d), vendorMessage)
	if err != nil {
		return nil, fmt.Errorf("salesforce: connection %q: %w", c.Name, err)
	}
	return &Connector{
		conn:     c,
		rest:     rc,
		data:     "/services/data/" + ver,
		extField: c.Option(OptExternalIDField, DefaultExternalIDField),
		origin:   strings.TrimSpace(c.Option(OptOrigin, DefaultOrigin)),
		catField: c.Option(OptCategoryField, ""),
	}, nil
}

// saveResult is the REST API's answer to a create or upsert.
type saveResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Created *bool  `json:"created"`
}

// caseRecord holds the Case fields the connector reads.
type caseRecord struct {
	ID               string `json:"Id"`
	CaseNumber       string `json:"CaseNumber"`
	Status           string `json:"Status"`
	Origin           string `json:"Origin"`
	LastModifiedDate string `json:"LastModifiedDate"`
	// Fields holds every field by name, for the external ID field.
	Fields map[string]any `json:"-"`
}

func (r *caseRecord) UnmarshalJSON(b []byte) error {
	type plain caseRecord
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	return json.Unmarshal(b, &r.Fields)
}

// Create upserts the Case by the delivery's key, then, when it was created
// now, uploads the system information and the ticket's attachments.
func (c *Connector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	const op = "create"
	if err := connectors.CheckTicket(t, checkKey); err != nil {
		return connectors.Remote{}, err
	}
	body := map[string]any{
		"Subject":     t.Summary,
		"Description": describe(t),
		"Priority":    c.conn.MapPriority(t.Priority, vendorPriority),
		"Origin":      c.origin,
	}
	if t.User.Email != "" {
		body["SuppliedEmail"] = t.User.Email
	}
	if n := strings.TrimSpace(t.User.Name); n != "" {
		body["SuppliedName"] = clip(n, 80)
	}
	if c.catField != "" {
		if cat := c.conn.MapCategory(t.Category); cat != "" {
			body[c.catField] = cat
		}
	}
	var res saveResult
	resp, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPatch,
		Path: c.data + "/sobjects/Case/" + c.extField + "/" + t.IdempotencyKey, JSON: body}, &res)
	if err != nil {
		return connectors.Remote{}, c.explainUpsert(err)
	}
	created := resp.StatusCode == http.StatusCreated
	if resp.StatusCode == http.StatusNoContent || res.ID == "" {
		// An update in API versions that answer 204: no id in the body.
		r, ferr := c.Find(ctx, t.IdempotencyKey)
		if ferr != nil {
			return connectors.Remote{}, unknown(op, "the Case was saved but could not be read back")
		}
		return r, nil
	}
	if !isID(res.ID, "500") {
		return connectors.Remote{}, unknown(op, "the response carries no Case id")
	}
	rec, err := c.read(ctx, op, res.ID, "Id,CaseNumber")
	if err != nil {
		// The Case exists: a retry finds it by the key.
		var e *connectors.Error
		if errors.As(err, &e) && e.Class == connectors.Permanent {
			e.Class = connectors.Retryable
		}
		if e != nil {
			e.Sent = true
		}
		return connectors.Remote{}, err
	}
	r := c.remote(rec)
	if created {
		// An update (the Case was already there) uploads nothing, so a
		// retry never duplicates files.
		connectors.AttachEach(ctx, c.Attach, r, connectors.FilesToAttach(t))
	}
	return r, nil
}

// explainUpsert adds what the usual upsert failures mean.
func (c *Connector) explainUpsert(err error) error {
	var e *connectors.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Status == http.StatusMultipleChoices:
		e.Class = connectors.Permanent
		e.Err = fmt.Errorf("several Cases carry the key in %s; make the field Unique and remove the duplicates", c.extField)
	case e.Status == http.StatusNotFound:
		e.Err = fmt.Errorf("Case has no external ID field %s that the user can see (or apiVersion %s is not available)", c.extField, strings.TrimPrefix(c.data, "/services/data/"))
	}
	return err
}

// Find returns the oldest Case this connection created with the key: its
// external ID field holds the key and its Origin is the connection's.
func (c *Connector) Find(ctx context.Context, key string) (connectors.Remote, error) {
	const op = "find"
	if err := checkKey(key); err != nil {
		return connectors.Remote{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	soql := fmt.Sprintf("SELECT Id, CaseNumber, Origin, %s FROM Case WHERE %s = '%s' AND Origin = '%s' ORDER BY CreatedDate ASC LIMIT 1",
		c.extField, c.extField, key, soqlEscape(c.origin))
	var out struct {
		Records []caseRecord `json:"records"`
	}
	if _, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: c.data + "/query", Query: url.Values{"q": {soql}}}, &out); err != nil {
		return connectors.Remote{}, err
	}
	if len(out.Records) == 0 {
		return connectors.Remote{}, connectors.ErrNotFound
	}
	rec := out.Records[0]
	if got, _ := rec.Fields[c.extField].(string); !strings.EqualFold(got, key) || !strings.EqualFold(rec.Origin, c.origin) || !isID(rec.ID, "500") {
		return connectors.Remote{}, permanent(op, "the org answered with a Case that does not match the query")
	}
	return c.remote(rec), nil
}

// Status reads the Case's Status (the org's picklist value).
func (c *Connector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	const op = "status"
	if !isID(r.ID, "500") {
		return connectors.RemoteStatus{}, badID(op)
	}
	rec, err := c.read(ctx, op, r.ID, "Id,CaseNumber,Status,LastModifiedDate")
	if err != nil {
		return connectors.RemoteStatus{}, err
	}
	st := connectors.RemoteStatus{Remote: c.remote(rec), Status: rec.Status}
	if ts, err := time.Parse(timeLayout, rec.LastModifiedDate); err == nil {
		st.UpdatedAt = ts.UTC()
	}
	return st, nil
}

// Comment adds a private CaseComment (agents see it; the customer does
// not), cut to CommentBody's 4,000 characters.
func (c *Connector) Comment(ctx context.Context, r connectors.Remote, text string) error {
	const op = "comment"
	if !isID(r.ID, "500") {
		return badID(op)
	}
	if strings.TrimSpace(text) == "" {
		return permanent(op, "the comment is empty")
	}
	var res saveResult
	_, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: c.data + "/sobjects/CaseComment",
		JSON: map[string]any{"ParentId": r.ID, "CommentBody": clip(text, maxComment), "IsPublished": false}}, &res)
	return err
}

// Attach uploads a file as a ContentVersion whose FirstPublishLocationId
// is the Case, which links the file to it (Files related list).
func (c *Connector) Attach(ctx context.Context, r connectors.Remote, a connectors.Attachment) error {
	const op = "attach"
	if !isID(r.ID, "500") {
		return badID(op)
	}
	if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\") {
		return permanent(op, "the attachment needs a plain file name")
	}
	var res saveResult
	_, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: c.data + "/sobjects/ContentVersion",
		JSON: map[string]any{
			"Title":                  a.Filename,
			"PathOnClient":           a.Filename,
			"VersionData":            base64.StdEncoding.EncodeToString(a.Data),
			"FirstPublishLocationId": r.ID,
		}}, &res)
	return err
}

// read gets one Case's fields by id.
func (c *Connector) read(ctx context.Context, op, id, fields string) (caseRecord, error) {
	var rec caseRecord
	_, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: c.data + "/sobjects/Case/" + id,
		Query: url.Values{"fields": {fields}}}, &rec)
	if err == nil && rec.ID == "" {
		rec.ID = id
	}
	return rec, err
}

func (c *Connector) remote(r caseRecord) connectors.Remote {
	return connectors.Remote{ID: r.ID, Number: r.CaseNumber,
		URL: strings.TrimRight(c.rest.Base.String(), "/") + "/lightning/r/Case/" + r.ID + "/view"}
}

// do sends the request, records Sforce-Limit-Info and classifies the
// vendor's error codes.
func (c *Connector) do(ctx context.Context, r rest.Request, out any) (*http.Response, error) {
	resp, err := c.rest.Do(ctx, r, out)
	if resp != nil {
		if v := resp.Header.Get("Sforce-Limit-Info"); v != "" {
			c.mu.Lock()
			c.usage = v
			c.mu.Unlock()
		}
	}
	return resp, classify(rest.Redact(err))
}

// APIUsage is the last Sforce-Limit-Info the org sent ("api-usage=18/5000"),
// "" before the first answer.
func (c *Connector) APIUsage() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usage
}

// checkKey accepts keys that fit in a URL path segment and a SOQL string
// literal as they are, and in a 255-character text field.
func checkKey(k string) error { return connectors.CheckKey(k, 255) }

// isID reports whether s is a 15- or 18-character record id with the
// object's key prefix (500 for Case).
func isID(s, prefix string) bool {
	if (len(s) != 15 && len(s) != 18) || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// soqlEscape escapes a value for a SOQL string literal.
func soqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}

func permanent(op, msg string) error {
	return &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New(msg)}
}

// unknown is a 2xx the connector cannot use: the org may have acted, so a
// retry looks the Case up first.
func unknown(op, msg string) error {
	return &connectors.Error{Op: op, Class: connectors.Retryable, Sent: true, Err: errors.New(msg)}
}

func badID(op string) error { return permanent(op, "the remote id is not a Salesforce Case id") }
