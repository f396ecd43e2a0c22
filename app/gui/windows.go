package gui

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/queue"
)

// EnvOpen names a window to open at start instead of the main window
// (main, report, mine, queue, diagnostics or settings). A second launch
// passes it to the running instance. It exists for screenshots and for
// desktop shortcuts ("Report an issue" straight away).
const EnvOpen = "TICKETRAY_OPEN"

// openRequest is the window a launch asks for.
func openRequest(getenv func(string) string) string {
	if w := getenv(EnvOpen); slices.Contains(windowNames, w) {
		return w
	}
	return winMain
}

// trayWindow is a window built on first use: a window costs memory (a GL
// context each), so an idle tray app holds only the ones opened so far.
type trayWindow struct {
	w      fyne.Window
	onShow func() // refresh what the window shows
	shown  bool   // shown before: onShow refreshes only on later shows
	// idle reports whether the window has no background work in flight.
	idle func() bool
}

// open shows a window by name (building it first if needed) and brings it
// to the front. It runs on the UI thread.
func (t *tray) open(what string) {
	if !slices.Contains(windowNames, what) {
		what = winMain
	}
	tw, ok := t.windows[what]
	if !ok {
		tw = t.build(what)
		t.windows[what] = tw
		tw.w.SetCloseIntercept(tw.w.Hide) // closing hides; Quit is in the menu
	}
	tw.w.Show()
	tw.w.RequestFocus()
	if tw.onShow != nil {
		tw.onShow()
	}
	tw.shown = true
}

func (t *tray) build(what string) *trayWindow {
	tw := &trayWindow{}
	switch what {
	case winReport:
		tw.w = t.a.NewWindow("Report an issue — " + brandName(t.svc))
		t.wireReport(tw.w)
		tw.w.SetContent(t.form.content)
		tw.w.Resize(fyne.NewSize(560, 460))
		tw.onShow = func() { tw.w.Canvas().Focus(t.form.summary) }
		tw.idle = func() bool { return !t.form.following }
	case winQueue, winMine:
		title := "Help desk queue — " + brandName(t.svc)
		var v *queueView
		if what == winMine {
			title = "My tickets — " + brandName(t.svc)
			u := app.DefaultUser()
			v = newQueueView(serviceQueue{t.svc}, &u)
		} else {
			v = newQueueView(serviceQueue{t.svc}, nil)
			t.queueView = v
		}
		tw.w = t.a.NewWindow(title)
		t.wireQueue(v, tw.w)
		tw.w.SetContent(v.content)
		tw.w.Resize(fyne.NewSize(1180, 760))
		tw.onShow = func() {
			if tw.shown {
				v.reload()
			}
		}
		tw.idle = func() bool { return v.bg.pending == 0 }
		if what == winMine {
			t.mineView = v
		}
	case winDiagnostics:
		v := newDiagView(t.form.collect)
		v.checks = t.svc.ReadOnlyChecks
		tw.w = t.a.NewWindow("Diagnostics — " + brandName(t.svc))
		tw.w.SetContent(v.content)
		tw.w.Resize(fyne.NewSize(640, 520))
		tw.onShow = v.start
		tw.idle = func() bool { return v.gen > 0 && !v.run.Disabled() }
	case winSettings:
		v := newSettingsView(t.svc, t.svc.Config.Connections, t.locks)
		v.showTest = func(title, report string) { showText(title, report, tw.w) }
		tw.w = t.a.NewWindow("Settings — " + brandName(t.svc))
		tw.w.SetContent(v.content)
		tw.w.Resize(fyne.NewSize(760, 520))
		tw.onShow = func() {
			if tw.shown {
				v.reload()
			}
		}
		tw.idle = func() bool { return v.bg.pending == 0 }
	default:
		t.main = newMainView(t.open, t.a.Quit)
		t.main.setStatus(t.last, time.Now())
		tw.w = t.a.NewWindow(brandName(t.svc))
		tw.w.SetContent(t.main.content)
		tw.w.Resize(fyne.NewSize(340, 0))
		tw.idle = func() bool { return true }
	}
	return tw
}

// wireReport connects the report form to its window's dialogs and to the
// courier.
func (t *tray) wireReport(w fyne.Window) {
	t.form.previewFn = func(text string) { showText("System information that will be sent", text, w) }
	t.form.pickFile = func(got func(string)) {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			path := r.URI().Path()
			r.Close()
			got(path)
		}, w)
		d.Resize(fyne.NewSize(640, 440))
		d.Show()
	}
	if t.courier != nil {
		t.form.track = func(ctx context.Context, id string) ([]queue.Delivery, error) {
			e, err := t.svc.Get(ctx, id)
			return e.Deliveries, err
		}
	}
}

func (t *tray) wireQueue(v *queueView, w fyne.Window) {
	v.confirm = func(title, msg string, answer func(bool)) { dialog.ShowConfirm(title, msg, answer, w) }
	v.pickSave = func(name string, got func(io.WriteCloser)) {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				return
			}
			got(wc)
		}, w)
		d.SetFileName(name)
		d.Resize(fyne.NewSize(640, 440))
		d.Show()
	}
	v.onChanged = func() {
		if t.courier != nil {
			t.courier.Wake()
		}
		t.refresh()
	}
}

// showText shows read-only text (a preview, a test report) in a dialog.
func showText(title, text string, parent fyne.Window) {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	d := dialog.NewCustom(title, "Close", container.NewScroll(l), parent)
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
}

// applyStatus shows the queue status in the tray menu, the tray icon and
// the main window. It runs on the UI thread.
func (t *tray) applyStatus(s status) {
	now := time.Now()
	t.last = s
	t.status.Label = s.line(now)
	t.queue.Label = s.queueItem()
	t.menu.Refresh()
	if desk, ok := t.a.(desktop.App); ok && t.hasTray {
		desk.SetSystemTrayIcon(icons[s.icon()])
	}
	if t.main != nil {
		t.main.setStatus(s, now)
	}
}

// watchEvery is how often the watcher looks at the queue counts: one
// cheap query; the tickets are read only when a count changed.
const watchEvery = 5 * time.Second

// watch raises a notification when a ticket is delivered or dies, and
// refreshes the status and open queue views when the queue changes.
func (t *tray) watch() {
	n := &notifier{send: t.a.SendNotification}
	last := ""
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		ctx := context.Background()
		if counts, err := t.svc.Store.Counts(ctx); err == nil {
			if key := changeKey(counts); key != last {
				if entries, err := t.svc.List(ctx, ""); err == nil {
					last = key
					notes := n.diff(entries)
					fyne.Do(func() {
						n.sendAll(notes)
						t.queueChanged()
					})
					t.refresh()
				} else {
					fmt.Fprintf(os.Stderr, "ticketray: read the queue: %v\n", err)
				}
			}
		}
		<-tick.C
	}
}

// queueChanged reloads the open queue views (UI thread).
func (t *tray) queueChanged() {
	for _, v := range []*queueView{t.queueView, t.mineView} {
		if v != nil && v.loaded {
			v.reload()
		}
	}
}

// notifier turns successive snapshots of the queue into notifications.
type notifier struct {
	prev snapshot
	send func(*fyne.Notification)
}

// diff records the entries as the latest snapshot and returns what to
// tell the user about the change since the previous one.
func (n *notifier) diff(entries []app.Entry) []notice {
	cur := takeSnapshot(entries)
	out := notices(n.prev, cur)
	n.prev = cur
	return out
}

func (n *notifier) sendAll(notes []notice) {
	for _, x := range notes {
		n.send(fyne.NewNotification(x.Title, x.Content))
	}
}
