//go:build !unix && !windows

package diagnostics

import "io/fs"

func isAdmin() bool { return false }

// ownedByMe is false where ownership cannot be read: nothing is removed.
func ownedByMe(fs.FileInfo) bool { return false }
