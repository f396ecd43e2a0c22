package app

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/diagnostics"
)

// The tray GUI calls these functions; its CLI twins must print exactly the
// same, so what staff see in a window is what they can script.
func TestViewsMatchTheCLI(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "Printer jams", "--no-system-info").stdout)
	h.run("--config", cfg, "drain", "--timeout", "30s")

	ctx := context.Background()
	svc, err := Open(ctx, Options{ConfigPath: cfg, Getenv: func(k string) string { return h.env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()

	tests := []struct {
		name string
		cli  []string
		gui  func() (string, error)
	}{
		{"queue show --json", []string{"queue", "show", id, "--json"}, func() (string, error) {
			var b bytes.Buffer
			err := svc.WriteTicketJSON(ctx, &b, id)
			return b.String(), err
		}},
		{"queue show", []string{"queue", "show", id}, func() (string, error) { return svc.DescribeTicket(ctx, id) }},
		{"connections list --json", []string{"connections", "list", "--json"}, func() (string, error) {
			conns, err := svc.Connections(ctx)
			if err != nil {
				return "", err
			}
			var b bytes.Buffer
			err = writeJSON(&b, conns)
			return b.String(), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := h.mustRun(append([]string{"--config", cfg}, tt.cli...)...).stdout
			got, err := tt.gui()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("GUI view differs from `ticketray %s`:\ngot:\n%s\nwant:\n%s", strings.Join(tt.cli, " "), got, want)
			}
		})
	}

	// The delivered ticket's history is in both.
	var j entryJSON
	var b bytes.Buffer
	if err := svc.WriteTicketJSON(ctx, &b, id); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Deliveries) != 1 || j.Deliveries[0].State != "delivered" || len(j.Deliveries[0].History) == 0 {
		t.Errorf("exported deliveries = %+v, want one delivered with its history", j.Deliveries)
	}
}

func TestTestConnectionMatchesTheCLI(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	tests := []struct {
		name   string
		token  string
		wantOK bool
	}{
		{"good token", jirafake.APIToken, true},
		{"bad token", "wrong-token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := h.jiraConfig(jf.URL(), tt.token)
			want := h.run("--config", cfg, "connections", "test", "Jira").stdout
			c, err := LoadConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			svc := &Service{getenv: func(k string) string { return h.env[k] }}
			r := svc.TestConnection(context.Background(), c.Connections[0])
			if r.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v: %+v", r.OK, tt.wantOK, r)
			}
			var b bytes.Buffer
			WriteConnectionTests(&b, r)
			// Latencies differ between runs; compare the checks' verdicts.
			if got, want := verdicts(b.String()), verdicts(want); got != want {
				t.Errorf("GUI report:\n%s\nCLI report:\n%s", b.String(), want)
			}
		})
	}
}

// verdicts keeps each report line's first two words (ok/FAIL and the
// check's name, or the connection's name and type).
func verdicts(report string) string {
	var out []string
	for _, l := range strings.Split(report, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			out = append(out, f[0]+" "+f[1])
		}
	}
	return strings.Join(out, "\n")
}

// The diagnostics window runs the checks `diagnose` runs.
func TestReadOnlyChecksMatchTheCLI(t *testing.T) {
	h := newHarness(t)
	var cli diagnoseJSON
	if err := json.Unmarshal([]byte(h.mustRun("diagnose", "--json").stdout), &cli); err != nil {
		t.Fatal(err)
	}
	svc := &Service{Config: config.Default(), getenv: func(k string) string { return h.env[k] }}
	got, err := svc.ReadOnlyChecks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rs []diagnostics.SkillResult) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.SkillID)
		}
		return strings.Join(out, ",")
	}
	if ids(got) == "" || ids(got) != ids(cli.SkillResults) {
		t.Errorf("GUI checks %s, CLI checks %s", ids(got), ids(cli.SkillResults))
	}
}
