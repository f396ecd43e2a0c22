package gui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/diagnostics"
)

// openService opens a real service on a temporary queue and config.
func openService(t *testing.T) *app.Service {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	// A connection nobody answers: tickets wait in the queue.
	if err := os.WriteFile(cfg, []byte(`{"version":1,"categories":["Network","Printer"],"connections":[
		{"name":"Helpdesk","type":"jira","baseUrl":"http://127.0.0.1:9","credentials":{"type":"bearer","token":"t"},"options":{"projectKey":"IT"},
		 "mappings":{"priority":{"critical":"Highest","default":"Medium"}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		app.EnvDBPath:           filepath.Join(dir, "queue.db"),
		app.EnvPassphrase:       "tray test",
		"HOME":                  dir,
		"XDG_DATA_HOME":         filepath.Join(dir, "data"),
		"TICKETRAY_MANAGED_DIR": filepath.Join(dir, "managed"),
	}
	svc, err := app.Open(context.Background(), app.Options{ConfigPath: cfg, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// The tray menu has the entries, each opening its window, built
// once and reused; the status line follows the queue.
func TestTrayMenuOpensWindows(t *testing.T) {
	svc := openService(t)
	loop := newLoop(t)
	tr := newTray(loop, svc)
	tr.form.collect = func(context.Context) *diagnostics.SystemInfo {
		return &diagnostics.SystemInfo{OSName: "debian", DeviceName: "lab-pc-7"}
	}

	var labels []string
	for _, it := range tr.menu.Items {
		labels = append(labels, it.Label)
	}
	if got := strings.Join(labels, "|"); got != "Report an issue…|My tickets|Help desk queue|Run diagnostics|Settings…||…" {
		t.Errorf("menu = %s", got)
	}

	tests := []struct {
		item   int
		window string
		title  string
		idle   func() bool // the window's first load is done
	}{
		{0, winReport, "Report an issue — Ticketray", func() bool { return true }},
		{1, winMine, "My tickets — Ticketray", func() bool { return tr.mineView != nil && tr.mineView.loaded }},
		{2, winQueue, "Help desk queue — Ticketray", func() bool { return tr.queueView != nil && tr.queueView.loaded }},
		{3, winDiagnostics, "Diagnostics — Ticketray", func() bool { return true }},
		{4, winSettings, "Settings — Ticketray", func() bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.window, func(t *testing.T) {
			tr.menu.Items[tt.item].Action()
			tw := tr.windows[tt.window]
			if tw == nil || tw.w.Title() != tt.title {
				t.Fatalf("menu item %d opened %+v, want the %q window", tt.item, tw, tt.title)
			}
			loop.waitFor(t, tt.window+" loaded", tw.idle)
			// Closing hides; opening again shows the same window.
			tw.w.Close()
			tr.open(tt.window)
			if tr.windows[tt.window] != tw {
				t.Error("a second open built a new window")
			}
			loop.waitFor(t, tt.window+" reloaded", tw.idle)
		})
	}
	if len(tr.windows) != len(tests) {
		t.Errorf("%d windows built, want %d", len(tr.windows), len(tests))
	}

	// A report saved through the form shows in the status, the main
	// window and the queue viewer.
	tr.open(winMain)
	f := tr.form
	f.summary.SetText("Printer jams")
	f.doSubmit()
	loop.waitFor(t, "the save", func() bool { return strings.HasPrefix(f.status.Text, "Saved") })
	tr.refresh()
	loop.waitFor(t, "the status", func() bool { return tr.status.Label == "1 queued" })
	if tr.queue.Label != "Help desk queue (1 waiting)" || tr.main.buttons[winQueue].Text != "Help desk queue (1 waiting)" {
		t.Errorf("queue entry %q, main window button %q", tr.queue.Label, tr.main.buttons[winQueue].Text)
	}
	tr.queueChanged()
	loop.waitFor(t, "the queue viewer to list it", func() bool { return len(tr.queueView.entries) == 1 })
	loop.waitFor(t, "my tickets to list it", func() bool { return len(tr.mineView.entries) == 1 })
	for name, tw := range tr.windows {
		loop.waitFor(t, name+" to be idle", tw.idle)
	}
	if got := cell(tr.queueView.entries[0], 4, tr.queueView.conns, tr.queueView.now()); !strings.HasPrefix(got, "waiting") && got != "sending…" {
		t.Errorf("Helpdesk cell = %q, want it waiting", got)
	}
}
