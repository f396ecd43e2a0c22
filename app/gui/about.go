package gui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
)

// aboutView is the "About this computer" window: what the help desk asks
// for on every call (app.AboutThisComputer; CLI twin `ticketray about`),
// with a Copy button that puts it on the clipboard as plain text.
type aboutView struct {
	load func(context.Context) (app.About, error)
	// clipboard is where Copy puts the text: the app's.
	clipboard func() fyne.Clipboard
	now       func() time.Time

	content *fyne.Container
	top     *fyne.Container // the introduction and the rows
	rows    *fyne.Container // label, value, label, value…
	copyBtn *widget.Button
	close   *widget.Button
	msg     *widget.Label
	text    string // the plain-text block of what is shown
	bg      bg
}

func newAboutView(load func(context.Context) (app.About, error), closeWin func()) *aboutView {
	v := &aboutView{load: load, clipboard: func() fyne.Clipboard { return fyne.CurrentApp().Clipboard() }, now: time.Now}
	v.rows = container.New(layout.NewFormLayout())
	v.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), v.doCopy)
	v.copyBtn.Importance = widget.HighImportance
	v.copyBtn.Disable()
	v.close = widget.NewButton("Close", closeWin)
	v.msg = widget.NewLabel("Reading…")
	v.msg.Wrapping = fyne.TextWrapWord
	intro := widget.NewLabel("The help desk may ask for these when you call. Copy puts them on the clipboard, to paste into a chat or an e-mail.")
	intro.Wrapping = fyne.TextWrapWord
	// No scroll: a handful of rows, and the window grows to fit more
	// interfaces (loopback, link-local-only and address-less ones are
	// left out).
	v.top = container.NewVBox(intro, v.rows)
	v.content = container.NewBorder(v.top, container.NewVBox(v.msg, container.NewHBox(layoutSpacer(), v.close, v.copyBtn)), nil, nil)
	return v
}

// start reads the computer's details off the UI thread: on every show,
// as an address may have changed since.
func (v *aboutView) start() {
	v.copyBtn.Disable()
	v.msg.SetText("Reading…")
	v.bg.run(func() func() {
		a, err := v.load(context.Background())
		return func() { v.show(a, err) }
	})
}

// show fills the rows (UI thread).
func (v *aboutView) show(a app.About, err error) {
	v.rows.RemoveAll()
	for _, r := range a.Rows() {
		l := widget.NewLabelWithStyle(r[0], fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		val := widget.NewLabel(r[1])
		val.Selectable = true
		v.rows.Add(l)
		v.rows.Add(val)
	}
	v.text = a.Text()
	// The rows' height changed: lay the window out again.
	v.top.Refresh()
	v.content.Refresh()
	if err != nil {
		v.msg.SetText("Some details could not be read: " + err.Error())
	} else {
		v.msg.SetText("Read at " + v.now().Format("15:04:05") + ".")
	}
	v.copyBtn.Enable()
}

// doCopy puts the details on the clipboard as plain text.
func (v *aboutView) doCopy() {
	if v.text == "" {
		return
	}
	v.clipboard().SetContent(v.text)
	v.msg.SetText("Copied. Paste it into a chat or an e-mail to the help desk.")
}

// typedKey is the window's keyboard: Esc closes it, as Close does.
func (v *aboutView) typedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		v.close.OnTapped()
	}
}

// buildAbout builds the About this computer window (the windows
// process's build calls it).
func (t *ui) buildAbout(tw *trayWindow) {
	v := newAboutView(app.AboutThisComputer, func() { tw.hide() })
	tw.w = t.a.NewWindow("About this computer — " + brandName(t.svc))
	tw.w.SetContent(v.content)
	tw.w.Canvas().SetOnTypedKey(v.typedKey)
	tw.w.Resize(fyne.NewSize(520, 420))
	tw.onShow = v.start
	tw.idle = func() bool { return v.bg.pending == 0 }
}
