package gui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
)

// autostarter is what the "Start at login" toggle needs of the core
// (app.Autostart, `ticketray autostart`).
type autostarter interface {
	Status() (app.AutostartStatus, error)
	Set(on bool) (changed bool, err error)
}

// autostartView is the toggle and the line under it that says why it is
// locked, what went wrong, or that the entry starts another copy.
type autostartView struct {
	a      autostarter
	check  *widget.Check
	badge  *fyne.Container // lock icon and "Set by IT"
	note   *widget.Label
	silent bool // the check is being set back, not by the user
}

// autostartRow is the Settings row for starting Ticketray at login: a
// check that writes or removes the login entry at once, disabled with
// "Set by IT" when policy.autostart forces it. Build it with
//
//	autostartRow(app.NewAutostart(app.AutostartOptions{Getenv: env.Getenv, Loaded: svc.Loaded}))
func autostartRow(a autostarter) fyne.CanvasObject { return newAutostartView(a).content() }

func newAutostartView(a autostarter) *autostartView {
	v := &autostartView{a: a, note: widget.NewLabel("")}
	v.note.Wrapping = fyne.TextWrapWord
	v.check = widget.NewCheck("Start Ticketray when I log in", v.toggled)
	v.badge = container.NewHBox(widget.NewIcon(lockIcon), widget.NewLabel("Set by IT"))
	v.refresh()
	return v
}

func (v *autostartView) content() fyne.CanvasObject {
	return container.NewVBox(container.NewHBox(v.check, v.badge), v.note)
}

// refresh shows the entry as it is now.
func (v *autostartView) refresh() {
	st, err := v.a.Status()
	v.setChecked(st.On)
	v.badge.Hide()
	v.check.Enable()
	switch {
	case err != nil:
		v.setNote(err.Error(), widget.DangerImportance)
	case st.Lock != "":
		v.check.Disable()
		if strings.HasPrefix(st.Lock, "IT has set this") {
			v.badge.Show()
		}
		v.setNote(st.Lock, widget.MediumImportance)
	case st.On && !st.Current:
		v.setNote("The entry starts another copy of Ticketray. Untick and tick again to start this one.", widget.WarningImportance)
	default:
		v.setNote("", widget.MediumImportance)
	}
}

func (v *autostartView) toggled(on bool) {
	if v.silent {
		return
	}
	if _, err := v.a.Set(on); err != nil {
		v.refresh() // the check shows the entry as it really is
		v.setNote(err.Error(), widget.DangerImportance)
		return
	}
	v.refresh()
}

func (v *autostartView) setChecked(on bool) {
	v.silent = true
	v.check.SetChecked(on)
	v.silent = false
}

func (v *autostartView) setNote(text string, imp widget.Importance) {
	v.note.Importance = imp
	v.note.SetText(text)
	v.note.Hidden = text == ""
	v.note.Refresh()
}
