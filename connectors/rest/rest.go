// Package rest is the small JSON-over-HTTP helper the vendor connectors
// share: it sends a request, decodes a 2xx body, and turns anything else
// into a classified *connectors.Error carrying the vendor's own message.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ticketray/ticketray/connectors"
)

// maxBody bounds what is read from a response: a misbehaving server must
// not exhaust memory.
const maxBody = 4 << 20

// Client sends JSON requests to one base URL.
type Client struct {
	Base *url.URL
	HTTP *http.Client
	// Message extracts the vendor's error text from an error response
	// body; it returns "" when the body is not in the vendor's format.
	Message func(status int, body []byte) string
	Now     func() time.Time
}

// New parses base and returns a Client.
func New(base string, hc *http.Client, message func(int, []byte) string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("baseUrl: %w", err)
	}
	return &Client{Base: u, HTTP: hc, Message: message, Now: time.Now}, nil
}

// Request is one call.
type Request struct {
	Op     string // for errors: create, find, …
	Method string
	Path   string // joined to the base URL's path
	Query  url.Values
	Header http.Header
	JSON   any       // marshalled as the body when set
	Body   io.Reader // a raw body (with Header's Content-Type) when JSON is nil
}

// URL returns the absolute URL for a path under the base.
func (c *Client) URL(path string, q url.Values) *url.URL {
	u := *c.Base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return &u
}

// Do sends r and decodes a 2xx JSON body into out (if non-nil). Other
// statuses and transport failures return *connectors.Error.
func (c *Client) Do(ctx context.Context, r Request, out any) (*http.Response, error) {
	body := r.Body
	if r.JSON != nil {
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, &connectors.Error{Op: r.Op, Class: connectors.Permanent, Err: fmt.Errorf("encode request: %w", err)}
		}
		body = bytes.NewReader(b)
	}
	// Whether the request was written decides what a failure means: one
	// that never left (a dial or handshake timeout) cannot have acted.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }})
	req, err := http.NewRequestWithContext(ctx, r.Method, c.URL(r.Path, r.Query).String(), body)
	if err != nil {
		return nil, &connectors.Error{Op: r.Op, Class: connectors.Permanent, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if r.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v) // canonical keys: no duplicate header under another case
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// The query may hold an email or a file name: errors name the path only.
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				u.RawQuery, u.User = "", nil
				ue.URL = u.String()
			}
		}
		if e := asError(err); e != nil {
			if e.Op == "" || e.Op == "request" {
				e.Op = r.Op
			}
			return nil, e
		}
		e := connectors.TransportError(r.Op, err)
		if !wrote.Load() && e.Class == connectors.Retryable {
			e.Class, e.Sent = connectors.Offline, false
		}
		return nil, e
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The vendor answered but the body was cut off: it may have acted.
		return resp, connectors.TransportError(r.Op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		h := resp.Header
		if resp.StatusCode != http.StatusTooManyRequests && h.Get("X-RateLimit-Reset") != "" {
			// ServiceNow sends the reset time on every response a rate rule
			// matches; it is a wait only when the request was refused for it.
			h = h.Clone()
			h.Del("X-RateLimit-Reset")
		}
		e := &connectors.Error{Op: r.Op, Class: connectors.StatusClass(resp.StatusCode), Status: resp.StatusCode,
			RetryAfter: connectors.RetryAfter(h, c.now()), Sent: resp.StatusCode >= 500, Throttled: resp.StatusCode == http.StatusTooManyRequests}
		if c.Message != nil {
			e.Message = c.Message(resp.StatusCode, data)
		}
		return resp, e
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			// A 2xx we cannot read: the vendor may have acted, so the
			// outcome is unknown and a retry will look it up first.
			return resp, &connectors.Error{Op: r.Op, Class: connectors.Retryable, Status: resp.StatusCode, Sent: true, Err: fmt.Errorf("decode response: %w", err)}
		}
	}
	return resp, nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// asError finds a *connectors.Error the transport returned (the TLS policy
// or an OAuth token failure) inside the *url.Error wrapper.
func asError(err error) *connectors.Error {
	for err != nil {
		if e, ok := err.(*connectors.Error); ok {
			return e
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil
		}
		err = u.Unwrap()
	}
	return nil
}
