package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNoLoginKeyringDoesNotHang: a session bus whose Secret Service has
// no login keyring (a bare X server, a fresh account) must not leave
// Ticketray waiting for a password prompt no one can answer: it falls back
// to the file keyring when its password is set, and says so otherwise.
func TestNoLoginKeyringDoesNotHang(t *testing.T) {
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: make deps-test installs it (a missing tool fails rather than skips, so the test cannot pass unrun)", tool)
		}
	}
	bin := binary(t)
	for _, tt := range []struct {
		name     string
		password string
		wantCode int
		want     string
	}{
		{"file keyring fallback", "file-keyring-pw", 0, "The queue is empty."},
		{"no fallback configured", "", 1, "no login keyring"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := environ(t, map[string]string{"TICKETRAY_KEYRING_PASSWORD": tt.password, "DBUS_SESSION_BUS_ADDRESS": ""})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// gnome-keyring started without --unlock: no login collection.
			cmd := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c",
				`gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1; exec "$0" queue list`, bin)
			cmd.Env = env
			out, _ := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("ticketray hung (a keyring password prompt?):\n%s", out)
			}
			if got := cmd.ProcessState.ExitCode(); got != tt.wantCode || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s", got, tt.wantCode, tt.want, out)
			}
		})
	}
}
