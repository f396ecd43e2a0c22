package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

func snap(ds ...deliveryState) snapshot {
	s := snapshot{}
	for i, d := range ds {
		s[int64(i+1)] = d
	}
	return s
}

func TestNotices(t *testing.T) {
	pending := deliveryState{Ticket: "0a1b2c3d-x", Summary: "Printer jams", Connection: "ServiceNow", State: queue.StatePending}
	retry := pending
	retry.State = queue.StateRetry
	sent := pending
	sent.State, sent.RemoteNumber = queue.StateDelivered, "INC0010023"
	dead := pending
	dead.State, dead.LastError = queue.StateDead, "401 Unauthorized: User Not Authenticated"
	unreadable := sent
	unreadable.Summary = ""

	tests := []struct {
		name      string
		prev, cur snapshot
		want      []notice
	}{
		{"first snapshot is old news", nil, snap(sent, dead), nil},
		{"nothing changed", snap(sent), snap(sent), nil},
		{"pending to retry is not news", snap(pending), snap(retry), nil},
		{"delivered", snap(pending), snap(sent), []notice{{"Ticket sent as INC0010023", "“Printer jams” — received by ServiceNow."}}},
		{"died", snap(retry), snap(dead), []notice{{"Ticket could not be sent", "“Printer jams” was refused by ServiceNow: 401 Unauthorized: User Not Authenticated"}}},
		{"new ticket delivered between looks", snap(), snap(sent), []notice{{"Ticket sent as INC0010023", "“Printer jams” — received by ServiceNow."}}},
		{"unreadable ticket named by id", snap(pending), snap(unreadable), []notice{{"Ticket sent as INC0010023", "Ticket 0a1b2c3d — received by ServiceNow."}}},
		{"deleted is not news", snap(sent), snap(), nil},
		{"sent before died, in delivery order", snap(pending, pending), snap(dead, sent), []notice{
			{"Ticket sent as INC0010023", "“Printer jams” — received by ServiceNow."},
			{"Ticket could not be sent", "“Printer jams” was refused by ServiceNow: 401 Unauthorized: User Not Authenticated"},
		}},
		{"many folded into one", snap(pending, pending, pending, pending, pending), snap(sent, sent, sent, dead, pending), []notice{
			{"Ticketray", "3 tickets sent; 1 could not be sent (see the help desk queue)."},
		}},
		{"many sent", snap(pending, pending, pending, pending), snap(sent, sent, sent, sent), []notice{{"Ticketray", "4 tickets sent."}}},
		{"many dead", snap(pending, pending, pending, pending), snap(dead, dead, dead, dead), []notice{{"Ticketray", "4 tickets could not be sent; see the help desk queue."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notices(tt.prev, tt.cur)
			if len(got) != len(tt.want) {
				t.Fatalf("notices = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("notice %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestTakeSnapshot(t *testing.T) {
	entries := []app.Entry{
		{ID: "t1", Ticket: &connectors.Ticket{Summary: "VPN"}, Deliveries: []queue.Delivery{
			{ID: 7, Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC1"},
			{ID: 8, Connection: "Jira", State: queue.StateDead, LastError: "boom"},
		}},
		{ID: "t2", Deliveries: []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StatePending}}},
	}
	s := takeSnapshot(entries)
	want := snapshot{
		7: {Ticket: "t1", Summary: "VPN", Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC1"},
		8: {Ticket: "t1", Summary: "VPN", Connection: "Jira", State: queue.StateDead, LastError: "boom"},
		9: {Ticket: "t2", Connection: "SN", State: queue.StatePending},
	}
	if len(s) != len(want) {
		t.Fatalf("snapshot = %+v, want %+v", s, want)
	}
	for id, w := range want {
		if s[id] != w {
			t.Errorf("snapshot[%d] = %+v, want %+v", id, s[id], w)
		}
	}
}

func TestChangeKey(t *testing.T) {
	a := changeKey(map[string]int{queue.StatePending: 1})
	b := changeKey(map[string]int{queue.StateDelivered: 1})
	if a == b {
		t.Errorf("a pending and a delivered delivery give the same key %q", a)
	}
	if changeKey(nil) != changeKey(map[string]int{}) {
		t.Error("no counts and empty counts differ")
	}
}

// The tray process notifies through the app: what the desktop shows.
func TestNotifierSends(t *testing.T) {
	a := test.NewTempApp(t)
	h := newHost(a, &app.Service{Config: &config.Config{}}, app.Env{}, &windowsProc{})
	n := &notifier{}
	entry := func(state, number, lastErr string) []app.Entry {
		return []app.Entry{{ID: "t1", Ticket: &connectors.Ticket{Summary: "Printer jams"}, Deliveries: []queue.Delivery{
			{ID: 1, Connection: "ServiceNow", State: state, RemoteNumber: number, LastError: lastErr},
		}}}
	}
	steps := []struct {
		name    string
		entries []app.Entry
		want    *fyne.Notification
	}{
		{"at start: nothing", entry(queue.StatePending, "", ""), nil},
		{"delivered", entry(queue.StateDelivered, "INC0010023", ""), fyne.NewNotification("Ticket sent as INC0010023", "“Printer jams” — received by ServiceNow.")},
		{"unchanged: nothing", entry(queue.StateDelivered, "INC0010023", ""), nil},
		{"retried and died", entry(queue.StateDead, "", "403 Forbidden"), fyne.NewNotification("Ticket could not be sent", "“Printer jams” was refused by ServiceNow: 403 Forbidden")},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			test.AssertNotificationSent(t, s.want, func() {
				for _, x := range n.diff(s.entries) {
					h.notify(x.Title, x.Content)
				}
			})
		})
	}
	if !strings.Contains(n.prev[1].State, "dead") {
		t.Errorf("notifier's snapshot = %+v, want the latest", n.prev)
	}
}
