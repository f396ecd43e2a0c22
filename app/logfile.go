package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/ticketray/ticketray/diagnostics"
)

// The log file: at most logMaxSizeMB × (1 + logBackups) on disk, about
// 10 MB, never compressed so `ticketray logs` and support can read it.
const (
	LogFileName  = "ticketray.log"
	logMaxSizeMB = 2
	logBackups   = 4
)

// errNoStateDir is why there is no log file when no state directory can
// be found (no HOME, no XDG_STATE_HOME, no LOCALAPPDATA).
var errNoStateDir = errors.New("cannot find a state directory for the log file: set XDG_STATE_HOME or HOME")

// LogDir is where Ticketray keeps its log file on this platform:
// $XDG_STATE_HOME/ticketray or ~/.local/state/ticketray on Linux,
// ~/Library/Logs/Ticketray on macOS, %LOCALAPPDATA%\Ticketray\logs on
// Windows. Only getenv is read, so a test's environment decides.
func LogDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "Ticketray", "logs"), nil
		}
	case "darwin":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Logs", "Ticketray"), nil
		}
	default:
		if d := getenv("XDG_STATE_HOME"); d != "" {
			return filepath.Join(d, "ticketray"), nil
		}
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, ".local", "state", "ticketray"), nil
		}
	}
	return "", errNoStateDir
}

// LogPath is the log file's path.
func LogPath(getenv func(string) string) (string, error) {
	dir, err := LogDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, LogFileName), nil
}

// OpenLog opens the log file, rotated by size, and returns a text logger
// at Info writing to it and the closer of the file. Callers log ids,
// names, states and counts only: never a secret, nor a ticket's text,
// nor a vendor's message (it may echo the ticket).
func OpenLog(getenv func(string) string) (*slog.Logger, io.Closer, error) {
	path, err := LogPath(getenv)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	w := &lumberjack.Logger{Filename: path, MaxSize: logMaxSizeMB, MaxBackups: logBackups, Compress: false}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})), w, nil
}

// StartLogger is the logger of a process that delivers (serve, drain, the
// tray): stderr at level, teed with the log file at Info, and a start
// line naming the command, the version and the queue. Without a log file
// (no state directory, a disk error) it says why on stderr once and logs
// to stderr alone. Call the returned func when done.
func StartLogger(env Env, level slog.Level, command, queuePath string) (*slog.Logger, func()) {
	errw, getenv := env.Stderr, env.Getenv
	if errw == nil {
		errw = io.Discard
	}
	if getenv == nil { // a hand-built Env (tests): no file in the real home
		getenv = func(string) string { return "" }
	}
	stderr := slog.NewTextHandler(errw, &slog.HandlerOptions{Level: level})
	file, closer, err := OpenLog(getenv)
	if err != nil {
		fmt.Fprintf(errw, "ticketray: no log file: %v\n", err)
		return slog.New(stderr), func() {}
	}
	file.Info("start", "command", command, "version", Version, "os", runtime.GOOS, "queue", queuePath)
	logger := slog.New(slog.NewMultiHandler(stderr, file.Handler()))
	return logger, func() {
		file.Info("stop", "command", command)
		closer.Close()
	}
}

// DefaultLogLines is how many of the log's last lines `diagnose` prints
// and a ticket's export (queue show --json, Export JSON) carries.
const DefaultLogLines = 50

// emailAddress matches an e-mail address: a reporter's or an agent's
// address is personal data, and names who called the help desk.
var emailAddress = regexp.MustCompile(`[\p{L}\p{N}._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)

// ScrubLogLine makes a log line fit to leave the machine in a diagnose
// output or an export. The log is written to hold no secret and no
// ticket text (OpenLog); this is the second line of defence for what an
// error may carry: secrets and tokens as skill output is scrubbed
// (diagnostics.Scrub), and e-mail addresses.
func ScrubLogLine(line string) string {
	// slog escapes the quotes of JSON inside a value (\"password\":\"x\"),
	// which the key/value rule would not see: scrub the unescaped text.
	line = strings.ReplaceAll(line, `\"`, `"`)
	line = authScheme.ReplaceAllString(line, "${1}[REDACTED]")
	return emailAddress.ReplaceAllString(diagnostics.Scrub(line), "[EMAIL]")
}

// authScheme is an Authorization value of any scheme (SSWS, Token,
// Zoho-oauthtoken…): the scheme word and the credential after it go.
var authScheme = regexp.MustCompile(`(?i)(\bauthorization"?[ \t]*[:=][ \t]*)[A-Za-z0-9._~+/=-]+(?:[ \t]+[^\s,;"]+)?`)

// LogTail is the last n lines of the log file, scrubbed (ScrubLogLine),
// and the file's path. No log yet, or n 0, is no lines and no error.
func LogTail(getenv func(string) string, n int) ([]string, string, error) {
	path, err := LogPath(getenv)
	if err != nil || n <= 0 {
		return nil, path, err
	}
	lines, err := tailLog(path, n)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read the log: %w", err)
	}
	for i, l := range lines {
		lines[i] = ScrubLogLine(l)
	}
	return lines, path, nil
}

// TicketLog is what the log says about a ticket, for its export: the
// last DefaultLogLines lines that name it (its deliveries' outcomes), or
// that name one of its connections and no other ticket (why they wait),
// scrubbed. A log that cannot be read gives no lines: the export is still
// worth having.
func (s *Service) TicketLog(e Entry) []string {
	path, err := LogPath(s.getenv)
	if err != nil {
		return nil
	}
	conns := map[string]bool{}
	for _, d := range e.Deliveries {
		conns[d.Connection] = true
	}
	lines, err := scanLog(path, DefaultLogLines, func(l string) bool {
		if id, ok := logAttr(l, "ticket"); ok {
			return id == e.ID
		}
		c, ok := logAttr(l, "connection")
		return ok && conns[c]
	})
	if err != nil {
		return nil
	}
	for i, l := range lines {
		lines[i] = ScrubLogLine(l)
	}
	return lines
}

// logAttr finds key's value in a line of slog's text format, unquoting
// it when slog quoted it.
func logAttr(line, key string) (string, bool) {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return "", false
	}
	rest := line[i+len(key)+2:]
	if strings.HasPrefix(rest, `"`) {
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			v, err := strconv.Unquote(q)
			return v, err == nil
		}
		return "", false
	}
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		rest = rest[:j]
	}
	return rest, true
}

// scanLog returns the last n lines that keep accepts, reading the log at
// path and its rotated backups oldest first, a line at a time (up to
// ~10 MB in all).
func scanLog(path string, n int, keep func(string) bool) ([]string, error) {
	ext := filepath.Ext(path)
	files, _ := filepath.Glob(strings.TrimSuffix(path, ext) + "-*" + ext)
	sort.Strings(files)
	files = append(files, path)
	var out []string
	for _, name := range files {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if l := sc.Text(); keep(l) {
				out = append(out, l)
				if len(out) > 2*n { // trim now and then, not per line
					out = append(out[:0], out[len(out)-n:]...)
				}
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}
