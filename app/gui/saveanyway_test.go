package gui

import (
	"bytes"
	"os"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

// after one failed test, "Save anyway" stays armed through later
// edits: the next Save of a changed draft skips the gate even though its
// own test fails, and says only "Saved in ...".
func TestSaveAnywayOnlyForTheFailedDraft(t *testing.T) {
	jf := jirafake.New()
	if err := jf.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(jf.Close)
	svc, cfg, _ := connManagerService(t, snUser, "")
	v, _, loop, _ := settingsFor(t, svc, svc.Config.Connections, newConfigLocks(svc.Loaded))
	test.Tap(v.add)
	f := v.form
	fillJira(f, jf.URL(), "wrong-token-1", false)
	before, _ := os.ReadFile(cfg)
	test.Tap(f.save)
	loop.waitFor(t, "the failed save", func() bool { return f.bg.pending == 0 && f.save.Text == "Save anyway" })

	// The user changes the draft (another wrong token) and presses the button again.
	f.fields["credentials.apiToken"].SetText("wrong-token-2")
	test.Tap(f.save)
	loop.waitFor(t, "the second save", func() bool { return f.bg.pending == 0 && v.bg.pending == 0 })
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
		t.Errorf("a changed draft whose test fails was saved without a new confirmation; status %q", f.status.Text)
	}
}
