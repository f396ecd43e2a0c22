//go:build !(linux || darwin || freebsd)

package queue

// freeBytes is unknown here: only SQLite's own codes tell a full disk.
func freeBytes(dir string) (uint64, bool) { return 0, false }
