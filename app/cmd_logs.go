package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const logsUsage = `Usage: ticketray logs [--lines N]

Print the last N lines (default 100) of Ticketray's log file: starts,
config reloads, delivery outcomes (ticket id, connection, state, remote
number), connection state changes and errors. It never holds a secret or
a ticket's text. serve, drain and the tray app write it to
$XDG_STATE_HOME/ticketray (or ~/.local/state/ticketray) on Linux,
~/Library/Logs/Ticketray on macOS and %LOCALAPPDATA%\Ticketray\logs on
Windows, rotated at 2 MB with 4 older files kept.

  --lines N   how many lines to print (default 100)
`

func (c *cli) logs(args []string) error {
	fset := c.flags("logs", func() string { return logsUsage })
	n := fset.Int("lines", 100, "")
	if pos, err := parse(fset, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("logs takes no arguments")
	}
	if *n < 1 {
		return usagef("--lines must be at least 1")
	}
	path, err := LogPath(c.env.Getenv)
	if err != nil {
		return err
	}
	lines, err := tailLog(path, *n)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(c.env.Stderr, "No log yet: %s is written once serve, drain or the tray app runs.\n", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	for _, l := range lines {
		fmt.Fprintln(c.env.Stdout, ts(l))
	}
	return nil
}

// tailLog returns the last n lines of the log at path, reaching into its
// rotated backups (name-timestamp.ext, oldest first by name) when the
// current file holds fewer.
func tailLog(path string, n int) ([]string, error) {
	ext := filepath.Ext(path)
	backups, _ := filepath.Glob(strings.TrimSuffix(path, ext) + "-*" + ext)
	sort.Strings(backups)
	files := append(backups, path)
	var lines []string
	found := false
	for i := len(files) - 1; i >= 0 && len(lines) < n; i-- {
		b, err := os.ReadFile(files[i])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		if s := strings.TrimRight(string(b), "\n"); s != "" {
			lines = append(strings.Split(s, "\n"), lines...)
		}
	}
	if !found {
		return nil, fs.ErrNotExist
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
