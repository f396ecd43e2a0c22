package gui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
)

// attachmentList is the report's files, within the ticket's limits, so
// the user hears about a limit when adding a file rather than at Submit.
type attachmentList struct {
	items []connectors.Attachment
}

func (l *attachmentList) total() int64 {
	var n int64
	for _, a := range l.items {
		n += a.SizeBytes
	}
	return n
}

// add appends a file read with app.ReadAttachment.
func (l *attachmentList) add(a connectors.Attachment) error {
	switch {
	case len(l.items) >= connectors.MaxAttachments:
		return fmt.Errorf("at most %d files can be attached", connectors.MaxAttachments)
	case l.total()+a.SizeBytes > connectors.MaxTotalAttachment:
		return fmt.Errorf("%s would bring the attachments to %s; the limit is %s", a.Filename, size(l.total()+a.SizeBytes), size(connectors.MaxTotalAttachment))
	}
	for _, b := range l.items {
		if b.Filename == a.Filename && b.SizeBytes == a.SizeBytes {
			return fmt.Errorf("%s is already attached", a.Filename)
		}
	}
	l.items = append(l.items, a)
	return nil
}

// full says why nothing more can be attached, or "" when something can:
// asked before a screenshot hides the window, not after.
func (l *attachmentList) full() string {
	switch {
	case len(l.items) >= connectors.MaxAttachments:
		return fmt.Sprintf("at most %d files can be attached", connectors.MaxAttachments)
	case l.total() >= connectors.MaxTotalAttachment:
		return fmt.Sprintf("the attachments already come to %s, the limit", size(l.total()))
	}
	return ""
}

func (l *attachmentList) remove(i int) {
	if i >= 0 && i < len(l.items) {
		l.items = slices.Delete(l.items, i, i+1)
	}
}

func (l *attachmentList) clear() { l.items = nil }

// label is a row of the attachment list: name and size.
func (l *attachmentList) label(i int) string {
	a := l.items[i]
	return fmt.Sprintf("%s (%s)", a.Filename, size(a.SizeBytes))
}

// notAttached says why a file was not attached: the limits speak for
// themselves; a file that cannot be read is named, not its system error.
func notAttached(path string, err error) string {
	name := filepath.Base(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "Not attached: " + name + " no longer exists."
	case errors.Is(err, fs.ErrPermission):
		return "Not attached: you may not open " + name + "."
	case errors.As(err, new(*fs.PathError)):
		return "Not attached: " + name + " cannot be read."
	}
	return "Not attached: " + err.Error()
}

// size is a byte count for people.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// show rebuilds box with a row per file, each with a remove button that
// drops the file and shows the list again; Esc on that button calls onEsc
// (the window's close), as on every other control. An image in memory (a
// screenshot) shows as a thumbnail, so the user sees what is sent.
func (l *attachmentList) show(box *fyne.Container, onEsc func()) {
	box.RemoveAll()
	for i := range l.items {
		remove := newEscButton("", theme.DeleteIcon(), func() {
			l.remove(i)
			l.show(box, onEsc)
		}, onEsc)
		var icon fyne.CanvasObject = widget.NewIcon(theme.FileIcon())
		if a := l.items[i]; len(a.Data) > 0 && (a.ContentType == "image/png" || a.ContentType == "image/jpeg") {
			img := canvas.NewImageFromResource(fyne.NewStaticResource(a.Filename, a.Data))
			img.FillMode = canvas.ImageFillContain
			img.SetMinSize(fyne.NewSize(128, 72))
			icon = img
		}
		label := container.NewVBox(layoutSpacer(), widget.NewLabel(l.label(i)), layoutSpacer()) // beside a thumbnail, in its middle
		box.Add(container.NewBorder(nil, nil, icon, container.NewCenter(remove), label))
	}
}

// The report window's "Attach a screenshot" (CLI twin: report
// --screenshot): the window steps aside while the screens are captured,
// and the picture joins the attachments, within their limits.

// shotSettle is how long the report window is given to leave the screen
// before the capture: hiding is asynchronous on every desktop, and no
// toolkit event says the compositor has redrawn without it.
const shotSettle = 400 * time.Millisecond

// setScreenshots offers "Attach a screenshot" when a capture is wired and
// IT allows it (policy.allowScreenshots); otherwise the button is hidden.
func (f *reportForm) setScreenshots(allowed bool) {
	if allowed && f.capture != nil {
		f.shotBtn.Show()
	} else {
		f.shotBtn.Hide()
	}
}

// takeScreenshot hides the window, captures off the UI thread, shows the
// window again and lists the picture (or says why there is none).
func (f *reportForm) takeScreenshot() {
	if f.capture == nil || f.capturing {
		return
	}
	if why := f.attach.full(); why != "" {
		f.status.SetText("Not attached: " + why + ". Remove one to add a screenshot.")
		return
	}
	f.capturing = true
	f.shotBtn.Disable()
	f.status.SetText("Taking a screenshot…")
	if f.hideWin != nil {
		f.hideWin()
	}
	settle, capture := f.shotSettle, f.capture
	go func() {
		if settle > 0 {
			time.Sleep(settle)
		}
		a, err := capture(context.Background())
		fyne.Do(func() {
			f.capturing = false
			if f.showWin != nil {
				f.showWin()
			}
			f.shotBtn.Enable()
			if err == nil {
				if err = f.attach.add(a); err != nil {
					f.status.SetText("Not attached: " + err.Error())
					return
				}
			}
			if err != nil {
				f.status.SetText(screenshotError(err))
				if errors.Is(err, app.ErrNoScreen) {
					f.shotBtn.Hide() // it will not work on this desktop
				}
				return
			}
			f.status.SetText("")
			f.showAttachments()
		})
	}()
}

// screenshotError is a failed capture in the user's words.
func screenshotError(err error) string {
	if errors.Is(err, app.ErrNoScreen) {
		s := "A screenshot cannot be taken on this desktop."
		if strings.Contains(err.Error(), "Wayland") {
			s += " Take one with the desktop's screenshot tool and use Attach file…"
		}
		return s
	}
	return "The screenshot could not be taken. Try again, or take one with the desktop's screenshot tool and use Attach file…"
}
