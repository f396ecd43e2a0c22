package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// Managing connections: `connections add|update|remove` and the Settings
// window's Add, Edit and Remove call these, so both behave the same. They
// write the user's config file through config.EditConnection (in place,
// validated, atomic, refused under IT's lock); a secret typed by a person
// goes to the keyring and the file holds only its keyring: reference.

// ConnectionDraft is a connection as a person fills it in. In an update
// an empty field is left as it is, and an option whose value is ""
// is removed.
type ConnectionDraft struct {
	Name           string
	Type           string
	BaseURL        string
	CredentialType string
	Username       string
	ClientID       string
	TokenURL       string
	// SecretEnv names the environment variable holding the secret: the
	// file gets env:NAME.
	SecretEnv string
	// Secret is the secret itself: it goes to the keyring and the file
	// gets keyring:NAME. It is never written to the file or a message.
	Secret string
	// Options are the vendor's options; a value starting with [ or { is
	// JSON (Jira's components), anything else a string.
	Options map[string]string
}

// SaveOptions say whether to test a connection before saving it.
type SaveOptions struct {
	// Test runs the checks of `connections test` on the connection as it
	// would be saved (with the secret as typed) before anything is
	// written; a failed test saves nothing unless Force is set.
	Test  bool
	Force bool
}

// ConnectionSaved is what an add or update did.
type ConnectionSaved struct {
	Change *config.ConnectionChange `json:"change,omitempty"`
	Test   *ConnectionTest          `json:"test,omitempty"`
	Saved  bool                     `json:"saved"`
	// Keyring is the keyring item the secret went to, if one was given.
	Keyring string `json:"keyring,omitempty"`
}

// ErrTestFailed means a connection's test before saving failed, so it
// was not saved.
var ErrTestFailed = errors.New("the connection test failed, so nothing was saved")

// Pending choices for deliveries of a connection being removed.
const (
	PendingKeep = "keep" // they stay queued, waiting for a connection of that name
	PendingDead = "dead" // they are marked dead with a reason
)

// RemoveOptions say what becomes of a removed connection's deliveries
// that have work left. With none chosen, a removal that would leave some
// is refused with a *PendingError.
type RemoveOptions struct {
	Pending string // "", PendingKeep or PendingDead
	Reason  string // recorded on each delivery marked dead; a default when ""
}

// ConnectionRemoved is what a removal did.
type ConnectionRemoved struct {
	Change *config.ConnectionChange `json:"change"`
	// Pending is how many deliveries had work left; Kept of them wait,
	// Abandoned says how many were marked dead.
	Pending   int                 `json:"pending"`
	Kept      int                 `json:"kept"`
	Abandoned queue.AbandonResult `json:"abandoned"`
	Reason    string              `json:"reason,omitempty"`
	// SecretsRemoved are the keyring items of the connection removed with it.
	SecretsRemoved []string `json:"secretsRemoved,omitempty"`
}

// PendingError refuses a removal that would strand deliveries until the
// caller says what to do with them.
type PendingError struct {
	Connection string
	Pending    int
	// Gone: the connection is in no config any more; only its
	// deliveries are left to settle.
	Gone bool
}

func (e *PendingError) Error() string {
	if e.Gone {
		return fmt.Sprintf("connection %q is not in the config, but %s still wait for it: keep them waiting (sent if a connection of that name is configured again) or mark them dead with a reason",
			e.Connection, Plural(e.Pending, "delivery"))
	}
	return fmt.Sprintf("connection %q has %s waiting to be sent: keep them waiting (they stay queued and go out if a connection of that name is configured again) or mark them dead with a reason",
		e.Connection, Plural(e.Pending, "delivery"))
}

// ConfiguredConnection is one connection of the layered config, where it
// comes from, and why it cannot be changed here (nil when it can).
type ConfiguredConnection struct {
	// Connection is the entry in force, for testing and editing it: its
	// secret members may hold literals (a managed file's), so never show them.
	Connection connectors.Connection `json:"-"`
	Source     string                `json:"source"`
	Lock       error                 `json:"-"`
}

// ConnectionSetup is what adding or editing needs to know: the user's
// file edits go to, the connections, and why none can be added (nil when
// they can).
type ConnectionSetup struct {
	File        string
	Connections []ConfiguredConnection
	AddLock     error
}

// loadOptions are the config loader's options for edits: nothing
// migrates, the write changes one entry and nothing else.
func (s *Service) loadOptions() config.LoadOptions {
	o := s.opts
	if o.Getenv == nil {
		o.Getenv = s.getenv
	}
	return o.LoadOptions(false)
}

// ConnectionSetup reads the connections as the layered config has them
// now, with their locks.
func (s *Service) ConnectionSetup() (*ConnectionSetup, error) {
	lo := s.loadOptions()
	l, err := config.LoadLayers(lo)
	if err != nil {
		return nil, err
	}
	out := &ConnectionSetup{File: lo.ConfigFile, AddLock: l.ConnectionLock("")}
	if out.File == "" {
		out.File = lo.UserFile
	}
	for _, c := range l.Config.Connections {
		out.Connections = append(out.Connections, ConfiguredConnection{Connection: c,
			Source: l.Sources["/connections/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(c.Name)], Lock: l.ConnectionLock(c.Name)})
	}
	return out, nil
}

// SecretField is the credentials member a credentials type keeps its
// secret in ("" for none).
func SecretField(credType string) string {
	switch credType {
	case "basic":
		return "password"
	case "api_token":
		return "apiToken"
	case "bearer":
		return "token"
	case "oauth2", "oauth2_user":
		return "clientSecret"
	}
	return ""
}

// optionValue is an option as the file holds it.
func optionValue(name, v string) (json.RawMessage, error) {
	if t := strings.TrimSpace(v); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		if !json.Valid([]byte(t)) {
			return nil, fmt.Errorf("option %s: %q starts like JSON but is not valid JSON", name, t)
		}
		return json.RawMessage(t), nil
	}
	raw, _ := json.Marshal(v)
	return raw, nil
}

// secretRef is the reference the file gets for the draft's secret, and
// the keyring item it goes to ("" for an env: reference).
func (d ConnectionDraft) secretRef(field string) (ref, item string, err error) {
	switch {
	case d.SecretEnv != "" && d.Secret != "":
		return "", "", errors.New("give the secret either as an environment variable or as a value, not both")
	case d.SecretEnv != "":
		if strings.ContainsAny(d.SecretEnv, " =\t\n") {
			return "", "", fmt.Errorf("%q is not an environment variable name", d.SecretEnv)
		}
		return "env:" + d.SecretEnv, "", nil
	case d.Secret != "":
		if field == "" {
			return "", "", fmt.Errorf("credentials of type %q take no secret", d.CredentialType)
		}
		item = config.KeyringName(d.Name, field)
		return "keyring:" + item, item, nil
	}
	return "", "", nil
}

// edit turns a draft into a config edit: the whole entry for an add, the
// members it sets for an update of before.
func (d ConnectionDraft) edit(before *connectors.Connection) (config.ConnectionEdit, string, error) {
	e := config.ConnectionEdit{Name: d.Name}
	credType := d.CredentialType
	if credType == "" && before != nil {
		credType = before.Credentials.Type
	}
	field := SecretField(credType)
	ref, item, err := d.secretRef(field)
	if err != nil {
		return e, "", err
	}
	if ref != "" && field == "" {
		return e, "", fmt.Errorf("credentials of type %q take no secret", credType)
	}
	opts := map[string]json.RawMessage{}
	for k, v := range d.Options {
		if strings.TrimSpace(k) == "" {
			return e, "", errors.New("an option needs a name")
		}
		if v == "" {
			opts[k] = nil
			continue
		}
		if opts[k], err = optionValue(k, v); err != nil {
			return e, "", err
		}
	}
	if before == nil {
		c := connectors.Connection{Name: d.Name, Type: d.Type, BaseURL: d.BaseURL,
			Credentials: connectors.Credentials{Type: d.CredentialType, Username: d.Username, ClientID: d.ClientID, TokenURL: d.TokenURL}}
		setSecret(&c.Credentials, field, ref)
		for k, v := range opts {
			if v != nil {
				if c.Options == nil {
					c.Options = map[string]json.RawMessage{}
				}
				c.Options[k] = v
			}
		}
		e.Add = &c
		return e, item, nil
	}
	set := func(v, cur string, path ...string) {
		if v != "" && v != cur {
			e.Changes = append(e.Changes, config.SetField(v, path...))
		}
	}
	set(d.Type, before.Type, "type")
	set(d.BaseURL, before.BaseURL, "baseUrl")
	set(d.CredentialType, before.Credentials.Type, "credentials", "type")
	if d.CredentialType != "" && d.CredentialType != before.Credentials.Type {
		// Another type keeps its secret elsewhere: the old one goes.
		for _, f := range []string{"password", "apiToken", "token", "clientSecret"} {
			if f != field {
				e.Changes = append(e.Changes, config.FieldChange{Path: []string{"credentials", f}})
			}
		}
	}
	set(d.Username, before.Credentials.Username, "credentials", "username")
	set(d.ClientID, before.Credentials.ClientID, "credentials", "clientId")
	set(d.TokenURL, before.Credentials.TokenURL, "credentials", "tokenUrl")
	if ref != "" {
		e.Changes = append(e.Changes, config.SetField(ref, "credentials", field))
	}
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if opts[k] == nil {
			e.Changes = append(e.Changes, config.FieldChange{Path: []string{"options", k}})
		} else {
			e.Changes = append(e.Changes, config.FieldChange{Path: []string{"options", k}, Value: opts[k]})
		}
	}
	return e, item, nil
}

func setSecret(cr *connectors.Credentials, field, v string) {
	switch field {
	case "password":
		cr.Password = v
	case "apiToken":
		cr.APIToken = v
	case "token":
		cr.Token = v
	case "clientSecret":
		cr.ClientSecret = v
	}
}

// AddConnection adds the draft to the user's config file.
func (s *Service) AddConnection(ctx context.Context, d ConnectionDraft, o SaveOptions) (*ConnectionSaved, error) {
	return s.saveConnection(ctx, d, true, o)
}

// UpdateConnection changes the fields the draft sets in connection
// d.Name of the user's config file.
func (s *Service) UpdateConnection(ctx context.Context, d ConnectionDraft, o SaveOptions) (*ConnectionSaved, error) {
	return s.saveConnection(ctx, d, false, o)
}

// TestConnectionDraft checks the draft as an add (or update) would,
// without writing anything, then runs `connections test`'s checks on the
// connection as it would be saved, with the secret as typed. The error is
// for a draft that cannot be saved at all (a lock, a located validation
// problem).
func (s *Service) TestConnectionDraft(ctx context.Context, d ConnectionDraft, add bool) (ConnectionTest, error) {
	e, _, err := s.draftEdit(d, add)
	if err != nil {
		return ConnectionTest{}, err
	}
	e.DryRun = true
	ch, err := config.EditConnection(s.loadOptions(), e)
	if err != nil {
		return ConnectionTest{}, err
	}
	conn := *ch.After
	if d.Secret != "" {
		setSecret(&conn.Credentials, SecretField(conn.Credentials.Type), d.Secret)
	}
	// The validator already passed the entry (located); the literal
	// secret lives only in memory, for this test.
	t := *s
	t.Loaded = nil
	return t.TestConnection(ctx, conn), nil
}

// draftEdit is the config edit of a draft, with the current entry for an
// update.
func (s *Service) draftEdit(d ConnectionDraft, add bool) (config.ConnectionEdit, string, error) {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return config.ConnectionEdit{}, "", errors.New("the connection needs a name")
	}
	var before *connectors.Connection
	if !add {
		l, err := config.LoadLayers(s.loadOptions())
		if err != nil {
			return config.ConnectionEdit{}, "", err
		}
		if err := l.ConnectionLock(d.Name); err != nil {
			return config.ConnectionEdit{}, "", err
		}
		i := slices.IndexFunc(l.Config.Connections, func(c connectors.Connection) bool { return c.Name == d.Name })
		if i < 0 {
			return config.ConnectionEdit{}, "", fmt.Errorf("%w %q", config.ErrUnknownConnection, d.Name)
		}
		before = &l.Config.Connections[i]
	}
	return d.edit(before)
}

func (s *Service) saveConnection(ctx context.Context, d ConnectionDraft, add bool, o SaveOptions) (*ConnectionSaved, error) {
	e, item, err := s.draftEdit(d, add)
	if err != nil {
		return nil, err
	}
	out := &ConnectionSaved{Keyring: item}
	lo := s.loadOptions()
	if o.Test {
		rep, err := s.TestConnectionDraft(ctx, d, add)
		if err != nil {
			return nil, err
		}
		out.Test = &rep
		if !rep.OK && !o.Force {
			return out, ErrTestFailed
		}
	} else {
		dry := e
		dry.DryRun = true
		if _, err := config.EditConnection(lo, dry); err != nil {
			return nil, err // refused before the keyring is touched
		}
	}
	restore := func() {}
	if item != "" {
		ring, err := s.keyring()
		if err != nil {
			return nil, fmt.Errorf("the secret goes to the keyring, which cannot be opened (give it with an environment variable instead): %w", err)
		}
		prev, gerr := ring.Get(item)
		if err := ring.Set(item, []byte(d.Secret)); err != nil {
			return nil, fmt.Errorf("store the secret in the keyring: %w", err)
		}
		restore = func() {
			if gerr == nil {
				_ = ring.Set(item, prev)
			} else if errors.Is(gerr, fs.ErrNotExist) {
				_ = ring.Remove(item)
			}
		}
	}
	ch, err := config.EditConnection(lo, e)
	if err != nil {
		restore()
		return nil, err
	}
	out.Change, out.Saved = ch, true
	return out, nil
}

// PendingDeliveries counts connection name's deliveries with work left.
func (s *Service) PendingDeliveries(ctx context.Context, name string) (int, error) {
	if s.Store == nil {
		return 0, nil
	}
	left, err := s.Store.Left(ctx)
	if err != nil {
		return 0, err
	}
	return left[name], nil
}

// RemoveConnection removes connection name from the user's config file.
// Its deliveries with work left are never dropped silently: without a
// choice in o the removal is refused with a *PendingError; PendingKeep
// leaves them queued, PendingDead marks them dead with the reason (after
// the file is written, so a refused removal changes nothing). The
// connection's own keyring items go with it.
func (s *Service) RemoveConnection(ctx context.Context, name string, o RemoveOptions) (*ConnectionRemoved, error) {
	if o.Pending != "" && o.Pending != PendingKeep && o.Pending != PendingDead {
		return nil, fmt.Errorf("pending deliveries are kept (%s) or marked dead (%s), not %q", PendingKeep, PendingDead, o.Pending)
	}
	lo := s.loadOptions()
	// Locks and unknown names first: they are what the person must fix.
	ch, err := config.EditConnection(lo, config.ConnectionEdit{Name: name, Remove: true, DryRun: true})
	if errors.Is(err, config.ErrUnknownConnection) && !s.configured(name) {
		// Already gone from the config (removed by hand, or with
		// --pending keep): its deliveries may still wait, and this is
		// the way to settle them.
		return s.settleGone(ctx, name, o, err)
	}
	if err != nil {
		return nil, err
	}
	n, err := s.PendingDeliveries(ctx, name)
	if err != nil {
		return nil, err
	}
	if n > 0 && o.Pending == "" {
		return nil, &PendingError{Connection: name, Pending: n}
	}
	if ch, err = config.EditConnection(lo, config.ConnectionEdit{Name: name, Remove: true}); err != nil {
		return nil, err
	}
	out := &ConnectionRemoved{Change: ch, Pending: n}
	if n > 0 && o.Pending == PendingDead {
		out.Reason = o.Reason
		if strings.TrimSpace(out.Reason) == "" {
			out.Reason = fmt.Sprintf("the connection %q was removed from the config", name)
		}
		if out.Abandoned, err = s.Store.Abandon(ctx, name, out.Reason); err != nil {
			return out, fmt.Errorf("the connection is removed, but its deliveries still wait: %w", err)
		}
		out.Kept = out.Abandoned.InFlight
	} else {
		out.Kept = n
	}
	out.SecretsRemoved = s.removeSecrets(ch)
	return out, nil
}

// configured reports whether the config in force has connection name.
func (s *Service) configured(name string) bool {
	return s.Config != nil && slices.ContainsFunc(s.Config.Connections, func(c connectors.Connection) bool { return c.Name == name })
}

// settleGone is RemoveConnection for a name no config has any more: the
// file is not touched; its deliveries that still wait are marked dead
// (PendingDead) or left waiting (PendingKeep). unknown is returned when
// none waits, or no choice was made.
func (s *Service) settleGone(ctx context.Context, name string, o RemoveOptions, unknown error) (*ConnectionRemoved, error) {
	n, err := s.PendingDeliveries(ctx, name)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, unknown
	}
	if o.Pending == "" {
		return nil, &PendingError{Connection: name, Pending: n, Gone: true}
	}
	out := &ConnectionRemoved{Pending: n, Kept: n}
	if o.Pending == PendingDead {
		out.Reason = o.Reason
		if strings.TrimSpace(out.Reason) == "" {
			out.Reason = fmt.Sprintf("the connection %q is no longer in the config", name)
		}
		if out.Abandoned, err = s.Store.Abandon(ctx, name, out.Reason); err != nil {
			return nil, err
		}
		out.Kept = out.Abandoned.InFlight
	}
	return out, nil
}

// removeSecrets removes the keyring items Ticketray made for the removed
// entry (config.<name>.<field>), best effort: a keyring that cannot be
// opened keeps them.
func (s *Service) removeSecrets(ch *config.ConnectionChange) []string {
	if ch.Before == nil {
		return nil
	}
	cr := ch.Before.Credentials
	prefix := "keyring:" + strings.TrimSuffix(config.KeyringName(ch.Connection, "x"), "x")
	// An item another connection still names stays (a hand-written
	// config may share one).
	shared := map[string]bool{}
	if s.Config != nil {
		for _, c := range s.Config.Connections {
			if c.Name == ch.Connection {
				continue
			}
			k := c.Credentials
			for _, ref := range []string{k.Password, k.APIToken, k.Token, k.ClientSecret, k.RefreshToken, c.WebhookSecret} {
				shared[ref] = true
			}
		}
	}
	var items []string
	for _, ref := range []string{cr.Password, cr.APIToken, cr.Token, cr.ClientSecret, cr.RefreshToken, ch.Before.WebhookSecret} {
		if strings.HasPrefix(ref, prefix) && !shared[ref] {
			items = append(items, strings.TrimPrefix(ref, "keyring:"))
		}
	}
	if len(items) == 0 {
		return nil
	}
	ring, err := s.keyring()
	if err != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if ring.Remove(it) == nil {
			out = append(out, it)
		}
	}
	return out
}

// ConnectionForm is what a person fills in to add a connection of a
// type, derived from the connector registry: the credentials types the
// vendor's validator accepts, the credentials fields each needs, and the
// options it requires.
type ConnectionForm struct {
	Type            string
	CredentialTypes []string            // accepted, in a sensible order
	Credentials     map[string][]string // credentials type → required fields ("username", "apiToken", …)
	Options         []string            // required options, as the validator names them
}

// credentialTypes are every credentials type, most common first.
var credentialTypes = []string{"api_token", "basic", "bearer", "oauth2", "oauth2_user"}

// ConnectionFormFor asks the registered driver of typ, through
// Connection.Validate, what a connection of that type needs.
func ConnectionFormFor(typ string) ConnectionForm {
	f := ConnectionForm{Type: typ, Credentials: map[string][]string{}}
	probe := func(cr connectors.Credentials) []connectors.FieldError {
		c := connectors.Connection{Name: "probe", Type: typ, BaseURL: "https://probe.example", Credentials: cr}
		return c.Validate()
	}
	full := func(ct string) connectors.Credentials {
		return connectors.Credentials{Type: ct, Username: "probe@example.com", Password: "env:P", APIToken: "env:P", Token: "env:P",
			ClientID: "probe", ClientSecret: "env:P", TokenURL: "https://probe.example/services/oauth2/token"}
	}
	for _, ct := range credentialTypes {
		if slices.ContainsFunc(probe(full(ct)), func(e connectors.FieldError) bool { return e.Field == "credentials.type" }) {
			continue
		}
		f.CredentialTypes = append(f.CredentialTypes, ct)
		var need []string
		for _, e := range probe(connectors.Credentials{Type: ct}) {
			if k, ok := strings.CutPrefix(e.Field, "credentials."); ok && strings.Contains(e.Msg, "is required") {
				need = append(need, k)
			}
		}
		f.Credentials[ct] = need
	}
	for _, e := range probe(full(firstOr(f.CredentialTypes, "bearer"))) {
		if k, ok := strings.CutPrefix(e.Field, "options."); ok && strings.Contains(e.Msg, "is required") {
			f.Options = append(f.Options, k)
		}
	}
	return f
}

func firstOr(l []string, def string) string {
	if len(l) > 0 {
		return l[0]
	}
	return def
}

// typeLabels name the connector types for people, in forms and views;
// the config keeps the type itself.
var typeLabels = map[string]string{
	"jira":         "Jira (Cloud or Data Center)",
	"jsm":          "Jira Service Management",
	"servicenow":   "ServiceNow",
	"zendesk":      "Zendesk",
	"freshservice": "Freshservice",
	"salesforce":   "Salesforce",
	"bmc_helix":    "BMC Helix",
}

// credentialTypeLabels name the credentials types for people.
var credentialTypeLabels = map[string]string{
	"api_token":   "API token",
	"basic":       "Basic (user + password)",
	"bearer":      "Access token (bearer)",
	"oauth2":      "OAuth 2 client credentials",
	"oauth2_user": "OAuth 2, each person signs in",
}

// TypeLabel names a connector type for people ("servicenow" is
// "ServiceNow"); a type without a name is shown as it is.
func TypeLabel(typ string) string {
	if l, ok := typeLabels[typ]; ok {
		return l
	}
	return typ
}

// CredentialTypeLabel names a credentials type for people ("basic" is
// "Basic (user + password)"); an unknown type is shown as it is.
func CredentialTypeLabel(credType string) string {
	if l, ok := credentialTypeLabels[credType]; ok {
		return l
	}
	return credType
}

// FieldLabel names a config member for people: "projectKey" is
// "Project key", "apiToken" "API token".
func FieldLabel(key string) string {
	switch key {
	case "apiToken":
		return "API token"
	case "clientId":
		return "Client ID"
	case "tokenUrl":
		return "Token URL"
	case "baseUrl":
		return "Base URL"
	}
	var b strings.Builder
	for i, r := range key {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteRune(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if t, ok := strings.CutSuffix(s, " id"); ok {
		s = t + " ID"
	}
	return s
}
