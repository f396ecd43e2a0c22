package gui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
)

// settingsBackend is what the settings window needs of the app core.
type settingsBackend interface {
	// Connections is `connections list`.
	Connections(ctx context.Context) ([]app.ConnectionStatus, error)
	// TestConnection is `connections test NAME`.
	TestConnection(ctx context.Context, conn connectors.Connection) app.ConnectionTest
	// SaveMapping writes a mapping table to the user's config file, as
	// `config mapping --set` does (app.Service.SaveMapping).
	SaveMapping(conn, kind string, table map[string]string) error
	// Login is `connections login NAME`: an oauth2_user connection's
	// browser sign-in, the URL printed to o.Out.
	Login(ctx context.Context, name string, o app.LoginOptions) (*connectors.Grant, error)
	// Logout is `connections logout NAME`.
	Logout(name string) error
	// The connection form's add, update and test (connections add|update
	// [--test]).
	connEditor
	// ConnectionSetup reads the configured connections with their locks
	// (nil, nil: keep the ones the window was opened with).
	ConnectionSetup() (*app.ConnectionSetup, error)
	// PendingDeliveries and RemoveConnection are `connections remove`.
	PendingDeliveries(ctx context.Context, name string) (int, error)
	RemoveConnection(ctx context.Context, name string, o app.RemoveOptions) (*app.ConnectionRemoved, error)
}

// connRow is one connection's line in the settings window.
type connRow struct {
	conn  connectors.Connection
	light *canvas.Circle
	state *widget.Label
	// problem is why the connection does not deliver and how many of its
	// tickets died, on lines of its own so none of it is cut off (hidden
	// when nothing is wrong).
	problem *widget.Label
	test    *widget.Button
	edit    *widget.Button
	remove  *widget.Button
	lock    *widget.Icon
	lockWhy *widget.Label // why Edit and Remove are disabled (IT's lock)
	signin  *signInLine   // oauth2_user connections only
}

// settingsView is the settings window: the connections with their health
// and a Test button, and the mapping tables, each with a Save that writes
// it to the user's config file (none for tables IT locks).
type settingsView struct {
	b     settingsBackend
	conns []connectors.Connection
	locks lockInfo

	content  fyne.CanvasObject
	rows     []*connRow
	bg       bg
	connBox  *fyne.Container
	listErr  *widget.Label
	refresh  *widget.Button
	add      *widget.Button
	addWhy   *widget.Label // why Add is disabled (IT's lock)
	notice   *widget.Label // what the last add, edit or remove did
	form     *connForm     // the open connection form, if any
	connTab  *fyne.Container
	removing *removeDialog // the open removal question, if any
	// setup is the config's connections with their locks, as last read
	// (nil until read); it says why a locked one is locked.
	setup    *app.ConnectionSetup
	showTest func(title, report string) // a dialog in the app
	// showSignIn shows a sign-in's progress in a dialog whose Cancel
	// calls cancel, and returns what hides it.
	showSignIn func(conn string, content fyne.CanvasObject, cancel func()) (hide func())

	connSelect *widget.Select
	tables     map[string]map[string]*mappingTable // connection → kind → table
	mapBox     *fyne.Container
	mapErr     *widget.Label
	saves      map[string]*tableSave // by mappingKey
}

// tableSave is a table's Save button and the outcome under it. They
// outlive the editor, which is rebuilt on every structural edit.
type tableSave struct {
	button *widget.Button
	status *widget.Label
	edits  int // edits so far; a save that began before the last one leaves the table unsaved
	saving bool
}

func newSettingsView(b settingsBackend, conns []connectors.Connection, locks lockInfo) *settingsView {
	if locks == nil {
		locks = noLocks{}
	}
	v := &settingsView{b: b, conns: conns, locks: locks, tables: map[string]map[string]*mappingTable{}, saves: map[string]*tableSave{}}
	v.listErr = widget.NewLabel("")
	v.listErr.Wrapping = fyne.TextWrapWord
	v.listErr.Hide()
	v.refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.reload)
	v.add = widget.NewButtonWithIcon("Add connection", theme.ContentAddIcon(), func() { v.openForm(nil) })
	v.addWhy = widget.NewLabel("")
	v.addWhy.Wrapping = fyne.TextWrapWord
	v.addWhy.Hide()
	v.notice = widget.NewLabel("")
	v.notice.Wrapping = fyne.TextWrapWord
	v.notice.Importance = widget.SuccessImportance
	v.notice.Hide()
	v.connBox = container.NewVBox()
	v.mapBox = container.NewVBox()
	v.mapErr = widget.NewLabel("")
	v.mapErr.Importance = widget.DangerImportance
	v.mapErr.Wrapping = fyne.TextWrapWord
	v.mapErr.Hide()
	v.connSelect = widget.NewSelect(nil, func(string) { v.showMappings() })
	v.setConnections(conns)
	v.connTab = container.NewBorder(
		container.NewVBox(container.NewHBox(widget.NewLabelWithStyle("Where tickets are sent", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), layoutSpacer(), v.add, v.refresh), v.addWhy, v.notice, v.listErr),
		nil, nil, nil, container.NewVScroll(v.connBox))
	mapTab := container.NewBorder(
		container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Connection"), nil, v.connSelect), v.mapErr),
		nil, nil, nil, container.NewVScroll(v.mapBox))

	v.content = container.NewAppTabs(
		container.NewTabItemWithIcon("Connections", theme.ComputerIcon(), v.connTab),
		container.NewTabItemWithIcon("Mappings", theme.ListIcon(), mapTab),
	)
	v.reload()
	return v
}

// setConnections shows conns: a row each, and their mapping tables (a
// table being edited is kept while its connection stays).
func (v *settingsView) setConnections(conns []connectors.Connection) {
	v.conns = conns
	v.rows = nil
	v.connBox.RemoveAll()
	for _, c := range conns {
		v.rows = append(v.rows, v.newConnRow(c))
	}
	if len(conns) == 0 {
		v.connBox.Add(widget.NewLabel("No connection is configured yet: Add one, or ask IT to push one."))
	}
	names := make([]string, len(conns))
	tables := map[string]map[string]*mappingTable{}
	for i, c := range conns {
		names[i] = c.Name
		if t, ok := v.tables[c.Name]; ok {
			tables[c.Name] = t
			continue
		}
		tables[c.Name] = map[string]*mappingTable{}
		for _, k := range mappingKinds {
			tables[c.Name][k] = newMappingTable(k, c)
		}
	}
	v.tables = tables
	v.connSelect.Options = names
	v.applyLocks()
	switch {
	case len(conns) == 0:
		v.connSelect.ClearSelected()
		v.connSelect.Disable()
		v.mapBox.RemoveAll()
		v.mapBox.Add(widget.NewLabel("No connection is configured, so there is nothing to map."))
	case !slices.Contains(names, v.connSelect.Selected):
		v.connSelect.Enable()
		v.connSelect.SetSelected(names[0])
	default:
		v.connSelect.Enable()
		v.connSelect.Refresh()
	}
	v.connBox.Refresh()
}

// connLock says why connection name cannot be changed here ("" when it
// can): the lock as the config reports it, else IT's lock as the window
// was given it.
func (v *settingsView) connLock(name string) string {
	if v.setup != nil {
		for _, c := range v.setup.Connections {
			if c.Connection.Name == name && c.Lock != nil {
				return "Set by IT: " + c.Lock.Error()
			}
		}
	}
	if isLocked(v.locks, "connections."+name) {
		return "Set by IT: it cannot be changed or removed here."
	}
	return ""
}

// applyLocks disables Add, Edit and Remove where IT's lock forbids them,
// and says why.
func (v *settingsView) applyLocks() {
	addWhy := ""
	if v.setup != nil && v.setup.AddLock != nil {
		addWhy = "Connections are set by IT: " + v.setup.AddLock.Error()
	} else if v.locks != nil && v.locks.Locked("connections") {
		addWhy = "Connections are set by IT: none can be added here."
	}
	if addWhy != "" {
		v.add.Disable()
		v.addWhy.SetText(addWhy)
		v.addWhy.Show()
	} else {
		v.add.Enable()
		v.addWhy.Hide()
	}
	for _, r := range v.rows {
		if why := v.connLock(r.conn.Name); why != "" {
			r.edit.Disable()
			r.remove.Disable()
			r.lock.Show()
			r.lockWhy.SetText(why)
			r.lockWhy.Show()
		} else {
			r.edit.Enable()
			r.remove.Enable()
			r.lock.Hide()
			r.lockWhy.Hide()
		}
	}
}

func (v *settingsView) newConnRow(c connectors.Connection) *connRow {
	r := &connRow{conn: c, light: canvas.NewCircle(lightGrey), state: widget.NewLabel("…")}
	r.state.Truncation = fyne.TextTruncateEllipsis
	r.problem = widget.NewLabel("")
	r.problem.Wrapping = fyne.TextWrapWord
	r.problem.Hide()
	r.test = widget.NewButton("Test", func() { v.test(r) })
	// Pencil and bin: the row has room for the words only in wide windows.
	r.edit = widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), func() { v.openForm(&r.conn) })
	r.remove = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { v.askRemove(r.conn.Name) })
	r.lock = widget.NewIcon(lockIcon)
	r.lockWhy = widget.NewLabel("")
	r.lockWhy.Wrapping = fyne.TextWrapWord
	r.lockWhy.Hide()
	light := container.NewCenter(container.NewGridWrap(fyne.NewSize(14, 14), r.light))
	name := widget.NewLabelWithStyle(connectionTitle(c.Name, c.Type), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// The name, light and Test stay on the first line; a problem wraps
	// under the state.
	lines := container.NewVBox(r.state)
	if c.Credentials.Type == "oauth2_user" {
		r.signin = v.newSignInLine(r)
		lines.Add(r.signin.content)
	}
	lines.Add(r.problem)
	lines.Add(r.lockWhy)
	v.connBox.Add(container.NewBorder(nil, nil, container.NewVBox(container.NewHBox(light, name, r.lock)), container.NewVBox(container.NewHBox(r.test, r.edit, r.remove)), lines))
	v.connBox.Add(widget.NewSeparator())
	return r
}

// reload reads the connections as configured and their health (off the
// UI thread); a connection added or removed since shows up or goes.
func (v *settingsView) reload() {
	v.refresh.Disable()
	v.bg.run(func() func() {
		setup, serr := v.b.ConnectionSetup()
		st, err := v.b.Connections(context.Background())
		return func() {
			v.refresh.Enable()
			if serr == nil && setup != nil {
				v.applySetup(setup)
			}
			if err == nil && serr != nil {
				err = fmt.Errorf("cannot read the config: %w", serr)
			}
			if err != nil {
				v.listErr.SetText("Cannot read the connections' health: " + err.Error())
				v.listErr.Show()
				return
			}
			v.listErr.Hide()
			v.applyHealth(st)
		}
	})
}

func (v *settingsView) applyHealth(st []app.ConnectionStatus) {
	byName := map[string]app.ConnectionStatus{}
	for _, s := range st {
		byName[s.Name] = s
	}
	for _, r := range v.rows {
		s, ok := byName[r.conn.Name]
		if !ok {
			s = app.ConnectionStatus{State: app.Unknown}
		}
		r.light.FillColor = healthLight(s.State)
		r.light.Refresh()
		r.state.SetText(healthLine(s, time.Now()))
		if r.signin != nil {
			r.signin.apply(s)
		}
		r.problem.Importance = widget.WarningImportance
		if delivery.Red(s.State) {
			r.problem.Importance = widget.DangerImportance
		}
		if p := problemLine(s); p != "" {
			r.problem.SetText(p)
			r.problem.Show()
		} else {
			r.problem.SetText("")
			r.problem.Hide()
		}
	}
	v.connBox.Refresh() // rows grow or shrink with their problem lines
}

// applySetup shows the configured connections, rebuilding the rows when
// the set changed.
func (v *settingsView) applySetup(setup *app.ConnectionSetup) {
	v.setup = setup
	conns := make([]connectors.Connection, len(setup.Connections))
	for i, c := range setup.Connections {
		conns[i] = c.Connection
	}
	same := len(conns) == len(v.conns)
	for i := 0; same && i < len(conns); i++ {
		same = conns[i].Name == v.conns[i].Name && conns[i].Type == v.conns[i].Type && conns[i].Credentials.Type == v.conns[i].Credentials.Type
	}
	if same {
		for i := range v.rows {
			v.rows[i].conn = conns[i] // edited: Test and Edit use the new entry
		}
		v.conns = conns
		v.applyLocks()
		return
	}
	v.setConnections(conns)
}

// healthLine is a connection's state, queue depth and last success, on
// one line.
func healthLine(s app.ConnectionStatus, now time.Time) string {
	parts := []string{healthWords(s.State), fmt.Sprintf("%d queued", s.QueueDepth)}
	if s.LastSuccess != nil {
		parts = append(parts, "last sent "+ago(now.Sub(*s.LastSuccess)))
	}
	if s.LastWebhookAt != nil { // as `connections list` shows them
		parts = append(parts, "last webhook "+ago(now.Sub(*s.LastWebhookAt)))
	}
	if s.WebhooksRejected > 0 {
		parts = append(parts, fmt.Sprintf("%d webhooks rejected", s.WebhooksRejected))
	}
	return strings.Join(parts, " · ")
}

// problemLine is why a connection does not deliver (the vendor's words, or
// the config's problem for a misconfigured one) and, when its tickets
// died, how many: app.ConnectionStatus.Problem, as `connections list`
// says it. "" when nothing is wrong.
func problemLine(s app.ConnectionStatus) string {
	// A healthy connection's error is news only if it came after the last
	// success (a vendor that answers but refuses, as with a bad password).
	recent := s.LastErrorAt != nil && (s.LastSuccess == nil || s.LastErrorAt.After(*s.LastSuccess))
	if s.State == delivery.Healthy && !recent {
		s.LastError = ""
	}
	s.LastError = clip(s.LastError, 300)
	p := s.Problem()
	switch {
	case p == "" || s.LastError == "":
		return p // nothing, or only the dead tickets
	case s.State == delivery.Misconfigured:
		return "Problem: " + p
	}
	return "Last error: " + p
}

// test runs the same checks as `connections test NAME` and shows the
// report as the CLI prints it.
func (v *settingsView) test(r *connRow) {
	r.test.Disable()
	r.test.SetText("Testing…")
	v.bg.run(func() func() {
		rep := v.b.TestConnection(context.Background(), r.conn)
		var b strings.Builder
		app.WriteConnectionTests(&b, rep)
		return func() {
			r.test.Enable()
			r.test.SetText("Test")
			verdict := "passed"
			if !rep.OK {
				verdict = "failed"
			}
			if v.showTest != nil {
				v.showTest("Connection test "+verdict+": "+r.conn.Name, b.String())
			}
			v.reload()
		}
	})
}

// showMappings builds the editors for the selected connection's tables.
func (v *settingsView) showMappings() {
	v.mapBox.RemoveAll()
	v.setMapErr(nil)
	name := v.connSelect.Selected
	tables, ok := v.tables[name]
	if !ok {
		return
	}
	for _, kind := range mappingKinds {
		v.mapBox.Add(v.tableEditor(name, kind, tables[kind]))
	}
}

func (v *settingsView) setMapErr(err error) {
	if err == nil {
		v.mapErr.SetText("")
		v.mapErr.Hide()
		return
	}
	v.mapErr.SetText(err.Error())
	v.mapErr.Show()
}

// tableEditor is one mapping table: a row per internal value with its
// vendor value, the locked default row last, and a row to add one. A
// table IT locked is shown read-only with a lock.
func (v *settingsView) tableEditor(conn, kind string, t *mappingTable) fyne.CanvasObject {
	locked := isLocked(v.locks, mappingKey(conn, kind))
	heading := container.NewHBox(widget.NewLabelWithStyle(strings.ToUpper(kind[:1])+kind[1:]+" mapping", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	if locked {
		heading.Add(widget.NewIcon(lockIcon))
		heading.Add(widget.NewLabel("Set by IT"))
	}
	left, right := "Ticketray "+kind, "Sent to "+conn+" as"
	if kind == "status" {
		left, right = "Status in "+conn, "Shown as"
	}
	box := container.NewVBox(heading, container.NewGridWithColumns(2, widget.NewLabel(left), widget.NewLabel(right)))
	rebuild := func() { v.showMappings() }
	edited := func() { v.edited(conn, kind) }
	for i, r := range t.rows {
		key := widget.NewEntry()
		key.SetText(r.Key)
		val := newValueInput(kind, r.Value)
		var end fyne.CanvasObject
		if t.isDefault(i) {
			key.Disable() // the default row cannot be renamed or removed
			val.setPlaceHolder("(the connection's own default)")
			lock := widget.NewButtonWithIcon("", lockIcon, nil) // a button's size keeps the columns aligned
			lock.Disable()
			end = lock
		} else {
			key.OnChanged = func(s string) {
				err := t.rename(i, s)
				v.setMapErr(err)
				if err == nil {
					edited()
				}
			}
			del := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
				err := t.remove(i)
				v.setMapErr(err)
				if err == nil {
					edited()
				}
				rebuild()
			})
			if locked {
				del.Disable()
			}
			end = del
		}
		val.onChanged(func(s string) {
			t.setValue(i, s)
			edited()
		})
		if locked {
			key.Disable()
			val.Disable()
		}
		box.Add(container.NewBorder(nil, nil, nil, end, container.NewGridWithColumns(2, key, val.object())))
	}
	if !locked {
		newKey, newVal := widget.NewEntry(), newValueInput(kind, "")
		newKey.SetPlaceHolder("new " + kind)
		newVal.setPlaceHolder("vendor value")
		if kind == "status" {
			newKey.SetPlaceHolder("vendor status")
			newVal.setPlaceHolder("state")
		}
		add := widget.NewButtonWithIcon("", theme.ContentAddIcon(), func() {
			if err := t.add(newKey.Text, newVal.text()); err != nil {
				v.setMapErr(err)
				return
			}
			edited()
			rebuild()
		})
		box.Add(container.NewBorder(nil, nil, nil, add, container.NewGridWithColumns(2, newKey, newVal.object())))
		s := v.saveFor(conn, kind, t)
		box.Add(container.NewBorder(nil, nil, s.button, nil, s.status))
	}
	if kind == "status" {
		box.Add(v.builtInRows(conn, t))
	}
	box.Add(widget.NewSeparator())
	return box
}

// saveFor returns the table's Save state, made on first use: Save stays
// disabled until the table is edited, so opening Settings and pressing
// Save cannot write a table the config did not have.
func (v *settingsView) saveFor(conn, kind string, t *mappingTable) *tableSave {
	key := mappingKey(conn, kind)
	if s, ok := v.saves[key]; ok {
		return s
	}
	s := &tableSave{status: widget.NewLabel("")}
	s.status.Wrapping = fyne.TextWrapWord
	s.button = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { v.save(conn, kind, t, s) })
	s.button.Disable()
	v.saves[key] = s
	return s
}

// edited notes an unsaved change to a table.
func (v *settingsView) edited(conn, kind string) {
	s := v.saveFor(conn, kind, v.tables[conn][kind])
	s.edits++
	if !s.saving {
		s.button.Enable()
	}
	s.setStatus("Not saved", widget.WarningImportance)
}

func (s *tableSave) setStatus(text string, imp widget.Importance) {
	s.status.Importance = imp
	s.status.SetText(text)
}

// save writes the table through the same core function as the CLI, off
// the UI thread, and shows the outcome under the button.
func (v *settingsView) save(conn, kind string, t *mappingTable, s *tableSave) {
	table, edits := t.table(), s.edits
	s.saving = true
	s.button.Disable()
	s.setStatus("Saving…", widget.MediumImportance)
	v.bg.run(func() func() {
		err := v.b.SaveMapping(conn, kind, table)
		return func() {
			s.saving = false
			switch {
			case err != nil:
				s.button.Enable()
				s.setStatus("Not saved: "+err.Error(), widget.DangerImportance)
			case s.edits != edits: // edited while saving
				s.button.Enable()
				s.setStatus("Not saved: changed while saving", widget.WarningImportance)
			default:
				s.setStatus("Saved", widget.SuccessImportance)
			}
		}
	})
}

// window is the window showing the settings, for its dialogs.
func (v *settingsView) window() fyne.Window {
	for _, w := range fyne.CurrentApp().Driver().AllWindows() {
		if w.Content() == v.content {
			return w
		}
	}
	return nil
}

// openForm shows the connection form (c nil: a new connection) in a
// dialog; a save closes it and shows the connections as saved.
func (v *settingsView) openForm(c *connectors.Connection) {
	w := v.window()
	if w == nil {
		return
	}
	f := newConnForm(v.b, c)
	title := "Add a connection"
	if c != nil {
		title = "Edit " + c.Name
	}
	d := dialog.NewCustomWithoutButtons(title, f.content, w)
	f.onCancel = d.Hide
	f.showReport = v.showTest
	if f.showReport == nil {
		f.showReport = func(title, report string) { showText(title, report, w) }
	}
	f.onSaved = func(name string) {
		d.Hide()
		v.setNotice(fmt.Sprintf("Saved %q in your config file; Ticketray uses it at once.", name))
		v.reload()
	}
	d.Resize(fyne.NewSize(620, 540))
	escCloses(w.Canvas(), d)
	d.Show()
	v.form = f
}

func (v *settingsView) setNotice(text string) {
	v.notice.SetText(text)
	v.notice.Show()
	v.connTab.Refresh() // the header grows by the line
}

// removeDialog asks to confirm a removal and, when deliveries wait for
// the connection, what becomes of them: nothing is dropped silently.
type removeDialog struct {
	name    string
	pending int
	choice  *widget.RadioGroup // nil when nothing waits
	reason  *widget.Entry
	status  *widget.Label
	remove  *widget.Button
	hide    func()
}

const (
	keepChoice = "Keep them waiting: they are sent if a connection of this name is configured again"
	deadChoice = "Mark them dead: the help desk sees them as not sent, with this reason"
)

// askRemove counts the connection's waiting deliveries, then asks.
func (v *settingsView) askRemove(name string) {
	w := v.window()
	v.bg.run(func() func() {
		n, err := v.b.PendingDeliveries(context.Background(), name)
		return func() {
			if err != nil {
				v.listErr.SetText("Cannot count the deliveries waiting for " + name + ": " + err.Error())
				v.listErr.Show()
				return
			}
			v.removing = v.newRemoveDialog(name, n)
			if w != nil {
				d := dialog.NewCustomWithoutButtons("Remove "+name, v.removing.content(), w)
				v.removing.hide = d.Hide
				d.Resize(fyne.NewSize(560, 0))
				escCloses(w.Canvas(), d)
				d.Show()
			}
		}
	})
}

func (v *settingsView) newRemoveDialog(name string, pending int) *removeDialog {
	r := &removeDialog{name: name, pending: pending, status: widget.NewLabel("")}
	r.status.Wrapping = fyne.TextWrapWord
	r.status.Hide()
	r.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { v.doRemove(r) })
	r.remove.Importance = widget.DangerImportance
	if pending > 0 {
		r.reason = widget.NewEntry()
		r.reason.SetPlaceHolder(fmt.Sprintf("Reason, e.g. %s was replaced", name))
		r.reason.Disable()
		r.choice = widget.NewRadioGroup([]string{keepChoice, deadChoice}, func(s string) {
			if s == deadChoice {
				r.reason.Enable()
			} else {
				r.reason.Disable()
			}
			if s == "" {
				r.remove.Disable()
			} else {
				r.remove.Enable()
			}
		})
		r.remove.Disable() // until they choose
	}
	return r
}

func (r *removeDialog) content() fyne.CanvasObject {
	msg := widget.NewLabel(fmt.Sprintf("Remove %q from your config file? Ticketray stops sending tickets to it.", r.name))
	msg.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(msg)
	if r.choice != nil {
		q := widget.NewLabelWithStyle(fmt.Sprintf("%s waiting to be sent to it. What should happen to them?", deliveriesText(r.pending)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		q.Wrapping = fyne.TextWrapWord
		box.Add(q)
		box.Add(r.choice)
		box.Add(r.reason)
	}
	cancel := widget.NewButton("Cancel", func() {
		if r.hide != nil {
			r.hide()
		}
	})
	box.Add(r.status)
	box.Add(container.NewHBox(layoutSpacer(), cancel, r.remove))
	return box
}

func deliveriesText(n int) string {
	if n == 1 {
		return "1 delivery is"
	}
	return fmt.Sprintf("%d deliveries are", n)
}

// doRemove removes the connection through the core, as
// `connections remove NAME --yes --pending keep|dead` does.
func (v *settingsView) doRemove(r *removeDialog) {
	var o app.RemoveOptions
	if r.choice != nil {
		switch r.choice.Selected {
		case keepChoice:
			o.Pending = app.PendingKeep
		case deadChoice:
			o.Pending, o.Reason = app.PendingDead, strings.TrimSpace(r.reason.Text)
		default:
			return
		}
	}
	r.remove.Disable()
	v.bg.run(func() func() {
		res, err := v.b.RemoveConnection(context.Background(), r.name, o)
		return func() {
			if err != nil && res == nil {
				r.remove.Enable()
				r.status.Importance = widget.DangerImportance
				r.status.SetText("Not removed: " + plainErr(err))
				r.status.Show()
				return
			}
			if r.hide != nil {
				r.hide()
			}
			msg := fmt.Sprintf("Removed %q.", r.name)
			if res.Abandoned.Dead > 0 {
				msg += fmt.Sprintf(" %s marked dead: %s.", app.Plural(res.Abandoned.Dead, "delivery"), res.Reason)
			}
			if res.Kept > 0 {
				msg += fmt.Sprintf(" %s still waiting for it.", app.Plural(res.Kept, "delivery"))
			}
			if err != nil {
				msg += " " + err.Error()
			}
			v.setNotice(msg)
			v.reload()
		}
	})
}

// connectionTitle is a connection's name and, when the name does not
// say it already, the help desk it goes to as people call it: "Old —
// Freshservice", "Jira (Cloud or Data Center)" for a connection named Jira.
func connectionTitle(name, typ string) string {
	label := app.TypeLabel(typ)
	if strings.HasPrefix(strings.ToLower(label), strings.ToLower(name)) && (len(label) == len(name) || label[len(name)] == ' ') {
		return name + label[len(name):]
	}
	return name + " — " + label
}
