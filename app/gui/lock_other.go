//go:build !unix

package gui

import (
	"errors"
	"io"
)

var errLockUnsupported = errors.New("file locks are not supported here")

// lockFile is not available on this platform: the first instance is
// whichever answers on the socket.
func lockFile(string) (io.Closer, bool, error) { return nil, false, errLockUnsupported }
