package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// tree writes files (path → content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func opts(dir string) LoadOptions {
	return LoadOptions{ManagedDir: filepath.Join(dir, "managed"), UserFile: filepath.Join(dir, "user.json")}
}

func c(name, url string) string {
	b, _ := json.Marshal(map[string]any{"name": name, "type": "jira", "baseUrl": url, "credentials": map[string]string{"type": "bearer", "token": "env:T"},
		"options": map[string]string{"projectKey": "IT", "issueType": "Task"}})
	return string(b)
}

func TestLayers(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		check func(t *testing.T, l *Loaded)
		warn  []string // each must appear in some warning
	}{
		{"no file: defaults", nil, func(t *testing.T, l *Loaded) {
			if !reflect.DeepEqual(l.Config, Default()) || l.Sources["/"] != BuiltIn {
				t.Errorf("got %+v, sources %v", l.Config, l.Sources)
			}
		}, nil},
		{"managed wins for keys it sets; objects merge by member", map[string]string{
			"user.json":           `{"version":1,"categories":["U"],"policy":{"retentionDays":9,"maxAttempts":4}}`,
			"managed/config.json": `{"version":1,"categories":["M"],"policy":{"retentionDays":14}}`,
		}, func(t *testing.T, l *Loaded) {
			if got := l.Config.Categories; !reflect.DeepEqual(got, []string{"M"}) {
				t.Errorf("categories = %v", got)
			}
			if p := l.Config.Policy; p.RetentionDays != 14 || p.MaxAttempts != 4 {
				t.Errorf("policy = %+v", p)
			}
			if !strings.HasSuffix(l.Sources["/policy/maxAttempts"], "user.json") || !strings.HasSuffix(l.Sources["/policy/retentionDays"], "config.json") {
				t.Errorf("sources = %v", l.Sources)
			}
		}, nil},
		{"connections merge by name; drop-ins apply in lexical order", map[string]string{
			"user.json":                  `{"version":1,"connections":[` + c("A", "https://user.example") + `,` + c("U", "https://u.example") + `]}`,
			"managed/config.json":        `{"version":1,"connections":[` + c("A", "https://managed.example") + `]}`,
			"managed/config.d/20-b.json": `{"connections":[` + c("B", "https://b20.example") + `]}`,
			"managed/config.d/10-b.json": `{"connections":[` + c("B", "https://b10.example") + `]}`,
		}, func(t *testing.T, l *Loaded) {
			var got []string
			for _, cn := range l.Config.Connections {
				got = append(got, cn.Name+"="+cn.BaseURL)
			}
			want := []string{"A=https://managed.example", "U=https://u.example", "B=https://b20.example"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("connections = %v, want %v", got, want)
			}
			if !strings.HasSuffix(l.Sources["/connections/B"], "20-b.json") || !strings.HasSuffix(l.Sources["/connections/U"], "user.json") {
				t.Errorf("sources = %v", l.Sources)
			}
		}, nil},
		{"locked keys: the user's value is ignored, with a warning", map[string]string{
			"user.json":           `{"version":1,"connections":[` + c("U", "https://u.example") + `],"branding":{"appName":"Mine"},"policy":{"retentionDays":999,"maxAttempts":3},"skills":[]}`,
			"managed/config.json": `{"version":1,"locked":["connections","branding","policy.retentionDays"],"connections":[` + c("IT", "https://it.example") + `]}`,
		}, func(t *testing.T, l *Loaded) {
			if len(l.Config.Connections) != 1 || l.Config.Connections[0].Name != "IT" {
				t.Errorf("connections = %+v", l.Config.Connections)
			}
			if l.Config.Branding.AppName != "" || l.Config.Policy.RetentionDays != 0 || l.Config.Policy.MaxAttempts != 3 {
				t.Errorf("branding %+v policy %+v", l.Config.Branding, l.Config.Policy)
			}
			if !reflect.DeepEqual(l.Config.Locked, []string{"branding", "connections", "policy.retentionDays"}) {
				t.Errorf("locked = %v", l.Config.Locked)
			}
		}, []string{"user.json:1:28: connections: ignored: this key is locked by", "user.json:1:", ": branding: ignored", ": policy.retentionDays: ignored"}},
		{"locked in the user's file is ignored", map[string]string{
			"user.json": `{"version":1,"locked":["categories"]}`,
		}, func(t *testing.T, l *Loaded) {
			if len(l.Config.Locked) != 0 {
				t.Errorf("locked = %v", l.Config.Locked)
			}
		}, []string{"only managed files can lock keys"}},
		{"a drop-in alone may leave out version", map[string]string{
			"managed/config.d/a.json": `{"categories":["X"]}`,
		}, func(t *testing.T, l *Loaded) {
			if l.Config.Version != Version || l.Config.Categories[0] != "X" {
				t.Errorf("config = %+v", l.Config)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			l, err := LoadLayers(opts(dir))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, l)
			var all []string
			for _, w := range l.Warnings {
				all = append(all, w.String())
			}
			text := strings.Join(all, "\n")
			for _, w := range tt.warn {
				if !strings.Contains(text, w) {
					t.Errorf("warnings lack %q:\n%s", w, text)
				}
			}
			if len(tt.warn) == 0 && len(all) > 0 {
				t.Errorf("unexpected warnings:\n%s", text)
			}
		})
	}
}

func TestLayersErrors(t *testing.T) {
	tests := []struct {
		name  string
		o     func(dir string) LoadOptions
		files map[string]string
		want  []string
	}{
		{"every file's problems at once", opts, map[string]string{
			"user.json":               `{"version":1,"categorys":[]}`,
			"managed/config.json":     "{\"version\":1,\n\"conections\":[]}",
			"managed/config.d/x.json": `{"policy":{"retentionDays":"7"}}`,
		}, []string{"user.json:1:14: unknown key \"categorys\" (hint: did you mean \"categories\"?",
			"managed/config.json:2:1: unknown key \"conections\"",
			"x.json:1:28: policy.retentionDays: must be integer, not a string"}},
		{"merged problems name the file, and connections' problems are listed too", opts, map[string]string{
			"managed/config.d/x.json": `{"policy":{"maxAttempts":500},"connections":[{"name":"J","type":"jira","baseUrl":"http://evil.example","credentials":{"type":"bearer","token":"env:T"}}]}`,
		}, []string{"x.json:1:26: policy.maxAttempts: must be between 1 and 100", "x.json:1:46: connections[0].options.projectKey: is required", "x.json:1:82: connections[0].baseUrl: must use https"}},
		{"a syntax error", opts, map[string]string{
			"user.json": "{\"version\":1,\n\"categories\":[\"A\",]}",
		}, []string{"user.json:2:19: syntax error"}},
		{"two connections of one name in a file", opts, map[string]string{
			"user.json": `{"version":1,"connections":[` + c("A", "https://a.example") + `,` + c("A", "https://b.example") + `]}`,
		}, []string{`user.json:1:`, `connections[1].name: duplicates an earlier connection's name "A"`}},
		{"a connection without a name cannot be told apart", opts, map[string]string{
			"user.json": `{"version":1,"connections":[` + c("", "https://a.example") + `]}`,
		}, []string{`user.json:1:115: connections[0].name: is required`}},
		{"an unsigned drop-in under a pinned key", func(dir string) LoadOptions {
			o := opts(dir)
			o.PublicKey = make([]byte, 32)
			return o
		}, map[string]string{
			"managed/config.d/a.json": `{"categories":["A"]}`,
		}, []string{"a.json: refused: unsigned"}},
		{"a whole file needs its version", opts, map[string]string{
			"managed/config.json": `{"categories":["A"]}`,
		}, []string{"config.json:1:1: version: must be 1"}},
		{"unknown lock", opts, map[string]string{
			"managed/config.json":     `{"version":1,"locked":["colour"]}`,
			"managed/config.d/a.json": `{"categories":[""],"locked":["branding","size"]}`,
		}, []string{`config.json:1:24: locked[0]: "colour" is not a key that can be locked`, `a.json:1:41: locked[1]: "size" is not a key`,
			`a.json:1:16: categories[0]: must be 1 to`}},
		{"missing --config", func(dir string) LoadOptions {
			return LoadOptions{ConfigFile: filepath.Join(dir, "nope.json")}
		}, nil, []string{"nope.json: cannot read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			_, err := LoadLayers(tt.o(dir))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want *Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestShowGolden renders `config show` for testdata/layers, text and JSON.
func TestShowGolden(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/layers")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"managed/config.json", "managed/config.d/10-jira.json", "user/config.json"} {
		if err := os.Chmod(filepath.Join(dir, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := LoadLayers(LoadOptions{ManagedDir: filepath.Join(dir, "managed"), UserFile: filepath.Join(dir, "user", "config.json")})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"show.golden", func(b *bytes.Buffer) error { return l.WriteText(b) }},
		{"show.json.golden", func(b *bytes.Buffer) error { return l.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(b.String(), dir, "$DIR")
		if strings.Contains(got, "managed-literal-token") {
			t.Errorf("%s shows a literal secret", f.golden)
		}
		path := filepath.Join("testdata", f.golden)
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
			t.Errorf("%s differs (go test -update rewrites it):\n%s", f.golden, got)
		}
	}
}
