package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/secrets"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// fakeRing is a keyring holding items.
type fakeRing map[string]string

func (r fakeRing) Get(name string) ([]byte, error) {
	v, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("item %q: %w", name, fs.ErrNotExist)
	}
	return []byte(v), nil
}

func ringOf(r fakeRing) func() (secrets.Getter, error) {
	return func() (secrets.Getter, error) { return r, nil }
}

// TestConnectionProblems: a problem inside one connection leaves the
// config loaded with that connection in it, marked; the other connection
// has no problem; each problem is located in the file.
func TestConnectionProblems(t *testing.T) {
	sn := func(extra string) string {
		return `{"name":"Bad","type":"servicenow","baseUrl":"https://sn.example","credentials":{"type":"basic","username":"u","password":"env:SN"}` + extra + `}`
	}
	tests := []struct {
		name string
		bad  string   // the connection named Bad, on line 4 of the file
		want []string // each in one of ConnectionProblems("Bad")
	}{
		{"an unknown type", `{"name":"Bad","type":"remedy","baseUrl":"https://r.example","credentials":{"type":"bearer","token":"env:T"}}`,
			[]string{"user.json:4:22: connections[1].type: must be one of"}},
		{"jira without projectKey", `{"name":"Bad","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"env:T"},"options":{"issueType":"Task"}}`,
			[]string{"user.json:4:117: connections[1].options.projectKey: is required for jira connections"}},
		{"a secret that does not resolve", `{"name":"Bad","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"env:MISSING"},"options":{"projectKey":"K","issueType":"Task"}}`,
			[]string{"user.json:4:98: connections[1].credentials.token: does not resolve: secret env:MISSING: environment variable MISSING is not set (hint: set MISSING"}},
		{"a keyring secret that is not there", `{"name":"Bad","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"keyring:gone"},"options":{"projectKey":"K","issueType":"Task"}}`,
			[]string{"connections[1].credentials.token: does not resolve: secret keyring:gone: item \"gone\": file does not exist"}},
		{"a mapping value the vendor does not take", sn(`,"mappings":{"priority":{"high":"P1","default":"3"}}`),
			[]string{"user.json:4:163: connections[1].mappings.priority.high: must be an urgency and impact"}},
		{"a category mapping key the config does not list", sn(`,"mappings":{"category":{"Printers":"p","default":"d"}}`),
			[]string{"user.json:4:167: connections[1].mappings.category.Printers: is not one of the config's categories (Network)"}},
		{"http to a remote host", `{"name":"Bad","type":"servicenow","baseUrl":"http://sn.example","credentials":{"type":"basic","username":"u","password":"env:SN"}}`,
			[]string{"user.json:4:45: connections[1].baseUrl: must use https"}},
		{"an unknown key inside the connection", sn(`,"timeout":5`),
			[]string{`user.json:4:132: connections[1]: unknown key "timeout" (hint: did you mean "timeoutMs"?`}},
		{"the rate limit outside options", sn(`,"rateLimitPerSecond":5`),
			[]string{`user.json:4:132: connections[1]: unknown key "rateLimitPerSecond" (hint: it is an option: "options": {"rateLimitPerSecond": 5})`}},
		{"a rate limit that is not positive", sn(`,"options":{"rateLimitPerSecond":0}`),
			[]string{`user.json:4:164: connections[1].options.rateLimitPerSecond: must be a positive number`}},
		{"a wrong type inside the connection: the rest is still validated", `{"name":"Bad","type":"servicenow","baseUrl":"http://sn.example","timeoutMs":"30","credentials":{"type":"basic","username":"u","password":"env:SN"}}`,
			[]string{"user.json:4:77: connections[1].timeoutMs: must be integer, not a string", "user.json:4:45: connections[1].baseUrl: must use https"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "{\"version\": 1,\n\"categories\": [\"Network\"],\n\"connections\": [" + c("Good", "https://good.example") + ",\n" + tt.bad + "\n]}"
			dir := tree(t, map[string]string{"user.json": body})
			o := LoadOptions{ConfigFile: filepath.Join(dir, "user.json"), Resolve: SecretResolver(env(map[string]string{"T": "t", "SN": "s"}), ringOf(fakeRing{}))}
			l, err := LoadLayers(o)
			if err != nil {
				t.Fatalf("a connection's problem rejected the config: %v", err)
			}
			if len(l.Config.Connections) != 2 || l.Config.Connections[1].Name != "Bad" {
				t.Errorf("connections = %+v", l.Config.Connections)
			}
			if p := l.ConnectionProblems("Good"); len(p) > 0 {
				t.Errorf("Good has problems: %v", p)
			}
			if got := l.Misconfigured(); !reflect.DeepEqual(got, []string{"Bad"}) {
				t.Errorf("Misconfigured() = %v", got)
			}
			got := l.ConnectionProblems("Bad")
			if len(got) != len(l.Problems) {
				t.Errorf("Problems %v, of Bad %v", l.Problems, got)
			}
			var text []string
			for _, p := range got {
				text = append(text, p.String())
				if p.Connection != "Bad" || p.Severity != SeverityError || p.Line == 0 {
					t.Errorf("problem %+v", p)
				}
			}
			all := strings.Join(text, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
			// ValidateLayers reports the same problems.
			probs, err := ValidateLayers(o)
			if err != nil || len(probs) != len(got) || HasErrors(probs) != true {
				t.Errorf("ValidateLayers = %v, %v", probs, err)
			}
		})
	}
}

// TestProblemsOfEntriesNotInForce: a problem in a connection entry that
// another layer's entry replaces, or that IT's lock hides, misconfigures
// nothing: it is a warning.
func TestProblemsOfEntriesNotInForce(t *testing.T) {
	typo := `{"name":"A","type":"jira","baseUrl":"https://a.example","credentials":{"type":"bearer","token":"env:T"},"timout":5}`
	tests := []struct {
		name    string
		managed string
		want    string
	}{
		{"replaced by a managed entry", `{"version":1,"connections":[` + c("A", "https://it.example") + `]}`, "(not in force: the entry that applies is in "},
		{"connections locked", `{"version":1,"locked":["connections"]}`, "(not in force: the entry that applies is none: connections are locked by "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, map[string]string{"user.json": `{"version":1,"connections":[` + typo + `]}`, "managed/config.json": tt.managed})
			l, err := LoadLayers(opts(dir))
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Problems) > 0 {
				t.Errorf("problems: %v", l.Problems)
			}
			found := false
			for _, w := range l.Warnings {
				found = found || strings.Contains(w.String(), `unknown key "timout"`) && strings.Contains(w.Msg, tt.want) && w.Connection == "A"
			}
			if !found {
				t.Errorf("no warning %q in %v", tt.want, l.Warnings)
			}
		})
	}
}

// TestSecretResolution: a reference that does not resolve is a warning
// for a file checked on its own (it may be for another machine) and an
// error of its connection in the layered config this machine runs.
func TestSecretResolution(t *testing.T) {
	const body = `{"version":1,"connections":[{"name":"J","type":"jira","baseUrl":"https://j.example","options":{"projectKey":"K","issueType":"Task"},
"credentials":{"type":"oauth2","clientId":"c","tokenUrl":"https://auth.example/t","clientSecret":"keyring:cs","grant":"refresh_token","refreshToken":"env:RT"}}]}`
	tests := []struct {
		name    string
		getenv  map[string]string
		ring    func() (secrets.Getter, error)
		want    []string // the paths that do not resolve
		wantMsg string
	}{
		{"all resolve", map[string]string{"RT": "rt-value"}, ringOf(fakeRing{"cs": "cs-value"}), nil, ""},
		{"an unset variable", nil, ringOf(fakeRing{"cs": "cs-value"}), []string{"connections[0].credentials.refreshToken"}, "environment variable RT is not set"},
		{"no keyring", map[string]string{"RT": "rt-value"}, func() (secrets.Getter, error) { return nil, errors.New("no Secret Service") },
			[]string{"connections[0].credentials.clientSecret"}, "secret keyring:cs: no keyring: no Secret Service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolve := SecretResolver(env(tt.getenv), tt.ring)
			_, probs := Check("f.json", []byte(body), CheckOptions{Resolve: resolve})
			dir := tree(t, map[string]string{"user.json": body})
			l, err := LoadLayers(LoadOptions{ConfigFile: filepath.Join(dir, "user.json"), Resolve: resolve})
			if err != nil {
				t.Fatal(err)
			}
			var paths, layered []string
			for _, p := range probs {
				paths = append(paths, p.Path)
				if p.Severity != SeverityWarning || !strings.Contains(p.Msg, tt.wantMsg) || p.Line != 2 {
					t.Errorf("Check: %+v, want a warning on line 2 saying %q", p, tt.wantMsg)
				}
			}
			for _, p := range l.Problems {
				layered = append(layered, p.Path)
				if p.Severity != SeverityError || p.Connection != "J" {
					t.Errorf("LoadLayers: %+v, want an error of J", p)
				}
			}
			if !reflect.DeepEqual(paths, tt.want) || !reflect.DeepEqual(layered, tt.want) {
				t.Errorf("Check %v, LoadLayers %v, want %v", paths, layered, tt.want)
			}
			if s := fmt.Sprint(probs, l.Problems); strings.Contains(s, "-value") {
				t.Errorf("a secret value was printed: %s", s)
			}
		})
	}
	// Without Resolve nothing is checked.
	if _, probs := Check("f.json", []byte(body), CheckOptions{}); len(probs) != 0 {
		t.Errorf("without Resolve: %v", probs)
	}
}

// TestCheckEveryProblem: shape problems do not hide the values' problems,
// and each is located, the missing ones at their enclosing object.
func TestCheckEveryProblem(t *testing.T) {
	body := `{
  "version": 1,
  "categorys": [],
  "policy": {"retentionDays": -1, "maxAttempts": "3"},
  "connections": [{
    "name": "SN",
    "type": "servicenow",
    "baseUrl": "http://sn.example",
    "credentials": {"type": "basic", "username": "svc"},
    "defaultPriority": "urgent"
  }]
}`
	_, probs := Check("f.json", []byte(body), CheckOptions{})
	var got []string
	for _, p := range probs {
		got = append(got, fmt.Sprintf("%d:%d %s %s %s", p.Line, p.Column, p.Severity, p.Connection, p.Path))
	}
	want := []string{
		"3:3 error  ",                                       // unknown key "categorys"
		"4:31 error  policy.retentionDays",                  // must be between
		"4:50 error  policy.maxAttempts",                    // must be integer
		"8:16 error SN connections[0].baseUrl",              // https
		"9:20 error SN connections[0].credentials.password", // missing: its object
		"10:24 error SN connections[0].defaultPriority",     // urgent
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s\n%v", strings.Join(got, "\n"), strings.Join(want, "\n"), probs)
	}
}

// TestCheckLockWarnings: keys IT locks that a file sets are warnings, as
// in the layered config.
func TestCheckLockWarnings(t *testing.T) {
	dir := tree(t, map[string]string{
		"managed/config.json":     `{"version":1,"locked":["categories","policy.retentionDays"]}`,
		"managed/config.d/a.json": `{"locked":["branding"]}`,
	})
	o := opts(dir)
	body := "{\"version\":1,\n\"categories\":[\"A\"],\n\"policy\":{\"retentionDays\":3,\"maxAttempts\":2},\n\"branding\":{\"appName\":\"X\"}}"
	_, probs := Check("mine.json", []byte(body), CheckOptions{Locked: o.LocksOver("mine.json")})
	var got []string
	for _, p := range probs {
		if p.Severity != SeverityWarning {
			t.Errorf("not a warning: %v", p)
		}
		got = append(got, strings.ReplaceAll(p.String(), dir, "$DIR"))
	}
	want := []string{
		"mine.json:2:14: categories: ignored: this key is locked by $DIR/managed/config.json (hint: ask IT to change it there, or remove it from your file)",
		"mine.json:3:27: policy.retentionDays: ignored: this key is locked by $DIR/managed/config.json (hint: ask IT to change it there, or remove it from your file)",
		"mine.json:4:12: branding: ignored: this key is locked by $DIR/managed/config.d/a.json (hint: ask IT to change it there, or remove it from your file)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := o.LocksOver(filepath.Join(dir, "managed", "config.json")); l != nil {
		t.Errorf("a managed file is not under its own locks: %v", l)
	}
}

func TestCheckRows(t *testing.T) {
	cats := []string{"Network", "Access"}
	tests := []struct {
		name  string
		kind  string
		table map[string]string
		cats  []string
		want  []string // key: message
	}{
		{"listed categories in any case, and default", "category", map[string]string{"network": "n", "ACCESS": "a", "Default": "d"}, cats, nil},
		{"an unlisted category", "category", map[string]string{"Printers": "p", "default": "d"}, cats, []string{"Printers: is not one of the config's categories (Network, Access)"}},
		{"no categories: any key", "category", map[string]string{"Printers": "p"}, nil, nil},
		{"priority keys are the connectors' rule", "priority", map[string]string{"urgent": "1"}, cats, nil},
		{"a blank value", "priority", map[string]string{"high": " "}, nil, []string{"high: has no value"}},
		{"keys that differ only in case", "priority", map[string]string{"High": "1", "high": "2"}, nil, []string{`high: is the same row as "High" (keys differ only in case)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range checkRows(tt.kind, tt.table, tt.cats) {
				got = append(got, p.key+": "+p.msg)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	data := []byte(`{"a": {"b.c": [1, {"d": 2}], "b": 3}, "e": null}`)
	root, p := parseTree("f", data)
	if p != nil {
		t.Fatal(p)
	}
	tests := []struct{ path, at string }{
		{"a", `{"b.c"`},
		{"a.b.c[1].d", "2}"},
		{"a.b.c[1]", `{"d"`},
		{"a.b", "3}"},
		{"a.b.c[7]", "[1,"},       // no such item: the array
		{"a.missing.x", `{"b.c"`}, // no such member: the object
		{"e.f", "null"},           // under a scalar: the scalar
		{"", `{"a"`},
	}
	for _, tt := range tests {
		if got := string(data[locate(root, tt.path):]); !strings.HasPrefix(got, tt.at) {
			t.Errorf("locate(%q) at %.10q, want %q", tt.path, got, tt.at)
		}
	}
}

// TestCheckGolden: `config validate FILE` on a file with many problems,
// as text and as JSON, against testdata/validate.
func TestCheckGolden(t *testing.T) {
	const file = "testdata/validate/every-problem.json"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	resolve := SecretResolver(env(nil), ringOf(fakeRing{}))
	_, probs := Check(file, data, CheckOptions{Resolve: resolve})
	var text strings.Builder
	for _, p := range probs {
		fmt.Fprintf(&text, "%s: %s [connection %q]\n", p.Severity, p, p.Connection)
	}
	js, err := json.MarshalIndent(probs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for golden, got := range map[string]string{"validate.golden": text.String(), "validate.json.golden": string(js) + "\n"} {
		path := filepath.Join("testdata", "validate", golden)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs (go test -update rewrites it):\n%s", golden, got)
		}
	}
}
