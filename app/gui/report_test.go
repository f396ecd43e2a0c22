package gui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"

	// As in main: under LANG=C, keeps Fyne's locale parsing quiet.
	_ "github.com/ticketray/ticketray/app/procenv"
)

// timeout bounds every wait for the form's background work.
const timeout = 5 * time.Second

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
	w.Resize(fyne.NewSize(560, 460))
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
		wantCleared  bool   // summary and description emptied
		wantInline   string // inline summary error; "" means hidden
	}{
		{
			name:         "saved with system information",
			category:     "Printer",
			sysInfo:      true,
			wantCategory: "Printer",
			wantPriority: "medium",
			wantStatus:   "Saved — will be sent when online (ticket 01JTESTTICKET).",
			wantCleared:  true,
		},
		{
			name:         "saved without system information",
			sysInfo:      false,
			wantCategory: "",
			wantPriority: "medium",
			wantStatus:   "Saved — will be sent when online (ticket 01JTESTTICKET).",
			wantCleared:  true,
		},
		{
			name:         "priority chosen",
			category:     "Network",
			priority:     "critical",
			sysInfo:      true,
			wantCategory: "Network",
			wantPriority: "critical",
			wantStatus:   "Saved — will be sent when online (ticket 01JTESTTICKET).",
			wantCleared:  true,
		},
		{
			name:         "store fails",
			category:     "Printer",
			sysInfo:      true,
			err:          errors.New("disk full"),
			wantCategory: "Printer",
			wantPriority: "medium",
			wantStatus:   "Not saved — your report is still here. disk full",
		},
		{
			name:         "summary rejected",
			sysInfo:      false,
			err:          connectors.ValidationError{{Field: "summary", Msg: "is 300 characters; the limit is 200"}},
			wantPriority: "medium",
			wantStatus:   "Not saved: invalid ticket: summary: is 300 characters; the limit is 200",
			wantInline:   "Summary is 300 characters; the limit is 200.",
		},
		{
			name:         "other field rejected",
			sysInfo:      true,
			err:          connectors.ValidationError{{Field: "description", Msg: "is 20000 characters; the limit is 10000"}},
			wantPriority: "medium",
			wantStatus:   "Not saved: invalid ticket: description: is 20000 characters; the limit is 10000",
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

			loop.waitFor(t, "status "+tt.wantStatus, func() bool { return f.status.Text == tt.wantStatus })
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
	test.AssertImageMatches(t, "report_form.png", w.Canvas().Capture())
}
