package gui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

var labelNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.Local)

func TestFilterState(t *testing.T) {
	for _, tt := range []struct{ label, want string }{
		{"All", ""}, {"Pending", "pending"}, {"Delivered", "delivered"}, {"Dead", "dead"}, {"", ""}, {"Lost", ""},
	} {
		if got := filterState(tt.label); got != tt.want {
			t.Errorf("filterState(%q) = %q, want %q", tt.label, got, tt.want)
		}
	}
	if got := strings.Join(filterLabels(), ","); got != "All,Pending,Delivered,Dead" {
		t.Errorf("filterLabels = %s", got)
	}
}

func ticket(id, summary string, user connectors.User, ds ...queue.Delivery) app.Entry {
	return app.Entry{ID: id, CreatedAt: labelNow.Add(-time.Hour), Ticket: &connectors.Ticket{Summary: summary, Priority: "high", User: user}, Deliveries: ds}
}

func TestMine(t *testing.T) {
	alice := connectors.User{ID: "alice", Name: "Alice"}
	entries := []app.Entry{
		ticket("1", "a", alice),
		ticket("2", "b", connectors.User{ID: "bob"}),
		{ID: "3", Err: errors.New("tampered")},
		ticket("4", "c", connectors.User{ID: "alice", Email: "alice@example.com"}),
		ticket("5", "no id", connectors.User{}),
	}
	tests := []struct {
		name string
		user connectors.User
		want string
	}{
		{"alice", alice, "1,4"},
		{"bob", connectors.User{ID: "bob"}, "2"},
		{"nobody", connectors.User{ID: "carol"}, ""},
		{"no id matches nothing", connectors.User{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, e := range mine(entries, tt.user) {
				ids = append(ids, e.ID)
			}
			if got := strings.Join(ids, ","); got != tt.want {
				t.Errorf("mine = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCells(t *testing.T) {
	later := labelNow.Add(90 * time.Second)
	e := ticket("t1", "Printer\njams", connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"},
		queue.Delivery{Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC0010023"},
		queue.Delivery{Connection: "Jira", State: queue.StateRetry, Attempts: 2, NextAttemptAt: later, LastError: "503 Service Unavailable"},
	)
	conns := connectionColumns([]app.Entry{e, ticket("t2", "x", connectors.User{}, queue.Delivery{Connection: "Zendesk", State: queue.StatePending})})
	if got := strings.Join(conns, ","); got != "SN,Jira,Zendesk" {
		t.Fatalf("connectionColumns = %s", got)
	}
	tests := []struct {
		name string
		e    app.Entry
		col  int
		want string
	}{
		{"created", e, 0, labelNow.Add(-time.Hour).Format("2006-01-02 15:04")},
		{"summary on one line", e, 1, "Printer jams"},
		{"requester", e, 2, "Alice Example <alice@example.com>"},
		{"priority", e, 3, "high"},
		{"delivered with number", e, 4, "delivered INC0010023"},
		{"retrying with time and error", e, 5, "retry in 1 min (attempt 3): 503 Service Unavailable"},
		{"no delivery for that connection", e, 6, "—"},
		{"unreadable ticket", app.Entry{ID: "x", Err: errors.New("tampered")}, 1, "(unreadable: failed authentication)"},
		{"unreadable requester", app.Entry{ID: "x", Err: errors.New("tampered")}, 2, "—"},
		{"requester by id only", ticket("t3", "x", connectors.User{ID: "bob"}), 2, "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cell(tt.e, tt.col, conns, labelNow); got != tt.want {
				t.Errorf("cell(col %d) = %q, want %q", tt.col, got, tt.want)
			}
		})
	}
}

func TestDeliveryCell(t *testing.T) {
	soon := labelNow.Add(time.Minute)
	tests := []struct {
		name string
		d    queue.Delivery
		want string
	}{
		{"delivered", queue.Delivery{State: queue.StateDelivered, RemoteNumber: "PROJ-12"}, "delivered PROJ-12"},
		{"in flight", queue.Delivery{State: queue.StateInFlight}, "sending…"},
		{"pending, due", queue.Delivery{State: queue.StatePending, NextAttemptAt: labelNow}, "waiting"},
		{"pending, later", queue.Delivery{State: queue.StatePending, NextAttemptAt: soon}, "waiting, next try in 1 min"},
		{"pending after going offline", queue.Delivery{State: queue.StatePending, NextAttemptAt: labelNow, LastError: "dial tcp: connection refused"}, "waiting; last error: dial tcp: connection refused"},
		{"retry another day", queue.Delivery{State: queue.StateRetry, Attempts: 1, NextAttemptAt: labelNow.Add(48 * time.Hour)}, "retry in 2 days (attempt 2)"},
		{"retry time past: due, never 'next'", queue.Delivery{State: queue.StateRetry, Attempts: 2, NextAttemptAt: labelNow.Add(-time.Hour), LastError: "HTTP 503"}, "retry due now (attempt 3): HTTP 503"},
		{"dead with the vendor's message", queue.Delivery{State: queue.StateDead, LastError: "400 Bad Request: Field 'customfield_1' is required"}, "dead: 400 Bad Request: Field 'customfield_1' is required"},
		{"dead, long message clipped", queue.Delivery{State: queue.StateDead, LastError: strings.Repeat("x", 200)}, "dead: " + strings.Repeat("x", 79) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deliveryCell(tt.d, labelNow); got != tt.want {
				t.Errorf("deliveryCell = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCountLine(t *testing.T) {
	tests := []struct {
		name    string
		entries []app.Entry
		want    string
	}{
		{"empty", nil, "0 tickets · 0 deliveries waiting · 0 dead"},
		{"one", []app.Entry{ticket("1", "a", connectors.User{}, queue.Delivery{State: queue.StateRetry}, queue.Delivery{State: queue.StateDead})}, "1 ticket · 1 deliveries waiting · 1 dead"},
		{"several", []app.Entry{
			ticket("1", "a", connectors.User{}, queue.Delivery{State: queue.StatePending}, queue.Delivery{State: queue.StateInFlight}),
			ticket("2", "b", connectors.User{}, queue.Delivery{State: queue.StateDelivered}),
		}, "2 tickets · 2 deliveries waiting · 0 dead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := countLine(tt.entries); got != tt.want {
				t.Errorf("countLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSentLine(t *testing.T) {
	del := func(conn, num string) queue.Delivery {
		return queue.Delivery{Connection: conn, State: queue.StateDelivered, RemoteNumber: num}
	}
	tests := []struct {
		name      string
		ds        []queue.Delivery
		want      string
		wantOK    bool
		wantFinal bool
	}{
		{"nothing yet", []queue.Delivery{{Connection: "SN", State: queue.StateInFlight}}, "", false, false},
		{"one connection, sent", []queue.Delivery{del("SN", "INC0010023")}, "Sent as INC0010023.", true, true},
		{"two, both sent", []queue.Delivery{del("SN", "INC0010023"), del("Jira", "IT-7")}, "Sent as INC0010023 (SN) and IT-7 (Jira).", true, true},
		{"two, one still going", []queue.Delivery{del("SN", "INC0010023"), {Connection: "Jira", State: queue.StateRetry}}, "Sent as INC0010023 (SN).", true, false},
		{"refused", []queue.Delivery{{Connection: "Jira", State: queue.StateDead, LastError: "400: project IT does not exist"}}, "Not accepted by Jira. The help desk has been told about a delivery problem.", true, true},
		{"no deliveries", nil, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := sentLine(tt.ds)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("sentLine = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
			if f := allFinal(tt.ds); f != tt.wantFinal {
				t.Errorf("allFinal = %v, want %v", f, tt.wantFinal)
			}
		})
	}
}

func TestClipAndSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"a\n  b\tc", 10, "a b c"},
		{"abcdefghijk", 5, "abcd…"},
		{"ünïcödé!", 4, "ünï…"},
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 bytes"}, {1023, "1023 bytes"}, {1536, "1.5 KiB"}, {10 << 20, "10.0 MiB"}} {
		if got := size(tt.n); got != tt.want {
			t.Errorf("size(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
