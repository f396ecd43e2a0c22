//go:build !windows

package app

import "errors"

// runKeyStore: the Run key is Windows'; elsewhere (a test asking for
// GOOS=windows) every use says so.
func runKeyStore() autostartStore {
	return brokenStore{errors.New("the Run key exists only on Windows")}
}
