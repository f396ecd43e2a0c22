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
		{delivery.Failing, "red", "failing"},
		{delivery.Misconfigured, "red", "misconfigured"},
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
		name    string
		s       app.ConnectionStatus
		want    string
		problem string
	}{
		{"never seen", app.ConnectionStatus{State: app.Unknown}, "unknown: nothing sent yet · 0 queued", ""},
		{"healthy hides an old error", app.ConnectionStatus{State: delivery.Healthy, QueueDepth: 2, LastSuccess: &now, LastError: "old", LastErrorAt: &ago5}, "healthy · 2 queued · last sent just now", ""},
		{"healthy shows a refusal since the last success", app.ConnectionStatus{State: delivery.Healthy, LastSuccess: &ago5, LastError: "401 Unauthorized", LastErrorAt: &now},
			"healthy · 0 queued · last sent 5 min ago", "Last error: 401 Unauthorized"},
		{"healthy, never a success, refused", app.ConnectionStatus{State: delivery.Healthy, LastError: "401 Unauthorized", LastErrorAt: &now}, "healthy · 0 queued", "Last error: 401 Unauthorized"},
		{"healthy with dead tickets", app.ConnectionStatus{State: delivery.Healthy, LastSuccess: &now, LastError: "old", LastErrorAt: &ago5, Dead: 2}, "healthy · 0 queued · last sent just now", "2 tickets dead"},
		{"down with its error", app.ConnectionStatus{State: delivery.Down, QueueDepth: 4, LastError: "dial tcp 10.0.0.1:443: connect: no route to host"},
			"down: not reachable · 4 queued", "Last error: dial tcp 10.0.0.1:443: connect: no route to host"},
		{"failing with dead tickets", app.ConnectionStatus{State: delivery.Failing, QueueDepth: 1, Dead: 3, LastSuccess: &ago5, LastError: "refused by Jira: 403 Forbidden", LastErrorAt: &now},
			"failing: the help desk refuses the tickets · 1 queued · last sent 5 min ago", "Last error: refused by Jira: 403 Forbidden — 3 tickets dead"},
		{"failing says why even after a success", app.ConnectionStatus{State: delivery.Failing, LastSuccess: &now, LastError: "refused by Jira: 401 Unauthorized", LastErrorAt: &ago5},
			"failing: the help desk refuses the tickets · 0 queued · last sent just now", "Last error: refused by Jira: 401 Unauthorized"},
		{"misconfigured", app.ConnectionStatus{State: delivery.Misconfigured, QueueDepth: 5, LastError: "baseUrl: must be https"},
			"misconfigured: not delivering — tell IT · 5 queued", "Problem: baseUrl: must be https"},
		{"misconfigured with dead tickets", app.ConnectionStatus{State: delivery.Misconfigured, Dead: 1, LastError: "options.projectKey: required"},
			"misconfigured: not delivering — tell IT · 0 queued", "Problem: options.projectKey: required — 1 ticket dead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := healthLine(tt.s, now); got != tt.want {
				t.Errorf("healthLine = %q, want %q", got, tt.want)
			}
			if got := problemLine(tt.s); got != tt.problem {
				t.Errorf("problemLine = %q, want %q", got, tt.problem)
			}
		})
	}
}
