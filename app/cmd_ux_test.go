package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/queue"
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
		if got := Plural(n, "delivery"); got != want {
			t.Errorf("Plural(%d, delivery) = %q, want %q", n, got, want)
		}
	}
	if got := Plural(1, "attempt") + ", " + Plural(2, "attempt") + ", " + Plural(2, "day"); got != "1 attempt, 2 attempts, 2 days" {
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

func TestReportDescriptionFromFileAndStdin(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(h.dir, "desc.txt")
	if err := os.WriteFile(file, []byte("line one\nline two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(h.mustRun("report", "--summary", "from a file", "--description-file", file, "--no-system-info").stdout)
	if r := h.mustRun("queue", "show", id); !strings.Contains(r.stdout, "line one\nline two") {
		t.Errorf("show:\n%s", r.stdout)
	}
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return h.env[k] }, Stdin: strings.NewReader("piped details\n")}
	if code := Main(context.Background(), []string{"report", "--summary", "from stdin", "--description", "-", "--no-system-info"}, env, nil); code != ExitOK {
		t.Fatalf("stdin: exit %d: %s", code, errb.String())
	}
	if r := h.mustRun("queue", "show", strings.TrimSpace(out.String())); !strings.Contains(r.stdout, "piped details") {
		t.Errorf("show:\n%s", r.stdout)
	}
	// No stdin in the Env: an input error, not a crash.
	if r := h.run("report", "--summary", "x", "--description", "-"); r.code != ExitUsage {
		t.Errorf("nil stdin: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("report", "--summary", "x", "--description", "d", "--description-file", file); r.code != ExitUsage {
		t.Errorf("both: exit %d", r.code)
	}
	if r := h.run("report", "--summary", "x", "--description-file", filepath.Join(h.dir, "missing")); r.code != ExitUsage {
		t.Errorf("missing file: exit %d", r.code)
	}
	if r := h.mustRun("report", "--help"); !strings.Contains(r.stdout, "--description-file") {
		t.Errorf("help lacks --description-file")
	}
}

func TestAttachmentLimitHumanSize(t *testing.T) {
	for n, want := range map[int64]string{1: "1 byte", 512: "512 bytes", 1536: "1.5 KB", 10 << 20: "10 MB", 10<<20 + 512<<10: "10.5 MB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
	h := newHarness(t)
	big := filepath.Join(h.dir, "big.bin")
	if err := os.WriteFile(big, make([]byte, 10<<20+512<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run("report", "--summary", "x", "--attach", big)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "is 10.5 MB; the limit is 10 MB") {
		t.Errorf("exit %d %q", r.code, r.stderr)
	}
}

func TestQueueSaysWhyADeliveryWaits(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	later := now.Add(2*time.Minute + time.Second)
	for _, tt := range []struct {
		state, lastError string
		next             time.Time
		h                queue.Health
		want             string
	}{
		{"pending", "", now, queue.Health{State: "down"}, "offline (connection down)"},
		{"retry", "create: HTTP 429 Too Many Requests", later, queue.Health{State: "degraded"}, "rate-limited until "},
		{"retry", "circuit breaker open", later, queue.Health{State: "breaker_open"}, "breaker resting until "},
		{"pending", "", now, queue.Health{State: "misconfigured", LastError: "baseUrl is missing"}, "misconfigured: baseUrl is missing"},
		{"pending", "", now, queue.Health{Connection: "SN", State: "signin_required"}, "sign-in required (run 'ticketray connections login SN')"},
		{"retry", "create: HTTP 401 Unauthorized", later, queue.Health{}, "credentials rejected"},
		{"delivered", "", now, queue.Health{State: "down"}, ""},
	} {
		got := waitReason(tt.state, tt.next, tt.lastError, tt.h, now)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("waitReason(%s, %q, %+v) = %q, want %q", tt.state, tt.lastError, tt.h, got, tt.want)
		}
		if strings.Contains(tt.want, "until") && !strings.Contains(got, "(in 2 min)") {
			t.Errorf("%q lacks the relative time", got)
		}
	}
	if got := relative(now.Add(-3*time.Hour), now); got != "3 h ago" {
		t.Errorf("relative = %q", got)
	}
	if got := waitReason("retry", now.Add(-time.Minute), "create: HTTP 429", queue.Health{}, now); strings.Contains(got, "until") {
		t.Errorf("a past time shown as a wait: %q", got)
	}

	// End to end: a connection recorded as down.
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "x", "--no-system-info").stdout)
	svc, err := Open(context.Background(), Options{ConfigPath: cfg, DBPath: h.env[EnvDBPath], Getenv: func(k string) string { return h.env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.SetHealth(context.Background(), "Jira", "down", false, "dial tcp: connection refused"); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if r := h.mustRun("--config", cfg, "queue", "list"); !strings.Contains(r.stdout, "offline (connection down)") {
		t.Errorf("list:\n%s", r.stdout)
	}
	if r := h.mustRun("--config", cfg, "queue", "show", id); !strings.Contains(r.stdout, "waiting: offline (connection down)") || strings.Contains(r.stdout, "next ") {
		t.Errorf("show:\n%s", r.stdout)
	}
}

func TestQueueRetryExplains(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "x", "--no-system-info").stdout)
	if r := h.mustRun("--config", cfg, "queue", "retry", id); !strings.Contains(r.stdout, "0 deliveries rescheduled") || !strings.Contains(r.stderr, "Nothing to retry") || !strings.Contains(r.stderr, "already due") {
		t.Errorf("pending: %q %q", r.stdout, r.stderr)
	}
	svc, err := Open(context.Background(), Options{ConfigPath: cfg, DBPath: h.env[EnvDBPath], Getenv: func(k string) string { return h.env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.SetHealth(context.Background(), "Jira", "down", false, "dial tcp: connection refused"); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if r := h.mustRun("--config", cfg, "queue", "retry", id); !strings.Contains(r.stderr, "the connection is offline; it will be sent when it is back") {
		t.Errorf("offline: %q", r.stderr)
	}
	if r := h.mustRun("--config", cfg, "queue", "retry", "--all-dead"); !strings.Contains(r.stderr, "no delivery is dead") {
		t.Errorf("all-dead: %q", r.stderr)
	}
	if got := retryExplained(1, []queue.Delivery{{Connection: "Jira", State: "pending"}}, nil, nil, time.Now()); !strings.Contains(got, "Due now") {
		t.Errorf("rescheduled: %q", got)
	}
}

func TestShowAttachmentSizeIsHuman(t *testing.T) {
	h := newHarness(t)
	f := filepath.Join(h.dir, "log.txt")
	if err := os.WriteFile(f, make([]byte, 1536), 0o600); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(h.mustRun("report", "--summary", "x", "--attach", f, "--no-system-info").stdout)
	if r := h.mustRun("queue", "show", id); !strings.Contains(r.stdout, "1.5 KB)") {
		t.Errorf("show:\n%s", r.stdout)
	}
}
