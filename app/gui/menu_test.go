package gui

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
)

func TestStatusLabels(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		s         status
		line      string
		queueItem string
		icon      string
	}{
		{
			name:      "config problem",
			s:         status{Waiting: 2, ConfigProblem: "/etc/ticketray/config.json:3:5: unknown key \"conections\""},
			line:      "Configuration problem: /etc/ticketray/config.json:3:5: unknown key \"conections\" — tell IT · 2 queued",
			queueItem: "Help desk queue (2 waiting)",
			icon:      "attention",
		},
		{
			name:      "a connection not delivering",
			s:         status{Broken: []string{"Jira"}},
			line:      "0 queued, not delivering to Jira",
			queueItem: "Help desk queue",
			icon:      "attention",
		},
		{
			name:      "storage problem",
			s:         status{Storage: []string{"index deliveries_ticket was damaged and has been rebuilt"}},
			line:      "Queue problem: index deliveries_ticket was damaged and has been rebuilt — tell IT · 0 queued",
			queueItem: "Help desk queue",
			icon:      "attention",
		},
		{
			name:      "empty queue, nothing sent yet",
			s:         status{},
			line:      "0 queued",
			queueItem: "Help desk queue",
			icon:      "online",
		},
		{
			name:      "waiting",
			s:         status{Waiting: 3},
			line:      "3 queued",
			queueItem: "Help desk queue (3 waiting)",
			icon:      "offline",
		},
		{
			name:      "dead only",
			s:         status{Dead: 2},
			line:      "0 queued, 2 need attention",
			queueItem: "Help desk queue",
			icon:      "attention",
		},
		{
			name:      "dead wins over waiting",
			s:         status{Waiting: 1, Dead: 1},
			line:      "1 queued, 1 need attention",
			queueItem: "Help desk queue (1 waiting)",
			icon:      "attention",
		},
		{
			name:      "sent seconds ago",
			s:         status{LastSent: now.Add(-59 * time.Second)},
			line:      "0 queued, last sent just now",
			queueItem: "Help desk queue",
			icon:      "online",
		},
		{
			name:      "sent minutes ago",
			s:         status{Waiting: 1, LastSent: now.Add(-5*time.Minute - 30*time.Second)},
			line:      "1 queued, last sent 5 min ago",
			queueItem: "Help desk queue (1 waiting)",
			icon:      "offline",
		},
		{
			name:      "sent exactly an hour ago",
			s:         status{LastSent: now.Add(-time.Hour)},
			line:      "0 queued, last sent 1 h ago",
			queueItem: "Help desk queue",
			icon:      "online",
		},
		{
			name:      "sent just under two days ago",
			s:         status{LastSent: now.Add(-47 * time.Hour)},
			line:      "0 queued, last sent 47 h ago",
			queueItem: "Help desk queue",
			icon:      "online",
		},
		{
			name:      "sent days ago, with dead",
			s:         status{Waiting: 4, Dead: 1, LastSent: now.Add(-72 * time.Hour)},
			line:      "4 queued, 1 need attention, last sent 3 days ago",
			queueItem: "Help desk queue (4 waiting)",
			icon:      "attention",
		},
		{
			name:      "queue unreadable",
			s:         status{Err: errors.New("disk gone"), Waiting: 7},
			line:      "Queue unavailable — see the log",
			queueItem: "Help desk queue (7 waiting)",
			icon:      "attention",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.line(now); got != tt.line {
				t.Errorf("line() = %q, want %q", got, tt.line)
			}
			if got := tt.s.queueItem(); got != tt.queueItem {
				t.Errorf("queueItem() = %q, want %q", got, tt.queueItem)
			}
			got := tt.s.icon()
			if got != tt.icon {
				t.Errorf("icon() = %q, want %q", got, tt.icon)
			}
			if icons[got] == nil {
				t.Errorf("icon() = %q names no tray icon", got)
			}
		})
	}
}

func TestStatusLineOffline(t *testing.T) {
	s := status{Waiting: 3, Offline: true}
	if got, want := s.line(time.Now()), "Offline — 3 queued"; got != want {
		t.Errorf("line() = %q, want %q", got, want)
	}
}

// The main window lists the tray menu's entries, in the same order, with
// IT's branding: its name and the "Get help" entry.
func TestMainWindowMatchesTrayMenu(t *testing.T) {
	tests := []struct {
		name     string
		branding config.Branding
		title    string
	}{
		{"default", config.Branding{}, "Ticketray"},
		{"branded, with a support contact", config.Branding{AppName: "Acme IT Help", SupportContact: "ext. 4242", SupportURL: "https://help.acme.example"}, "Acme IT Help"},
		{"support contact without a link", config.Branding{SupportContact: "ext. 4242"}, "Ticketray"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			svc := &app.Service{Config: &config.Config{Branding: tt.branding}}
			h := newHost(a, svc, app.Env{Stderr: io.Discard}, nil)
			var tray []string
			for _, it := range h.menu.Items {
				if it.IsSeparator {
					break // then the status line, which the window shows below
				}
				tray = append(tray, it.Label)
			}
			var opened []string
			m := newMainView(func(w string) { opened = append(opened, w) }, func() {})
			m.setBrand(brandName(svc), helpItem(a, svc.Config.Branding))
			if got, want := strings.Join(m.labels(), "|"), strings.Join(tray, "|"); got != want {
				t.Errorf("main window: %s\n     tray menu: %s", got, want)
			}
			if h.menu.Label != tt.title || m.title.Text != tt.title {
				t.Errorf("menu %q, window title %q; want %q", h.menu.Label, m.title.Text, tt.title)
			}
			for i, e := range menuEntries {
				test.Tap(m.buttons[e.window])
				if opened[i] != e.window {
					t.Errorf("%q opened %q, want %q", e.label, opened[i], e.window)
				}
			}
			if tt.branding.SupportContact != "" {
				if m.help == nil || m.help.Disabled() != (tt.branding.SupportURL == "") {
					t.Errorf("Get help button %+v", m.help)
				}
			}
		})
	}
}

// The main window without a tray host, as a user sees it: the branded
// name, every entry, the state beside the tray icon and the status line.
func TestMainWindowImage(t *testing.T) {
	a := test.NewTempApp(t)
	m := newMainView(func(string) {}, func() {})
	m.setBrand("Acme IT Help", helpItem(a, config.Branding{SupportContact: "ext. 4242", SupportURL: "https://help.acme.example"}))
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	m.setStatus(status{Waiting: 2, LastSent: now.Add(-3 * time.Minute)}, now)
	w := test.NewTempWindow(t, m.content)
	w.Resize(fyne.NewSize(340, m.content.MinSize().Height))
	if m.headline.Text != "Online" || m.status.Text != "2 queued, last sent 3 min ago" || m.buttons[winQueue].Text != "Help desk queue (2 waiting)" {
		t.Errorf("headline %q, status %q, queue %q", m.headline.Text, m.status.Text, m.buttons[winQueue].Text)
	}
	pinImage(t, "main_window_no_tray.png", w.Canvas().Capture())

	tests := []struct {
		s              status
		headline, line string
		icon           string
	}{
		{status{Waiting: 3, Offline: true}, "Offline", "Offline — 3 queued", "offline"},
		{status{Waiting: 3, Offline: true, Dead: 1}, "Needs attention", "Offline — 3 queued, 1 need attention", "attention"},
		{status{Broken: []string{"Jira"}}, "Needs attention", "0 queued, not delivering to Jira", "attention"},
		{status{Err: errors.New("disk gone")}, "Queue unavailable", "Queue unavailable — see the log", "attention"},
	}
	for _, tt := range tests {
		m.setStatus(tt.s, now)
		if m.headline.Text != tt.headline || m.status.Text != tt.line || m.icon.Resource != icons[tt.icon] {
			t.Errorf("%+v: headline %q, line %q, icon %v; want %q, %q, %s", tt.s, m.headline.Text, m.status.Text, m.icon.Resource.Name(), tt.headline, tt.line, tt.icon)
		}
	}
}
