package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/config"
)

// connections whose names differ only in case/punctuation, or are
// non-Latin, share one keyring item: the second add silently overwrites
// the first connection's secret (which then goes to the first help desk),
// and removing either deletes the other's secret.
func TestKeyringItemsDoNotCollide(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Help Desk", "help-desk"},
		{"Jira", "JIRA"},
		{"日本", "中国"},
	} {
		t.Run(tc.a+"|"+tc.b, func(t *testing.T) {
			h, cfg := editHarness(t)
			add := func(name, host, secret string) {
				r := h.runIn(secret+"\n", "--config", cfg, "connections", "add", name, "--type", "jira", "--base-url", "https://"+host+".example",
					"--username", "it@acme.example", "--secret-stdin", "--option", "projectKey=IT", "--option", "issueType=Task")
				if r.code != ExitOK {
					t.Fatalf("add %q: exit %d: %s", name, r.code, r.stderr)
				}
			}
			add(tc.a, "first", "SECRET-OF-FIRST")
			add(tc.b, "second", "SECRET-OF-SECOND")
			ca, cb := loadConn(t, cfg, tc.a), loadConn(t, cfg, tc.b)
			if ca.Credentials.APIToken == cb.Credentials.APIToken {
				t.Errorf("both connections reference %s", ca.Credentials.APIToken)
			}
			v, _ := h.keyringItem(strings.TrimPrefix(ca.Credentials.APIToken, "keyring:"))
			if v != "SECRET-OF-FIRST" {
				t.Errorf("%q (https://first.example) now resolves to %q", tc.a, v)
			}
		})
	}
}

// --config naming IT's managed file: the file is both the user layer
// and a managed layer, layerKind finds the user layer first, and IT's
// connection is edited in IT's file.
func TestConfigFlagAtManagedFileIsLocked(t *testing.T) {
	h, _ := editHarness(t)
	dir := h.env[config.EnvManagedDir]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	managed := filepath.Join(dir, "config.json")
	body := `{"version":1,"connections":[{"name":"IT","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`
	if err := os.WriteFile(managed, []byte(body), 0o644); err != nil { // writable, as for an admin or a lax install
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"connections", "update", "IT", "--base-url", "https://evil.example"},
		{"connections", "remove", "IT", "--yes"},
		{"connections", "add", "Mine", "--type", "servicenow", "--base-url", "https://x.example", "--username", "u", "--secret-env", "P"},
		{"config", "mapping", "IT", "priority", "--set", "high=1"},
	} {
		r := h.run(append([]string{"--config", managed}, args...)...)
		after, _ := os.ReadFile(managed)
		if r.code != ExitUsage || !bytes.Equal(after, []byte(body)) {
			t.Errorf("%v: exit %d (%s); IT's file now:\n%s", args, r.code, strings.TrimSpace(r.stderr), after)
			_ = os.WriteFile(managed, []byte(body), 0o644)
		}
	}
}

// a config.json that is a symlink (dotfiles) is replaced by a regular
// file: the link is gone and the real file keeps the old content.
func TestEditKeepsSymlink(t *testing.T) {
	h, cfg := editHarness(t)
	real := filepath.Join(h.dir, "dotfiles", "ticketray.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cfg, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, cfg); err != nil {
		t.Fatal(err)
	}
	r := h.run("--config", cfg, "connections", "update", "SN", "--base-url", "https://sn2.example")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if fi, err := os.Lstat(cfg); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink (mode %v)", cfg, fi.Mode())
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), "sn2.example") {
		t.Errorf("the link's target did not get the change:\n%s", b)
	}
}

// ScrubLogLine misses secrets as slog's text handler writes them.
func TestScrubLogLineSlogAndSchemes(t *testing.T) {
	for _, tc := range []struct{ line, secret string }{
		// JSON inside a quoted slog value has its quotes escaped as \".
		{`time=2026-12-06T18:00:00Z level=WARN msg="connection cannot deliver; its deliveries wait" connection=SF problem="oauth2: cannot fetch token: 400\nResponse: {\"error\":\"invalid_client\",\"client_secret\":\"Zq9sEcReTvAlUe\"}"`, "Zq9sEcReTvAlUe"},
		{`level=WARN msg=x err="{\"password\":\"hunter2-long\"}"`, "hunter2-long"},
		// Authorization schemes other than Bearer/Basic: only the scheme word goes.
		{`level=WARN msg=x err="request failed: Authorization: SSWS 00aBcDeFgHiJkLmNoP"`, "00aBcDeFgHiJkLmNoP"},
		{`level=WARN msg=x err="Authorization: Token token=abc" header Authorization: Zoho-oauthtoken 1000.f00dfeedcafe`, "1000.f00dfeedcafe"},
	} {
		if got := ScrubLogLine(tc.line); strings.Contains(got, tc.secret) {
			t.Errorf("secret kept:\n  %s", got)
		}
	}
}

// a delivery's last error is classified by the first free-text match,
// before its HTTP status: the help desk's own words (or the ticket text it
// echoes) decide what the end user is told.
func TestTroubleOfTextStatusFirst(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Trouble
	}{
		{"servicenow: create incident: HTTP 503 Service Unavailable: database or disk is full", TroubleServer},
		{"jira: create issue: HTTP 502 Bad Gateway: upstream configuration error", TroubleServer},
		{"zendesk: create ticket: HTTP 500 Internal Server Error: Request timed out", TroubleServer},
	} {
		if got := TroubleOfText(tc.text); got != tc.want {
			t.Errorf("%q: %v (%q), want %v", tc.text, got, got.Sentence(), tc.want)
		}
	}
}

// an address with a non-ASCII local part keeps the person's name.
func TestScrubNonASCIIEmail(t *testing.T) {
	got := ScrubLogLine(`level=WARN msg=x err="user jürgen.müller@example.de not found"`)
	if strings.Contains(got, "jürgen") {
		t.Errorf("name kept: %s", got)
	}
}

// Probe (expected to pass): a very long name and odd characters.
func TestConnectionOddNames(t *testing.T) {
	for _, name := range []string{strings.Repeat("a", 300), `Q"uote\back`, "default", "ünï cödé"} {
		h, cfg := editHarness(t)
		before, _ := os.ReadFile(cfg)
		r := h.runIn("tok\n", "--config", cfg, "connections", "add", name, "--type", "jira", "--base-url", "https://x.example",
			"--username", "it@acme.example", "--secret-stdin", "--option", "projectKey=IT", "--option", "issueType=Task")
		after, _ := os.ReadFile(cfg)
		t.Logf("%.20q: exit %d %s", name, r.code, strings.TrimSpace(r.stderr))
		if r.code != ExitOK && !bytes.Equal(before, after) {
			t.Errorf("%.20q failed but the file changed", name)
		}
		if r.code == ExitOK && loadConn(t, cfg, name) == nil {
			t.Errorf("%.20q: not in the file", name)
		}
	}
}

// a broken user config hides IT's policy.autostart from the CLI, so
// `autostart off` removes an entry IT forces on; the tray never starts at
// login again to re-apply the policy.
func TestAutostartLockSurvivesBrokenUserConfig(t *testing.T) {
	h := newHarness(t)
	managed := filepath.Join(h.dir, "managed")
	if err := os.MkdirAll(managed, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env[config.EnvManagedDir] = managed
	if err := os.WriteFile(filepath.Join(managed, "config.json"), []byte(`{"version":1,"locked":["policy.autostart"],"policy":{"autostart":true}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	h.mustRun("autostart", "status") // sanity
	a := NewAutostart(AutostartOptions{Getenv: func(k string) string { return h.env[k] }})
	if _, err := a.set(true); err != nil { // the tray applied the policy earlier
		t.Fatal(err)
	}
	broken := h.writeConfig(`{"version":1,`) // the user's own file, broken
	r := h.run("--config", broken, "autostart", "off")
	if r.code != ExitUsage {
		t.Errorf("exit %d, want 2 (IT's lock): %s%s", r.code, r.stdout, r.stderr)
	}
}

// with a broken user file (or --config naming a new, broken one) the
// service runs on the built-in default, not on IT's managed layers, so
// policy.allowScreenshots=false stops applying (report --screenshot and
// the report window's button).
func TestScreenshotPolicySurvivesBrokenUserConfig(t *testing.T) {
	h := newHarness(t)
	managed := filepath.Join(h.dir, "managed")
	if err := os.MkdirAll(managed, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env[config.EnvManagedDir] = managed
	if err := os.WriteFile(filepath.Join(managed, "config.json"), []byte(`{"version":1,"locked":["policy"],"policy":{"allowScreenshots":false}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := h.writeConfig(`{"version":1,`)
	svc, err := Open(t.Context(), Options{ConfigPath: broken, Getenv: func(k string) string { return h.env[k] }, Warn: func(config.Problem) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.ScreenshotsAllowed() {
		t.Error("IT's policy.allowScreenshots=false is ignored while the user's file is broken")
	}
}
