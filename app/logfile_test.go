package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
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
	jf := startJira(t)
	h := newHarness(t)
	h.env["XDG_STATE_HOME"] = filepath.Join(h.dir, "state")
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)

	if r := h.mustRun("logs"); r.stdout != "" || !strings.Contains(r.stderr, "No log yet") {
		t.Errorf("logs before any run: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", summary, "--description", description, "--no-system-info").stdout)
	h.mustRun("--config", cfg, "drain", "--timeout", "30s")
	number := h.list("--config", cfg)[0].Deliveries[0].RemoteNumber

	log := h.readLog()
	for _, want := range []string{"msg=start command=drain version=" + Version, "queue=" + h.env[EnvDBPath],
		fmt.Sprintf("msg=delivered ticket=%s", id), "connection=Jira", "state=delivered", "number=" + number} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range []string{summary, "Printer", description, "PX-99812", jirafake.APIToken, h.env[EnvPassphrase]} {
		if strings.Contains(log, secret) {
			t.Errorf("log holds %q:\n%s", secret, log)
		}
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
