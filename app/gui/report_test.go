package gui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"

	// As in main: under LANG=C, keeps Fyne's locale parsing quiet.
	_ "github.com/ticketray/ticketray/app/procenv"
)

// timeout bounds every wait for the form's background work.
const timeout = 5 * time.Second

// savedLine is the status under the confirmation after a save.
const savedLine = "It is sent to the help desk as soon as this computer is online."

// fakeSubmitter records the drafts it gets. Each Submit signals called and
// then blocks until release is closed, so a test can look at the form while
// the save is in progress.
type fakeSubmitter struct {
	receipt app.Receipt
	err     error
	called  chan struct{}
	release chan struct{}

	mu     sync.Mutex
	drafts []app.Draft
}

func newFakeSubmitter(r app.Receipt, err error) *fakeSubmitter {
	return &fakeSubmitter{receipt: r, err: err, called: make(chan struct{}, 10), release: make(chan struct{})}
}

func (s *fakeSubmitter) Submit(_ context.Context, d app.Draft) (app.Receipt, error) {
	s.mu.Lock()
	s.drafts = append(s.drafts, d)
	s.mu.Unlock()
	s.called <- struct{}{}
	<-s.release
	return s.receipt, s.err
}

func (s *fakeSubmitter) calls() []app.Draft {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]app.Draft(nil), s.drafts...)
}

// fakeCollect returns a fixed SystemInfo and counts its calls.
type fakeCollect struct {
	info  diagnostics.SystemInfo
	count atomic.Int32
}

func (c *fakeCollect) collect(context.Context) *diagnostics.SystemInfo {
	c.count.Add(1)
	return &c.info
}

var testUser = connectors.User{ID: "alice", Name: "Alice Example"}

var testCategories = []string{"Network", "Printer", "Other"}

// uiLoop stands in for Fyne's event loop. The test driver runs fyne.Do
// at once on the calling goroutine, so the form's background goroutine
// would touch widgets while the test reads them; here fyne.Do queues the
// function and the test goroutine runs it in waitFor, so widgets are only
// ever used from one goroutine, as in the app (and under -race).
type uiLoop struct {
	fyne.App
	drv *loopDriver
}

func (a *uiLoop) Driver() fyne.Driver { return a.drv }

type loopDriver struct {
	fyne.Driver
	queue chan func()
}

func (d *loopDriver) DoFromGoroutine(fn func(), wait bool) {
	if !wait {
		d.queue <- fn
		return
	}
	done := make(chan struct{})
	d.queue <- func() { fn(); close(done) }
	<-done
}

// newLoop makes a fresh test app (with Fyne's test theme) whose fyne.Do
// queues work for waitFor.
func newLoop(t *testing.T) *uiLoop {
	t.Helper()
	a := test.NewTempApp(t) // its cleanup makes a new current app
	loop := &uiLoop{App: a, drv: &loopDriver{Driver: a.Driver(), queue: make(chan func(), 64)}}
	fyne.SetCurrentApp(loop)
	return loop
}

// newTestForm builds the report form in a window of the app's size on a
// fresh test app (with Fyne's test theme).
func newTestForm(t *testing.T, sub submitter) (*reportForm, *fakeCollect, fyne.Window, *uiLoop) {
	t.Helper()
	loop := newLoop(t)
	c := &fakeCollect{info: diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", Architecture: "amd64", DeviceName: "lab-pc-7"}}
	f := newReportForm(sub, testCategories, testUser, c.collect)
	w := test.NewTempWindow(t, f.content)
	w.Resize(fyne.NewSize(560, 540))
	return f, c, w, loop
}

// waitFor runs the functions queued with fyne.Do until cond holds, or
// fails the test at the deadline.
func (l *uiLoop) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case fn := <-l.drv.queue:
			fn()
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s (widgets change only through fyne.Do, and nothing more came)", timeout, what)
		}
	}
}

// receive waits for a value on ch with a deadline.
func receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	panic("unreachable")
}

func TestReportFormSubmit(t *testing.T) {
	receipt := app.Receipt{ID: "01JTESTTICKET", IdempotencyKey: "k-1", Connections: []string{"helpdesk"}}
	tests := []struct {
		name     string
		category string // "" leaves "(none)"
		priority string // "" leaves the default
		sysInfo  bool
		err      error

		wantCategory string
		wantPriority string
		wantStatus   string
		wantDone     string // the line under the confirmation
		wantCleared  bool   // summary and description emptied
		wantInline   string // inline summary error; "" means hidden
	}{
		{
			name:         "saved with system information",
			category:     "Printer",
			sysInfo:      true,
			wantCategory: "Printer",
			wantPriority: "medium",
			wantDone:     savedLine,
			wantCleared:  true,
		},
		{
			name:         "saved without system information",
			sysInfo:      false,
			wantCategory: "",
			wantPriority: "medium",
			wantDone:     savedLine,
			wantCleared:  true,
		},
		{
			name:         "priority chosen",
			category:     "Network",
			priority:     "critical",
			sysInfo:      true,
			wantCategory: "Network",
			wantPriority: "critical",
			wantDone:     savedLine,
			wantCleared:  true,
		},
		{
			name:         "store fails",
			category:     "Printer",
			sysInfo:      true,
			err:          errors.New("disk full"),
			wantCategory: "Printer",
			wantPriority: "medium",
			wantStatus:   "Not saved — your report is still here. The disk is full. Free some space and try again.",
		},
		{
			name:         "queue unavailable",
			sysInfo:      true,
			err:          errors.New("submit: database is locked (5) (SQLITE_BUSY)"),
			wantPriority: "medium",
			wantStatus:   "Not saved — your report is still here. Ticketray cannot save on this computer right now. Try again; if it keeps happening, tell IT.",
		},
		{
			name:         "summary rejected",
			sysInfo:      false,
			err:          connectors.ValidationError{{Field: "summary", Msg: "is 300 characters; the limit is 200"}},
			wantPriority: "medium",
			wantStatus:   "Not saved: the summary is 300 characters; the limit is 200.",
			wantInline:   "Summary is 300 characters; the limit is 200.",
		},
		{
			name:         "other field rejected",
			sysInfo:      true,
			err:          connectors.ValidationError{{Field: "description", Msg: "is 20000 characters; the limit is 10000"}},
			wantPriority: "medium",
			wantStatus:   "Not saved: the description is 20000 characters; the limit is 10000.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := newFakeSubmitter(receipt, tt.err)
			f, coll, w, loop := newTestForm(t, sub)
			var saved []app.Receipt
			f.onSaved = func(r app.Receipt) { saved = append(saved, r) }

			const summary = "  Printer jams on every page  "
			const descr = "Paper stuck\nsince Monday"
			w.Canvas().Focus(f.summary)
			test.Type(f.summary, summary)
			test.Type(f.descr, descr)
			if tt.category != "" {
				f.category.SetSelected(tt.category)
			}
			if tt.priority != "" {
				f.priority.SetSelected(tt.priority)
			}
			f.sysInfo.SetChecked(tt.sysInfo)

			test.Tap(f.submit)
			receive(t, "Submit to be called", sub.called)
			// Submit is blocked: the form shows the save in progress and
			// cannot be submitted twice.
			if got := f.status.Text; got != "Saving…" {
				t.Errorf("status while saving = %q, want %q", got, "Saving…")
			}
			if !f.submit.Disabled() {
				t.Error("Submit is enabled while saving")
			}
			test.Tap(f.submit)
			close(sub.release)

			loop.waitFor(t, "status "+tt.wantStatus, func() bool { return f.status.Text == tt.wantStatus && f.doneSub.Text == tt.wantDone })
			if tt.err == nil {
				if len(saved) != 1 || saved[0].ID != receipt.ID {
					t.Errorf("onSaved got %+v, want one call with %+v", saved, receipt)
				}
			} else if len(saved) != 0 {
				t.Errorf("onSaved called on a failed save: %+v", saved)
			}

			drafts := sub.calls()
			if len(drafts) != 1 {
				t.Fatalf("Submit called %d times, want 1", len(drafts))
			}
			d := drafts[0]
			if d.Summary != strings.TrimSpace(summary) {
				t.Errorf("draft summary = %q, want %q", d.Summary, strings.TrimSpace(summary))
			}
			if d.Description != descr {
				t.Errorf("draft description = %q, want %q", d.Description, descr)
			}
			if d.Category != tt.wantCategory {
				t.Errorf("draft category = %q, want %q", d.Category, tt.wantCategory)
			}
			if d.Priority != tt.wantPriority {
				t.Errorf("draft priority = %q, want %q", d.Priority, tt.wantPriority)
			}
			if d.User != testUser {
				t.Errorf("draft user = %+v, want %+v", d.User, testUser)
			}
			if tt.sysInfo {
				if d.SystemInfo != &coll.info {
					t.Errorf("draft SystemInfo = %+v, want the collected %+v", d.SystemInfo, coll.info)
				}
			} else {
				if d.SystemInfo != nil {
					t.Errorf("draft SystemInfo = %+v with the check off, want nil", d.SystemInfo)
				}
				if n := coll.count.Load(); n != 0 {
					t.Errorf("system information collected %d times with the check off", n)
				}
			}

			if f.submit.Disabled() {
				t.Error("Submit still disabled after the save finished")
			}
			wantSummary, wantDescr := summary, descr
			if tt.wantCleared {
				wantSummary, wantDescr = "", ""
			}
			if f.summary.Text != wantSummary {
				t.Errorf("summary after submit = %q, want %q", f.summary.Text, wantSummary)
			}
			if f.descr.Text != wantDescr {
				t.Errorf("description after submit = %q, want %q", f.descr.Text, wantDescr)
			}
			if tt.err != nil && !strings.HasPrefix(f.status.Text, "Not saved") {
				t.Errorf("status = %q, want it to start with %q", f.status.Text, "Not saved")
			}
			// A save confirms with the reference `queue show` takes; a
			// failure shows none.
			if want := tt.err == nil; f.done.Visible() != want {
				t.Errorf("confirmation visible = %v, want %v", f.done.Visible(), want)
			}
			if tt.err == nil && f.doneText.Text != "Thank you — your report is saved. Reference: 01JTESTT (quote it if you call the help desk)." {
				t.Errorf("confirmation = %q", f.doneText.Text)
			}
			if tt.wantInline != "" {
				if !f.summaryErr.Visible() || f.summaryErr.Text != tt.wantInline {
					t.Errorf("inline error visible=%v %q, want visible %q", f.summaryErr.Visible(), f.summaryErr.Text, tt.wantInline)
				}
			} else if f.summaryErr.Visible() {
				t.Errorf("inline error shown: %q", f.summaryErr.Text)
			}
		})
	}
}

// An empty summary is caught in the form: no save, an inline error that
// typing clears.
func TestReportFormEmptySummary(t *testing.T) {
	for _, summary := range []string{"", "   ", "\t "} {
		t.Run(strings.ReplaceAll(summary, "\t", `\t`), func(t *testing.T) {
			sub := newFakeSubmitter(app.Receipt{ID: "x"}, nil)
			close(sub.release)
			f, _, w, _ := newTestForm(t, sub)
			test.Type(f.summary, summary)
			test.Type(f.descr, "details I do not want to lose")

			test.Tap(f.submit)

			// A save would have set "Saving…" and disabled Submit before
			// returning; neither may happen.
			if f.status.Text != "" || f.submit.Disabled() {
				t.Errorf("after Submit: status %q, submit disabled %v; want no save started", f.status.Text, f.submit.Disabled())
			}
			if n := len(sub.calls()); n != 0 {
				t.Errorf("Submit called %d times, want 0", n)
			}
			const want = "Please describe the problem in one line."
			if !f.summaryErr.Visible() || f.summaryErr.Text != want {
				t.Errorf("inline error visible=%v %q, want visible %q", f.summaryErr.Visible(), f.summaryErr.Text, want)
			}
			if got := w.Canvas().Focused(); got != f.summary {
				t.Errorf("focus on %T after the error, want the summary", got)
			}
			if f.descr.Text != "details I do not want to lose" {
				t.Errorf("description = %q, want it kept", f.descr.Text)
			}

			test.Type(f.summary, "x")
			if f.summaryErr.Visible() {
				t.Errorf("inline error still shown after typing: %q", f.summaryErr.Text)
			}
		})
	}
}

// Enter in the summary moves on to the description; it never submits or
// clears a half-written report.
func TestReportFormEnterInSummary(t *testing.T) {
	for _, key := range []fyne.KeyName{fyne.KeyReturn, fyne.KeyEnter} {
		t.Run(string(key), func(t *testing.T) {
			sub := newFakeSubmitter(app.Receipt{ID: "x"}, nil)
			close(sub.release)
			f, _, w, _ := newTestForm(t, sub)
			w.Canvas().Focus(f.summary)
			test.Type(f.summary, "Half-written")

			f.summary.TypedKey(&fyne.KeyEvent{Name: key})

			if f.summary.Text != "Half-written" {
				t.Errorf("summary = %q after %s, want it kept", f.summary.Text, key)
			}
			if f.status.Text != "" || f.submit.Disabled() {
				t.Errorf("after %s: status %q, submit disabled %v; want no save started", key, f.status.Text, f.submit.Disabled())
			}
			if n := len(sub.calls()); n != 0 {
				t.Errorf("Submit called %d times after %s, want 0", n, key)
			}
			if got := w.Canvas().Focused(); got != f.descr {
				t.Errorf("focus on %T after %s, want the description", got, key)
			}
		})
	}
}

// Preview shows exactly the system information that would be attached.
func TestReportFormPreview(t *testing.T) {
	f, coll, _, loop := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
	var shown []string
	f.previewFn = func(s string) { shown = append(shown, s) }

	test.Tap(f.preview)
	if !f.preview.Disabled() {
		t.Error("Preview enabled while the information is collected")
	}
	loop.waitFor(t, "the preview", func() bool { return len(shown) > 0 })
	text := shown[0]

	for _, want := range []string{`"deviceName": "lab-pc-7"`, `"osName": "debian"`, `"architecture": "amd64"`} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %s:\n%s", want, text)
		}
	}
	if n := coll.count.Load(); n != 1 {
		t.Errorf("collect called %d times, want 1", n)
	}
	if f.preview.Disabled() {
		t.Error("Preview still disabled after the preview was shown")
	}
}

// TestReportFormImage pins the form's look. To accept a deliberate change,
// copy testdata/failed/report_form.png over testdata/report_form.png.
func TestReportFormImage(t *testing.T) {
	f, _, w, _ := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
	if f.summaryErr.Visible() {
		t.Error("inline error visible on a fresh form")
	}
	pinImage(t, "report_form.png", w.Canvas().Capture())
}

// ctrlEnter is Ctrl+Enter as the driver hands it over (Cmd+Enter on macOS).
var ctrlEnter = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}

var escape = &fyne.KeyEvent{Name: fyne.KeyEscape}

// Tab walks the form in reading order, and leaves the description (a
// multi-line Entry would keep the focus and type a tab).
func TestReportFormTabOrder(t *testing.T) {
	f, _, w, _ := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
	c := w.Canvas()
	if f.descr.AcceptsTab() {
		t.Error("the description accepts Tab: the driver would type it instead of moving on")
	}
	want := []fyne.Focusable{f.summary, f.category, f.priority, f.descr, f.sysInfo, f.preview, f.attachBtn, f.cancel, f.submit, f.summary}
	names := []string{"summary", "category", "priority", "description", "system information", "Preview", "Attach file", "Cancel", "Submit", "summary again"}
	c.Focus(f.summary)
	for i := 1; i < len(want); i++ {
		test.FocusNext(c)
		if got := c.Focused(); got != want[i] {
			t.Fatalf("Tab %d from %s: focus on %T, want %s", i, names[i-1], got, names[i])
		}
	}
	test.FocusPrevious(c)
	if c.Focused() != f.submit {
		t.Errorf("Shift+Tab from the summary: focus on %T, want Submit", c.Focused())
	}
}

// Ctrl+Enter submits from either text field and from the window; a
// second one while the save runs does nothing.
func TestReportFormCtrlEnter(t *testing.T) {
	for _, where := range []string{"summary", "description", "window"} {
		t.Run(where, func(t *testing.T) {
			sub := newFakeSubmitter(app.Receipt{ID: "0a1b2c3d-4e5f"}, nil)
			f, _, w, loop := newTestForm(t, sub)
			f.bindKeys(w.Canvas())
			w.Canvas().Focus(f.summary)
			test.Type(f.summary, "Printer jams")
			w.Canvas().Focus(f.descr)
			test.Type(f.descr, "Every page")
			press := func() {
				switch where {
				case "summary":
					f.summary.TypedShortcut(ctrlEnter)
				case "description":
					f.descr.TypedShortcut(ctrlEnter)
				default:
					w.Canvas().Unfocus()
					w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlEnter)
				}
			}
			press()
			receive(t, "Submit to be called", sub.called)
			press()
			close(sub.release)
			loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
			if d := sub.calls(); len(d) != 1 || d[0].Description != "Every page" {
				t.Errorf("drafts %+v, want one with the description as typed (no newline from Enter)", d)
			}
		})
	}
}

// Esc closes the window from a field or from the window itself, and
// Cancel does the same; the draft stays for next time.
func TestReportFormEscapeAndCancel(t *testing.T) {
	for _, how := range []string{"Esc in summary", "Esc in description", "Esc in window", "Cancel"} {
		t.Run(how, func(t *testing.T) {
			f, _, w, _ := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
			f.bindKeys(w.Canvas())
			closed := 0
			f.onClose = func() { closed++ }
			test.Type(f.summary, "Half-written")
			switch how {
			case "Esc in summary":
				f.summary.TypedKey(escape)
			case "Esc in description":
				f.descr.TypedKey(escape)
			case "Esc in window":
				w.Canvas().Unfocus()
				w.Canvas().OnTypedKey()(escape)
			default:
				test.Tap(f.cancel)
			}
			if closed != 1 {
				t.Errorf("window closed %d times, want 1", closed)
			}
			if f.summary.Text != "Half-written" {
				t.Errorf("summary %q after closing, want the draft kept", f.summary.Text)
			}
		})
	}
}

// Esc closes the window whichever control Tab left the focus on: the
// driver gives the key to that control alone.
func TestReportFormEscapeFromEveryControl(t *testing.T) {
	sub := newFakeSubmitter(app.Receipt{}, nil)
	defer close(sub.release)
	f, _, w, _ := newTestForm(t, sub)
	f.bindKeys(w.Canvas())
	closed := 0
	f.onClose = func() { closed++ }
	f.shotBtn.Show()
	f.skillsCheck.Show()
	f.done.Show() // the Submit confirmation, with Open My tickets
	if err := f.attach.add(connectors.Attachment{Filename: "error.log", ContentType: "text/plain", Data: []byte("E1")}); err != nil {
		t.Fatal(err)
	}
	f.showAttachments()
	controls := map[string]fyne.Focusable{
		"category": f.category, "priority": f.priority, "system information": f.sysInfo, "Preview": f.preview,
		"Attach a screenshot": f.shotBtn, "Attach file": f.attachBtn, "suggested checks": f.skillsCheck,
		"Open My tickets": f.mineBtn, "Cancel": f.cancel, "Submit": f.submit,
		"an attachment's remove button": attachmentRemove(f, 0),
	}
	for name, c := range controls {
		before := closed
		w.Canvas().Focus(c)
		if w.Canvas().Focused() != c {
			t.Errorf("%s cannot take the focus", name)
			continue
		}
		c.TypedKey(escape)
		if closed != before+1 {
			t.Errorf("Esc with the focus on %s closed the window %d times, want once", name, closed-before)
		}
	}
	// Other keys still reach the control: Space on Submit submits.
	test.Type(f.summary, "Printer jams")
	w.Canvas().Focus(f.submit)
	f.submit.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	select {
	case <-sub.called:
	case <-time.After(timeout):
		t.Error("Space on Submit did not submit")
	}
}

// Esc over a dialog closes the dialog, not the window under it.
func TestEscClosesDialogFirst(t *testing.T) {
	f, _, w, _ := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
	f.bindKeys(w.Canvas())
	closed := 0
	f.onClose = func() { closed++ }
	showText("System information that will be sent", "{}", w)
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("no dialog shown")
	}
	w.Canvas().OnTypedKey()(escape)
	if w.Canvas().Overlays().Top() != nil || closed != 0 {
		t.Fatalf("after Esc: dialog shown %v, window closed %d times; want the dialog gone, the window kept", w.Canvas().Overlays().Top() != nil, closed)
	}
	w.Canvas().OnTypedKey()(escape)
	if closed != 1 {
		t.Errorf("second Esc closed the window %d times, want 1", closed)
	}
}

// The confirmation gives a reference and a way to My tickets; typing a
// new report puts it away.
func TestReportFormConfirmation(t *testing.T) {
	sub := newFakeSubmitter(app.Receipt{ID: "0a1b2c3d-4e5f-6789", Connections: []string{"ServiceNow"}}, nil)
	close(sub.release)
	f, _, w, loop := newTestForm(t, sub)
	mine := 0
	f.onMine = func() { mine++ }
	test.Type(f.summary, "Printer jams")
	test.Tap(f.submit)
	loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
	if want := "Thank you — your report is saved. Reference: 0a1b2c3d (quote it if you call the help desk)."; f.doneText.Text != want {
		t.Errorf("confirmation %q, want %q", f.doneText.Text, want)
	}
	if f.summary.Text != "" || f.descr.Text != "" {
		t.Errorf("form not reset: %q, %q", f.summary.Text, f.descr.Text)
	}
	f.content.Refresh()
	pinImage(t, "report_confirmation.png", w.Canvas().Capture())
	test.Tap(f.mineBtn)
	if mine != 1 {
		t.Errorf("Open My tickets opened it %d times, want 1", mine)
	}
	test.Type(f.summary, "Another one")
	if f.done.Visible() {
		t.Error("confirmation still shown while a new report is typed")
	}
}

// The reference is what `ticketray queue show REF` takes.
func TestReportReferenceFindsTicket(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"version":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{app.EnvDBPath: filepath.Join(dir, "queue.db"), app.EnvPassphrase: "ref test", "HOME": dir,
		"XDG_DATA_HOME": filepath.Join(dir, "data"), "TICKETRAY_MANAGED_DIR": filepath.Join(dir, "managed")}
	getenv := func(k string) string { return env[k] }
	svc, err := app.Open(context.Background(), app.Options{ConfigPath: cfg, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Submit(context.Background(), app.Draft{Summary: "Printer jams", User: testUser})
	svc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ref := shortID(r.ID)
	if !strings.Contains(confirmation(r.ID), ref) {
		t.Fatalf("confirmation %q lacks the reference %s", confirmation(r.ID), ref)
	}
	var out, errOut bytes.Buffer
	code := app.Main(context.Background(), []string{"--config", cfg, "queue", "show", ref}, app.Env{Stdout: &out, Stderr: &errOut, Getenv: getenv}, nil)
	if code != 0 || !strings.Contains(out.String(), r.ID) || !strings.Contains(out.String(), "Printer jams") {
		t.Errorf("queue show %s: exit %d\n%s%s\nwant ticket %s", ref, code, out.String(), errOut.String(), r.ID)
	}
}

// The confirmation's check sits beside its first line, not halfway down
// the block.
func TestReportConfirmationCheckAtTop(t *testing.T) {
	sub := newFakeSubmitter(app.Receipt{ID: "0a1b2c3d-4e5f-6789", Connections: []string{"ServiceNow"}}, nil)
	close(sub.release)
	f, _, w, loop := newTestForm(t, sub)
	test.Type(f.summary, "Printer jams")
	test.Tap(f.submit)
	loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
	f.content.Refresh()
	var icon *widget.Icon
	for _, o := range test.LaidOutObjects(f.done) {
		if i, ok := o.(*widget.Icon); ok {
			icon = i
		}
	}
	if icon == nil {
		t.Fatal("no check icon in the confirmation")
	}
	d := fyne.CurrentApp().Driver()
	iconMid := d.AbsolutePositionForObject(icon).Y + icon.Size().Height/2
	textTop := d.AbsolutePositionForObject(f.doneText).Y
	line := widget.NewLabel("x").MinSize().Height
	if f.doneText.Size().Height < 1.5*line {
		t.Fatalf("the confirmation is one line (%v high): the test needs two", f.doneText.Size().Height)
	}
	if iconMid < textTop || iconMid > textTop+line {
		t.Errorf("check centred at y=%v, want within the first line (%v–%v); window %v", iconMid, textTop, textTop+line, w.Canvas().Size())
	}
}
