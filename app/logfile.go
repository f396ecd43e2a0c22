package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"gopkg.in/natefinch/lumberjack.v2"
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
