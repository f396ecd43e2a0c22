// Command hellotray is the floor for Ticketray's idle benchmark: the least
// a Fyne tray app is, one window and a tray menu, built with the same
// toolkit version and run under the same display. It prints "ready" on
// standard error once the app has started, as Ticketray prints its ready
// line.
package main

import (
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

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
	w.Show()
	a.Run()
}
