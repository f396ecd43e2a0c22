package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/diagnostics"
)

// skillsConfig declares IT skills built from harmless Unix programs: echo
// (read-only, prints a secret to be scrubbed), touch (a "fix" that leaves
// a marker, so a test can tell whether it ran), false, and one for
// Windows only.
func (h *harness) skillsConfig(extra string) (cfg, marker string) {
	h.t.Helper()
	if runtime.GOOS == "windows" {
		h.t.Skip("the IT skills here are Unix programs")
	}
	echo, err1 := lookUnix("echo")
	touch, err2 := lookUnix("touch")
	falseBin, err3 := lookUnix("false")
	if err1 != nil || err2 != nil || err3 != nil {
		h.t.Skip("echo, touch or false missing")
	}
	marker = filepath.Join(h.dir, "fixed")
	cfg = h.writeConfig(fmt.Sprintf(`{"version": 1, %s "skills": [
		{"id": "it-echo", "name": "Echo", "program": %q, "args": ["hello", "password=hunter2", "$(id)"], "readOnly": true},
		{"id": "it-fix", "name": "Fix", "program": %q, "args": [%q], "requiresConfirmation": true},
		{"id": "it-false", "name": "Always fails", "program": %q, "readOnly": true},
		{"id": "it-windows", "name": "Windows only", "program": "C:\\IT\\fix.exe", "os": ["windows"]}
	]}`, extra, echo, touch, marker, falseBin))
	return cfg, marker
}

func lookUnix(name string) (string, error) {
	for _, dir := range []string{"/bin", "/usr/bin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestSkillsHelp(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"skills", "--help"}, {"diagnose", "--help"}, {"help", "skills"}, {"skills", "run", "-h"}} {
		r := h.run(args...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if r := h.mustRun("--help"); !strings.Contains(r.stdout, "diagnose") || !strings.Contains(r.stdout, "skills") {
		t.Errorf("main help lacks the new commands:\n%s", r.stdout)
	}
	if r := h.mustRun("report", "--help"); !strings.Contains(r.stdout, "default: none are run") {
		t.Errorf("report help does not say that no skills run by default:\n%s", r.stdout)
	}
}

func TestSkillsList(t *testing.T) {
	h := newHarness(t)
	cfg, _ := h.skillsConfig("")
	var list []skillJSON
	r := h.mustRun("--config", cfg, "skills", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var ids []string
	byID := map[string]skillJSON{}
	for _, s := range list {
		ids = append(ids, s.ID)
		byID[s.ID] = s
	}
	want := []string{"dns-flush", "network-check", "wifi-reset", "disk-space", "clear-temp", "proxy-check", "time-sync-check", "print-spooler-restart", "it-echo", "it-fix", "it-false", "it-windows"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
	checks := []struct {
		id   string
		ok   bool
		what string
	}{
		{"disk-space", byID["disk-space"].CanRun && !byID["disk-space"].ChangesMachine && byID["disk-space"].Source == "builtin", "a runnable built-in check"},
		{"wifi-reset", byID["wifi-reset"].ChangesMachine && byID["wifi-reset"].RequiresConfirmation && len(byID["wifi-reset"].OS) == 3, "a fix that asks, on 3 OSes"},
		{"network-check", byID["network-check"].Needs.Network, "needs a network"},
		{"it-fix", byID["it-fix"].CanRun && byID["it-fix"].Source == "config" && byID["it-fix"].TimeoutMs == diagnostics.DefaultSkillTimeout.Milliseconds(), "a runnable config fix"},
		{"it-windows", !byID["it-windows"].CanRun && strings.Contains(byID["it-windows"].Reason, "not available on "+runtime.GOOS), "unavailable here, with the reason"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: want %s; got %+v", c.id, c.what, byID[c.id])
		}
	}
	human := h.mustRun("--config", cfg, "skills", "list").stdout
	for _, w := range []string{"ID", "RUNS HERE", "it-windows", "no: not available on " + runtime.GOOS, "fix, asks, IT"} {
		if !strings.Contains(human, w) {
			t.Errorf("skills list lacks %q:\n%s", w, human)
		}
	}
}

func TestSkillsRun(t *testing.T) {
	h := newHarness(t)
	cfg, marker := h.skillsConfig("")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string // on stdout
		wantErr    []string // on stderr
		wantMarker bool
	}{
		{"read-only config skill; output scrubbed; args verbatim", []string{"it-echo"}, ExitOK,
			[]string{"$ ", "hello password=[REDACTED] $(id)"}, []string{"it-echo: success"}, false},
		{"json", []string{"it-echo", "--json"}, ExitOK, []string{`"skillId": "it-echo"`, `"status": "success"`, `"executionTimeMs"`}, nil, false},
		{"failing program", []string{"it-false"}, ExitFailure, nil, []string{"it-false failed"}, false},
		{"wrong OS", []string{"it-windows"}, ExitFailure, nil, []string{"it-windows skipped: not available on " + runtime.GOOS}, false},
		{"unknown id", []string{"rm-rf"}, ExitUsage, nil, []string{`unknown skill "rm-rf"; known skills: dns-flush, network-check`, "it-echo"}, false},
		{"confirmation missing", []string{"it-fix"}, ExitUsage, nil, []string{"asks for confirmation", "--yes"}, false},
		{"dry run runs nothing", []string{"it-fix", "--dry-run"}, ExitOK, []string{"dry run:", "would run: ", marker}, nil, false},
		{"confirmed", []string{"it-fix", "--yes"}, ExitOK, nil, []string{"it-fix: success"}, true},
		{"no id", nil, ExitUsage, nil, []string{"exactly one skill id"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(marker)
			r := h.run(append([]string{"--config", cfg, "skills", "run"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2") {
				t.Errorf("secret printed")
			}
			if got := fileExists(marker); got != tt.wantMarker {
				t.Errorf("the fix ran = %v, want %v", got, tt.wantMarker)
			}
		})
	}
	// A built-in check runs for real; its exit code follows its status.
	r := h.run("skills", "run", "disk-space", "--json")
	var res diagnostics.SkillResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if want := map[string]int{"success": ExitOK, "failed": ExitFailure}[res.Status]; res.Status == "" || r.code != want {
		t.Errorf("disk-space: status %q, exit %d", res.Status, r.code)
	}
}

func TestDiagnose(t *testing.T) {
	h := newHarness(t)
	desk := httptest.NewServer(http.NotFoundHandler())
	defer desk.Close()
	cfg, marker := h.skillsConfig(fmt.Sprintf(`
		"connections": [{"name": "Desk", "type": "jira", "baseUrl": %q, "credentials": {"type": "bearer", "token": "t"}}],
		"redaction": {"drop": ["user", "network.mac"], "hash": ["deviceName"]},`, desk.URL))
	r := h.mustRun("--config", cfg, "diagnose", "--json")
	var out struct {
		SystemInfo             *diagnostics.SystemInfo   `json:"systemInfo"`
		SkillResults           []diagnostics.SkillResult `json:"skillResults"`
		TroubleshootingSession *struct {
			StepsAttempted int `json:"stepsAttempted"`
		} `json:"troubleshootingSession"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	si := out.SystemInfo
	if si == nil || si.Architecture == "" || si.AppVersion != Version {
		t.Fatalf("systemInfo = %+v", si)
	}
	if si.User != "" || !strings.HasPrefix(si.DeviceName, "sha256:") {
		t.Errorf("redaction not applied: user %q, deviceName %q", si.User, si.DeviceName)
	}
	if si.Network != nil {
		for _, i := range si.Network.Interfaces {
			if i.MAC != "" {
				t.Errorf("MAC of %s kept", i.Name)
			}
		}
	}
	// The salt lives in the data dir, so the hash is stable here.
	if again := h.mustRun("--config", cfg, "diagnose", "--json").stdout; !strings.Contains(again, si.DeviceName) {
		t.Errorf("deviceName hash changed between runs")
	}
	var ids []string
	results := map[string]diagnostics.SkillResult{}
	for _, res := range out.SkillResults {
		ids = append(ids, res.SkillID)
		results[res.SkillID] = res
	}
	// Only read-only skills: built-in checks and the readOnly config skills.
	if want := []string{"network-check", "disk-space", "proxy-check", "time-sync-check", "it-echo", "it-false"}; !slices.Equal(ids, want) {
		t.Errorf("diagnose ran %q, want %q", ids, want)
	}
	if nc := results["network-check"]; !strings.Contains(nc.Output, "HTTP "+strings.TrimPrefix(desk.URL, "http://")+": HTTP 404") {
		t.Errorf("network-check did not reach the configured help desk:\n%s", nc.Output)
	}
	if out.TroubleshootingSession == nil || out.TroubleshootingSession.StepsAttempted == 0 {
		t.Errorf("session = %+v", out.TroubleshootingSession)
	}
	if fileExists(marker) {
		t.Error("diagnose ran a fix")
	}
	if fileExists(h.env[EnvDBPath]) {
		t.Error("diagnose created the queue")
	}
	human := h.mustRun("--config", cfg, "diagnose").stdout
	for _, w := range []string{"System\n", "  OS ", "Checks\n", " disk-space — Disk space check", "FAILED   it-false", "SUCCESS  it-echo"} {
		if !strings.Contains(human, w) {
			t.Errorf("diagnose output lacks %q:\n%s", w, human)
		}
	}
	if r := h.run("diagnose", "--processes", "-1"); r.code != ExitUsage {
		t.Errorf("--processes -1: exit %d", r.code)
	}
}

func TestReportWithSkills(t *testing.T) {
	h := newHarness(t)
	cfg, marker := h.skillsConfig("")
	show := func(id string) entryJSON {
		t.Helper()
		var e entryJSON
		if err := json.Unmarshal([]byte(h.mustRun("queue", "show", id, "--json").stdout), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	t.Run("unknown skill queues nothing", func(t *testing.T) {
		r := h.run("--config", cfg, "report", "--summary", "x", "--skills", "disk-space,bogus")
		if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown skill "bogus"`) || !strings.Contains(r.stderr, "it-echo") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if got := h.list("--config", cfg); len(got) != 0 {
			t.Errorf("%d tickets queued", len(got))
		}
	})
	t.Run("results and session attached", func(t *testing.T) {
		r := h.mustRun("--config", cfg, "report", "--summary", "wifi drops", "--skills", "it-echo,it-fix,it-false", "--no-system-info")
		tk := show(strings.TrimSpace(r.stdout)).Ticket
		var got []string
		for _, res := range tk.SkillResults {
			got = append(got, res.SkillID+"="+res.Status)
		}
		if want := []string{"it-echo=success", "it-fix=skipped", "it-false=failed"}; !slices.Equal(got, want) {
			t.Errorf("skill results = %q, want %q", got, want)
		}
		if strings.Contains(tk.SkillResults[0].Output, "hunter2") {
			t.Error("secret reached the ticket")
		}
		s := tk.Context.TroubleshootingSession
		if s == nil || s.StepsAttempted != 2 || s.StepsSuccessful != 1 || s.EndTime.Before(s.StartTime) {
			t.Errorf("session = %+v", s)
		}
		if fileExists(marker) {
			t.Error("a fix that asks for confirmation ran without --yes")
		}
	})
	t.Run("--yes confirms", func(t *testing.T) {
		r := h.mustRun("--config", cfg, "report", "--summary", "printer stuck", "--skills", "it-fix", "--yes", "--no-system-info")
		tk := show(strings.TrimSpace(r.stdout)).Ticket
		if len(tk.SkillResults) != 1 || tk.SkillResults[0].Status != "success" || !fileExists(marker) {
			t.Errorf("results %+v, marker %v", tk.SkillResults, fileExists(marker))
		}
	})
	t.Run("default and --no-skills run none", func(t *testing.T) {
		for _, args := range [][]string{{}, {"--no-skills"}} {
			r := h.mustRun(append([]string{"--config", cfg, "report", "--summary", "slow", "--no-system-info"}, args...)...)
			tk := show(strings.TrimSpace(r.stdout)).Ticket
			if len(tk.SkillResults) != 0 || tk.Context.TroubleshootingSession != nil {
				t.Errorf("%v: skills ran: %+v", args, tk.SkillResults)
			}
		}
	})
}
