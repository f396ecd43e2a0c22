package gui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

// fakeQueue is a queue backend over a fixed list of entries. It filters
// as the store does and records the actions it was asked for.
type fakeQueue struct {
	mu      sync.Mutex
	entries []app.Entry
	states  []string // the state of each List call
	actions []string
	failing error // returned by the actions when set
	// additions are `queue show --json`'s additions per ticket, as the
	// app writes them; Comment adds to them.
	additions map[string][]map[string]any
}

func (q *fakeQueue) List(_ context.Context, state string) ([]app.Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.states = append(q.states, state)
	var out []app.Entry
	for _, e := range q.entries {
		keep := state == ""
		for _, d := range e.Deliveries {
			switch {
			case state == queue.StatePending && (d.State == queue.StatePending || d.State == queue.StateInFlight || d.State == queue.StateRetry):
				keep = true
			case d.State == state:
				keep = true
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return out, nil
}

func (q *fakeQueue) find(id string) (app.Entry, error) {
	for _, e := range q.entries {
		if e.ID == id {
			return e, nil
		}
	}
	return app.Entry{}, fmt.Errorf("queue: ticket %q: %w", id, queue.ErrNotFound)
}

func (q *fakeQueue) DescribeTicket(_ context.Context, id string) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, err := q.find(id)
	if err != nil {
		return "", err
	}
	return "Ticket    " + e.ID + "\nSummary   " + e.Ticket.Summary + "\n", nil
}

func (q *fakeQueue) WriteTicketJSON(_ context.Context, w io.Writer, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, err := q.find(id)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(map[string]any{"id": e.ID, "summary": e.Ticket.Summary, "additions": q.additions[e.ID]})
}

func (q *fakeQueue) act(a string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.actions = append(q.actions, a)
	return q.failing
}

func (q *fakeQueue) Retry(_ context.Context, id string) (int, error) { return 1, q.act("retry " + id) }
func (q *fakeQueue) RetryAllDead(context.Context) (int, error)       { return 2, q.act("retry-all-dead") }
func (q *fakeQueue) Delete(_ context.Context, id string) error {
	if err := q.act("delete " + id); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.entries = slices.DeleteFunc(q.entries, func(e app.Entry) bool { return e.ID == id })
	return nil
}

func (q *fakeQueue) calls() (states, actions []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.states...), append([]string(nil), q.actions...)
}

var (
	alice = connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"}
	bob   = connectors.User{ID: "bob", Name: "Bob Example"}
	t0    = time.Date(2025, 3, 14, 9, 30, 0, 0, time.Local)
)

// sampleQueue has a delivered, a retrying and a dead ticket, as staff
// would see them.
func sampleQueue() *fakeQueue {
	return &fakeQueue{entries: []app.Entry{
		{ID: "11111111-aaaa", CreatedAt: t0, Ticket: &connectors.Ticket{Summary: "Printer on floor 3 jams", Priority: "medium", User: alice,
			SystemInfo: &diagnostics.SystemInfo{OSName: "debian", DeviceName: "lab-pc-7"}}, Deliveries: []queue.Delivery{
			{ID: 1, Connection: "ServiceNow", State: queue.StateDelivered, RemoteNumber: "INC0010023", RemoteURL: "https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=1"},
			{ID: 2, Connection: "Jira", State: queue.StateRetry, Attempts: 2, NextAttemptAt: t0.Add(time.Hour), LastError: "503 Service Unavailable"},
		}},
		{ID: "22222222-bbbb", CreatedAt: t0.Add(time.Minute), Ticket: &connectors.Ticket{Summary: "VPN drops every hour", Priority: "high", User: bob,
			SkillResults: []diagnostics.SkillResult{{SkillID: "network-check", SkillName: "Network check", Status: "failed", Output: "gateway 10.0.0.1 does not answer"}}}, Deliveries: []queue.Delivery{
			{ID: 3, Connection: "ServiceNow", State: queue.StateDead, LastError: "400 Bad Request: Invalid caller_id"},
			{ID: 4, Connection: "Jira", State: queue.StateDelivered, RemoteNumber: "IT-7", RemoteURL: "https://acme.atlassian.net/browse/IT-7"},
		}},
		{ID: "33333333-cccc", CreatedAt: t0.Add(2 * time.Minute), Ticket: &connectors.Ticket{Summary: "Outlook asks for the password", Priority: "low", User: alice}, Deliveries: []queue.Delivery{
			{ID: 5, Connection: "ServiceNow", State: queue.StatePending, NextAttemptAt: t0},
			{ID: 6, Connection: "Jira", State: queue.StatePending, NextAttemptAt: t0},
		}},
	}}
}

// fakeDialogs answers the viewer's confirmations and file choices.
type fakeDialogs struct {
	answer   bool
	asked    []string
	saved    bytes.Buffer
	closed   bool
	saveName string
}

type bufCloser struct {
	*bytes.Buffer
	closed *bool
}

func (b bufCloser) Close() error { *b.closed = true; return nil }

func newTestQueueView(t *testing.T, q *fakeQueue, user *connectors.User) (*queueView, *fakeDialogs, fyne.Window, *uiLoop) {
	t.Helper()
	loop := newLoop(t)
	d := &fakeDialogs{}
	v := newQueueView(q, user)
	v.now = func() time.Time { return t0.Add(10 * time.Minute) }
	v.confirm = func(title, msg string, answer func(bool)) {
		d.asked = append(d.asked, title)
		answer(d.answer)
	}
	v.pickSave = func(name string, got func(io.WriteCloser)) {
		d.saveName = name
		got(bufCloser{&d.saved, &d.closed})
	}
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(1040, 680))
	// Leave nothing running for the next test's app.
	t.Cleanup(func() { loop.waitFor(t, "the viewer to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the first list", func() bool { return v.loaded && v.bg.pending == 0 })
	return v, d, w, loop
}

// waitShown waits until ticket id's details are shown in full.
func waitShown(t *testing.T, loop *uiLoop, v *queueView, id string) {
	t.Helper()
	loop.waitFor(t, "ticket "+id, func() bool { return v.selected == id && v.bg.pending == 0 })
}

func tableText(v *queueView) [][]string {
	rows, cols := v.size()
	out := make([][]string, rows)
	for r := range out {
		for c := 0; c < cols; c++ {
			if v.mine {
				out[r] = append(out[r], myCell(v.entries[r], c))
			} else {
				out[r] = append(out[r], cell(v.entries[r], c, v.conns, v.now()))
			}
		}
	}
	return out
}

func TestQueueViewShowsTickets(t *testing.T) {
	v, _, _, _ := newTestQueueView(t, sampleQueue(), nil)
	if got := v.count.Text; got != "3 tickets · 3 deliveries waiting · 1 dead" {
		t.Errorf("count = %q", got)
	}
	var headers []string
	_, cols := v.size()
	for c := 0; c < cols; c++ {
		headers = append(headers, v.header(c))
	}
	if got := strings.Join(headers, "|"); got != "Created|Summary|Requester|Priority|ServiceNow|Jira" {
		t.Errorf("headers = %s", got)
	}
	rows := tableText(v)
	want := [][]string{
		{"2025-03-14 09:30", "Printer on floor 3 jams", "Alice Example <alice@example.com>", "medium", "delivered INC0010023", "retry in 50 min (attempt 3): 503 Service Unavailable"},
		{"2025-03-14 09:31", "VPN drops every hour", "Bob Example", "high", "dead: 400 Bad Request: Invalid caller_id", "delivered IT-7"},
		{"2025-03-14 09:32", "Outlook asks for the password", "Alice Example <alice@example.com>", "low", "waiting", "waiting"},
	}
	for r := range want {
		if got := strings.Join(rows[r], "|"); got != strings.Join(want[r], "|") {
			t.Errorf("row %d = %s\nwant    %s", r, got, strings.Join(want[r], "|"))
		}
	}
	// The newest ticket is selected at first.
	if v.selected != "33333333-cccc" || !strings.Contains(v.ticketText.Text, "Outlook asks for the password") {
		t.Errorf("selected %q, details %q; want the newest ticket", v.selected, v.ticketText.Text)
	}
}

func TestQueueViewFilter(t *testing.T) {
	tests := []struct {
		filter    string
		wantState string
		wantIDs   string
	}{
		{"Pending", "pending", "11111111-aaaa,33333333-cccc"},
		{"Delivered", "delivered", "11111111-aaaa,22222222-bbbb"},
		{"Dead", "dead", "22222222-bbbb"},
		{"All", "", "11111111-aaaa,22222222-bbbb,33333333-cccc"},
	}
	q := sampleQueue()
	v, _, _, loop := newTestQueueView(t, q, nil)
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			v.filter.SetSelected(tt.filter)
			loop.waitFor(t, tt.filter+" tickets", func() bool { return ids(v.entries) == tt.wantIDs })
			states, _ := q.calls()
			if got := states[len(states)-1]; got != tt.wantState {
				t.Errorf("List state = %q, want %q (calls %q)", got, tt.wantState, states)
			}
		})
	}
}

func ids(entries []app.Entry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return strings.Join(out, ",")
}

func TestQueueViewDetails(t *testing.T) {
	v, _, _, loop := newTestQueueView(t, sampleQueue(), nil)
	tests := []struct {
		row       int
		title     string
		links     []string
		sys, skil string
	}{
		{0, "Ticket 11111111 — Printer on floor 3 jams", []string{"INC0010023 in ServiceNow"}, `"deviceName": "lab-pc-7"`, "No troubleshooting skills ran"},
		{1, "Ticket 22222222 — VPN drops every hour", []string{"IT-7 in Jira"}, "No system information", "gateway 10.0.0.1 does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			v.table.Select(widget.TableCellID{Row: tt.row, Col: 1})
			loop.waitFor(t, "the ticket text", func() bool { return strings.Contains(v.ticketText.Text, "Ticket    "+v.entries[tt.row].ID) })
			if v.title.Text != tt.title {
				t.Errorf("title = %q, want %q", v.title.Text, tt.title)
			}
			var links []string
			for _, o := range v.links.Objects {
				h, ok := o.(*widget.Hyperlink)
				if !ok || h.URL == nil || !strings.HasPrefix(h.URL.String(), "https://acme.") {
					t.Errorf("link %T %+v is not a hyperlink to the remote ticket", o, o)
					continue
				}
				links = append(links, h.Text)
			}
			if !slices.Equal(links, tt.links) {
				t.Errorf("links = %v, want %v", links, tt.links)
			}
			if !strings.Contains(v.sysText.Text, tt.sys) {
				t.Errorf("system information tab = %q, want it to contain %q", v.sysText.Text, tt.sys)
			}
			if !strings.Contains(v.skillText.Text, tt.skil) {
				t.Errorf("skill tab = %q, want it to contain %q", v.skillText.Text, tt.skil)
			}
			if v.retry.Disabled() || v.del.Disabled() || v.export.Disabled() {
				t.Error("actions disabled with a ticket selected")
			}
		})
	}
}

func TestQueueViewActions(t *testing.T) {
	tests := []struct {
		name        string
		tap         func(v *queueView) *widget.Button
		answer      bool
		failing     error
		wantAction  string
		wantAsked   bool
		wantStatus  string
		wantRemoved bool
	}{
		{name: "retry now", tap: func(v *queueView) *widget.Button { return v.retry }, wantAction: "retry 33333333-cccc",
			wantStatus: "1 delivery rescheduled: it is sent as soon as the connection answers."},
		{name: "retry all dead", tap: func(v *queueView) *widget.Button { return v.retryAll }, wantAction: "retry-all-dead",
			wantStatus: "2 deliveries rescheduled: they are sent as soon as their connections answer."},
		{name: "delete confirmed", tap: func(v *queueView) *widget.Button { return v.del }, answer: true, wantAsked: true, wantAction: "delete 33333333-cccc",
			wantStatus: "Ticket 33333333 deleted.", wantRemoved: true},
		{name: "delete cancelled", tap: func(v *queueView) *widget.Button { return v.del }, answer: false, wantAsked: true},
		{name: "retry fails", tap: func(v *queueView) *widget.Button { return v.retry }, failing: errors.New("database is locked"), wantAction: "retry 33333333-cccc",
			wantStatus: "Failed: database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := sampleQueue()
			q.failing = tt.failing
			v, d, _, loop := newTestQueueView(t, q, nil)
			d.answer = tt.answer
			changed := 0
			v.onChanged = func() { changed++ }

			test.Tap(tt.tap(v))
			if tt.wantStatus != "" {
				loop.waitFor(t, "status "+tt.wantStatus, func() bool { return v.status.Text == tt.wantStatus })
			}
			if tt.wantRemoved {
				loop.waitFor(t, "the list without the deleted ticket", func() bool { return len(v.entries) == 2 })
				if v.selected != "" || v.title.Text != "Select a ticket to see its details." || !v.del.Disabled() {
					t.Errorf("after delete: selected %q, title %q; want the details cleared", v.selected, v.title.Text)
				}
			}
			_, actions := q.calls()
			if got := strings.Join(actions, ","); got != tt.wantAction {
				t.Errorf("actions = %q, want %q", got, tt.wantAction)
			}
			if asked := len(d.asked) > 0; asked != tt.wantAsked {
				t.Errorf("confirmation asked: %v (%v), want %v", asked, d.asked, tt.wantAsked)
			}
			if tt.wantAsked && d.asked[0] != "Delete ticket 33333333?" {
				t.Errorf("confirmation title = %q", d.asked[0])
			}
			wantChanged := 0
			if tt.wantAction != "" && tt.failing == nil {
				wantChanged = 1
			}
			if changed != wantChanged {
				t.Errorf("onChanged called %d times, want %d", changed, wantChanged)
			}
		})
	}
}

// Export writes the backend's `queue show --json` to the chosen file.
func TestQueueViewExport(t *testing.T) {
	v, d, _, loop := newTestQueueView(t, sampleQueue(), nil)
	v.table.Select(widget.TableCellID{Row: 1, Col: 0})
	loop.waitFor(t, "ticket 2", func() bool { return strings.Contains(v.ticketText.Text, "22222222-bbbb") })

	test.Tap(v.export)
	loop.waitFor(t, "the export", func() bool { return strings.Contains(v.status.Text, "exported") })
	if d.saveName != "ticket-22222222.json" {
		t.Errorf("suggested file name %q", d.saveName)
	}
	if !d.closed {
		t.Error("the file was not closed")
	}
	var got map[string]string
	if err := json.Unmarshal(d.saved.Bytes(), &got); err != nil || got["id"] != "22222222-bbbb" {
		t.Errorf("exported %q (%v), want ticket 22222222-bbbb's JSON", d.saved.String(), err)
	}
}

// My tickets: only the current user's tickets, and none of the staff's
// actions (delete, export, retry all, the state filter).
func TestMyTickets(t *testing.T) {
	u := alice
	v, _, _, _ := newTestQueueView(t, sampleQueue(), &u)
	if got := ids(v.entries); got != "11111111-aaaa,33333333-cccc" {
		t.Errorf("My tickets lists %s, want alice's two", got)
	}
	for _, o := range test.LaidOutObjects(v.content) {
		switch o {
		case v.retryAll, v.del, v.export, v.filter:
			t.Errorf("My tickets shows the staff's %T", o)
		}
		if b, ok := o.(*widget.Button); ok && strings.Contains(b.Text, "Delete") {
			t.Errorf("My tickets has a %q button", b.Text)
		}
	}
	var headers []string
	for c := 0; c < len(myColumns); c++ {
		headers = append(headers, v.header(c))
	}
	if got := strings.Join(headers, "|"); got != "Reported|Summary|Status" {
		t.Errorf("headers %s", got)
	}
	if v.retry.Text != "Try again now" {
		t.Errorf("retry button %q", v.retry.Text)
	}
}

// The selection follows the ticket across reloads.
func TestQueueViewKeepsSelection(t *testing.T) {
	q := sampleQueue()
	v, _, _, loop := newTestQueueView(t, q, nil)
	v.table.Select(widget.TableCellID{Row: 0, Col: 0})
	loop.waitFor(t, "ticket 1", func() bool { return strings.Contains(v.ticketText.Text, "11111111-aaaa") })

	q.mu.Lock()
	q.entries = q.entries[1:] // ticket 1 deleted elsewhere, by the CLI
	q.mu.Unlock()
	test.Tap(v.refreshBtn)
	loop.waitFor(t, "the shorter list", func() bool { return len(v.entries) == 2 })
	if v.selected != "" || !v.retry.Disabled() {
		t.Errorf("selected %q after its ticket went away", v.selected)
	}

	v.table.Select(widget.TableCellID{Row: 1, Col: 0})
	loop.waitFor(t, "ticket 3", func() bool { return strings.Contains(v.ticketText.Text, "33333333-cccc") })
	q.mu.Lock()
	q.entries = append([]app.Entry{sampleQueue().entries[0]}, q.entries...) // back, before it
	q.mu.Unlock()
	test.Tap(v.refreshBtn)
	loop.waitFor(t, "the longer list", func() bool { return len(v.entries) == 3 })
	loop.waitFor(t, "ticket 3's details", func() bool { return strings.Contains(v.ticketText.Text, "33333333-cccc") })
	if v.selected != "33333333-cccc" || v.selCell.Row != 2 {
		t.Errorf("selected %q at row %d, want ticket 3 at row 2", v.selected, v.selCell.Row)
	}
}

// TestQueueViewImage pins the viewer's look. To accept a deliberate
// change, copy testdata/failed/queue_view.png over testdata/queue_view.png.
func TestQueueViewImage(t *testing.T) {
	_, _, w, _ := newTestQueueView(t, sampleQueue(), nil)
	pinImage(t, "queue_view.png", w.Canvas().Capture())
}

// resolvedQueue is alice's tickets after a sync: the printer ticket
// resolved in ServiceNow with the help desk's reply, the Jira delivery
// of the other waiting on her.
func resolvedQueue() *fakeQueue {
	q := sampleQueue()
	q.entries[0].Deliveries[1] = queue.Delivery{ID: 2, Connection: "Jira", State: queue.StateDelivered, RemoteNumber: "IT-9",
		RemoteURL: "https://acme.atlassian.net/browse/IT-9"}
	// A comment she added since: delivered, but not a ticket of its own.
	q.entries[0].Deliveries = append(q.entries[0].Deliveries, queue.Delivery{ID: 7, Connection: "ServiceNow", Action: queue.ActionUpdate,
		State: queue.StateDelivered, RemoteNumber: "INC0010023", RemoteURL: "https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=1"})
	q.entries[0].Remote = map[int64]app.RemoteView{
		1: {Status: connectors.StateResolved, SyncedAt: t0.Add(9 * time.Minute), RemoteDetail: delivery.RemoteDetail{
			RemoteStatus: "6", Assignee: "Jane Agent", RemoteUpdatedAt: t0.Add(8 * time.Minute),
			Comments: []connectors.RemoteComment{
				{ID: "c1", Author: "Jane Agent", Body: "Thanks, looking at it now.", CreatedAt: t0.Add(3 * time.Minute)},
				{ID: "c2", Author: "Jane Agent", Body: "Replaced the fuser unit; the printer prints again.\nReopen this ticket if it jams again.", CreatedAt: t0.Add(8 * time.Minute)},
			}}},
		2: {Status: connectors.StateWaitingOnYou, SyncedAt: t0.Add(9 * time.Minute), RemoteDetail: delivery.RemoteDetail{
			RemoteStatus: "Waiting for customer", Category: "indeterminate"}},
	}
	return q
}

// My tickets says where a synced ticket stands in plain words, who works
// on it and when it changed, and shows the help desk's replies.
func TestMyTicketsRemoteState(t *testing.T) {
	u := alice
	v, _, _, loop := newTestQueueView(t, resolvedQueue(), &u)
	rows := tableText(v)
	if got, want := rows[0][2], "Sent as INC0010023 — resolved · Sent as IT-9 — waiting for your reply"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got := rows[1][2]; got != "Waiting to be sent" {
		t.Errorf("unsent ticket's status = %q", got)
	}
	// The staff's view keeps a column per help desk with who works on it.
	staff := sampleQueue()
	staff.entries = resolvedQueue().entries
	if got, want := cell(staff.entries[0], 4, connectionColumns(staff.entries), t0), "INC0010023 · Resolved · Jane Agent · updated 09:38"; got != want {
		t.Errorf("staff ServiceNow cell = %q, want %q", got, want)
	}

	v.table.Select(widget.TableCellID{Row: 0, Col: 1})
	waitShown(t, loop, v, "11111111-aaaa")
	if len(v.links.Objects) != 2 {
		t.Errorf("%d links, want one per delivered ticket (not for the added comment)", len(v.links.Objects))
	}
	if v.tabs.Selected().Text != "Conversation" {
		t.Errorf("tab %q shown first, want Conversation", v.tabs.Selected().Text)
	}
	day := t0.Format("2006-01-02")
	want := strings.Join([]string{
		"INC0010023 in ServiceNow: Resolved",
		"Assigned to Jane Agent · last update " + day + " 09:38",
		"Jane Agent · " + day + " 09:33",
		"Thanks, looking at it now.",
		"Jane Agent · " + day + " 09:38",
		"Replaced the fuser unit; the printer prints again.\nReopen this ticket if it jams again.",
		"IT-9 in Jira: Waiting for your reply",
		"Not assigned yet · last update " + day + " 09:39",
		"No replies from the help desk yet.",
	}, "\n") + "\n"
	if got := conversationText(v.entries[0]); got != want {
		t.Errorf("conversation:\n%s\nwant:\n%s", got, want)
	}
	if got := v.convText.String(); !strings.Contains(got, "Replaced the fuser unit") || !strings.Contains(got, "Resolved") {
		t.Errorf("conversation pane shows %q", got)
	}
	var bold []string
	rules := 0
	for _, s := range v.convText.Segments {
		switch s := s.(type) {
		case *widget.TextSegment:
			if s.Style.TextStyle.Bold {
				bold = append(bold, s.Text)
			}
		case *widget.SeparatorSegment:
			rules++
		}
	}
	wantBold := "INC0010023 in ServiceNow: Resolved|Jane Agent · " + day + " 09:33|Jane Agent · " + day + " 09:38|IT-9 in Jira: Waiting for your reply"
	if got := strings.Join(bold, "|"); got != wantBold || rules != 1 {
		t.Errorf("bold headings %s and %d rules\nwant %s and a rule between the two tickets", got, rules, wantBold)
	}

	// A ticket not sent yet says so.
	v.table.Select(widget.TableCellID{Row: 1, Col: 1})
	waitShown(t, loop, v, "33333333-cccc")
	if got := v.convText.String(); !strings.HasPrefix(got, "Not sent to the help desk yet") {
		t.Errorf("unsent ticket's conversation = %q", got)
	}
}

// TestMyTicketsImage pins My tickets with a resolved ticket and its
// conversation. To accept a deliberate change, copy
// testdata/failed/my_tickets.png over testdata/my_tickets.png.
func TestMyTicketsImage(t *testing.T) {
	u := alice
	v, _, w, loop := newTestQueueView(t, resolvedQueue(), &u)
	w.Resize(fyne.NewSize(1180, 760))
	v.table.Select(widget.TableCellID{Row: 0, Col: 1})
	waitShown(t, loop, v, "11111111-aaaa")
	v.content.Refresh()
	pinImage(t, "my_tickets.png", w.Canvas().Capture())
}

// myQueue is alice's tickets in the three states My tickets tells apart:
// sent and open with a reply, waiting for the network, and dead.
func myQueue() *fakeQueue {
	return &fakeQueue{entries: []app.Entry{
		{ID: "5f3e9a21-7c44-4d0e-9b1a-2f6d8e0c1a77", CreatedAt: t0, Ticket: &connectors.Ticket{Summary: "Printer on floor 3 jams", Priority: "medium", User: alice,
			Category: "Printer", Description: "Every second page jams since Monday.", IdempotencyKey: "tr-5f3e9a21-key"}, Deliveries: []queue.Delivery{
			{ID: 1, Connection: "ServiceNow", State: queue.StateDelivered, RemoteNumber: "INC0010023", RemoteURL: "https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=1"},
		}, Remote: map[int64]app.RemoteView{1: {Status: connectors.StateBacklog, SyncedAt: t0.Add(9 * time.Minute), RemoteDetail: delivery.RemoteDetail{
			Assignee: "Jane Agent", RemoteUpdatedAt: t0.Add(8 * time.Minute),
			Comments: []connectors.RemoteComment{{ID: "c1", Author: "Jane Agent", Body: "Thanks, I will look at it this afternoon.", CreatedAt: t0.Add(8 * time.Minute)}}}}}},
		{ID: "a0c4e1d2-1b2b-4c3c-8d4d-5e6f7a8b9c0d", CreatedAt: t0.Add(time.Hour), Ticket: &connectors.Ticket{Summary: "VPN drops every hour", Priority: "high", User: alice,
			Description: "It drops at :15 each hour.", IdempotencyKey: "tr-a0c4e1d2-key",
			Attachments: []connectors.Attachment{{Filename: "screenshot-2025-03-14-1030.png", SizeBytes: 412 << 10}}}, Deliveries: []queue.Delivery{
			{ID: 2, Connection: "ServiceNow", State: queue.StateRetry, Attempts: 3, NextAttemptAt: t0.Add(2 * time.Hour),
				LastError: `create: Post "https://acme.service-now.com/api/now/table/incident": dial tcp 127.0.0.1:443: connect: connection refused`},
		}},
		{ID: "e7b2d9c4-3f1a-4e8b-a6c5-0d9e8f7a6b5c", CreatedAt: t0.Add(2 * time.Hour), Ticket: &connectors.Ticket{Summary: "Outlook asks for the password", Priority: "low", User: alice,
			IdempotencyKey: "tr-e7b2d9c4-key"}, Deliveries: []queue.Delivery{
			{ID: 3, Connection: "ServiceNow", State: queue.StateDead, Attempts: 1, LastError: "create: HTTP 400 Bad Request: Invalid caller_id"},
		}},
	}}
}

func TestMyStatusWords(t *testing.T) {
	pending := func(lastError string) queue.Delivery {
		return queue.Delivery{ID: 9, Connection: "SN", State: queue.StateRetry, LastError: lastError}
	}
	open := map[int64]app.RemoteView{9: {Status: connectors.StateBacklog}}
	tests := []struct {
		name   string
		ds     []queue.Delivery
		remote map[int64]app.RemoteView
		want   string
	}{
		{"waiting, never tried", []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StatePending}}, nil, "Waiting to be sent"},
		{"offline", []queue.Delivery{pending("create: dial tcp 127.0.0.1:9: connect: connection refused")}, nil, "Waiting for the network"},
		{"timeout", []queue.Delivery{pending("context deadline exceeded")}, nil, "Waiting for the network"},
		{"5xx", []queue.Delivery{pending("create: HTTP 503 Service Unavailable")}, nil, "Waiting for the help desk's system to answer"},
		{"429", []queue.Delivery{pending("create: HTTP 429 Too Many Requests")}, nil, "Waiting for the help desk's system to answer"},
		{"401", []queue.Delivery{pending("create: HTTP 401 Unauthorized: User Not Authenticated")}, nil, "Waiting for IT to fix a delivery problem"},
		{"misconfigured", []queue.Delivery{pending("connection misconfigured: secret not found")}, nil, "Waiting for IT to fix a delivery problem"},
		{"sign-in", []queue.Delivery{pending("sign-in required: run 'ticketray connections login SN'")}, nil, "Waiting for you to sign in (Settings)"},
		{"sending", []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StateInFlight}}, nil, "Sending…"},
		{"sent", []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC0010023"}}, nil, "Sent as INC0010023"},
		{"sent and open", []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC0010023"}}, open, "Sent as INC0010023 — open"},
		{"dead", []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StateDead, LastError: "HTTP 400 Bad Request: Invalid caller_id"}}, nil, "The help desk has been told about a delivery problem"},
		{"two help desks, same words once", []queue.Delivery{pending("dial tcp: no such host"), {ID: 8, Connection: "Jira", State: queue.StateRetry, LastError: "i/o timeout"}}, nil, "Waiting for the network"},
		{"added comments do not count", []queue.Delivery{{ID: 9, Connection: "SN", State: queue.StateDelivered, RemoteNumber: "INC1"}, {ID: 10, Connection: "SN", Action: queue.ActionUpdate, State: queue.StateDead}}, nil, "Sent as INC1"},
		{"no connection", nil, nil, "Saved; it is sent once IT sets up the help desk connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := app.Entry{ID: "x", Deliveries: tt.ds, Remote: tt.remote}
			if got := myStatus(e); got != tt.want {
				t.Errorf("myStatus = %q, want %q", got, tt.want)
			}
		})
	}
}

// Nothing of the engineering shows in My tickets: no key, no transport
// error, no vendor text, no delete; the details say where each ticket
// stands in sentences, with the reference to quote.
func TestMyTicketsPlainWords(t *testing.T) {
	u := alice
	q := myQueue()
	v, _, w, loop := newTestQueueView(t, q, &u)
	w.Resize(fyne.NewSize(1180, 760))
	rows := tableText(v)
	want := []string{"Sent as INC0010023 — open", "Waiting for the network", "The help desk has been told about a delivery problem"}
	for i, s := range want {
		if rows[i][2] != s {
			t.Errorf("row %d status %q, want %q", i, rows[i][2], s)
		}
	}
	if v.count.Text != "3 tickets · 1 waiting to be sent · 1 with a delivery problem" {
		t.Errorf("count %q", v.count.Text)
	}
	texts := map[string]string{}
	for i, e := range q.entries {
		v.table.Select(widget.TableCellID{Row: i, Col: 1})
		waitShown(t, loop, v, e.ID)
		texts[e.ID] = v.ticketText.Text
		shown := v.title.Text + "\n" + v.ticketText.Text + "\n" + v.convText.String() + "\n" + strings.Join(rows[i], "\n")
		for _, bad := range []string{"key", "dial tcp", "127.0.0.1", "HTTP", "caller_id", e.ID} {
			if strings.Contains(shown, bad) {
				t.Errorf("ticket %d shows %q:\n%s", i, bad, shown)
			}
		}
		if !strings.Contains(v.ticketText.Text, "Reference: "+shortID(e.ID)) || !strings.HasPrefix(v.title.Text, "Reference "+shortID(e.ID)) {
			t.Errorf("ticket %d: title %q, details %q; want the reference", i, v.title.Text, v.ticketText.Text)
		}
	}
	for id, want := range map[string]string{
		q.entries[0].ID: "ServiceNow: Sent as INC0010023 — open.",
		q.entries[1].ID: "ServiceNow: Waiting for the network. " + app.TroubleOffline.Sentence(),
		q.entries[2].ID: "ServiceNow: The help desk has been told about a delivery problem. It could not be sent;",
	} {
		if !strings.Contains(texts[id], want) {
			t.Errorf("details of %s lack %q:\n%s", shortID(id), want, texts[id])
		}
	}
	if !strings.Contains(texts[q.entries[1].ID], "Attached: screenshot-2025-03-14-1030.png (412.0 KiB)") {
		t.Errorf("attachment not listed:\n%s", texts[q.entries[1].ID])
	}
}

// An action that fails says so in a sentence in My tickets, with the raw
// text in the staff's queue only.
func TestMyTicketsActionError(t *testing.T) {
	u := alice
	q := myQueue()
	q.failing = errors.New("retry: database is locked (5) (SQLITE_BUSY)")
	v, _, _, loop := newTestQueueView(t, q, &u)
	test.Tap(v.retry)
	want := "That did not work. " + app.TroubleStorage.Sentence()
	loop.waitFor(t, "the error", func() bool { return v.status.Text == want })

	staff, _, _, loop2 := newTestQueueView(t, q, nil)
	test.Tap(staff.retry)
	loop2.waitFor(t, "the staff's error", func() bool { return staff.status.Text == "Failed: retry: database is locked (5) (SQLITE_BUSY)" })
}

// With nothing reported, My tickets says so and offers the report window.
func TestMyTicketsEmpty(t *testing.T) {
	u := alice
	v, _, w, loop := newTestQueueView(t, &fakeQueue{entries: sampleQueue().entries[1:2]}, &u) // bob's ticket only
	reports := 0
	v.onReport = func() { reports++ }
	if !v.empty.Visible() || v.count.Text != "0 tickets" {
		t.Fatalf("empty state visible %v, count %q", v.empty.Visible(), v.count.Text)
	}
	var button *widget.Button
	var lines []string
	for _, o := range test.LaidOutObjects(v.empty) {
		switch o := o.(type) {
		case *widget.Button:
			button = o
		case *widget.Label:
			lines = append(lines, o.Text)
		}
	}
	if len(lines) == 0 || lines[0] != "You have not reported anything yet." || button == nil || button.Text != "Report an issue…" {
		t.Fatalf("empty state: lines %q, button %v", lines, button)
	}
	w.Resize(fyne.NewSize(1180, 760))
	pinImage(t, "my_tickets_empty.png", w.Canvas().Capture())
	test.Tap(button)
	if reports != 1 {
		t.Errorf("Report opened the report window %d times, want 1", reports)
	}
	_ = loop
}

// TestMyTicketsImages pins My tickets with a waiting, a sent and a dead
// ticket selected in turn (evidence for issue 14).
func TestMyTicketsImages(t *testing.T) {
	u := alice
	q := myQueue()
	v, _, w, loop := newTestQueueView(t, q, &u)
	w.Resize(fyne.NewSize(1180, 760))
	for _, s := range []struct {
		row  int
		tab  int
		name string
	}{{1, 1, "my_tickets_waiting.png"}, {0, 0, "my_tickets_sent.png"}, {2, 1, "my_tickets_problem.png"}} {
		v.table.Select(widget.TableCellID{Row: s.row, Col: 1})
		waitShown(t, loop, v, q.entries[s.row].ID)
		v.tabs.SelectIndex(s.tab)
		v.content.Refresh()
		pinImage(t, s.name, w.Canvas().Capture())
	}
}

// longErrorQueue has a ticket for four connections, one of them dead
// with a vendor's long error, as a help desk agent meets it.
func longErrorQueue() *fakeQueue {
	q := sampleQueue()
	long := "create: HTTP 400 Bad Request: {\"error\":{\"message\":\"Invalid caller_id: no sys_user record matches 'alice@example.com'\",\"detail\":\"The caller_id field must reference an active user in the User [sys_user] table; check the mapping of requester to caller_id in the connection's mappings or create the user first.\"},\"status\":\"failure\"}"
	q.entries[0].Deliveries = []queue.Delivery{
		{ID: 1, Connection: "ServiceNow", State: queue.StateDead, Attempts: 1, LastError: long},
		{ID: 2, Connection: "Jira", State: queue.StateRetry, Attempts: 2, NextAttemptAt: t0.Add(time.Hour), LastError: "create: HTTP 503 Service Unavailable"},
		{ID: 3, Connection: "Zendesk", State: queue.StateDelivered, Attempts: 1, RemoteNumber: "#4711"},
		{ID: 4, Connection: "Freshservice", State: queue.StatePending, NextAttemptAt: t0},
	}
	return q
}

// The help desk sees every connection's column (the table scrolls
// sideways) and, on selecting a ticket or one of its cells, each
// delivery with its whole error.
func TestQueueViewLongError(t *testing.T) {
	q := longErrorQueue()
	v, _, w, loop := newTestQueueView(t, q, nil)
	w.Resize(fyne.NewSize(1180, 760))
	var headers []string
	_, cols := v.size()
	for c := 0; c < cols; c++ {
		headers = append(headers, v.header(c))
	}
	if got := strings.Join(headers, "|"); got != "Created|Summary|Requester|Priority|ServiceNow|Jira|Zendesk|Freshservice" {
		t.Errorf("headers %s, want a column per connection", got)
	}
	rows := tableText(v)
	if !strings.HasPrefix(rows[0][4], "dead: create: HTTP 400 Bad Request") || !strings.HasSuffix(rows[0][4], "…") {
		t.Errorf("cell %q, want the error clipped in the table", rows[0][4])
	}

	v.tabs.SelectIndex(2)
	v.table.Select(widget.TableCellID{Row: 0, Col: 4})
	waitShown(t, loop, v, "11111111-aaaa")
	if v.tabs.Selected().Text != "Deliveries" {
		t.Errorf("tab %q after selecting a connection's cell, want Deliveries", v.tabs.Selected().Text)
	}
	var lines []string
	for _, seg := range v.delivText.Segments {
		lines = append(lines, seg.Textual())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"ServiceNow: dead after 1 attempt\nlast error: " + q.entries[0].Deliveries[0].LastError,
		"Jira: retry " + app.When(t0.Add(time.Hour), v.now()) + " (attempt 3)\nlast error: create: HTTP 503 Service Unavailable",
		"Zendesk: delivered #4711 · 1 attempt",
		"Freshservice: waiting",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Deliveries tab lacks %q:\n%s", want, got)
		}
	}
	v.content.Refresh()
	pinImage(t, "queue_view_long_error.png", w.Canvas().Capture())
	// The last connection's column can be scrolled to.
	v.table.ScrollTo(widget.TableCellID{Row: 0, Col: cols - 1})
	v.table.Refresh()
	pinImage(t, "queue_view_scrolled.png", w.Canvas().Capture())
}
