package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/secrets"
	"github.com/ticketray/ticketray/connectors/webhooks"
)

// Signed webhooks for `serve --listen`: connectors/webhooks verifies and
// parses; this file supplies what it does not own. Endpoints come from the
// config in force (a reload takes effect at the next delivery), each
// webhookSecret resolved at call time and never logged; the Applier is
// the supervisor's (the sync job's mapping and storage); the counters of
// `connections list` are sealed settings in the queue, one per connection.

// WebhookOptions say where `serve` listens for webhooks.
type WebhookOptions struct {
	// Listen is the address (host:port); "" means no webhooks.
	Listen string
	// TLSCert and TLSKey are PEM files; both or neither. Without them the
	// server speaks plain HTTP, which only a loopback Listen may.
	TLSCert, TLSKey string
}

// Check refuses what the flags cannot mean: a lone --tls-cert or
// --tls-key, TLS without --listen, and plain HTTP on an address other
// hosts can reach (a webhook carries ticket data).
func (o WebhookOptions) Check() error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if o.Listen == "" {
		if o.TLSCert != "" {
			return errors.New("--tls-cert and --tls-key need --listen")
		}
		return nil
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: want host:port (%v)", o.Listen, err)
	}
	if o.TLSCert == "" && !loopbackHost(host) {
		return fmt.Errorf("--listen %s without --tls-cert/--tls-key: plain HTTP is allowed only on a loopback address (127.0.0.1, ::1, localhost); put TLS in front or give a certificate", o.Listen)
	}
	return nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WebhookServer serves POST /webhooks/<connection> for serve.
type WebhookServer struct {
	srv  *http.Server
	ln   net.Listener
	url  string
	done chan error
}

// StartWebhooks checks o, loads the certificate, listens and starts
// serving webhooks that sup applies. An error of the flags or the
// certificate is a usage error. Close stops it.
func (s *Service) StartWebhooks(sup *delivery.Supervisor, o WebhookOptions, log *slog.Logger) (*WebhookServer, error) {
	if err := o.Check(); err != nil {
		return nil, usageError{err.Error()}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var tlsConf *tls.Config
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, usagef("--tls-cert/--tls-key: %v", err)
		}
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("webhooks: listen on %s: %w", o.Listen, err)
	}
	scheme := "http"
	if tlsConf != nil {
		ln, scheme = tls.NewListener(ln, tlsConf), "https"
	}
	h := webhooks.New(webhooks.Options{
		Endpoints: webhookEndpoints{svc: s, sup: sup, log: log},
		Applier:   webhookApplier{sup},
		Stats:     &webhookStats{svc: s, known: func(name string) bool { return hasConnection(sup.Config().Config, name) }, log: log},
		Log:       log,
	})
	mux := http.NewServeMux()
	mux.Handle(webhooks.Prefix, h)
	ws := &WebhookServer{ln: ln, url: scheme + "://" + ln.Addr().String(), done: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}}
	go func() { ws.done <- ws.srv.Serve(ln) }()
	return ws, nil
}

// URL is where the server answers, e.g. https://[::]:8443; a connection's
// webhooks go to URL + webhooks.URLPath(name).
func (w *WebhookServer) URL() string { return w.url }

// Done reports the server's end: an error when it failed on its own.
func (w *WebhookServer) Done() <-chan error { return w.done }

// Close stops accepting webhooks and waits (a few seconds at most) for
// those being applied.
func (w *WebhookServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.srv.Shutdown(ctx)
	if err != nil {
		w.srv.Close()
	}
	return err
}

// Serve runs headless until ctx ends: the delivery supervisor and, with
// o.Listen, the webhook server, which stops first. ready, when set, is
// told the webhook server's URL once it listens.
func (s *Service) Serve(ctx context.Context, d DeliveryOptions, o WebhookOptions, ready func(url string)) error {
	if err := o.Check(); err != nil {
		return usageError{err.Error()}
	}
	sup := s.Supervisor(d)
	if o.Listen == "" {
		return sup.Run(ctx)
	}
	ws, err := s.StartWebhooks(sup, o, d.Logger)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ws.URL())
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		if err := <-ws.Done(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			stop(fmt.Errorf("webhooks: %w", err))
		}
	}()
	runErr := sup.Run(ctx)
	ws.Close()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return runErr
}

func hasConnection(cfg *config.Config, name string) bool {
	for _, c := range cfg.Connections {
		if c.Name == name {
			return true
		}
	}
	return false
}

// webhookKind is the wire format of a connection type's webhooks ("" for
// a type that sends none).
func webhookKind(connType string) webhooks.Kind {
	switch connType {
	case "jira", "jsm":
		return webhooks.KindJira
	case "servicenow":
		return webhooks.KindServiceNow
	case "zendesk":
		return webhooks.KindZendesk
	}
	return ""
}

// webhookEndpoints finds a connection in the config in force and resolves
// its webhookSecret now, so a config reload or a rotated secret takes
// effect at the next delivery.
type webhookEndpoints struct {
	svc *Service
	sup *delivery.Supervisor
	log *slog.Logger
}

func (e webhookEndpoints) Lookup(name string) (webhooks.Endpoint, bool) {
	l := e.sup.Config()
	for _, c := range l.Config.Enabled() {
		if c.Name != name {
			continue
		}
		kind := webhookKind(c.Type)
		if c.WebhookSecret == "" || kind == "" {
			return webhooks.Endpoint{}, false
		}
		for _, p := range l.ConnectionProblems(name) {
			if strings.HasSuffix(p.Path, ".webhookSecret") && p.IsError() {
				e.log.Warn("webhook refused: the connection's webhookSecret is refused by the config", "connection", name, "problem", p.Msg)
				return webhooks.Endpoint{}, false
			}
		}
		secret, err := e.svc.resolveSecret(c.WebhookSecret)
		if err != nil { // err names the reference, never a value
			e.log.Warn("webhook refused: the connection's webhookSecret does not resolve", "connection", name, "err", err)
			return webhooks.Endpoint{}, false
		}
		return webhooks.Endpoint{Kind: kind, Secret: []byte(secret)}, true
	}
	return webhooks.Endpoint{}, false
}

// resolveSecret reads a secret reference (env:, keyring: or a literal)
// through the service's environment and keyring; the keyring is opened
// only for a keyring: reference.
func (s *Service) resolveSecret(ref string) (string, error) {
	getenv := s.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var ring secrets.Getter
	if strings.HasPrefix(ref, "keyring:") {
		r, err := s.keyring()
		if err != nil {
			return "", fmt.Errorf("secret %s: no keyring: %w", ref, err)
		}
		ring = r
	}
	return secrets.Resolve(ref, getenv, ring)
}

// webhookApplier stores a verified event through the supervisor: the
// same status mapping and sealed storage as the sync job, and the same
// OnStatus for a change of state.
type webhookApplier struct{ sup *delivery.Supervisor }

func (a webhookApplier) Apply(ctx context.Context, connection string, ev webhooks.Event) (bool, error) {
	u, assigneeSet := ev.Update(), ev.AssigneeSet
	if ev.Action == webhooks.ActionDeleted {
		// The remote ticket is gone: nothing to record, but a ticket of
		// ours is still known (answered 204, not 202).
		u, assigneeSet = connectors.Update{Remote: u.Remote}, false
	}
	known, _, err := a.sup.Apply(ctx, connection, u, assigneeSet)
	return known, err
}

// webhookStat is what is kept of a connection's webhooks, sealed in the
// queue's settings as "webhook.<connection>".
type webhookStat struct {
	LastAt   *time.Time `json:"lastAt,omitempty"` // last verified delivery
	Rejected int        `json:"rejected"`         // refused deliveries
}

func webhookStatKey(connection string) string { return "webhook." + connection }

// readWebhookStat returns a connection's counters (zero when none were
// ever stored or they are unreadable).
func readWebhookStat(ctx context.Context, s *Service, connection string) webhookStat {
	var st webhookStat
	if b, err := s.Store.Setting(ctx, webhookStatKey(connection)); err == nil {
		_ = json.Unmarshal(b, &st)
	}
	return st
}

// webhookStats persists Stats per configured connection. A refusal for a
// name no connection has creates nothing (the URL is anyone's to make
// up), and a replay is not counted: it is the sender's retry of a
// delivery already taken.
type webhookStats struct {
	svc   *Service
	known func(name string) bool
	log   *slog.Logger
	mu    sync.Mutex // one read-modify-write at a time
}

func (w *webhookStats) Accepted(connection string, at time.Time) {
	w.update(connection, func(st *webhookStat) { t := at.UTC(); st.LastAt = &t })
}

func (w *webhookStats) Rejected(connection string, reason webhooks.Reason) {
	if reason == webhooks.ReasonUnknownConnection || reason == webhooks.ReasonReplay || !w.known(connection) {
		return
	}
	w.update(connection, func(st *webhookStat) { st.Rejected++ })
}

func (w *webhookStats) update(connection string, f func(*webhookStat)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx := context.Background()
	st := readWebhookStat(ctx, w.svc, connection)
	f(&st)
	b, _ := json.Marshal(st)
	if err := w.svc.Store.PutSetting(ctx, webhookStatKey(connection), b); err != nil {
		w.log.Warn("webhook counters not stored", "connection", connection, "err", err)
	}
}

// fillWebhooks sets a connection's lastWebhookAt and webhooksRejected
// (connections list, Settings).
func (s *Service) fillWebhooks(ctx context.Context, j *ConnectionStatus) {
	st := readWebhookStat(ctx, s, j.Name)
	j.LastWebhookAt, j.WebhooksRejected = st.LastAt, st.Rejected
}

// printWebhooks adds to `connections list` a line per connection that
// takes webhooks or has had some: when the last one came and how many
// were refused.
func printWebhooks(w io.Writer, s *Service, out []ConnectionStatus) {
	for i, conn := range s.Config.Connections {
		if i >= len(out) {
			break
		}
		j := out[i]
		if conn.WebhookSecret == "" && j.LastWebhookAt == nil && j.WebhooksRejected == 0 {
			continue
		}
		last := "never"
		if j.LastWebhookAt != nil {
			last = j.LastWebhookAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s: last webhook %s, %d rejected\n", j.Name, last, j.WebhooksRejected)
	}
}
