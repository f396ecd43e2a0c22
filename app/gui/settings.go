package gui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
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
	lock    *widget.Icon
	signin  *signInLine // oauth2_user connections only
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
	v.connBox = container.NewVBox()
	for _, c := range conns {
		v.rows = append(v.rows, v.newConnRow(c))
	}
	if len(conns) == 0 {
		v.connBox.Add(widget.NewLabel("No connection is configured. IT adds them to the config file; see 'ticketray connections list'."))
	}
	connTab := container.NewBorder(
		container.NewVBox(container.NewHBox(widget.NewLabelWithStyle("Where tickets are sent", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), layoutSpacer(), v.refresh), v.listErr),
		nil, nil, nil, container.NewVScroll(v.connBox))

	names := make([]string, len(conns))
	for i, c := range conns {
		names[i] = c.Name
		v.tables[c.Name] = map[string]*mappingTable{}
		for _, k := range mappingKinds {
			v.tables[c.Name][k] = newMappingTable(k, c)
		}
	}
	v.mapBox = container.NewVBox()
	v.mapErr = widget.NewLabel("")
	v.mapErr.Importance = widget.DangerImportance
	v.mapErr.Wrapping = fyne.TextWrapWord
	v.mapErr.Hide()
	v.connSelect = widget.NewSelect(names, func(string) { v.showMappings() })
	mapTab := container.NewBorder(
		container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Connection"), nil, v.connSelect), v.mapErr),
		nil, nil, nil, container.NewVScroll(v.mapBox))
	if len(conns) == 0 {
		v.connSelect.Disable()
		v.mapBox.Add(widget.NewLabel("No connection is configured, so there is nothing to map."))
	} else {
		v.connSelect.SetSelected(names[0])
	}

	v.content = container.NewAppTabs(
		container.NewTabItemWithIcon("Connections", theme.ComputerIcon(), connTab),
		container.NewTabItemWithIcon("Mappings", theme.ListIcon(), mapTab),
	)
	v.reload()
	return v
}

func (v *settingsView) newConnRow(c connectors.Connection) *connRow {
	r := &connRow{conn: c, light: canvas.NewCircle(lightGrey), state: widget.NewLabel("…")}
	r.state.Truncation = fyne.TextTruncateEllipsis
	r.problem = widget.NewLabel("")
	r.problem.Wrapping = fyne.TextWrapWord
	r.problem.Hide()
	r.test = widget.NewButton("Test", func() { v.test(r) })
	r.lock = widget.NewIcon(lockIcon)
	if !isLocked(v.locks, "connections."+c.Name) {
		r.lock.Hide()
	}
	light := container.NewCenter(container.NewGridWrap(fyne.NewSize(14, 14), r.light))
	name := widget.NewLabelWithStyle(fmt.Sprintf("%s (%s)", c.Name, c.Type), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// The name, light and Test stay on the first line; a problem wraps
	// under the state.
	lines := container.NewVBox(r.state)
	if c.Credentials.Type == "oauth2_user" {
		r.signin = v.newSignInLine(r)
		lines.Add(r.signin.content)
	}
	lines.Add(r.problem)
	v.connBox.Add(container.NewBorder(nil, nil, container.NewVBox(container.NewHBox(light, name, r.lock)), container.NewVBox(r.test), lines))
	v.connBox.Add(widget.NewSeparator())
	return r
}

// reload reads the connections' health (off the UI thread).
func (v *settingsView) reload() {
	v.refresh.Disable()
	v.bg.run(func() func() {
		st, err := v.b.Connections(context.Background())
		return func() {
			v.refresh.Enable()
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
