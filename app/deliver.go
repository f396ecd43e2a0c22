package app

import (
	"context"
	"log/slog"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
)

// DeliveryOptions say how a process delivers: serve and the tray watch the
// config, drain does not.
type DeliveryOptions struct {
	Logger *slog.Logger
	// Watch, when set, reloads the config as its files change.
	Watch *config.WatchOptions
	// OnConfig is told of each change the watcher saw (nil err) or refused.
	OnConfig func(*config.Loaded, error)
	// OnStatus is told of each ticket whose state a status sync changed.
	OnStatus func(delivery.Change)
	// Courier overrides courier settings (tests); Build defaults to the
	// connector registry.
	Courier delivery.CourierOptions
}

// Supervisor returns the delivery supervisor for this service's queue and
// config in force: the one delivery core that serve, drain and the tray
// run.
func (s *Service) Supervisor(o DeliveryOptions) *delivery.Supervisor {
	co := o.Courier
	if co.Build == nil {
		co.Build = s.buildConnector
	}
	do := delivery.Options{Store: s.Store, Config: s.loadedOrDefault(), Logger: o.Logger, Courier: co, OnConfig: o.OnConfig,
		OnStatus: o.OnStatus, Problems: connectionProblems}
	if o.Watch != nil {
		w := *o.Watch
		do.Watch = func(ctx context.Context, on func(*config.Loaded, error)) {
			s.WatchConfig(ctx, w, func(l *config.Loaded, err error) {
				if err == nil {
					s.rememberConfig(ctx, l)
				}
				on(l, err)
			})
		}
	}
	return delivery.New(do)
}

// loadedOrDefault is the config in force as a Loaded (a Service built by
// hand in tests has only Config).
func (s *Service) loadedOrDefault() *config.Loaded {
	if s.Loaded != nil && s.Loaded.Config == s.Config {
		return s.Loaded
	}
	return &config.Loaded{Config: s.Config}
}

// connectionProblems is what the shared validator found wrong with one
// connection of a loaded config.
func connectionProblems(l *config.Loaded, name string) []string {
	if len(l.Sources) == 0 {
		// Not read from files (the last good config kept in the queue, a
		// Service built by hand): check the connection with the same
		// rules, so a connection the validator refuses never delivers.
		for _, c := range l.Config.Connections {
			if c.Name == name {
				var out []string
				for _, fe := range c.Validate() {
					out = append(out, fe.Error())
				}
				return out
			}
		}
		return nil
	}
	var out []string
	for _, p := range l.ConnectionProblems(name) {
		out = append(out, p.String())
	}
	return out
}

// buildConnector makes a registered vendor connector with the connection's
// HTTP client (TLS policy, proxy, timeout, User-Agent, credentials).
func (s *Service) buildConnector(conn connectors.Connection) (connectors.Connector, error) {
	var ring connectors.SecretStore
	if r, err := s.keyring(); err == nil {
		ring = r
	}
	co := connectors.ClientOptions{UserAgent: "Ticketray/" + Version, Getenv: s.getenv, Keyring: ring}
	hc, err := connectors.NewHTTPClient(conn, co)
	if err != nil {
		return nil, err
	}
	return connectors.New(conn, connectors.Deps{HTTP: hc, Credential: connectors.CredentialResolver(conn, co)})
}

// StatusNotice is the desktop notification for a change of a ticket's
// state at the help desk, or ok false when the reporter need not hear of
// it ("INC0010023 was resolved: Replaced the toner.").
func StatusNotice(ch delivery.Change) (title, body string, ok bool) {
	if !ch.Notable() {
		return "", "", false
	}
	what := map[string]string{"resolved": "was resolved", "waiting_on_you": "is waiting for your reply"}[ch.After]
	title = ch.RemoteNumber + " " + what
	body = title
	if ch.Note != "" {
		body += ": " + ch.Note
	}
	return title, body, true
}
