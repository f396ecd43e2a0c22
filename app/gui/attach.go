package gui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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
// drops the file and shows the list again.
func (l *attachmentList) show(box *fyne.Container) {
	box.RemoveAll()
	for i := range l.items {
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			l.remove(i)
			l.show(box)
		})
		box.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), remove, widget.NewLabel(l.label(i))))
	}
}
