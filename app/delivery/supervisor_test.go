package delivery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
)

// A connection the config got wrong waits as misconfigured; when a config
// change fixes it, the supervisor's new courier delivers its waiting
// tickets, and every other connection delivered all along.
func TestSupervisorReloadFixesMisconfigured(t *testing.T) {
	rig := newCourierRig(t, false, "Good", "Fixed")
	rig.cfg.Connections[1].BaseURL = "http://fixed.example.com" // not https: misconfigured
	keys := rig.report(t, 2)
	for _, m := range rig.mems {
		m.created = make(chan struct{}, 4)
	}
	changes := make(chan *config.Loaded, 1)
	var mu sync.Mutex
	var seen []error
	sup := New(Options{Store: rig.store, Config: &config.Loaded{Config: rig.cfg},
		Watch: func(ctx context.Context, on func(*config.Loaded, error)) {
			for {
				select {
				case <-ctx.Done():
					return
				case l := <-changes:
					on(l, nil)
				}
			}
		},
		OnConfig: func(_ *config.Loaded, err error) { mu.Lock(); seen = append(seen, err); mu.Unlock() },
		Courier: CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000},
			Build: func(c connectors.Connection) (connectors.Connector, error) { return rig.mems[c.Name], nil }},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	wait := func(name string) {
		t.Helper()
		for range keys {
			select {
			case <-rig.mems[name].created:
			case <-ctx.Done():
				t.Fatalf("%s did not receive its tickets", name)
			}
		}
	}
	wait("Good")
	if h := rig.health(t, "Fixed"); h.State != Misconfigured {
		t.Fatalf("Fixed before the change: %q", h.State)
	}
	fixed := *rig.cfg
	fixed.Connections = append([]connectors.Connection(nil), rig.cfg.Connections...)
	fixed.Connections[1].BaseURL = "https://fixed.example.com"
	changes <- &config.Loaded{Config: &fixed}
	wait("Fixed")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Good", "Fixed"} {
		for _, k := range keys {
			if n := rig.mems[name].count(k, name); n != 1 {
				t.Errorf("%s holds %d copies of %s", name, n, k)
			}
		}
	}
	if got := sup.Config().Config.Connections[1].BaseURL; got != "https://fixed.example.com" {
		t.Errorf("config in force: %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != nil {
		t.Errorf("OnConfig saw %v", seen)
	}
}
