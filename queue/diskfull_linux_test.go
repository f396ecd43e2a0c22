package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// tinyDisk mounts a 1 MiB tmpfs on a new directory for the test.
func tinyDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a 1 MiB tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file until the disk holding dir has no space left and
// returns a function that frees it.
func fillDisk(t *testing.T, dir string) (free func()) {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{64 << 10, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill: %v", err)
				}
				break
			}
		}
	}
	return func() {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFullDisk: on a disk with no space left, everything queued before is
// still listed, a new ticket fails with ErrDiskFull (never half-stored),
// no empty -wal or -shm is left behind, and once space is freed nothing
// is lost and queueing works again.
func TestFullDisk(t *testing.T) {
	zd := Target{"zendesk", ActionCreate}
	tests := []struct {
		name string
		// setup makes the queue at path and returns the tickets in it and
		// the store of another process still using it, if any.
		setup func(t *testing.T, path string) ([]string, *Store)
		// readable: the queue can be opened (read-only when nobody else has it).
		readable bool
		files    []string // besides the filler, after Close
	}{
		{"queue closed", func(t *testing.T, path string) ([]string, *Store) {
			return makeQueue(t, path, 5), nil
		}, true, []string{"queue.db"}},
		{"tray app has it open", func(t *testing.T, path string) ([]string, *Store) {
			tray := openStore(t, path, Options{KEK: fastKEK("pw")})
			var ids []string
			for range 5 {
				ids = append(ids, enqueue(t, tray, t0, "from the tray", zd))
			}
			return ids, tray
		}, true, []string{"queue.db", "queue.db-shm", "queue.db-wal"}},
		{"a crash left a WAL", func(t *testing.T, path string) ([]string, *Store) {
			src, ids := crashCopy(t, fastKEK("pw"), false)
			for _, suf := range []string{"", "-wal"} {
				b, err := os.ReadFile(src + suf)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path+suf, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			return ids, nil
		}, false, []string{"queue.db", "queue.db-wal"}}, // unreadable without room for its WAL index: never read wrongly
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := tinyDisk(t)
			path := filepath.Join(dir, "queue.db")
			want, tray := tt.setup(t, path)
			free := fillDisk(t, dir)

			s, err := Open(ctx, path, Options{KEK: fastKEK("pw")})
			switch {
			case !tt.readable:
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded with no room to read the WAL")
				}
				if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "free some space") {
					t.Errorf("Open = %v, want ErrDiskFull asking to free space", err)
				}
			case err != nil:
				t.Fatalf("Open on a full disk: %v", err)
			default:
				if got := ids(list(t, s, "")); !slices.Equal(got, want) {
					t.Errorf("List on a full disk = %v, want %v", got, want)
				}
				for _, it := range list(t, s, "") {
					if it.Err != nil || len(it.Payload) == 0 {
						t.Errorf("ticket %s unreadable on a full disk: %v", it.ID, it.Err)
					}
				}
				if _, err := s.Enqueue(ctx, t0, []byte(strings.Repeat("new ", 2000)), []Target{zd}); !errors.Is(err, ErrDiskFull) {
					t.Errorf("Enqueue on a full disk = %v, want ErrDiskFull", err)
				}
				if tray != nil {
					if _, err := tray.Enqueue(ctx, t0, []byte(strings.Repeat("new ", 2000)), []Target{zd}); !errors.Is(err, ErrDiskFull) {
						t.Errorf("the tray's Enqueue on a full disk = %v, want ErrDiskFull", err)
					}
				}
				if err := s.PutSetting(ctx, "config", []byte("{}")); !errors.Is(err, ErrDiskFull) {
					t.Errorf("PutSetting on a full disk = %v, want ErrDiskFull", err)
				}
				if got := ids(list(t, s, "")); !slices.Equal(got, want) {
					t.Errorf("List after the failed writes = %v, want %v", got, want)
				}
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
			var names []string
			for _, n := range dirNames(t, dir) {
				if n != "filler" {
					names = append(names, n)
				}
			}
			if !slices.Equal(names, tt.files) {
				t.Errorf("files after the full-disk open = %v, want %v", names, tt.files)
			}

			free()
			s = openStore(t, path, Options{KEK: fastKEK("pw")})
			id := enqueue(t, s, t0, "after freeing space", zd)
			if got := ids(list(t, s, "")); !slices.Equal(got, append(slices.Clone(want), id)) {
				t.Errorf("after freeing space: %v, want %v and the new one", got, want)
			}
		})
	}
}

// TestFullDiskProblem: a queue opened read-only on a full disk says so in
// Problems.
func TestFullDiskProblem(t *testing.T) {
	dir := tinyDisk(t)
	path := filepath.Join(dir, "queue.db")
	makeQueue(t, path, 2)
	fillDisk(t, dir)
	s := openStore(t, path, Options{KEK: fastKEK("pw")})
	got, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "the disk is full") {
		t.Errorf("Problems = %q, want the full disk", got)
	}
}
