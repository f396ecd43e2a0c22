package app

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/config"
)

// fakeEnv is a getenv over a map.
func fakeEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestAutostartPaths: the entry goes where each desktop looks for it;
// XDG_CONFIG_HOME counts only when absolute (XDG Base Directory spec).
func TestAutostartPaths(t *testing.T) {
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"HOME": "/home/u"}, "/home/u/.config/autostart/ticketray.desktop"},
		{"linux", map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/cfg"}, "/cfg/autostart/ticketray.desktop"},
		{"linux", map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "rel"}, "/home/u/.config/autostart/ticketray.desktop"},
		{"freebsd", map[string]string{"HOME": "/home/u"}, "/home/u/.config/autostart/ticketray.desktop"},
		{"darwin", map[string]string{"HOME": "/Users/u", "XDG_CONFIG_HOME": "/cfg"}, "/Users/u/Library/LaunchAgents/io.ticketray.Ticketray.plist"},
	} {
		got := autostartStoreFor(tc.goos, fakeEnv(tc.env)).where()
		if got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.goos, tc.env, got, tc.want)
		}
	}
}

// TestAutostartOnOffLinux: on writes an entry that starts the binary by
// its absolute path, twice is once, off removes it, off again is a no-op;
// an entry that starts another copy is not current and on rewrites it.
func TestAutostartOnOffLinux(t *testing.T) {
	dir := t.TempDir()
	exe := "/opt/Ticket Tools/ticketray"
	a := NewAutostart(AutostartOptions{GOOS: "linux", Exe: exe, Getenv: fakeEnv(map[string]string{"XDG_CONFIG_HOME": dir})})
	path := filepath.Join(dir, "autostart", "ticketray.desktop")

	mustSet := func(on, wantChanged bool) {
		t.Helper()
		changed, err := a.Set(on)
		if err != nil || changed != wantChanged {
			t.Fatalf("Set(%v): changed %v, %v; want changed %v", on, changed, err, wantChanged)
		}
	}
	mustSet(true, true)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\nExec=\"/opt/Ticket Tools/ticketray\"\n") || !strings.HasPrefix(string(data), "[Desktop Entry]\n") ||
		!strings.Contains(string(data), "\nType=Application\n") {
		t.Errorf("entry:\n%s", data)
	}
	if v, err := exec.LookPath("desktop-file-validate"); err == nil { // make test installs it
		if out, err := exec.Command(v, path).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("desktop-file-validate: %v\n%s", err, out)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode: %v %v", fi.Mode(), err)
	}
	mustSet(true, false)
	if st, err := a.Status(); err != nil || !st.On || !st.Current || st.Where != path || st.Lock != "" {
		t.Errorf("status after on: %+v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "autostart", ".ticketray-autostart-*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}

	// Another copy's entry (the package moved, an older build).
	other := NewAutostart(AutostartOptions{GOOS: "linux", Exe: "/usr/bin/ticketray", Getenv: fakeEnv(map[string]string{"XDG_CONFIG_HOME": dir})})
	if st, _ := other.Status(); !st.On || st.Current {
		t.Errorf("another binary's view: %+v", st)
	}
	if changed, err := other.Set(true); err != nil || !changed {
		t.Fatalf("rewrite: %v %v", changed, err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "\nExec=/usr/bin/ticketray\n") {
		t.Errorf("rewritten entry:\n%s", data)
	}

	mustSet(false, true)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("entry still there: %v", err)
	}
	mustSet(false, false)
	if st, err := a.Status(); err != nil || st.On {
		t.Errorf("status after off: %+v %v", st, err)
	}
}

// TestDesktopExecArg: the Exec value a desktop splits back into the path.
func TestDesktopExecArg(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/ticketray":         "/usr/bin/ticketray",
		"/opt/my apps/ticketray":     `"/opt/my apps/ticketray"`,
		`/opt/a"b$c/ticketray`:       `"/opt/a\\"b\\$c/ticketray"`,
		`/opt/back\slash/t`:          `"/opt/back\\\\slash/t"`,
		"/opt/100%/ticketray":        "/opt/100%%/ticketray",
		"/home/u/.local/bin/ticketr": "/home/u/.local/bin/ticketr",
	} {
		if got := desktopExecArg(in); got != want {
			t.Errorf("desktopExecArg(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestLaunchAgent: the plist is well-formed XML that runs exactly exe at
// load, its path escaped; on/off work on macOS's file as on Linux's.
func TestLaunchAgent(t *testing.T) {
	exe := "/Applications/R&D <tools>/Ticketray.app/Contents/MacOS/ticketray"
	data := launchAgent(exe)
	var doc struct {
		Dict struct {
			Keys    []string   `xml:"key"`
			Strings []string   `xml:"string"`
			Args    []string   `xml:"array>string"`
			True    []struct{} `xml:"true"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	if strings.Join(doc.Dict.Keys, ",") != "Label,ProgramArguments,RunAtLoad,LimitLoadToSessionType,ProcessType" ||
		len(doc.Dict.Args) != 1 || doc.Dict.Args[0] != exe || doc.Dict.Strings[0] != AutostartID || len(doc.Dict.True) != 1 {
		t.Errorf("plist: %+v\n%s", doc.Dict, data)
	}

	home := t.TempDir()
	a := NewAutostart(AutostartOptions{GOOS: "darwin", Exe: exe, Getenv: fakeEnv(map[string]string{"HOME": home})})
	if _, err := a.Set(true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, "Library", "LaunchAgents", "io.ticketray.Ticketray.plist")
	if got, err := os.ReadFile(path); err != nil || string(got) != string(data) {
		t.Errorf("written: %v\n%s", err, got)
	}
	if _, err := a.Set(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plist still there: %v", err)
	}
}

// TestRunValue: the Run key's command line quotes the path, which
// Windows would otherwise split at "Program Files".
func TestRunValue(t *testing.T) {
	got := runValue(`C:\Program Files\Ticketray\ticketray.exe`)
	if got != `"C:\Program Files\Ticketray\ticketray.exe"` {
		t.Errorf("runValue = %s", got)
	}
	if string(autostartEntry("windows", `C:\t.exe`)) != `"C:\t.exe"` {
		t.Error("the windows entry is not the Run value")
	}
}

// lockedBy is a layered config whose file sets policy.autostart.
func lockedBy(on bool, file, kind string) *config.Loaded {
	cfg := config.Default()
	cfg.Policy.Autostart = &on
	return &config.Loaded{Config: cfg, Sources: map[string]string{"/policy/autostart": file},
		Layers: []config.LayerInfo{{Path: file, Kind: kind}}}
}

// TestAutostartPolicy: a forced state refuses on and off with the lock
// message, and ApplyPolicy makes the entry what the policy says.
func TestAutostartPolicy(t *testing.T) {
	for _, forced := range []bool{true, false} {
		dir := t.TempDir()
		env := fakeEnv(map[string]string{"XDG_CONFIG_HOME": dir})
		path := filepath.Join(dir, "autostart", "ticketray.desktop")
		if !forced { // an entry the user made before IT forced it off
			if _, err := NewAutostart(AutostartOptions{GOOS: "linux", Exe: "/usr/bin/ticketray", Getenv: env}).Set(true); err != nil {
				t.Fatal(err)
			}
		}
		a := NewAutostart(AutostartOptions{GOOS: "linux", Exe: "/usr/bin/ticketray", Getenv: env, Loaded: lockedBy(forced, "/etc/ticketray/config.json", config.KindManaged)})
		for _, on := range []bool{true, false} {
			_, err := a.Set(on)
			var lock *AutostartLockedError
			if !errors.Is(err, ErrAutostartLocked) || !errors.As(err, &lock) || !strings.HasPrefix(err.Error(), "IT has set this: ") ||
				!strings.Contains(err.Error(), "policy.autostart in /etc/ticketray/config.json") {
				t.Errorf("forced %v, Set(%v): %v", forced, on, err)
			}
		}
		if st, _ := a.Status(); st.Forced == nil || *st.Forced != forced || st.Lock == "" || st.On != !forced {
			t.Errorf("forced %v, before applying: %+v", forced, st)
		}
		if changed, err := a.ApplyPolicy(); err != nil || !changed {
			t.Errorf("forced %v: ApplyPolicy changed %v, %v", forced, changed, err)
		}
		if _, err := os.Stat(path); (err == nil) != forced {
			t.Errorf("forced %v: entry exists: %v", forced, err == nil)
		}
		if changed, err := a.ApplyPolicy(); err != nil || changed {
			t.Errorf("forced %v: ApplyPolicy again changed %v, %v", forced, changed, err)
		}
	}
	// Nothing forced: ApplyPolicy leaves the user's choice alone.
	dir := t.TempDir()
	a := NewAutostart(AutostartOptions{GOOS: "linux", Exe: "/usr/bin/ticketray", Getenv: fakeEnv(map[string]string{"XDG_CONFIG_HOME": dir}), Loaded: &config.Loaded{Config: config.Default()}})
	if changed, err := a.ApplyPolicy(); err != nil || changed {
		t.Errorf("no policy: %v %v", changed, err)
	}
	// The user's own file is not IT.
	if msg := autostartLock(lockedBy(true, "/home/u/.config/ticketray/config.json", config.KindUser), true); !strings.HasPrefix(msg, "your config file sets this: Ticketray starts at login") {
		t.Errorf("user's lock: %s", msg)
	}
}

// TestAutostartEntryKeepsLink: the entry starts a package manager's link,
// not the versioned file it points to today, which an upgrade removes.
func TestAutostartEntryKeepsLink(t *testing.T) {
	dir := t.TempDir()
	cellar := filepath.Join(dir, "Cellar", "ticketray", "1.2.0", "bin", "ticketray")
	link := filepath.Join(dir, "bin", "ticketray")
	for _, d := range []string{filepath.Dir(cellar), filepath.Dir(link)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(cellar, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(cellar, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if got, err := entryPath(link); err != nil || got != link {
		t.Errorf("entryPath(%s) = %s, %v; want the link itself", link, got, err)
	}
}

// TestAutostartCommand: the CLI writes the entry with the running
// binary's absolute path, reports each state, and an IT lock is refused
// with exit 2 and shown in status.
func TestAutostartCommand(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, ".config", "autostart", "ticketray.desktop")
	exe, err := thisExecutable()
	if err != nil || !filepath.IsAbs(exe) {
		t.Fatal(exe, err)
	}
	if r := h.mustRun("autostart", "status"); r.stdout != "Start at login: off\n" {
		t.Errorf("status: %q", r.stdout)
	}
	if r := h.mustRun("autostart", "on"); !strings.Contains(r.stdout, "will start when you log in ("+path+")") {
		t.Errorf("on: %q", r.stdout)
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), "\nExec="+desktopExecArg(exe)+"\n") {
		t.Errorf("entry (%v):\n%s", err, data)
	}
	if r := h.mustRun("autostart", "on"); !strings.Contains(r.stdout, "already starts") {
		t.Errorf("on again: %q", r.stdout)
	}
	r := h.mustRun("autostart", "status", "--json")
	var st AutostartStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || !st.On || !st.Current || st.Where != path {
		t.Errorf("status --json: %v %s", err, r.stdout)
	}
	if r := h.mustRun("autostart", "off"); !strings.Contains(r.stdout, "no longer start") {
		t.Errorf("off: %q", r.stdout)
	}
	if r := h.run("autostart", "sideways"); r.code != ExitUsage {
		t.Errorf("unknown action: exit %d", r.code)
	}

	managed := filepath.Join(h.dir, "managed")
	if err := os.MkdirAll(managed, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env[config.EnvManagedDir] = managed
	if err := os.WriteFile(filepath.Join(managed, "config.json"), []byte(`{"version":1,"locked":["policy.autostart"],"policy":{"autostart":true}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = h.run("autostart", "off")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "IT has set this: Ticketray starts at login (policy.autostart in "+filepath.Join(managed, "config.json")+")") {
		t.Errorf("locked off: exit %d\n%s", r.code, r.stderr)
	}
	r = h.mustRun("autostart", "status")
	if !strings.Contains(r.stdout, "Start at login: off\nLocked: IT has set this: Ticketray starts at login") || !strings.Contains(r.stdout, "applies it when it starts") {
		t.Errorf("locked status: %q", r.stdout)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused command changed the entry")
	}
}

// TestApplyAutostartPolicy: the tray's hook writes the forced entry for
// this binary and logs it once, to stderr and the log file.
func TestApplyAutostartPolicy(t *testing.T) {
	dir := t.TempDir()
	var stderr strings.Builder
	vars := map[string]string{"XDG_CONFIG_HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "state"), "HOME": dir}
	env := Env{Stderr: &stderr, Getenv: fakeEnv(vars)}
	l := lockedBy(true, "/etc/ticketray/config.json", config.KindManaged)
	ApplyAutostartPolicy(l, env)
	ApplyAutostartPolicy(l, env)
	st, err := NewAutostart(AutostartOptions{Getenv: env.Getenv}).Status()
	if err != nil || !st.On || !st.Current {
		t.Errorf("status: %+v %v", st, err)
	}
	if n := strings.Count(stderr.String(), "set by policy.autostart"); n != 1 {
		t.Errorf("logged %d times:\n%s", n, stderr.String())
	}
	path, err := LogPath(env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), "set by policy.autostart") {
		t.Errorf("log file %s (%v):\n%s", path, err, data)
	}
}
