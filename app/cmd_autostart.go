package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/ticketray/ticketray/app/config"
)

const autostartUsage = `Usage: ticketray autostart on|off|status [--json]

Start the tray app when you log in, or stop doing so:
  on       start this copy of Ticketray at login (an entry written again
           starts this binary, wherever the old one pointed)
  off      remove the entry
  status   say whether it is on, where the entry is, and whether IT set it

The entry is ~/.config/autostart/ticketray.desktop on Linux (under
$XDG_CONFIG_HOME when set), ~/Library/LaunchAgents/io.ticketray.Ticketray.plist
on macOS, and the Ticketray value of HKCU\Software\Microsoft\Windows\
CurrentVersion\Run on Windows. When IT sets policy.autostart, the tray
app applies it at start and on/off are refused (exit 2).

  --json   status as JSON
`

func (c *cli) autostartCmd(args []string) error {
	fset := c.flags("autostart", func() string { return autostartUsage })
	asJSON := fset.Bool("json", false, "")
	pos, err := parse(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("autostart takes one of on, off or status\nRun 'ticketray autostart --help' for usage.")
	}
	a := NewAutostart(AutostartOptions{Getenv: c.env.Getenv, Loaded: c.loadedInForce()})
	switch pos[0] {
	case "status":
		st, err := a.Status()
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(c.env.Stdout, st)
		}
		writeAutostartStatus(c.env.Stdout, st)
		return nil
	case "on", "off":
		on := pos[0] == "on"
		changed, err := a.Set(on)
		if errors.Is(err, ErrAutostartLocked) {
			return usageError{err.Error()}
		}
		if err != nil {
			return err
		}
		st, err := a.Status()
		if err != nil {
			return err
		}
		switch {
		case on && changed:
			fmt.Fprintf(c.env.Stdout, "Ticketray will start when you log in (%s).\n", st.Where)
		case on:
			fmt.Fprintf(c.env.Stdout, "Ticketray already starts when you log in (%s).\n", st.Where)
		case changed:
			fmt.Fprintf(c.env.Stdout, "Ticketray will no longer start when you log in (removed %s).\n", st.Where)
		default:
			fmt.Fprintln(c.env.Stdout, "Ticketray already does not start when you log in.")
		}
		return nil
	}
	return usagef("autostart: unknown action %q (on, off or status)", pos[0])
}

func writeAutostartStatus(w io.Writer, st AutostartStatus) {
	switch {
	case st.On && !st.Current:
		fmt.Fprintf(w, "Start at login: on, but the entry starts another copy of Ticketray\n  %s\n  'ticketray autostart on' points it at this one.\n", st.Where)
	case st.On:
		fmt.Fprintf(w, "Start at login: on\n  %s\n", st.Where)
	default:
		fmt.Fprintln(w, "Start at login: off")
	}
	if st.Lock != "" {
		fmt.Fprintf(w, "Locked: %s\n", st.Lock)
		if st.Forced != nil && *st.Forced != st.On {
			fmt.Fprintln(w, "  The tray app applies it when it starts.")
		}
	}
}

// loadedInForce is the layered config for a command that only reads
// policy: on a broken config it warns and returns nil (no policy), so
// the user can still turn autostart off.
func (c *cli) loadedInForce() *config.Loaded {
	l, err := LoadLayered(c.options(), false)
	if err != nil {
		lo := c.options().LoadOptions(false)
		lo.ConfigFile, lo.UserFile = "", ""
		if m, merr := config.LoadLayers(lo); merr == nil { // IT's lock holds while the user's file is broken
			fmt.Fprintf(c.env.Stderr, "ticketray: warning: %v\n", err)
			return m
		}
		fmt.Fprintf(c.env.Stderr, "ticketray: warning: %v\n  IT's policy.autostart cannot be read until it is fixed\n", err)
		return nil
	}
	return l
}
