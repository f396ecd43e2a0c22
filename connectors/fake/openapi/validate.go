package openapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/ticketray/ticketray/connectors/fake"
)

// Log is an ordered list of violations, safe for concurrent use.
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

// Config is what a vendor fake adds to a Validator.
type Config struct {
	// ErrorBody renders a request Wrap refuses in the vendor's error
	// format (only Wrap needs it).
	ErrorBody func(msg string) any
	// Log is where the validator records (a new one when nil). The
	// validators of a site that serves two APIs share one, so its
	// violations stay in order.
	Log *Log
	// RewritePath, when set, maps a request's path to the spec's form
	// before routing (Zendesk's optional ".json" suffix). The wrapped
	// handler gets the rewritten request, so it sees one form too.
	RewritePath func(path string) string
	// LenientDateTime accepts a date-time whose offset has no colon
	// (2023-06-24T19:24:50.000+0000) besides RFC 3339: Jira writes its
	// timestamps so, and the Atlassian specs' own examples do.
	LenientDateTime bool
}

// Validator checks requests against a Spec's operations, and with Wrap
// the JSON responses to them, and records what does not match.
type Validator struct {
	spec *Spec
	cfg  Config
	log  *Log
}

// NewValidator returns a validator for spec.
func NewValidator(spec *Spec, cfg Config) *Validator {
	log := cfg.Log
	if log == nil {
		log = &Log{}
	}
	return &Validator{spec: spec, cfg: cfg, log: log}
}

// Spec is the document the validator checks against.
func (v *Validator) Spec() *Spec { return v.spec }

// Log is where the validator records.
func (v *Validator) Log() *Log { return v.log }

// Violations returns what did not match the spec (or the vendor contract
// the fake enforces), oldest first.
func (v *Validator) Violations() []string { return v.log.List() }

// Record adds a violation the fake found itself: a rule the spec states
// only in prose, or not at all.
func (v *Validator) Record(format string, args ...any) { v.log.Record(format, args...) }

// lenientDateTime is RFC 3339 with the offset's colon optional.
var lenientDateTime = openapi3.NewRegexpFormatValidator(
	`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$`)

func (v *Validator) options() *openapi3filter.Options {
	o := &openapi3filter.Options{
		// Specs declare basic, API-key or OAuth security; each fake
		// checks credentials itself, with the vendor's own 401.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// Filling defaults in would rewrite the request the handler sees.
		SkipSettingDefaults: true,
		MultiError:          true,
	}
	if v.cfg.LenientDateTime {
		o.SchemaValidationOptions = []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("date-time", lenientDateTime)}
	}
	return o
}

func (v *Validator) rewrite(r *http.Request) *http.Request {
	if v.cfg.RewritePath == nil {
		return r
	}
	p := v.cfg.RewritePath(r.URL.Path)
	if p == r.URL.Path {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = p, ""
	return r2
}

// CheckRequest validates r against the operation it addresses, for a fake
// that validates inside its handler. It returns the operation's route and
// what does not match (nil when r matches); the route is nil when r
// addresses no operation, and the error is then the router's.
func (v *Validator) CheckRequest(r *http.Request) (*routers.Route, error) {
	r = v.rewrite(r)
	route, params, err := v.spec.Router.FindRoute(r)
	if err != nil {
		return nil, err
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: v.options()}
	return route, openapi3filter.ValidateRequest(r.Context(), in)
}

// Wrap validates every request before next handles it, and every JSON
// response next sends. A request that is not a live operation of the spec
// (404, 405, 410 when deprecated) or does not match it (400) is answered
// with ErrorBody and never reaches next.
func (v *Validator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = v.rewrite(r)
		route, params, err := v.spec.Router.FindRoute(r)
		if err != nil {
			status := http.StatusNotFound
			if errors.Is(err, routers.ErrMethodNotAllowed) {
				status = http.StatusMethodNotAllowed
			}
			v.refuse(w, status, fmt.Sprintf("%s %s is not an operation of the %s spec: %v", r.Method, r.URL.Path, v.spec.Name, err))
			return
		}
		if route.Operation.Deprecated {
			v.refuse(w, http.StatusGone, fmt.Sprintf("%s %s (%s) is deprecated in the %s spec", r.Method, route.Path, route.Operation.OperationID, v.spec.Name))
			return
		}
		opts := v.options()
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			v.refuse(w, http.StatusBadRequest, fmt.Sprintf("%s %s does not match the %s spec: %s", r.Method, r.URL.Path, v.spec.Name, Summarize(err)))
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

// refuse records msg and answers it in the vendor's error format.
func (v *Validator) refuse(w http.ResponseWriter, status int, msg string) {
	v.Record("%s", msg)
	fake.WriteJSON(w, status, "application/json;charset=UTF-8", v.cfg.ErrorBody(msg))
}

var spaces = regexp.MustCompile(`\s+`)

// Summarize shortens a kin-openapi error to one line: its messages carry
// the whole schema and value, which would swamp an error body.
func Summarize(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		parts := make([]string, 0, len(me))
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
		return nil, nil, errors.New("openapi: the response writer cannot be hijacked")
	}
	r.hijacked = true
	return hj.Hijack()
}
