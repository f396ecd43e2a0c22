package gui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
)

// labAbout is a computer as AboutThisComputer would describe it.
var labAbout = app.About{
	ComputerName: "LAB-PC-7",
	User:         "asmith",
	UserFullName: "Alice Smith",
	OS:           app.AboutOS{Name: "Ubuntu", Version: "24.04", Kernel: "6.8.0-45-generic", Arch: "x86_64"},
	Interfaces: []app.AboutInterface{
		{Name: "enp3s0", IPv4: []string{"192.168.1.23"}, IPv6: []string{"2001:db8::23"}},
		{Name: "wlp2s0", IPv4: []string{"10.0.0.5"}},
	},
	AppVersion: "1.4.0",
}

// rowTexts are the window's rows as "label=value".
func (v *aboutView) rowTexts() []string {
	var out []string
	for i := 0; i+1 < len(v.rows.Objects); i += 2 {
		out = append(out, v.rows.Objects[i].(*widget.Label).Text+"="+v.rows.Objects[i+1].(*widget.Label).Text)
	}
	return out
}

// About this computer shows the name, user, addresses and OS, reads them
// again on every show, and Copy puts the CLI's plain-text block on the
// clipboard.
func TestAboutWindow(t *testing.T) {
	loop := newLoop(t)
	calls := 0
	closed := 0
	v := newAboutView(func(context.Context) (app.About, error) {
		calls++
		return labAbout, nil
	}, func() { closed++ })
	v.now = func() time.Time { return time.Date(2026, 3, 14, 9, 41, 0, 0, time.Local) }
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(520, 420))
	if !v.copyBtn.Disabled() {
		t.Error("Copy enabled before anything was read")
	}
	v.start()
	loop.waitFor(t, "the details", func() bool { return v.bg.pending == 0 })
	if min := v.content.MinSize(); min.Height > 420 || min.Width > 520 {
		t.Errorf("the window (520×420) is smaller than its content: %v", min)
	}

	want := []string{
		"Computer name=LAB-PC-7",
		"User=asmith (Alice Smith)",
		"Operating system=Ubuntu 24.04 (x86_64, kernel 6.8.0-45-generic)",
		"IP addresses=enp3s0: 192.168.1.23, 2001:db8::23",
		"=wlp2s0: 10.0.0.5",
		"Ticketray=1.4.0",
	}
	if got := strings.Join(v.rowTexts(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	pinImage(t, "about_this_computer.png", w.Canvas().Capture())

	test.Tap(v.copyBtn)
	if got := fyne.CurrentApp().Clipboard().Content(); got != labAbout.Text() {
		t.Errorf("clipboard:\n%s\nwant:\n%s", got, labAbout.Text())
	}
	if !strings.HasPrefix(v.msg.Text, "Copied.") {
		t.Errorf("after Copy: %q", v.msg.Text)
	}
	test.Tap(v.close)
	v.typedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	v.typedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if closed != 2 {
		t.Errorf("Close and Esc closed the window %d times, want 2", closed)
	}

	v.start()
	loop.waitFor(t, "the second read", func() bool { return v.bg.pending == 0 })
	if calls != 2 || len(v.rowTexts()) != len(want) {
		t.Errorf("%d reads, %d rows after a second show", calls, len(v.rowTexts()))
	}
}

// When nothing could be read the window says so, and still copies what
// it shows.
func TestAboutWindowFailure(t *testing.T) {
	loop := newLoop(t)
	v := newAboutView(func(context.Context) (app.About, error) {
		return app.About{Unavailable: []string{"host: timed out"}}, errors.New("about this computer: nothing could be read (host: timed out)")
	}, func() {})
	test.NewTempWindow(t, v.content)
	v.start()
	loop.waitFor(t, "the failure", func() bool { return v.bg.pending == 0 })
	if !strings.Contains(v.msg.Text, "could not be read") || v.copyBtn.Disabled() {
		t.Errorf("message %q, copy disabled %v", v.msg.Text, v.copyBtn.Disabled())
	}
	if rows := strings.Join(v.rowTexts(), "\n"); !strings.Contains(rows, "Computer name=unknown") || !strings.Contains(rows, "Could not read=host: timed out") {
		t.Errorf("rows:\n%s", rows)
	}
}
