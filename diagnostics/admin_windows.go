//go:build windows

package diagnostics

import (
	"io/fs"
	"os"
)

// isAdmin reports whether the process runs elevated: only an elevated
// process may open the raw physical drive (the standard library offers no
// token query, and this needs no extra module).
func isAdmin() bool {
	f, err := os.Open(`\\.\PHYSICALDRIVE0`)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// ownedByMe is true: %TEMP% is per user on Windows.
func ownedByMe(fs.FileInfo) bool { return true }
