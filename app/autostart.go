package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ticketray/ticketray/app/config"
)

// Starting the tray at login, per user: an XDG autostart entry on Linux
// and the BSDs, a LaunchAgent on macOS, a value under the HKCU Run key on
// Windows. Each starts the absolute path of the running binary, so the
// entry follows whichever copy (package, ~/.local/bin, a build) the user
// turned it on from. IT can force either state with policy.autostart;
// the tray applies it at start (ApplyAutostartPolicy).

// AutostartID names the LaunchAgent (and is the app ID of the package).
const AutostartID = "io.ticketray.Ticketray"

// ErrAutostartLocked is matched by the *AutostartLockedError that Set
// returns when the config forces the state.
var ErrAutostartLocked = errors.New("autostart is set by policy.autostart")

// AutostartLockedError is a change refused because policy.autostart
// forces the state; its text is the lock message.
type AutostartLockedError struct{ Lock string }

func (e *AutostartLockedError) Error() string { return e.Lock }

func (e *AutostartLockedError) Is(target error) bool { return target == ErrAutostartLocked }

// AutostartStatus is what `autostart status` and the Settings toggle show.
type AutostartStatus struct {
	On bool `json:"on"`
	// Current is false when the entry starts another program than this
	// binary (an older copy, moved or uninstalled); on then rewrites it.
	Current bool   `json:"current"`
	Where   string `json:"where"` // the file or registry value
	// Forced is the state policy.autostart imposes; nil: the user decides.
	Forced *bool `json:"forced,omitempty"`
	// Lock is why the user cannot change it ("IT has set this: ..."), or "".
	Lock string `json:"lock,omitempty"`
}

// AutostartOptions say where and for which binary; zero values mean this
// process (runtime.GOOS, os.Executable, os.Getenv).
type AutostartOptions struct {
	GOOS   string
	Exe    string
	Getenv func(string) string
	// Loaded is the layered config whose policy.autostart forces the
	// state; nil: nothing is forced.
	Loaded *config.Loaded
}

// Autostart turns the login entry on and off.
type Autostart struct {
	goos   string
	exe    string
	exeErr error
	store  autostartStore
	forced *bool
	lock   string
}

// autostartStore is where one OS keeps the entry: a file, or a registry
// value. read returns fs.ErrNotExist when there is none.
type autostartStore interface {
	where() string
	read() ([]byte, error)
	write(data []byte) error
	remove() error
}

// NewAutostart finds this user's entry for o.GOOS. An entry that cannot
// be placed (no home directory) makes Status and Set fail, not this.
func NewAutostart(o AutostartOptions) *Autostart {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	a := &Autostart{goos: o.GOOS, exe: o.Exe}
	if a.exe == "" {
		a.exe, a.exeErr = thisExecutable()
	}
	a.store = autostartStoreFor(o.GOOS, o.Getenv)
	if l := o.Loaded; l != nil && l.Config != nil && l.Config.Policy.Autostart != nil {
		a.forced = l.Config.Policy.Autostart
		a.lock = autostartLock(l, *a.forced)
	}
	return a
}

// thisExecutable is the absolute path of the running binary, as it was
// started.
func thisExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this program's path: %w", err)
	}
	return entryPath(exe)
}

// entryPath is the path an entry starts for exe. A symbolic link is kept,
// not resolved: a package manager's link (Homebrew's bin/ticketray into a
// versioned Cellar folder) outlives upgrades, and its target does not. (On
// Linux os.Executable gives the resolved path already.)
func entryPath(exe string) (string, error) {
	return filepath.Abs(exe)
}

// autostartLock is the message of a forced state: IT's when a managed
// file sets it, else the file's (a user may set policy too, but then it
// is theirs to change there).
func autostartLock(l *config.Loaded, on bool) string {
	state := "Ticketray does not start at login"
	if on {
		state = "Ticketray starts at login"
	}
	src := l.Sources["/policy/autostart"]
	who := "IT has set this"
	for _, li := range l.Layers {
		if li.Path == src && li.Kind != config.KindManaged {
			who = "your config file sets this"
		}
	}
	if src == "" {
		return fmt.Sprintf("%s: %s (policy.autostart)", who, state)
	}
	return fmt.Sprintf("%s: %s (policy.autostart in %s)", who, state, src)
}

// autostartStoreFor places the entry for goos.
func autostartStoreFor(goos string, getenv func(string) string) autostartStore {
	if goos == "windows" {
		return runKeyStore()
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if goos == "darwin" {
		if home == "" {
			return brokenStore{errors.New("no home directory (HOME is unset), so there is no LaunchAgents folder")}
		}
		return fileStore{filepath.Join(home, "Library", "LaunchAgents", AutostartID+".plist")}
	}
	// XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and ignored.
	dir := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		if home == "" {
			return brokenStore{errors.New("no home directory (HOME and XDG_CONFIG_HOME are unset), so there is no autostart folder")}
		}
		dir = filepath.Join(home, ".config")
	}
	return fileStore{filepath.Join(dir, "autostart", "ticketray.desktop")}
}

// autostartEntry renders the entry for goos that starts exe.
func autostartEntry(goos, exe string) []byte {
	switch goos {
	case "darwin":
		return launchAgent(exe)
	case "windows":
		return []byte(runValue(exe))
	}
	return desktopEntry(exe)
}

// Status says whether the entry is there, and whether it starts this binary.
func (a *Autostart) Status() (AutostartStatus, error) {
	st := AutostartStatus{Where: a.store.where(), Forced: a.forced, Lock: a.lock}
	data, err := a.store.read()
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read the autostart entry %s: %w", st.Where, err)
	}
	st.On = true
	st.Current = a.exeErr == nil && bytes.Equal(data, autostartEntry(a.goos, a.exe))
	return st, nil
}

// Set turns the entry on (written to start this binary, rewritten when it
// starts another) or off. Doing what is already done changes nothing. A
// state the config forces is refused with its lock message.
func (a *Autostart) Set(on bool) (changed bool, err error) {
	if a.forced != nil {
		return false, &AutostartLockedError{a.lock}
	}
	return a.set(on)
}

func (a *Autostart) set(on bool) (bool, error) {
	st, err := a.Status()
	if err != nil {
		return false, err
	}
	if !on {
		if !st.On {
			return false, nil
		}
		if err := a.store.remove(); err != nil {
			return false, fmt.Errorf("remove the autostart entry %s: %w", st.Where, err)
		}
		return true, nil
	}
	if a.exeErr != nil {
		return false, a.exeErr
	}
	if st.On && st.Current {
		return false, nil
	}
	if err := a.store.write(autostartEntry(a.goos, a.exe)); err != nil {
		return false, fmt.Errorf("write the autostart entry %s: %w", st.Where, err)
	}
	return true, nil
}

// ApplyPolicy makes the entry what policy.autostart forces, if it forces
// anything; the tray calls it at start, so a policy pushed later takes
// effect at the next login after that.
func (a *Autostart) ApplyPolicy() (changed bool, err error) {
	if a.forced == nil {
		return false, nil
	}
	return a.set(*a.forced)
}

// ApplyAutostartPolicy is the tray's start hook: it applies what
// policy.autostart in l forces, if anything, to this binary's entry, and
// logs a change or a failure to stderr and the log file. A failure is
// never fatal: the tray is already starting.
func ApplyAutostartPolicy(l *config.Loaded, env Env) {
	a := NewAutostart(AutostartOptions{Getenv: env.Getenv, Loaded: l})
	changed, err := a.ApplyPolicy()
	if err == nil && !changed {
		return
	}
	errw, getenv := env.Stderr, env.Getenv
	if errw == nil {
		errw = io.Discard
	}
	if getenv == nil { // a hand-built Env (tests): no file in the real home
		getenv = func(string) string { return "" }
	}
	h := slog.Handler(slog.NewTextHandler(errw, nil))
	if file, closer, ferr := OpenLog(getenv); ferr == nil {
		defer closer.Close()
		h = slog.NewMultiHandler(h, file.Handler())
	}
	if err != nil {
		slog.New(h).Warn("autostart: policy.autostart not applied", "err", err)
		return
	}
	slog.New(h).Info("autostart: set by policy.autostart", "on", *a.forced, "entry", a.store.where())
}

// fileStore keeps the entry in a file (XDG autostart, LaunchAgent).
type fileStore struct{ path string }

func (s fileStore) where() string { return s.path }

func (s fileStore) read() ([]byte, error) { return os.ReadFile(s.path) }

// write replaces the file whole (temp file and rename), so a session
// that starts meanwhile never reads half an entry.
func (s fileStore) write(data []byte) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".ticketray-autostart-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path)
}

func (s fileStore) remove() error {
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// brokenStore is an entry that cannot be placed: every use says why.
type brokenStore struct{ err error }

func (s brokenStore) where() string         { return "(nowhere)" }
func (s brokenStore) read() ([]byte, error) { return nil, s.err }
func (s brokenStore) write([]byte) error    { return s.err }
func (s brokenStore) remove() error         { return s.err }

// desktopEntry is an XDG autostart entry (Desktop Entry Specification
// 1.5) that starts exe with no arguments.
func desktopEntry(exe string) []byte {
	return []byte("[Desktop Entry]\n" +
		"# Written by 'ticketray autostart on'; 'ticketray autostart off' removes it.\n" +
		"Type=Application\n" +
		"Name=Ticketray\n" +
		"Comment=Report an IT issue, even offline\n" +
		"Exec=" + desktopExecArg(exe) + "\n" +
		"Icon=" + AutostartID + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n")
}

// desktopExecArg quotes one Exec argument: in double quotes when it holds
// a reserved character, with ", `, $ and \ backslash-escaped inside them;
// % doubled (field codes); then the string-value escaping of the whole
// key, which doubles every backslash again.
func desktopExecArg(arg string) string {
	if arg == "" {
		return `""`
	}
	arg = strings.ReplaceAll(arg, "%", "%%")
	if strings.ContainsAny(arg, " \t\n\"'\\><~|&;$*?#()`") {
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range arg {
			if strings.ContainsRune("\"`$\\", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
		arg = b.String()
	}
	arg = strings.ReplaceAll(arg, `\`, `\\`)
	return strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(arg)
}

// launchAgent is a per-user launchd job that starts exe once at login, in
// the graphical (Aqua) session only.
func launchAgent(exe string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by 'ticketray autostart on'; 'ticketray autostart off' removes it. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + AutostartID + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>`)
	xmlEscape(&b, exe)
	b.WriteString(`</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`)
	return b.Bytes()
}

func xmlEscape(b *bytes.Buffer, s string) {
	b.WriteString(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s))
}

// runValue is the Run key's command line: the path quoted, as Windows
// splits an unquoted one at its first space.
func runValue(exe string) string { return `"` + exe + `"` }

// runKeyPath and runValueName place the value under HKEY_CURRENT_USER.
const (
	runKeyPath   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValueName = "Ticketray"
)
