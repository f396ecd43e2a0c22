package gui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Window names, for the menu, the single-instance handoff and
// TICKETRAY_OPEN.
const (
	winMain        = "main"
	winReport      = "report"
	winMine        = "mine"
	winQueue       = "queue"
	winDiagnostics = "diagnostics"
	winAbout       = "about"
	winSettings    = "settings"
)

var windowNames = []string{winMain, winReport, winMine, winQueue, winDiagnostics, winAbout, winSettings}

// mainView is the main window: the tray menu's entries (menuEntries, then
// "Get help") as buttons and its status line, so every tray action is
// reachable where there is no tray (Linux without a StatusNotifier host).
// The tray icon's state shows beside the status line, as there is no
// tray icon to show it.
type mainView struct {
	content  fyne.CanvasObject
	title    *widget.Label
	buttons  map[string]*widget.Button
	entries  *fyne.Container // menuEntries' buttons, then Get help
	help     *widget.Button  // nil until setBrand finds a support contact
	quit     *widget.Button
	icon     *widget.Icon
	headline *widget.Label
	status   *widget.Label
}

func newMainView(open func(string), quit func()) *mainView {
	m := &mainView{buttons: map[string]*widget.Button{}, entries: container.NewVBox()}
	for _, e := range menuEntries {
		b := widget.NewButtonWithIcon(e.label, e.icon(), func() { open(e.window) })
		b.Alignment = widget.ButtonAlignLeading
		if e.window == winReport {
			b.Importance = widget.HighImportance
		}
		m.buttons[e.window] = b
		m.entries.Add(b)
	}
	m.title = widget.NewLabelWithStyle("Ticketray", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.title.SizeName = theme.SizeNameSubHeadingText
	m.icon = widget.NewIcon(icons["online"])
	m.headline = widget.NewLabelWithStyle("…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.status = widget.NewLabel("…")
	m.status.Wrapping = fyne.TextWrapWord
	m.quit = widget.NewButtonWithIcon("Quit", theme.LogoutIcon(), quit)
	m.content = container.NewVBox(
		m.title,
		m.entries,
		widget.NewSeparator(),
		container.NewHBox(m.icon, m.headline),
		m.status,
		container.NewHBox(layoutSpacer(), m.quit),
	)
	return m
}

// setBrand shows IT's branding: the app's name as the title, and the tray
// menu's "Get help" entry (helpItem; nil when IT set no support contact)
// as a button after the others.
func (m *mainView) setBrand(name string, help *fyne.MenuItem) {
	m.title.SetText(name)
	if m.help != nil {
		m.entries.Remove(m.help)
		m.help = nil
	}
	if help == nil {
		return
	}
	m.help = widget.NewButtonWithIcon(help.Label, theme.HelpIcon(), help.Action)
	m.help.Alignment = widget.ButtonAlignLeading
	if help.Disabled || help.Action == nil {
		m.help.Disable()
	}
	m.entries.Add(m.help)
}

// labels are the entries as the window lists them, for comparing with
// the tray menu.
func (m *mainView) labels() []string {
	var ls []string
	for _, o := range m.entries.Objects {
		ls = append(ls, o.(*widget.Button).Text)
	}
	return ls
}

// setStatus shows the same status as the tray menu, and the tray icon.
func (m *mainView) setStatus(s status, now time.Time) {
	m.icon.SetResource(icons[s.icon()])
	m.headline.SetText(s.headline())
	m.status.SetText(s.line(now)) // word for word the tray menu's
	m.buttons[winQueue].SetText(s.queueItem())
}
