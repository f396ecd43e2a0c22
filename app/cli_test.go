package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/queue"
)

func TestMain(m *testing.M) {
	// The production Argon2id cost (64 MiB, 3 passes) per CLI call would
	// make this suite slow; the KDF itself is tested in queue.
	kdfCost = queue.PassphraseKEK{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	os.Exit(m.Run())
}

// run is one CLI invocation with its own environment.
type run struct {
	code           int
	stdout, stderr string
}

type harness struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	return &harness{t: t, dir: dir, env: map[string]string{
		EnvDBPath:       filepath.Join(dir, "queue.db"),
		EnvPassphrase:   "correct horse battery staple",
		"HOME":          dir,
		"XDG_DATA_HOME": filepath.Join(dir, "data"),
	}}
}

func (h *harness) run(args ...string) run {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return h.env[k] }}, nil)
	return run{code, out.String(), errb.String()}
}

func (h *harness) mustRun(args ...string) run {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func (h *harness) writeConfig(body string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, "config.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) list(args ...string) []entryJSON {
	h.t.Helper()
	r := h.mustRun(append([]string{"queue", "list", "--json"}, args...)...)
	var out []entryJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		h.t.Fatalf("queue list --json: %v\n%s", err, r.stdout)
	}
	return out
}

func TestHelpAndVersion(t *testing.T) {
	h := newHarness(t)
	if r := h.mustRun("version"); !strings.HasPrefix(r.stdout, "ticketray "+Version) {
		t.Errorf("version printed %q", r.stdout)
	}
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"report", "--help"}, {"queue", "--help"}, {"queue", "list", "--help"},
		{"queue", "show", "-h"}, {"keys", "--help"}, {"version", "--help"}, {"help", "report"},
	} {
		r := h.run(args...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{
		{"frobnicate"},
		{"report"}, // no summary
		{"report", "--summary", "x", "--priority", "urgent"},
		{"report", "--summary", "x", "--user-email", "not-an-email"},
		{"report", "--summary", "x", "--bogus"},
		{"report", "--summary", strings.Repeat("y", 161)},
		{"report", "--summary", "x", "--attach", "/nonexistent/file"},
		{"report", "--summary", "x", "--skills", "dns-flush", "--no-skills"},
		{"queue"},
		{"queue", "list", "--state", "lost"},
		{"queue", "show"},
		{"queue", "retry"},
		{"queue", "purge", "--older-than", "soon"},
		{"queue", "delete", "0123456789"}, // no --yes
		{"keys"},
		{"keys", "rotate", "--kek", "vault"},
	} {
		r := h.run(args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2; stderr %q", args, r.code, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("%v: no message on stderr", args)
		}
	}
	// Nothing was queued by any of them.
	if got := h.list(); len(got) != 0 {
		t.Errorf("queue has %d tickets after only bad input", len(got))
	}
}

func TestValidationNamesTheField(t *testing.T) {
	h := newHarness(t)
	r := h.run("report", "--summary", " ", "--priority", "urgent", "--user-email", "bob@")
	for _, want := range []string{"summary: is required", "priority:", "user.email:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	if strings.Contains(r.stderr, "bob@") {
		t.Errorf("error echoes the email value: %q", r.stderr)
	}
}

func TestReportListShow(t *testing.T) {
	h := newHarness(t)
	att := filepath.Join(h.dir, "log.txt")
	os.WriteFile(att, []byte("error 42\n"), 0o600)
	cfg := h.writeConfig(`{"version":1,"categories":["Network","Hardware"],"connections":[
		{"name":"SN","type":"servicenow","baseUrl":"https://acme.service-now.com","credentials":{"type":"basic","username":"svc","password":"env:SN_PW"}},
		{"name":"Jira","type":"jira","baseUrl":"http://127.0.0.1:8080","credentials":{"type":"api_token","username":"a@b.c","apiToken":"keyring:jira"},"options":{"projectKey":"IT","issueType":"Task"}},
		{"name":"Off","type":"zendesk","baseUrl":"https://x.zendesk.com","enabled":false,"credentials":{"type":"bearer","token":"t"}}]}`)
	r := h.mustRun("--config", cfg, "report", "--summary", "VPN drops every hour", "--description", "since Monday",
		"--category", "network", "--priority", "high", "--user-email", "alice@example.com", "--attach", att, "--no-system-info")
	id := strings.TrimSpace(r.stdout)
	if len(id) != 36 {
		t.Fatalf("report printed %q, want a ticket id", r.stdout)
	}
	if !strings.Contains(r.stderr, "will be sent to SN, Jira") {
		t.Errorf("report stderr %q", r.stderr)
	}

	got := h.list("--config", cfg)
	if len(got) != 1 {
		t.Fatalf("list has %d tickets, want 1", len(got))
	}
	e := got[0]
	if e.ID != id || e.Summary != "VPN drops every hour" || e.Priority != "high" || e.CreatedAt.IsZero() {
		t.Errorf("list entry = %+v", e)
	}
	var conns []string
	for _, d := range e.Deliveries {
		if d.Action != "create" || d.State != "pending" || d.NextAttemptAt == nil {
			t.Errorf("delivery %+v, want a pending create", d)
		}
		conns = append(conns, d.Connection)
	}
	if strings.Join(conns, ",") != "SN,Jira" {
		t.Errorf("deliveries for %v, want SN,Jira (the disabled one excluded)", conns)
	}

	// --json keys are the contract's.
	raw := h.mustRun("queue", "list", "--json").stdout
	for _, k := range []string{`"id"`, `"summary"`, `"createdAt"`, `"priority"`, `"deliveries"`, `"connection"`, `"action"`, `"state"`, `"attempts"`, `"remoteId"`, `"remoteNumber"`, `"remoteUrl"`, `"lastError"`, `"nextAttemptAt"`} {
		if !strings.Contains(raw, k) {
			t.Errorf("queue list --json lacks %s", k)
		}
	}

	show := h.mustRun("queue", "show", id[:13], "--json").stdout
	var sj entryJSON
	if err := json.Unmarshal([]byte(show), &sj); err != nil {
		t.Fatal(err)
	}
	tk := sj.Ticket
	if tk == nil || tk.Description != "since Monday" || tk.User.Email != "alice@example.com" || tk.IdempotencyKey == "" ||
		len(tk.Attachments) != 1 || tk.Attachments[0].SizeBytes != 9 || tk.Attachments[0].Data != nil || tk.SystemInfo != nil {
		t.Errorf("show --json ticket = %+v", tk)
	}
	if human := h.mustRun("queue", "show", id).stdout; !strings.Contains(human, "VPN drops every hour") || !strings.Contains(human, "SN create: pending") {
		t.Errorf("queue show:\n%s", human)
	}
	if r := h.run("queue", "show", "ffffffff-0000"); r.code != ExitUsage || !strings.Contains(r.stderr, "not found") {
		t.Errorf("show missing: exit %d %q", r.code, r.stderr)
	}
	if r := h.mustRun("queue", "list", "--state", "delivered", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("delivered filter = %s", r.stdout)
	}
}

func TestReportAttachesSystemInfo(t *testing.T) {
	h := newHarness(t)
	id := strings.TrimSpace(h.mustRun("report", "--summary", "slow laptop").stdout)
	var sj entryJSON
	json.Unmarshal([]byte(h.mustRun("queue", "show", id, "--json").stdout), &sj)
	si := sj.Ticket.SystemInfo
	if si == nil || si.Architecture == "" || si.DeviceName == "" {
		t.Fatalf("system info = %+v", si)
	}
	if sj.Ticket.User.ID == "" {
		t.Error("user id should default to the OS user")
	}
}

func TestWrongKeyLeavesFileUntouched(t *testing.T) {
	h := newHarness(t)
	h.mustRun("report", "--summary", "keep me")
	db := h.env[EnvDBPath]
	before := fileSum(t, db)
	h.env[EnvPassphrase] = "wrong passphrase"
	r := h.run("queue", "list")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "encryption key does not match") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "wrong passphrase") {
		t.Error("the passphrase appears in the error")
	}
	if after := fileSum(t, db); after != before {
		t.Error("the queue file changed after a wrong-key open")
	}
	delete(h.env, EnvPassphrase)
	h.env[EnvKeyringBackend] = "file"
	h.env[EnvKeyringPassword] = "kr-pass"
	if r := h.run("queue", "list"); r.code != ExitFailure || !strings.Contains(r.stderr, "OFFLINE_QUEUE_ENCRYPTION_KEY") {
		t.Errorf("passphrase queue opened via keyring: exit %d, %q", r.code, r.stderr)
	}
	h.env[EnvPassphrase] = "correct horse battery staple"
	if got := h.list(); len(got) != 1 || got[0].Summary != "keep me" {
		t.Errorf("after the failures the ticket is %+v", got)
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestCorruptDBMovedAside(t *testing.T) {
	h := newHarness(t)
	db := h.env[EnvDBPath]
	garbage := bytes.Repeat([]byte("not a database "), 1000)
	os.WriteFile(db, garbage, 0o600)
	r := h.run("report", "--summary", "x")
	if r.code != ExitFailure || r.stdout != "" {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "corrupt") || !strings.Contains(r.stderr, db+".corrupt-") {
		t.Fatalf("stderr %q does not say where the file went", r.stderr)
	}
	matches, _ := filepath.Glob(db + ".corrupt-*")
	if len(matches) != 1 {
		t.Fatalf("moved-aside files: %v", matches)
	}
	if b, _ := os.ReadFile(matches[0]); !bytes.Equal(b, garbage) {
		t.Error("the moved-aside file is not the original")
	}
	// The next run starts a fresh queue.
	h.mustRun("report", "--summary", "after")
	if got := h.list(); len(got) != 1 {
		t.Errorf("fresh queue has %d tickets", len(got))
	}
}

func TestUnwritableQueueSaysNotQueued(t *testing.T) {
	h := newHarness(t)
	blocker := filepath.Join(h.dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	h.env[EnvDBPath] = filepath.Join(blocker, "queue.db") // parent is a file
	r := h.run("report", "--summary", "x")
	if r.code != ExitFailure || r.stdout != "" || strings.Contains(strings.ToLower(r.stderr), "saved") {
		t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestNoDisplay(t *testing.T) {
	h := newHarness(t)
	r := h.run()
	if DisplayProblem("linux", func(string) string { return "" }) == "" {
		t.Fatal("DisplayProblem should report a missing display on linux")
	}
	if r.code != ExitFailure {
		t.Fatalf("exit %d", r.code)
	}
	line := strings.TrimSpace(r.stderr)
	if strings.Count(line, "\n") != 0 || !strings.Contains(line, "ticketray --help") || !strings.Contains(line, "ticketray serve") {
		t.Errorf("message %q is not one line pointing to the CLI and serve", r.stderr)
	}
	if DisplayProblem("linux", func(k string) string { return map[string]string{"WAYLAND_DISPLAY": "wayland-0"}[k] }) != "" {
		t.Error("a Wayland session counts as a display")
	}
	if DisplayProblem("windows", func(string) string { return "" }) != "" {
		t.Error("windows always has a display")
	}
}

func TestRetryPurgeDelete(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1,"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://a.service-now.com","credentials":{"type":"bearer","token":"t"}}]}`)
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "one").stdout)
	id2 := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "two").stdout)

	// Kill one delivery and deliver the other through the store directly.
	svc, err := Open(context.Background(), Options{ConfigPath: cfg, Getenv: func(k string) string { return h.env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leases, err := svc.Store.Lease(ctx, queue.LeaseOptions{Limit: 2})
	if err != nil || len(leases) != 2 {
		t.Fatalf("lease: %v %d", err, len(leases))
	}
	for _, l := range leases {
		o := queue.Outcome{State: queue.StateDead, Error: "400 Bad Request: invalid caller"}
		if l.TicketID == id2 {
			o = queue.Outcome{State: queue.StateDelivered, RemoteNumber: "INC0010023"}
		}
		if err := svc.Store.Complete(ctx, l, o); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()

	dead := h.list("--state", "dead")
	if len(dead) != 1 || dead[0].ID != id || dead[0].Deliveries[0].LastError != "400 Bad Request: invalid caller" {
		t.Fatalf("dead = %+v", dead)
	}
	if r := h.mustRun("queue", "retry", "--all-dead"); !strings.HasPrefix(r.stdout, "1 ") {
		t.Errorf("retry --all-dead: %q", r.stdout)
	}
	if p := h.list("--state", "pending"); len(p) != 1 || p[0].ID != id || p[0].Deliveries[0].Attempts != 0 {
		t.Errorf("after retry pending = %+v", p)
	}
	// Delivered just now: not purged at 30d, purged at 0s.
	if r := h.mustRun("queue", "purge"); !strings.HasPrefix(r.stdout, "0 ") {
		t.Errorf("purge default: %q", r.stdout)
	}
	if r := h.mustRun("queue", "purge", "--delivered", "--older-than", "0s"); !strings.HasPrefix(r.stdout, "1 ") {
		t.Errorf("purge 0s: %q", r.stdout)
	}
	h.mustRun("queue", "delete", id, "--yes")
	if got := h.list(); len(got) != 0 {
		t.Errorf("after purge and delete: %+v", got)
	}
}

func TestKeysRotateCLI(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 3; i++ {
		h.mustRun("report", "--summary", "rotate me", "--no-system-info")
	}
	// Three tickets and the last good config (sealed like a ticket).
	if r := h.mustRun("keys", "rotate"); !strings.Contains(r.stdout, "4 encrypted values now under data key #2") {
		t.Errorf("rotate: %q", r.stdout)
	}
	if r := h.run("keys", "rotate", "--kek", "passphrase"); r.code != ExitUsage {
		t.Errorf("--kek passphrase without the env var: exit %d", r.code)
	}
	h.env["OFFLINE_QUEUE_NEW_ENCRYPTION_KEY"] = "new passphrase"
	h.mustRun("keys", "rotate", "--kek", "passphrase")
	if r := h.run("queue", "list"); r.code != ExitFailure {
		t.Error("the old passphrase still opens the queue after re-wrap")
	}
	h.env[EnvPassphrase] = "new passphrase"
	if got := h.list(); len(got) != 3 || got[2].Summary != "rotate me" {
		t.Errorf("after re-wrap: %+v", got)
	}
}

// TestKeyringBackends runs the CLI on a queue whose key is in a real
// keyring: the file backend always, the Secret Service where there is one.
func TestKeyringBackends(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		h := newHarness(t)
		delete(h.env, EnvPassphrase)
		h.env[EnvKeyringBackend] = "file"
		h.env[EnvKeyringPassword] = "file keyring password"
		id := strings.TrimSpace(h.mustRun("report", "--summary", "keyring queue", "--no-system-info").stdout)
		if got := h.list(); len(got) != 1 || got[0].ID != id {
			t.Fatalf("list = %+v", got)
		}
		h.env[EnvKeyringPassword] = "another password"
		if r := h.run("queue", "list"); r.code != ExitFailure {
			t.Error("the file keyring opened with the wrong password")
		}
	})
	t.Run("secret-service", func(t *testing.T) {
		h := newHarness(t)
		delete(h.env, EnvPassphrase)
		h.env[EnvKeyringBackend] = "secret-service"
		h.env["DBUS_SESSION_BUS_ADDRESS"] = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
		if _, err := OpenKeyring(func(k string) string { return h.env[k] }); err != nil {
			if os.Getenv("TICKETRAY_TEST_SECRET_SERVICE") == "1" {
				t.Fatalf("Secret Service required: %v", err)
			}
			t.Skipf("no Secret Service: %v", err)
		}
		id := strings.TrimSpace(h.mustRun("report", "--summary", "secret service queue", "--no-system-info").stdout)
		h.mustRun("keys", "rotate")
		if got := h.list(); len(got) != 1 || got[0].ID != id || got[0].Summary != "secret service queue" {
			t.Fatalf("list = %+v", got)
		}
	})
}

func TestPurgeExpiredKeepsRecentAndUndelivered(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1,"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://a.service-now.com","credentials":{"type":"bearer","token":"t"}}]}`)
	h.mustRun("--config", cfg, "report", "--summary", "delivered", "--no-system-info")
	h.mustRun("--config", cfg, "report", "--summary", "pending", "--no-system-info")
	ctx := context.Background()
	svc, err := Open(ctx, Options{ConfigPath: cfg, Getenv: func(k string) string { return h.env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	l, err := svc.Store.Lease(ctx, queue.LeaseOptions{})
	if err != nil || len(l) != 1 {
		t.Fatal(err)
	}
	if err := svc.Store.Complete(ctx, l[0], queue.Outcome{State: queue.StateDelivered, RemoteNumber: "INC1"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if n, err := svc.PurgeExpired(ctx, now.Add(Retention-time.Hour)); err != nil || n != 0 {
		t.Errorf("inside retention: purged %d, %v", n, err)
	}
	if n, err := svc.PurgeExpired(ctx, now.Add(Retention+time.Hour)); err != nil || n != 1 {
		t.Errorf("past retention: purged %d, %v", n, err)
	}
	left, _ := svc.List(ctx, "")
	if len(left) != 1 || left[0].Ticket.Summary != "pending" {
		t.Errorf("left = %+v", left)
	}
}

func TestQueueListMine(t *testing.T) {
	h := newHarness(t)
	me := DefaultUser().ID
	h.mustRun("report", "--summary", "mine", "--no-system-info")
	h.mustRun("report", "--summary", "someone else's", "--user-id", "not-"+me, "--no-system-info")
	got := h.list("--mine")
	if len(got) != 1 || got[0].Summary != "mine" {
		t.Errorf("queue list --mine = %+v", got)
	}
	if all := h.list(); len(all) != 2 {
		t.Errorf("queue list = %d tickets", len(all))
	}
}
