package rest

import (
	"errors"
	"net/url"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

// MaxMessage bounds the vendor message kept with a failed delivery.
const MaxMessage = 1000

// Truncate cuts s to at most n bytes without splitting a character, and
// marks the cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// Redact keeps only the scheme, host and path of the URL net/http puts in
// a transport error: the query (an email, a file name, a SOQL query) and
// any user info would put ticket data or secrets in error text.
func Redact(err error) error {
	var e *connectors.Error
	if !errors.As(err, &e) || e.Err == nil {
		return err
	}
	var ue *url.Error
	if errors.As(e.Err, &ue) {
		clean := "request"
		if u, perr := url.Parse(ue.URL); perr == nil {
			clean = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
		}
		e.Err = &url.Error{Op: ue.Op, URL: clean, Err: ue.Err}
	}
	return err
}
