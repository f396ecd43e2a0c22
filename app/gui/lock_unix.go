//go:build unix

package gui

import (
	"errors"
	"io"
	"os"
	"syscall"
)

var errLockUnsupported = errors.New("file locks are not supported here")

// lockFile takes an exclusive flock on path without waiting. held is
// false when another open file (in any process) holds it. The lock goes
// with the returned Closer, and with the process if it dies.
func lockFile(path string) (lock io.Closer, held bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}
