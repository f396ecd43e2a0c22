package gui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
)

// connEditor is what the connection form needs of the app core: the
// functions `connections add|update` and `connections test` share.
type connEditor interface {
	TestConnectionDraft(ctx context.Context, d app.ConnectionDraft, add bool) (app.ConnectionTest, error)
	AddConnection(ctx context.Context, d app.ConnectionDraft, o app.SaveOptions) (*app.ConnectionSaved, error)
	UpdateConnection(ctx context.Context, d app.ConnectionDraft, o app.SaveOptions) (*app.ConnectionSaved, error)
}

// connForm adds a connection, or edits one (before set). Its fields are
// those the vendor needs, asked of the connector registry
// (app.ConnectionFormFor): the credentials types the vendor accepts, the
// credentials fields the chosen type needs, and the required options;
// any other option goes in "Other options" as KEY=VALUE lines. Test runs
// `connections test` on the connection as it would be saved; Save tests
// first too, and saves a connection whose test failed only when asked
// again ("Save anyway"), as `connections add --test [--force]` does.
type connForm struct {
	b      connEditor
	before *connectors.Connection // nil: an add
	bg     bg

	name, baseURL *widget.Entry
	typ, credType *widget.Select           // show display names; see selectedType, selectedCred
	types, creds  []string                 // the raw values behind typ's and credType's options, in order
	fields        map[string]*widget.Entry // credentials.* and options.* entries, by path
	values        map[string]string        // what was typed, kept across type changes
	extra         *widget.Entry            // other options, KEY=VALUE per line
	grid          *fyne.Container
	status        *widget.Label
	test, save    *widget.Button
	cancel        *widget.Button
	force         bool   // the last Save's test failed: Save saves anyway
	failed        string // that draft (%#v), which force is for
	content       fyne.CanvasObject

	onSaved    func(name string)
	onCancel   func()
	showReport func(title, report string)
}

func newConnForm(b connEditor, before *connectors.Connection) *connForm {
	f := &connForm{b: b, before: before, fields: map[string]*widget.Entry{}, values: map[string]string{}}
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("e.g. Service desk")
	f.baseURL = widget.NewEntry()
	f.baseURL.SetPlaceHolder("https://…")
	f.types = connectors.Registered()
	f.typ = widget.NewSelect(labels(f.types, app.TypeLabel), func(string) { f.typeChanged() })
	f.credType = widget.NewSelect(nil, func(string) { f.layoutFields() })
	f.extra = widget.NewMultiLineEntry()
	f.extra.SetPlaceHolder("KEY=VALUE, one per line (optional)")
	f.extra.SetMinRowsVisible(2)
	f.grid = container.New(layout.NewFormLayout())
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.status.Hide()
	f.test = widget.NewButtonWithIcon("Test", theme.MediaPlayIcon(), f.runTest)
	f.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.runSave)
	f.save.Importance = widget.HighImportance
	f.cancel = widget.NewButton("Cancel", func() {
		if f.onCancel != nil {
			f.onCancel()
		}
	})
	if before != nil {
		f.fill(*before)
	} else {
		f.selectType("jira")
	}
	buttons := container.NewHBox(layout.NewSpacer(), f.cancel, f.test, f.save)
	f.content = container.NewBorder(nil, container.NewVBox(f.status, buttons), nil, nil, container.NewVScroll(f.grid))
	return f
}

// fill shows an existing connection: its name and type cannot change
// (deliveries are addressed by name), and its secret is not shown, only
// where it is kept.
func (f *connForm) fill(c connectors.Connection) {
	f.name.SetText(c.Name)
	f.name.Disable()
	f.values["baseUrl"] = c.BaseURL
	f.values["credentials.username"] = c.Credentials.Username
	f.values["credentials.clientId"] = c.Credentials.ClientID
	f.values["credentials.tokenUrl"] = c.Credentials.TokenURL
	form := app.ConnectionFormFor(c.Type)
	var extra []string
	for _, k := range slices.Sorted(maps.Keys(c.Options)) {
		v := c.Option(k, "")
		if raw := c.Options[k]; len(raw) > 0 && (raw[0] == '[' || raw[0] == '{') {
			v = string(raw)
		}
		if slices.Contains(form.Options, k) {
			f.values["options."+k] = v
		} else {
			extra = append(extra, k+"="+v)
		}
	}
	f.extra.SetText(strings.Join(extra, "\n"))
	f.selectType(c.Type)
	f.typ.Disable()
	f.selectCred(c.Credentials.Type)
	f.baseURL.SetText(c.BaseURL)
}

// typeChanged offers the vendor's credentials types and lays out its
// fields.
func (f *connForm) typeChanged() {
	form := app.ConnectionFormFor(f.selectedType())
	keep := f.selectedCred()
	f.creds = form.CredentialTypes
	f.credType.Options = labels(f.creds, app.CredentialTypeLabel)
	if !slices.Contains(f.creds, keep) {
		keep = ""
		if len(f.creds) > 0 {
			keep = f.creds[0]
		}
	}
	f.credType.Selected = app.CredentialTypeLabel(keep)
	f.credType.Refresh()
	f.layoutFields()
}

// labels are the display names of raw values, in the same order.
func labels(raw []string, name func(string) string) []string {
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = name(r)
	}
	return out
}

// selectedType is the chosen connector type as the config spells it.
func (f *connForm) selectedType() string { return rawOf(f.typ, f.types) }

// selectedCred is the chosen credentials type as the config spells it.
func (f *connForm) selectedCred() string { return rawOf(f.credType, f.creds) }

// selectType chooses a connector type by its config name.
func (f *connForm) selectType(typ string) { f.typ.SetSelected(app.TypeLabel(typ)) }

// selectCred chooses a credentials type by its config name.
func (f *connForm) selectCred(ct string) { f.credType.SetSelected(app.CredentialTypeLabel(ct)) }

// rawOf maps a select's shown option back to the raw value at the same
// position.
func rawOf(s *widget.Select, raw []string) string {
	if i := slices.Index(s.Options, s.Selected); i >= 0 && i < len(raw) {
		return raw[i]
	}
	return ""
}

// layoutFields rebuilds the grid for the chosen type and credentials
// type, keeping what was typed.
func (f *connForm) layoutFields() {
	f.keepValues()
	form := app.ConnectionFormFor(f.selectedType())
	ct := f.selectedCred()
	f.grid.RemoveAll()
	f.fields = map[string]*widget.Entry{}
	add := func(label string, o fyne.CanvasObject) {
		f.grid.Add(widget.NewLabelWithStyle(label, fyne.TextAlignTrailing, fyne.TextStyle{}))
		f.grid.Add(o)
	}
	add("Name", f.name)
	add("Help desk", f.typ)
	add("Base URL", f.baseURL)
	add("Sign-in", f.credType)
	secret := app.SecretField(ct)
	need := form.Credentials[ct]
	shown := slices.Clone(need)
	if secret != "" && !slices.Contains(shown, secret) {
		shown = append(shown, secret)
	}
	for _, k := range shown {
		e := widget.NewEntry()
		label := app.FieldLabel(k)
		if k == secret {
			e = widget.NewPasswordEntry()
			e.SetPlaceHolder("kept in this computer's keyring, never in the file")
			if f.before != nil {
				if ref := secretRef(f.before.Credentials, k); ref != "" {
					e.SetPlaceHolder("unchanged (" + ref + "); type to replace")
				}
			}
		}
		if !slices.Contains(need, k) && (k != secret || f.before == nil) {
			label += " (optional)"
		}
		e.SetText(f.values["credentials."+k])
		f.fields["credentials."+k] = e
		add(label, e)
	}
	for _, k := range form.Options {
		e := widget.NewEntry()
		e.SetText(f.values["options."+k])
		f.fields["options."+k] = e
		add(app.FieldLabel(k), e)
	}
	add("Other options", f.extra)
	f.grid.Refresh()
}

// secretRef is where an existing secret is kept, for the placeholder:
// env: and keyring: references only, never a value.
func secretRef(cr connectors.Credentials, field string) string {
	var v string
	switch field {
	case "password":
		v = cr.Password
	case "apiToken":
		v = cr.APIToken
	case "token":
		v = cr.Token
	case "clientSecret":
		v = cr.ClientSecret
	}
	if config.IsLiteral(v) {
		if v == "" {
			return ""
		}
		return "set"
	}
	return v
}

func (f *connForm) keepValues() {
	for k, e := range f.fields {
		if !strings.HasSuffix(k, "."+app.SecretField(f.selectedCred())) {
			f.values[k] = e.Text
		}
	}
}

// draft is the form as a core draft; an update carries every field, and
// removes the options no longer listed.
func (f *connForm) draft() (app.ConnectionDraft, error) {
	d := app.ConnectionDraft{Name: strings.TrimSpace(f.name.Text), Type: f.selectedType(), BaseURL: strings.TrimSpace(f.baseURL.Text),
		CredentialType: f.selectedCred(), Options: map[string]string{}}
	get := func(k string) string {
		if e, ok := f.fields[k]; ok {
			return strings.TrimSpace(e.Text)
		}
		return ""
	}
	d.Username, d.ClientID, d.TokenURL = get("credentials.username"), get("credentials.clientId"), get("credentials.tokenUrl")
	if e, ok := f.fields["credentials."+app.SecretField(d.CredentialType)]; ok {
		d.Secret = e.Text // as typed: a secret may end in a space
	}
	for k := range f.fields {
		if name, ok := strings.CutPrefix(k, "options."); ok {
			d.Options[name] = get(k)
		}
	}
	for i, line := range strings.Split(f.extra.Text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return d, fmt.Errorf("other options, line %d: write KEY=VALUE", i+1)
		}
		d.Options[k] = strings.TrimSpace(v)
	}
	if f.before == nil {
		for k, v := range d.Options {
			if v == "" {
				delete(d.Options, k)
			}
		}
		return d, nil
	}
	for k := range f.before.Options {
		if _, ok := d.Options[k]; !ok {
			d.Options[k] = "" // no longer listed: removed
		}
	}
	return d, nil
}

func (f *connForm) setStatus(text string, imp widget.Importance) {
	f.status.Importance = imp
	f.status.SetText(text)
	f.status.Show()
}

func (f *connForm) busy(on bool) {
	for _, b := range []*widget.Button{f.test, f.save} {
		if on {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// runTest checks the draft as Save would and runs the connection test,
// writing nothing.
func (f *connForm) runTest() {
	d, err := f.draft()
	if err != nil {
		f.setStatus(err.Error(), widget.DangerImportance)
		return
	}
	f.busy(true)
	f.setStatus("Testing…", widget.MediumImportance)
	f.bg.run(func() func() {
		rep, err := f.b.TestConnectionDraft(context.Background(), d, f.before == nil)
		return func() {
			f.busy(false)
			if err != nil {
				f.setStatus("Cannot be saved: "+plainErr(err), widget.DangerImportance)
				return
			}
			f.showTest(rep)
		}
	})
}

func (f *connForm) showTest(rep app.ConnectionTest) {
	var b strings.Builder
	app.WriteConnectionTests(&b, rep)
	verdict := "passed"
	if !rep.OK {
		verdict = "failed"
	}
	if rep.OK {
		f.setStatus("Test passed: "+rep.Name+" answers and accepts the credentials.", widget.SuccessImportance)
	} else {
		f.setStatus("Test failed; see the report. Fix the fields and test again.", widget.DangerImportance)
	}
	if f.showReport != nil {
		f.showReport("Connection test "+verdict+": "+rep.Name, b.String())
	}
}

// runSave tests, then saves through the core; a failed test saves
// nothing until Save is pressed again ("Save anyway").
func (f *connForm) runSave() {
	d, err := f.draft()
	if err != nil {
		f.setStatus(err.Error(), widget.DangerImportance)
		return
	}
	// "Save anyway" is for the draft whose test failed, not for one
	// edited since: that one is tested again first.
	fp := fmt.Sprintf("%#v", d)
	if f.force && fp != f.failed {
		f.force = false
		f.save.SetText("Save")
	}
	force := f.force
	f.busy(true)
	f.setStatus("Testing, then saving…", widget.MediumImportance)
	f.bg.run(func() func() {
		save := f.b.UpdateConnection
		if f.before == nil {
			save = f.b.AddConnection
		}
		res, err := save(context.Background(), d, app.SaveOptions{Test: true, Force: force})
		return func() {
			f.busy(false)
			switch {
			case errors.Is(err, app.ErrTestFailed):
				f.showTest(*res.Test)
				f.force, f.failed = true, fp
				f.save.SetText("Save anyway")
				f.setStatus("Not saved: the test failed. Fix the fields, or press Save anyway to keep it as it is.", widget.DangerImportance)
			case err != nil:
				f.setStatus("Not saved: "+plainErr(err), widget.DangerImportance)
			case res.Test != nil && !res.Test.OK:
				f.setStatus("Saved in "+res.Change.File+", although its test failed.", widget.WarningImportance)
				if f.onSaved != nil {
					f.onSaved(d.Name)
				}
			default:
				f.setStatus("Saved in "+res.Change.File+".", widget.SuccessImportance)
				if f.onSaved != nil {
					f.onSaved(d.Name)
				}
			}
		}
	})
}

// plainErr drops the writer's "config: add connection …:" prefix the
// form's title already says.
func plainErr(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "config: ") {
		msg = msg[i+3:]
	}
	return strings.ReplaceAll(msg, "invalid config:\n  ", "")
}
