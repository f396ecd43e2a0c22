package app

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestServeReloadsConfig: `serve` is running with no connection; IT
// pushes a config that is first broken (refused, serve keeps going), then
// valid with a Jira connection: the tickets that were waiting are
// delivered without a restart.
func TestServeReloadsConfig(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1,"categories":["Network"]}`)
	for i := 0; i < 2; i++ {
		h.mustRun("--config", cfg, "report", "--summary", "waiting for IT", "--no-system-info")
	}
	ticks := make(chan time.Time)
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &cli{ctx: ctx, env: Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return h.env[k] }},
		watch: config.WatchOptions{Tick: ticks}}
	done := make(chan int, 1)
	go func() { done <- c.exit(c.run([]string{"--config", cfg, "serve"})) }()
	waitFor(t, "serve to start", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "serving") })

	tick := func() {
		select {
		case ticks <- time.Now():
		case <-time.After(10 * time.Second):
			t.Fatal("the watcher did not take the tick")
		}
	}
	if err := os.WriteFile(cfg, []byte(`{"version":1,"connections":[{"name":`), 0o600); err != nil {
		t.Fatal(err)
	}
	tick()
	waitFor(t, "the broken config to be refused", 10*time.Second, func() bool {
		return strings.Contains(stderr.String(), "config change refused; the last good config stays in force")
	})
	h.jiraConfig(jf.URL(), jirafake.APIToken) // rewrites the same config.json, now valid
	tick()
	waitFor(t, "both waiting tickets to reach Jira: "+stderr.String(), 15*time.Second, func() bool { return len(jf.Issues()) == 2 })
	if !strings.Contains(stderr.String(), `msg="config reloaded" connections=1`) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("serve exit %d after cancel\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}
