package config

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
)

func TestSignatures(t *testing.T) {
	pubPEM, privPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPEM, _ := GenerateKey()
	other, _ := ParsePrivateKey(otherPEM)
	body := []byte(`{"version":1,"categories":["Signed"]}`)
	tests := []struct {
		name    string
		pin     bool
		pinFile bool // the key as ManagedDir/config.pub instead of an option
		sig     func() []byte
		data    func() []byte
		want    string // "" means accepted
		signed  bool
	}{
		{"valid signature accepted", true, false, func() []byte { return Sign(priv, body) }, nil, "", true},
		{"pinned via config.pub", false, true, func() []byte { return Sign(priv, body) }, nil, "", true},
		{"tampered byte rejected", true, false, func() []byte { return Sign(priv, body) },
			func() []byte { b := slices.Clone(body); b[len(b)-4] = 'X'; return b }, "refused: the signature does not match the file", false},
		{"other key rejected", true, false, func() []byte { return Sign(other, body) }, nil, "refused: the signature does not match", false},
		{"missing signature refused when pinned", true, false, nil, nil, "refused: unsigned: ", false},
		{"garbage signature refused", true, false, func() []byte { return []byte("not base64!") }, nil, "is not the base64 of an ed25519 signature", false},
		{"no pin: signature optional", false, false, nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			data := body
			if tt.data != nil {
				data = tt.data()
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.sig != nil {
				if err := os.WriteFile(filepath.Join(dir, "config.json.sig"), tt.sig(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			o := LoadOptions{ManagedDir: dir}
			if tt.pin {
				o.PublicKey = pub
			}
			if tt.pinFile {
				if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), pubPEM, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l, err := LoadLayers(o)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Join(dir, "config.json")) {
					t.Fatalf("error = %v, want it to name the file and say %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Config.Categories[0] != "Signed" || l.Layers[0].Signed != tt.signed {
				t.Errorf("config %+v, layers %+v", l.Config, l.Layers)
			}
		})
	}
}

func TestPublicKeyFormats(t *testing.T) {
	pubPEM, _, _ := GenerateKey()
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(" " + encodeB64(pub) + "\n")
	got, err := ParsePublicKey(raw)
	if err != nil || !got.Equal(pub) {
		t.Errorf("base64 form: %v, %v", got, err)
	}
	for _, bad := range []string{"", "abc", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"} {
		if _, err := ParsePublicKey([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}

func encodeB64(k ed25519.PublicKey) string {
	b, _ := json.Marshal([]byte(k)) // JSON encodes []byte as standard base64
	return strings.Trim(string(b), `"`)
}

// memRing is an in-memory keyring.
type memRing map[string]string

func (m memRing) Set(name string, v []byte) error { m[name] = string(v); return nil }

func TestSecretMigration(t *testing.T) {
	const user = `{
  "version": 1,
  "connections": [
    {"name": "Production ServiceNow", "type": "servicenow", "baseUrl": "https://a.service-now.com",
     "credentials": {"type": "basic", "username": "svc", "password": "s3cret \"quoted\""}},
    {"name": "Jira", "type": "jira", "baseUrl": "https://j.example",
     "credentials": {"type": "oauth2", "clientId": "id", "clientSecret": "cs-literal", "tokenUrl": "https://j.example/t"}},
    {"name": "Env", "type": "jira", "baseUrl": "https://e.example", "credentials": {"type": "bearer", "token": "env:TOKEN"}}
  ]
}
`
	const managed = `{"version":1,"connections":[{"name":"M","type":"jira","baseUrl":"https://m.example","credentials":{"type":"bearer","token":"managed-literal"}}]}`
	dir := tree(t, map[string]string{"user.json": user, "managed/config.json": managed})
	userPath := filepath.Join(dir, "user.json")
	if err := os.Chmod(userPath, 0o604); err != nil {
		t.Fatal(err)
	}
	ring := memRing{}
	o := opts(dir)
	o.Secrets = func() (SecretStore, error) { return ring, nil }
	l, err := LoadLayers(o)
	if err != nil {
		t.Fatal(err)
	}
	pwItem, csItem := KeyringName("Production ServiceNow", "password"), KeyringName("Jira", "clientSecret")
	wantRing := memRing{pwItem: `s3cret "quoted"`, csItem: "cs-literal"}
	if !reflect.DeepEqual(ring, wantRing) {
		t.Errorf("keyring = %v, want %v", ring, wantRing)
	}
	got, _ := os.ReadFile(userPath)
	want := strings.NewReplacer(`"s3cret \"quoted\""`, `"keyring:`+pwItem+`"`, `"cs-literal"`, `"keyring:`+csItem+`"`).Replace(user)
	if string(got) != want {
		t.Errorf("rewritten file:\n%s\nwant (every other byte kept):\n%s", got, want)
	}
	if st, _ := os.Stat(userPath); st.Mode().Perm() != 0o604 {
		t.Errorf("mode = %v, want it kept", st.Mode().Perm())
	}
	if cr := l.Config.Connections[0].Credentials; cr.Password != "keyring:"+pwItem {
		t.Errorf("effective password = %q", cr.Password)
	}
	if m, _ := os.ReadFile(filepath.Join(dir, "managed", "config.json")); string(m) != managed {
		t.Errorf("the managed file was rewritten: %s", m)
	}
	var warns []string
	for _, w := range l.Warnings {
		warns = append(warns, w.String())
	}
	text := strings.Join(warns, "\n")
	for _, w := range []string{"user.json: moved 2 literal secret(s) into the keyring", "managed/config.json: holds literal secrets and is readable by everyone"} {
		if !strings.Contains(text, w) {
			t.Errorf("warnings lack %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "user.json: holds literal") {
		t.Errorf("the migrated file is still reported as holding secrets:\n%s", text)
	}
	// A second load finds nothing to move.
	ring2 := memRing{}
	o.Secrets = func() (SecretStore, error) { return ring2, nil }
	if _, err := LoadLayers(o); err != nil || len(ring2) != 0 {
		t.Errorf("second load: %v, moved %v", err, ring2)
	}
}

func TestSecretMigrationWithoutKeyring(t *testing.T) {
	dir := tree(t, map[string]string{"user.json": `{"version":1,"connections":[{"name":"J","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"lit"}}]}`})
	o := opts(dir)
	o.Secrets = func() (SecretStore, error) { return nil, errors.New("no keyring here") }
	l, err := LoadLayers(o)
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.Connections[0].Credentials.Token != "lit" || len(l.Warnings) == 0 || !strings.Contains(l.Warnings[0].Msg, "literal secrets stay in the file: no keyring to move them to") {
		t.Errorf("config %+v warnings %v", l.Config.Connections, l.Warnings)
	}
}

func TestRedactedCoversSecretFields(t *testing.T) {
	var c Config
	c.Connections = make([]Connection, 1)
	cr := reflect.ValueOf(&c.Connections[0].Credentials).Elem()
	for _, f := range SecretFields {
		for i := range cr.NumField() {
			if jsonName(cr.Type().Field(i)) == f {
				cr.Field(i).SetString("literal")
			}
		}
	}
	red := reflect.ValueOf(c.Redacted().Connections[0].Credentials)
	for i := range red.NumField() {
		name := jsonName(red.Type().Field(i))
		if v, ok := red.Field(i).Interface().(string); ok && slices.Contains(SecretFields, name) && v != "***" {
			t.Errorf("%s = %q after Redacted", name, v)
		}
	}
}

func TestWatch(t *testing.T) {
	dir := tree(t, map[string]string{"managed/config.json": `{"version":1,"categories":["One"]}`})
	o := opts(dir)
	tick := make(chan time.Time)
	ticked := make(chan struct{})
	type event struct {
		l   *Loaded
		err error
	}
	events := make(chan event, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, o, WatchOptions{Tick: tick, ticked: ticked}, func(l *Loaded, err error) { events <- event{l, err} })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	main := filepath.Join(o.ManagedDir, "config.json")
	step := func(write func(), wantEvent bool) event {
		t.Helper()
		write()
		tick <- time.Now()
		<-ticked // the watcher has handled the tick
		select {
		case e := <-events:
			if !wantEvent {
				t.Fatalf("unexpected reload: %+v", e)
			}
			return e
		default:
			if wantEvent {
				t.Fatal("no reload")
			}
			return event{}
		}
	}
	step(func() {}, false)
	e := step(func() { os.WriteFile(main, []byte(`{"version":1,"categories":["Two"]}`), 0o644) }, true)
	if e.err != nil || e.l.Config.Categories[0] != "Two" {
		t.Errorf("reload = %+v", e)
	}
	e = step(func() { os.WriteFile(main, []byte(`{"version":1,"categories":["Three"],"oops":1}`), 0o644) }, true)
	if e.err == nil || !strings.Contains(e.err.Error(), `unknown key "oops"`) {
		t.Errorf("invalid change: %v", e.err)
	}
	e = step(func() {
		os.MkdirAll(filepath.Join(o.ManagedDir, "config.d"), 0o755)
		os.WriteFile(filepath.Join(o.ManagedDir, "config.d", "a.json"), []byte(`{"categories":["Drop"]}`), 0o644)
		os.WriteFile(main, []byte(`{"version":1}`), 0o644)
	}, true)
	if e.err != nil || e.l.Config.Categories[0] != "Drop" {
		t.Errorf("drop-in: %v %+v", e.err, e.l)
	}
}

// TestSchemaMatchesStructs checks that every Go field has a schema
// property and the reverse, object by object.
func TestSchemaMatchesStructs(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema, &schema); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	defs := schema["$defs"].(map[string]any)
	props := func(obj map[string]any) []string {
		var keys []string
		for k := range obj["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	def := func(name string) map[string]any { return defs[name].(map[string]any) }
	tests := []struct {
		name   string
		obj    map[string]any
		goType reflect.Type
	}{
		{"config", schema, reflect.TypeFor[Config]()},
		{"connection", def("connection"), reflect.TypeFor[Connection]()},
		{"credentials", def("credentials"), reflect.TypeOf(Connection{}.Credentials)},
		{"skill", def("skill"), reflect.TypeOf(Config{}.Skills).Elem()},
		{"redaction", def("redaction"), reflect.TypeOf(Config{}.Redaction)},
		{"policy", def("policy"), reflect.TypeFor[Policy]()},
		{"branding", def("branding"), reflect.TypeFor[Branding]()},
	}
	for _, tt := range tests {
		if got, want := props(tt.obj), jsonKeys(tt.goType); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: schema has %v, Go has %v", tt.name, got, want)
		}
		if tt.obj["additionalProperties"] != false {
			t.Errorf("%s: the schema must reject unknown keys too", tt.name)
		}
	}
	conn := def("connection")["properties"].(map[string]any)
	var types []string
	for _, v := range conn["type"].(map[string]any)["enum"].([]any) {
		types = append(types, v.(string))
	}
	if !reflect.DeepEqual(types, connectors.Types) {
		t.Errorf("connection types: schema %v, Go %v", types, connectors.Types)
	}
	// The rate limit is an option, as the code reads it.
	if _, ok := conn["options"].(map[string]any)["properties"].(map[string]any)[connectors.OptionRateLimit]; !ok {
		t.Errorf("options.%s is not in the schema", connectors.OptionRateLimit)
	}
	for _, f := range SecretFields {
		if p := def("credentials")["properties"].(map[string]any)[f].(map[string]any); p["$ref"] != "#/$defs/secret" {
			t.Errorf("credentials.%s is not a secret in the schema", f)
		}
	}
}
