package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/config"
)

func TestConfigValidate(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		body   string
		code   int
		stderr []string
	}{
		{"valid", `{"version":1,"categories":["A"]}`, ExitOK, []string{"The config is valid."}},
		{"every problem, located, with hints", "{\"version\":1,\n  \"categorys\":[],\n  \"policy\":{\"retentionDays\":\"7\"},\n  \"branding\":{\"supportUrl\":\"http://x\"}}", ExitUsage,
			[]string{`error: ` + h.dir + `/config.json:2:3: unknown key "categorys" (hint: did you mean "categories"?`, `config.json:3:29: policy.retentionDays: must be integer, not a string`,
				`config.json:4:28: branding.supportUrl: must be an https: or mailto: URL`, "ticketray: the config is invalid (3 errors, 0 warnings)"}},
		{"values", `{"version":1,"branding":{"supportUrl":"http://x","icon":"rel.png"},"policy":{"retentionDays":-1}}`, ExitUsage,
			[]string{"branding.supportUrl: must be an https: or mailto: URL", "branding.icon: must be an absolute path", "policy.retentionDays: must be between"}},
		{"only a connection is misconfigured", `{"version":1,"connections":[{"name":"J","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"env:T"}}]}`, ExitUsage,
			[]string{`config.json:1:29: connections[0].options.projectKey: is required for jira connections [connection "J"]`,
				"ticketray: 1 connection misconfigured (2 errors, 1 warning): their deliveries wait, every other connection delivers: J",
				`warning: ` + h.dir + `/config.json:1:124: connections[0].credentials.token: does not resolve: secret env:T: environment variable T is not set`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := h.writeConfig(tt.body)
			r := h.run("config", "validate", path)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			r = h.run("config", "validate", "--json", path)
			var probs []config.Problem
			if err := json.Unmarshal([]byte(r.stdout), &probs); err != nil || config.HasErrors(probs) != (tt.code != ExitOK) || r.code != tt.code {
				t.Errorf("--json: exit %d, %v, %s", r.code, err, r.stdout)
			}
		})
	}
	if r := h.run("config", "validate", filepath.Join(h.dir, "missing.json")); r.code != ExitUsage {
		t.Errorf("missing file: exit %d", r.code)
	}
}

// TestConfigValidateEveryProblem is issue 10's case: an unknown key, http
// to a remote host, a missing password and bad priority values are all
// reported in one run, each with its line and column, as text and JSON.
func TestConfigValidateEveryProblem(t *testing.T) {
	h := newHarness(t)
	path := h.writeConfig(`{
  "version": 1,
  "connections": [{
    "name": "SN",
    "type": "servicenow",
    "baseUrl": "http://sn.example.com",
    "credentials": {"type": "basic", "username": "svc"},
    "defaultPriority": "urgent",
    "mappings": {"priority": {"critical": "P1", "default": "3"}},
    "colour": "blue"
  }]
}
`)
	want := []struct {
		line, column int
		path, msg    string
	}{
		{6, 16, "connections[0].baseUrl", "must use https"},
		{7, 20, "connections[0].credentials.password", "is required for basic credentials"},
		{8, 24, "connections[0].defaultPriority", "must be one of low, medium, high, critical"},
		{9, 43, "connections[0].mappings.priority.critical", "must be an urgency and impact"},
		{10, 5, "connections[0]", `unknown key "colour"`},
	}
	r := h.run("config", "validate", path)
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d", r.code, ExitUsage)
	}
	for _, w := range want {
		text := fmt.Sprintf("error: %s:%d:%d: %s: %s", path, w.line, w.column, w.path, w.msg)
		if !strings.Contains(r.stderr, text) {
			t.Errorf("stderr lacks %q:\n%s", text, r.stderr)
		}
	}
	r = h.run("config", "validate", "--json", path)
	if r.code != ExitUsage {
		t.Errorf("--json: exit %d, want %d", r.code, ExitUsage)
	}
	var probs []config.Problem
	if err := json.Unmarshal([]byte(r.stdout), &probs); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if len(probs) != len(want) {
		t.Errorf("--json: %d problems, want %d:\n%s", len(probs), len(want), r.stdout)
	}
	for _, w := range want {
		found := false
		for _, p := range probs {
			found = found || p.File == path && p.Line == w.line && p.Column == w.column && p.Path == w.path &&
				p.Connection == "SN" && p.Severity == config.SeverityError && strings.Contains(p.Msg, w.msg)
		}
		if !found {
			t.Errorf("--json lacks %+v:\n%s", w, r.stdout)
		}
	}
	for _, key := range []string{`"file"`, `"line"`, `"column"`, `"path"`, `"connection"`, `"severity"`, `"message"`, `"hint"`} {
		if !strings.Contains(r.stdout, key) {
			t.Errorf("--json lacks %s", key)
		}
	}
}

// TestConfigValidateLayers: without FILE the layers this machine runs are
// validated: a secret that does not resolve misconfigures its connection
// (an error, where checking the file alone gives a warning), and keys IT
// locks that the user's file sets are warnings, as in config show.
func TestConfigValidateLayers(t *testing.T) {
	h := newHarness(t)
	managed := filepath.Join(h.dir, "managed")
	if err := os.MkdirAll(managed, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env[config.EnvManagedDir] = managed
	if err := os.WriteFile(filepath.Join(managed, "config.json"), []byte(`{"version":1,"locked":["policy"],"categories":["Network"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	user := h.writeConfig(`{"version":1,"policy":{"retentionDays":3},
"connections":[{"name":"J","type":"jira","baseUrl":"https://j.example","options":{"projectKey":"K","issueType":"Task"},"credentials":{"type":"bearer","token":"env:J_TOKEN"},
  "mappings":{"category":{"Network":"net","default":"other"}}}]}`)
	lock := fmt.Sprintf("warning: %s:1:23: policy: ignored: this key is locked by %s", user, filepath.Join(managed, "config.json"))
	unresolved := fmt.Sprintf("%s:2:159: connections[0].credentials.token: does not resolve: secret env:J_TOKEN: environment variable J_TOKEN is not set", user)

	r := h.run("--config", user, "config", "validate")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "error: "+unresolved) || !strings.Contains(r.stderr, lock) ||
		!strings.Contains(r.stderr, "1 connection misconfigured (1 error, 1 warning)") {
		t.Errorf("layered: exit %d\n%s", r.code, r.stderr)
	}
	r = h.run("config", "validate", user)
	if r.code != ExitOK || !strings.Contains(r.stderr, "warning: "+unresolved) || !strings.Contains(r.stderr, lock) ||
		!strings.Contains(r.stderr, "The config is valid, with 2 warnings.") {
		t.Errorf("the file alone: exit %d\n%s", r.code, r.stderr)
	}
	h.env["J_TOKEN"] = "token-value"
	r = h.run("--config", user, "config", "validate", "--json")
	var probs []config.Problem
	if err := json.Unmarshal([]byte(r.stdout), &probs); err != nil || r.code != ExitOK || len(probs) != 1 || probs[0].Severity != config.SeverityWarning {
		t.Errorf("resolved: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "token-value") {
		t.Error("a secret was printed")
	}
}

func TestConfigShowSignAndSchema(t *testing.T) {
	h := newHarness(t)
	managed := filepath.Join(h.dir, "managed")
	if err := os.MkdirAll(managed, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env[config.EnvManagedDir] = managed
	mainFile := filepath.Join(managed, "config.json")
	body := []byte(`{"version":1,"locked":["categories"],"categories":["IT"],"connections":[{"name":"J","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"plain-literal"},"options":{"projectKey":"IT","issueType":"Task"}}]}`)
	if err := os.WriteFile(mainFile, body, 0o644); err != nil {
		t.Fatal(err)
	}
	user := h.writeConfig(`{"version":1,"categories":["Mine"],"policy":{"retentionDays":3}}`)

	r := h.mustRun("--config", user, "config", "show", "--json")
	var shown config.Shown
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Config.Categories[0] != "IT" || shown.Config.Policy.RetentionDays != 3 || shown.Config.Connections[0].Credentials.Token != "***" ||
		shown.Sources["/categories"] != mainFile || shown.Sources["/policy/retentionDays"] != user {
		t.Errorf("show --json: %s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "plain-literal") {
		t.Error("config show printed a literal secret")
	}

	// Keys, signing, and a pinned key refusing what is not signed.
	prefix := filepath.Join(h.dir, "it")
	h.mustRun("config", "keygen", "--out", prefix)
	if r := h.run("config", "keygen", "--out", prefix); r.code != ExitFailure {
		t.Errorf("keygen overwrote its keys: exit %d", r.code)
	}
	pub, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(managed, config.PublicKeyFile), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	r = h.run("--config", user, "config", "show")
	if r.code != ExitUsage || !strings.Contains(r.stderr, mainFile+": refused: unsigned") {
		t.Errorf("unsigned with a pinned key: exit %d\n%s", r.code, r.stderr)
	}
	h.mustRun("config", "sign", "--key", prefix+".key", mainFile)
	r = h.mustRun("--config", user, "config", "show")
	if !strings.Contains(r.stdout, mainFile+" (signature verified)") {
		t.Errorf("signed: %s", r.stdout)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = ' '
	if err := os.WriteFile(mainFile, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := h.run("--config", user, "config", "validate"); r.code != ExitUsage || !strings.Contains(r.stderr, "signature does not match") {
		t.Errorf("tampered: exit %d\n%s", r.code, r.stderr)
	}
	bad := h.writeConfig(`{"version":1,"oops":true}`)
	if r := h.run("config", "sign", "--key", prefix+".key", bad); r.code != ExitUsage {
		t.Errorf("signing an invalid file: exit %d", r.code)
	}

	r = h.mustRun("config", "schema")
	var schema map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil || schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("schema: %v", err)
	}
}

func TestConfigMapping(t *testing.T) {
	const secret = "literal-s3cret"
	const user = `{
  "version": 1,
  "connections": [
    {
      "name": "SN",
      "type": "servicenow",
      "baseUrl": "https://sn.example",
      "credentials": {"type": "basic", "username": "svc", "password": "` + secret + `"},
      "mappings": {"priority": {"critical": "1", "high": "2", "default": "3"}}
    },
    {"name": "J", "type": "jira", "baseUrl": "https://j.example", "credentials": {"type": "bearer", "token": "env:T"}, "defaultCategory": "IT Help"}
  ]
}
`
	tests := []struct {
		name    string
		managed string // the managed config.json, if any
		args    []string
		code    int
		stdout  []string
		stderr  []string
		file    string // the user file afterwards; "" means unchanged
	}{
		{"print: aligned rows, default last, the layer", "", []string{"SN", "priority"}, ExitOK,
			[]string{"priority mapping of \"SN\":\n  critical → 1\n  high     → 2\n  default  → 3\n", "(user layer)", "Editable"}, nil, ""},
		{"print a table the config does not have", "", []string{"J", "category"}, ExitOK,
			[]string{"  default → (no table: categories are sent as they are)"}, nil, ""},
		{"print --json", "", []string{"SN", "priority", "--json"}, ExitOK,
			[]string{`"table": {`, `"critical": "1"`, `"editable": true`, `"layer": "user"`}, nil, ""},
		{"set and delete", "", []string{"SN", "priority", "--set", "low=3,3", "--set", "Critical=1,1", "--delete", "high"}, ExitOK, nil,
			[]string{"Saved the priority mapping of \"SN\" in ", "  changed critical → 1,1 (was 1)\n  deleted high (was 2)\n  added   low → 3,3\n"},
			strings.Replace(user, `{"critical": "1", "high": "2", "default": "3"}`, `{"critical": "1,1", "low": "3,3", "default": "3"}`, 1)},
		{"a new table, --json", "", []string{"J", "category", "--set", "Network=net", "--set", "default=IT Help", "--json"}, ExitOK,
			[]string{`"changed": true`, `"Network": "net"`}, []string{"added   Network → net"},
			strings.Replace(user, `"defaultCategory": "IT Help"}`, `"defaultCategory": "IT Help", "mappings": {"category": {"Network": "net", "default": "IT Help"}}}`, 1)},
		{"the same rows again", "", []string{"SN", "priority", "--set", "high=2"}, ExitOK, nil, []string{"No change"}, ""},
		{"delete default", "", []string{"SN", "priority", "--delete", "default"}, ExitUsage, nil, []string{"the default row cannot be deleted"}, ""},
		{"no default row", "", []string{"J", "priority", "--set", "high=2"}, ExitUsage, nil, []string{`config: set mapping J.priority: invalid mapping table: the table needs a "default" row`}, ""},
		{"an unknown priority", "", []string{"SN", "priority", "--set", "urgent=0"}, ExitUsage, nil, []string{`row "urgent": priority row key must be one of`}, ""},
		{"a row that is not there", "", []string{"SN", "priority", "--delete", "low"}, ExitUsage, nil, []string{`there is no row "low" to delete`}, ""},
		{"set without a value", "", []string{"SN", "priority", "--set", "low"}, ExitUsage, nil, []string{`--set takes KEY=VALUE, not "low"`}, ""},
		{"set and delete one row", "", []string{"SN", "priority", "--set", "high=1", "--delete", "HIGH"}, ExitUsage, nil, []string{"is given twice"}, ""},
		{"a table that is not offered", "", []string{"SN", "colour"}, ExitUsage, nil, []string{"priority, category or status"}, ""},
		{"print a status table with the vendor's rows", "", []string{"SN", "status"}, ExitOK,
			[]string{"default → backlog", "Built-in rows of servicenow", "6 → resolved"}, nil, ""},
		{"a status row; the default row comes with it", "", []string{"SN", "status", "--set", "Awaiting Vendor=in_progress"}, ExitOK, nil,
			[]string{"added   Awaiting Vendor → in_progress", "added   default → backlog"},
			strings.Replace(user, `"mappings": {"priority": {"critical": "1", "high": "2", "default": "3"}}`,
				`"mappings": {"priority": {"critical": "1", "high": "2", "default": "3"}, "status": {"Awaiting Vendor": "in_progress", "default": "backlog"}}`, 1)},
		{"a status row that is not a local state", "", []string{"SN", "status", "--set", "3=waiting"}, ExitUsage, nil,
			[]string{`row "3": must be one of backlog, in_progress, waiting_on_you, resolved, closed`}, ""},
		{"the status default row cannot be deleted", "", []string{"SN", "status", "--delete", "default"}, ExitUsage, nil, []string{"the default row cannot be deleted"}, ""},
		{"unknown connection", "", []string{"Nope", "priority", "--set", "default=1"}, ExitUsage, nil, []string{`no such connection "Nope"`}, ""},
		{"locked by IT", `{"version":1,"locked":["connections"],"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`,
			[]string{"SN", "priority", "--set", "default=9"}, ExitUsage, nil, []string{`"connections" is locked by IT in `, "managed"}, ""},
		{"a managed connection", `{"version":1,"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`,
			[]string{"SN", "priority", "--set", "default=9"}, ExitUsage, nil, []string{`connection "SN" is defined by the managed file`}, ""},
		{"print a locked table", `{"version":1,"locked":["connections"],"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`,
			[]string{"SN", "priority"}, ExitOK, []string{"(managed layer)", `Read-only: "connections" is locked by IT in `, "(no table: the vendor's built-in rows apply)"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			managed := filepath.Join(h.dir, "managed")
			if err := os.MkdirAll(managed, 0o755); err != nil {
				t.Fatal(err)
			}
			h.env[config.EnvManagedDir] = managed
			if tt.managed != "" {
				if err := os.WriteFile(filepath.Join(managed, "config.json"), []byte(tt.managed), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := h.writeConfig(user)
			r := h.run(append([]string{"--config", path, "config", "mapping"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Error("a secret was printed")
			}
			want := tt.file
			if want == "" {
				want = user
			}
			if got, _ := os.ReadFile(path); string(got) != want {
				t.Errorf("file:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(strings.Join(tt.args, " "), "--json") && r.code == ExitOK {
				var v map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
					t.Errorf("--json: %v\n%s", err, r.stdout)
				}
			}
		})
	}
}
