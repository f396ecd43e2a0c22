package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/delivery"
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
