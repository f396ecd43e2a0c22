//go:build !unix && !windows

package diagnostics

import "os/exec"

// killTree is the default here: only the process itself is killed.
func killTree(*exec.Cmd) {}
