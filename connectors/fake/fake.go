// Package fake holds what every vendor's fake server shares: scheduled
// fault injection, and a listener that can be reserved before the server
// starts (to test a connection that comes back).
package fake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Kind is a fault's kind.
type Kind int

const (
	// Respond answers with Code, Header and Body instead of the vendor
	// handler: 429 with Retry-After, 500, 503, 401, …
	Respond Kind = iota
	// Hang never answers, until the client gives up (a timeout). The
	// request is not processed.
	Hang
	// ResetAfter lets the vendor handler process the request (the ticket
	// is created), then drops the connection without an answer: the
	// client cannot know it succeeded.
	ResetAfter
	// ResetBefore drops the connection without processing the request.
	ResetBefore
	// Delay processes the request normally after Wait: server latency.
	Delay
)

// Fault is one scheduled failure.
type Fault struct {
	Kind   Kind
	Code   int
	Header http.Header
	Body   string
	Wait   time.Duration
}

// Hit records one request that a fault rule matched.
type Hit struct {
	Method, Path string
	At           time.Time
	Fault        Fault
}

type rule struct {
	method, prefix string
	faults         []Fault
	every          *Fault // applied to every matching request, after faults
}

// Injector applies scheduled faults to the requests it wraps. It is safe
// for concurrent use.
type Injector struct {
	mu    sync.Mutex
	rules []*rule
	hits  []Hit
	Now   func() time.Time
}

// Add schedules faults for the next matching requests, in order. method
// "" matches any method; prefix matches the URL path.
func (in *Injector) Add(method, prefix string, faults ...Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = append(in.rules, &rule{method: method, prefix: prefix, faults: faults})
}

// Always applies f to every matching request until Clear.
func (in *Injector) Always(method, prefix string, f Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = append(in.rules, &rule{method: method, prefix: prefix, every: &f})
}

// Clear removes every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = nil
}

// Hits returns the requests faults were applied to.
func (in *Injector) Hits() []Hit {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Hit(nil), in.hits...)
}

func (in *Injector) next(r *http.Request) (Fault, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, ru := range in.rules {
		if (ru.method != "" && ru.method != r.Method) || !strings.HasPrefix(r.URL.Path, ru.prefix) {
			continue
		}
		var f Fault
		switch {
		case len(ru.faults) > 0:
			f, ru.faults = ru.faults[0], ru.faults[1:]
		case ru.every != nil:
			f = *ru.every
		default:
			continue
		}
		now := time.Now()
		if in.Now != nil {
			now = in.Now()
		}
		in.hits = append(in.hits, Hit{Method: r.Method, Path: r.URL.Path, At: now, Fault: f})
		return f, true
	}
	return Fault{}, false
}

// Wrap applies the schedule in front of the vendor handler.
func (in *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := in.next(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.Kind == Hang || f.Kind == Delay {
			// Read the body first: Go's server notices a client that went
			// away only once the body is consumed, so a hang would outlive
			// the client's timeout and block Close forever.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		switch f.Kind {
		case Respond:
			for k, vs := range f.Header {
				w.Header()[k] = vs
			}
			if b := strings.TrimSpace(f.Body); w.Header().Get("Content-Type") == "" && (strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[")) {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(f.Code)
			w.Write([]byte(f.Body))
		case Hang:
			<-r.Context().Done()
		case ResetAfter:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			drop(w)
		case ResetBefore:
			drop(w)
		case Delay:
			select {
			case <-time.After(f.Wait):
			case <-r.Context().Done():
				return
			}
			next.ServeHTTP(w, r)
		}
	})
}

// drop closes the client's connection without an HTTP response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				tcp.SetLinger(0) // RST, not FIN: a reset after send
			}
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Reserve picks a free loopback address for a server that will start
// later. Until then, connecting to it is refused, as for a host that is
// down.
func Reserve() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// Start serves h on addr (from Reserve), or on a new port when addr is "".
func Start(addr string, h http.Handler) (*httptest.Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	return s, nil
}

// Server is the running half of a vendor fake: it serves the fake's
// handler on a fresh or reserved loopback address and can be stopped and
// started again (the fake keeps its data). Fakes embed it.
type Server struct {
	mu  sync.Mutex
	srv *httptest.Server
}

// Serve starts serving h on addr (from Reserve), or on a new port for "".
func (s *Server) Serve(addr string, h http.Handler) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("fake: already started")
	}
	srv, err := Start(addr, h)
	if err != nil {
		return fmt.Errorf("fake: start on %q: %w", addr, err)
	}
	s.srv = srv
	return nil
}

// URL is the base URL of the running server ("" when not started).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return ""
	}
	return s.srv.URL
}

// Close stops the server; it is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close() // outside the lock: it waits for running handlers
	}
}
