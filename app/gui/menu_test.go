package gui

import (
	"errors"
	"testing"
	"time"
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
