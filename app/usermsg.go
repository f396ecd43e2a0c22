package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// Trouble is what went wrong, as far as an end user needs to know it. The
// report window and My tickets show its sentence; the vendor's own text
// stays in the help desk queue and `queue show`.
type Trouble int

// The kinds of trouble, from the most to the least specific.
const (
	TroubleNone        Trouble = iota
	TroubleOffline             // the help desk's system cannot be reached (no network, refused, DNS)
	TroubleTimeout             // it did not answer in time
	TroubleBusy                // it asked us to wait (429, a rate limit)
	TroubleServer              // it failed on its side (5xx)
	TroubleCredentials         // it rejected this computer's credentials (401, 403)
	TroubleSignIn              // the user has to sign in (oauth2_user)
	TroubleConfig              // Ticketray is set up wrong on this computer
	TroubleDiskFull            // no room to save
	TroubleStorage             // the queue cannot be written (locked, read-only, damaged)
	TroubleRefused             // the vendor refused the ticket itself (another 4xx)
	TroubleOther
)

// Sentence is the trouble in plain words: what happened and what to do.
func (t Trouble) Sentence() string {
	switch t {
	case TroubleNone:
		return ""
	case TroubleOffline:
		return "This computer cannot reach the help desk's system right now (no network, or the system is down). It is sent automatically once it can."
	case TroubleTimeout:
		return "The help desk's system did not answer in time. It is tried again automatically."
	case TroubleBusy:
		return "The help desk's system is busy and asked to wait. It is tried again automatically."
	case TroubleServer:
		return "The help desk's system has a problem of its own right now. It is tried again automatically."
	case TroubleCredentials:
		return "The help desk's system did not accept this computer's sign-in details. Please tell IT; your report is kept until it is fixed."
	case TroubleSignIn:
		return "You need to sign in to the help desk's system: open Settings and choose Sign in."
	case TroubleConfig:
		return "Ticketray is not set up correctly on this computer. Please tell IT; your report is kept until it is fixed."
	case TroubleDiskFull:
		return "The disk is full. Free some space and try again."
	case TroubleStorage:
		return "Ticketray cannot save on this computer right now. Try again; if it keeps happening, tell IT."
	case TroubleRefused:
		return "The help desk's system refused it. The help desk can see why in its queue."
	}
	return "Something went wrong. Try again; if it keeps happening, tell IT."
}

// When is a time for people as the CLI prints it: date, time, zone and
// how far from now ("2026-12-06 18:05 UTC (in 2 min)").
func When(t, now time.Time) string { return when(t, now) }

// Relative is how far t is from now: "in 2 min", "3 h ago", "now".
func Relative(t, now time.Time) string { return relative(t, now) }

// UserMessage is err in plain words for an end user ("" for nil).
func UserMessage(err error) string { return TroubleOf(err).Sentence() }

// TroubleOf classifies an error by its type where it has one, else by its
// text.
func TroubleOf(err error) Trouble {
	if err == nil {
		return TroubleNone
	}
	var ce *connectors.Error
	var corrupt *queue.CorruptError
	var netErr net.Error
	switch {
	case errors.Is(err, queue.ErrDiskFull), errors.Is(err, syscall.ENOSPC):
		return TroubleDiskFull
	case errors.Is(err, queue.ErrReadOnly), errors.Is(err, queue.ErrWrongKey), errors.As(err, &corrupt):
		return TroubleStorage
	case connectors.IsSignInRequired(err):
		return TroubleSignIn
	case connectors.IsThrottled(err):
		return TroubleBusy
	case errors.As(err, &ce) && ce.Status != 0:
		return troubleOfStatus(ce.Status)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return TroubleTimeout
	case errors.As(err, &ce) && ce.Class == connectors.Offline:
		return TroubleOffline
	}
	return TroubleOfText(err.Error())
}

func troubleOfStatus(status int) Trouble {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return TroubleCredentials
	case status == http.StatusTooManyRequests:
		return TroubleBusy
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return TroubleTimeout
	case status >= 500:
		return TroubleServer
	case status >= 400:
		return TroubleRefused
	}
	return TroubleOther
}

// textTroubles match an error's text, first match wins: a delivery's last
// error is kept as text, so its type is gone by the time it is shown.
var textTroubles = []struct {
	t    Trouble
	subs []string
}{
	{TroubleDiskFull, []string{"disk is full", "disk full", "no space left", "database or disk is full"}},
	{TroubleSignIn, []string{"sign-in required", "connections login"}},
	{TroubleConfig, []string{"misconfigured", "invalid config", "no keyring", "secret not found", "configuration"}},
	{TroubleStorage, []string{"database is locked", "database is closed", "read-only", "readonly", "is corrupt", "encryption key does not match"}},
	{TroubleBusy, []string{"http 429", "rate limit", "rate-limit", "request_limit_exceeded", "too many requests"}},
	{TroubleCredentials, []string{"http 401", "http 403", "credentials rejected", "unauthorized", "forbidden"}},
	// A failed dial is offline even when it timed out.
	{TroubleOffline, []string{"dial tcp", "dial udp", "connection refused", "no such host", "network is unreachable", "no route to host", "connection reset", "offline", "unexpected eof", ": eof"}},
	{TroubleTimeout, []string{"http 408", "http 504", "deadline exceeded", "timeout", "timed out"}},
	{TroubleServer, []string{"http 5", "503 service unavailable", "500 internal server error", "502 bad gateway", "circuit breaker open"}},
	{TroubleRefused, []string{"http 4", "400 bad request", "404 not found", "422 "}},
}

var httpStatus = regexp.MustCompile(`\bHTTP ([1-5][0-9][0-9])\b`)

// TroubleOfText classifies an error kept as text (a delivery's last
// error).
func TroubleOfText(s string) Trouble {
	if strings.TrimSpace(s) == "" {
		return TroubleNone
	}
	// The status is the help desk's own verdict; the text after it is
	// theirs (or the ticket's, echoed) and must not decide.
	if m := httpStatus.FindStringSubmatch(s); m != nil {
		code, _ := strconv.Atoi(m[1])
		if t := troubleOfStatus(code); t != TroubleOther {
			return t
		}
	}
	low := strings.ToLower(s)
	for _, tt := range textTroubles {
		for _, sub := range tt.subs {
			if strings.Contains(low, sub) {
				return tt.t
			}
		}
	}
	return TroubleOther
}
