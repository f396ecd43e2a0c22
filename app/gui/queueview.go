package gui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// queueBackend is what the queue viewer needs of the app core. Each
// method is a CLI command's twin.
type queueBackend interface {
	// List is `queue list --state S`.
	List(ctx context.Context, state string) ([]app.Entry, error)
	// DescribeTicket is `queue show ID`.
	DescribeTicket(ctx context.Context, id string) (string, error)
	// WriteTicketJSON is `queue show ID --json`.
	WriteTicketJSON(ctx context.Context, w io.Writer, id string) error
	// Retry is `queue retry ID`.
	Retry(ctx context.Context, id string) (int, error)
	// RetryAllDead is `queue retry --all-dead`.
	RetryAllDead(ctx context.Context) (int, error)
	// Delete is `queue delete ID --yes`.
	Delete(ctx context.Context, id string) error
	// Comment is `queue comment ID --text T [--attach FILE]`.
	Comment(ctx context.Context, id, text string, files []connectors.Attachment, author connectors.User) (app.AdditionReceipt, error)
}

// serviceQueue is the queue backend over the app's service.
type serviceQueue struct{ *app.Service }

func (s serviceQueue) Retry(ctx context.Context, id string) (int, error) {
	return s.Store.Retry(ctx, id)
}
func (s serviceQueue) RetryAllDead(ctx context.Context) (int, error) {
	return s.Store.RetryAllDead(ctx)
}
func (s serviceQueue) Delete(ctx context.Context, id string) error { return s.Store.Delete(ctx, id) }

// queueView is the help desk queue viewer, and, with a user set, "My
// tickets". Reads and actions run off the UI thread; results come back
// through fyne.Do.
type queueView struct {
	b    queueBackend
	user *connectors.User // set: only this requester's tickets
	mine bool             // My tickets: the requester's words, no staff actions
	now  func() time.Time

	content    fyne.CanvasObject
	filter     *widget.Select
	refreshBtn *widget.Button
	retryAll   *widget.Button
	count      *widget.Label
	table      *widget.Table
	status     *widget.Label

	title      *widget.Label
	retry      *widget.Button
	del        *widget.Button
	export     *widget.Button
	addText    *widget.Button // My tickets: "Add a comment"
	addFile    *widget.Button // My tickets: "Attach a file"
	links      *fyne.Container
	ticketText *widget.Label
	sysText    *widget.Label
	skillText  *widget.Label
	convText   *widget.RichText // My tickets: the help desk's side
	delivText  *widget.RichText // help desk: every connection in full, errors unclipped
	tabs       *container.AppTabs
	// My tickets with nothing in it: a line and a Report button.
	empty    *fyne.Container
	split    *container.Split
	onReport func() // opens the report window

	entries  []app.Entry
	conns    []string
	selected string // ticket id shown in the details pane
	selCell  widget.TableCellID
	hasSel   bool
	loaded   bool // the first list has arrived
	loadGen  int
	showGen  int
	bg       bg

	// Dialogs in the app, fakes in tests.
	confirm   func(title, msg string, answer func(bool))
	pickSave  func(name string, got func(io.WriteCloser))
	onChanged func() // after a retry or delete: wake the courier, refresh the tray
	showAdd   func(title string, content fyne.CanvasObject) (hide func())
	pickFile  func(got func(path string))
	readFile  func(path string) (connectors.Attachment, error)
}

func newQueueView(b queueBackend, user *connectors.User) *queueView {
	v := &queueView{b: b, user: user, mine: user != nil, now: time.Now, readFile: app.ReadAttachment}
	v.filter = widget.NewSelect(filterLabels(), func(string) { v.reload() })
	v.refreshBtn = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.reload)
	v.retryAll = widget.NewButtonWithIcon("Retry all dead", theme.MediaReplayIcon(), v.doRetryAll)
	v.count = widget.NewLabel("Loading…")
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord

	v.table = widget.NewTable(v.size, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}, func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Row >= len(v.entries) {
			return
		}
		if v.mine {
			l.SetText(myCell(v.entries[id.Row], id.Col))
		} else {
			l.SetText(cell(v.entries[id.Row], id.Col, v.conns, v.now()))
		}
	})
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(v.header(id.Col))
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		v.selCell, v.hasSel = id, true
		if id.Row < len(v.entries) {
			v.showDetails(v.entries[id.Row])
		}
		if !v.mine && id.Col >= len(fixedColumns) {
			v.tabs.SelectIndex(0) // a connection's cell: its delivery in full
		}
	}
	v.setWidths()

	v.title = widget.NewLabelWithStyle("Select a ticket to see its details.", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.retry = widget.NewButtonWithIcon("Retry now", theme.MediaReplayIcon(), v.doRetry)
	if v.mine {
		v.retry.SetText("Try again now")
	}
	v.del = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), v.doDelete)
	v.del.Importance = widget.DangerImportance
	v.export = widget.NewButtonWithIcon("Export JSON…", theme.DocumentSaveIcon(), v.doExport)
	v.addText = widget.NewButtonWithIcon("Add a comment", theme.ContentAddIcon(), func() { v.doAdd(false) })
	v.addFile = widget.NewButtonWithIcon("Attach a file", theme.MailAttachmentIcon(), func() { v.doAdd(true) })
	v.links = container.NewHBox()
	mono := func() *widget.Label {
		l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		l.Selectable = true
		return l
	}
	v.ticketText, v.sysText, v.skillText = mono(), mono(), mono()
	v.tabs = container.NewAppTabs(
		container.NewTabItem("Ticket and deliveries", container.NewScroll(v.ticketText)),
		container.NewTabItem("System information", container.NewScroll(v.sysText)),
		container.NewTabItem("Skill output", container.NewScroll(v.skillText)),
	)
	if !v.mine {
		// Each connection in full: the table's cells clip long errors.
		v.delivText = widget.NewRichText()
		v.delivText.Wrapping = fyne.TextWrapWord
		v.tabs.Items = append([]*container.TabItem{container.NewTabItem("Deliveries", container.NewVScroll(v.delivText))}, v.tabs.Items...)
		v.tabs.SelectIndex(0)
	}
	if v.mine {
		// The requester's first question: where does it stand, what did
		// the help desk say. "Your report" is theirs in plain words; the
		// key and the vendors' errors stay in the help desk's queue.
		v.convText = widget.NewRichText()
		v.convText.Wrapping = fyne.TextWrapWord
		v.ticketText.TextStyle = fyne.TextStyle{}
		v.ticketText.Wrapping = fyne.TextWrapWord
		v.tabs.Items[0].Text = "Your report"
		v.tabs.Items = append([]*container.TabItem{container.NewTabItem("Conversation", container.NewVScroll(v.convText))}, v.tabs.Items...)
		v.tabs.SelectIndex(0)
	}
	v.setActions(false)

	toolbar := container.NewHBox(widget.NewLabel("Show"), v.filter, v.refreshBtn, v.retryAll, v.count)
	actions := container.NewHBox(v.retry, v.del, v.export)
	if v.mine {
		// Deleting and exporting are staff work (the help desk queue);
		// a requester's view retries only their own.
		toolbar = container.NewHBox(v.refreshBtn, v.count)
		actions = container.NewHBox(v.addText, v.addFile, v.retry)
	}
	details := container.NewBorder(
		container.NewVBox(container.NewBorder(nil, nil, nil, actions, v.title), v.links),
		nil, nil, nil, v.tabs)
	split := container.NewVSplit(v.table, details)
	split.Offset = 0.45
	v.split = split
	body := fyne.CanvasObject(split)
	if v.mine {
		body = container.NewStack(split, v.emptyState())
	}
	v.content = container.NewBorder(toolbar, v.status, nil, nil, body)
	v.filter.SetSelected("All") // starts the first load
	return v
}

// emptyState is My tickets before the first report: a line and a button
// to the report window, in place of the list (see apply).
func (v *queueView) emptyState() fyne.CanvasObject {
	report := widget.NewButtonWithIcon("Report an issue…", theme.DocumentCreateIcon(), func() {
		if v.onReport != nil {
			v.onReport()
		}
	})
	report.Importance = widget.HighImportance
	line := widget.NewLabelWithStyle("You have not reported anything yet.", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	hint := widget.NewLabelWithStyle("When something on this computer does not work, tell the help desk here.", fyne.TextAlignCenter, fyne.TextStyle{})
	v.empty = container.NewCenter(container.NewVBox(line, hint, container.NewCenter(report)))
	v.empty.Hide()
	return v.empty
}

func (v *queueView) size() (rows, cols int) {
	if v.mine {
		return len(v.entries), len(myColumns)
	}
	return len(v.entries), len(fixedColumns) + max(1, len(v.conns))
}

func (v *queueView) header(col int) string {
	if v.mine {
		if col < len(myColumns) {
			return myColumns[col]
		}
		return ""
	}
	if col < len(fixedColumns) {
		return fixedColumns[col]
	}
	if i := col - len(fixedColumns); i < len(v.conns) {
		return v.conns[i]
	}
	return "Deliveries"
}

func (v *queueView) setWidths() {
	if v.mine {
		for i, w := range []float32{140, 330, 640} {
			v.table.SetColumnWidth(i, w)
		}
		return
	}
	for i, w := range []float32{140, 230, 150, 70} {
		v.table.SetColumnWidth(i, w)
	}
	connWidth := float32(220)
	if v.user != nil {
		connWidth = 380 // the help desk's state, assignee and last update
	}
	for i := 0; i < max(1, len(v.conns)); i++ {
		v.table.SetColumnWidth(len(fixedColumns)+i, connWidth)
	}
}

// reload lists the tickets again with the current filter, keeping the
// selected ticket selected when it is still listed.
func (v *queueView) reload() {
	v.loadGen++
	gen, state := v.loadGen, filterState(v.filter.Selected)
	v.refreshBtn.Disable()
	v.bg.run(func() func() {
		entries, err := v.b.List(context.Background(), state)
		if err == nil && v.user != nil {
			entries = mine(entries, *v.user)
		}
		return func() {
			if gen != v.loadGen {
				return // a newer load is on its way
			}
			v.refreshBtn.Enable()
			if err != nil {
				if v.mine {
					v.setStatus("Your tickets cannot be read right now. " + app.UserMessage(err))
				} else {
					v.setStatus("Cannot read the queue: " + err.Error())
				}
				return
			}
			v.apply(entries)
		}
	})
}

func (v *queueView) apply(entries []app.Entry) {
	v.entries, v.conns = entries, connectionColumns(entries)
	if v.mine {
		v.count.SetText(myCountLine(entries))
		if len(entries) == 0 {
			v.split.Hide()
			v.empty.Show()
		} else {
			v.empty.Hide()
			v.split.Show()
		}
	} else {
		v.count.SetText(countLine(entries))
	}
	v.setWidths()
	v.table.Refresh()
	first := !v.loaded
	v.loaded = true
	idx := -1
	for i, e := range entries {
		if e.ID == v.selected {
			idx = i
		}
	}
	if first && idx < 0 && len(entries) > 0 {
		idx = len(entries) - 1 // the newest
	}
	switch {
	case idx < 0:
		v.table.UnselectAll()
		v.hasSel = false
		v.clearDetails()
	case v.hasSel && v.selCell.Row == idx:
		v.showDetails(entries[idx]) // same row: Select would not call back
	default:
		v.table.Select(widget.TableCellID{Row: idx, Col: v.selCell.Col})
	}
}

func (v *queueView) setActions(on bool) {
	for _, b := range []*widget.Button{v.retry, v.del, v.export, v.addText, v.addFile} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

func (v *queueView) clearDetails() {
	v.selected = ""
	v.showGen++
	v.title.SetText("Select a ticket to see its details.")
	v.links.RemoveAll()
	v.ticketText.SetText("")
	v.sysText.SetText("")
	v.skillText.SetText("")
	v.setConversation(nil)
	v.setDeliveries(app.Entry{})
	v.setActions(false)
}

// setDeliveries fills the help desk's Deliveries tab: a bold line per
// delivery with its state, and its whole last error beneath (selectable
// through the ticket tab's text; here it wraps).
func (v *queueView) setDeliveries(e app.Entry) {
	if v.delivText == nil {
		return
	}
	var segs []widget.RichTextSegment
	for _, d := range e.Deliveries {
		head, errText := deliveryDetail(e, d, v.now())
		segs = append(segs, &widget.TextSegment{Text: head, Style: widget.RichTextStyle{TextStyle: fyne.TextStyle{Bold: true}}})
		if errText != "" {
			style := widget.RichTextStyleParagraph
			if d.State == queue.StateDead {
				style.ColorName = theme.ColorNameError
			}
			segs = append(segs, &widget.TextSegment{Text: "last error: " + errText, Style: style})
		}
	}
	if len(e.Deliveries) == 0 && e.ID != "" {
		segs = append(segs, &widget.TextSegment{Text: "No deliveries: no connection was configured when it was queued.", Style: widget.RichTextStyleParagraph})
	}
	v.delivText.Segments = segs
	v.delivText.Refresh()
}

// showDetails fills the details pane: the ticket as `queue show` prints
// it (with the delivery history), the system information exactly as it is
// sent, and the skills' output.
func (v *queueView) showDetails(e app.Entry) {
	v.selected = e.ID
	v.showGen++
	gen := v.showGen
	v.setActions(true)
	if v.mine && !slices.ContainsFunc(creates(e), func(d queue.Delivery) bool { return d.State != queue.StateDelivered }) {
		v.retry.Disable() // everything is sent: nothing to try again
	}
	title := "Ticket " + shortID(e.ID)
	if v.mine {
		title = "Reference " + shortID(e.ID)
	}
	if e.Ticket != nil {
		title += " — " + clip(e.Ticket.Summary, 80)
	}
	v.title.SetText(title)
	v.links.RemoveAll()
	for _, d := range e.Deliveries {
		if d.State != queue.StateDelivered || (d.Action != "" && d.Action != queue.ActionCreate) {
			continue // one link per ticket, not per comment added to it
		}
		if u, err := url.Parse(d.RemoteURL); err == nil && d.RemoteURL != "" {
			v.links.Add(widget.NewHyperlink(d.RemoteNumber+" in "+d.Connection, u))
		} else {
			v.links.Add(widget.NewLabel(d.RemoteNumber + " in " + d.Connection))
		}
	}
	v.sysText.SetText(systemInfoText(e))
	v.skillText.SetText(skillText(e))
	v.setConversation(conversation(e))
	v.setDeliveries(e)
	if v.mine {
		v.ticketText.SetText(myTicketText(e))
	} else {
		v.ticketText.SetText("Loading…")
	}
	v.bg.run(func() func() {
		var text string
		var adds []additionJSON
		if v.mine {
			adds, _ = readAdditions(context.Background(), v.b, e.ID) // none shown when unreadable
		} else if t, err := v.b.DescribeTicket(context.Background(), e.ID); err != nil {
			text = "Cannot read the ticket: " + err.Error()
		} else {
			text = t
		}
		return func() {
			if gen == v.showGen {
				if !v.mine {
					v.ticketText.SetText(text)
				}
				if len(adds) > 0 {
					v.setConversation(append(conversation(e), additionLines(adds)...))
				}
			}
		}
	})
}

// setConversation shows the help desk's side in My tickets: headings (the
// ticket's state, each comment's author and time) in bold.
func (v *queueView) setConversation(lines []convLine) {
	if v.convText == nil {
		return
	}
	var segs []widget.RichTextSegment
	for i, l := range lines {
		if l.Start && i > 0 {
			segs = append(segs, &widget.SeparatorSegment{})
		}
		style := widget.RichTextStyleParagraph
		if l.Heading {
			style.TextStyle = fyne.TextStyle{Bold: true}
		}
		segs = append(segs, &widget.TextSegment{Text: l.Text, Style: style})
	}
	v.convText.Segments = segs
	v.convText.Refresh()
}

func systemInfoText(e app.Entry) string {
	if e.Ticket == nil || e.Ticket.SystemInfo == nil {
		return "No system information is attached to this ticket."
	}
	b, err := json.MarshalIndent(e.Ticket.SystemInfo, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func skillText(e app.Entry) string {
	if e.Ticket == nil || len(e.Ticket.SkillResults) == 0 {
		return "No troubleshooting skills ran for this ticket."
	}
	var b strings.Builder
	app.WriteSkillResults(&b, e.Ticket.SkillResults)
	return b.String()
}

func (v *queueView) setStatus(s string) { v.status.SetText(s) }

// failed is an action's error: the raw text for staff, a sentence for
// the requester.
func (v *queueView) failed(err error) string {
	if v.mine {
		return "That did not work. " + app.UserMessage(err)
	}
	return "Failed: " + err.Error()
}

// act runs a queue action off the UI thread, then reports and reloads.
func (v *queueView) act(run func(context.Context) (string, error)) {
	v.setActions(false)
	v.retryAll.Disable()
	v.bg.run(func() func() {
		msg, err := run(context.Background())
		return func() {
			v.retryAll.Enable()
			if err != nil {
				v.setStatus(v.failed(err))
				v.setActions(v.selected != "")
				return
			}
			v.setStatus(msg)
			if v.onChanged != nil {
				v.onChanged()
			}
			v.reload()
		}
	})
}

func rescheduled(n int) string {
	if n == 1 {
		return "1 delivery rescheduled: it is sent as soon as the connection answers."
	}
	return fmt.Sprintf("%d deliveries rescheduled: they are sent as soon as their connections answer.", n)
}

func (v *queueView) doRetry() {
	id := v.selected
	if id == "" {
		return
	}
	v.act(func(ctx context.Context) (string, error) {
		n, err := v.b.Retry(ctx, id)
		return rescheduled(n), err
	})
}

func (v *queueView) doRetryAll() {
	v.act(func(ctx context.Context) (string, error) {
		n, err := v.b.RetryAllDead(ctx)
		return rescheduled(n), err
	})
}

// doDelete asks first: deleting removes the ticket for good, sent or not.
func (v *queueView) doDelete() {
	id := v.selected
	if id == "" || v.confirm == nil {
		return
	}
	v.confirm("Delete ticket "+shortID(id)+"?",
		"The ticket is removed from this computer for good, whether or not it was sent.\nTickets already delivered stay in the help desk's system.",
		func(ok bool) {
			if !ok {
				return
			}
			v.act(func(ctx context.Context) (string, error) {
				return "Ticket " + shortID(id) + " deleted.", v.b.Delete(ctx, id)
			})
		})
}

// doExport asks where to save the selected ticket as JSON.
func (v *queueView) doExport() {
	id := v.selected
	if id == "" || v.pickSave == nil {
		return
	}
	v.pickSave("ticket-"+shortID(id)+".json", func(w io.WriteCloser) {
		v.bg.run(func() func() {
			err := v.b.WriteTicketJSON(context.Background(), w, id)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			return func() {
				if err != nil {
					v.setStatus("Export failed: " + err.Error())
					return
				}
				v.setStatus("Ticket " + shortID(id) + " exported (the same JSON as 'ticketray queue show " + shortID(id) + " --json').")
			}
		})
	})
}
