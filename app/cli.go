package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
)

// Exit codes (the CLI contract).
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is the process environment a command runs in; tests substitute it.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Stdin is standard input (report --description -); nil means none.
	Stdin io.Reader
}

// TrayFunc starts the GUI. main wires in the Fyne implementation, so this
// package (and every headless test of it) never links Fyne.
type TrayFunc func(ctx context.Context, svc *Service, env Env) error

// usageError is bad input from the caller: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name, summary string
	run           func(c *cli, args []string) error
}

type cli struct {
	usage  func() string // the help text of the command being parsed
	ctx    context.Context
	env    Env
	tray   TrayFunc
	config string
	db     string
	mine   bool                // queue list --mine
	watch  config.WatchOptions // serve's config watcher; tests tick it
	fs     *flag.FlagSet       // the flags of the command being parsed (help tests)
}

var commands []command

func init() {
	commands = []command{
		{"report", "queue a ticket; prints its id", (*cli).report},
		{"queue", "list, show, retry, purge or delete queued tickets", (*cli).queueCmd},
		{"drain", "deliver queued tickets until nothing is left", (*cli).drain},
		{"connections", "list, test, add, update or remove connections", (*cli).connections},
		{"serve", "run headless: deliver tickets as they come", (*cli).serve},
		{"sync", "read the status of delivered tickets back now", (*cli).syncCmd},
		{"keys", "rotate the queue's encryption keys", (*cli).keys},
		{"about", "print this computer's name, user, IP addresses and OS", (*cli).about},
		{"diagnose", "show system information and run the read-only checks", (*cli).diagnose},
		{"logs", "print the last lines of the log file", (*cli).logs},
		{"autostart", "start the tray app at login, or stop doing so", (*cli).autostartCmd},
		{"skills", "list troubleshooting skills, or run one", (*cli).skillsCmd},
		{"config", "show the effective config, validate, sign, print the schema, edit mappings", (*cli).configCmd},
		{"version", "print the version", (*cli).version},
	}
}

const mainUsage = `Ticketray: report an IT issue, even offline.

Usage:
  ticketray [--config FILE] [--db PATH]           start the tray app
  ticketray [--config FILE] [--db PATH] COMMAND [flags]

Commands:
%s
Global flags (before or after the command):
  --config FILE   config file (default: the user's config.json, if any)
  --db PATH       queue file (default: $OFFLINE_QUEUE_DB_PATH, then the data dir)

Environment:
  OFFLINE_QUEUE_ENCRYPTION_KEY  passphrase for the queue key (instead of the OS keyring)
  TICKETRAY_KEYRING_BACKEND     secret-service, kwallet, keychain, wincred or file
  TICKETRAY_KEYRING_PASSWORD    password of the file keyring (its fallback use)

Exit codes: 0 ok, 1 failure, 2 usage or input error.
Run 'ticketray COMMAND --help' for a command's flags.
`

func usageText() string {
	var b strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	return fmt.Sprintf(mainUsage, b.String())
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env, tray TrayFunc) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	c := &cli{ctx: ctx, env: env, tray: tray}
	return c.exit(c.run(args))
}

func (c *cli) run(args []string) error {
	fs := c.flags("ticketray", usageText)
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return c.startTray()
	}
	if rest[0] == "help" {
		if len(rest) > 1 {
			return c.run([]string{rest[1], "--help"})
		}
		fmt.Fprint(c.env.Stdout, usageText())
		return nil
	}
	for _, cmd := range commands {
		if cmd.name == rest[0] {
			return cmd.run(c, rest[1:])
		}
	}
	return usagef("unknown command %q\nRun 'ticketray --help' for the list of commands.", rest[0])
}

// flags makes a FlagSet that also takes the global flags, so they work
// before or after the command name.
func (c *cli) flags(name string, usage func() string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.config, "config", c.config, "config file")
	fs.StringVar(&c.db, "db", c.db, "queue file")
	c.usage = usage // -h, -help and --help make Parse return flag.ErrHelp
	c.fs = fs
	return fs
}

// errHelp carries the text that --help prints.
type errHelp struct{ text func() string }

func (errHelp) Error() string { return "help requested" }

// parse parses flags anywhere among the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *cli) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	var help errHelp
	if errors.As(err, &help) {
		fmt.Fprint(c.env.Stdout, help.text())
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.env.Stdout, c.usage())
		return ExitOK
	}
	var use usageError
	var cfgErr *config.Error
	var valErr connectors.ValidationError
	switch {
	case errors.As(err, &use):
		fmt.Fprintf(c.env.Stderr, "ticketray: %v\n", err)
		return ExitUsage
	case strings.HasPrefix(err.Error(), "flag provided but not defined") || strings.HasPrefix(err.Error(), "invalid value") || strings.HasPrefix(err.Error(), "flag needs an argument"):
		fmt.Fprintf(c.env.Stderr, "ticketray: %v\nRun 'ticketray --help' for usage.\n", err)
		return ExitUsage
	case errors.As(err, &cfgErr), errors.As(err, &valErr):
		fmt.Fprintf(c.env.Stderr, "ticketray: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(c.env.Stderr, "ticketray: %v\n", err)
	return ExitFailure
}

// configInForce is the config for a command that needs config but no
// queue (diagnose, skills): the layered config or, when the files are
// broken, the built-in default, with the problem on stderr. Only commands
// that read or change config themselves exit 2 for a config problem.
func (c *cli) configInForce() *config.Config {
	l, err := LoadLayered(c.options(), false)
	if err != nil {
		fmt.Fprintf(c.env.Stderr, "ticketray: warning: %v\n  using the built-in defaults until it is fixed\n", err)
		return config.Default()
	}
	for _, p := range l.Warnings {
		fmt.Fprintf(c.env.Stderr, "ticketray: warning: %s\n", p)
	}
	return l.Config
}

// open opens the service for a command that needs the queue.
func (c *cli) open() (*Service, error) {
	return Open(c.ctx, Options{ConfigPath: c.config, DBPath: c.db, Getenv: c.env.Getenv,
		Warn: func(p config.Problem) { fmt.Fprintf(c.env.Stderr, "ticketray: warning: %s\n", p) }})
}

func (c *cli) version(args []string) error {
	fs := c.flags("version", func() string { return "Usage: ticketray version\n\nPrint the version.\n" })
	if _, err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "ticketray %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// DisplayProblem explains why the tray app cannot start here, or returns
// "" when a graphical session is available.
func DisplayProblem(goos string, getenv func(string) string) string {
	if goos == "windows" || goos == "darwin" || goos == "android" || goos == "ios" {
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return "ticketray: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the tray app cannot start; use the CLI ('ticketray --help', e.g. 'ticketray report --summary ...') or run headless with 'ticketray serve'"
}

func (c *cli) startTray() error {
	if msg := DisplayProblem(runtime.GOOS, c.env.Getenv); msg != "" {
		return trayError{msg}
	}
	if c.tray == nil {
		return fmt.Errorf("this build has no GUI; use the CLI ('ticketray --help')")
	}
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	return c.tray(c.ctx, svc, c.env)
}

// trayError is printed as is: one line, no "ticketray:" prefix doubled.
type trayError struct{ msg string }

func (e trayError) Error() string { return strings.TrimPrefix(e.msg, "ticketray: ") }

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
