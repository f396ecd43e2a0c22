package gui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// Comment records the call and, like the app, lists the addition with a
// waiting delivery per help desk the ticket goes to.
func (q *fakeQueue) Comment(_ context.Context, id, text string, files []connectors.Attachment, author connectors.User) (app.AdditionReceipt, error) {
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, f.Filename)
	}
	if err := q.act(fmt.Sprintf("comment %s %q files=%v by %s", id, text, names, author.ID)); err != nil {
		return app.AdditionReceipt{}, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	e, err := q.find(id)
	if err != nil {
		return app.AdditionReceipt{}, err
	}
	a := map[string]any{"id": "add-1", "createdAt": t0.Add(11 * 60e9), "text": text}
	var ds []map[string]any
	for _, d := range e.Deliveries {
		if d.Action == "" || d.Action == queue.ActionCreate {
			ds = append(ds, map[string]any{"connection": d.Connection, "action": queue.ActionUpdate, "state": queue.StatePending})
		}
	}
	a["deliveries"] = ds
	var atts []string
	for _, f := range files {
		atts = append(atts, fmt.Sprintf("%s (%s, %d bytes)", f.Filename, f.ContentType, f.SizeBytes))
	}
	if len(atts) > 0 {
		a["attachments"] = atts
	}
	if q.additions == nil {
		q.additions = map[string][]map[string]any{}
	}
	q.additions[id] = append(q.additions[id], a)
	return app.AdditionReceipt{ID: "add-1", Ticket: id}, nil
}

// newTestMyTickets is My tickets with ticket 1 selected and the add
// dialog shown over the test window.
func newTestMyTickets(t *testing.T, q *fakeQueue) (*queueView, fyne.Window, *uiLoop) {
	t.Helper()
	u := alice
	v, _, w, loop := newTestQueueView(t, q, &u)
	v.showAdd = func(title string, content fyne.CanvasObject) func() { return showAddDialog(title, content, w) }
	v.table.Select(widget.TableCellID{Row: 0, Col: 1})
	waitShown(t, loop, v, "11111111-aaaa")
	return v, w, loop
}

// dialogParts finds the add dialog's entry and buttons.
func dialogParts(t *testing.T, w fyne.Window) (entry *widget.Entry, msg *widget.Label, buttons map[string]*widget.Button) {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	buttons = map[string]*widget.Button{}
	for _, o := range test.LaidOutObjects(top) {
		switch o := o.(type) {
		case *formEntry:
			entry = &o.Entry
		case *widget.Button:
			buttons[o.Text] = o
		case *widget.Label:
			if o.Importance == widget.DangerImportance {
				msg = o
			}
		}
	}
	if entry == nil || msg == nil || buttons["Save"] == nil {
		t.Fatalf("dialog without its entry, message or Save: %v", buttons)
	}
	return entry, msg, buttons
}

// The dialog names the report by the reference My tickets shows, never
// as a "ticket".
func TestAddDialogTitle(t *testing.T) {
	v, w, _ := newTestMyTickets(t, resolvedQueue())
	if !strings.HasPrefix(v.title.Text, "Reference 11111111") {
		t.Fatalf("My tickets title %q", v.title.Text)
	}
	test.Tap(v.addText)
	dialogParts(t, w)
	var labels []string
	for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
		if l, ok := o.(*widget.Label); ok && l.Text != "" {
			labels = append(labels, l.Text)
		}
	}
	if !slices.Contains(labels, "Add to your report (reference 11111111)") {
		t.Errorf("dialog labels %q, want the title with the reference", labels)
	}
	for _, l := range labels {
		if strings.Contains(strings.ToLower(l), "ticket") {
			t.Errorf("dialog says %q: My tickets calls it a report with a reference", l)
		}
	}
}

func TestMyTicketsAddComment(t *testing.T) {
	q := resolvedQueue()
	v, w, loop := newTestMyTickets(t, q)
	test.Tap(v.addText)
	entry, _, buttons := dialogParts(t, w)
	test.Type(entry, "It jammed again this morning.")
	test.Tap(buttons["Save"])
	loop.waitFor(t, "the saved addition", func() bool { return v.status.Text == addedMsg })
	if w.Canvas().Overlays().Top() != nil {
		t.Error("the dialog is still shown after Save")
	}
	_, actions := q.calls()
	if want := `comment 11111111-aaaa "It jammed again this morning." files=[] by alice`; !slices.Contains(actions, want) {
		t.Errorf("actions %q, want %s", actions, want)
	}
	// The view reloaded: the addition is in the conversation.
	loop.waitFor(t, "the addition in the conversation", func() bool {
		return strings.Contains(v.convText.String(), "It jammed again this morning.")
	})
	got := v.convText.String()
	for _, want := range []string{"You added · " + t0.Format("2006-01-02") + " 09:41", "ServiceNow: waiting · Jira: waiting"} {
		if !strings.Contains(got, want) {
			t.Errorf("conversation lacks %q:\n%s", want, got)
		}
	}
}

func TestMyTicketsAddErrorsInline(t *testing.T) {
	q := resolvedQueue()
	v, w, loop := newTestMyTickets(t, q)
	test.Tap(v.addText)
	entry, msg, buttons := dialogParts(t, w)

	test.Tap(buttons["Save"])
	if msg.Text != "Write a comment or attach a file first." {
		t.Errorf("empty Save says %q", msg.Text)
	}
	if _, actions := q.calls(); len(actions) != 0 {
		t.Errorf("empty Save called %q", actions)
	}

	q.failing = errors.New("queue: sqlite: database is locked (5)")
	test.Type(entry, "Still broken.")
	test.Tap(buttons["Save"])
	loop.waitFor(t, "the failure", func() bool { return msg.Text != "" })
	if want := "Could not save your addition. Please try again; if it keeps failing, ask your help desk."; msg.Text != want {
		t.Errorf("failure says %q, want %q", msg.Text, want)
	}
	if w.Canvas().Overlays().Top() == nil {
		t.Error("the dialog closed on a failure; the text would be lost")
	}
	if v.status.Text == addedMsg {
		t.Error("status says added after a failure")
	}

	q.failing = errors.New("this ticket is not going to any help desk (no connection was configured when it was reported, or it failed everywhere), so nothing can be added to it")
	test.Tap(buttons["Save"])
	loop.waitFor(t, "the failure", func() bool { return strings.Contains(msg.Text, "any help desk") })
}

func TestMyTicketsAttachFile(t *testing.T) {
	q := resolvedQueue()
	v, w, loop := newTestMyTickets(t, q)
	var picked int
	v.pickFile = func(got func(string)) { picked++; got("/home/alice/jam.jpg") }
	v.readFile = func(path string) (connectors.Attachment, error) {
		if path != "/home/alice/jam.jpg" {
			t.Errorf("read %s", path)
		}
		return connectors.Attachment{Filename: "jam.jpg", ContentType: "image/jpeg", SizeBytes: 2048, Data: make([]byte, 2048)}, nil
	}
	test.Tap(v.addFile)
	if picked != 1 {
		t.Fatalf("Attach a file asked for %d files, want 1", picked)
	}
	_, _, buttons := dialogParts(t, w)
	loop.waitFor(t, "the file listed", func() bool {
		for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
			if l, ok := o.(*widget.Label); ok && l.Text == "jam.jpg (2.0 KiB)" {
				return true
			}
		}
		return false
	})
	test.Tap(buttons["Save"])
	loop.waitFor(t, "the saved addition", func() bool { return v.status.Text == addedMsg })
	_, actions := q.calls()
	if want := `comment 11111111-aaaa "" files=[jam.jpg] by alice`; !slices.Contains(actions, want) {
		t.Errorf("actions %q, want %s", actions, want)
	}
	loop.waitFor(t, "the file in the conversation", func() bool { return strings.Contains(v.convText.String(), "Attached jam.jpg") })
}

// Each help desk's state of an addition is in plain words.
func TestAdditionLines(t *testing.T) {
	var a additionJSON
	a.CreatedAt, a.Text, a.Attachments = t0, "Photo of the jam.", []string{"jam.jpg (image/jpeg, 2048 bytes)"}
	for _, d := range [][2]string{{"ServiceNow", queue.StateDelivered}, {"Jira", queue.StateDead}, {"Zendesk", queue.StateRetry}} {
		a.Deliveries = append(a.Deliveries, struct {
			Connection string `json:"connection"`
			State      string `json:"state"`
		}{d[0], d[1]})
	}
	var got []string
	for _, l := range additionLines([]additionJSON{a}) {
		got = append(got, l.Text)
	}
	want := []string{"You added · " + t0.Format("2006-01-02") + " 09:30", "Photo of the jam.", "Attached jam.jpg",
		"ServiceNow: sent · Jira: could not be sent · Zendesk: waiting"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines\n%q\nwant\n%q", got, want)
	}
}

// TestAddCommentImages pins the add dialog and a conversation with an
// addition. To accept a deliberate change, copy testdata/failed/*.png
// over testdata/.
func TestAddCommentImages(t *testing.T) {
	q := resolvedQueue()
	v, w, loop := newTestMyTickets(t, q)
	w.Resize(fyne.NewSize(1180, 760))
	v.pickFile = func(got func(string)) { got("/home/alice/jam.jpg") }
	v.readFile = func(string) (connectors.Attachment, error) {
		return connectors.Attachment{Filename: "jam.jpg", ContentType: "image/jpeg", SizeBytes: 183 << 10}, nil
	}
	test.Tap(v.addText)
	entry, _, buttons := dialogParts(t, w)
	test.Type(entry, "It jammed again this morning, on the second page.\nA photo of the display is attached.")
	test.Tap(buttons["Attach file…"])
	loop.waitFor(t, "the file listed", func() bool { return v.bg.pending == 0 })
	w.Canvas().Overlays().Top().Refresh()
	pinImage(t, "add_comment_dialog.png", w.Canvas().Capture())

	test.Tap(buttons["Save"])
	loop.waitFor(t, "the addition in the conversation", func() bool {
		return strings.Contains(v.convText.String(), "A photo of the display") && v.bg.pending == 0
	})
	w.Resize(fyne.NewSize(1180, 1040)) // room for the addition, last in the conversation
	v.content.Refresh()
	test.AssertImageMatches(t, "my_tickets_addition.png", w.Canvas().Capture())
}

// The add dialog takes the report window's keys: Ctrl+Enter saves, Esc
// cancels, from the comment field.
func TestMyTicketsAddKeys(t *testing.T) {
	for _, key := range []string{"Ctrl+Enter", "Esc"} {
		t.Run(key, func(t *testing.T) {
			q := resolvedQueue()
			v, w, loop := newTestMyTickets(t, q)
			test.Tap(v.addText)
			var field *formEntry
			for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
				if e, ok := o.(*formEntry); ok {
					field = e
				}
			}
			if field == nil {
				t.Fatal("no comment field in the dialog")
			}
			test.Type(field, "It jammed again.")
			if key == "Esc" {
				field.TypedKey(escape)
			} else {
				field.TypedShortcut(ctrlEnter)
				loop.waitFor(t, "the saved addition", func() bool { return v.status.Text == addedMsg })
			}
			if w.Canvas().Overlays().Top() != nil {
				t.Errorf("dialog still shown after %s", key)
			}
			_, actions := q.calls()
			if saved := len(actions) == 1; saved != (key == "Ctrl+Enter") {
				t.Errorf("after %s: actions %q", key, actions)
			}
		})
	}
}
