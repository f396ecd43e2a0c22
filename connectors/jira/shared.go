package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// What Jira Service Management shares with Jira: a JSM site is a Jira site,
// so the jsm connector finds requests with Jira's JQL search, attaches
// files with Jira's attachments endpoint and reads both APIs' error
// bodies with ErrorMessage.

// Label is the label on every issue Ticketray creates.
const Label = "ticketray"

// IdempotencyLabel is the label that carries a ticket's idempotency key.
// Jira labels cannot contain whitespace and are at most 255 characters.
func IdempotencyLabel(key string) (string, error) {
	l := Label + "-" + key
	if key == "" || !LabelSafe(l) {
		return "", fmt.Errorf("idempotency key cannot be used in a Jira label (it must be non-empty, without spaces, at most %d characters)", 255-len(Label)-1)
	}
	return l, nil
}

// LabelSafe reports whether s can be a Jira label as it is.
func LabelSafe(s string) bool {
	return s != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= 255 &&
		!strings.ContainsFunc(s, unicode.IsSpace)
}

// Found is an issue a search returned.
type Found struct {
	ID, Key string
}

// FindByLabel returns the oldest issue in project (a key or id) carrying
// label (the original, should a duplicate ever exist), or
// connectors.ErrNotFound. A site's search covers every project, and other
// connections on the same site (another project, a service desk) label
// their own issues: the project clause keeps the search to where this
// connection creates. It uses the enhanced JQL search (POST
// /rest/api/3/search/jql; the older /rest/api/3/search is deprecated and
// removed from Jira Cloud). Search is eventually consistent: an issue
// created seconds ago may not be found yet, which the queue's backoff
// before a retry covers.
func FindByLabel(ctx context.Context, api *rest.Client, op, project, label string) (Found, error) {
	if project == "" {
		return Found{}, &connectors.Error{Op: op, Class: connectors.Permanent, Err: errors.New("no project to search in")}
	}
	req := map[string]any{
		"jql":        fmt.Sprintf("project = %s AND labels = %s ORDER BY created ASC", jqlString(project), jqlString(label)),
		"fields":     []string{"summary"},
		"maxResults": 1,
	}
	var out struct {
		Issues []struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"issues"`
	}
	if _, err := api.Do(ctx, rest.Request{Op: op, Method: http.MethodPost, Path: "/rest/api/3/search/jql", JSON: req}, &out); err != nil {
		return Found{}, err
	}
	if len(out.Issues) == 0 {
		return Found{}, connectors.ErrNotFound
	}
	return Found{ID: out.Issues[0].ID, Key: out.Issues[0].Key}, nil
}

// jqlString quotes s as a JQL string literal.
func jqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// IssuePath is the API path of an issue (or of a sub-resource, with
// suffix). Issue ids and keys never contain a slash; one that does would
// address another resource, so it is refused.
func IssuePath(prefix, idOrKey, suffix string) (string, error) {
	if idOrKey == "" || strings.ContainsAny(idOrKey, "/?#") {
		return "", fmt.Errorf("invalid issue id or key %q", idOrKey)
	}
	return prefix + idOrKey + suffix, nil
}

// RemoteRef is the id (stable across project moves) or else the key of a
// remote issue.
func RemoteRef(r connectors.Remote) string {
	if r.ID != "" {
		return r.ID
	}
	return r.Number
}

// AttachFile uploads a as multipart/form-data (part "file") with the
// X-Atlassian-Token header, without which Jira's XSRF check answers 403.
func AttachFile(ctx context.Context, api *rest.Client, op, idOrKey string, a connectors.Attachment) error {
	path, err := IssuePath("/rest/api/3/issue/", idOrKey, "/attachments")
	if err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: err}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": a.Filename}))
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err == nil {
		_, err = part.Write(a.Data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return &connectors.Error{Op: op, Class: connectors.Permanent, Err: fmt.Errorf("encode attachment: %w", err)}
	}
	_, err = api.Do(ctx, rest.Request{
		Op: op, Method: http.MethodPost, Path: path,
		Header: http.Header{"Content-Type": {mw.FormDataContentType()}, "X-Atlassian-Token": {"no-check"}},
		Body:   &buf,
	}, nil)
	return err
}

// maxMessage bounds a vendor message kept from an error body.
const maxMessage = 1000

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// ErrorMessage extracts the vendor's text from an Atlassian error body. It
// reads every shape a Jira site answers with:
//   - ErrorCollection {errorMessages:[…], errors:{field: msg}} (Jira
//     platform), joined as "msg; field: msg";
//   - {errorMessages, warningMessages} from JQL search;
//   - ErrorResponse {errorMessage, i18nErrorMessage} (Service Management);
//   - the API gateway's {timestamp, status, error, message, path};
//   - a plain-text body (the 401 for a bad API token, the XSRF 403), or
//     an HTML page's title.
func ErrorMessage(status int, body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return ""
	}
	if b[0] == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) == nil {
			return truncate(jsonMessage(m))
		}
	}
	if b[0] == '<' {
		if t := htmlTitle.FindSubmatch(b); t != nil {
			return truncate(strings.TrimSpace(html.UnescapeString(string(t[1]))))
		}
		return ""
	}
	if !utf8.Valid(b) {
		return ""
	}
	return truncate(strings.Join(strings.Fields(string(b)), " "))
}

func jsonMessage(m map[string]json.RawMessage) string {
	var parts []string
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
		return strings.TrimSpace(string(raw))
	}
	var list []string
	if json.Unmarshal(m["errorMessages"], &list) == nil {
		for _, s := range list {
			if s = strings.TrimSpace(s); s != "" {
				parts = append(parts, s)
			}
		}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(m["errors"], &fields) == nil {
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			parts = append(parts, k+": "+str(fields[k]))
		}
	}
	if raw, ok := m["errorMessage"]; ok {
		if s := str(raw); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		// The gateway shape: "Not Found: No message available".
		for _, k := range []string{"error", "message"} {
			if raw, ok := m[k]; ok {
				if s := str(raw); s != "" && !containsString(parts, s) {
					parts = append(parts, s)
				}
			}
		}
		return strings.Join(parts, ": ")
	}
	return strings.Join(parts, "; ")
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxMessage {
		return s
	}
	return string([]rune(s)[:maxMessage]) + "…"
}
