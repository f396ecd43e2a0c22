//go:build windows

package app

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/windows/registry"
)

// runKeyStore keeps the entry as the Ticketray value of the current
// user's Run key, which Explorer starts at login.
func runKeyStore() autostartStore { return regStore{} }

type regStore struct{}

func (regStore) where() string { return `HKEY_CURRENT_USER\` + runKeyPath + `\` + runValueName }

func (regStore) read() ([]byte, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKeyPath, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	v, _, err := k.GetStringValue(runValueName)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

func (regStore) write(data []byte) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue(runValueName, string(data))
}

func (regStore) remove() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(runValueName); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
