package app

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketray/ticketray/queue"
)

// Why the config in force holds a connection's deliveries back: they
// stay queued (connections remove --pending keep, or a connection taken
// out of the file by hand) and no courier claims them.
const (
	HeldNotConfigured = "not configured"
	HeldDisabled      = "disabled"
)

// heldByConfig is, for each connection of ds with work left, why the
// config in force holds it back (see ConnectionHeld); nil when nothing
// is held.
func (s *Service) heldByConfig(ds []queue.Delivery) map[string]string {
	var held map[string]string
	for _, d := range ds {
		if d.State != queue.StatePending && d.State != queue.StateRetry {
			continue
		}
		if why := s.ConnectionHeld(d.Connection); why != "" {
			if held == nil {
				held = map[string]string{}
			}
			held[d.Connection] = why
		}
	}
	return held
}

// ConnectionHeld says whether the config in force (the routing config of
// a long-lived process) holds back the deliveries to connection name:
// HeldNotConfigured, HeldDisabled, or "" when it delivers them.
func (s *Service) ConnectionHeld(name string) string {
	if cfg := s.routing(); cfg != nil {
		for _, c := range cfg.Connections {
			if c.Name == name {
				if !c.IsEnabled() {
					return HeldDisabled
				}
				return ""
			}
		}
	}
	return HeldNotConfigured
}

// HeldReason says for the help desk why a delivery to connection name
// waits when the config holds it back (held is HeldNotConfigured or
// HeldDisabled), and what to do; "" for anything else.
func HeldReason(name, held string) string {
	switch held {
	case HeldNotConfigured:
		return fmt.Sprintf("connection %q is not configured (removed?) — add it back under that name, or mark its deliveries dead (ticketray connections remove %q --yes --pending dead)", name, name)
	case HeldDisabled:
		return fmt.Sprintf("connection %q is disabled in the config — enable it, or delete the ticket", name)
	}
	return ""
}

// explainWaits says why each delivery of j (the show form of e) still
// waits, as `queue show` and the queue view's details print it: the
// config holding it back first, then the connection's recorded health
// and its own last error.
func (s *Service) explainWaits(ctx context.Context, e Entry, j *entryJSON) {
	health, now := s.healthMap(ctx), time.Now()
	for i, d := range j.Deliveries {
		var next time.Time
		if d.NextAttemptAt != nil {
			next = *d.NextAttemptAt
		}
		j.Deliveries[i].Waiting = whyWaiting(e.Held, d.Connection, d.State, next, d.LastError, health, now)
	}
}

// healthMap is the recorded health of every connection, by name; nil
// when it cannot be read.
func (s *Service) healthMap(ctx context.Context) map[string]queue.Health {
	hs, err := s.Store.Health(ctx)
	if err != nil {
		return nil
	}
	m := make(map[string]queue.Health, len(hs))
	for _, h := range hs {
		m[h.Connection] = h
	}
	return m
}
