package connectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Class says what the queue should do after a failed call.
type Class int

const (
	// Permanent: retrying cannot help (400, 401, 403, 404, 422). The
	// delivery is dead and staff see the vendor's message.
	Permanent Class = iota
	// Retryable: try again later (network errors after connecting, 408,
	// 429, 5xx), with backoff and any Retry-After.
	Retryable
	// Offline: the server could not be reached at all (DNS, connect, TLS
	// interception). No attempt is spent; the connection pauses until a
	// probe gets through.
	Offline
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Offline:
		return "offline"
	}
	return "permanent"
}

// Error is a failed vendor call.
type Error struct {
	Op     string // create, find, status, comment, attach, check
	Class  Class
	Status int // HTTP status, 0 for transport errors
	// Message is the vendor's own text (from its error body). It may echo
	// personal data: it is stored only sealed, and never logged.
	Message string
	// RetryAfter is how long the vendor asked us to wait (Retry-After or
	// X-RateLimit-Reset), 0 if it did not say.
	RetryAfter time.Duration
	// Sent is set when the request may have reached the vendor, so the
	// outcome is unknown and a retry must look the ticket up first.
	Sent bool
	// Throttled marks a refusal for load (429, or a vendor's own rate or
	// API-limit answer such as Salesforce's 403 REQUEST_LIMIT_EXCEEDED): a
	// wait that spends no attempt, so a long limit never kills a ticket.
	Throttled bool
	Err       error
}

// IsThrottled reports whether err is a vendor's refusal for load: marked
// Throttled, or any 429.
func IsThrottled(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Throttled || e.Status == http.StatusTooManyRequests)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf classifies any error from a connector call. Errors that are not
// *Error (a bug, a bad config) are permanent.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e.Class
	}
	return Permanent
}

// StatusClass classifies an HTTP status.
func StatusClass(status int) Class {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return Retryable
	case status >= 500:
		return Retryable
	}
	return Permanent
}

// TransportError classifies an error from http.Client.Do. DNS failures,
// refused or unroutable connections and TLS failures (a captive portal
// intercepting) mean offline: the request never reached the vendor.
// Anything else (a timeout or reset after the request was written) is
// retryable with an unknown outcome.
func TransportError(op string, err error) *Error {
	e := &Error{Op: op, Class: Retryable, Sent: true, Err: err}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.Canceled):
		e.Class, e.Sent = Retryable, true
	case errors.As(err, &dnsErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL):
		e.Class, e.Sent = Offline, false
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &recErr),
		errors.As(err, &opErr) && opErr.Op == "remote error", // a TLS alert from the peer: no request was sent
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Class, e.Sent = Offline, false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		e.Class, e.Sent = Offline, false
	}
	return e
}

// RetryAfter reads how long a response asks the client to wait: the
// Retry-After header (seconds or an HTTP date), else X-RateLimit-Reset
// (Unix seconds as ServiceNow sends it, or ISO 8601 as Jira does).
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
			return clampWait(time.Duration(min(s, int64(maxWait/time.Second))) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampWait(t.Sub(now))
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			if s > 1e12 { // milliseconds
				return clampWait(time.UnixMilli(s).Sub(now))
			}
			if s > 1e9 {
				return clampWait(time.Unix(s, 0).Sub(now))
			}
			return clampWait(time.Duration(min(s, int64(maxWait/time.Second))) * time.Second)
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04Z"} {
			if t, err := time.Parse(layout, v); err == nil {
				return clampWait(t.Sub(now))
			}
		}
	}
	return 0
}

// maxWait bounds a vendor's requested wait: a day is already a sign of a
// broken header, and larger values would overflow.
const maxWait = 24 * time.Hour

func clampWait(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return min(d, maxWait)
}
