package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

// jiraConfig writes a config with one Jira connection at baseURL whose
// API token is token.
func (h *harness) jiraConfig(baseURL, token string) string {
	return h.writeConfig(fmt.Sprintf(`{"version":1,"connections":[{"name":"Jira","type":"jira","baseUrl":%q,"timeoutMs":3000,
		"credentials":{"type":"api_token","username":%q,"apiToken":%q},
		"options":{"projectKey":%q,"issueType":"Task","rateLimitPerSecond":100}}]}`, baseURL, jirafake.Email, token, jirafake.ProjectKey))
}

func startJira(t *testing.T) *jirafake.Fake {
	t.Helper()
	jf := jirafake.New()
	if err := jf.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(jf.Close)
	return jf
}

func TestDrainCLI(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	for i := 0; i < 3; i++ {
		h.mustRun("--config", cfg, "report", "--summary", fmt.Sprintf("Outlook crashes %d", i), "--priority", "high", "--no-system-info")
	}
	r := h.mustRun("--config", cfg, "drain", "--timeout", "30s")
	if !strings.Contains(r.stderr, "Queue drained") {
		t.Errorf("drain stderr %q", r.stderr)
	}
	if len(jf.Issues()) != 3 {
		t.Errorf("Jira holds %d issues, want 3", len(jf.Issues()))
	}
	for _, e := range h.list("--config", cfg) {
		if d := e.Deliveries[0]; d.State != "delivered" || !strings.HasPrefix(d.RemoteNumber, jirafake.ProjectKey+"-") || !strings.Contains(d.RemoteURL, "/browse/") {
			t.Errorf("delivery %+v", d)
		}
	}
	var conns []connectionJSON
	out := h.mustRun("--config", cfg, "connections", "list", "--json").stdout
	if err := json.Unmarshal([]byte(out), &conns); err != nil || len(conns) != 1 {
		t.Fatalf("connections list --json: %v\n%s", err, out)
	}
	if c := conns[0]; c.State != delivery.Healthy || c.LastSuccess == nil || c.QueueDepth != 0 || c.Type != "jira" {
		t.Errorf("connection = %+v", c)
	}
	if human := h.mustRun("--config", cfg, "connections", "list").stdout; !strings.Contains(human, "Jira") || !strings.Contains(human, "healthy") {
		t.Errorf("connections list:\n%s", human)
	}
	// Nothing left: a second drain is a no-op and succeeds.
	h.mustRun("--config", cfg, "drain")
}

func TestDrainCLIFailures(t *testing.T) {
	t.Run("rejected ticket is dead, exit 1", func(t *testing.T) {
		jf := startJira(t)
		jf.Faults.Always("POST", "/rest/api/3/issue", fake.Fault{Kind: fake.Respond, Code: 400,
			Body: `{"errorMessages":[],"errors":{"project":"Specify a valid project ID or key"}}`})
		h := newHarness(t)
		cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
		h.mustRun("--config", cfg, "report", "--summary", "x", "--no-system-info")
		r := h.run("--config", cfg, "drain")
		if r.code != ExitFailure || !strings.Contains(r.stderr, "failed for good") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		dead := h.list("--config", cfg, "--state", "dead")
		if len(dead) != 1 || !strings.Contains(dead[0].Deliveries[0].LastError, "project: Specify a valid project ID or key") {
			t.Errorf("dead = %+v", dead)
		}
	})
	t.Run("timeout with work left, exit 1", func(t *testing.T) {
		jf := startJira(t)
		jf.Faults.Always("POST", "/rest/api/3/issue", fake.Fault{Kind: fake.Respond, Code: 503,
			Header: http.Header{"Retry-After": {"3600"}}, Body: `{"errorMessages":["Service unavailable"],"errors":{}}`})
		h := newHarness(t)
		cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
		h.mustRun("--config", cfg, "report", "--summary", "x", "--no-system-info")
		r := h.run("--config", cfg, "drain", "--timeout", "1s")
		if r.code != ExitFailure || !strings.Contains(r.stderr, "1 delivery left") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		p := h.list("--config", cfg, "--state", "pending")
		if len(p) != 1 || p[0].Deliveries[0].State != "retry" || p[0].Deliveries[0].NextAttemptAt == nil {
			t.Errorf("pending = %+v", p)
		}
	})
}

func TestConnectionsTest(t *testing.T) {
	jf := startJira(t)
	closed, _ := fake.Reserve()
	tests := []struct {
		name      string
		baseURL   string
		token     string
		wantCode  int
		wantCheck string // the check that must fail; "" for all ok
	}{
		{"ok", jf.URL(), jirafake.APIToken, ExitOK, ""},
		{"bad credentials", jf.URL(), "wrong-token-123", ExitFailure, "auth"},
		{"unreachable", "http://" + closed, jirafake.APIToken, ExitFailure, "tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := h.jiraConfig(tt.baseURL, tt.token)
			r := h.run("--config", cfg, "connections", "test", "Jira", "--json")
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			var reps []testReport
			if err := json.Unmarshal([]byte(r.stdout), &reps); err != nil || len(reps) != 1 {
				t.Fatalf("json: %v\n%s", err, r.stdout)
			}
			rep := reps[0]
			failed := ""
			for _, ch := range rep.Checks {
				if !ch.OK {
					failed = ch.Name
				}
			}
			if failed != tt.wantCheck || rep.OK != (tt.wantCheck == "") {
				t.Errorf("report = %+v, want failing check %q", rep, tt.wantCheck)
			}
			if tt.wantCheck == "" {
				names := []string{}
				for _, ch := range rep.Checks {
					names = append(names, ch.Name)
				}
				if strings.Join(names, ",") != "config,tcp,auth" { // loopback: no DNS, no TLS
					t.Errorf("checks = %v", names)
				}
			}
			if strings.Contains(r.stdout+r.stderr, tt.token) {
				t.Error("the report contains the API token")
			}
			text := h.run("--config", cfg, "connections", "test")
			if !strings.Contains(text.stdout, "Jira (jira): ") {
				t.Errorf("text report:\n%s", text.stdout)
			}
		})
	}
	h := newHarness(t)
	if r := h.run("--config", h.jiraConfig(jf.URL(), "x"), "connections", "test", "Nope"); r.code != ExitUsage {
		t.Errorf("unknown connection name: exit %d", r.code)
	}
	// An invalid connection is input error, reported (located) before
	// anything is dialled.
	r := h.run("--config", h.jiraConfig("http://jira.example.com", "x"), "connections", "test")
	if r.code != ExitUsage || !strings.Contains(r.stdout, "connections[0].baseUrl: must use https") || !strings.Contains(r.stdout, "config.json:1:") {
		t.Errorf("plain http to a remote host: exit %d, %q", r.code, r.stderr)
	}
}

// TestSecretsNeverPrinted: a known secret must not appear in any output,
// log or stored error, whatever fails.
func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "ATATT3x-known-secret-0451"
	jf := startJira(t)
	h := newHarness(t)
	h.env["JIRA_TOKEN"] = secret
	cfg := h.jiraConfig(jf.URL(), "env:JIRA_TOKEN") // the fake rejects it: 401
	h.mustRun("--config", cfg, "report", "--summary", "x", "--no-system-info")
	var all strings.Builder
	for _, args := range [][]string{
		{"drain", "--verbose", "--timeout", "5s"},
		{"queue", "list", "--json"},
		{"connections", "list", "--json"},
		{"connections", "test", "--json"},
		{"connections", "test"},
	} {
		r := h.run(append([]string{"--config", cfg}, args...)...)
		all.WriteString(r.stdout + r.stderr)
	}
	id := h.list("--config", cfg)[0].ID
	r := h.run("--config", cfg, "queue", "show", id, "--json")
	all.WriteString(r.stdout + r.stderr)
	if !strings.Contains(all.String(), "401") {
		t.Fatalf("the 401 was not reported anywhere, so this test proves nothing:\n%s", all.String())
	}
	if strings.Contains(all.String(), secret) {
		t.Errorf("the secret appears in the output:\n%s", all.String())
	}
}

// runIn is run with stdin as standard input.
func (h *harness) runIn(stdin string, args ...string) run {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return h.env[k] }, Stdin: strings.NewReader(stdin)}, nil)
	return run{code, out.String(), errb.String()}
}

// editHarness is a harness with a file keyring, no managed layer but its
// own, and a user file holding one connection.
func editHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	h.env[EnvKeyringBackend] = "file"
	h.env[EnvKeyringPassword] = "keyring password"
	h.env[config.EnvManagedDir] = filepath.Join(h.dir, "managed")
	cfg := h.writeConfig(`{
  "version": 1,
  "connections": [
    {
      "name": "SN",
      "type": "servicenow",
      "baseUrl": "https://sn.example",
      "credentials": {"type": "basic", "username": "svc", "password": "env:SN_PASSWORD"}
    }
  ]
}
`)
	return h, cfg
}

func (h *harness) keyringItem(name string) (string, error) {
	h.t.Helper()
	ring, err := OpenKeyring(func(k string) string { return h.env[k] })
	if err != nil {
		h.t.Fatal(err)
	}
	v, err := ring.Get(name)
	return string(v), err
}

func loadConn(t *testing.T, cfg, name string) *connectors.Connection {
	t.Helper()
	l, err := config.LoadLayers(config.LoadOptions{ConfigFile: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Config.Connections {
		if c.Name == name {
			return &c
		}
	}
	return nil
}

func TestConnectionsAddUpdateRemove(t *testing.T) {
	const secret = "s3cr3t-api-token-from-stdin"
	h, cfg := editHarness(t)
	steps := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string // in stderr
		same   bool   // the file must be byte-identical afterwards
		check  func(t *testing.T, file string)
	}{
		{"add with the secret on stdin", secret + "\n",
			[]string{"connections", "add", "Help Desk", "--type", "jira", "--base-url", "https://acme.atlassian.net", "--username", "it@acme.example",
				"--secret-stdin", "--option", "projectKey=IT", "--option", "issueType=Task"},
			ExitOK, `Added connection "Help Desk"`, false, func(t *testing.T, file string) {
				c := loadConn(t, cfg, "Help Desk")
				if c == nil || c.Credentials.Type != "api_token" || c.Credentials.APIToken != "keyring:"+config.KeyringName("Help Desk", "apiToken") || c.Option("projectKey", "") != "IT" {
					t.Errorf("entry %+v", c)
				}
				if strings.Contains(file, secret) {
					t.Error("the secret is in the file")
				}
				if v, err := h.keyringItem(config.KeyringName("Help Desk", "apiToken")); err != nil || v != secret {
					t.Errorf("keyring holds %q (%v), want the secret", v, err)
				}
			}},
		{"a missing required option", "",
			[]string{"connections", "add", "JSM", "--type", "jsm", "--base-url", "https://acme.atlassian.net", "--username", "it@acme.example",
				"--secret-env", "JSM_TOKEN", "--option", "serviceDeskId=10"},
			ExitUsage, "config.json:", true, func(t *testing.T, _ string) {
				r := h.run("--config", cfg, "connections", "add", "JSM", "--type", "jsm", "--base-url", "https://acme.atlassian.net", "--username", "it@acme.example", "--secret-env", "JSM_TOKEN", "--option", "serviceDeskId=10")
				if !strings.Contains(r.stderr, "connections[2].options.requestTypeId: is required for jsm connections") {
					t.Errorf("stderr %q lacks the located problem", r.stderr)
				}
			}},
		{"add a name the file has", "", []string{"connections", "add", "SN", "--type", "servicenow", "--base-url", "https://x.example", "--username", "u", "--secret-env", "P"},
			ExitUsage, "change it with update", true, nil},
		{"add without a type", "", []string{"connections", "add", "X", "--base-url", "https://x.example"}, ExitUsage, "needs --type and --base-url", true, nil},
		{"both kinds of secret", "x", []string{"connections", "update", "SN", "--secret-env", "A", "--secret-stdin"}, ExitUsage, "not both", true, nil},
		{"update changes only what is given", "",
			[]string{"connections", "update", "Help Desk", "--base-url", "https://acme2.atlassian.net", "--option", "issueType=Bug", "--option", `components=["Laptops"]`},
			ExitOK, `Updated connection "Help Desk"`, false, func(t *testing.T, file string) {
				c := loadConn(t, cfg, "Help Desk")
				if c.BaseURL != "https://acme2.atlassian.net" || c.Option("issueType", "") != "Bug" || string(c.Options["components"]) != `["Laptops"]` ||
					c.Credentials.Username != "it@acme.example" || c.Option("projectKey", "") != "IT" {
					t.Errorf("entry %+v", c)
				}
				if !strings.Contains(file, `"password": "env:SN_PASSWORD"}`) {
					t.Errorf("the other connection changed:\n%s", file)
				}
			}},
		{"update to a secret in the environment", "", []string{"connections", "update", "SN", "--secret-env", "SN_SECRET"}, ExitOK, "Updated", false,
			func(t *testing.T, _ string) {
				if c := loadConn(t, cfg, "SN"); c.Credentials.Password != "env:SN_SECRET" {
					t.Errorf("password %q", c.Credentials.Password)
				}
			}},
		{"update to an invalid value", "", []string{"connections", "update", "SN", "--base-url", "http://sn.example"}, ExitUsage, "connections[0].baseUrl: must use https", true, nil},
		{"remove an option", "", []string{"connections", "update", "Help Desk", "--option", "components="}, ExitOK, "Updated", false,
			func(t *testing.T, _ string) {
				if c := loadConn(t, cfg, "Help Desk"); c.Options["components"] != nil {
					t.Errorf("components still set: %s", c.Options["components"])
				}
			}},
		{"update an unknown connection", "", []string{"connections", "update", "Nope", "--base-url", "https://x.example"}, ExitUsage, `no such connection "Nope"`, true, nil},
		{"remove needs --yes", "", []string{"connections", "remove", "Help Desk"}, ExitUsage, "add --yes to confirm", true, nil},
		{"remove", "", []string{"connections", "remove", "Help Desk", "--yes"}, ExitOK, "It had no delivery waiting", false,
			func(t *testing.T, file string) {
				if loadConn(t, cfg, "Help Desk") != nil || loadConn(t, cfg, "SN") == nil {
					t.Errorf("after remove:\n%s", file)
				}
				if _, err := h.keyringItem(config.KeyringName("Help Desk", "apiToken")); err == nil {
					t.Error("the removed connection's secret is still in the keyring")
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before, _ := os.ReadFile(cfg)
			r := h.runIn(st.stdin, append([]string{"--config", cfg}, st.args...)...)
			if r.code != st.code || !strings.Contains(r.stderr, st.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", r.code, st.code, r.stderr, st.stderr)
			}
			after, _ := os.ReadFile(cfg)
			if st.same && !bytes.Equal(before, after) {
				t.Errorf("the file changed:\n%s", after)
			}
			if !st.same && bytes.Equal(before, after) {
				t.Error("the file did not change")
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Error("the secret was printed")
			}
			if st.check != nil {
				st.check(t, string(after))
			}
		})
	}
}

func TestConnectionsEditLockedByIT(t *testing.T) {
	for _, tc := range []struct {
		name, managed string
		args          []string
		want          string
	}{
		{"connections locked", `{"version":1,"locked":["connections"]}`,
			[]string{"connections", "add", "New", "--type", "servicenow", "--base-url", "https://x.example", "--username", "u", "--secret-env", "P"},
			`"connections" is locked by IT in `},
		{"remove under the lock", `{"version":1,"locked":["connections"]}`, []string{"connections", "remove", "SN", "--yes"}, `"connections" is locked by IT in `},
		{"a connection IT defines", `{"version":1,"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`,
			[]string{"connections", "update", "SN", "--base-url", "https://mine.example"}, `connection "SN" is defined by the managed file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, cfg := editHarness(t)
			if err := os.MkdirAll(h.env[config.EnvManagedDir], 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(h.env[config.EnvManagedDir], "config.json"), []byte(tc.managed), 0o644); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(cfg)
			r := h.run(append([]string{"--config", cfg}, tc.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
			if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
				t.Errorf("the file changed:\n%s", after)
			}
		})
	}
}

// --test tests the connection as it would be saved, with the secret as
// typed, before anything is written.
func TestConnectionsAddTest(t *testing.T) {
	jf := startJira(t)
	for _, tc := range []struct {
		name   string
		token  string
		force  bool
		code   int
		saved  bool
		stdout string
	}{
		{"passes", jirafake.APIToken, false, ExitOK, true, "Jira (jira): OK"},
		{"fails: nothing saved", "wrong-token-123", false, ExitFailure, false, "Jira (jira): FAILED"},
		{"fails, --force saves", "wrong-token-123", true, ExitOK, true, "Jira (jira): FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, cfg := editHarness(t)
			before, _ := os.ReadFile(cfg)
			args := []string{"--config", cfg, "connections", "add", "Jira", "--type", "jira", "--base-url", jf.URL(), "--username", jirafake.Email,
				"--secret-stdin", "--option", "projectKey=" + jirafake.ProjectKey, "--option", "issueType=Task", "--test"}
			if tc.force {
				args = append(args, "--force")
			}
			r := h.runIn(tc.token, args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.stdout) {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s", r.code, tc.code, r.stdout, r.stderr)
			}
			after, _ := os.ReadFile(cfg)
			if saved := !bytes.Equal(before, after); saved != tc.saved {
				t.Errorf("saved %v, want %v", saved, tc.saved)
			}
			_, kerr := h.keyringItem(config.KeyringName("Jira", "apiToken"))
			if (kerr == nil) != tc.saved {
				t.Errorf("keyring item present %v, want %v", kerr == nil, tc.saved)
			}
			if !tc.saved && !strings.Contains(r.stderr, "--force") {
				t.Errorf("a failed test does not say how to save anyway: %q", r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, tc.token) {
				t.Error("the token was printed")
			}
		})
	}
}

// Removing a connection with deliveries waiting asks what to do with
// them; none is dropped silently.
func TestConnectionsRemovePending(t *testing.T) {
	closed, _ := fake.Reserve()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		state  string // of the two deliveries afterwards
		stderr string
		reason string
	}{
		{"no choice: refused", nil, ExitUsage, "pending", "has 2 deliveries waiting to be sent", ""},
		{"keep", []string{"--pending", "keep"}, ExitOK, "pending", `2 deliveries still wait for "Jira"`, ""},
		{"dead with a reason", []string{"--pending", "dead", "--reason", "moved to ServiceNow"}, ExitOK, "dead", "2 deliveries marked dead: moved to ServiceNow", "moved to ServiceNow"},
		{"dead with the default reason", []string{"--pending", "dead"}, ExitOK, "dead", "marked dead", `the connection "Jira" was removed from the config`},
		{"a bad choice", []string{"--pending", "later"}, ExitUsage, "pending", "--pending is keep or dead", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.env[config.EnvManagedDir] = filepath.Join(h.dir, "managed")
			cfg := h.jiraConfig("http://"+closed, "env:JIRA_TOKEN")
			for i := range 2 {
				h.mustRun("--config", cfg, "report", "--summary", fmt.Sprintf("printer %d", i), "--no-system-info")
			}
			before, _ := os.ReadFile(cfg)
			r := h.run(append([]string{"--config", cfg, "connections", "remove", "Jira", "--yes"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d (want %d), stderr %q, want %q", r.code, tc.code, r.stderr, tc.stderr)
			}
			after, _ := os.ReadFile(cfg)
			if removed := !bytes.Equal(before, after); removed != (tc.code == ExitOK) {
				t.Errorf("file changed %v:\n%s", removed, after)
			}
			entries := h.list("--config", cfg)
			if len(entries) != 2 {
				t.Fatalf("%d tickets in the queue, want 2", len(entries))
			}
			for _, e := range entries {
				if d := e.Deliveries[0]; d.State != tc.state || tc.reason != "" && d.LastError != tc.reason {
					t.Errorf("delivery %s / %q, want %s / %q", d.State, d.LastError, tc.state, tc.reason)
				}
			}
		})
	}
}

// TestConnectionsRemoveGone: deliveries kept for a connection that is in
// no config any more (removed with --pending keep, or by hand) are
// settled by `connections remove NAME`, which then leaves the file alone.
func TestConnectionsRemoveGone(t *testing.T) {
	closed, _ := fake.Reserve()
	h := newHarness(t)
	h.env[config.EnvManagedDir] = filepath.Join(h.dir, "managed")
	cfg := h.jiraConfig("http://"+closed, "env:JIRA_TOKEN")
	for i := range 2 {
		h.mustRun("--config", cfg, "report", "--summary", fmt.Sprintf("printer %d", i), "--no-system-info")
	}
	h.mustRun("--config", cfg, "connections", "remove", "Jira", "--yes", "--pending", "keep")
	gone, _ := os.ReadFile(cfg)
	states := func() []string {
		var out []string
		for _, e := range h.list("--config", cfg) {
			out = append(out, e.Deliveries[0].State+"/"+e.Deliveries[0].LastError)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		want   string // each delivery's state/error afterwards
	}{
		{"no choice: refused", nil, ExitUsage, `connection "Jira" is not in the config, but 2 deliveries still wait for it`, "pending/"},
		{"keep: nothing changes", []string{"--pending", "keep"}, ExitOK, `2 deliveries still wait for "Jira"`, "pending/"},
		{"dead", []string{"--pending", "dead"}, ExitOK, "2 deliveries marked dead", `dead/the connection "Jira" is no longer in the config`},
		{"nothing left: unknown", nil, ExitUsage, `no such connection "Jira"`, `dead/the connection "Jira" is no longer in the config`},
	} {
		r := h.run(append([]string{"--config", cfg, "connections", "remove", "Jira", "--yes"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%s: exit %d (want %d), stderr %q, want %q", tc.name, r.code, tc.code, r.stderr, tc.stderr)
		}
		if after, _ := os.ReadFile(cfg); !bytes.Equal(after, gone) {
			t.Errorf("%s: the config file changed:\n%s", tc.name, after)
		}
		for _, got := range states() {
			if got != tc.want {
				t.Errorf("%s: delivery %q, want %q", tc.name, got, tc.want)
			}
		}
	}
}
