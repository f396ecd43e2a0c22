// Package secrets stores and resolves Ticketray's secrets: the OS keyring
// (through github.com/99designs/keyring) and the config contract's secret
// references (a literal, env:NAME or keyring:NAME).
package secrets

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/99designs/keyring"
	libsecret "github.com/gsterjov/go-libsecret"

	"github.com/ticketray/ticketray/connectors/secrets/dbusenv"
)

// ServiceName groups Ticketray's items in the OS keyring.
const ServiceName = "ticketray"

// Backends Ticketray uses, by the name TICKETRAY_KEYRING_BACKEND takes.
// The file backend is never chosen automatically: it is only as strong as
// its password, so it must be asked for.
var osBackends = []keyring.BackendType{
	keyring.KeychainBackend,
	keyring.WinCredBackend,
	keyring.SecretServiceBackend,
	keyring.KWalletBackend,
}

// ErrUnavailable means no usable keyring backend was found.
var ErrUnavailable = errors.New("no OS keyring is available")

// Options select and configure the backend.
type Options struct {
	// Backend is "" (the first OS keyring that works), or one of
	// secret-service, kwallet, keychain, wincred, file.
	Backend string
	// FileDir and FilePassword configure the file backend.
	FileDir      string
	FilePassword string
}

// Keyring is an open keyring. It satisfies queue.SecretStore.
type Keyring struct {
	ring    keyring.Keyring
	backend string
}

// Open opens the keyring described by o and proves it answers, so a
// Secret Service that is on the bus but not running fails here, clearly,
// and not at the first ticket.
func Open(o Options) (*Keyring, error) {
	cfg := keyring.Config{
		ServiceName: ServiceName,
		// The login collection exists on every desktop session; creating a
		// collection of our own would pop up a password prompt.
		LibSecretCollectionName: "login",
		KWalletAppID:            ServiceName,
		KWalletFolder:           ServiceName,
		KeychainName:            "login",
		FileDir:                 o.FileDir,
		FilePasswordFunc:        func(string) (string, error) { return o.FilePassword, nil },
	}
	var tried []keyring.BackendType
	switch o.Backend {
	case "":
		tried = osBackends
	case "file":
		if o.FilePassword == "" {
			return nil, fmt.Errorf("keyring: the file backend needs a password (TICKETRAY_KEYRING_PASSWORD)")
		}
		if o.FileDir == "" {
			return nil, fmt.Errorf("keyring: the file backend needs a directory")
		}
		if err := os.MkdirAll(o.FileDir, 0o700); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		tried = []keyring.BackendType{keyring.FileBackend}
	default:
		b := keyring.BackendType(o.Backend)
		if b != keyring.SecretServiceBackend && b != keyring.KWalletBackend && b != keyring.KeychainBackend && b != keyring.WinCredBackend {
			return nil, fmt.Errorf("keyring: unknown backend %q (secret-service, kwallet, keychain, wincred or file)", o.Backend)
		}
		tried = []keyring.BackendType{b}
	}
	var errs []string
	for _, b := range tried {
		if !available(b) {
			continue
		}
		if (b == keyring.SecretServiceBackend || b == keyring.KWalletBackend) && !dbusenv.Available() {
			errs = append(errs, fmt.Sprintf("%s: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)", b))
			continue
		}
		cfg.AllowedBackends = []keyring.BackendType{b}
		ring, err := keyring.Open(cfg)
		if err == nil {
			err = probe(ring, b)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", b, err))
			continue
		}
		return &Keyring{ring: ring, backend: string(b)}, nil
	}
	if len(errs) == 0 && !dbusenv.Available() && (o.Backend == "" || o.Backend == "secret-service" || o.Backend == "kwallet") {
		errs = append(errs, "no D-Bus session bus, so neither Secret Service nor KWallet can be reached")
	} else if len(errs) == 0 {
		errs = append(errs, "no backend for this platform")
	}
	return nil, fmt.Errorf("keyring: %w (%s)", ErrUnavailable, strings.Join(errs, "; "))
}

// probe proves the backend can store items. A Secret Service reached by
// D-Bus autolaunch on a headless machine answers reads but has no
// collection to write to, so it is tried with a write.
//
// The item's name is this probe's own: two processes opening the keyring
// at once (the tray and its windows process, the tray and a CLI) would
// otherwise remove each other's probe, and one of them would fall back.
func probe(ring keyring.Keyring, b keyring.BackendType) error {
	var nonce [6]byte
	rand.Read(nonce[:])
	name := fmt.Sprintf("ticketray-probe-%d-%x", os.Getpid(), nonce)
	_, err := ring.Get(name)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		err = nil
	}
	if err != nil || b != keyring.SecretServiceBackend {
		return err
	}
	// Writing to a missing collection makes the service ask the user to
	// create it; with no one to answer (a bare X server) that blocks for
	// ever. Require the login collection every desktop session has.
	if err := loginCollection(); err != nil {
		return err
	}
	if err := ring.Set(keyring.Item{Key: name, Data: []byte("1"), Label: "Ticketray probe"}); err != nil {
		return fmt.Errorf("cannot store items (is the login keyring unlocked?): %w", err)
	}
	return ring.Remove(name)
}

func loginCollection() error {
	svc, err := libsecret.NewService()
	if err != nil {
		return err
	}
	cols, err := svc.Collections()
	if err != nil {
		return err
	}
	for _, c := range cols {
		if string(c.Path()) == libsecret.DBusPath+"/collection/login" {
			return nil
		}
	}
	return errors.New("the Secret Service has no login keyring (creating one needs a password prompt)")
}

func available(b keyring.BackendType) bool {
	for _, a := range keyring.AvailableBackends() {
		if a == b {
			return true
		}
	}
	return false
}

// Backend names the backend in use.
func (k *Keyring) Backend() string { return k.backend }

// Get returns the item's value; a missing item wraps fs.ErrNotExist.
func (k *Keyring) Get(name string) ([]byte, error) {
	it, err := k.ring.Get(name)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return nil, fmt.Errorf("keyring %s: item %q: %w", k.backend, name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring %s: get %q: %w", k.backend, name, err)
	}
	return it.Data, nil
}

// Set stores value under name, replacing any earlier value.
func (k *Keyring) Set(name string, value []byte) error {
	err := k.ring.Set(keyring.Item{Key: name, Data: value, Label: "Ticketray: " + name, Description: "Ticketray secret"})
	if err != nil {
		return fmt.Errorf("keyring %s: set %q: %w", k.backend, name, err)
	}
	return nil
}

// Remove deletes an item; a missing item is not an error.
func (k *Keyring) Remove(name string) error {
	err := k.ring.Remove(name)
	if err != nil && !errors.Is(err, keyring.ErrKeyNotFound) && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keyring %s: remove %q: %w", k.backend, name, err)
	}
	return nil
}
