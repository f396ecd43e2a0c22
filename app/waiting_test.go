package app

import (
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/fake"
)

// A delivery kept after its connection left the config (removed with
// --pending keep, or taken out of the file by hand) or while it is
// disabled says so in queue list, queue show, queue retry and drain,
// instead of a bare "pending".
func TestHeldDeliveriesSayWhy(t *testing.T) {
	closed, _ := fake.Reserve()
	for _, tc := range []struct {
		name  string
		setup func(h *harness, cfg string) string // returns the config to use afterwards
		want  string
	}{
		{"removed, kept", func(h *harness, cfg string) string {
			h.mustRun("--config", cfg, "connections", "remove", "Jira", "--yes", "--pending", "keep")
			return cfg
		}, `connection "Jira" is not configured (removed?) — add it back under that name, or mark its deliveries dead (ticketray connections remove "Jira" --yes --pending dead)`},
		{"taken out of the file by hand", func(h *harness, _ string) string {
			return h.writeConfig(`{"version":1,"connections":[]}`)
		}, `connection "Jira" is not configured (removed?)`},
		{"disabled", func(h *harness, _ string) string {
			return h.writeConfig(`{"version":1,"connections":[{"name":"Jira","type":"jira","baseUrl":"http://` + closed + `","enabled":false,
				"credentials":{"type":"api_token","username":"u@example.com","apiToken":"env:JIRA_TOKEN"},
				"options":{"projectKey":"IT","issueType":"Task"}}]}`)
		}, `connection "Jira" is disabled in the config — enable it, or delete the ticket`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := h.jiraConfig("http://"+closed, "env:JIRA_TOKEN")
			id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "printer", "--no-system-info").stdout)
			cfg = tc.setup(h, cfg)

			if out := h.mustRun("--config", cfg, "queue", "list").stdout; !strings.Contains(out, "Jira: pending: "+tc.want) {
				t.Errorf("queue list:\n%s\nwant %q", out, tc.want)
			}
			if out := h.mustRun("--config", cfg, "queue", "show", id).stdout; !strings.Contains(out, "waiting: "+tc.want) || strings.Contains(out, "due now") {
				t.Errorf("queue show:\n%s\nwant %q", out, tc.want)
			}
			if r := h.run("--config", cfg, "queue", "retry", id); !strings.Contains(r.stderr, "Jira: "+tc.want) {
				t.Errorf("queue retry: exit %d\n%s\nwant %q", r.code, r.stderr, tc.want)
			}
			r := h.run("--config", cfg, "drain", "--timeout", "5s")
			if !strings.Contains(r.stderr, "Jira: 1 delivery left: "+tc.want) {
				t.Errorf("drain: exit %d\n%s\nwant %q", r.code, r.stderr, tc.want)
			}
			// The JSON stays the queue's own record: no words added.
			if e := h.list("--config", cfg); len(e) != 1 || e[0].Deliveries[0].State != "pending" {
				t.Errorf("queue list --json: %+v", e)
			}
		})
	}
}
