package gui

import (
	"slices"
	"strings"

	"github.com/ticketray/ticketray/app/config"
)

// configLocks is what IT pushed, from the layered config: the keys the
// managed files lock ("locked": "connections", "policy.retentionDays",
// …), and the connections a managed file defines, which the user's file
// cannot change (a managed layer wins for every key it sets).
type configLocks struct {
	locked       []string
	managedConns map[string]bool
}

func newConfigLocks(l *config.Loaded) lockInfo {
	if l == nil || l.Config == nil {
		return noLocks{}
	}
	managed := map[string]bool{}
	for _, li := range l.Layers {
		if li.Kind == config.KindManaged {
			managed[li.Path] = true
		}
	}
	c := configLocks{locked: l.Config.Locked, managedConns: map[string]bool{}}
	esc := strings.NewReplacer("~", "~0", "/", "~1") // JSON pointer
	for _, conn := range l.Config.Connections {
		if managed[l.Sources["/connections/"+esc.Replace(conn.Name)]] {
			c.managedConns[conn.Name] = true
		}
	}
	return c
}

func (c configLocks) Locked(key string) bool {
	if slices.Contains(c.locked, key) {
		return true
	}
	name, ok := strings.CutPrefix(key, "connections.")
	return ok && c.managedConns[name]
}
