package jirafake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Spec is a vendor OpenAPI document loaded for validation, with its router.
// A Spec is read-only once loaded and is shared by every fake in the
// process.
type Spec struct {
	Name     string
	Doc      *openapi3.T
	Router   routers.Router
	LoadTime time.Duration // parse + router build, measured once
}

// LoadSpec parses an OpenAPI document for request validation. It does not
// gate on doc.Validate(): the Atlassian specs fail it on their examples and
// enum defaults, which says nothing about the operations we check. Servers
// are replaced by "/" because gorillamux matches them, and the vendor's is a
// placeholder host. patch, when set, corrects the document first.
func LoadSpec(name string, data []byte, patch func(*openapi3.T) error) (*Spec, error) {
	start := time.Now()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load %s spec: %w", name, err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	if patch != nil {
		if err := patch(doc); err != nil {
			return nil, fmt.Errorf("patch %s spec: %w", name, err)
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s spec: %w", name, err)
	}
	return &Spec{Name: name, Doc: doc, Router: router, LoadTime: time.Since(start)}, nil
}

var (
	jiraSpecOnce sync.Once
	jiraSpec     *Spec
	jiraSpecErr  error
)

// JiraSpec returns the embedded Jira Cloud platform v3 spec, loaded once
// per process (about half a second and 20 MiB; every fake shares it).
func JiraSpec() (*Spec, error) {
	jiraSpecOnce.Do(func() {
		jiraSpec, jiraSpecErr = LoadSpec("jira-platform-v3", jiraSpecJSON, patchJiraSpec)
	})
	return jiraSpec, jiraSpecErr
}

// patchJiraSpec fixes the one operation whose schema kin-openapi cannot use.
// The attachments body is declared as an array of Spring's MultipartFile,
// which no multipart decoder can map to form parts; the operation's
// description says the part must be named "file". Stating exactly that
// keeps the body validated (multipart, a "file" part, nothing else) instead
// of excluding it.
func patchJiraSpec(doc *openapi3.T) error {
	item := doc.Paths.Value("/rest/api/3/issue/{issueIdOrKey}/attachments")
	if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
		return errors.New("addAttachment operation not found")
	}
	mt := item.Post.RequestBody.Value.Content.Get("multipart/form-data")
	if mt == nil {
		return errors.New("addAttachment has no multipart/form-data body")
	}
	file := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema().WithFormat("binary")).WithMinItems(1)
	mt.Schema = openapi3.NewObjectSchema().
		WithProperty("file", file).
		WithRequired([]string{"file"}).
		WithoutAdditionalProperties().
		NewRef()
	return nil
}

// Log is an ordered list of violations, safe for concurrent use; the
// validators of a site that serves two APIs share one.
type Log struct {
	mu   sync.Mutex
	list []string
}

// Record adds a violation.
func (l *Log) Record(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, fmt.Sprintf(format, args...))
}

// List returns the violations, oldest first.
func (l *Log) List() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.list...)
}

// Validator checks every request against a Spec before the fake handles
// it, and every JSON response the fake sends, and records what does not
// match. Invalid requests are answered 400 and never reach the handler, so
// a connector that sends a malformed request fails its tests twice: on the
// error, and on the violations list being non-empty.
type Validator struct {
	spec *Spec
	// errorBody renders a violation in the vendor's error format.
	errorBody func(msg string) any
	log       *Log
}

// NewValidator returns a validator for spec that records into log (a new
// one when nil); errorBody renders the 400 answer in the vendor's error
// format.
func NewValidator(spec *Spec, errorBody func(msg string) any, log *Log) *Validator {
	if log == nil {
		log = &Log{}
	}
	return &Validator{spec: spec, errorBody: errorBody, log: log}
}

// Log is where the validator records.
func (v *Validator) Log() *Log { return v.log }

// Violations returns what did not match the spec (or the vendor contract
// the fake enforces), oldest first.
func (v *Validator) Violations() []string { return v.log.List() }

// Record adds a violation the handler found: a contract rule the spec
// states only in prose (the XSRF header, ADF documents, deprecations).
func (v *Validator) Record(format string, args ...any) { v.log.Record(format, args...) }

// jiraDateTime accepts RFC 3339 and Jira's own timestamps, whose offset
// has no colon (2023-06-24T19:24:50.000+0000): the specs declare
// format date-time, and their own examples and Jira's responses use the
// latter.
var jiraDateTime = openapi3.NewRegexpFormatValidator(
	`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$`)

func (v *Validator) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("date-time", jiraDateTime)},
		// The specs declare basic/OAuth security; the fake checks
		// credentials itself, with the vendor's own 401.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// Filling defaults in would rewrite the request the handler sees.
		SkipSettingDefaults: true,
		MultiError:          true,
	}
}

// Wrap validates requests to next and next's JSON responses.
func (v *Validator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := v.spec.Router.FindRoute(r)
		if err != nil {
			status := http.StatusNotFound
			if errors.Is(err, routers.ErrMethodNotAllowed) {
				status = http.StatusMethodNotAllowed
			}
			msg := fmt.Sprintf("%s %s is not an operation of the %s spec: %v", r.Method, r.URL.Path, v.spec.Name, err)
			v.Record("%s", msg)
			writeJSON(w, status, v.errorBody(msg))
			return
		}
		if route.Operation.Deprecated {
			msg := fmt.Sprintf("%s %s (%s) is deprecated in the %s spec", r.Method, route.Path, route.Operation.OperationID, v.spec.Name)
			v.Record("%s", msg)
			writeJSON(w, http.StatusGone, v.errorBody(msg))
			return
		}
		opts := v.options()
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			msg := fmt.Sprintf("%s %s does not match the %s spec: %s", r.Method, r.URL.Path, v.spec.Name, Summarize(err))
			v.Record("%s", msg)
			writeJSON(w, http.StatusBadRequest, v.errorBody(msg))
			return
		}

		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.hijacked || !rec.wroteHeader {
			return // a dropped connection, or a client that gave up
		}
		if ct := rec.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
			rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status, Header: rec.Header(), Options: opts}
			rin.SetBodyBytes(rec.body.Bytes())
			if err := openapi3filter.ValidateResponse(r.Context(), rin); err != nil {
				v.Record("response %d to %s %s does not match the %s spec: %s", rec.status, r.Method, r.URL.Path, v.spec.Name, Summarize(err))
			}
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
	})
}

var spaces = regexp.MustCompile(`\s+`)

// Summarize shortens a kin-openapi error to one line: its messages carry
// the whole schema and value, which would swamp an error body.
func Summarize(err error) string {
	var parts []string
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		for _, e := range me {
			parts = append(parts, Summarize(e))
		}
		return strings.Join(parts, " | ")
	}
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// recorder buffers a response so it can be validated before it is sent.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	hijacked    bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// Hijack lets the fault injector drop the connection through the recorder.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("jirafake: the response writer cannot be hijacked")
	}
	r.hijacked = true
	return hj.Hijack()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}
