package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// A broken config never stops a report: with no good config yet the
// ticket waits unrouted; once a config has loaded, the last good one is
// used while the files are broken. Only commands that read config
// themselves exit 2.
func TestReportNeverDependsOnConfig(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	broken := "{\n  \"version\": 1,\n  \"connections\": [\n"
	cfg := h.writeConfig(broken)

	r := h.mustRun("--config", cfg, "report", "--summary", "before any good config", "--no-system-info")
	if !strings.Contains(r.stderr, "config.json:4:") || !strings.Contains(r.stderr, "using no connections until it is fixed") {
		t.Errorf("report with a broken config, no last good: stderr %q", r.stderr)
	}
	if got := h.list("--config", cfg); len(got) != 1 || len(got[0].Deliveries) != 0 {
		t.Fatalf("queue list = %+v, want one unrouted ticket", got)
	}
	if r := h.run("--config", cfg, "config", "validate"); r.code != ExitUsage {
		t.Errorf("config validate on a broken config: exit %d", r.code)
	}

	// A good config loads (and is kept); the first ticket is routed to it.
	h.jiraConfig(jf.URL(), jirafake.APIToken)
	h.mustRun("--config", cfg, "report", "--summary", "with a good config", "--no-system-info")

	// Broken again, in each way the issue names: the last good config is
	// used, so the new ticket goes to Jira too.
	for name, body := range map[string]string{
		"syntax error":       broken,
		"unknown type":       `{"version":1,"connections":[{"name":"Jira","type":"itsm-9000","baseUrl":"https://x.example.com","credentials":{"type":"bearer","token":"t"}}],"polcy":{}}`,
		"unknown top key":    `{"version":1,"conections":[]}`,
		"newer version":      `{"version":99}`,
		"not even an object": `[]`,
	} {
		h.writeConfig(body)
		r := h.mustRun("--config", cfg, "report", "--summary", "while broken: "+name, "--no-system-info")
		if !strings.Contains(r.stderr, "using the last good configuration") {
			t.Errorf("%s: stderr %q", name, r.stderr)
		}
	}
	h.mustRun("--config", cfg, "drain", "--timeout", "30s")
	got := h.list("--config", cfg)
	if len(got) != 7 {
		t.Fatalf("%d tickets, want 7", len(got))
	}
	for _, e := range got {
		if len(e.Deliveries) != 1 || e.Deliveries[0].State != "delivered" {
			t.Errorf("%q: deliveries %+v", e.Summary, e.Deliveries)
		}
		var sj entryJSON
		if err := json.Unmarshal([]byte(h.mustRun("--config", cfg, "queue", "show", e.ID, "--json").stdout), &sj); err != nil || sj.Ticket == nil {
			t.Fatalf("queue show %s: %v", e.ID, err)
		}
		if jf.Count(connectors.DeliveryKey(sj.Ticket.IdempotencyKey, "Jira")) != 1 {
			t.Errorf("%q is not in Jira exactly once", e.Summary)
		}
	}
}

// A drop-in without its signature while IT's public key is installed is
// refused as a whole; the report is saved all the same.
func TestUnsignedDropInDoesNotStopReports(t *testing.T) {
	h := newHarness(t)
	managed := filepath.Join(h.dir, "managed")
	if err := os.MkdirAll(filepath.Join(managed, "config.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.env["TICKETRAY_MANAGED_DIR"] = managed
	h.mustRun("config", "keygen", "--out", filepath.Join(h.dir, "it"))
	pub, err := os.ReadFile(filepath.Join(h.dir, "it.pub"))
	if err != nil {
		t.Fatalf("keygen wrote no public key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(managed, "config.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(managed, "config.d", "10-extra.json"), []byte(`{"categories":["Network"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := h.mustRun("report", "--summary", "unsigned drop-in", "--no-system-info")
	if !strings.Contains(r.stderr, "10-extra.json") || !strings.Contains(r.stderr, "using no connections") {
		t.Errorf("stderr %q", r.stderr)
	}
	if got := h.list(); len(got) != 1 {
		t.Errorf("%d tickets saved, want 1", len(got))
	}
}

// One good ServiceNow connection and one Jira connection without
// projectKey: drain delivers every ServiceNow ticket, reports Jira as
// misconfigured with the located reason, and exits 1 because Jira's
// deliveries are left; connections list shows it red.
func TestDrainWithOneMisconfiguredConnection(t *testing.T) {
	sn := snfake.Start()
	t.Cleanup(sn.Close)
	h := newHarness(t)
	h.env["SN_PASSWORD"] = snfake.Password
	cfg := h.writeConfig(fmt.Sprintf(`{"version":1,"connections":[
  {"name":"ServiceNow","type":"servicenow","baseUrl":%q,"credentials":{"type":"basic","username":%q,"password":"env:SN_PASSWORD"}},
  {"name":"Jira","type":"jira","baseUrl":"https://acme.atlassian.net","credentials":{"type":"bearer","token":"t"},"options":{"issueType":"Task"}}
]}`, sn.URL(), snfake.Username))
	var keys []string
	for i := 0; i < 3; i++ {
		r := h.mustRun("--config", cfg, "report", "--summary", fmt.Sprint("ticket ", i), "--no-system-info", "--json")
		var rc Receipt
		if err := json.Unmarshal([]byte(r.stdout), &rc); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rc.IdempotencyKey)
	}
	r := h.run("--config", cfg, "drain", "--timeout", "30s")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "Jira: 3 deliveries left (misconfigured:") ||
		!strings.Contains(r.stderr, "options.projectKey") || !strings.Contains(r.stderr, "config.json:3:") {
		t.Errorf("drain: exit %d\n%s", r.code, r.stderr)
	}
	for _, k := range keys {
		if n := sn.Count(connectors.DeliveryKey(k, "ServiceNow")); n != 1 {
			t.Errorf("ServiceNow holds %d copies of %s", n, k)
		}
	}
	var sum delivery.Summary
	r = h.run("--config", cfg, "drain", "--timeout", "30s", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Left["Jira"] != 3 || sum.Left["ServiceNow"] != 0 || sum.Misconfigured["Jira"] == "" {
		t.Errorf("drain --json: %v %+v", err, sum)
	}
	var conns []ConnectionStatus
	if err := json.Unmarshal([]byte(h.mustRun("--config", cfg, "connections", "list", "--json").stdout), &conns); err != nil {
		t.Fatal(err)
	}
	if len(conns) != 2 || conns[0].State != delivery.Healthy || conns[1].State != delivery.Misconfigured || !strings.Contains(conns[1].LastError, "projectKey") {
		t.Errorf("connections list = %+v", conns)
	}
}

// A connection whose tickets die on 401 is failing (red) in connections
// list, with how many tickets died.
func TestRejectedCredentialsAreFailing(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), "wrong-token")
	for i := 0; i < 3; i++ {
		h.mustRun("--config", cfg, "report", "--summary", "x", "--no-system-info")
	}
	if r := h.run("--config", cfg, "drain", "--timeout", "30s"); r.code != ExitFailure || !strings.Contains(r.stderr, "3 deliveries died during this run") {
		t.Errorf("drain: exit %d\n%s", r.code, r.stderr)
	}
	var conns []ConnectionStatus
	if err := json.Unmarshal([]byte(h.mustRun("--config", cfg, "connections", "list", "--json").stdout), &conns); err != nil {
		t.Fatal(err)
	}
	if len(conns) != 1 || conns[0].State != delivery.Failing || conns[0].Dead != 3 || !strings.HasPrefix(conns[0].LastError, "credentials rejected (HTTP 401)") {
		t.Errorf("connections list = %+v", conns)
	}
	if out := h.mustRun("--config", cfg, "connections", "list").stdout; !strings.Contains(out, "failing") || !strings.Contains(out, "3 tickets dead") {
		t.Errorf("connections list:\n%s", out)
	}
}

// Commands that need config but do not read it themselves keep working
// with a broken config file: report --skills, diagnose, skills list.
func TestBrokenConfigKeepsCommandsWorking(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1,"skills":[`)
	r := h.mustRun("--config", cfg, "report", "--summary", "disk is full", "--skills", "disk-space", "--no-system-info", "--json")
	if !strings.Contains(r.stderr, "skill disk-space:") || !strings.Contains(r.stderr, "config.json:1:") {
		t.Errorf("report --skills: stderr %q", r.stderr)
	}
	if r := h.mustRun("--config", cfg, "diagnose", "--json"); !strings.Contains(r.stdout, `"skillResults"`) {
		t.Errorf("diagnose: %q", r.stdout)
	}
	if r := h.mustRun("--config", cfg, "skills", "list"); !strings.Contains(r.stdout, "disk-space") {
		t.Errorf("skills list: %q", r.stdout)
	}
	for _, args := range [][]string{{"config", "validate"}, {"config", "show"}, {"connections", "test"}} {
		if r := h.run(append([]string{"--config", cfg}, args...)...); r.code != ExitUsage {
			t.Errorf("%v on a broken config: exit %d, want %d", args, r.code, ExitUsage)
		}
	}
}

// A keyring that could not be opened is tried again (after a short
// pause), not cached as failed for the life of the process.
func TestKeyringTriedAgain(t *testing.T) {
	env := map[string]string{EnvKeyringBackend: "file", "XDG_DATA_HOME": t.TempDir()}
	svc := &Service{getenv: func(k string) string { return env[k] }, ring: &lazyKeyring{}}
	if _, err := svc.keyring(); err == nil {
		t.Fatal("the file keyring opened without its password")
	}
	env[EnvKeyringPassword] = "now it is set"
	if _, err := svc.keyring(); err == nil {
		t.Fatal("tried again at once: a failing keyring would be probed on every call")
	}
	svc.ring.failedAt = svc.ring.failedAt.Add(-keyringRetry) // the pause has passed
	ring, err := svc.keyring()
	if err != nil || ring == nil {
		t.Fatalf("not tried again: %v", err)
	}
	if again, _ := svc.keyring(); again != ring {
		t.Error("an open keyring is not kept")
	}
}

func TestSavedLine(t *testing.T) {
	for _, tt := range []struct {
		conns, mis []string
		want       string
	}{
		{nil, nil, "Saved. No connection is configured yet, so it waits in the queue."},
		{[]string{"SN", "Jira"}, nil, "Saved — will be sent to SN, Jira when online."},
		{[]string{"SN", "Jira"}, []string{"Jira"}, "Saved — will be sent to SN when online; Jira waits until IT fixes its configuration (see 'ticketray connections list')."},
		{[]string{"Jira"}, []string{"Jira"}, "Saved; Jira waits until IT fixes its configuration (see 'ticketray connections list')."},
	} {
		if got := savedLine(tt.conns, tt.mis); got != tt.want {
			t.Errorf("savedLine(%v, %v) = %q, want %q", tt.conns, tt.mis, got, tt.want)
		}
	}
}

// A ticket damaged on disk dies during the drain (the store marks it); the
// drain counts it and exits 1, and every readable ticket is delivered.
func TestDrainCountsDamagedTickets(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", fmt.Sprint("ticket ", i), "--no-system-info").stdout))
	}
	db, err := sql.Open("sqlite", h.env[EnvDBPath])
	if err != nil {
		t.Fatal(err)
	}
	// Flip the last byte of one sealed payload: it fails authentication.
	var payload []byte
	if err := db.QueryRow("SELECT payload FROM tickets WHERE id = ?", ids[1]).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	payload[len(payload)-1] ^= 1
	if _, err := db.Exec("UPDATE tickets SET payload = ? WHERE id = ?", payload, ids[1]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := h.run("--config", cfg, "drain", "--timeout", "30s", "--json")
	var sum delivery.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("drain --json: %v\n%s", err, r.stdout)
	}
	if r.code != ExitFailure || sum.Died != 1 || sum.LeftTotal != 0 {
		t.Errorf("drain: exit %d, summary %+v\n%s", r.code, sum, r.stderr)
	}
	if n := len(jf.Issues()); n != 2 {
		t.Errorf("Jira holds %d issues, want the 2 readable tickets", n)
	}
}

func TestStatusNotice(t *testing.T) {
	for _, tt := range []struct {
		ch          delivery.Change
		title, body string
		ok          bool
	}{
		{delivery.Change{RemoteNumber: "INC0010023", After: "resolved", Note: "Replaced the toner."}, "INC0010023 was resolved", "INC0010023 was resolved: Replaced the toner.", true},
		{delivery.Change{RemoteNumber: "IT-7", After: "waiting_on_you"}, "IT-7 is waiting for your reply", "IT-7 is waiting for your reply", true},
		{delivery.Change{RemoteNumber: "IT-7", After: "in_progress"}, "", "", false},
		{delivery.Change{RemoteNumber: "IT-7", After: "closed"}, "", "", false},
	} {
		title, body, ok := StatusNotice(tt.ch)
		if title != tt.title || body != tt.body || ok != tt.ok {
			t.Errorf("StatusNotice(%+v) = %q, %q, %v", tt.ch, title, body, ok)
		}
	}
}

// A long-lived process (the tray's windows process) that follows config
// changes routes new reports by the connections in force, so a ticket
// never waits for a connection that was removed.
func TestUseConfigRoutesNewReports(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1,"connections":[{"name":"Old","type":"servicenow","baseUrl":"https://old.example.com","credentials":{"type":"bearer","token":"t"}}]}`)
	svc, err := Open(context.Background(), Options{ConfigPath: cfg, Getenv: func(k string) string { return h.env[k] }, Warn: func(config.Problem) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	h.writeConfig(`{"version":1,"connections":[{"name":"New","type":"servicenow","baseUrl":"https://new.example.com","credentials":{"type":"bearer","token":"t"}}]}`)
	l, err := LoadLayered(Options{ConfigPath: cfg}, false)
	if err != nil {
		t.Fatal(err)
	}
	svc.UseConfig(l)
	r, err := svc.Submit(context.Background(), Draft{Summary: "after the change"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Connections) != 1 || r.Connections[0] != "New" {
		t.Errorf("routed to %v, want New", r.Connections)
	}
}
