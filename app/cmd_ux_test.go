package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

func TestQueueUnknownIDIsInputError(t *testing.T) {
	h := newHarness(t)
	h.mustRun("report", "--summary", "something")
	for _, args := range [][]string{
		{"queue", "show", "BADPREFIX"},
		{"queue", "retry", "BADPREFIX"},
		{"queue", "delete", "BADPREFIX", "--yes"},
		{"queue", "show", "short"},
	} {
		if r := h.run(args...); r.code != ExitUsage || !strings.Contains(r.stderr, "not found") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2", args, r.code, r.stderr)
		}
	}
}

func TestQueueListEmptyPerState(t *testing.T) {
	h := newHarness(t)
	if r := h.mustRun("queue", "list"); !strings.Contains(r.stderr, "The queue is empty.") {
		t.Errorf("empty queue: %q", r.stderr)
	}
	h.mustRun("report", "--summary", "something")
	for state, want := range map[string]string{"dead": "No dead tickets.", "delivered": "No delivered tickets."} {
		if r := h.mustRun("queue", "list", "--state", state); !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "empty") {
			t.Errorf("--state %s: %q, want %q", state, r.stderr, want)
		}
	}
}

func TestConfigSignWithPublicKey(t *testing.T) {
	h := newHarness(t)
	prefix := filepath.Join(h.dir, "it")
	h.mustRun("config", "keygen", "--out", prefix)
	cfg := h.writeConfig(`{}`)
	r := h.run("config", "sign", "--key", prefix+".pub", cfg)
	want := "this is a public key; sign with the private one (" + prefix + ".key)"
	if r.code != ExitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
}

func TestPluralGrammar(t *testing.T) {
	for n, want := range map[int]string{0: "0 deliveries", 1: "1 delivery", 2: "2 deliveries"} {
		if got := plural(n, "delivery"); got != want {
			t.Errorf("plural(%d, delivery) = %q, want %q", n, got, want)
		}
	}
	if got := plural(1, "attempt") + ", " + plural(2, "attempt") + ", " + plural(2, "day"); got != "1 attempt, 2 attempts, 2 days" {
		t.Errorf("got %q", got)
	}
	h := newHarness(t)
	id := strings.TrimSpace(h.mustRun("report", "--summary", "something").stdout)
	if r := h.mustRun("queue", "retry", id); !strings.Contains(r.stdout+r.stderr, "0 deliveries") && !strings.Contains(r.stdout+r.stderr, "nothing") {
		t.Errorf("retry: %q %q", r.stdout, r.stderr)
	}
}

func TestConnectionsTestLabels(t *testing.T) {
	for _, tt := range []struct {
		code int
		want string
	}{
		{503, "server unavailable"},
		{401, "credentials rejected"},
		{403, "credentials rejected"},
		{404, "not found (check baseUrl)"},
	} {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			jf := startJira(t)
			jf.Faults.Always("GET", "/rest/api/3/myself", fake.Fault{Kind: fake.Respond, Code: tt.code, Body: `{"errorMessages":["nope"],"errors":{}}`})
			h := newHarness(t)
			cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
			r := h.run("--config", cfg, "connections", "test", "Jira", "--json")
			var reps []testReport
			if err := json.Unmarshal([]byte(r.stdout), &reps); err != nil || len(reps) != 1 {
				t.Fatalf("json: %v\n%s", err, r.stdout)
			}
			last := reps[0].Checks[len(reps[0].Checks)-1]
			if r.code != ExitFailure || last.Name != "auth" || last.OK || last.Label != tt.want {
				t.Errorf("exit %d, last check %+v; want label %q", r.code, last, tt.want)
			}
			if text := h.run("--config", cfg, "connections", "test", "Jira"); !strings.Contains(text.stdout, "FAIL auth") || !strings.Contains(text.stdout, tt.want+": ") {
				t.Errorf("text:\n%s", text.stdout)
			}
		})
	}
	if got := failureLabel(context.DeadlineExceeded); got != "no answer" {
		t.Errorf("timeout label %q", got)
	}
}
