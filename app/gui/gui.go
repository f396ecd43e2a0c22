// Package gui is Ticketray's Fyne face: the tray icon and menu and the
// windows. It is a thin layer: every action calls the headless app core,
// and each has a CLI twin.
package gui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"github.com/godbus/dbus/v5"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/assets"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
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
	// One tray app per queue: a second launch brings this one forward,
	// before it starts delivering.
	t.openAtStart = openRequest(env.Getenv)
	in, err := claimInstance(socketPath(env.Getenv, svc.Store.Path()), t.openAtStart, func(what string) {
		fmt.Fprintf(env.Stderr, "ticketray: another launch asked for the %s window\n", what)
		fyne.Do(func() { t.open(what) })
	})
	switch {
	case errors.Is(err, errRunning):
		fmt.Fprintln(env.Stderr, "ticketray: already running; its window was brought to the front")
		return nil
	case err != nil:
		fmt.Fprintf(env.Stderr, "ticketray: %v (a second launch will start a second tray app)\n", err)
	default:
		defer in.Close()
	}
	// Deliver in the background while the app runs, with the config IT
	// pushes applied live.
	go t.deliver(ctx, env)
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
	form    *reportForm
	menu    *fyne.Menu
	status  *fyne.MenuItem
	queue   *fyne.MenuItem
	ready   func() // called once the UI is up
	courier *app.Courier
	hasTray bool

	windows     map[string]*trayWindow // built on first use
	main        *mainView
	queueView   *queueView // the help desk queue, once opened
	mineView    *queueView // my tickets, once opened
	locks       lockInfo   // settings IT pushed and locked
	last        status     // the latest status shown
	openAtStart string     // the window to open at start (TICKETRAY_OPEN)
}

// deliver runs a courier for the config in force and replaces it when a
// config file changes (as `serve` does): stopping it cancels in-flight
// calls, whose deliveries are recorded as retries and found by key next
// time, so nothing is lost or sent twice. A refused change is announced and
// the last good config stays in force. A connector that cannot be built (a
// bad secret reference) leaves the queue safe and is reported.
func (t *tray) deliver(ctx context.Context, env app.Env) {
	changes := make(chan *config.Loaded, 1)
	go t.svc.WatchConfig(ctx, config.WatchOptions{}, func(l *config.Loaded, err error) {
		if err != nil {
			fmt.Fprintf(env.Stderr, "ticketray: config change refused; the last good config stays in force: %v\n", err)
			fyne.Do(func() {
				t.a.SendNotification(fyne.NewNotification("Configuration change refused", "The last good configuration stays in force."))
			})
			return
		}
		select { // keep only the newest
		case <-changes:
		default:
		}
		changes <- l
	})
	svc := t.svc
	for {
		cctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		co, err := svc.NewCourier(app.CourierOptions{})
		if err != nil {
			fmt.Fprintf(env.Stderr, "ticketray: delivery is off: %v\n", err)
			close(done)
		} else {
			go func() {
				defer close(done)
				if err := co.Serve(cctx); err != nil {
					fmt.Fprintf(env.Stderr, "ticketray: delivery stopped: %v\n", err)
				}
			}()
		}
		fyne.Do(func() { t.courier = co })
		select {
		case <-ctx.Done():
			stop()
			<-done
			if co != nil {
				co.Close()
			}
			return
		case l := <-changes:
			stop()
			<-done
			if co != nil {
				co.Close()
			}
			svc = svc.WithConfig(l)
			fmt.Fprintf(env.Stderr, "ticketray: config reloaded; %d connection(s) enabled\n", len(l.Config.Enabled()))
			fyne.Do(func() { t.form.setCategories(l.Config.Categories) })
		}
	}
}

// brandName is IT's name for the app, or Ticketray.
func brandName(svc *app.Service) string {
	if n := svc.Config.Branding.AppName; n != "" {
		return n
	}
	return "Ticketray"
}

func newTray(a fyne.App, svc *app.Service) *tray {
	t := &tray{a: a, svc: svc, windows: map[string]*trayWindow{}, locks: newConfigLocks(svc.Loaded), openAtStart: winMain}
	t.form = newReportForm(svc, svc.Config.Categories, app.DefaultUser(), svc.SystemInfo)
	if skills, err := svc.SuggestedSkills(); err == nil {
		names := make([]string, len(skills))
		for i, sk := range skills {
			names[i] = sk.Name
		}
		t.form.setSkills(names, func(ctx context.Context, onResult func(int, diagnostics.SkillResult)) ([]diagnostics.SkillResult, *connectors.TroubleshootingSession) {
			return svc.RunSkills(ctx, skills, onResult)
		})
	}
	t.form.onSaved = func(app.Receipt) {
		if t.courier != nil {
			t.courier.Wake()
		}
		t.refresh()
	}

	t.status = fyne.NewMenuItem("…", nil)
	t.status.Disabled = true
	item := func(label, what string) *fyne.MenuItem {
		return fyne.NewMenuItem(label, func() { t.open(what) })
	}
	t.queue = item("Help desk queue", winQueue)
	items := []*fyne.MenuItem{
		item("Report an issue…", winReport),
		item("My tickets", winMine),
		t.queue,
		item("Run diagnostics", winDiagnostics),
		item("Settings…", winSettings),
	}
	if help := helpItem(a, svc.Config.Branding); help != nil {
		items = append(items, help)
	}
	items = append(items, fyne.NewMenuItemSeparator(), t.status)
	t.menu = fyne.NewMenu(brandName(svc), items...)
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
	// main window, which has the menu's entries, so the app is still
	// usable.
	if !t.setupTray() || t.openAtStart != winMain {
		t.open(t.openAtStart)
	}
	if t.ready != nil {
		t.ready()
	}
	// Start-up garbage (a passphrase's Argon2id key derivation alone
	// allocates 64 MiB) would otherwise stay resident for minutes until the
	// runtime's scavenger returns it: hand it back once, now.
	go debug.FreeOSMemory()
	go t.housekeeping()
	go t.watch()
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
		fyne.Do(func() { t.applyStatus(s) })
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

// helpItem is the branding's "Get help" entry: the support contact, opening
// the support URL (https: or mailto:) when there is one.
func helpItem(a fyne.App, b config.Branding) *fyne.MenuItem {
	if b.SupportContact == "" && b.SupportURL == "" {
		return nil
	}
	label := "Get help"
	if b.SupportContact != "" {
		label += ": " + b.SupportContact
	}
	it := fyne.NewMenuItem(label, nil)
	if u, err := url.Parse(b.SupportURL); err == nil && b.SupportURL != "" {
		it.Action = func() { a.OpenURL(u) }
	} else {
		it.Disabled = true
	}
	return it
}
