//go:build windows

package diagnostics

import (
	"os/exec"
	"strconv"
)

// killTree ends the command's whole process tree when its context ends:
// taskkill /T reaches the children that the process started.
func killTree(cmd *exec.Cmd) {
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		kill := exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid))
		if err := kill.Run(); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
}
