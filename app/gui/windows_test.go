package gui

import (
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
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

func TestMainView(t *testing.T) {
	newLoop(t)
	var opened []string
	quits := 0
	m := newMainView(func(w string) { opened = append(opened, w) }, func() { quits++ })
	test.NewTempWindow(t, m.content)

	tests := []struct{ button, want string }{
		{"Report an issue…", winReport},
		{"My tickets", winMine},
		{"Help desk queue", winQueue},
		{"Run diagnostics", winDiagnostics},
		{"Settings…", winSettings},
	}
	for _, tt := range tests {
		t.Run(tt.button, func(t *testing.T) {
			b := m.buttons[tt.want]
			if b == nil || b.Text != tt.button {
				t.Fatalf("button for %s = %+v, want %q", tt.want, b, tt.button)
			}
			test.Tap(b)
			if got := opened[len(opened)-1]; got != tt.want {
				t.Errorf("tapping %q opened %q, want %q", tt.button, got, tt.want)
			}
		})
	}
	test.Tap(m.quit)
	if quits != 1 {
		t.Errorf("Quit called %d times, want 1", quits)
	}

	m.setStatus(status{Waiting: 3, Offline: true}, time.Now())
	if m.status.Text != "Offline — 3 queued" || m.buttons[winQueue].Text != "Help desk queue (3 waiting)" {
		t.Errorf("status %q, queue button %q", m.status.Text, m.buttons[winQueue].Text)
	}
}

func TestDiagView(t *testing.T) {
	tests := []struct {
		name   string
		checks func(context.Context) ([]diagnostics.SkillResult, error)
		want   []string
		absent string
	}{
		{"system information only", nil, []string{"System", "debian 12", "lab-pc-7"}, "Checks"},
		{"with the checks", func(context.Context) ([]diagnostics.SkillResult, error) {
			return []diagnostics.SkillResult{{SkillID: "disk-space", SkillName: "Disk space", Status: "success", Output: "42 GiB free"}}, nil
		}, []string{"lab-pc-7", "Checks", "SUCCESS  disk-space — Disk space", "42 GiB free"}, ""},
		{"checks cannot run", func(context.Context) ([]diagnostics.SkillResult, error) {
			return nil, errors.New("skills[0].program: is required")
		}, []string{"lab-pc-7", "Checks", "could not run: skills[0].program: is required"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loop := newLoop(t)
			var calls atomic.Int32
			v := newDiagView(func(context.Context) *diagnostics.SystemInfo {
				calls.Add(1)
				return &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", DeviceName: "lab-pc-7"}
			})
			v.checks = tt.checks
			test.NewTempWindow(t, v.content)
			v.start()
			if !v.run.Disabled() || v.status.Text != "Collecting…" {
				t.Errorf("while collecting: run disabled %v, status %q", v.run.Disabled(), v.status.Text)
			}
			loop.waitFor(t, "the diagnostics", func() bool { return !v.run.Disabled() })
			if !strings.HasPrefix(v.status.Text, "Collected at ") {
				t.Errorf("status %q", v.status.Text)
			}
			for _, w := range tt.want {
				if !strings.Contains(v.text.Text, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, v.text.Text)
				}
			}
			if tt.absent != "" && strings.Contains(v.text.Text, tt.absent) {
				t.Errorf("diagnostics show %q without checks:\n%s", tt.absent, v.text.Text)
			}
			test.Tap(v.run)
			loop.waitFor(t, "the second run", func() bool { return calls.Load() == 2 && !v.run.Disabled() })
			test.Tap(v.copyBtn)
			if got := fyne.CurrentApp().Clipboard().Content(); got != v.text.Text {
				t.Errorf("clipboard = %q, want the diagnostics", got)
			}
		})
	}
}

// The report form attaches files through its picker, lists them with a
// remove button, and submits them.
func TestReportFormAttachments(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	logPath, shotPath := write("vpn.log", "error 42\n"), write("shot.txt", "screen")

	sub := newFakeSubmitter(app.Receipt{ID: "t1"}, nil)
	close(sub.release)
	f, _, _, loop := newTestForm(t, sub)
	var next string
	f.pickFile = func(got func(string)) { got(next) }

	steps := []struct {
		path       string
		wantRows   []string
		wantStatus string
	}{
		{logPath, []string{"vpn.log (9 bytes)"}, ""},
		{shotPath, []string{"vpn.log (9 bytes)", "shot.txt (6 bytes)"}, ""},
		{logPath, []string{"vpn.log (9 bytes)", "shot.txt (6 bytes)"}, "Not attached: vpn.log is already attached"},
		{filepath.Join(dir, "missing"), []string{"vpn.log (9 bytes)", "shot.txt (6 bytes)"}, "Not attached: missing no longer exists."},
	}
	for _, s := range steps {
		next = s.path
		f.status.SetText("…")
		test.Tap(f.attachBtn)
		loop.waitFor(t, "the file to be read", func() bool { return !f.attachBtn.Disabled() && f.status.Text != "…" })
		if got := attachmentRows(f); strings.Join(got, "|") != strings.Join(s.wantRows, "|") {
			t.Errorf("after attaching %s: rows %v, want %v", filepath.Base(s.path), got, s.wantRows)
		}
		if f.status.Text != s.wantStatus {
			t.Errorf("after attaching %s: status %q, want %q", filepath.Base(s.path), f.status.Text, s.wantStatus)
		}
	}

	// Remove the first; submit carries the other, with its bytes.
	test.Tap(attachmentRemove(f, 0))
	if got := attachmentRows(f); strings.Join(got, "|") != "shot.txt (6 bytes)" {
		t.Errorf("after removing: %v", got)
	}
	test.Type(f.summary, "VPN drops")
	test.Tap(f.submit)
	loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
	d := sub.calls()[0]
	if len(d.Attachments) != 1 || d.Attachments[0].Filename != "shot.txt" || string(d.Attachments[0].Data) != "screen" || d.Attachments[0].SizeBytes != 6 {
		t.Errorf("submitted attachments %+v", d.Attachments)
	}
	if len(attachmentRows(f)) != 0 || len(f.attach.items) != 0 {
		t.Errorf("attachments kept after the save: %v", attachmentRows(f))
	}
}

func attachmentRows(f *reportForm) []string {
	var out []string
	for _, row := range f.attachBox.Objects {
		for _, o := range walk(row) {
			if l, ok := o.(*widget.Label); ok {
				out = append(out, l.Text)
			}
		}
	}
	return out
}

func attachmentRemove(f *reportForm, i int) *escButton {
	for _, o := range walk(f.attachBox.Objects[i]) {
		if b, ok := o.(*escButton); ok {
			return b
		}
	}
	return nil
}

// walk is o and every object in the containers under it (not inside
// widgets).
func walk(o fyne.CanvasObject) []fyne.CanvasObject {
	out := []fyne.CanvasObject{o}
	if c, ok := o.(*fyne.Container); ok {
		for _, child := range c.Objects {
			out = append(out, walk(child)...)
		}
	}
	return out
}

// fakeTrack returns the deliveries of a saved ticket as the courier
// progresses: one step per call, the last repeated.
type fakeTrack struct {
	mu    sync.Mutex
	steps [][]queue.Delivery
	calls int
}

func (f *fakeTrack) get(_ context.Context, id string) ([]queue.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != "t1" {
		return nil, errors.New("wrong ticket " + id)
	}
	i := min(f.calls, len(f.steps)-1)
	f.calls++
	return f.steps[i], nil
}

func TestReportFormSentAs(t *testing.T) {
	pending := []queue.Delivery{{Connection: "ServiceNow", State: queue.StatePending}}
	inFlight := []queue.Delivery{{Connection: "ServiceNow", State: queue.StateInFlight}}
	sent := []queue.Delivery{{Connection: "ServiceNow", State: queue.StateDelivered, RemoteNumber: "INC0010023"}}
	refused := []queue.Delivery{{Connection: "ServiceNow", State: queue.StateDead, LastError: "403 Forbidden: no create permission"}}
	tests := []struct {
		name  string
		steps [][]queue.Delivery
		conns []string
		want  string
	}{
		{"delivered within the moment", [][]queue.Delivery{pending, inFlight, sent}, []string{"ServiceNow"}, "Sent as INC0010023."},
		{"refused within the moment", [][]queue.Delivery{pending, refused}, []string{"ServiceNow"}, "Not accepted by ServiceNow. The help desk has been told about a delivery problem."},
		{"offline: saved stays", [][]queue.Delivery{pending}, []string{"ServiceNow"}, savedLine},
		{"no connection: not followed", [][]queue.Delivery{sent}, []string{}, savedLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := newFakeSubmitter(app.Receipt{ID: "t1", Connections: tt.conns}, nil)
			close(sub.release)
			f, _, _, loop := newTestForm(t, sub)
			tr := &fakeTrack{steps: tt.steps}
			f.track, f.trackEvery, f.trackFor = tr.get, time.Millisecond, 300*time.Millisecond
			test.Type(f.summary, "Printer jams")
			test.Tap(f.submit)
			loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
			// The save is reported at once, before the courier's result.
			if f.doneSub.Text != savedLine {
				t.Errorf("first status %q", f.doneSub.Text)
			}
			loop.waitFor(t, "the courier's result", func() bool { return !f.following })
			if len(tt.conns) == 0 && tr.calls != 0 {
				t.Errorf("a ticket for no connection was followed %d times", tr.calls)
			}
			if f.doneSub.Text != tt.want {
				t.Errorf("status %q, want %q", f.doneSub.Text, tt.want)
			}
		})
	}
}

func TestAwaitSent(t *testing.T) {
	sent := []queue.Delivery{{Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC1"}, {Connection: "Jira", State: queue.StateDelivered, RemoteNumber: "IT-1"}}
	half := []queue.Delivery{sent[0], {Connection: "Jira", State: queue.StateRetry}}
	tests := []struct {
		name      string
		steps     [][]queue.Delivery
		within    time.Duration
		want      string
		wantOK    bool
		wantCalls int // at most, when everything was final early
	}{
		{"final at once", [][]queue.Delivery{sent}, time.Minute, "Sent as INC1 (SN) and IT-1 (Jira).", true, 1},
		{"final on the third look", [][]queue.Delivery{nil, half, sent}, time.Minute, "Sent as INC1 (SN) and IT-1 (Jira).", true, 3},
		{"half by the deadline", [][]queue.Delivery{half}, 50 * time.Millisecond, "Sent as INC1 (SN).", true, 0},
		{"nothing by the deadline", [][]queue.Delivery{{{Connection: "SN", State: queue.StatePending}}}, 50 * time.Millisecond, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &fakeTrack{steps: tt.steps}
			ctx, cancel := context.WithTimeout(context.Background(), tt.within)
			defer cancel()
			got, ok := awaitSent(ctx, func(ctx context.Context) ([]queue.Delivery, error) { return tr.get(ctx, "t1") }, time.Millisecond)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("awaitSent = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
			if tt.wantCalls > 0 && tr.calls != tt.wantCalls {
				t.Errorf("%d looks, want %d", tr.calls, tt.wantCalls)
			}
		})
	}
}

// Esc over the queue view's confirmation answers no and closes it.
func TestQueueConfirmEscape(t *testing.T) {
	v, _, w, _ := newTestQueueView(t, sampleQueue(), nil)
	u := &ui{onWake: func() {}}
	u.wireQueue(v, w)
	var answers []bool
	v.confirm("Delete ticket 33333333?", "Gone for good.", func(ok bool) { answers = append(answers, ok) })
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("no confirmation shown")
	}
	w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if w.Canvas().Overlays().Top() != nil || len(answers) != 1 || answers[0] {
		t.Errorf("after Esc: dialog shown %v, answers %v; want it closed with no", w.Canvas().Overlays().Top() != nil, answers)
	}
	if w.Canvas().OnTypedKey() != nil {
		t.Error("the window's own Esc handler was not given back")
	}
}
