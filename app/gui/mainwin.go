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
	winSettings    = "settings"
)

var windowNames = []string{winMain, winReport, winMine, winQueue, winDiagnostics, winSettings}

// mainView is the main window: the tray menu's entries as buttons, so
// every tray action is reachable where there is no tray (Linux without a
// StatusNotifier host).
type mainView struct {
	content fyne.CanvasObject
	buttons map[string]*widget.Button
	quit    *widget.Button
	status  *widget.Label
}

func newMainView(open func(string), quit func()) *mainView {
	m := &mainView{buttons: map[string]*widget.Button{}}
	add := func(name, label string, icon fyne.Resource) *widget.Button {
		b := widget.NewButtonWithIcon(label, icon, func() { open(name) })
		b.Alignment = widget.ButtonAlignLeading
		m.buttons[name] = b
		return b
	}
	report := add(winReport, "Report an issue…", theme.MailComposeIcon())
	report.Importance = widget.HighImportance
	m.status = widget.NewLabel("…")
	m.status.Wrapping = fyne.TextWrapWord
	m.quit = widget.NewButtonWithIcon("Quit", theme.LogoutIcon(), quit)
	title := widget.NewLabelWithStyle("Ticketray", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.content = container.NewVBox(
		title,
		report,
		add(winMine, "My tickets", theme.AccountIcon()),
		add(winQueue, "Help desk queue", theme.ListIcon()),
		add(winDiagnostics, "Run diagnostics", theme.SearchIcon()),
		add(winSettings, "Settings…", theme.SettingsIcon()),
		widget.NewSeparator(),
		m.status,
		container.NewHBox(layoutSpacer(), m.quit),
	)
	return m
}

// setStatus shows the same status as the tray menu.
func (m *mainView) setStatus(s status, now time.Time) {
	m.status.SetText(s.line(now))
	m.buttons[winQueue].SetText(s.queueItem())
}
