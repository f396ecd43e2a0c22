package gui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/diagnostics"
)

// The report form says why the config is not in force, above the form,
// and still saves; the line goes when the problem does.
func TestReportFormConfigProblem(t *testing.T) {
	sub := newFakeSubmitter(app.Receipt{ID: "01JTESTTICKET"}, nil)
	f, _, w, loop := newTestForm(t, sub)
	if f.configBox.Visible() {
		t.Error("configuration problem line shown without a problem")
	}
	const problem = "/etc/ticketray/config.json:2:27: syntax error: invalid character ']' looking for beginning of value (and 1 more)"
	f.setConfigProblem(problem)
	want := "Configuration problem: " + problem + " — tell IT. Your report is still saved and sent once it is fixed."
	if !f.configBox.Visible() || f.configLine.Text != want {
		t.Errorf("config line visible %v, %q\n  want visible %q", f.configBox.Visible(), f.configLine.Text, want)
	}
	// A wrapped label knows its height once it has a width: the next
	// frame lays the form out again, as the app's driver does each frame.
	f.content.Refresh()
	test.AssertImageMatches(t, "report_form_config_problem.png", w.Canvas().Capture())

	w.Canvas().Focus(f.summary)
	test.Type(f.summary, "VPN drops every hour")
	test.Tap(f.submit)
	receive(t, "Submit to be called", sub.called)
	close(sub.release)
	// With no connection in force, there is nowhere to send it yet.
	const saved = "It is sent once IT fixes the configuration."
	loop.waitFor(t, "status "+saved, func() bool { return f.doneSub.Text == saved })
	if !f.configBox.Visible() {
		t.Error("the configuration problem line went away after a save; the config is still broken")
	}

	f.setConfigProblem("")
	if f.configBox.Visible() || f.configLine.Text != "" {
		t.Errorf("config line after the fix: visible %v, %q", f.configBox.Visible(), f.configLine.Text)
	}
}

// The windows process opens its own service over a broken config: the
// report form and the main window's status say so, a report is saved,
// and fixing the file clears both without a restart.
func TestWindowsConfigProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("{\"version\": 1,\n \"categories\": [\"Network\",]\n}\n")
	env := map[string]string{
		app.EnvDBPath: filepath.Join(dir, "queue.db"), app.EnvPassphrase: "config problem",
		"HOME": dir, "XDG_DATA_HOME": filepath.Join(dir, "data"), "TICKETRAY_MANAGED_DIR": filepath.Join(dir, "managed"),
	}
	svc, err := app.Open(context.Background(), app.Options{ConfigPath: cfg, Getenv: func(k string) string { return env[k] }, Warn: func(config.Problem) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	problem := svc.ConfigProblem()
	if !strings.HasPrefix(problem, cfg+":2:") {
		t.Fatalf("ConfigProblem = %q, want it located in %s", problem, cfg)
	}

	loop := newLoop(t)
	u := newUI(loop, svc)
	u.form.collect = func(context.Context) *diagnostics.SystemInfo { return &diagnostics.SystemInfo{OSName: "debian"} }
	u.open(winReport)
	f := u.form
	if !f.configBox.Visible() || f.configLine.Text != configProblemLine(problem) {
		t.Errorf("report window: config line visible %v, %q\n  want %q", f.configBox.Visible(), f.configLine.Text, configProblemLine(problem))
	}
	f.summary.SetText("Printer jams")
	f.doSubmit()
	loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
	if n, err := svc.List(context.Background(), ""); err != nil || len(n) != 1 {
		t.Errorf("queue after the save: %d tickets, %v; want 1", len(n), err)
	}
	u.open(winMain)
	loop.waitFor(t, "the main window's status", func() bool {
		return strings.HasPrefix(u.main.status.Text, "Configuration problem: ") && strings.Contains(u.main.status.Text, " — tell IT · 1 queued")
	})

	// IT fixes the file: the watcher (polling every 2 s) clears the line.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { u.watchConfig(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond) // the watcher records the broken file first
	write(`{"version": 1, "categories": ["Network", "Printers"]}`)
	loop.pumpUntil(t, "the problem line to go", 15*time.Second, func() bool { return !f.configBox.Visible() })
	if strings.Contains(u.main.status.Text, "Configuration problem") {
		t.Errorf("main window status after the fix: %q", u.main.status.Text)
	}
	if got := strings.Join(f.category.Options, ","); got != "Network,Printers" {
		t.Errorf("categories after the fix: %s", got)
	}
	cancel()
	loop.pumpUntil(t, "the watcher to stop", 10*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
}
