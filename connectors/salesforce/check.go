package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// describeField is what Check reads of a field in the Case describe.
type describeField struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	ExternalID    bool   `json:"externalId"`
	Unique        bool   `json:"unique"`
	Createable    bool   `json:"createable"`
	Updateable    bool   `json:"updateable"`
	RestrictedPL  bool   `json:"restrictedPicklist"`
	PicklistValue []struct {
		Value  string `json:"value"`
		Active bool   `json:"active"`
	} `json:"picklistValues"`
}

var _ connectors.Reporter = (*Connector)(nil)

// probeKey is the key Check looks for: no Case carries it.
const probeKey = "ticketray-connection-check"

// Check proves the credentials, the API version and the setup the
// connector needs, writing nothing. First it runs Find's own query (for a
// key no Case carries), which proves the token, read access to Case and
// that the external ID field exists; then it reads the Case describe to
// tell whether the user may create and edit Cases, the field is an
// External ID, Unique and writable, the Origin value exists and the
// category field (when set) is writable. Its errors say what to fix. The
// org's API usage (Sforce-Limit-Info) is added to them; Report returns it
// on success.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.Report(ctx)
	return err
}

// Report is Check that also returns what connections test can show on
// success: the org's API usage, as Sforce-Limit-Info reports it.
func (c *Connector) Report(ctx context.Context) (string, error) {
	const op = "check"
	if _, err := c.Find(ctx, probeKey); err != nil && !errors.Is(err, connectors.ErrNotFound) {
		var e *connectors.Error
		if errors.As(err, &e) && e.Op == "find" {
			e.Op = op
		}
		return "", c.withUsage(c.explainCheck(err))
	}
	var d struct {
		Name       string          `json:"name"`
		Createable bool            `json:"createable"`
		Updateable bool            `json:"updateable"`
		Fields     []describeField `json:"fields"`
	}
	_, err := c.do(ctx, rest.Request{Op: op, Method: http.MethodGet, Path: c.data + "/sobjects/Case/describe"}, &d)
	var e *connectors.Error
	switch {
	case errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status == http.StatusOK):
		// No describe here (or not one we can read): the query above
		// already proved what matters most.
		return c.usageText(), nil
	case err != nil:
		return "", c.withUsage(c.explainCheck(err))
	case d.Name != "Case":
		return c.usageText(), nil
	}
	if problems := c.describeProblems(d.Createable, d.Updateable, d.Fields); len(problems) > 0 {
		return "", c.withUsage(permanent(op, strings.Join(problems, "; ")))
	}
	return c.usageText(), nil
}

// describeProblems lists what the Case describe shows is missing.
func (c *Connector) describeProblems(createable, updateable bool, list []describeField) []string {
	var problems []string
	if !createable || !updateable {
		problems = append(problems, "the user may not create and edit Cases: give the integration user Read, Create and Edit on Case (a permission set)")
	}
	fields := map[string]describeField{}
	for _, f := range list {
		fields[strings.ToLower(f.Name)] = f
	}
	ext, ok := fields[strings.ToLower(c.extField)]
	switch {
	case !ok:
		problems = append(problems, c.missingField())
	case !ext.ExternalID:
		problems = append(problems, fmt.Sprintf("Case.%s is not an External ID: tick External ID (and Unique) on the field", c.extField))
	case !ext.Createable || !ext.Updateable:
		problems = append(problems, fmt.Sprintf("the user may not write Case.%s: grant Edit on it (field-level security)", c.extField))
	}
	if ok && ext.ExternalID && !ext.Unique {
		problems = append(problems, fmt.Sprintf("Case.%s is not Unique: without it upserts need View All Data and two at once can both create", c.extField))
	}
	if o, ok := fields["origin"]; ok && o.RestrictedPL && !hasValue(o, c.origin) {
		problems = append(problems, fmt.Sprintf("Case Origin has no value %q: add it to the Case Origin picklist", c.origin))
	}
	if c.catField != "" {
		if f, ok := fields[strings.ToLower(c.catField)]; !ok || !f.Createable {
			problems = append(problems, fmt.Sprintf("Case has no field %s the user can write (options.categoryField)", c.catField))
		}
	}
	return problems
}

func (c *Connector) missingField() string {
	return fmt.Sprintf("Case has no field %s the user can see: create a Text(255) custom field with External ID and Unique set, and grant the user Edit on it (field-level security)", c.extField)
}

func hasValue(f describeField, v string) bool {
	for _, p := range f.PicklistValue {
		if p.Active && p.Value == v {
			return true
		}
	}
	return false
}

// explainCheck adds a hint for the usual setup mistakes to a failed
// describe.
func (c *Connector) explainCheck(err error) error {
	var e *connectors.Error
	if !errors.As(err, &e) {
		return err
	}
	hint := ""
	code := errorCode(e.Message)
	switch {
	case e.Op == "oauth2 token" && strings.HasPrefix(e.Message, "invalid_client"):
		hint = "the token endpoint refused the client: check clientId (the consumer key) and clientSecret (the consumer secret)"
	case e.Op == "oauth2 token" && strings.Contains(e.Message, "client credentials user"):
		hint = "enable the Client Credentials Flow on the app and set its Run As user"
	case e.Op == "oauth2 token" && e.Status != 0:
		hint = "the token request failed: tokenUrl must be <My Domain>/services/oauth2/token and the app must allow the client credentials flow"
	case e.Status == http.StatusUnauthorized:
		hint = "the org refused the token: a bearer token must be a current OAuth access token (session id), not the consumer secret, a security token or a password"
	case code == "API_DISABLED_FOR_ORG" || code == "API_CURRENTLY_DISABLED":
		hint = "the org's edition or the user's profile does not allow API access (API Enabled permission)"
	case code == "INSUFFICIENT_ACCESS" || code == "INSUFFICIENT_ACCESS_OR_READONLY":
		hint = "the user may not read Cases: give the integration user a permission set with Read, Create and Edit on Case"
	case code == "INVALID_FIELD" && strings.Contains(strings.ToLower(e.Message), strings.ToLower("'"+c.extField+"'")):
		hint = c.missingField()
	case code == "INVALID_FIELD" || code == "MALFORMED_QUERY" || code == "INVALID_TYPE":
		hint = "the org refused the query Ticketray finds Cases with: can the user read Case, its Origin and options.externalIdField?"
	case code == "REQUEST_LIMIT_EXCEEDED":
		hint = "the org's daily API request limit is used up; deliveries wait until it frees up"
	case e.Status == http.StatusNotFound:
		hint = fmt.Sprintf("the org has no REST API %s at this address: check baseUrl (the My Domain URL) and options.apiVersion", strings.TrimPrefix(c.data, "/services/data/"))
	case e.Status >= 200 && e.Status < 400:
		// A web page, or a redirect to one: not the REST API. Check wrote
		// nothing, so this is a setup mistake, not an unknown outcome.
		hint = "the baseUrl does not answer like a Salesforce org's REST API: use the org's My Domain URL, https://<org>.my.salesforce.com"
		e.Class, e.Sent = connectors.Permanent, false
	}
	if hint != "" {
		if e.Err != nil {
			e.Err = fmt.Errorf("%s: %w", hint, e.Err)
		} else {
			e.Err = errors.New(hint)
		}
	}
	return err
}

// withUsage adds the org's API usage to a Check error.
func (c *Connector) withUsage(err error) error {
	var e *connectors.Error
	if u := c.usageText(); u != "" && errors.As(err, &e) {
		if e.Err != nil {
			e.Err = fmt.Errorf("%w (%s)", e.Err, u)
		} else {
			e.Err = errors.New(u)
		}
	}
	return err
}

// usageText renders Sforce-Limit-Info ("api-usage=18/5000") as "API
// requests in the last 24 hours: 18 of 5000".
func (c *Connector) usageText() string {
	v := c.APIUsage()
	for _, part := range strings.Split(v, ",") {
		if u, ok := strings.CutPrefix(strings.TrimSpace(part), "api-usage="); ok {
			if used, limit, ok := strings.Cut(u, "/"); ok {
				return fmt.Sprintf("API requests in the last 24 hours: %s of %s", used, limit)
			}
		}
	}
	return ""
}
