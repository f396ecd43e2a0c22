// Package gui is Ticketray's Fyne face: the tray icon and menu and the
// windows. It is a thin layer: every action calls the headless app core,
// and each has a CLI twin.
package gui

import (
	"context"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
	"github.com/godbus/dbus/v5"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/assets"
	"github.com/ticketray/ticketray/queue"
)

// AppID identifies Ticketray to Fyne (preferences, notifications).
const AppID = "io.ticketray.Ticketray"

var icons = map[string]fyne.Resource{
	"online":    fyne.NewStaticResource("tray-online.png", assets.TrayOnline),
	"offline":   fyne.NewStaticResource("tray-offline.png", assets.TrayOffline),
	"attention": fyne.NewStaticResource("tray-attention.png", assets.TrayAttention),
}

// Run starts the tray app and blocks until Quit or ctx ends.
func Run(ctx context.Context, svc *app.Service, env app.Env) error {
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	t := newTray(a, svc)
	// Deliver in the background while the app runs. A connector that
	// cannot be built (a bad secret reference) leaves the queue safe and
	// is shown in the status line.
	if co, err := svc.NewCourier(app.CourierOptions{}); err != nil {
		fmt.Fprintf(env.Stderr, "ticketray: delivery is off: %v\n", err)
	} else {
		t.courier = co
		defer co.Close()
		go func() {
			if err := co.Serve(ctx); err != nil {
				fmt.Fprintf(env.Stderr, "ticketray: delivery stopped: %v\n", err)
			}
		}()
	}
	t.ready = func() { fmt.Fprintf(env.Stderr, "ticketray: ready; queue %s\n", svc.Store.Path()) }
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	a.Lifecycle().SetOnStarted(t.start)
	a.Run()
	return nil
}

type tray struct {
	a       fyne.App
	svc     *app.Service
	report  fyne.Window
	form    *reportForm
	menu    *fyne.Menu
	status  *fyne.MenuItem
	queue   *fyne.MenuItem
	ready   func() // called once the UI is up
	courier *app.Courier
	hasTray bool
}

func newTray(a fyne.App, svc *app.Service) *tray {
	t := &tray{a: a, svc: svc}
	t.form = newReportForm(svc, svc.Config.Categories, app.DefaultUser(), svc.SystemInfo)
	t.report = a.NewWindow("Report an issue — Ticketray")
	t.report.SetContent(t.form.content)
	t.report.Resize(fyne.NewSize(560, 460))
	t.report.SetCloseIntercept(t.report.Hide) // closing hides; Quit is in the menu
	t.form.previewFn = func(text string) {
		e := widget.NewMultiLineEntry()
		e.SetText(text)
		e.Disable()
		d := dialog.NewCustom("System information that will be sent", "Close", e, t.report)
		d.Resize(fyne.NewSize(480, 400))
		d.Show()
	}
	t.form.onSaved = func(app.Receipt) {
		if t.courier != nil {
			t.courier.Wake()
		}
		t.refresh()
	}

	t.status = fyne.NewMenuItem("…", nil)
	t.status.Disabled = true
	t.queue = fyne.NewMenuItem("Help desk queue", nil)
	t.queue.Disabled = true // the queue viewer arrives with its own window
	t.menu = fyne.NewMenu("Ticketray",
		fyne.NewMenuItem("Report an issue…", t.showReport),
		t.queue,
		fyne.NewMenuItemSeparator(),
		t.status,
	)
	return t
}

// setupTray registers the tray icon and menu, only when a StatusNotifier
// host can show them (otherwise Fyne logs an error on every start).
func (t *tray) setupTray() bool {
	desk, ok := t.a.(desktop.App)
	if !ok || !trayHostPresent() {
		return false
	}
	desk.SetSystemTrayMenu(t.menu) // Fyne appends Quit
	desk.SetSystemTrayIcon(icons["online"])
	t.hasTray = true
	return true
}

func (t *tray) start() {
	t.refresh()
	// Without a StatusNotifier host there is no tray to click: open the
	// window so the app is still usable.
	if !t.setupTray() {
		t.showReport()
	}
	if t.ready != nil {
		t.ready()
	}
	go t.housekeeping()
}

// housekeeping refreshes the status every 30 s and applies the retention
// policy hourly. A ticker, not a busy loop: the app is idle in between.
func (t *tray) housekeeping() {
	purge := func() {
		if _, err := t.svc.PurgeExpired(context.Background(), time.Now()); err != nil {
			fmt.Fprintf(os.Stderr, "ticketray: purge delivered tickets: %v\n", err)
		}
	}
	purge()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		<-tick.C
		t.refresh()
		if n%120 == 0 {
			purge()
		}
	}
}

func (t *tray) showReport() {
	t.report.Show()
	t.report.RequestFocus()
	t.report.Canvas().Focus(t.form.summary)
}

// refresh re-reads the queue counts off the UI thread.
func (t *tray) refresh() {
	go func() {
		var s status
		ctx := context.Background()
		counts, err := t.svc.Store.Counts(ctx)
		s.Err = err
		s.Waiting = counts[queue.StatePending] + counts[queue.StateInFlight] + counts[queue.StateRetry]
		s.Dead = counts[queue.StateDead]
		if hs, err := t.svc.Store.Health(ctx); err == nil {
			for _, h := range hs {
				s.Offline = s.Offline || h.State == app.Down
				if h.LastSuccess.After(s.LastSent) {
					s.LastSent = h.LastSuccess
				}
			}
		}
		fyne.Do(func() {
			t.status.Label = s.line(time.Now())
			t.queue.Label = s.queueItem()
			t.menu.Refresh()
			if desk, ok := t.a.(desktop.App); ok && t.hasTray {
				desk.SetSystemTrayIcon(icons[s.icon()])
			}
		})
	}()
}

// trayHostPresent reports whether a StatusNotifier host can show our icon.
// Only Linux and the BSDs can lack one.
func trayHostPresent() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false // and do not let godbus autolaunch a bus just to ask
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }
