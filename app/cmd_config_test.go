package app

import (
	"encoding/json"
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
			[]string{`config.json:2:3: unknown key "categorys" (hint: did you mean "categories"?`, `config.json:3:29: policy.retentionDays: must be integer, not a string`}},
		{"values", `{"version":1,"branding":{"supportUrl":"http://x","icon":"rel.png"},"policy":{"retentionDays":-1}}`, ExitUsage,
			[]string{"branding.supportUrl: must be an https: or mailto: URL", "branding.icon: must be an absolute path", "policy.retentionDays: must be between"}},
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
			var out struct {
				Valid    bool
				Problems []config.Problem
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Valid != (tt.code == ExitOK) || r.code != tt.code {
				t.Errorf("--json: exit %d, %v, %s", r.code, err, r.stdout)
			}
		})
	}
	if r := h.run("config", "validate", filepath.Join(h.dir, "missing.json")); r.code != ExitUsage {
		t.Errorf("missing file: exit %d", r.code)
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
	body := []byte(`{"version":1,"locked":["categories"],"categories":["IT"],"connections":[{"name":"J","type":"jira","baseUrl":"https://j.example","credentials":{"type":"bearer","token":"plain-literal"}}]}`)
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
