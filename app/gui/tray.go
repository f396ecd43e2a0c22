package gui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/queue"
)

// The tray process: the icon and its menu, delivery, notifications and
// the single-instance claim. It never runs Fyne's event loop, which wakes
// 60 times a second for as long as it runs, windows shown or not
// (fyne/v2 internal/driver/glfw/loop.go): about 2% of a core, all day, for
// an app that mostly sits in the tray. Windows open in a child process
// (see child.go) that exits a while after its last window was closed.

// traySurface shows the tray icon and menu: the system tray through
// fyne.io/systray, or a fake in tests.
type traySurface interface {
	setIcon(name string) // online, offline or attention
	refresh()            // the menu's labels changed
}

// host is the tray process.
type host struct {
	a       fyne.App // not running: notifications and URLs only
	svc     *app.Service
	env     app.Env
	windows *windowsProc
	notify  func(title, body string)

	mu      sync.Mutex
	menu    *fyne.Menu
	status  *fyne.MenuItem
	queue   *fyne.MenuItem
	surface traySurface // nil while there is no tray host
	// supervisor delivers; configProblem is why the config files are
	// not in force ("" when they are).
	supervisor    *delivery.Supervisor
	configProblem string
	last          status

	quitOnce sync.Once
	quitCh   chan struct{}
	shown    chan struct{} // closed when the windows process first showed a window
	shownOne sync.Once
}

func newHost(a fyne.App, svc *app.Service, env app.Env, windows *windowsProc) *host {
	h := &host{a: a, svc: svc, env: env, windows: windows, quitCh: make(chan struct{}), shown: make(chan struct{}), configProblem: svc.ConfigProblem()}
	h.notify = func(title, body string) { a.SendNotification(fyne.NewNotification(title, body)) }
	h.status = fyne.NewMenuItem("…", nil)
	h.status.Disabled = true
	var items []*fyne.MenuItem
	for _, e := range menuEntries {
		it := fyne.NewMenuItem(e.label, func() { h.open(e.window) })
		if e.window == winQueue {
			h.queue = it
		}
		items = append(items, it)
	}
	if help := helpItem(a, svc.Config.Branding); help != nil {
		items = append(items, help)
	}
	items = append(items, fyne.NewMenuItemSeparator(), h.status)
	h.menu = fyne.NewMenu(brandName(svc), items...)
	return h
}

// open shows a window, starting the windows process if needed.
func (h *host) open(what string) {
	if err := h.windows.show(what); err != nil {
		fmt.Fprintf(h.env.Stderr, "ticketray: cannot open the %s window: %v\n", what, err)
	}
}

// quit ends the tray app (the menu's Quit, the main window's Quit, a
// signal).
func (h *host) quit() { h.quitOnce.Do(func() { close(h.quitCh) }) }

// onChild handles what the windows process reports.
func (h *host) onChild(ev string) {
	switch ev {
	case evWake: // a ticket was saved or retried: deliver now
		h.mu.Lock()
		sup := h.supervisor
		h.mu.Unlock()
		if sup != nil {
			sup.Wake()
		}
		h.refresh()
	case evQuit:
		h.quit()
	case evReady:
		h.shownOne.Do(func() { close(h.shown) })
	}
}

// deliver runs the delivery supervisor (as `serve` does): it replaces the
// courier when a config file changes, purges on schedule and keeps every
// connection that can deliver delivering. A refused change is announced
// and shown in the status line; the last good config stays in force.
func (h *host) deliver(ctx context.Context) {
	logger, closeLog := app.StartLogger(h.env, slog.LevelInfo, "tray", h.svc.Store.Path())
	defer closeLog()
	onStatus := func(ch delivery.Change) {
		if title, body, ok := app.StatusNotice(ch); ok {
			h.notify(title, body)
		}
		if h.windows != nil {
			h.windows.changed() // an open My tickets shows the new state
		}
	}
	sup := h.svc.Supervisor(app.DeliveryOptions{Logger: logger, Watch: &config.WatchOptions{}, OnStatus: onStatus, OnConfig: func(l *config.Loaded, err error) {
		h.mu.Lock()
		h.configProblem = ""
		if err != nil {
			h.configProblem = app.ProblemLine(err)
		}
		h.mu.Unlock()
		if err != nil {
			h.notify("Configuration problem — tell IT", "The last good configuration stays in force: "+h.configProblem)
		} else {
			fmt.Fprintf(h.env.Stderr, "ticketray: config reloaded; %d connection(s) enabled\n", len(l.Config.Enabled()))
		}
		h.refresh()
	}})
	h.mu.Lock()
	h.supervisor = sup
	h.mu.Unlock()
	if err := sup.Run(ctx); err != nil {
		fmt.Fprintf(h.env.Stderr, "ticketray: delivery stopped: %v\n", err)
	}
}

// housekeeping refreshes the status line's "last sent" every 30 s (the
// supervisor purges). A ticker, not a busy loop.
func (h *host) housekeeping(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.refresh()
	}
}

// readStatus reads the queue counts and connection health.
func readStatus(ctx context.Context, svc *app.Service) status {
	var s status
	counts, err := svc.Store.Counts(ctx)
	s.Err = err
	s.Waiting = counts[queue.StatePending] + counts[queue.StateInFlight] + counts[queue.StateRetry] + counts[queue.Unrouted]
	s.Dead = counts[queue.StateDead]
	s.Storage = svc.Store.Problems()
	if hs, err := svc.Store.Health(ctx); err == nil {
		for _, h := range hs {
			s.Offline = s.Offline || h.State == delivery.Down
			if delivery.Red(h.State) {
				s.Broken = append(s.Broken, h.Connection)
			}
			if h.LastSuccess.After(s.LastSent) {
				s.LastSent = h.LastSuccess
			}
		}
	}
	return s
}

// refresh re-reads the status and shows it in the menu and icon.
func (h *host) refresh() { h.applyStatus(readStatus(context.Background(), h.svc)) }

func (h *host) applyStatus(s status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.ConfigProblem = h.configProblem
	h.last = s
	h.status.Label = s.line(time.Now())
	h.queue.Label = s.queueItem()
	if h.surface != nil {
		h.surface.refresh()
		h.surface.setIcon(s.icon())
	}
}

// setSurface attaches the tray icon and menu once the tray is up.
func (h *host) setSurface(s traySurface) {
	h.mu.Lock()
	h.surface = s
	h.mu.Unlock()
	h.refresh()
}

// watchEvery is how often the watcher looks at the queue counts: one
// cheap query; the tickets are read only when a count changed.
const watchEvery = 5 * time.Second

// watch raises a notification when a ticket is delivered or dies, wakes
// the courier when another process (the CLI) queued a ticket, and keeps
// the status current.
func (h *host) watch(ctx context.Context) {
	n := &notifier{}
	last := ""
	pending := -1
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	// An attempt that starts or fails changes no count: the Watch sees
	// every commit, and dirty holds it until the tickets were read.
	w := h.svc.Store.Watch()
	defer w.Close()
	dirty := false
	for {
		if moved, _ := w.Changed(ctx); moved {
			dirty = true
		}
		if counts, err := h.svc.Store.Counts(ctx); err == nil {
			if key := changeKey(counts); key != last || dirty {
				if entries, err := h.svc.List(ctx, ""); err == nil {
					last, dirty = key, false
					for _, x := range n.diff(entries) {
						h.notify(x.Title, x.Content)
					}
					if p := counts[queue.StatePending] + counts[queue.Unrouted]; pending >= 0 && p > pending {
						h.onChild(evWake)
					}
					pending = counts[queue.StatePending] + counts[queue.Unrouted]
					h.refresh()
				} else if ctx.Err() == nil {
					fmt.Fprintf(h.env.Stderr, "ticketray: read the queue: %v\n", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// runTray is the tray process: see the top of this file.
func runTray(ctx context.Context, a fyne.App, svc *app.Service, env app.Env, windows *windowsProc, tray trayRunner) error {
	h := newHost(a, svc, env, windows)
	windows.onEvent = h.onChild
	open := openRequest(env.Getenv)
	// One tray app per queue: a second launch brings this one forward,
	// before it starts delivering.
	in, err := claimInstance(socketPath(env.Getenv, svc.Store.Path()), open, func(what string) {
		fmt.Fprintf(env.Stderr, "ticketray: another launch asked for the %s window\n", what)
		h.open(what)
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	bg.Add(3)
	go func() { defer bg.Done(); h.deliver(ctx) }()
	go func() { defer bg.Done(); h.housekeeping(ctx) }()
	go func() { defer bg.Done(); h.watch(ctx) }()
	go func() {
		select {
		case <-ctx.Done():
			h.quit()
		case <-h.quitCh:
		}
	}()
	started := func() {
		h.refresh()
		if open != winMain || !h.hasSurface() {
			// Without a StatusNotifier host there is no tray to click:
			// open the main window, which has the menu's entries. Ready
			// means the window is up.
			h.open(open)
			select {
			case <-h.shown:
			case <-h.quitCh:
			case <-time.After(30 * time.Second):
				fmt.Fprintln(env.Stderr, "ticketray: the window did not show within 30 s")
			}
		}
		fmt.Fprintf(env.Stderr, "ticketray: ready; queue %s\n", svc.Store.Path())
		// Start-up garbage (a passphrase's Argon2id key derivation alone
		// allocates 64 MiB) would otherwise stay resident for minutes
		// until the runtime's scavenger returns it: hand it back now.
		debug.FreeOSMemory()
	}
	tray(h, started)
	cancel()
	windows.close()
	bg.Wait()
	return nil
}

func (h *host) hasSurface() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.surface != nil
}

// trayRunner shows the tray (when it can), calls started once it is up,
// and returns once h.quitCh is closed.
type trayRunner func(h *host, started func())

// headless runs without a tray icon: the windows process shows the main
// window instead.
func headless(h *host, started func()) {
	started()
	<-h.quitCh
}
