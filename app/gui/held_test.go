package gui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/queue"
)

// A delivery the config holds back (its connection removed or disabled)
// says so to the help desk, and in a plain sentence to the requester.
func TestHeldDeliveryLabels(t *testing.T) {
	for _, tc := range []struct {
		held, cell, detail string
	}{
		{app.HeldNotConfigured, "waiting: connection not configured (removed?)",
			`Jira: waiting: connection "Jira" is not configured (removed?) — add it back under that name, or mark its deliveries dead (ticketray connections remove "Jira" --yes --pending dead) · 2 attempts`},
		{app.HeldDisabled, "waiting: connection disabled",
			`Jira: waiting: connection "Jira" is disabled in the config — enable it, or delete the ticket · 2 attempts`},
	} {
		t.Run(tc.held, func(t *testing.T) {
			e := ticket("1", "printer", alice,
				queue.Delivery{ID: 1, Connection: "ServiceNow", State: queue.StateDelivered, RemoteNumber: "INC1"},
				queue.Delivery{ID: 2, Connection: "Jira", State: queue.StateRetry, Attempts: 2, NextAttemptAt: labelNow.Add(time.Hour), LastError: "dial tcp 10.0.0.1:443: connection refused"})
			e.Held = map[string]string{"Jira": tc.held}
			conns := []string{"ServiceNow", "Jira"}
			if got := cell(e, len(fixedColumns)+1, conns, labelNow); got != tc.cell {
				t.Errorf("cell %q, want %q", got, tc.cell)
			}
			if got := cell(e, len(fixedColumns), conns, labelNow); got != "delivered INC1" {
				t.Errorf("the configured connection's cell %q", got)
			}
			if head, errText := deliveryDetail(e, e.Deliveries[1], labelNow); head != tc.detail || errText == "" {
				t.Errorf("detail %q (error %q), want %q and the last error", head, errText, tc.detail)
			}
			// The requester: no connection names of IT's, no "removed?".
			if got := myStatus(e); got != "Sent as INC1 · Waiting for IT to set up the help desk connection" {
				t.Errorf("My tickets status %q", got)
			}
			text := myTicketText(e)
			if want := "Jira: Waiting for IT to set up the help desk connection. " + app.TroubleConfig.Sentence(); !strings.Contains(text, want) {
				t.Errorf("My tickets text lacks %q:\n%s", want, text)
			}
			if strings.Contains(text, "removed") || strings.Contains(text, "network") {
				t.Errorf("My tickets text speaks of the network or the config:\n%s", text)
			}
		})
	}
	// Nothing held: the words stay as they were.
	e := ticket("2", "vpn", alice, queue.Delivery{ID: 3, Connection: "Jira", State: queue.StatePending, NextAttemptAt: labelNow})
	if got := cell(e, len(fixedColumns), []string{"Jira"}, labelNow); got != "waiting" {
		t.Errorf("cell without a hold %q", got)
	}
}

// Through the real core: a connection removed with its deliveries kept
// shows as not configured in the queue view and in the details (the
// twin of queue show), and My tickets says it plainly.
func TestHeldDeliveryQueueView(t *testing.T) {
	closed, _ := fake.Reserve()
	svc, cfg, getenv := connManagerService(t, fmt.Sprintf(`{"version":1,"connections":[{"name":"Jira","type":"jira","baseUrl":"http://%s",
		"credentials":{"type":"api_token","username":"u@example.com","apiToken":"env:JIRA_TOKEN"},
		"options":{"projectKey":"IT","issueType":"Task"}}]}`, closed), "")
	user := connectors.User{ID: "alice", Name: "Alice"}
	rc, err := svc.Submit(context.Background(), app.Draft{Summary: "printer", User: user})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveConnection(context.Background(), "Jira", app.RemoveOptions{Pending: app.PendingKeep}); err != nil {
		t.Fatal(err)
	}
	// The file changed; a running app brings it into force as its
	// watcher does.
	l, err := config.LoadLayers(app.Options{ConfigPath: cfg, Getenv: getenv}.LoadOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	svc.UseConfig(l)

	loop := newLoop(t)
	v := heldQueueView(t, loop, svc, nil)
	if rows := tableText(v); len(rows) != 1 || rows[0][len(fixedColumns)] != "waiting: connection not configured (removed?)" {
		t.Fatalf("queue view rows %q", rows)
	}
	v.table.Select(widget.TableCellID{Row: 0, Col: len(fixedColumns)})
	waitShown(t, loop, v, rc.ID)
	if want := `waiting: connection "Jira" is not configured (removed?)`; !strings.Contains(v.ticketText.Text, want) {
		t.Errorf("details lack %q:\n%s", want, v.ticketText.Text)
	}

	m := heldQueueView(t, loop, svc, &user)
	if rows := tableText(m); len(rows) != 1 || !strings.Contains(strings.Join(rows[0], "|"), "Waiting for IT to set up the help desk connection") {
		t.Errorf("My tickets rows %q", rows)
	}
}

// heldQueueView is the queue view (My tickets with user) over the real
// core, its first list loaded.
func heldQueueView(t *testing.T, loop *uiLoop, svc *app.Service, user *connectors.User) *queueView {
	t.Helper()
	v := newQueueView(serviceQueue{svc}, user)
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(1040, 680))
	t.Cleanup(func() { loop.waitFor(t, "the viewer to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the first list", func() bool { return v.loaded && v.bg.pending == 0 })
	return v
}
