package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// WriteJSON answers v as JSON with status. contentType is the vendor's
// own, charset spelling included, so clients see what the vendor sends.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

// Started starts f on a fresh loopback port and returns it, for a fake's
// Start(opts...) = Started(New(opts...)).
func Started[F interface{ StartAt(addr string) error }](f F) F {
	if err := f.StartAt(""); err != nil {
		panic(err) // a loopback listener: only a broken test machine fails here
	}
	return f
}

// Clock is a settable clock for tests: it moves only when told to.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ReadBody reads each request's body, at most max+1 bytes, before next
// sees it: net/http notices that a client went away (and cancels the
// request's context) only once the body is read, so a Hang fault would
// otherwise outlive the client's timeout and Close would wait for it.
// refuse answers a body that failed to read or ran over max (tooLarge) in
// the vendor's format, and reports whether it did.
func ReadBody(next http.Handler, max int, refuse func(w http.ResponseWriter, err error, tooLarge bool) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
		if refuse(w, err, len(b) > max) {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		next.ServeHTTP(w, r)
	})
}
