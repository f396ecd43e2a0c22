package gui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
)

// fakeAutostart is an entry in memory; failSet makes Set fail.
type fakeAutostart struct {
	st      app.AutostartStatus
	failSet error
	sets    []bool
}

func (f *fakeAutostart) Status() (app.AutostartStatus, error) { return f.st, nil }

func (f *fakeAutostart) Set(on bool) (bool, error) {
	f.sets = append(f.sets, on)
	if f.st.Lock != "" {
		return false, &app.AutostartLockedError{Lock: f.st.Lock}
	}
	if f.failSet != nil {
		return false, f.failSet
	}
	changed := f.st.On != on
	f.st.On, f.st.Current = on, on
	return changed, nil
}

// TestAutostartRowToggles: ticking writes the entry, unticking removes
// it, and a failed write leaves the check as the entry really is with
// the reason under it.
func TestAutostartRowToggles(t *testing.T) {
	f := &fakeAutostart{st: app.AutostartStatus{Where: "/home/u/.config/autostart/ticketray.desktop"}}
	v := newAutostartView(f)
	w := test.NewTempWindow(t, v.content())
	w.Resize(fyne.NewSize(480, 120))
	if v.check.Checked || v.check.Disabled() || v.badge.Visible() || v.note.Visible() {
		t.Fatalf("initial: checked %v, disabled %v, badge %v, note %q", v.check.Checked, v.check.Disabled(), v.badge.Visible(), v.note.Text)
	}
	test.Tap(v.check)
	if !f.st.On || !v.check.Checked || len(f.sets) != 1 || !f.sets[0] {
		t.Errorf("on: entry %v, check %v, sets %v", f.st.On, v.check.Checked, f.sets)
	}
	w.Canvas().Unfocus() // the picture shows the row, not the tap's focus ring
	pinImage(t, "settings_autostart_on.png", w.Canvas().Capture())
	test.Tap(v.check)
	if f.st.On || v.check.Checked || len(f.sets) != 2 || f.sets[1] {
		t.Errorf("off: entry %v, check %v, sets %v", f.st.On, v.check.Checked, f.sets)
	}

	f.failSet = errors.New("write the autostart entry /home/u/.config/autostart/ticketray.desktop: permission denied")
	test.Tap(v.check)
	if v.check.Checked || f.st.On || len(f.sets) != 3 {
		t.Errorf("failed on: check %v, entry %v, sets %v", v.check.Checked, f.st.On, f.sets)
	}
	if !v.note.Visible() || v.note.Text != f.failSet.Error() {
		t.Errorf("failed on: note %q", v.note.Text)
	}
}

// TestAutostartRowLocked: IT's policy shows the state, disabled, with the
// lock, "Set by IT" and the lock message; the entry is never written.
func TestAutostartRowLocked(t *testing.T) {
	on := true
	f := &fakeAutostart{st: app.AutostartStatus{On: true, Current: true, Forced: &on,
		Lock: "IT has set this: Ticketray starts at login (policy.autostart in /etc/ticketray/config.json)"}}
	v := newAutostartView(f)
	w := test.NewTempWindow(t, v.content())
	w.Resize(fyne.NewSize(480, 120))
	if !v.check.Checked || !v.check.Disabled() || !v.badge.Visible() || v.note.Text != f.st.Lock {
		t.Errorf("locked: checked %v, disabled %v, badge %v, note %q", v.check.Checked, v.check.Disabled(), v.badge.Visible(), v.note.Text)
	}
	test.Tap(v.check)
	if len(f.sets) != 0 || !v.check.Checked {
		t.Errorf("a tap on a locked check: sets %v, checked %v", f.sets, v.check.Checked)
	}
	pinImage(t, "settings_autostart_locked.png", w.Canvas().Capture())
}

// TestAutostartRowStale: an entry that starts another copy is on, with
// a note saying how to point it here.
func TestAutostartRowStale(t *testing.T) {
	f := &fakeAutostart{st: app.AutostartStatus{On: true}}
	v := newAutostartView(f)
	if !v.check.Checked || !v.note.Visible() || v.note.Importance == 0 {
		t.Errorf("stale: checked %v, note %q", v.check.Checked, v.note.Text)
	}
	if obj := autostartRow(f); obj == nil || obj.MinSize().Width == 0 {
		t.Error("autostartRow builds nothing")
	}
}
