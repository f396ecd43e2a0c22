package main

// Smoke tests of the real binary: what only shows in a built executable
// (package init order, D-Bus autolaunch, the tray app under a display).
// The tray test needs a display: `make test` runs it under xvfb-run via
// .ci/session; locally: ./.ci/session go test -run Smoke -v .

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ticketray-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds ./ticketray once per test run and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		// go test puts its own toolchain first on PATH.
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binPath = filepath.Join(binDir, "ticketray")
		start := time.Now()
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		t.Logf("built %s in %v", binPath, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// environ is this process's environment without Ticketray's own variables,
// with home and XDG directories in a temp dir, then vars applied: an empty
// value removes the variable.
func environ(t testing.TB, vars map[string]string) []string {
	t.Helper()
	home := t.TempDir()
	set := map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME":   filepath.Join(home, "data"),
		"XDG_CACHE_HOME":  filepath.Join(home, "cache"),
	}
	for k, v := range vars {
		set[k] = v
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || strings.HasPrefix(k, "OFFLINE_QUEUE_") || strings.HasPrefix(k, "TICKETRAY_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary to completion (at most a minute).
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
	default:
		t.Fatalf("ticketray %v: %v\nstderr: %s", args, err, errb.String())
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

// Fyne's lang package parses the locale in its init; app/procenv must run
// first or every run under LANG=C logs a "Fyne error".
func TestVersionUnderCLocale(t *testing.T) {
	for _, locale := range []string{"C", "POSIX", "C.UTF-8"} {
		t.Run(locale, func(t *testing.T) {
			env := environ(t, map[string]string{"LANG": locale, "LC_ALL": locale, "LANGUAGE": "", "LC_MESSAGES": ""})
			r := run(t, env, "version")
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\nstderr: %s", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "ticketray ") {
				t.Errorf("stdout = %q, want the version line", r.stdout)
			}
			if strings.Contains(r.stderr, "Fyne error") {
				t.Errorf("stderr has a Fyne error:\n%s", r.stderr)
			}
		})
	}
}

func TestNoDisplay(t *testing.T) {
	dir := t.TempDir()
	env := environ(t, map[string]string{
		"DISPLAY":                      "",
		"WAYLAND_DISPLAY":              "",
		"OFFLINE_QUEUE_ENCRYPTION_KEY": "smoke test passphrase",
		"OFFLINE_QUEUE_DB_PATH":        filepath.Join(dir, "queue.db"),
	})
	r := run(t, env)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not exactly one line:\n%s", r.stderr)
	}
	for _, want := range []string{"'ticketray --help'", "'ticketray serve'"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not mention %s:\n%s", want, r.stderr)
		}
	}
}

// busProcesses lists the running dbus-daemon and gnome-keyring-daemon
// processes (an autolaunched bus may start a keyring daemon) by pid.
func busProcesses(t *testing.T) map[int]string {
	t.Helper()
	comms, err := filepath.Glob("/proc/[0-9]*/comm")
	if err != nil {
		t.Fatal(err)
	}
	procs := map[int]string{}
	for _, c := range comms {
		b, err := os.ReadFile(c)
		name := strings.TrimSpace(string(b))
		if err != nil || (name != "dbus-daemon" && name != "gnome-keyring-d") {
			continue // gone meanwhile, or another program
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(c))); err == nil {
			procs[pid] = name
		}
	}
	return procs
}

// Without a session bus, asking the keyring must not autolaunch one: a
// dbus-daemon started by dbus-launch outlives the command, one per run.
func TestNoDBusLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus autolaunch and /proc are Linux matters")
	}
	runtimeDir := t.TempDir()
	env := environ(t, map[string]string{
		"DBUS_SESSION_BUS_ADDRESS": "",
		"DISPLAY":                  "",
		"WAYLAND_DISPLAY":          "",
		"XDG_RUNTIME_DIR":          runtimeDir,
		"OFFLINE_QUEUE_DB_PATH":    filepath.Join(t.TempDir(), "queue.db"),
	})
	before := busProcesses(t)
	r := run(t, env, "queue", "list")
	after := busProcesses(t)

	if r.code == 0 {
		t.Errorf("queue list without a keyring or passphrase exited 0\nstdout: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "OFFLINE_QUEUE_ENCRYPTION_KEY") {
		t.Errorf("stderr does not name OFFLINE_QUEUE_ENCRYPTION_KEY:\n%s", r.stderr)
	}
	// Other sessions may start or stop buses meanwhile; a daemon started
	// for this run inherits its environment, so it names runtimeDir.
	marker := []byte("XDG_RUNTIME_DIR=" + runtimeDir + "\x00")
	for pid, name := range after {
		if before[pid] != "" {
			continue
		}
		envb, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if errors.Is(err, os.ErrNotExist) {
			continue // exited
		}
		if err != nil || bytes.Contains(envb, marker) {
			t.Errorf("ticketray queue list left a %s behind: pid %d (environ readable: %v)", name, pid, err == nil)
		}
	}
	t.Logf("dbus-daemon and gnome-keyring-daemon processes: %d before, %d after", len(before), len(after))
}

// TestTraySmoke starts the tray app under a display: it must come up
// without Fyne errors, show its main window (there is no tray host under
// xvfb) and quit cleanly on SIGTERM. tray_gui_test.go opens each window.
func TestTraySmoke(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY; run under ./.ci/session (xvfb-run)")
	}
	bin := binary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "queue.db")
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"version": 1, "categories": ["Network", "Printer", "Smoke"], "connections": []}`), 0o600); err != nil {
		t.Fatal(err)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Env = environ(t, map[string]string{
		"OFFLINE_QUEUE_DB_PATH":        db,
		"OFFLINE_QUEUE_ENCRYPTION_KEY": "smoke test passphrase",
	})
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var stderr []string

	// Up: read stderr until the ready line.
	wantReady := "ticketray: ready; queue " + db
	deadline := time.After(60 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				<-exited
				t.Fatalf("ticketray exited before it was ready: %v\nstderr:\n%s", waitErr, strings.Join(stderr, "\n"))
			}
			stderr = append(stderr, l)
			if strings.HasPrefix(l, "ticketray: ready") {
				ready = true
				if l != wantReady {
					t.Errorf("ready line = %q, want %q", l, wantReady)
				}
			}
		case <-deadline:
			t.Fatalf("no ready line within 60 s\nstderr:\n%s", strings.Join(stderr, "\n"))
		}
	}
	assertNoFyneError(t, "starting", stderr)

	screenshot(t)

	// Down: SIGTERM quits with 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("after SIGTERM: %v, want exit 0", waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM\nstderr:\n%s", strings.Join(stderr, "\n"))
	}
	// The pipe closes once the process is gone, unless a child it started
	// still holds it.
	n := len(stderr)
	drained := time.After(10 * time.Second)
drain:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break drain
			}
			stderr = append(stderr, l)
		case <-drained:
			t.Errorf("stderr still open 10 s after ticketray exited: a child process outlived it")
			break drain
		}
	}
	assertNoFyneError(t, "quitting", withoutPrefsRace(t, stderr[n:]))
	assertNoFynePreferences(t, cmd.Env)
	t.Logf("stderr:\n%s", strings.Join(stderr, "\n"))
}

// assertNoFyneError fails on Fyne's error reports, and on its reports of
// a widget call off the main thread ("*** Error in Fyne call thread").
func assertNoFyneError(t *testing.T, when string, lines []string) {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, "Fyne error") || strings.Contains(l, "Error in Fyne call thread") {
			t.Errorf("Fyne error while %s:\n%s", when, strings.Join(lines, "\n"))
			return
		}
	}
}

// screenshot captures the root window as tray-smoke.png once the main
// window is painted and settled (see screenshotAs); a bare, single-colour
// root fails the test.
func screenshot(t *testing.T) { screenshotAs(t, "tray-smoke.png") }

func countColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
