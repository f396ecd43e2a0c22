package gui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io/fs"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
)

func file(name string, n int64) connectors.Attachment {
	return connectors.Attachment{Filename: name, SizeBytes: n, ContentType: "text/plain"}
}

func TestAttachmentList(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name    string
		adds    []connectors.Attachment
		remove  int // index removed after the adds; -1 none
		wantErr []string
		want    string
	}{
		{"two files", []connectors.Attachment{file("a.log", 10), file("b.png", 2048)}, -1, []string{"", ""}, "a.log (10 bytes)|b.png (2.0 KiB)"},
		{"at most five", []connectors.Attachment{file("1", 1), file("2", 1), file("3", 1), file("4", 1), file("5", 1), file("6", 1)}, -1,
			[]string{"", "", "", "", "", "at most 5 files can be attached"}, "1 (1 bytes)|2 (1 bytes)|3 (1 bytes)|4 (1 bytes)|5 (1 bytes)"},
		{"total limit", []connectors.Attachment{file("a", 9*mib), file("b", 9*mib), file("c", 3*mib)}, -1,
			[]string{"", "", "c would bring the attachments to 21.0 MiB; the limit is 20.0 MiB"}, "a (9.0 MiB)|b (9.0 MiB)"},
		{"same file twice", []connectors.Attachment{file("a.log", 10), file("a.log", 10)}, -1, []string{"", "a.log is already attached"}, "a.log (10 bytes)"},
		{"same name, other file", []connectors.Attachment{file("a.log", 10), file("a.log", 11)}, -1, []string{"", ""}, "a.log (10 bytes)|a.log (11 bytes)"},
		{"remove one", []connectors.Attachment{file("a", 1), file("b", 2), file("c", 3)}, 1, []string{"", "", ""}, "a (1 bytes)|c (3 bytes)"},
		{"remove out of range is a no-op", []connectors.Attachment{file("a", 1)}, 5, []string{""}, "a (1 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l attachmentList
			for i, a := range tt.adds {
				err := l.add(a)
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != tt.wantErr[i] {
					t.Errorf("add %s: error %q, want %q", a.Filename, got, tt.wantErr[i])
				}
			}
			if tt.remove >= 0 {
				l.remove(tt.remove)
			}
			var labels []string
			for i := range l.items {
				labels = append(labels, l.label(i))
			}
			if got := strings.Join(labels, "|"); got != tt.want {
				t.Errorf("list = %s, want %s", got, tt.want)
			}
		})
	}
}

// desktopPNG is a made-up screen: a wallpaper, a taskbar and a window
// with an error banner, enough for a thumbnail to show what it is.
func desktopPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	fill := func(r image.Rectangle, c color.RGBA) { draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src) }
	fill(img.Bounds(), color.RGBA{40, 90, 140, 255})
	fill(image.Rect(0, 680, 1280, 720), color.RGBA{30, 30, 30, 255})
	fill(image.Rect(200, 120, 1000, 560), color.RGBA{240, 240, 240, 255})
	fill(image.Rect(200, 120, 1000, 160), color.RGBA{70, 70, 80, 255})
	fill(image.Rect(240, 200, 960, 260), color.RGBA{220, 60, 50, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func screenshotAttachment(t *testing.T) connectors.Attachment {
	data := desktopPNG(t)
	return connectors.Attachment{Filename: "screenshot-2026-12-06-1805.png", ContentType: "image/png", Data: data, SizeBytes: int64(len(data))}
}

// Attach a screenshot: the window is out of the picture while the
// screens are captured, the picture shows as a thumbnail, can be removed,
// and is sent like any attachment.
func TestReportFormScreenshot(t *testing.T) {
	sub := newFakeSubmitter(app.Receipt{ID: "t1"}, nil)
	close(sub.release)
	f, _, w, loop := newTestForm(t, sub)
	f.shotSettle = 0
	hidden := false
	var hiddenAtCapture []bool
	f.hideWin = func() { hidden = true }
	f.showWin = func() { hidden = false }
	shot := screenshotAttachment(t)
	f.capture = func(context.Context) (connectors.Attachment, error) {
		hiddenAtCapture = append(hiddenAtCapture, hidden)
		return shot, nil
	}
	f.setScreenshots(true)
	if !f.shotBtn.Visible() {
		t.Fatal("Attach a screenshot is hidden with a capture wired and the policy allowing it")
	}
	// Tab reaches it between Preview and Attach file.
	w.Canvas().Focus(f.preview)
	for _, want := range []fyne.Focusable{f.shotBtn, f.attachBtn} {
		test.FocusNext(w.Canvas())
		if got := w.Canvas().Focused(); got != want {
			t.Errorf("Tab: focus on %T %p, want %p", got, got, want)
		}
	}
	take := func() {
		t.Helper()
		test.Tap(f.shotBtn)
		if !f.shotBtn.Disabled() || !f.busy() {
			t.Error("the button is enabled, or the form idle, while capturing")
		}
		loop.waitFor(t, "the screenshot", func() bool { return !f.capturing })
	}
	take()
	if len(hiddenAtCapture) != 1 || !hiddenAtCapture[0] || hidden {
		t.Errorf("window hidden during the capture: %v, hidden after: %v; want hidden only while capturing", hiddenAtCapture, hidden)
	}
	want := "screenshot-2026-12-06-1805.png (" + size(shot.SizeBytes) + ")"
	if got := attachmentRows(f); len(got) != 1 || got[0] != want || f.status.Text != "" {
		t.Fatalf("rows %v, status %q; want %q", got, f.status.Text, want)
	}
	var thumb *canvas.Image
	for _, o := range walk(f.attachBox.Objects[0]) {
		if img, ok := o.(*canvas.Image); ok {
			thumb = img
		}
	}
	if thumb == nil || thumb.Resource == nil || !bytes.Equal(thumb.Resource.Content(), shot.Data) {
		t.Error("no thumbnail of the screenshot in its row")
	}
	w.Canvas().Focus(f.summary)
	test.Type(f.summary, "The VPN client shows an error")
	f.content.Refresh()
	pinImage(t, "report_form_screenshot.png", w.Canvas().Capture())

	test.Tap(attachmentRemove(f, 0))
	if got := attachmentRows(f); len(got) != 0 {
		t.Errorf("rows after remove: %v", got)
	}
	take()
	test.Tap(f.submit)
	loop.waitFor(t, "the save", func() bool { return f.done.Visible() })
	if d := sub.calls(); len(d) != 1 || len(d[0].Attachments) != 1 || !bytes.Equal(d[0].Attachments[0].Data, shot.Data) {
		t.Errorf("submitted %+v, want the screenshot once", d)
	}
}

// IT's policy.allowScreenshots, and a capture being wired at all, decide
// whether the button is offered.
func TestReportFormScreenshotPolicy(t *testing.T) {
	for _, tt := range []struct {
		name    string
		wired   bool
		allowed bool
		want    bool
	}{
		{"allowed", true, true, true},
		{"forbidden by IT", true, false, false},
		{"no capture", false, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _, _ := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
			if tt.wired {
				f.capture = func(context.Context) (connectors.Attachment, error) { return connectors.Attachment{}, nil }
			}
			f.setScreenshots(tt.allowed)
			if f.shotBtn.Visible() != tt.want {
				t.Errorf("button visible %v, want %v", f.shotBtn.Visible(), tt.want)
			}
		})
	}
}

// A capture that fails, or a picture over the attachment limits, is said
// in words; a desktop that cannot be captured loses the button.
func TestReportFormScreenshotErrors(t *testing.T) {
	shot := screenshotAttachment(t)
	tests := []struct {
		name       string
		err        error
		files      int // attached before
		wantStatus string
		wantButton bool
	}{
		{"wayland", fmt.Errorf("%w: this Wayland session has no X display", app.ErrNoScreen), 0,
			"A screenshot cannot be taken on this desktop. Take one with the desktop's screenshot tool and use Attach file…", false},
		{"failed", errors.New("xgb: connection refused"), 0,
			"The screenshot could not be taken. Try again, or take one with the desktop's screenshot tool and use Attach file…", true},
		{"too many files: asked before the window hides", nil, connectors.MaxAttachments,
			fmt.Sprintf("Not attached: at most %d files can be attached. Remove one to add a screenshot.", connectors.MaxAttachments), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _, loop := newTestForm(t, newFakeSubmitter(app.Receipt{}, nil))
			f.shotSettle = 0
			captures := 0
			f.capture = func(context.Context) (connectors.Attachment, error) { captures++; return shot, tt.err }
			hides := 0
			f.hideWin = func() { hides++ }
			f.setScreenshots(true)
			for i := range tt.files {
				if err := f.attach.add(file(fmt.Sprintf("f%d.txt", i), 10)); err != nil {
					t.Fatal(err)
				}
			}
			test.Tap(f.shotBtn)
			loop.waitFor(t, "the capture to end", func() bool { return !f.capturing })
			if f.status.Text != tt.wantStatus {
				t.Errorf("status %q, want %q", f.status.Text, tt.wantStatus)
			}
			if f.shotBtn.Visible() != tt.wantButton || f.shotBtn.Disabled() {
				t.Errorf("button visible %v disabled %v, want visible %v and enabled", f.shotBtn.Visible(), f.shotBtn.Disabled(), tt.wantButton)
			}
			if len(f.attach.items) != tt.files {
				t.Errorf("%d attachments, want %d", len(f.attach.items), tt.files)
			}
			if full := tt.files >= connectors.MaxAttachments; full != (captures == 0 && hides == 0) {
				t.Errorf("%d captures, %d hides of the window; want none exactly when the list is full", captures, hides)
			}
		})
	}
}

func TestNotAttached(t *testing.T) {
	path := "/home/alice/vpn.log"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "stat", Path: path, Err: fs.ErrNotExist}, "Not attached: vpn.log no longer exists."},
		{&fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}, "Not attached: you may not open vpn.log."},
		{&fs.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}, "Not attached: vpn.log cannot be read."},
		{errors.New("vpn.log would bring the attachments to 21.0 MiB; the limit is 20.0 MiB"), "Not attached: vpn.log would bring the attachments to 21.0 MiB; the limit is 20.0 MiB"},
	} {
		if got := notAttached(path, tt.err); got != tt.want {
			t.Errorf("notAttached(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
