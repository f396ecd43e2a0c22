package gui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// menuEntry is one entry of the tray menu, which the main window shows
// as a button where there is no tray: both are built from menuEntries,
// so they cannot drift apart.
type menuEntry struct {
	window string               // the window it opens
	label  string               // its label (the queue's gains a count)
	icon   func() fyne.Resource // the main window's button icon
}

// menuEntries are the tray menu's entries, in order. After them come
// "Get help" (when IT set a support contact), the status line and Quit.
var menuEntries = []menuEntry{
	{winReport, "Report an issue…", theme.MailComposeIcon},
	{winMine, "My tickets", theme.AccountIcon},
	{winQueue, "Help desk queue", theme.ListIcon},
	{winDiagnostics, "Run diagnostics", theme.SearchIcon},
	{winAbout, "About this computer", theme.ComputerIcon},
	{winSettings, "Settings…", theme.SettingsIcon},
}

// status is what the tray shows about the queue. It is plain data so the
// menu's labels are tested without Fyne.
type status struct {
	Waiting  int       // deliveries not yet delivered or dead
	Dead     int       // deliveries that need staff attention
	LastSent time.Time // zero if nothing was delivered yet
	Offline  bool      // a connection cannot be reached
	Err      error     // the queue could not be read
	// ConfigProblem is why the config files are not in force ("" when
	// they are); Broken names the connections that are misconfigured or
	// failing (red).
	ConfigProblem string
	Broken        []string
	// Storage is what the queue's own checks found (a damaged index,
	// unreadable tickets): the help desk must hear of it.
	Storage []string
}

// line is the tray menu's status line.
func (s status) line(now time.Time) string {
	if s.Err != nil {
		return "Queue unavailable — see the log"
	}
	l := fmt.Sprintf("%d queued", s.Waiting)
	if s.Offline {
		l = "Offline — " + l
	}
	if s.Dead > 0 {
		l += fmt.Sprintf(", %d need attention", s.Dead)
	}
	if !s.LastSent.IsZero() {
		l += ", last sent " + ago(now.Sub(s.LastSent))
	}
	if len(s.Broken) > 0 {
		l += ", not delivering to " + strings.Join(s.Broken, ", ")
	}
	if len(s.Storage) > 0 {
		l = "Queue problem: " + clip(s.Storage[0], 90) + " — tell IT · " + l
	}
	if s.ConfigProblem != "" {
		l = "Configuration problem: " + clip(s.ConfigProblem, 90) + " — tell IT · " + l
	}
	return l
}

// queueItem is the label of the help desk queue entry.
func (s status) queueItem() string {
	if s.Waiting == 0 {
		return "Help desk queue"
	}
	return fmt.Sprintf("Help desk queue (%d waiting)", s.Waiting)
}

// headline is the state in a word or two, beside the tray icon in the
// main window (which has no tray icon to show it): what needs staff
// first, then whether the help desk can be reached.
func (s status) headline() string {
	switch {
	case s.Err != nil:
		return "Queue unavailable"
	case s.icon() == "attention":
		return "Needs attention"
	case s.Offline:
		return "Offline"
	}
	return "Online"
}

// icon names the tray icon for the state.
func (s status) icon() string {
	switch {
	case s.Err != nil || s.Dead > 0 || s.ConfigProblem != "" || len(s.Broken) > 0 || len(s.Storage) > 0:
		return "attention"
	case s.Waiting > 0:
		return "offline"
	}
	return "online"
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}
