package gui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

// TestReportRunsSuggestedChecks: with the toggle on, Submit first runs the
// suggested checks, showing a line per check and a bar as each ends, then
// saves the ticket with their results and the troubleshooting session.
func TestReportRunsSuggestedChecks(t *testing.T) {
	sub := newFakeSubmitter(app.Receipt{ID: "t-1"}, nil)
	close(sub.release)
	f, _, w, loop := newTestForm(t, sub)
	if f.skillsCheck.Visible() {
		t.Fatal("the checks toggle shows with no checks to offer")
	}
	step := make(chan struct{})
	results := []diagnostics.SkillResult{
		{SkillID: "network-check", SkillName: "Network connectivity check", Status: "success", ExecutionTimeMs: 12},
		{SkillID: "disk-space", SkillName: "Disk space check", Status: "failed", Output: "/ is 97% full", ExecutionTimeMs: 3},
	}
	session := &connectors.TroubleshootingSession{StartTime: time.Unix(0, 0), EndTime: time.Unix(1, 0), DurationMs: 1000, StepsAttempted: 2, StepsSuccessful: 1}
	f.setSkills([]string{"Network connectivity check", "Disk space check"}, func(ctx context.Context, on func(int, diagnostics.SkillResult)) ([]diagnostics.SkillResult, *connectors.TroubleshootingSession) {
		for i, r := range results {
			<-step // the test releases one check at a time
			on(i, r)
		}
		return results, session
	})
	if !f.skillsCheck.Visible() || !strings.Contains(f.skillsCheck.Text, "Run 2 suggested checks") {
		t.Fatalf("toggle = %q visible %v", f.skillsCheck.Text, f.skillsCheck.Visible())
	}
	f.skillsCheck.SetChecked(true)
	w.Canvas().Focus(f.summary)
	test.Type(f.summary, "Disk full?")
	test.Tap(f.submit)
	if f.status.Text != "Running checks…" || !f.skillsBar.Visible() || len(f.skillsBox.Objects) != 2 {
		t.Fatalf("while running: status %q bar %v rows %d", f.status.Text, f.skillsBar.Visible(), len(f.skillsBox.Objects))
	}
	label := func(i int) string { return f.skillsBox.Objects[i].(*widget.Label).Text }
	step <- struct{}{}
	loop.waitFor(t, "the first check's line", func() bool { return label(0) == "Network connectivity check: success (12 ms)" })
	if label(1) != "Disk space check: waiting…" || f.skillsBar.Value != 0.5 {
		t.Errorf("after one check: %q, bar %v", label(1), f.skillsBar.Value)
	}
	step <- struct{}{}
	loop.waitFor(t, "the ticket to be saved", func() bool { return f.done.Visible() })
	if label(1) != "Disk space check: failed (3 ms)" || f.skillsBar.Value != 1 {
		t.Errorf("after both: %q, bar %v", label(1), f.skillsBar.Value)
	}
	d := sub.calls()
	if len(d) != 1 || len(d[0].SkillResults) != 2 || d[0].SkillResults[1].Output != "/ is 97% full" || d[0].Session != session {
		t.Fatalf("draft = %+v", d)
	}

	// With the toggle off, nothing runs and nothing is attached.
	f.skillsCheck.SetChecked(false)
	test.Type(f.summary, "Another")
	test.Tap(f.submit)
	loop.waitFor(t, "the second save", func() bool { return len(sub.calls()) == 2 && f.done.Visible() })
	if d := sub.calls()[1]; d.SkillResults != nil || d.Session != nil {
		t.Errorf("toggle off attached %+v", d)
	}
}
