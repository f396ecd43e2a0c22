//go:build unix

package diagnostics

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExecRunner(t *testing.T) {
	tests := []struct {
		name    string
		cap     int
		args    []string
		wantOut string
		wantErr string
	}{
		{"stdout and stderr", 0, []string{"-c", "echo out; echo err >&2"}, "out\nerr\n", ""},
		{"exit status", 0, []string{"-c", "echo partial; exit 3"}, "partial\n", "exit status 3"},
		{"capped", 100, []string{"-c", "head -c 5000 /dev/zero | tr '\\0' x"}, strings.Repeat("x", 100) + TruncatedMarker, ""},
		{"no shell expansion of arguments", 0, []string{"-c", `printf '%s\n' "$1"`, "sh", "$(id -u); echo injected"}, "$(id -u); echo injected\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ExecRunner{Cap: tt.cap}.Run(context.Background(), "sh", tt.args...)
			if string(out) != tt.wantOut {
				t.Errorf("out = %q, want %q", out, tt.wantOut)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("missing program", func(t *testing.T) {
		_, err := ExecRunner{}.Run(context.Background(), "ticketray-no-such-program")
		if !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("err = %v, want exec.ErrNotFound", err)
		}
	})
}

// TestExecRunnerKillsProcessGroup: on timeout, the children a command
// started die with it, and Run returns promptly.
func TestExecRunnerKillsProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pidFile := t.TempDir() + "/pid"
	done := make(chan struct{})
	var out []byte
	var err error
	start := time.Now()
	go func() {
		defer close(done)
		// The grandchild sleeps far longer than the test; the script
		// records its pid and waits for it.
		out, err = ExecRunner{}.Run(ctx, "sh", "-c", `sleep 300 & echo $! > "$1"; echo started; wait`, "sh", pidFile)
	}()
	pid := waitForPID(t, pidFile)
	cancel()
	<-done
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run returned after %v", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(string(out), "started") {
		t.Errorf("output before the kill was lost: %q", out)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("grandchild %d survived its command's cancellation", pid)
	}
}

// waitForPID polls for the file the script writes; the script's own
// progress is the signal, not elapsed time.
func waitForPID(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(file); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the script never wrote its child's pid")
	return 0
}

// alive reports whether pid is a live process (zombies count as dead:
// they are killed, just not yet reaped by their new parent). Killing is
// asynchronous, so it waits briefly for the state to settle.
func alive(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return false
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
				return false
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
