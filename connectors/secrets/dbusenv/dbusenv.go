// Package dbusenv keeps D-Bus clients from autolaunching a session bus on
// headless machines. The secrets package imports it for that side effect.
//
// 99designs/keyring connects to the session bus in its init function; with
// no address, the old godbus it uses runs dbus-launch, which on a headless
// machine starts a private bus (and a keyring daemon) per process that
// outlive it and hold no keys. Go initialises packages in import-path
// order as soon as their imports are ready; this one needs only the
// standard library and sorts before golang.org/x/term, which keyring waits
// for, so its init runs first.
package dbusenv

import (
	"os"
	"strconv"
)

// NoBus is the address set when there is no session bus and no display.
// godbus rejects it at once instead of autolaunching.
const NoBus = "disabled:"

func init() { SessionBus(os.Getenv, os.Setenv, exists) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Available reports whether a session bus address is set and usable.
func Available() bool {
	a := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	return a != "" && a != NoBus
}

// SessionBus points D-Bus clients at the session bus (the systemd user
// bus when no address is set), or away from autolaunch when there is
// neither a bus nor a display. With a display, autolaunch is the X11
// session's own mechanism and is left be.
func SessionBus(getenv func(string) string, setenv func(string, string) error, exists func(string) bool) {
	if getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return
	}
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = "/run/user/" + strconv.Itoa(os.Getuid())
	}
	if exists(dir + "/bus") {
		setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+dir+"/bus")
		return
	}
	if getenv("DISPLAY") == "" {
		setenv("DBUS_SESSION_BUS_ADDRESS", NoBus)
	}
}
