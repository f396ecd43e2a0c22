package queue

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openStore(t, path, Options{})
	secret := []byte(`{"connections":[{"name":"SN","baseUrl":"https://acme.example"}],"marker":"SETTING-PLAINTEXT-7f3a"}`)
	steps := []struct {
		name    string
		put     []byte // stored before reading, when not nil
		read    string
		want    []byte
		wantErr error
	}{
		{"absent", nil, "config", nil, ErrNotFound},
		{"stored", secret, "config", secret, nil},
		{"other name still absent", nil, "config.previous", nil, ErrNotFound},
		{"replaced", []byte("v2"), "config", []byte("v2"), nil},
		{"empty value", []byte{}, "config", []byte{}, nil},
		{"restored", secret, "config", secret, nil},
	}
	for _, st := range steps {
		if st.put != nil {
			if err := s.PutSetting(ctx, st.read, st.put); err != nil {
				t.Fatalf("%s: PutSetting: %v", st.name, err)
			}
		}
		got, err := s.Setting(ctx, st.read)
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("%s: Setting err = %v, want %v", st.name, err, st.wantErr)
		}
		if st.wantErr == nil && (got == nil || !bytes.Equal(got, st.want)) {
			t.Errorf("%s: Setting = %q, want %q", st.name, got, st.want)
		}
	}
	if err := s.PutSetting(ctx, "", []byte("x")); err == nil {
		t.Error("PutSetting with an empty name succeeded")
	}

	// Sealed on disk, survives a key rotation and a reopen.
	if _, err := s.RotateDEK(ctx); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	if n := queryInt(t, raw, "SELECT COUNT(*) FROM settings WHERE dek_id = (SELECT MAX(id) FROM deks)"); n != 1 {
		t.Errorf("%d settings sealed by the new key after a rotation, want 1", n)
	}
	if n := queryInt(t, raw, "SELECT COUNT(*) FROM deks"); n != 1 {
		t.Errorf("%d data keys after the rotation, want 1 (the old one retired)", n)
	}
	s.Close()
	raw.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("SETTING-PLAINTEXT")) || bytes.Contains(b, []byte("acme.example")) {
			t.Errorf("%s holds the setting in clear", f)
		}
	}
	s = openStore(t, path, Options{})
	if got, err := s.Setting(ctx, "config"); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("Setting after reopen = %q, %v", got, err)
	}

	// A value moved to another name fails authentication.
	raw = rawDB(t, path)
	if _, err := raw.Exec("INSERT INTO settings (name, value, dek_id, updated_at) SELECT 'stolen', value, dek_id, updated_at FROM settings WHERE name = 'config'"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Setting(ctx, "stolen"); !errors.Is(err, ErrTampered) {
		t.Errorf("Setting of a moved value = %v, want ErrTampered", err)
	}
}
