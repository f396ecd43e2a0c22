package gui

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/delivery"
)

func TestHealthLights(t *testing.T) {
	tests := []struct {
		state string
		want  string
		words string
	}{
		{delivery.Healthy, "green", "healthy"},
		{delivery.Degraded, "amber", "degraded"},
		{delivery.Down, "red", "down"},
		{delivery.BreakerOpen, "red-amber", "resting"},
		{app.Unknown, "grey", "unknown"},
		{app.Disabled, "grey", "disabled"},
		{"", "grey", "unknown"},
	}
	names := map[any]string{lightGreen: "green", lightAmber: "amber", lightRed: "red", lightRedAmber: "red-amber", lightGrey: "grey"}
	if len(names) != 5 {
		t.Fatal("two health lights share a colour")
	}
	for _, tt := range tests {
		if got := names[healthLight(tt.state)]; got != tt.want {
			t.Errorf("healthLight(%q) = %s, want %s", tt.state, got, tt.want)
		}
		if got := healthWords(tt.state); !strings.HasPrefix(got, tt.words) {
			t.Errorf("healthWords(%q) = %q, want it to start with %q", tt.state, got, tt.words)
		}
	}
}

func TestHealthLine(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	ago5 := now.Add(-5 * time.Minute)
	tests := []struct {
		name string
		s    app.ConnectionStatus
		want string
	}{
		{"never seen", app.ConnectionStatus{State: app.Unknown}, "unknown: nothing sent yet · 0 queued"},
		{"healthy hides an old error", app.ConnectionStatus{State: delivery.Healthy, QueueDepth: 2, LastSuccess: &now, LastError: "old", LastErrorAt: &ago5}, "healthy · 2 queued · last sent just now"},
		{"healthy shows a refusal since the last success", app.ConnectionStatus{State: delivery.Healthy, LastSuccess: &ago5, LastError: "401 Unauthorized", LastErrorAt: &now},
			"healthy · 0 queued · last sent 5 min ago · last error: 401 Unauthorized"},
		{"healthy, never a success, refused", app.ConnectionStatus{State: delivery.Healthy, LastError: "401 Unauthorized", LastErrorAt: &now}, "healthy · 0 queued · last error: 401 Unauthorized"},
		{"down with its error", app.ConnectionStatus{State: delivery.Down, QueueDepth: 4, LastError: "dial tcp 10.0.0.1:443: connect: no route to host"},
			"down: not reachable · 4 queued · last error: dial tcp 10.0.0.1:443: connect: no route to host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := healthLine(tt.s, now); got != tt.want {
				t.Errorf("healthLine = %q, want %q", got, tt.want)
			}
		})
	}
}
