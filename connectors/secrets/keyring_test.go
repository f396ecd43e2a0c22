package secrets

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exercise runs the contract every backend must meet.
func exercise(t *testing.T, k *Keyring) {
	t.Helper()
	name := "test-item-" + filepath.Base(t.TempDir())
	t.Cleanup(func() { k.Remove(name) })

	if _, err := k.Get(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get(missing) error = %v, want fs.ErrNotExist", err)
	}
	want := []byte{0, 1, 2, 0xfe, 0xff, 'k'}
	if err := k.Set(name, want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := k.Get(name)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get = %x, %v; want %x", got, err, want)
	}
	if err := k.Set(name, []byte("second")); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if got, _ := k.Get(name); string(got) != "second" {
		t.Fatalf("after overwrite Get = %q, want %q", got, "second")
	}
	if err := k.Remove(name); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := k.Get(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get after Remove error = %v, want fs.ErrNotExist", err)
	}
}

// TestSecretService talks to the real Secret Service on the session bus.
// make test starts gnome-keyring under dbus-run-session and sets
// TICKETRAY_TEST_SECRET_SERVICE=1, so there it must not skip.
func TestSecretService(t *testing.T) {
	k, err := Open(Options{Backend: "secret-service"})
	if err != nil {
		if os.Getenv("TICKETRAY_TEST_SECRET_SERVICE") == "1" {
			t.Fatalf("Secret Service required but unavailable: %v", err)
		}
		t.Skipf("no Secret Service on this session bus: %v", err)
	}
	if k.Backend() != "secret-service" {
		t.Fatalf("backend = %q", k.Backend())
	}
	exercise(t, k)
}

// Opening probes the Secret Service with a write; processes that open it
// at the same moment must not spoil each other's probe (the tray app and
// its windows process start together).
func TestSecretServiceConcurrentOpen(t *testing.T) {
	if _, err := Open(Options{Backend: "secret-service"}); err != nil {
		if os.Getenv("TICKETRAY_TEST_SECRET_SERVICE") == "1" {
			t.Fatalf("Secret Service required but unavailable: %v", err)
		}
		t.Skipf("no Secret Service on this session bus: %v", err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			for range 5 {
				if _, err := Open(Options{Backend: "secret-service"}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
}

func TestFileBackend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keyring")
	k, err := Open(Options{Backend: "file", FileDir: dir, FilePassword: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, k)

	// The value is encrypted at rest, and the directory is private.
	if err := k.Set("kek", []byte("plain-secret-value-31337")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("keyring dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatal("file backend wrote no file")
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, []byte("plain-secret-value-31337")) {
			t.Fatalf("%s holds the secret in clear", e.Name())
		}
	}

	// Another password cannot read it.
	other, err := Open(Options{Backend: "file", FileDir: dir, FilePassword: "wrong"})
	if err == nil {
		if _, err = other.Get("kek"); err == nil {
			t.Fatal("Get with the wrong file password succeeded")
		}
	}
}

func TestOpenRejects(t *testing.T) {
	for _, o := range []Options{
		{Backend: "file", FileDir: t.TempDir()}, // no password
		{Backend: "file", FilePassword: "x"},    // no directory
		{Backend: "pass"},                       // not one we support
		{Backend: "kwallet-but-misspelled"},
	} {
		if _, err := Open(o); err == nil {
			t.Errorf("Open(%+v) succeeded, want error", o)
		}
	}
}

type mapRing map[string]string

func (m mapRing) Get(name string) ([]byte, error) {
	v, ok := m[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(v), nil
}

func TestResolve(t *testing.T) {
	const secret = "s3cr3t-value-do-not-log"
	env := map[string]string{"SN_PASSWORD": secret}
	ring := mapRing{"sn": secret}
	tests := []struct {
		ref, want string
		wantErr   bool
	}{
		{ref: "literal-pw", want: "literal-pw"},
		{ref: "env:SN_PASSWORD", want: secret},
		{ref: "env:MISSING", wantErr: true},
		{ref: "keyring:sn", want: secret},
		{ref: "keyring:absent", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.ref, func(k string) string { return env[k] }, ring)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q, err=%v", tt.ref, got, err, tt.want, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("Resolve(%q) error leaks the secret: %v", tt.ref, err)
		}
	}
	if _, err := Resolve("keyring:x", os.Getenv, nil); err == nil {
		t.Error("keyring ref with no keyring: want error")
	}
}
