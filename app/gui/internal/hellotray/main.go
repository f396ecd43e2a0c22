// Command hellotray is the floor for Ticketray's idle benchmark: the least
// a Fyne tray app is, one window and a tray menu, built with the same
// toolkit version and run under the same display. As Ticketray, it shows
// its window at start only when no StatusNotifier host can show its tray
// icon. It prints "ready" on standard error once the app has started, as
// Ticketray prints its ready line.
package main

import (
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
	"github.com/godbus/dbus/v5"

	_ "github.com/ticketray/ticketray/app/procenv" // as in Ticketray: Fyne quiet under LANG=C
)

func main() {
	a := app.NewWithID("io.ticketray.HelloTray")
	w := a.NewWindow("Hello")
	w.SetContent(widget.NewLabel("Hello, tray"))
	if desk, ok := a.(desktop.App); ok {
		desk.SetSystemTrayMenu(fyne.NewMenu("Hello", fyne.NewMenuItem("Show", w.Show)))
	}
	w.SetCloseIntercept(w.Hide)
	a.Lifecycle().SetOnStarted(func() { fmt.Fprintln(os.Stderr, "ready") })
	if !trayHost() {
		w.Show()
	}
	a.Run()
}

func trayHost() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
