package webhooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Prefix is the path the handler serves: POST /webhooks/<connection name>,
// the name path-escaped (see URLPath).
const Prefix = "/webhooks/"

// MaxBody is the largest body accepted (413 above it).
const MaxBody = 1 << 20

// URLPath is the path a vendor posts a connection's webhooks to.
func URLPath(connection string) string { return Prefix + url.PathEscape(connection) }

// Endpoint is what the handler needs of a connection.
type Endpoint struct {
	Kind   Kind   // the connection's type
	Secret []byte // the resolved webhookSecret; empty means webhooks are off
}

// Endpoints finds a connection by name. The app resolves webhookSecret
// (env:/keyring:) here, at call time, so a config reload takes effect.
type Endpoints interface {
	// Lookup returns the named connection's endpoint, or false if no
	// enabled connection has that name.
	Lookup(name string) (Endpoint, bool)
}

// Applier stores what a verified event says: the delivery's remote
// status, assignee and comments, through the same mapping and storage as
// the sync job.
type Applier interface {
	// Apply updates the delivery of connection whose remote ticket ev names
	// (by RemoteID, RemoteKey or ExternalID). It reports known=false, and
	// changes nothing, when no delivery matches. It must ignore an event
	// older (UpdatedAt) than what it stored, and be idempotent: a delivery
	// whose answer was lost is sent again. An error is answered 500 and the
	// sender retries.
	Apply(ctx context.Context, connection string, ev Event) (known bool, err error)
}

// Stats counts deliveries per connection, for `connections list`
// (lastWebhookAt, webhooksRejected) and Settings.
type Stats interface {
	// Accepted records a verified, applied (or unknown-ticket) delivery.
	Accepted(connection string, at time.Time)
	// Rejected records a refused delivery. For ReasonUnknownConnection the
	// name is whatever the URL said: do not create state for it.
	Rejected(connection string, reason Reason)
}

// Reason says why a delivery was refused.
type Reason string

// Reasons, each with the status it is answered with.
const (
	ReasonUnknownConnection Reason = "unknown_connection" // 404
	ReasonMethod            Reason = "method"             // 405
	ReasonTooLarge          Reason = "too_large"          // 413
	ReasonMissingSignature  Reason = "missing_signature"  // 401
	ReasonBadSignature      Reason = "bad_signature"      // 401
	ReasonStale             Reason = "stale_timestamp"    // 401
	ReasonMalformed         Reason = "malformed"          // 400
	ReasonReplay            Reason = "replay"             // 200, nothing done
)

// Options configure a Handler. Endpoints and Applier are required.
type Options struct {
	Endpoints Endpoints
	Applier   Applier
	Stats     Stats        // nil: not counted
	Replay    ReplayStore  // nil: NewMemoryReplay(ReplayWindow, 100000)
	Log       *slog.Logger // nil: slog.Default()
	Now       func() time.Time
}

// Handler serves POST /webhooks/<connection name>:
//
//	unknown connection, or no webhookSecret  404
//	not POST                                 405
//	body over 1 MiB                          413
//	missing header, bad signature, a Zendesk
//	timestamp more than 5 minutes off        401
//	malformed JSON                           400
//	a delivery id seen in the last 24 h      200, nothing changed
//	verified, about no known ticket          202, nothing changed
//	verified and applied                     204
//	Apply failed                             500 (the sender retries)
//
// A replay is answered 200 rather than 409: it is usually the sender's
// retry of a delivery whose answer was lost, which needs nothing done, and
// an error status would count toward Zendesk's circuit breaker and make
// senders retry again. Every refusal is a Stats.Rejected and a log line that names
// the connection, the reason and the sender's address, never the body.
type Handler struct {
	o Options
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler; it panics without Endpoints or Applier.
func New(o Options) *Handler {
	if o.Endpoints == nil || o.Applier == nil {
		panic("webhooks: New needs Endpoints and an Applier")
	}
	if o.Stats == nil {
		o.Stats = noStats{}
	}
	if o.Replay == nil {
		o.Replay = NewMemoryReplay(ReplayWindow, 100_000)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{o: o}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		h.reject(w, r, name, ReasonUnknownConnection, http.StatusNotFound, nil)
		return
	}
	ep, ok := h.o.Endpoints.Lookup(name)
	if !ok || len(ep.Secret) == 0 || !Supported(ep.Kind) {
		h.reject(w, r, name, ReasonUnknownConnection, http.StatusNotFound, nil)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, r, name, ReasonMethod, http.StatusMethodNotAllowed, nil)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.reject(w, r, name, ReasonTooLarge, http.StatusRequestEntityTooLarge, nil)
			return
		}
		h.o.Log.Warn("webhook: reading the body failed", "connection", name, "remote", r.RemoteAddr, "err", err)
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	now := h.o.Now()
	id, err := Verify(ep.Kind, r.Header, body, ep.Secret, now)
	if err != nil {
		h.reject(w, r, name, verifyReason(err), http.StatusUnauthorized, err)
		return
	}
	ev, err := Parse(ep.Kind, body)
	switch {
	case errors.Is(err, ErrNotTicket):
		h.o.Stats.Accepted(name, now)
		h.o.Log.Info("webhook: not about a ticket", "connection", name, "delivery", id, "err", err)
		w.WriteHeader(http.StatusAccepted)
		return
	case err != nil:
		h.reject(w, r, name, ReasonMalformed, http.StatusBadRequest, err)
		return
	}
	ev.DeliveryID, ev.Connection = id, name
	if !h.o.Replay.Reserve(id, now) {
		h.reject(w, r, name, ReasonReplay, http.StatusOK, nil, "delivery", id)
		return
	}
	known, err := h.o.Applier.Apply(r.Context(), name, ev)
	if err != nil {
		h.o.Replay.Release(id)
		h.o.Log.Error("webhook: applying the event failed", "connection", name, "delivery", id, "ticket", ev.RemoteKey, "err", err)
		http.Error(w, "the event could not be stored; retry", http.StatusInternalServerError)
		return
	}
	h.o.Stats.Accepted(name, now)
	if !known {
		h.o.Log.Info("webhook: unknown ticket", "connection", name, "delivery", id, "ticket", ev.RemoteKey)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	h.o.Log.Debug("webhook: applied", "connection", name, "delivery", id, "ticket", ev.RemoteKey, "action", ev.Action)
	w.WriteHeader(http.StatusNoContent)
}

// readBody reads at most MaxBody bytes; a longer body is a
// *http.MaxBytesError, refused from Content-Length when it says so.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, &http.MaxBytesError{Limit: MaxBody}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

func verifyReason(err error) Reason {
	switch {
	case errors.Is(err, ErrMissingSignature):
		return ReasonMissingSignature
	case errors.Is(err, ErrStale):
		return ReasonStale
	}
	return ReasonBadSignature
}

// reject counts and logs a refusal and answers it. The log names the
// error (a header name or a JSON offset), never the body or a signature.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, conn string, reason Reason, code int, err error, attrs ...any) {
	h.o.Stats.Rejected(conn, reason)
	logged := conn
	if len(logged) > 80 { // the URL's, whatever its length
		logged = logged[:80] + "…"
	}
	attrs = append(attrs, "connection", logged, "reason", string(reason), "status", code, "remote", r.RemoteAddr)
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	h.o.Log.Warn("webhook rejected", attrs...)
	if code == http.StatusOK {
		io.WriteString(w, "duplicate delivery, ignored\n")
		return
	}
	http.Error(w, http.StatusText(code), code)
}

type noStats struct{}

func (noStats) Accepted(string, time.Time) {}
func (noStats) Rejected(string, Reason)    {}
