//go:build unix

package diagnostics

import (
	"io/fs"
	"os"
	"syscall"
)

// isAdmin reports whether the process runs as root.
func isAdmin() bool { return os.Geteuid() == 0 }

// ownedByMe reports whether the current user owns the file.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
