package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// crashCopy enqueues tickets into a queue and copies its files while it is
// still open, as a crash leaves them: the recent commits only in the -wal.
func crashCopy(t *testing.T, kek KEKSource, withSHM bool) (path string, ids []string) {
	t.Helper()
	live := filepath.Join(t.TempDir(), "queue.db")
	s := openStore(t, live, Options{KEK: kek})
	for i := range 5 {
		ids = append(ids, enqueue(t, s, t0, "ticket "+string(rune('a'+i)), Target{"zendesk", ActionCreate}))
	}
	path = filepath.Join(t.TempDir(), "queue.db")
	suffixes := []string{"", "-wal"}
	if withSHM {
		suffixes = append(suffixes, "-shm")
	}
	for _, suf := range suffixes {
		b, err := os.ReadFile(live + suf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suf, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("the crash copy has no WAL to protect (stat: %v)", err)
	}
	return path, ids
}

// TestOpenWrongKeyAfterCrashKeepsWAL: a wrong key never checkpoints a WAL
// left by a crash into the queue file; the right key then finds every
// ticket.
func TestOpenWrongKeyAfterCrashKeepsWAL(t *testing.T) {
	right := fastKEK("right")
	tests := []struct {
		name    string
		wrong   KEKSource
		withSHM bool
	}{
		{"other passphrase", fastKEK("wrong"), false},
		{"other passphrase, -shm left too", fastKEK("wrong"), true},
		{"keyring instead of passphrase", KeyringKEK{Store: newMemSecrets()}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, want := crashCopy(t, right, tt.withSHM)
			db, wal := fileSHA(t, path), fileSHA(t, path+"-wal")

			s, err := Open(context.Background(), path, Options{KEK: tt.wrong})
			if err == nil {
				s.Close()
				t.Fatal("Open with the wrong key succeeded")
			}
			if !errors.Is(err, ErrWrongKey) {
				t.Errorf("Open = %v, want ErrWrongKey", err)
			}
			if fileSHA(t, path) != db {
				t.Error("Open with the wrong key changed queue.db")
			}
			if _, err := os.Stat(path + "-wal"); err != nil {
				t.Fatalf("Open with the wrong key removed the -wal: %v", err)
			}
			if fileSHA(t, path+"-wal") != wal {
				t.Error("Open with the wrong key changed the -wal")
			}

			s = openStore(t, path, Options{KEK: right})
			if got := ids(list(t, s, "")); !slices.Equal(got, want) {
				t.Errorf("tickets after the right key = %v, want %v", got, want)
			}
		})
	}
}
