package gui

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// pumpUntil runs queued fyne.Do work and re-checks cond every few
// milliseconds (it may depend on work outside the UI, such as a delivery),
// failing at the deadline.
func (l *uiLoop) pumpUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		select {
		case fn := <-l.drv.queue:
			fn()
		case <-time.After(20 * time.Millisecond): // re-check a condition outside the UI
		}
	}
}

// TestTrayReloadsConfig: the tray app runs with no connection; IT pushes
// a config with a Jira connection and new categories. Within seconds the
// tray process delivers the waiting ticket to Jira and the open report
// form offers the new categories, without a restart.
func TestTrayReloadsConfig(t *testing.T) {
	jf := jirafake.New()
	if err := jf.Start(); err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	write := func(body string) {
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"version":1,"categories":["Network"]}`)
	env := map[string]string{
		app.EnvDBPath: filepath.Join(dir, "queue.db"), app.EnvPassphrase: "tray reload",
		"HOME": dir, "XDG_DATA_HOME": filepath.Join(dir, "data"), "TICKETRAY_MANAGED_DIR": filepath.Join(dir, "managed"),
	}
	getenv := func(k string) string { return env[k] }
	svc, err := app.Open(context.Background(), app.Options{ConfigPath: cfg, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Submit(context.Background(), app.Draft{Summary: "waiting for IT"}); err != nil {
		t.Fatal(err)
	}
	loop := newLoop(t)
	u := newUI(loop, svc)
	var stderr lockedBuffer
	h := newHost(loop, svc, app.Env{Stderr: &stderr, Getenv: getenv}, &windowsProc{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.deliver(ctx); close(done) }()
	go u.watchConfig(ctx)

	write(fmt.Sprintf(`{"version":1,"categories":["Network","Printers"],"connections":[{"name":"Jira","type":"jira","baseUrl":%q,
		"credentials":{"type":"api_token","username":%q,"apiToken":%q},"options":{"projectKey":%q,"issueType":"Task"}}]}`,
		jf.URL(), jirafake.Email, jirafake.APIToken, jirafake.ProjectKey))
	// The watcher polls every 2 s.
	loop.pumpUntil(t, "the waiting ticket to reach Jira", 20*time.Second, func() bool { return len(jf.Issues()) == 1 })
	loop.pumpUntil(t, "the new categories in the form", 5*time.Second, func() bool {
		return strings.Join(u.form.category.Options, ",") == "Network,Printers"
	})
	if !strings.Contains(stderr.String(), "config reloaded; 1 connection(s) enabled") {
		t.Errorf("stderr: %s", stderr.String())
	}
	cancel()
	loop.pumpUntil(t, "delivery to stop", 10*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
}

func TestBranding(t *testing.T) {
	a := test.NewTempApp(t)
	if it := helpItem(a, config.Branding{}); it != nil {
		t.Errorf("no branding: help item %+v", it)
	}
	it := helpItem(a, config.Branding{SupportContact: "IT desk, ext. 4242", SupportURL: "https://help.example.com"})
	if it == nil || it.Label != "Get help: IT desk, ext. 4242" || it.Disabled || it.Action == nil {
		t.Fatalf("help item = %+v", it)
	}
	if it := helpItem(a, config.Branding{SupportContact: "ext. 4242"}); it == nil || !it.Disabled {
		t.Errorf("contact without URL: %+v", it)
	}
	svc := &app.Service{Config: &config.Config{Branding: config.Branding{AppName: "Acme Help"}}}
	if got := brandName(svc); got != "Acme Help" {
		t.Errorf("brandName = %q", got)
	}
	svc.Config.Branding.AppName = ""
	if got := brandName(svc); got != "Ticketray" {
		t.Errorf("default brandName = %q", got)
	}
}
