package gui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
)

// fakeSettings answers with fixed health and test reports, and saves
// mapping tables to configFile with the core writer.
type fakeSettings struct {
	mu         sync.Mutex
	status     []app.ConnectionStatus
	tests      map[string]app.ConnectionTest
	tested     []string
	configFile string
	managedDir string
	saved      []savedMapping // SaveMapping's calls
	logins     []string
	logouts    []string
	signInDone chan error // answers Login
	setup      *app.ConnectionSetup
}

type savedMapping struct {
	conn, kind string
	table      map[string]string
}

func (f *fakeSettings) SaveMapping(conn, kind string, table map[string]string) error {
	f.mu.Lock()
	f.saved = append(f.saved, savedMapping{conn, kind, maps.Clone(table)})
	f.mu.Unlock()
	if f.configFile == "" {
		return errors.New("no config file in this test")
	}
	_, err := config.SetMapping(config.LoadOptions{ConfigFile: f.configFile, ManagedDir: f.managedDir}, conn, kind, table)
	return err
}

// Login is a sign-in that prints its URL and waits for the test to
// answer on signInDone (nil: signed in) or for ctx.
func (f *fakeSettings) Login(ctx context.Context, name string, o app.LoginOptions) (*connectors.Grant, error) {
	f.mu.Lock()
	f.logins = append(f.logins, name)
	done := f.signInDone
	f.mu.Unlock()
	fmt.Fprintf(o.Out, "Sign in to %s in your browser. If it does not open, visit:\n  https://auth.example/authorize?client_id=ticketray&state=s1\n", name)
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("sign-in: %w", ctx.Err())
	case err := <-done:
		if err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp := time.Date(2027, 3, 6, 17, 0, 0, 0, time.Local)
	for i := range f.status {
		if f.status[i].Name == name {
			f.status[i].SignedInAs, f.status[i].GrantExpiresAt = "alice@example.com", &exp
		}
	}
	return &connectors.Grant{SignedInAs: "alice@example.com", ExpiresAt: exp}, nil
}

func (f *fakeSettings) Logout(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logouts = append(f.logouts, name)
	for i := range f.status {
		if f.status[i].Name == name {
			f.status[i].SignedInAs, f.status[i].GrantExpiresAt = "", nil
		}
	}
	return nil
}

func (f *fakeSettings) Connections(context.Context) ([]app.ConnectionStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]app.ConnectionStatus(nil), f.status...), nil
}

// The fake edits no connection: the connection manager's tests use a
// real app.Service (connManagerService).
var errNoEdits = errors.New("this fake edits no connection")

func (f *fakeSettings) ConnectionSetup() (*app.ConnectionSetup, error) { return f.setup, nil }
func (f *fakeSettings) TestConnectionDraft(context.Context, app.ConnectionDraft, bool) (app.ConnectionTest, error) {
	return app.ConnectionTest{}, errNoEdits
}
func (f *fakeSettings) AddConnection(context.Context, app.ConnectionDraft, app.SaveOptions) (*app.ConnectionSaved, error) {
	return nil, errNoEdits
}
func (f *fakeSettings) UpdateConnection(context.Context, app.ConnectionDraft, app.SaveOptions) (*app.ConnectionSaved, error) {
	return nil, errNoEdits
}
func (f *fakeSettings) PendingDeliveries(context.Context, string) (int, error) { return 0, nil }
func (f *fakeSettings) RemoveConnection(context.Context, string, app.RemoveOptions) (*app.ConnectionRemoved, error) {
	return nil, errNoEdits
}

func (f *fakeSettings) TestConnection(_ context.Context, c connectors.Connection) app.ConnectionTest {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tested = append(f.tested, c.Name)
	return f.tests[c.Name]
}

var testConns = []connectors.Connection{
	{Name: "ServiceNow", Type: "servicenow", DefaultPriority: "medium",
		Mappings: map[string]map[string]string{"priority": {"critical": "1", "high": "2", "default": "3"}}},
	{Name: "Jira", Type: "jira", DefaultCategory: "IT Help"},
	{Name: "Zendesk", Type: "zendesk"},
	{Name: "Salesforce", Type: "salesforce"},
	{Name: "Old", Type: "freshservice"},
}

func sampleSettings() *fakeSettings {
	ago := time.Now().Add(-3 * time.Minute)
	return &fakeSettings{
		status: []app.ConnectionStatus{
			{Name: "ServiceNow", State: delivery.Healthy, QueueDepth: 0, LastSuccess: &ago},
			{Name: "Jira", State: delivery.Degraded, QueueDepth: 2, LastError: "503 Service Unavailable"},
			{Name: "Zendesk", State: delivery.Down, QueueDepth: 1, LastError: "dial tcp: lookup acme.zendesk.com: no such host"},
			{Name: "Salesforce", State: delivery.BreakerOpen, QueueDepth: 4, LastError: "500 Internal Server Error"},
			{Name: "Old", State: app.Unknown},
		},
		tests: map[string]app.ConnectionTest{
			"ServiceNow": {Name: "ServiceNow", Type: "servicenow", OK: true, Checks: []app.TestCheck{{Name: "config", OK: true}, {Name: "auth", OK: true, Ms: 42, Detail: "credentials accepted"}}},
			"Jira":       {Name: "Jira", Type: "jira", Checks: []app.TestCheck{{Name: "config", OK: true}, {Name: "auth", Ms: 40, Detail: "401 Unauthorized"}}},
		},
	}
}

func newTestSettings(t *testing.T, b *fakeSettings, locks lockInfo) (*settingsView, fyne.Window, *uiLoop, *[]string) {
	t.Helper()
	loop := newLoop(t)
	v := newSettingsView(b, testConns, locks)
	var shown []string
	v.showTest = func(title, report string) { shown = append(shown, title+"\n"+report) }
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 520))
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the connections' health", func() bool { return v.rows[0].state.Text != "…" })
	return v, w, loop, &shown
}

func TestSettingsHealthLights(t *testing.T) {
	v, _, _, _ := newTestSettings(t, sampleSettings(), nil)
	want := []struct {
		light   any
		state   string
		problem string // "" means hidden
	}{
		{lightGreen, "healthy · 0 queued · last sent 3 min ago", ""},
		{lightAmber, "degraded: failures, retrying · 2 queued", "Last error: 503 Service Unavailable"},
		{lightRed, "down: not reachable · 1 queued", "Last error: dial tcp: lookup acme.zendesk.com: no such host"},
		{lightRedAmber, "resting after repeated failures · 4 queued", "Last error: 500 Internal Server Error"},
		{lightGrey, "unknown: nothing sent yet · 0 queued", ""},
	}
	for i, w := range want {
		r := v.rows[i]
		if r.light.FillColor != w.light {
			t.Errorf("%s: light %v, want %v", r.conn.Name, r.light.FillColor, w.light)
		}
		if r.state.Text != w.state {
			t.Errorf("%s: state %q, want %q", r.conn.Name, r.state.Text, w.state)
		}
		if got := problemText(r); got != w.problem {
			t.Errorf("%s: problem %q, want %q", r.conn.Name, got, w.problem)
		}
	}
}

// problemText is a row's problem line as shown ("" when hidden).
func problemText(r *connRow) string {
	if !r.problem.Visible() {
		return ""
	}
	return r.problem.Text
}

// Red connections say why in full, in red, with how many tickets died:
// a vendor that refuses (failing), a connection the config cannot build
// (misconfigured), and a healthy one whose old tickets died.
func TestSettingsRedConnections(t *testing.T) {
	ago := time.Now().Add(-2 * time.Hour)
	conns := []connectors.Connection{
		{Name: "ServiceNow", Type: "servicenow"},
		{Name: "Zendesk", Type: "zendesk"},
		{Name: "Jira", Type: "jira"},
		{Name: "Freshservice", Type: "freshservice"},
	}
	b := &fakeSettings{status: []app.ConnectionStatus{
		{Name: "ServiceNow", State: delivery.Failing, QueueDepth: 2, Dead: 3, LastSuccess: &ago, LastErrorAt: &ago,
			LastError: "refused by ServiceNow: 401 Unauthorized: User Not Authenticated (check the connection's credentials)"},
		{Name: "Zendesk", State: delivery.Misconfigured, QueueDepth: 4,
			LastError: "baseUrl: must be https (http is allowed for loopback hosts only); credentials.apiToken: env:ZD_TOKEN is not set"},
		{Name: "Jira", State: delivery.Misconfigured, QueueDepth: 1, Dead: 1, LastError: "options.projectKey: required"},
		{Name: "Freshservice", State: delivery.Healthy, QueueDepth: 0, Dead: 2, LastSuccess: &ago},
	}}
	loop := newLoop(t)
	v := newSettingsView(b, conns, nil)
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 520))
	loop.waitFor(t, "the connections' health", func() bool { return v.rows[0].state.Text != "…" })
	want := []struct {
		light      any
		state      string
		problem    string
		importance widget.Importance
	}{
		{lightRed, "failing: the help desk refuses the tickets · 2 queued · last sent 2 h ago",
			"Last error: refused by ServiceNow: 401 Unauthorized: User Not Authenticated (check the connection's credentials) — 3 tickets dead", widget.DangerImportance},
		{lightRed, "misconfigured: not delivering — tell IT · 4 queued",
			"Problem: baseUrl: must be https (http is allowed for loopback hosts only); credentials.apiToken: env:ZD_TOKEN is not set", widget.DangerImportance},
		{lightRed, "misconfigured: not delivering — tell IT · 1 queued", "Problem: options.projectKey: required — 1 ticket dead", widget.DangerImportance},
		{lightGreen, "healthy · 0 queued · last sent 2 h ago", "2 tickets dead", widget.WarningImportance},
	}
	for i, w := range want {
		r := v.rows[i]
		if r.light.FillColor != w.light {
			t.Errorf("%s: light %v, want %v", r.conn.Name, r.light.FillColor, w.light)
		}
		if r.state.Text != w.state {
			t.Errorf("%s: state %q\n  want %q", r.conn.Name, r.state.Text, w.state)
		}
		if got := problemText(r); got != w.problem || r.problem.Importance != w.importance {
			t.Errorf("%s: problem %q (importance %v)\n  want %q (%v)", r.conn.Name, got, r.problem.Importance, w.problem, w.importance)
		}
	}
	// As the next frame would: wrapped lines know their height once they
	// have a width.
	v.content.Refresh()
	test.AssertImageMatches(t, "settings_problems.png", w.Canvas().Capture())

	// Fixed: the lines go.
	b.mu.Lock()
	b.status = []app.ConnectionStatus{{Name: "ServiceNow", State: delivery.Healthy, LastSuccess: &ago}}
	b.mu.Unlock()
	v.reload()
	loop.waitFor(t, "the reload", func() bool { return v.bg.pending == 0 && !v.refresh.Disabled() })
	if got := problemText(v.rows[0]); got != "" {
		t.Errorf("ServiceNow after the fix: problem %q", got)
	}
}

func TestSettingsTestButton(t *testing.T) {
	tests := []struct {
		row       int
		wantTitle string
		wantLines []string
	}{
		{0, "Connection test passed: ServiceNow", []string{"ServiceNow (servicenow): OK", "ok   auth"}},
		{1, "Connection test failed: Jira", []string{"Jira (jira): FAILED", "FAIL auth", "401 Unauthorized"}},
	}
	b := sampleSettings()
	v, _, loop, shown := newTestSettings(t, b, nil)
	for i, tt := range tests {
		t.Run(tt.wantTitle, func(t *testing.T) {
			r := v.rows[tt.row]
			test.Tap(r.test)
			if !r.test.Disabled() || r.test.Text != "Testing…" {
				t.Errorf("while testing: button %q disabled %v", r.test.Text, r.test.Disabled())
			}
			loop.waitFor(t, "the test report", func() bool { return len(*shown) == i+1 })
			got := (*shown)[i]
			title, report, _ := strings.Cut(got, "\n")
			if title != tt.wantTitle {
				t.Errorf("report title %q, want %q", title, tt.wantTitle)
			}
			for _, l := range tt.wantLines {
				if !strings.Contains(report, l) {
					t.Errorf("report lacks %q:\n%s", l, report)
				}
			}
			if r.test.Disabled() || r.test.Text != "Test" {
				t.Errorf("after the test: button %q disabled %v", r.test.Text, r.test.Disabled())
			}
		})
	}
	if got := strings.Join(b.tested, ","); got != "ServiceNow,Jira" {
		t.Errorf("tested %s", got)
	}
}

// editorRows finds the key and value entries and the row's last object
// (delete button or lock) of the mapping editors, in order.
type editorRow struct {
	key, val *widget.Entry
	end      fyne.CanvasObject
}

func editorRows(v *settingsView) (rows []editorRow) {
	tableRows(v, func(k, val *widget.Entry, end fyne.CanvasObject) { rows = append(rows, editorRow{k, val, end}) })
	return rows
}

// tableRows calls row for each row of the mapping editors whose value is
// a V: a key entry and a V side by side, then the row's last object.
func tableRows[V fyne.CanvasObject](v *settingsView, row func(key *widget.Entry, val V, end fyne.CanvasObject)) {
	for _, o := range test.LaidOutObjects(v.mapBox) {
		c, ok := o.(*fyne.Container)
		if !ok || len(c.Objects) != 2 {
			continue
		}
		grid, ok := c.Objects[0].(*fyne.Container)
		if !ok || len(grid.Objects) != 2 {
			continue
		}
		k, ok1 := grid.Objects[0].(*widget.Entry)
		val, ok2 := grid.Objects[1].(V)
		if ok1 && ok2 {
			row(k, val, c.Objects[1])
		}
	}
}

func TestMappingsEditor(t *testing.T) {
	v, _, _, _ := newTestSettings(t, sampleSettings(), nil)
	if v.connSelect.Selected != "ServiceNow" {
		t.Fatalf("connection %q selected, want the first", v.connSelect.Selected)
	}
	rows := editorRows(v)
	// priority: critical, high, default, new; category: default, new
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.key.Text+"="+r.val.Text)
	}
	if got := strings.Join(keys, " "); got != "critical=1 high=2 default=3 = default= =" {
		t.Fatalf("editor rows = %s", got)
	}
	def := rows[2]
	if !def.key.Disabled() || def.val.Disabled() {
		t.Errorf("default row: key disabled %v, value disabled %v; want the key locked and the value editable", def.key.Disabled(), def.val.Disabled())
	}
	if b, ok := def.end.(*widget.Button); !ok || b.Icon != lockIcon || !b.Disabled() || b.OnTapped != nil {
		t.Errorf("default row ends with %T %+v, want a disabled lock (no delete button)", def.end, def.end)
	}
	if del, ok := rows[0].end.(*widget.Button); !ok || del.Disabled() {
		t.Errorf("critical row ends with %T, want an enabled delete button", rows[0].end)
	}

	// Edit the default value, add a row, delete one.
	def.val.SetText("4")
	if got := v.tables["ServiceNow"]["priority"].table()["default"]; got != "4" {
		t.Errorf("default value = %q after editing, want 4", got)
	}
	newRow := rows[3]
	test.Type(newRow.key, "low")
	test.Type(newRow.val, "5")
	var add *widget.Button
	add, _ = newRow.end.(*widget.Button)
	test.Tap(add)
	if got := rowsOf(v.tables["ServiceNow"]["priority"]); got != "critical=1 high=2 low=5 default=4" {
		t.Errorf("after adding low: %s", got)
	}
	rows = editorRows(v)
	test.Tap(rows[0].end.(*widget.Button))
	if got := rowsOf(v.tables["ServiceNow"]["priority"]); got != "high=2 low=5 default=4" {
		t.Errorf("after deleting critical: %s", got)
	}

	// A bad key is refused inline.
	rows = editorRows(v)
	test.Type(rows[3].key, "urgent")
	test.Tap(rows[3].end.(*widget.Button))
	if !v.mapErr.Visible() || !strings.Contains(v.mapErr.Text, `"urgent"`) {
		t.Errorf("inline error visible %v %q, want one about urgent", v.mapErr.Visible(), v.mapErr.Text)
	}

	// Edits are per connection and survive switching.
	v.connSelect.SetSelected("Jira")
	rows = editorRows(v)
	if got := rows[len(rows)-2].val.Text; got != "IT Help" {
		t.Errorf("Jira's category default = %q, want its defaultCategory", got)
	}
	v.connSelect.SetSelected("ServiceNow")
	if got := editorRows(v)[0].key.Text; got != "high" {
		t.Errorf("ServiceNow's first row is %q after switching back, want the edit kept", got)
	}
	if s := v.saves[mappingKey("ServiceNow", "priority")]; s == nil || s.button.Disabled() || s.status.Text != "Not saved" {
		t.Errorf("after the edits, Save %+v; want it enabled and the table marked not saved", s)
	}
}

func TestMappingsLockedByIT(t *testing.T) {
	locks := lockSet{mappingKey("ServiceNow", "priority"): true, "connections.Jira": true}
	v, _, _, _ := newTestSettings(t, sampleSettings(), locks)
	rows := editorRows(v)
	// Priority is locked: its three rows read-only, no add row; category
	// is editable: default and add rows.
	if len(rows) != 5 {
		t.Fatalf("%d editor rows, want 5 (3 locked priority rows, category default and add)", len(rows))
	}
	for i, r := range rows[:3] {
		if !r.key.Disabled() || !r.val.Disabled() {
			t.Errorf("locked row %d (%s) is editable", i, r.key.Text)
		}
		if b, ok := r.end.(*widget.Button); ok && !b.Disabled() {
			t.Errorf("locked row %d (%s) can be deleted", i, r.key.Text)
		}
	}
	if rows[3].val.Disabled() {
		t.Error("the unlocked category table's default value is not editable")
	}
	if !v.rows[1].lock.Visible() || v.rows[0].lock.Visible() {
		t.Errorf("lock icons: ServiceNow %v, Jira %v; want only Jira's (its connection is locked)", v.rows[0].lock.Visible(), v.rows[1].lock.Visible())
	}
	v.connSelect.SetSelected("Jira")
	for _, r := range editorRows(v) {
		if !r.val.Disabled() {
			t.Errorf("Jira is locked but row %q is editable", r.key.Text)
		}
	}
}

// TestSettingsImage pins the connections tab's look. To accept a
// deliberate change, copy testdata/failed/settings.png over
// testdata/settings.png.
func TestSettingsImage(t *testing.T) {
	_, w, _, _ := newTestSettings(t, sampleSettings(), lockSet{"connections.Jira": true})
	test.AssertImageMatches(t, "settings.png", w.Canvas().Capture())
}

// TestMappingsImage pins the mappings tab, with its locked default row.
func TestMappingsImage(t *testing.T) {
	v, w, _, _ := newTestSettings(t, sampleSettings(), nil)
	v.content.(*container.AppTabs).SelectIndex(1)
	test.AssertImageMatches(t, "mappings.png", w.Canvas().Capture())
}

// saveButtons finds the mapping editors' Save buttons, in order.
func saveButtons(v *settingsView) []*widget.Button {
	var out []*widget.Button
	for _, o := range test.LaidOutObjects(v.mapBox) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Save" {
			out = append(out, b)
		}
	}
	return out
}

// userConfig is a user file holding testConns' ServiceNow and Jira, with
// a secret the save must leave alone.
const userConfig = `{
  "version": 1,
  "connections": [
    {
      "name": "ServiceNow",
      "type": "servicenow",
      "baseUrl": "https://sn.example",
      "credentials": {"type": "basic", "username": "svc", "password": "keep-this-literal"},
      "defaultPriority": "medium",
      "mappings": {"priority": {"critical": "1", "high": "2", "default": "3"}}
    },
    {"name": "Jira", "type": "jira", "baseUrl": "https://j.example", "credentials": {"type": "bearer", "token": "env:T"}, "defaultCategory": "IT Help"}
  ]
}
`

func TestMappingsSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(userConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	b := sampleSettings()
	b.configFile = path
	v, _, loop, _ := newTestSettings(t, b, nil)
	saves := saveButtons(v)
	if len(saves) != 3 {
		t.Fatalf("%d Save buttons, want one per table", len(saves))
	}
	if !saves[0].Disabled() {
		t.Error("Save is enabled before any edit")
	}
	st := v.saves[mappingKey("ServiceNow", "priority")]

	// Edit the high row's value and save: the file changes, only there.
	rows := editorRows(v)
	rows[1].val.SetText("1,2")
	test.Tap(saves[0])
	loop.waitFor(t, "the save", func() bool { return !st.saving })
	if st.status.Text != "Saved" || !st.button.Disabled() {
		t.Errorf("after saving: %q, button disabled %v; want Saved and a disabled button", st.status.Text, st.button.Disabled())
	}
	got, _ := os.ReadFile(path)
	want := strings.Replace(userConfig, `"high": "2"`, `"high": "1,2"`, 1)
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}

	// A table the writer refuses: the precise error, inline; nothing written.
	rows = editorRows(v)
	rows[2].val.SetText("") // the default row's value
	test.Tap(st.button)
	loop.waitFor(t, "the save", func() bool { return !st.saving })
	if !strings.HasPrefix(st.status.Text, "Not saved: ") || !strings.Contains(st.status.Text, `needs a "default" row`) || st.button.Disabled() {
		t.Errorf("refused save: %q, button disabled %v", st.status.Text, st.button.Disabled())
	}
	if again, _ := os.ReadFile(path); string(again) != want {
		t.Errorf("a refused save changed the file:\n%s", again)
	}
	if strings.Contains(st.status.Text, "keep-this-literal") {
		t.Error("the error shows a secret")
	}
}

func TestMappingsLockedHasNoSave(t *testing.T) {
	locks := lockSet{mappingKey("ServiceNow", "priority"): true, "connections.Jira": true}
	v, _, _, _ := newTestSettings(t, sampleSettings(), locks)
	if got := len(saveButtons(v)); got != 2 {
		t.Errorf("ServiceNow: %d Save buttons, want 2 (category and status; priority is locked)", got)
	}
	v.connSelect.SetSelected("Jira")
	if got := len(saveButtons(v)); got != 0 {
		t.Errorf("Jira (locked): %d Save buttons, want none", got)
	}
}

// statusEditorRows finds the status editor's rows: a key entry, a state
// choice and the row's last object (delete, lock or add button).
type statusEditorRow struct {
	key   *widget.Entry
	state *widget.Select
	end   fyne.CanvasObject
}

func statusEditorRows(v *settingsView) (rows []statusEditorRow) {
	tableRows(v, func(k *widget.Entry, sel *widget.Select, end fyne.CanvasObject) {
		rows = append(rows, statusEditorRow{k, sel, end})
	})
	return rows
}

func statusRowsText(rows []statusEditorRow) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.key.Text+"="+r.state.Selected)
	}
	return strings.Join(out, " ")
}

// statusConns has a ServiceNow connection with status rows of its own.
var statusConns = []connectors.Connection{
	{Name: "ServiceNow", Type: "servicenow",
		Mappings: map[string]map[string]string{"status": {"Awaiting Vendor": "waiting_on_you", "6": "closed"}}},
}

// The status table is edited like priority and category: the vendor's
// status → a local state chosen from the five, the default row (backlog)
// locked, the vendor's built-in rows listed read-only, and Save writes
// kind status (`config mapping CONN status --set`).
func TestStatusMappingEditor(t *testing.T) {
	loop := newLoop(t)
	b := sampleSettings()
	v := newSettingsView(b, statusConns, nil)
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 520))
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })

	rows := statusEditorRows(v)
	if got := statusRowsText(rows); got != "6=closed Awaiting Vendor=waiting_on_you default=backlog =" {
		t.Fatalf("status editor rows = %s", got)
	}
	if !slices.Equal(rows[0].state.Options, connectors.LocalStates) {
		t.Errorf("state choices %v, want the local states %v", rows[0].state.Options, connectors.LocalStates)
	}
	def := rows[2]
	if !def.key.Disabled() || def.state.Disabled() {
		t.Errorf("default row: key disabled %v, state disabled %v; want the key locked and the state editable", def.key.Disabled(), def.state.Disabled())
	}
	if lb, ok := def.end.(*widget.Button); !ok || lb.Icon != lockIcon || !lb.Disabled() {
		t.Errorf("default row ends with %T, want a disabled lock (no delete button)", def.end)
	}
	tbl := v.tables["ServiceNow"]["status"]
	if err := tbl.remove(2); !errors.Is(err, errDefaultRow) {
		t.Errorf("removing the default row: %v, want %v", err, errDefaultRow)
	}
	if err := tbl.rename(2, "other"); !errors.Is(err, errDefaultRow) {
		t.Errorf("renaming the default row: %v, want %v", err, errDefaultRow)
	}

	// The built-in rows that apply: ServiceNow's, less the 6 overridden above.
	var builtIn []string
	for _, r := range builtInStatusRows(statusConns[0], tbl) {
		builtIn = append(builtIn, r.Key+"="+r.Value)
	}
	if got := strings.Join(builtIn, " "); got != "1=backlog 2=in_progress 3=in_progress 4=waiting_on_you 5=in_progress 7=closed 8=closed awaiting caller=waiting_on_you" {
		t.Errorf("built-in rows shown = %s", got)
	}
	shown := map[string]bool{}
	for _, o := range test.LaidOutObjects(v.mapBox) {
		if l, ok := o.(*widget.Label); ok {
			shown[l.Text] = true
		}
	}
	if !shown["Built-in rows of servicenow (a row above wins):"] || !shown["awaiting caller"] {
		t.Error("the built-in rows are not listed under the status table")
	}

	// A row needs a state; then it is added. The default's state changes.
	add := rows[3]
	test.Type(add.key, "Awaiting Change")
	test.Tap(add.end.(*widget.Button))
	if !v.mapErr.Visible() || !strings.Contains(v.mapErr.Text, "pick the state") {
		t.Errorf("adding without a state: error visible %v %q", v.mapErr.Visible(), v.mapErr.Text)
	}
	add.state.SetSelected(connectors.StateInProgress)
	test.Tap(add.end.(*widget.Button))
	rows = statusEditorRows(v)
	rows[3].state.SetSelected(connectors.StateInProgress) // default
	if got := statusRowsText(rows); got != "6=closed Awaiting Change=in_progress Awaiting Vendor=waiting_on_you default=in_progress =" {
		t.Fatalf("after the edits: %s", got)
	}

	st := v.saves[mappingKey("ServiceNow", "status")]
	if st == nil || st.button.Disabled() {
		t.Fatal("status Save is not enabled after the edits")
	}
	test.Tap(st.button)
	loop.waitFor(t, "the save", func() bool { return !st.saving })
	want := map[string]string{"6": "closed", "Awaiting Change": "in_progress", "Awaiting Vendor": "waiting_on_you", "default": "in_progress"}
	if len(b.saved) != 1 || b.saved[0].conn != "ServiceNow" || b.saved[0].kind != "status" || !maps.Equal(b.saved[0].table, want) {
		t.Errorf("SaveMapping calls %+v, want one for ServiceNow status with %v", b.saved, want)
	}
}

// The status table saves through the core writer, as `config mapping
// ServiceNow status --set` does.
func TestStatusMappingSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(userConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	b := sampleSettings()
	b.configFile = path
	v, _, loop, _ := newTestSettings(t, b, nil)
	rows := statusEditorRows(v)
	if got := statusRowsText(rows); got != "default=backlog =" {
		t.Fatalf("status rows = %s", got)
	}
	test.Type(rows[1].key, "Awaiting Vendor")
	rows[1].state.SetSelected(connectors.StateWaitingOnYou)
	test.Tap(rows[1].end.(*widget.Button))
	st := v.saves[mappingKey("ServiceNow", "status")]
	test.Tap(st.button)
	loop.waitFor(t, "the save", func() bool { return !st.saving })
	if st.status.Text != "Saved" {
		t.Fatalf("after saving: %q", st.status.Text)
	}
	data, _ := os.ReadFile(path)
	var file struct {
		Connections []struct{ Mappings map[string]map[string]string }
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	got := file.Connections[0].Mappings["status"]
	if want := map[string]string{"Awaiting Vendor": "waiting_on_you", "default": "backlog"}; !maps.Equal(got, want) {
		t.Errorf("saved status table %v, want %v", got, want)
	}
}

// TestStatusMappingImage pins the status editor with ServiceNow's
// built-in rows. To accept a deliberate change, copy
// testdata/failed/mappings_status.png over testdata/mappings_status.png.
func TestStatusMappingImage(t *testing.T) {
	loop := newLoop(t)
	v := newSettingsView(sampleSettings(), statusConns, nil)
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 860))
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })
	v.content.(*container.AppTabs).SelectIndex(1)
	// Scroll to the status table, under priority and category.
	for _, o := range test.LaidOutObjects(v.content) {
		if sc, ok := o.(*container.Scroll); ok && sc.Content == v.mapBox {
			sc.ScrollToBottom()
		}
	}
	v.content.Refresh()
	test.AssertImageMatches(t, "mappings_status.png", w.Canvas().Capture())
}

// signInConns has an oauth2_user Jira connection beside a basic one.
var signInConns = []connectors.Connection{
	{Name: "ServiceNow", Type: "servicenow", Credentials: connectors.Credentials{Type: "basic"}},
	{Name: "Jira", Type: "jira", Credentials: connectors.Credentials{Type: "oauth2_user"}},
}

func signInSettings() *fakeSettings {
	ago := time.Now().Add(-3 * time.Minute)
	return &fakeSettings{signInDone: make(chan error, 1), status: []app.ConnectionStatus{
		{Name: "ServiceNow", State: delivery.Healthy, LastSuccess: &ago},
		{Name: "Jira", State: delivery.SignInRequired, QueueDepth: 2},
	}}
}

// fakeSignInDialog records the sign-in dialog Settings shows.
type fakeSignInDialog struct {
	conn    string
	content fyne.CanvasObject
	cancel  func()
	hidden  bool
}

// An oauth2_user connection says who is signed in; Sign in runs the
// core's Login (`connections login NAME`) with its URL in a dialog whose
// Cancel cancels it, and Sign out its Logout.
func TestSettingsSignIn(t *testing.T) {
	loop := newLoop(t)
	b := signInSettings()
	v := newSettingsView(b, signInConns, nil)
	var dlg *fakeSignInDialog
	v.showSignIn = func(conn string, content fyne.CanvasObject, cancel func()) func() {
		dlg = &fakeSignInDialog{conn: conn, content: content, cancel: cancel}
		d := dlg
		return func() { d.hidden = true }
	}
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 520))
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the connections' health", func() bool { return v.rows[0].state.Text != "…" })

	if v.rows[0].signin != nil {
		t.Error("a basic-auth connection offers Sign in")
	}
	si := v.rows[1].signin
	if si == nil {
		t.Fatal("the oauth2_user connection has no sign-in line")
	}
	if si.who.Text != "Not signed in" || si.signIn.Disabled() || !si.signOut.Disabled() {
		t.Errorf("before: %q, Sign in disabled %v, Sign out disabled %v; want Not signed in, Sign in only", si.who.Text, si.signIn.Disabled(), si.signOut.Disabled())
	}
	if !strings.HasPrefix(v.rows[1].state.Text, "sign-in required") || v.rows[1].light.FillColor != lightRed {
		t.Errorf("health %q, light %v; want sign-in required in red", v.rows[1].state.Text, v.rows[1].light.FillColor)
	}

	// Sign in: the dialog shows the URL; the browser comes back.
	test.Tap(si.signIn)
	if dlg == nil || dlg.conn != "Jira" || !si.signIn.Disabled() {
		t.Fatalf("after Sign in: dialog %+v, button disabled %v", dlg, si.signIn.Disabled())
	}
	var link *widget.Hyperlink
	loop.waitFor(t, "the URL in the dialog", func() bool {
		for _, o := range test.LaidOutObjects(dlg.content) {
			if h, ok := o.(*widget.Hyperlink); ok && h.Visible() && h.URL != nil {
				link = h
			}
		}
		return link != nil
	})
	if got := link.URL.String(); got != "https://auth.example/authorize?client_id=ticketray&state=s1" {
		t.Errorf("dialog links to %s", got)
	}
	b.signInDone <- nil
	loop.waitFor(t, "the signed-in line", func() bool { return strings.HasPrefix(si.who.Text, "Signed in") })
	if want := "Signed in as alice@example.com until 2027-03-06 17:00"; si.who.Text != want {
		t.Errorf("after signing in: %q, want %q", si.who.Text, want)
	}
	loop.waitFor(t, "the buttons", func() bool { return !si.running && v.bg.pending == 0 })
	if !dlg.hidden || si.signIn.Disabled() || si.signOut.Disabled() || si.signIn.Text != "Sign in" {
		t.Errorf("after signing in: dialog hidden %v, Sign in %q disabled %v, Sign out disabled %v", dlg.hidden, si.signIn.Text, si.signIn.Disabled(), si.signOut.Disabled())
	}

	// Cancel in the dialog cancels the sign-in.
	test.Tap(si.signIn)
	dlg.cancel()
	loop.waitFor(t, "the cancelled sign-in", func() bool { return si.msg.Visible() })
	if si.msg.Text != "Sign-in cancelled." {
		t.Errorf("after Cancel: %q", si.msg.Text)
	}

	// A failure says why.
	b.signInDone <- errors.New("sign-in: the authorization server refused: access_denied")
	test.Tap(si.signIn)
	loop.waitFor(t, "the failed sign-in", func() bool { return !si.running && strings.HasPrefix(si.msg.Text, "Sign-in failed") })
	if !strings.Contains(si.msg.Text, "access_denied") || si.msg.Importance != widget.DangerImportance {
		t.Errorf("failure line %q (importance %v)", si.msg.Text, si.msg.Importance)
	}

	// Sign out.
	loop.waitFor(t, "the reload", func() bool { return v.bg.pending == 0 })
	test.Tap(si.signOut)
	loop.waitFor(t, "the signed-out line", func() bool { return si.who.Text == "Not signed in" })
	b.mu.Lock()
	logins, logouts := strings.Join(b.logins, ","), strings.Join(b.logouts, ",")
	b.mu.Unlock()
	if logins != "Jira,Jira,Jira" || logouts != "Jira" {
		t.Errorf("Login calls %q, Logout calls %q; want three sign-ins and one sign-out of Jira", logins, logouts)
	}
	if !si.signOut.Disabled() {
		t.Error("Sign out enabled with nobody signed in")
	}
}

// TestSettingsSignInImage pins the connections tab with a signed-in
// oauth2_user connection. To accept a deliberate change, copy
// testdata/failed/settings_signin.png over testdata/settings_signin.png.
func TestSettingsSignInImage(t *testing.T) {
	loop := newLoop(t)
	b := signInSettings()
	exp := time.Date(2027, 3, 6, 17, 0, 0, 0, time.Local)
	b.status[1] = app.ConnectionStatus{Name: "Jira", State: delivery.Healthy, QueueDepth: 0, SignedInAs: "alice@example.com", GrantExpiresAt: &exp}
	b.status = append(b.status, app.ConnectionStatus{Name: "JSM", State: delivery.SignInRequired, QueueDepth: 3})
	conns := append(slices.Clone(signInConns), connectors.Connection{Name: "JSM", Type: "jsm", Credentials: connectors.Credentials{Type: "oauth2_user"}})
	v := newSettingsView(b, conns, nil)
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 520))
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the connections' health", func() bool { return v.rows[0].state.Text != "…" })
	v.content.Refresh()
	test.AssertImageMatches(t, "settings_signin.png", w.Canvas().Capture())
}

// The sign-in dialog shows the URL to open by hand; its Cancel cancels
// the sign-in. TestSignInDialogImage pins it (copy
// testdata/failed/signin_dialog.png over testdata/signin_dialog.png to
// accept a change).
func TestSignInDialogImage(t *testing.T) {
	loop := newLoop(t)
	b := signInSettings()
	v := newSettingsView(b, signInConns, nil)
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 520))
	v.showSignIn = func(conn string, content fyne.CanvasObject, cancel func()) func() {
		return showSignInDialog(conn, content, cancel, w)
	}
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the connections' health", func() bool { return v.rows[0].state.Text != "…" })
	si := v.rows[1].signin
	test.Tap(si.signIn)
	loop.waitFor(t, "the URL", func() bool {
		for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
			if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "https://auth.example/") && l.Visible() {
				return true
			}
		}
		return false
	})
	w.Canvas().Overlays().Top().Refresh()
	test.AssertImageMatches(t, "signin_dialog.png", w.Canvas().Capture())
	var cancel *widget.Button
	for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Cancel" {
			cancel = b
		}
	}
	if cancel == nil {
		t.Fatal("no Cancel in the sign-in dialog")
	}
	test.Tap(cancel)
	loop.waitFor(t, "the cancelled sign-in", func() bool { return si.msg.Visible() })
	if si.msg.Text != "Sign-in cancelled." {
		t.Errorf("after Cancel: %q", si.msg.Text)
	}
}

func TestConnectionTitle(t *testing.T) {
	for _, tc := range []struct{ name, typ, want string }{
		{"ServiceNow", "servicenow", "ServiceNow"},
		{"Jira", "jira", "Jira (Cloud or Data Center)"},
		{"jira", "jira", "jira (Cloud or Data Center)"},
		{"Old", "freshservice", "Old — Freshservice"},
		{"Jir", "jira", "Jir — Jira (Cloud or Data Center)"},
		{"Custom", "acme", "Custom — acme"},
	} {
		if got := connectionTitle(tc.name, tc.typ); got != tc.want {
			t.Errorf("connectionTitle(%q, %q) = %q, want %q", tc.name, tc.typ, got, tc.want)
		}
	}
}
