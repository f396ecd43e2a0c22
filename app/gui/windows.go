package gui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
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
// context each), so the windows process holds only the ones opened so far.
type trayWindow struct {
	w       fyne.Window
	onShow  func() // refresh what the window shows
	shown   bool   // shown before: onShow refreshes only on later shows
	visible bool   // shown and not closed since
	// idle reports whether the window has no background work in flight
	// (and, for the report window, no unsaved draft).
	idle func() bool
}

// hide is what closing the window does.
func (tw *trayWindow) hide() {
	tw.visible = false
	tw.w.Hide()
}

// ui is the windows process: the windows, built on first use. The tray
// process (tray.go) asks it to show them.
type ui struct {
	a         fyne.App
	svc       *app.Service
	form      *reportForm
	windows   map[string]*trayWindow
	main      *mainView
	queueView *queueView // the help desk queue, once opened
	mineView  *queueView // my tickets, once opened
	locks     lockInfo   // settings IT pushed and locked
	last      status     // the latest status shown
	// configProblem is why the config files are not in force ("" when
	// they are): shown in the report form and the main window's status.
	configProblem string
	onWake        func() // a ticket was saved or retried: tell the courier
	onQuit        func() // Quit was chosen
}

func newUI(a fyne.App, svc *app.Service) *ui {
	t := &ui{a: a, svc: svc, windows: map[string]*trayWindow{}, locks: newConfigLocks(svc.Loaded), onWake: func() {}, onQuit: a.Quit}
	t.form = newReportForm(svc, svc.Config.Categories, app.DefaultUser(), svc.SystemInfo)
	t.setConfigProblem(svc.ConfigProblem())
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
		t.onWake()
		t.refresh()
	}
	return t
}

// open shows a window by name (building it first if needed) and brings it
// to the front. It runs on the UI thread.
func (t *ui) open(what string) {
	if !slices.Contains(windowNames, what) {
		what = winMain
	}
	tw, ok := t.windows[what]
	if !ok {
		tw = t.build(what)
		t.windows[what] = tw
		tw.w.SetCloseIntercept(tw.hide) // closing hides; Quit is in the menu
	}
	tw.w.Show()
	tw.visible = true
	tw.w.RequestFocus()
	if tw.onShow != nil {
		tw.onShow()
	}
	tw.shown = true
}

// busy reports whether a window is shown or has work in flight: while it
// is, the windows process must stay. It runs on the UI thread.
func (t *ui) busy() bool {
	for _, tw := range t.windows {
		if tw.visible || (tw.idle != nil && !tw.idle()) {
			return true
		}
	}
	return false
}

func (t *ui) build(what string) *trayWindow {
	tw := &trayWindow{}
	switch what {
	case winReport:
		tw.w = t.a.NewWindow("Report an issue — " + brandName(t.svc))
		t.wireReport(tw.w)
		t.form.onClose = tw.hide
		t.form.onMine = func() { t.open(winMine) }
		t.form.bindKeys(tw.w.Canvas())
		t.form.capture = app.CaptureScreenshot
		t.form.hideWin = tw.w.Hide // not tw.hide: the window comes back
		t.form.showWin = func() {
			tw.w.Show()
			tw.w.RequestFocus()
		}
		t.form.setScreenshots(t.svc.ScreenshotsAllowed())
		tw.w.SetContent(t.form.content)
		tw.w.Resize(fyne.NewSize(560, 540))
		tw.onShow = func() { tw.w.Canvas().Focus(t.form.summary) }
		tw.idle = func() bool { return !t.form.busy() }
	case winQueue, winMine:
		title := "Help desk queue — " + brandName(t.svc)
		var v *queueView
		if what == winMine {
			title = "My tickets — " + brandName(t.svc)
			u := app.DefaultUser()
			v = newQueueView(serviceQueue{t.svc}, &u)
			v.onReport = func() { t.open(winReport) }
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
		v.showSignIn = func(conn string, content fyne.CanvasObject, cancel func()) func() {
			return showSignInDialog(conn, content, cancel, tw.w)
		}
		tw.w = t.a.NewWindow("Settings — " + brandName(t.svc))
		login := autostartRow(app.NewAutostart(app.AutostartOptions{Getenv: os.Getenv, Loaded: t.svc.Loaded}))
		tw.w.SetContent(container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), login), nil, nil, v.content))
		tw.w.Resize(fyne.NewSize(760, 520))
		tw.onShow = func() {
			if tw.shown {
				v.reload()
			}
		}
		tw.idle = func() bool { return v.bg.pending == 0 }
	case winAbout:
		t.buildAbout(tw)
	default:
		t.main = newMainView(t.open, func() { t.onQuit() })
		t.main.setBrand(brandName(t.svc), helpItem(t.a, t.svc.Config.Branding))
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
func (t *ui) wireReport(w fyne.Window) {
	t.form.previewFn = func(text string) { showText("System information that will be sent", text, w) }
	t.form.pickFile = pickFileIn(w)
	t.form.track = func(ctx context.Context, id string) ([]queue.Delivery, error) {
		e, err := t.svc.Get(ctx, id)
		return e.Deliveries, err
	}
}

func (t *ui) wireQueue(v *queueView, w fyne.Window) {
	v.confirm = func(title, msg string, answer func(bool)) {
		d := dialog.NewConfirm(title, msg, answer, w)
		escCloses(w.Canvas(), d) // Esc answers no, as Fyne's Cancel
		d.Show()
	}
	v.pickSave = func(name string, got func(io.WriteCloser)) {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				return
			}
			got(wc)
		}, w)
		d.SetFileName(name)
		d.Resize(fyne.NewSize(640, 440))
		escCloses(w.Canvas(), d)
		d.Show()
	}
	v.showAdd = func(title string, content fyne.CanvasObject) func() { return showAddDialog(title, content, w) }
	v.pickFile = pickFileIn(w)
	v.onChanged = func() {
		t.onWake()
		t.refresh()
	}
}

// pickFileIn asks for a file to attach in a dialog over w.
func pickFileIn(w fyne.Window) func(got func(path string)) {
	return func(got func(string)) {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			path := r.URI().Path()
			r.Close()
			got(path)
		}, w)
		d.Resize(fyne.NewSize(640, 440))
		escCloses(w.Canvas(), d)
		d.Show()
	}
}

// showText shows read-only text (a preview, a test report) in a dialog.
func showText(title, text string, parent fyne.Window) {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	d := dialog.NewCustom(title, "Close", container.NewScroll(l), parent)
	d.Resize(fyne.NewSize(560, 420))
	escCloses(parent.Canvas(), d)
	d.Show()
}

// escCloses lets Esc close d while it is shown over c (Fyne's dialogs do
// not take Esc themselves), then gives c its own Esc back.
func escCloses(c fyne.Canvas, d interface {
	Hide()
	SetOnClosed(func())
}) {
	prev := c.OnTypedKey()
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			d.Hide()
			return
		}
		if prev != nil {
			prev(k)
		}
	})
	d.SetOnClosed(func() { c.SetOnTypedKey(prev) })
}

// setConfigProblem shows (or, for "", clears) why the config files are
// not in force. It runs on the UI thread.
func (t *ui) setConfigProblem(problem string) {
	t.configProblem = problem
	t.form.setConfigProblem(problem)
}

// applyStatus shows the queue status in the main window. It runs on the
// UI thread.
func (t *ui) applyStatus(s status) {
	s.ConfigProblem = t.configProblem
	t.last = s
	if t.main != nil {
		t.main.setStatus(s, time.Now())
	}
}

// refresh re-reads the queue status off the UI thread.
func (t *ui) refresh() {
	go func() {
		s := readStatus(context.Background(), t.svc)
		fyne.Do(func() { t.applyStatus(s) })
	}()
}

// watch refreshes the status and the open queue views when the queue
// changes (the tray process delivers and notifies), and tells report
// whether the process is busy (see busy) each time that changes.
func (t *ui) watch(ctx context.Context, report func(busy bool)) {
	last := ""
	reported, wasBusy := false, false
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// An attempt that starts or fails changes no count: the Watch sees
	// every commit.
	w := t.svc.Store.Watch()
	defer w.Close()
	dirty := false
	for n := 0; ; n++ {
		if n%int(watchEvery/time.Second) == 0 {
			if moved, _ := w.Changed(ctx); moved {
				dirty = true
			}
			if counts, err := t.svc.Store.Counts(ctx); err == nil {
				if key := changeKey(counts); key != last || dirty {
					last, dirty = key, false
					fyne.Do(t.queueChanged)
					t.refresh()
				}
			}
		}
		done := make(chan bool, 1)
		fyne.Do(func() { done <- t.busy() })
		select {
		case <-ctx.Done():
			return
		case b := <-done:
			if !reported || wasBusy != b {
				reported, wasBusy = true, b
				report(b)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watchConfig keeps the report form's categories as IT's config says,
// and its configuration problem line as the files are broken or fixed
// (the tray process reloads delivery).
func (t *ui) watchConfig(ctx context.Context) {
	t.svc.WatchConfig(ctx, config.WatchOptions{}, func(l *config.Loaded, err error) {
		if err == nil {
			t.svc.UseConfig(l) // route new reports by the connections in force
		}
		problem := app.ProblemLine(err)
		fyne.Do(func() {
			t.setConfigProblem(problem)
			t.applyStatus(t.last)
			if err == nil {
				t.form.setCategories(l.Config.Categories)
				t.form.setScreenshots(t.svc.ScreenshotsAllowed())
			}
		})
	})
}

// queueChanged reloads the open queue views (UI thread).
func (t *ui) queueChanged() {
	for _, v := range []*queueView{t.queueView, t.mineView} {
		if v != nil && v.loaded {
			v.reload()
		}
	}
}

// notifier turns successive snapshots of the queue into notifications.
type notifier struct{ prev snapshot }

// diff records the entries as the latest snapshot and returns what to
// tell the user about the change since the previous one.
func (n *notifier) diff(entries []app.Entry) []notice {
	cur := takeSnapshot(entries)
	out := notices(n.prev, cur)
	n.prev = cur
	return out
}

// runWindows is the windows process: it shows the windows the tray
// process asks for on in, and tells it on out what happens (see child.go).
// It ends at the end of in, on Quit, or when ctx ends.
func runWindows(ctx context.Context, a fyne.App, svc *app.Service, env app.Env, in io.Reader, out io.Writer) error {
	t := newUI(a, svc)
	var mu sync.Mutex
	send := func(ev string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, ev)
	}
	t.onWake = func() { send(evWake) }
	// Quit once: Fyne runs a fyne.Do that comes after its loop stopped on
	// the calling goroutine, and a.Quit there closes windows off the main
	// thread ("Error in Fyne call thread"). The end of input, the context
	// and the main window's Quit may all ask; only the first does.
	var quitOnce sync.Once
	quit := func() { quitOnce.Do(func() { fyne.Do(a.Quit) }) }
	t.onQuit = func() {
		send(evQuit)
		quit()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var started sync.Once
	a.Lifecycle().SetOnStarted(func() {
		t.refresh()
		// As in the tray process: a passphrase's key derivation leaves
		// 64 MiB of garbage the runtime would keep for minutes.
		go debug.FreeOSMemory()
		go func() {
			sc := bufio.NewScanner(in)
			for sc.Scan() {
				cmd, what, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
				if cmd == reqChanged {
					fyne.Do(t.queueChanged)
					continue
				}
				if cmd != "show" {
					fmt.Fprintf(env.Stderr, "ticketray: windows process: unknown request %q\n", cmd)
					continue
				}
				fyne.Do(func() {
					t.open(what)
					started.Do(func() { send(evReady) })
				})
			}
			quit() // the tray process let us go, or is gone
		}()
		go t.watchConfig(ctx)
		go t.watch(ctx, func(busy bool) {
			if busy {
				send(evVisible)
			} else {
				send(evHidden)
			}
		})
	})
	go func() {
		<-ctx.Done()
		quit()
	}()
	a.Run()
	quitOnce.Do(func() {}) // stopped: the deferred cancel must not quit again
	return nil
}
