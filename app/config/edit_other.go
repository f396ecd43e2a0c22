//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package config

// lockDir is a no-op here: edits are serialised within the process only.
func lockDir(string) (unlock func()) { return func() {} }

// syncDir is a no-op here: Windows cannot open a directory to sync it.
func syncDir(string) error { return nil }
