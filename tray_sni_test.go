package main

// The tray app with a tray host, as on a desktop: a StatusNotifier watcher
// (app/gui/sntest) on the session bus shows the icon; the test reads the
// menu over D-Bus and clicks it as a user would. Run under ./.ci/session.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ticketray/ticketray/app/gui/sntest"
)

// TestTrayHosted: the tray process registers its icon and menu, runs no
// windows process (and so no Fyne event loop) until a window is asked
// for, follows the queue in its status line, opens the report window when
// the menu says so, and quits from the menu with its windows process.
func TestTrayHosted(t *testing.T) {
	if os.Getenv("DISPLAY") == "" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("needs a display and a session bus; run under ./.ci/session")
	}
	w, err := sntest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"version": 1, "categories": ["Network"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := environ(t, map[string]string{
		"OFFLINE_QUEUE_DB_PATH":        filepath.Join(dir, "queue.db"),
		"OFFLINE_QUEUE_ENCRYPTION_KEY": "hosted tray test",
	})
	p := startTray(t, env, "--config", cfg)

	it, err := w.WaitItem(10 * time.Second)
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, strings.Join(p.stderr, "\n"))
	}
	if title, err := it.Property("Title"); err != nil || title != "Ticketray" {
		t.Errorf("Title = %v, %v", title, err)
	}
	if px, err := it.Property("IconPixmap"); err != nil || fmt.Sprint(px) == "[]" {
		t.Errorf("IconPixmap = %v, %v", px, err)
	}
	labels := func() string {
		t.Helper()
		entries, err := it.Menu()
		if err != nil {
			t.Fatal(err)
		}
		var ls []string
		for _, e := range entries {
			if e.Visible {
				l := e.Label
				if !e.Enabled {
					l = "(" + l + ")"
				}
				ls = append(ls, l)
			}
		}
		return strings.Join(ls, "|")
	}
	if got, want := labels(), "Report an issue…|My tickets|Help desk queue|Run diagnostics|About this computer|Settings…||(0 queued)||Quit"; got != want {
		t.Errorf("menu = %s\n  want %s", got, want)
	}
	if kids := tree(p.cmd.Process.Pid)[1:]; len(kids) != 0 {
		t.Errorf("a windows process runs before any window was asked for: %v", kids)
	}

	// A ticket queued from the CLI shows in the status line.
	if r := run(t, env, "--config", cfg, "report", "--summary", "Printer jams", "--no-system-info", "--no-skills"); r.code != 0 {
		t.Fatalf("report: %d %s", r.code, r.stderr)
	}
	var last string
	waitUntil(t, "the menu to count the ticket", 20*time.Second, func() bool {
		last = labels()
		return strings.Contains(last, "Help desk queue (1 waiting)|") && strings.Contains(last, "(1 queued)")
	}, func() string { return last })

	// A click opens the report window in a windows process.
	if err := it.Click("Report an issue…"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the report window", 30*time.Second, func() bool {
		return strings.Contains(xWindows(t), `"Report an issue — Ticketray"`)
	}, func() string { return xWindows(t) + "\nstderr:\n" + strings.Join(p.stderr, "\n") })
	if kids := tree(p.cmd.Process.Pid)[1:]; len(kids) != 1 {
		t.Errorf("windows processes: %v, want one", kids)
	}
	screenshotAs(t, "tray-hosted-report.png")

	// Quit from the menu ends both processes, cleanly. The tray may be
	// gone before its reply to the click reaches the bus (NoReply); the
	// exit below is what counts.
	var noReply dbus.Error
	if err := it.Click("Quit"); err != nil && !(errors.As(err, &noReply) && noReply.Name == "org.freedesktop.DBus.Error.NoReply") {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after Quit\nstderr:\n%s", strings.Join(p.stderr, "\n"))
	}
	for l := range p.lines {
		p.stderr = append(p.stderr, l)
	}
	if p.waitErr != nil {
		t.Errorf("after Quit: %v\nstderr:\n%s", p.waitErr, strings.Join(p.stderr, "\n"))
	}
	assertNoFyneError(t, "running", withoutPrefsRace(t, p.stderr))
	assertNoFynePreferences(t, env)
}

// waitUntil re-checks cond (a state in another process) until it holds.
// On timeout it fails with what state says.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last seen:\n%s", d, what, state())
		}
		time.Sleep(100 * time.Millisecond) // polling another process's state
	}
}

// xWindows lists the display's windows and their names.
func xWindows(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("xwininfo", "-root", "-tree").CombinedOutput()
	if err != nil {
		t.Fatalf("xwininfo (package x11-utils): %v\n%s", err, out)
	}
	return string(out)
}
