package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/queue"
)

// readLog returns the harness's log file, which must exist.
func (h *harness) readLog() string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.env["XDG_STATE_HOME"], "ticketray", LogFileName))
	if err != nil {
		h.t.Fatalf("log file: %v", err)
	}
	return string(b)
}

// A full report → drain run leaves the delivery's outcome in the log file,
// and neither the ticket's text nor the connection's secret nor the
// vendor's answer; `logs` prints its tail.
func TestLogFileAfterDrain(t *testing.T) {
	const summary, description = "Printer on floor 3 eats paper", "It started after the Tuesday update; serial PX-99812."
	const reporter = "pat.quill@floor3.example.org"
	jf := startJira(t)
	h := newHarness(t)
	h.env["XDG_STATE_HOME"] = filepath.Join(h.dir, "state")
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)

	if r := h.mustRun("logs"); r.stdout != "" || !strings.Contains(r.stderr, "No log yet") {
		t.Errorf("logs before any run: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", summary, "--description", description,
		"--user-email", reporter, "--no-system-info").stdout)
	h.mustRun("--config", cfg, "drain", "--timeout", "30s")
	number := h.list("--config", cfg)[0].Deliveries[0].RemoteNumber
	if len(jf.Issues()) != 1 {
		t.Fatalf("Jira holds %d issues, want the one reported", len(jf.Issues()))
	}
	outcome := []string{fmt.Sprintf("msg=delivered ticket=%s", id), "connection=Jira", "state=delivered", "number=" + number}
	never := []string{summary, "Printer", description, "PX-99812", reporter, "pat.quill", jirafake.APIToken, h.env[EnvPassphrase]}

	log := h.readLog()
	for _, want := range append([]string{"msg=start command=drain version=" + Version, "queue=" + h.env[EnvDBPath]}, outcome...) {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range never {
		if strings.Contains(log, secret) {
			t.Errorf("log holds %q:\n%s", secret, log)
		}
	}

	// What leaves the machine with the log's lines: diagnose and the
	// ticket's export (queue show --json, the queue view's Export JSON).
	diag := h.mustRun("--config", cfg, "diagnose", "--log-lines", "10").stdout
	var show struct {
		Ticket struct{ Summary string } `json:"ticket"`
		Log    []string                 `json:"log"`
	}
	if err := json.Unmarshal([]byte(h.mustRun("--config", cfg, "queue", "show", id, "--json").stdout), &show); err != nil {
		t.Fatal(err)
	}
	export := strings.Join(show.Log, "\n")
	for name, got := range map[string]string{"diagnose": diag[strings.Index(diag, "\nLog: "):], "export": export} {
		for _, want := range outcome {
			if !strings.Contains(got, want) {
				t.Errorf("%s's log lacks %q:\n%s", name, want, got)
			}
		}
		for _, secret := range never {
			if strings.Contains(got, secret) {
				t.Errorf("%s's log holds %q:\n%s", name, secret, got)
			}
		}
	}
	if show.Ticket.Summary != summary || strings.Contains(export, "msg=start") {
		t.Errorf("export: summary %q, log lines not about the ticket:\n%s", show.Ticket.Summary, export)
	}

	r := h.mustRun("logs", "--lines", "2")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "msg=stop command=drain") {
		t.Errorf("logs --lines 2 printed %d lines:\n%s", len(lines), r.stdout)
	}
	if r := h.run("logs", "--lines", "0"); r.code != ExitUsage {
		t.Errorf("logs --lines 0: exit %d", r.code)
	}
}

// A ticket the vendor refuses is logged dead without the vendor's
// message, which may echo the ticket.
func TestLogFileDeadHoldsNoVendorText(t *testing.T) {
	jf := startJira(t)
	jf.Faults.Always("POST", "/rest/api/3/issue", fake.Fault{Kind: fake.Respond, Code: 400,
		Body: `{"errorMessages":["Field summary 'Laptop fan screams' is too loud"],"errors":{}}`})
	h := newHarness(t)
	h.env["XDG_STATE_HOME"] = filepath.Join(h.dir, "state")
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "Laptop fan screams", "--no-system-info").stdout)
	if r := h.run("--config", cfg, "drain"); r.code != ExitFailure {
		t.Fatalf("drain: exit %d\n%s", r.code, r.stderr)
	}
	log := h.readLog()
	if !strings.Contains(log, "msg=\"connection state changed\" connection=Jira") || !strings.Contains(log, "to=failing") {
		t.Errorf("log lacks the connection's change to failing:\n%s", log)
	}
	if want := fmt.Sprintf("ticket=%s", id); !strings.Contains(log, "delivery failed for good") || !strings.Contains(log, want) {
		t.Errorf("log lacks the dead outcome of %s:\n%s", id, log)
	}
	for _, s := range []string{"Laptop", "too loud", jirafake.APIToken} {
		if strings.Contains(log, s) {
			t.Errorf("log holds %q:\n%s", s, log)
		}
	}
}

func TestTailLogReachesBackups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LogFileName)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ticketray-2026-01-01T00-00-00.000.log", "a\nb\n")
	write("ticketray-2026-01-02T00-00-00.000.log", "c\nd\n")
	write(LogFileName, "e\n")
	tests := []struct {
		n    int
		want string
	}{
		{1, "e"},
		{3, "c d e"},
		{100, "a b c d e"},
	}
	for _, tt := range tests {
		got, err := tailLog(path, tt.n)
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("tailLog(%d) = %q, %v; want %q", tt.n, got, err, tt.want)
		}
	}
	if _, err := tailLog(filepath.Join(t.TempDir(), LogFileName), 5); !os.IsNotExist(err) {
		t.Errorf("tailLog of no file: %v", err)
	}
}

// The second line of defence: a log line leaves the machine without
// secrets, tokens or e-mail addresses.
func TestScrubLogLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{`time=2026-03-14T09:41:00Z level=INFO msg=delivered ticket=0192 connection=Jira state=delivered number=IT-7`,
			`time=2026-03-14T09:41:00Z level=INFO msg=delivered ticket=0192 connection=Jira state=delivered number=IT-7`},
		{`level=WARN msg="record connection health" err="open user pat.quill@floor3.example.org: denied"`,
			`level=WARN msg="record connection health" err="open user [EMAIL]: denied"`},
		{`level=WARN msg="connection cannot deliver" problem="GET https://desk.example/api?token=s3cr3t-v4lue&x=1: 401"`,
			`level=WARN msg="connection cannot deliver" problem="GET https://desk.example/api?token=[REDACTED]&x=1: 401"`},
		{`level=WARN problem="Authorization: Bearer eyJhbGciOi.abcdefgh.ijklmnop"`, `level=WARN problem="Authorization: [REDACTED]"`},
		{`level=WARN problem="proxy http://svc:hunter2@proxy.corp:3128 refused"`, `level=WARN problem="proxy http://svc:[REDACTED]@proxy.corp:3128 refused"`},
		{`level=WARN problem="client_secret=abc123 rejected"`, `level=WARN problem="client_secret=[REDACTED] rejected"`},
	}
	for _, tt := range tests {
		if got := ScrubLogLine(tt.in); got != tt.want {
			t.Errorf("ScrubLogLine(%s)\n = %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// A ticket's export carries the log's lines about it: its own outcomes,
// and its connections' state when no other ticket is named, oldest
// first, from the backups on, the last DefaultLogLines of them.
func TestTicketLog(t *testing.T) {
	state := t.TempDir()
	dir := filepath.Join(state, "ticketray")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string, lines ...string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ticketray-2026-01-01T00-00-00.000.log",
		`level=INFO msg=start command=tray`,
		`level=WARN msg="connection state changed" connection="Help Desk" from=healthy to=down`,
		`level=WARN msg="connection state changed" connection=Zendesk from=healthy to=down`)
	var many []string
	for i := range DefaultLogLines + 5 {
		many = append(many, fmt.Sprintf(`level=INFO msg=delivered ticket=T2 delivery=%d connection="Help Desk"`, i))
	}
	many = append(many,
		`level=INFO msg=delivered ticket=T1 delivery=7 connection="Help Desk" state=delivered number=IT-7`,
		`level=WARN msg="connection cannot deliver; its deliveries wait" connection="Help Desk" problem="user pat@floor3.example.org unknown"`,
		`level=INFO msg=delivered ticket=T10 delivery=8 connection="Help Desk"`)
	write(LogFileName, many...)
	svc := &Service{getenv: func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the log dir is per-OS; this fixture is the XDG one")
	}

	got := svc.TicketLog(Entry{ID: "T1", Deliveries: []queue.Delivery{{Connection: "Help Desk"}}})
	want := []string{
		`level=WARN msg="connection state changed" connection="Help Desk" from=healthy to=down`,
		`level=INFO msg=delivered ticket=T1 delivery=7 connection="Help Desk" state=delivered number=IT-7`,
		`level=WARN msg="connection cannot deliver; its deliveries wait" connection="Help Desk" problem="user [EMAIL] unknown"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("TicketLog(T1):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := svc.TicketLog(Entry{ID: "T2"}); len(got) != DefaultLogLines || !strings.Contains(got[len(got)-1], fmt.Sprintf("delivery=%d ", DefaultLogLines+4)) {
		t.Errorf("TicketLog(T2): %d lines, last %q", len(got), got[len(got)-1])
	}
	if got := (&Service{getenv: func(string) string { return "" }}).TicketLog(Entry{ID: "T1"}); got != nil {
		t.Errorf("no log dir: %q", got)
	}
}

func TestLogTail(t *testing.T) {
	h := newHarness(t)
	h.env["XDG_STATE_HOME"] = filepath.Join(h.dir, "state")
	getenv := func(k string) string { return h.env[k] }
	if lines, path, err := LogTail(getenv, 5); lines != nil || err != nil || !strings.HasSuffix(path, LogFileName) {
		t.Errorf("no log yet: %q, %q, %v", lines, path, err)
	}
	if err := os.MkdirAll(filepath.Join(h.dir, "state", "ticketray"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "state", "ticketray", LogFileName), []byte("a\nb token=xyz\nc to pat@floor3.example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if lines, _, err := LogTail(getenv, 2); err != nil || strings.Join(lines, "|") != "b token=[REDACTED]|c to [EMAIL]" {
		t.Errorf("LogTail(2) = %q, %v", lines, err)
	}
	if lines, _, err := LogTail(getenv, 0); lines != nil || err != nil {
		t.Errorf("LogTail(0) = %q, %v", lines, err)
	}

	// diagnose prints the tail under a heading, and none with 0.
	out := h.mustRun("diagnose", "--log-lines", "2").stdout
	if !strings.Contains(out, "\nLog: the last 2 lines of ") || !strings.Contains(out, "  c to [EMAIL]\n") {
		t.Errorf("diagnose --log-lines 2:\n%s", out)
	}
	var j struct{ Log []string }
	if err := json.Unmarshal([]byte(h.mustRun("diagnose", "--json", "--log-lines", "0").stdout), &j); err != nil || j.Log != nil {
		t.Errorf("diagnose --json --log-lines 0: log %q, %v", j.Log, err)
	}
	if r := h.run("diagnose", "--log-lines", "-1"); r.code != ExitUsage {
		t.Errorf("--log-lines -1: exit %d", r.code)
	}
}
