package main

// The tray app's windows under a display, in the real binary: each window
// opened at start (TICKETRAY_OPEN) over a queue with delivered, dead and
// waiting tickets, saved as screenshots; and the single-instance handoff.
// Run under ./.ci/session (xvfb-run); TICKETRAY_ARTIFACTS keeps the PNGs.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/gui"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// trayProc is a running tray app.
type trayProc struct {
	cmd     *exec.Cmd
	lines   chan string
	exited  chan struct{}
	waitErr error
	stderr  []string
}

// startTray starts the tray app and waits for its ready line.
func startTray(t *testing.T, env []string, args ...string) *trayProc {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &trayProc{cmd: exec.Command(binary(t), args...), lines: make(chan string, 1000), exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	go func() {
		defer close(p.lines)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.exited
				t.Fatalf("ticketray exited before it was ready: %v\nstderr:\n%s", p.waitErr, strings.Join(p.stderr, "\n"))
			}
			p.stderr = append(p.stderr, l)
			if strings.HasPrefix(l, "ticketray: ready") {
				return p
			}
		case <-deadline:
			t.Fatalf("no ready line within 60 s\nstderr:\n%s", strings.Join(p.stderr, "\n"))
		}
	}
}

// stop sends SIGTERM and expects a clean exit without Fyne errors.
func (p *trayProc) stop(t *testing.T) {
	t.Helper()
	assertNoFyneError(t, "running", p.stderr)
	n := len(p.stderr)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM\nstderr:\n%s", strings.Join(p.stderr, "\n"))
	}
	for l := range p.lines {
		p.stderr = append(p.stderr, l)
	}
	if p.waitErr != nil {
		t.Errorf("after SIGTERM: %v, want exit 0\nstderr:\n%s", p.waitErr, strings.Join(p.stderr, "\n"))
	}
	assertNoFyneError(t, "quitting", withoutPrefsRace(t, p.stderr[n:]))
	assertNoFynePreferences(t, p.cmd.Env)
}

// withoutPrefsRace drops the reports of Fyne's preferences race
// (fyne-io/fyne#2936): Fyne rewrote its preferences file at quit,
// truncating it first, while a watcher read it and logged "Fyne error:
// Preferences load error:" with a Cause and an At line. Ticketray keeps
// Fyne's preferences in memory now (gui.keepPreferencesInMemory; stop
// checks that no process wrote the file), so this should drop nothing; it
// stays for a Fyne that finds another way to race. Two processes (tray
// and windows) share stderr, so a report's lines may be interleaved with
// the other's, and a process that exits mid-report leaves only its first
// lines: each header drops at most one Cause line after it, and At lines
// that point into Fyne's preferences code go wherever they are. Any other
// Fyne error stays, header and all.
func withoutPrefsRace(t testing.TB, lines []string) []string {
	t.Helper()
	var out, dropped []string
	open := 0 // headers whose Cause line has not come yet
	for _, l := range lines {
		switch {
		case strings.Contains(l, "Fyne error:") && strings.Contains(l, "Preferences load error"):
			open++
		case open > 0 && strings.HasPrefix(strings.TrimSpace(logText(l)), "Cause:"):
			open--
		case strings.HasPrefix(strings.TrimSpace(logText(l)), "At:") && strings.Contains(l, "fyne/v2@") && strings.Contains(l, "/app/preferences"):
		default:
			out = append(out, l)
			continue
		}
		dropped = append(dropped, l)
	}
	if len(dropped) > 0 {
		t.Logf("dropped Fyne's preferences race (fyne-io/fyne#2936):\n%s", strings.Join(dropped, "\n"))
	}
	return out
}

// logText is a log line without the standard logger's date and time.
func logText(l string) string {
	if len(l) > 20 && l[4] == '/' && l[7] == '/' && l[10] == ' ' && l[13] == ':' && l[16] == ':' && l[19] == ' ' {
		return l[20:]
	}
	return l
}

// assertNoFynePreferences fails if a Ticketray process wrote Fyne's
// preferences file under the config home of env (see withoutPrefsRace).
func assertNoFynePreferences(t *testing.T, env []string) {
	t.Helper()
	home := envValue(env, "XDG_CONFIG_HOME")
	if home == "" {
		return
	}
	file := filepath.Join(home, "fyne", gui.AppID, "preferences.json")
	if b, err := os.ReadFile(file); err == nil {
		t.Errorf("Fyne's preferences were written (%s: %q): Fyne truncates and rewrites that file, racing its watchers (fyne-io/fyne#2936)", file, b)
	}
}

// envValue is the value of key in an environment list ("" if unset).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// queueRig is a temporary config and queue with tickets in every state:
// delivered to a fake ServiceNow, refused (dead) by it under a wrong
// password (failing), waiting for a Jira that does not answer, and
// waiting for a Zendesk the config cannot build (misconfigured: plain
// http to a remote host, and its token's variable unset).
func queueRig(t *testing.T) []string {
	t.Helper()
	sn := snfake.New()
	addr, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if err := sn.StartAt(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sn.Close)
	closed, err := fake.Reserve() // reserved, then nobody listens
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	body := fmt.Sprintf(`{"version": 1, "categories": ["Network", "Printer", "Access"], "connections": [
		{"name": "ServiceNow", "type": "servicenow", "baseUrl": "http://%[1]s", "timeoutMs": 3000,
		 "credentials": {"type": "basic", "username": %[2]q, "password": "env:SN_PASSWORD"},
		 "mappings": {"priority": {"critical": "1", "high": "2", "default": "3"}},
		 "options": {"rateLimitPerSecond": 100}},
		{"name": "ServiceNow (old account)", "type": "servicenow", "baseUrl": "http://%[1]s", "timeoutMs": 3000, "maxRetries": 0,
		 "credentials": {"type": "basic", "username": %[2]q, "password": "env:SN_OLD_PASSWORD"}},
		{"name": "Jira", "type": "jira", "baseUrl": "http://%[3]s", "timeoutMs": 1000,
		 "credentials": {"type": "api_token", "username": %[4]q, "apiToken": "env:JIRA_TOKEN"},
		 "options": {"projectKey": %[5]q, "issueType": "Task"}},
		{"name": "Zendesk", "type": "zendesk", "baseUrl": "http://acme.zendesk.example", "timeoutMs": 1000,
		 "credentials": {"type": "api_token", "username": "it@example.com", "apiToken": "env:ZD_TOKEN"}}]}`, addr, snfake.Username, closed, jirafake.Email, jirafake.ProjectKey)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	env := environ(t, map[string]string{
		"OFFLINE_QUEUE_DB_PATH":        filepath.Join(dir, "queue.db"),
		"OFFLINE_QUEUE_ENCRYPTION_KEY": "tray windows test",
		"TICKETRAY_MANAGED_DIR":        filepath.Join(dir, "managed"),
		"SN_PASSWORD":                  snfake.Password,
		"SN_OLD_PASSWORD":              "expired",
		"JIRA_TOKEN":                   jirafake.APIToken,
	})
	for _, r := range []struct{ summary, prio string }{
		{"Printer on floor 3 jams on every page", "medium"},
		{"VPN drops every hour", "high"},
		{"Cannot open the payroll share", "critical"},
	} {
		if res := run(t, env, "--config", cfg, "report", "--summary", r.summary, "--priority", r.prio, "--no-system-info"); res.code != 0 {
			t.Fatalf("report: exit %d\n%s", res.code, res.stderr)
		}
	}
	// Deliver what can be: ServiceNow delivers, the old account is
	// refused, Jira stays waiting (so drain exits 1 at its timeout).
	if res := run(t, env, "--config", cfg, "drain", "--timeout", "4s"); res.code == 0 {
		t.Fatalf("drain exited 0 with Jira unreachable\n%s", res.stderr)
	}
	return append(env, "TICKETRAY_TEST_CONFIG="+cfg)
}

func configOf(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "TICKETRAY_TEST_CONFIG="); ok {
			return v
		}
	}
	return ""
}

// TestTrayWindows opens each window at start and saves a screenshot of
// it: queue.png, settings.png, report.png, main.png, diagnostics.png.
func TestTrayWindows(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY; run under ./.ci/session (xvfb-run)")
	}
	env := queueRig(t)
	cfg := configOf(env)
	// The settings screenshot shows a red light of each kind.
	r := run(t, env, "--config", cfg, "connections", "list", "--json")
	var conns []struct{ Name, State string }
	if err := json.Unmarshal([]byte(r.stdout), &conns); err != nil {
		t.Fatalf("connections list --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	states := map[string]string{}
	for _, c := range conns {
		states[c.Name] = c.State
	}
	if states["ServiceNow (old account)"] != "failing" || states["Zendesk"] != "misconfigured" {
		t.Errorf("connection states %v, want ServiceNow (old account) failing and Zendesk misconfigured", states)
	}
	for _, w := range []string{"queue", "settings", "report", "main", "diagnostics"} {
		t.Run(w, func(t *testing.T) {
			p := startTray(t, append(env, "TICKETRAY_OPEN="+w), "--config", cfg)
			screenshotAs(t, w+".png")
			p.stop(t)
		})
	}
}

// A second launch brings the first forward and exits 0; the first keeps
// running and opens the window the second asked for.
func TestTraySingleInstance(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY; run under ./.ci/session (xvfb-run)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"version": 1, "connections": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := environ(t, map[string]string{
		"OFFLINE_QUEUE_DB_PATH":        filepath.Join(dir, "queue.db"),
		"OFFLINE_QUEUE_ENCRYPTION_KEY": "single instance test",
		"TICKETRAY_MANAGED_DIR":        filepath.Join(dir, "managed"),
	})
	first := startTray(t, env, "--config", cfg)

	start := time.Now()
	second := run(t, append(env, "TICKETRAY_OPEN=settings"), "--config", cfg)
	if second.code != 0 {
		t.Errorf("second launch: exit %d, want 0\nstderr: %s", second.code, second.stderr)
	}
	if !strings.Contains(second.stderr, "already running") {
		t.Errorf("second launch's stderr does not say it is already running:\n%s", second.stderr)
	}
	if strings.Contains(second.stderr, "ticketray: ready") {
		t.Errorf("the second launch started a tray app of its own:\n%s", second.stderr)
	}
	t.Logf("second launch handed over in %v", time.Since(start).Round(time.Millisecond))
	const want = "ticketray: another launch asked for the settings window"
	deadline := time.After(10 * time.Second)
	for asked := false; !asked; {
		select {
		case l, ok := <-first.lines:
			if !ok {
				<-first.exited
				t.Fatalf("the first instance exited: %v\nstderr:\n%s", first.waitErr, strings.Join(first.stderr, "\n"))
			}
			first.stderr = append(first.stderr, l)
			asked = l == want
		case <-deadline:
			t.Fatalf("the first instance did not log %q within 10 s\nstderr:\n%s", want, strings.Join(first.stderr, "\n"))
		}
	}
	screenshotAs(t, "single-instance.png") // the settings window, opened by the handoff
	first.stop(t)
}

// screenshotAs captures the root window into $TICKETRAY_ARTIFACTS (or a
// temp dir) as name, once a window is painted and has stopped changing,
// and returns it. Without ImageMagick's import the test fails: `make
// test` installs it (TEST_PKGS), so a missing one is a broken setup, not
// a reason to pass unseen.
func screenshotAs(t *testing.T, name string) image.Image {
	t.Helper()
	imp, err := exec.LookPath("import")
	if err != nil {
		t.Fatalf("ImageMagick's import is not on PATH, so no screenshot can be taken: install imagemagick (make deps-test does): %v", err)
	}
	dir := os.Getenv("TICKETRAY_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	const minColours = 8 // a bare root is one colour; a window with text, many more
	// Stable means no image not seen before for a second: the windows
	// load their data in the background, and start-up work may delay it,
	// while a text cursor blinks between two images forever.
	const stableFor = time.Second
	seen := map[[32]byte]bool{}
	var since time.Time
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command(imp, "-window", "root", path).CombinedOutput()
		if err != nil {
			t.Fatalf("import -window root: %v\n%s", err, out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("screenshot %s: %v", path, err)
		}
		n := countColours(img, 256)
		sum := sha256.Sum256(b)
		if !seen[sum] || n < minColours {
			seen[sum], since = true, time.Now()
		} else if time.Since(since) >= stableFor {
			t.Logf("screenshot: %s (%d colours)", path, n)
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("screenshot %s: %d colour(s), still changing after 20 s", path, n)
		}
	}
}

func TestWithoutPrefsRace(t *testing.T) {
	const (
		head  = "2026/12/06 16:00:00 Fyne error:  Preferences load error:"
		cause = "2026/12/06 16:00:00   Cause: EOF"
		at    = "2026/12/06 16:00:00   At: /root/go/pkg/mod/fyne.io/fyne/v2@v2.7.1/app/preferences.go:97"
		other = "2026/12/06 16:00:00 Fyne error:  Window creation error"
	)
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"whole report", []string{"a", head, cause, at, "b"}, []string{"a", "b"}},
		{"interleaved with the other process", []string{head, "ticketray: ready", cause, "x", at}, []string{"ticketray: ready", "x"}},
		{"two processes at once", []string{head, head, cause, at, cause, at}, nil},
		{"cut off after the header", []string{"a", head}, []string{"a"}},
		{"cut off after the cause", []string{head, cause}, nil},
		{"another Fyne error stays", []string{other, "2026/12/06 16:00:00   Cause: GLX", head, cause, at},
			[]string{other, "2026/12/06 16:00:00   Cause: GLX"}},
		{"a cause without a header stays", []string{cause}, []string{cause}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withoutPrefsRace(t, tt.in)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
