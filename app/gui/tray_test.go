package gui

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

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
		{"name":"Helpdesk","type":"jira","baseUrl":"http://127.0.0.1:9","credentials":{"type":"bearer","token":"t"},"options":{"projectKey":"IT","issueType":"Task"},
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

// fakeSurface records what the tray shows.
type fakeSurface struct {
	icons     []string
	refreshes int
}

func (f *fakeSurface) setIcon(name string) { f.icons = append(f.icons, name) }
func (f *fakeSurface) refresh()            { f.refreshes++ }

// The tray menu has the entries, each asking the windows process
// for its window; the status line and icon follow the queue.
func TestTrayMenu(t *testing.T) {
	svc := openService(t)
	s := newSpawner()
	wp := &windowsProc{start: s.start, linger: time.Hour}
	defer wp.close()
	h := newHost(test.NewTempApp(t), svc, app.Env{Stderr: io.Discard}, wp)

	var labels []string
	for _, it := range h.menu.Items {
		labels = append(labels, it.Label)
	}
	if got := strings.Join(labels, "|"); got != "Report an issue…|My tickets|Help desk queue|Run diagnostics|About this computer|Settings…||…" {
		t.Errorf("menu = %s", got)
	}
	wants := []string{winReport, winMine, winQueue, winDiagnostics, winAbout, winSettings}
	for i := range wants {
		h.menu.Items[i].Action()
	}
	c := s.next(t)
	for _, want := range wants {
		if got := c.nextShow(t); got != want {
			t.Errorf("menu asked for %q, want %q", got, want)
		}
	}
	if !h.menu.Items[len(h.menu.Items)-1].Disabled {
		t.Error("the status line is clickable")
	}

	surf := &fakeSurface{}
	h.setSurface(surf)
	if h.status.Label != "0 queued" || surf.icons[len(surf.icons)-1] != "online" || surf.refreshes == 0 {
		t.Errorf("empty queue: status %q, icons %v, %d refreshes", h.status.Label, surf.icons, surf.refreshes)
	}
	if _, err := svc.Submit(context.Background(), app.Draft{Summary: "Printer jams"}); err != nil {
		t.Fatal(err)
	}
	n := surf.refreshes
	h.refresh()
	if h.status.Label != "1 queued" || h.queue.Label != "Help desk queue (1 waiting)" {
		t.Errorf("status %q, queue entry %q", h.status.Label, h.queue.Label)
	}
	if surf.icons[len(surf.icons)-1] != "offline" || surf.refreshes != n+1 {
		t.Errorf("icons %v, refreshes %d (was %d)", surf.icons, surf.refreshes, n)
	}
	h.onChild(evQuit)
	select {
	case <-h.quitCh:
	default:
		t.Error("the main window's Quit did not quit the tray")
	}
}

// The windows process's windows: each opens, is built once, and closing
// hides it; the process is busy while a window shows or a draft waits,
// and tells the tray when a ticket was saved.
func TestWindowsOpen(t *testing.T) {
	svc := openService(t)
	loop := newLoop(t)
	u := newUI(loop, svc)
	u.form.collect = func(context.Context) *diagnostics.SystemInfo {
		return &diagnostics.SystemInfo{OSName: "debian", DeviceName: "lab-pc-7"}
	}
	wakes := 0
	u.onWake = func() { wakes++ }
	if u.busy() {
		t.Error("busy before any window was opened")
	}

	tests := []struct {
		window string
		title  string
		loaded func() bool // the window's first load is done
	}{
		{winReport, "Report an issue — Ticketray", func() bool { return true }},
		{winMine, "My tickets — Ticketray", func() bool { return u.mineView != nil && u.mineView.loaded }},
		{winQueue, "Help desk queue — Ticketray", func() bool { return u.queueView != nil && u.queueView.loaded }},
		{winDiagnostics, "Diagnostics — Ticketray", func() bool { return u.windows[winDiagnostics].idle() }},
		{winSettings, "Settings — Ticketray", func() bool { return u.windows[winSettings].idle() }},
		{winAbout, "About this computer — Ticketray", func() bool { return u.windows[winAbout].idle() }},
		{winMain, "Ticketray", func() bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.window, func(t *testing.T) {
			u.open(tt.window)
			tw := u.windows[tt.window]
			if tw == nil || tw.w.Title() != tt.title {
				t.Fatalf("opened %+v, want the %q window", tw, tt.title)
			}
			if !u.busy() {
				t.Error("not busy with a window shown")
			}
			loop.waitFor(t, tt.window+" loaded", tt.loaded)
			if tt.window == winSettings && !hasCheck(tw.w.Content(), "Start Ticketray when I log in") {
				t.Error("Settings has no Start at login switch")
			}
			// Closing hides (the close button runs the intercept);
			// opening again shows the same window.
			tw.hide()
			if tw.visible {
				t.Error("closed but visible")
			}
			u.open(tt.window)
			if u.windows[tt.window] != tw {
				t.Error("a second open built a new window")
			}
			loop.waitFor(t, tt.window+" reloaded", tw.idle)
			tw.hide()
		})
	}
	loop.waitFor(t, "every window idle", func() bool { return !u.busy() })

	// A half-written report keeps the process; saving it wakes the
	// courier and shows in the main window and the queue viewer.
	f := u.form
	u.open(winReport)
	f.summary.SetText("Printer jams")
	u.windows[winReport].hide()
	if !u.busy() {
		t.Error("a closed window with a draft is not busy: the draft would be lost")
	}
	f.doSubmit()
	loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
	if wakes != 1 {
		t.Errorf("%d wakes after a save, want 1", wakes)
	}
	loop.waitFor(t, "the main window's status", func() bool { return u.main.buttons[winQueue].Text == "Help desk queue (1 waiting)" })
	u.queueChanged()
	loop.waitFor(t, "the queue viewer to list it", func() bool { return len(u.queueView.entries) == 1 })
	loop.waitFor(t, "my tickets to list it", func() bool { return len(u.mineView.entries) == 1 })
	loop.waitFor(t, "nothing in flight", func() bool { return !u.busy() })
	if got := cell(u.queueView.entries[0], 4, u.queueView.conns, u.queueView.now()); !strings.HasPrefix(got, "waiting") && got != "sending…" {
		t.Errorf("Helpdesk cell = %q, want it waiting", got)
	}
	quits := 0
	u.onQuit = func() { quits++ }
	test.Tap(u.main.quit)
	if quits != 1 {
		t.Error("the main window's Quit did not reach the tray")
	}
}

// The tray process without a tray host: it opens the main window at
// start, a second launch's request reaches the windows process, and the
// main window's Quit ends both.
func TestRunTrayHeadless(t *testing.T) {
	svc := openService(t)
	rt := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return rt
		}
		return ""
	}
	var stderr lockedBuffer
	env := app.Env{Stderr: &stderr, Getenv: getenv}
	s := newSpawner()
	wp := &windowsProc{start: s.start, linger: time.Hour}
	done := make(chan error, 1)
	go func() { done <- runTray(context.Background(), test.NewTempApp(t), svc, env, wp, headless) }()

	c := s.next(t)
	if got := c.nextShow(t); got != winMain {
		t.Errorf("at start the windows process showed %q, want the main window", got)
	}
	if strings.Contains(stderr.String(), "ready") {
		t.Error("ready before the main window was up")
	}
	c.send(t, evReady)
	_, err := claimInstance(socketPath(getenv, svc.Store.Path()), winReport, func(string) { t.Error("a second instance was started") })
	if !errors.Is(err, errRunning) {
		t.Fatalf("second launch: %v, want errRunning", err)
	}
	if got := c.nextShow(t); got != winReport {
		t.Errorf("the second launch's request showed %q", got)
	}
	c.send(t, evQuit)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runTray: %v", err)
		}
	case <-time.After(timeout):
		t.Fatal("Quit in the windows process did not end the tray")
	}
	c.waitEnded(t, "after the tray quit")
	if !strings.Contains(stderr.String(), "ticketray: ready; queue "+svc.Store.Path()) {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// hasCheck reports whether a check labelled text is among o's objects.
func hasCheck(o fyne.CanvasObject, text string) bool {
	for _, c := range walk(o) {
		if ch, ok := c.(*widget.Check); ok && ch.Text == text {
			return true
		}
	}
	return false
}
