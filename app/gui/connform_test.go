package gui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/queue"
)

// connManagerService is a real core over cfgBody (and managed, the
// managed config.json, when set), with a file keyring: the form's Test
// and Save go through the functions `connections add|update|remove` use.
func connManagerService(t *testing.T, cfgBody, managed string) (*app.Service, string, func(string) string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(cfgBody), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		app.EnvDBPath:          filepath.Join(dir, "queue.db"),
		app.EnvPassphrase:      "conn manager test",
		app.EnvKeyringBackend:  "file",
		app.EnvKeyringPassword: "keyring password",
		"HOME":                 dir,
		"XDG_DATA_HOME":        filepath.Join(dir, "data"),
		config.EnvManagedDir:   filepath.Join(dir, "managed"),
	}
	if managed != "" {
		if err := os.MkdirAll(env[config.EnvManagedDir], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(env[config.EnvManagedDir], "config.json"), []byte(managed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string { return env[k] }
	svc, err := app.Open(context.Background(), app.Options{ConfigPath: cfg, Getenv: getenv, Warn: func(config.Problem) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc, cfg, getenv
}

const snUser = `{
  "version": 1,
  "connections": [
    {"name": "SN", "type": "servicenow", "baseUrl": "https://sn.example", "enabled": false,
     "credentials": {"type": "basic", "username": "svc", "password": "env:SN_PASSWORD"}}
  ]
}
`

func settingsFor(t *testing.T, b settingsBackend, conns []connectors.Connection, locks lockInfo) (*settingsView, fyne.Window, *uiLoop, *[]string) {
	t.Helper()
	loop := newLoop(t)
	v := newSettingsView(b, conns, locks)
	var shown []string
	v.showTest = func(title, report string) { shown = append(shown, title+"\n"+report) }
	w := test.NewTempWindow(t, v.content)
	w.Resize(fyne.NewSize(760, 560))
	t.Cleanup(func() { loop.waitFor(t, "the window to be idle", func() bool { return v.bg.pending == 0 }) })
	loop.waitFor(t, "the connections", func() bool { return v.bg.pending == 0 })
	return v, w, loop, &shown
}

// formLabels are the form's field labels, in order.
func formLabels(f *connForm) []string {
	var out []string
	for i, o := range f.grid.Objects {
		if l, ok := o.(*widget.Label); ok && i%2 == 0 {
			out = append(out, l.Text)
		}
	}
	return out
}

// The form asks what the vendor's validator requires, per type and
// credentials type.
func TestConnectionFormFields(t *testing.T) {
	newLoop(t)
	f := newConnForm(nil, nil)
	for _, tc := range []struct {
		typ, cred string
		creds     []string
		want      string
	}{
		{"jira", "", []string{"api_token", "basic", "bearer", "oauth2", "oauth2_user"},
			"Name,Help desk,Base URL,Sign-in,Username,API token,Project key,Issue type,Other options"},
		{"jira", "bearer", nil, "Name,Help desk,Base URL,Sign-in,Token,Project key,Issue type,Other options"},
		{"jsm", "api_token", nil, "Name,Help desk,Base URL,Sign-in,Username,API token,Service desk ID,Request type ID,Other options"},
		{"freshservice", "", []string{"api_token", "basic"}, "Name,Help desk,Base URL,Sign-in,API token,Other options"},
		{"bmc_helix", "", []string{"basic"}, "Name,Help desk,Base URL,Sign-in,Username,Password,Other options"},
		{"salesforce", "oauth2", nil, "Name,Help desk,Base URL,Sign-in,Client ID,Token URL,Client secret,Other options"},
	} {
		f.selectType(tc.typ)
		if tc.cred != "" {
			f.selectCred(tc.cred)
		}
		if tc.creds != nil && strings.Join(f.creds, ",") != strings.Join(tc.creds, ",") {
			t.Errorf("%s: credentials types %v, want %v", tc.typ, f.creds, tc.creds)
		}
		if got := strings.Join(formLabels(f), ","); got != tc.want {
			t.Errorf("%s/%s: fields\n  %s\nwant\n  %s", tc.typ, f.selectedCred(), got, tc.want)
		}
	}
	// What was typed survives a change of type.
	f.selectType("jira")
	f.selectCred("api_token")
	f.fields["credentials.username"].SetText("it@acme.example")
	f.selectType("jsm")
	if got := f.fields["credentials.username"].Text; got != "it@acme.example" {
		t.Errorf("username after a type change: %q", got)
	}
}

// The dropdowns show the names people know, and the draft (what Save
// writes) carries the config's own words.
func TestConnectionFormNames(t *testing.T) {
	newLoop(t)
	f := newConnForm(nil, nil)
	for _, want := range []string{"Jira (Cloud or Data Center)", "Jira Service Management", "ServiceNow", "Zendesk", "Freshservice", "Salesforce", "BMC Helix"} {
		if !slices.Contains(f.typ.Options, want) {
			t.Errorf("Help desk options %q lack %q", f.typ.Options, want)
		}
	}
	for _, o := range f.typ.Options {
		if slices.Contains(connectors.Registered(), o) {
			t.Errorf("Help desk option %q is a config word", o)
		}
	}
	if f.typ.Selected != "Jira (Cloud or Data Center)" {
		t.Errorf("a new form shows %q, want Jira", f.typ.Selected)
	}
	if got, want := strings.Join(f.credType.Options, "|"), "API token|Basic (user + password)|Access token (bearer)|OAuth 2 client credentials|OAuth 2, each person signs in"; got != want {
		t.Errorf("Sign-in options for Jira:\n  %s\nwant\n  %s", got, want)
	}
	f.typ.SetSelected("ServiceNow")
	f.credType.SetSelected("Basic (user + password)")
	if got := strings.Join(formLabels(f), ","); !strings.Contains(got, "Username,Password") {
		t.Errorf("ServiceNow basic fields: %s", got)
	}
	d, err := f.draft()
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "servicenow" || d.CredentialType != "basic" {
		t.Errorf("draft type %q, credentials %q; want servicenow, basic", d.Type, d.CredentialType)
	}
	// An existing connection shows its names too.
	e := newConnForm(nil, &connectors.Connection{Name: "Desk", Type: "bmc_helix", BaseURL: "https://helix.example",
		Credentials: connectors.Credentials{Type: "basic", Username: "svc", Password: "env:P"}})
	if e.typ.Selected != "BMC Helix" || e.credType.Selected != "Basic (user + password)" {
		t.Errorf("edit form shows %q / %q", e.typ.Selected, e.credType.Selected)
	}
	if d, _ := e.draft(); d.Type != "bmc_helix" || d.CredentialType != "basic" {
		t.Errorf("edit draft type %q, credentials %q", d.Type, d.CredentialType)
	}
}

// fillJira fills the add form for a Jira connection, typing as a person
// would (or setting the text, for an image without a cursor in every
// field).
func fillJira(f *connForm, baseURL, token string, typed bool) {
	f.selectType("jira")
	f.selectCred("api_token")
	put := func(e *widget.Entry, s string) {
		if typed {
			test.Type(e, s)
		} else {
			e.SetText(s)
		}
	}
	put(f.name, "Help Desk")
	put(f.baseURL, baseURL)
	put(f.fields["credentials.username"], jirafake.Email)
	put(f.fields["credentials.apiToken"], token)
	put(f.fields["options.projectKey"], jirafake.ProjectKey)
	put(f.fields["options.issueType"], "Task")
}

// Fill, Test (nothing written), Save (written, the secret in the keyring,
// the new row shown).
func TestConnectionFormTestThenSave(t *testing.T) {
	jf := jirafake.New()
	if err := jf.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(jf.Close)
	svc, cfg, getenv := connManagerService(t, snUser, "")
	v, _, loop, shown := settingsFor(t, svc, svc.Config.Connections, newConfigLocks(svc.Loaded))
	test.Tap(v.add)
	f := v.form
	if f == nil {
		t.Fatal("Add opened no form")
	}
	fillJira(f, jf.URL(), jirafake.APIToken, true)
	before, _ := os.ReadFile(cfg)

	test.Tap(f.test)
	loop.waitFor(t, "the test", func() bool { return f.bg.pending == 0 && len(*shown) == 1 })
	if !strings.HasPrefix((*shown)[0], "Connection test passed: Help Desk\n") || !strings.Contains(f.status.Text, "Test passed") {
		t.Errorf("test: %q, status %q", (*shown)[0], f.status.Text)
	}
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
		t.Fatal("Test wrote the file")
	}

	test.Tap(f.save)
	loop.waitFor(t, "the save", func() bool { return f.bg.pending == 0 && v.bg.pending == 0 && len(v.rows) == 2 })
	after, _ := os.ReadFile(cfg)
	if !strings.Contains(string(after), `"apiToken": "keyring:`+config.KeyringName("Help Desk", "apiToken")+`"`) || !strings.Contains(string(after), `"type": "jira"`) ||
		!strings.Contains(string(after), `"type": "api_token"`) || strings.Contains(string(after), jirafake.APIToken) {
		t.Errorf("saved file:\n%s", after)
	}
	ring, err := app.OpenKeyring(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ring.Get(config.KeyringName("Help Desk", "apiToken")); err != nil || string(got) != jirafake.APIToken {
		t.Errorf("keyring: %q, %v", got, err)
	}
	if v.rows[1].conn.Name != "Help Desk" || !v.notice.Visible() || !strings.Contains(v.notice.Text, `Saved "Help Desk"`) {
		t.Errorf("after save: rows %s, notice %q", v.rows[1].conn.Name, v.notice.Text)
	}

	// Edit: the secret is not shown; a changed issue type is saved alone.
	test.Tap(v.rows[1].edit)
	e := v.form
	if e == f || e.name.Text != "Help Desk" || !e.name.Disabled() || !e.typ.Disabled() || e.fields["credentials.apiToken"].Text != "" ||
		!strings.Contains(e.fields["credentials.apiToken"].PlaceHolder, "keyring:"+config.KeyringName("Help Desk", "apiToken")) {
		t.Fatalf("edit form: name %q, secret %q (%q)", e.name.Text, e.fields["credentials.apiToken"].Text, e.fields["credentials.apiToken"].PlaceHolder)
	}
	e.fields["options.issueType"].SetText("Bug")
	test.Tap(e.save)
	loop.waitFor(t, "the edit's save", func() bool { return e.bg.pending == 0 && v.bg.pending == 0 })
	edited, _ := os.ReadFile(cfg)
	if want := strings.Replace(string(after), `"issueType": "Task"`, `"issueType": "Bug"`, 1); string(edited) != want {
		t.Errorf("edit changed more than the issue type:\n%s", edited)
	}
}

// A failed test saves nothing until Save anyway; a refused entry says
// the validator's words and leaves the file as it was.
func TestConnectionFormRefused(t *testing.T) {
	closed, _ := fake.Reserve()
	svc, cfg, _ := connManagerService(t, snUser, "")
	v, _, loop, shown := settingsFor(t, svc, svc.Config.Connections, nil)
	before, _ := os.ReadFile(cfg)

	test.Tap(v.add)
	f := v.form
	f.selectType("jsm")
	test.Type(f.name, "JSM")
	test.Type(f.baseURL, "https://acme.atlassian.net")
	test.Type(f.fields["credentials.username"], "it@acme.example")
	test.Type(f.fields["credentials.apiToken"], "tok")
	test.Type(f.fields["options.serviceDeskId"], "10")
	test.Tap(f.save)
	loop.waitFor(t, "the refusal", func() bool { return f.bg.pending == 0 })
	if !strings.Contains(f.status.Text, "connections[1].options.requestTypeId: is required for jsm connections") || f.status.Importance != widget.DangerImportance {
		t.Errorf("status %q", f.status.Text)
	}

	test.Tap(v.add)
	f = v.form
	fillJira(f, "http://"+closed, "tok", true)
	test.Tap(f.save)
	loop.waitFor(t, "the failed test", func() bool { return f.bg.pending == 0 })
	if f.save.Text != "Save anyway" || len(*shown) != 1 || !strings.Contains((*shown)[0], "FAILED") {
		t.Errorf("after a failed test: button %q, reports %d", f.save.Text, len(*shown))
	}
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
		t.Fatalf("the file changed:\n%s", after)
	}
	test.Tap(f.save) // Save anyway
	loop.waitFor(t, "the forced save", func() bool { return f.bg.pending == 0 && v.bg.pending == 0 && len(v.rows) == 2 })
	if after, _ := os.ReadFile(cfg); !strings.Contains(string(after), `"name": "Help Desk"`) {
		t.Errorf("Save anyway did not save:\n%s", after)
	}
}

// Remove asks what to do with the deliveries waiting, and does it.
func TestSettingsRemoveDialog(t *testing.T) {
	closed, _ := fake.Reserve()
	body := strings.Replace(snUser, "\n  ]", `,
    {"name": "Jira", "type": "jira", "baseUrl": "http://`+closed+`", "credentials": {"type": "bearer", "token": "env:T"},
     "options": {"projectKey": "IT", "issueType": "Task"}}
  ]`, 1)
	svc, cfg, _ := connManagerService(t, body, "")
	for _, s := range []string{"printer", "vpn"} {
		if _, err := svc.Submit(context.Background(), app.Draft{Summary: s, User: testUser}); err != nil {
			t.Fatal(err)
		}
	}
	v, w, loop, _ := settingsFor(t, svc, svc.Config.Connections, nil)

	// SN takes no deliveries (disabled): a plain confirmation.
	test.Tap(v.rows[0].remove)
	loop.waitFor(t, "the question", func() bool { return v.removing != nil && w.Canvas().Overlays().Top() != nil })
	if v.removing.choice != nil || v.removing.remove.Disabled() {
		t.Error("a connection with nothing waiting asks what to do with its deliveries")
	}
	test.Tap(v.removing.remove)
	loop.waitFor(t, "the removal", func() bool { return v.bg.pending == 0 && len(v.rows) == 1 })

	v.removing = nil
	test.Tap(v.rows[0].remove)
	loop.waitFor(t, "the question", func() bool { return v.removing != nil })
	r := v.removing
	if r.choice == nil || r.pending != 2 || !r.remove.Disabled() || !r.reason.Disabled() {
		t.Fatalf("removal of Jira with 2 waiting: %+v", r)
	}
	pinImage(t, "settings_remove_dialog.png", w.Canvas().Capture())
	r.choice.SetSelected(deadChoice)
	if r.remove.Disabled() || r.reason.Disabled() {
		t.Error("choosing dead enables neither Remove nor the reason")
	}
	test.Type(r.reason, "moved to ServiceNow")
	test.Tap(r.remove)
	loop.waitFor(t, "the removal", func() bool { return v.bg.pending == 0 && len(v.rows) == 0 })
	if !strings.Contains(v.notice.Text, "2 deliveries marked dead: moved to ServiceNow") {
		t.Errorf("notice %q", v.notice.Text)
	}
	if after, _ := os.ReadFile(cfg); strings.Contains(string(after), `"name"`) {
		t.Errorf("file after both removals:\n%s", after)
	}
	dead, err := svc.Store.List(context.Background(), queue.Filter{State: queue.StateDead})
	if err != nil || len(dead) != 2 || dead[0].Deliveries[0].LastError != "moved to ServiceNow" {
		t.Errorf("dead: %d (%v)", len(dead), err)
	}
}

// IT's connections are locked: Edit and Remove disabled, with the lock's
// words; with "connections" locked, Add is disabled too.
func TestSettingsLockedConnections(t *testing.T) {
	managed := `{"version":1,"connections":[{"name":"IT Desk","type":"jira","baseUrl":"https://it.example","credentials":{"type":"bearer","token":"env:T"},"options":{"projectKey":"IT","issueType":"Task"}}]}`
	svc, _, _ := connManagerService(t, snUser, managed)
	v, _, _, _ := settingsFor(t, svc, svc.Config.Connections, newConfigLocks(svc.Loaded))
	if len(v.rows) != 2 {
		t.Fatalf("%d rows", len(v.rows))
	}
	sn, it := v.rows[0], v.rows[1]
	if sn.edit.Disabled() || sn.remove.Disabled() || sn.lockWhy.Visible() {
		t.Error("the user's own connection is locked")
	}
	if !it.edit.Disabled() || !it.remove.Disabled() || !it.lock.Visible() || !strings.Contains(it.lockWhy.Text, `connection "IT Desk" is defined by the managed file`) {
		t.Errorf("IT's connection: edit %v remove %v, why %q", it.edit.Disabled(), it.remove.Disabled(), it.lockWhy.Text)
	}
	if v.add.Disabled() {
		t.Error("Add is disabled without a lock on connections")
	}

	svc, _, _ = connManagerService(t, snUser, `{"version":1,"locked":["connections"]}`)
	v, _, _, _ = settingsFor(t, svc, svc.Config.Connections, newConfigLocks(svc.Loaded))
	if !v.add.Disabled() || !strings.Contains(v.addWhy.Text, `"connections" is locked by IT in `) {
		t.Errorf("Add under the lock: disabled %v, %q", v.add.Disabled(), v.addWhy.Text)
	}
}

// lightSetup is a fixed config for the light-theme images: one of the
// user's connections and one IT pushed.
func lightSetup() *fakeSettings {
	b := sampleSettings()
	b.setup = &app.ConnectionSetup{File: "/home/alice/.config/ticketray/config.json"}
	for _, c := range testConns {
		cc := app.ConfiguredConnection{Connection: c, Source: b.setup.File}
		if c.Name == "Jira" {
			cc.Source = "/etc/ticketray/config.json"
			cc.Lock = &config.LockedError{Key: "connections.Jira", File: cc.Source, Managed: true}
		}
		b.setup.Connections = append(b.setup.Connections, cc)
	}
	return b
}

// TestSettingsLightImage pins Settings in the light theme, with a
// connection IT locked: its reason must be readable there.
func TestSettingsLightImage(t *testing.T) {
	v, w, loop, _ := settingsFor(t, lightSetup(), testConns, nil)
	loop.Settings().SetTheme(theme.LightTheme())
	v.content.Refresh()
	pinImage(t, "settings_light.png", w.Canvas().Capture())
}

// TestConnectionFormImage pins the add-connection form (Jira) in the
// light theme.
func TestConnectionFormImage(t *testing.T) {
	v, w, loop, _ := settingsFor(t, lightSetup(), testConns, nil)
	loop.Settings().SetTheme(theme.LightTheme())
	w.Resize(fyne.NewSize(760, 620))
	test.Tap(v.add)
	fillJira(v.form, "https://acme.atlassian.net", "secret-token", false)
	v.form.extra.SetText(`components=["Laptops"]`)
	w.Canvas().Overlays().Top().Refresh()
	pinImage(t, "connection_form.png", w.Canvas().Capture())
}
