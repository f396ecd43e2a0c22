package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// makeQueue creates a closed queue with n tickets at path and returns
// their ids. Close checkpoints the WAL, so the file holds everything.
func makeQueue(t *testing.T, path string, n int) []string {
	t.Helper()
	s, err := Open(context.Background(), path, Options{KEK: fastKEK("pw")})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range n {
		out = append(out, enqueue(t, s, t0, strings.Repeat("payload ", 20+i), Target{Connection: "zendesk", Action: ActionCreate}))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the WAL outlived Close (stat: %v)", err)
	}
	return out
}

// overwrite writes b at off in the file at path.
func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// Corruptions chosen because PRAGMA quick_check (or opening the file at
// all) detects them. Damage inside a blob's bytes is not detected by
// quick_check; the AEAD catches that instead (see TestTampered*).
func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"8 KiB of garbage", func(t *testing.T, path string) {
			// Not an SQLite file at all: SQLITE_NOTADB.
			b := make([]byte, 8<<10)
			r := mrand.NewChaCha8([32]byte{1})
			r.Read(b)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"text file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not a queue\n"), 1000), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"header magic overwritten", func(t *testing.T, path string) {
			makeQueue(t, path, 3)
			overwrite(t, path, 0, []byte("SQLite format 4\x00"))
		}},
		{"tickets b-tree root page overwritten", func(t *testing.T, path string) {
			makeQueue(t, path, 40)
			pageSize, root := pageOf(t, path, "tickets")
			garbage := bytes.Repeat([]byte{0xA5}, int(pageSize))
			overwrite(t, path, (root-1)*pageSize, garbage)
		}},
		{"deliveries index page zeroed", func(t *testing.T, path string) {
			makeQueue(t, path, 40)
			pageSize, root := pageOf(t, path, "deliveries_ticket")
			overwrite(t, path, (root-1)*pageSize, make([]byte, pageSize))
		}},
		{"truncated to half", func(t *testing.T, path string) {
			makeQueue(t, path, 40)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "queue.db")
			tt.damage(t, path)
			original, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			clk := newFakeClock(t0)

			s, err := Open(context.Background(), path, Options{KEK: fastKEK("pw"), Now: clk.Now})
			if err == nil {
				s.Close()
				t.Fatal("Open of a corrupt file succeeded")
			}
			t.Logf("Open: %v", err)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %v (%T), want a *CorruptError", err, err)
			}
			if got, want := ce.Path, path; got != want {
				t.Errorf("Path = %q, want %q", got, want)
			}
			if got, want := ce.MovedTo, path+".corrupt-20250314T092653Z"; got != want {
				t.Errorf("MovedTo = %q, want %q (named by the injected clock)", got, want)
			}
			if !strings.Contains(err.Error(), ce.MovedTo) {
				t.Errorf("error %q does not name where the file went", err)
			}
			if errors.Is(err, ErrWrongKey) {
				t.Errorf("corruption reported as a wrong key: %v", err)
			}
			moved, err := os.ReadFile(ce.MovedTo)
			if err != nil {
				t.Fatalf("the corrupt file is not at MovedTo: %v", err)
			}
			if !bytes.Equal(moved, original) {
				t.Error("the moved file's bytes differ from the corrupt original")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the corrupt file is still at %s (stat: %v)", path, err)
			}
			for _, name := range dirNames(t, dir) {
				if name != filepath.Base(ce.MovedTo) {
					t.Errorf("unexpected file %s left next to the queue", name)
				}
			}

			// The next start gets a fresh, working queue.
			s = openStore(t, path, Options{KEK: fastKEK("pw"), Now: clk.Now})
			if got := list(t, s, ""); len(got) != 0 {
				t.Errorf("the new queue has %d tickets, want 0", len(got))
			}
			enqueue(t, s, t0, "fresh")
		})
	}
}

// pageOf returns the page size and the root page of a table or index.
func pageOf(t *testing.T, path, name string) (pageSize, root int64) {
	t.Helper()
	raw := rawDB(t, path)
	pageSize = queryInt(t, raw, "PRAGMA page_size")
	root = queryInt(t, raw, "SELECT rootpage FROM sqlite_schema WHERE name = ?", name)
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if root < 2 {
		t.Fatalf("root page of %s = %d", name, root)
	}
	return pageSize, root
}

// withOneConn makes the store use a single pooled connection, so a
// per-connection PRAGMA applies to everything the store does.
func withOneConn(t *testing.T, s *Store) {
	t.Helper()
	// The check after Open holds a connection of its own while it runs:
	// a pragma set meanwhile on the other one would be lost when the pool
	// closes that one as the surplus.
	if _, err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
}

func TestEnqueueDiskFull(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	zd := Target{Connection: "zendesk", Action: ActionCreate}
	var before []string
	for i := range 5 {
		before = append(before, enqueue(t, s, t0, strings.Repeat("x", 100*i), zd))
	}
	withOneConn(t, s)
	var pages int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	var limit int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA max_page_count = "+strconv.FormatInt(pages, 10)).Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != pages {
		t.Fatalf("max_page_count = %d, want %d", limit, pages)
	}

	big := make([]byte, 256<<10)
	rand.Read(big)
	_, err := s.Enqueue(ctx, t0, big, []Target{zd})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Enqueue on a full disk = %v, want ErrFull", err)
	}

	raw := rawDB(t, s.Path())
	if got, want := queryInt(t, raw, "SELECT COUNT(*) FROM tickets"), int64(len(before)); got != want {
		t.Errorf("%d tickets after a failed enqueue, want %d", got, want)
	}
	if got, want := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries"), int64(len(before)); got != want {
		t.Errorf("%d deliveries after a failed enqueue, want %d", got, want)
	}
	items := list(t, s, "")
	if got, want := ids(items), before; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for i, it := range items {
		if it.Err != nil || !bytes.Equal(it.Payload, []byte(strings.Repeat("x", 100*i))) {
			t.Errorf("ticket %d after ErrFull: payload %d bytes, err %v", i, len(it.Payload), it.Err)
		}
	}

	// Once there is room again, the same store works.
	if _, err := s.db.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	id, err := s.Enqueue(ctx, t0, big, []Target{zd})
	if err != nil {
		t.Fatalf("Enqueue after space was freed: %v", err)
	}
	if got := get(t, s, id).Payload; !bytes.Equal(got, big) {
		t.Error("the big payload did not round-trip")
	}
}

func TestWritesOnReadOnlyConnection(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	zd := Target{Connection: "zendesk", Action: ActionCreate}
	id := enqueue(t, s, t0, "before", zd)
	l := leaseOne(t, s, "")
	withOneConn(t, s)
	if _, err := s.db.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, s.Path())
	snapshot := func() [4]int64 {
		return [4]int64{
			queryInt(t, raw, "SELECT COUNT(*) FROM tickets"),
			queryInt(t, raw, "SELECT COUNT(*) FROM events"),
			queryInt(t, raw, "SELECT COUNT(*) FROM deks"),
			queryInt(t, raw, "SELECT total(attempts) + total(length(lease_token)) FROM deliveries"),
		}
	}
	before := snapshot()

	clk.Advance(time.Hour)
	writes := []struct {
		name string
		fn   func() error
	}{
		{"Enqueue", func() error { _, err := s.Enqueue(ctx, t0, []byte("after"), []Target{zd}); return err }},
		{"Lease", func() error { _, err := s.Lease(ctx, LeaseOptions{}); return err }},
		{"Complete", func() error { return s.Complete(ctx, l, Outcome{State: StateDead, Error: "x"}) }},
		{"RotateDEK", func() error { _, err := s.RotateDEK(ctx); return err }},
		{"RewrapKEK", func() error { return s.RewrapKEK(ctx, fastKEK("other")) }},
		{"Delete", func() error { return s.Delete(ctx, id) }},
	}
	for _, w := range writes {
		err := w.fn()
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only connection = %v, want ErrReadOnly", w.name, err)
		}
	}
	if got, want := snapshot(), before; got != want {
		t.Errorf("rows changed on a read-only connection: %v, want %v", got, want)
	}
	// Reads still work.
	if got, want := string(get(t, s, id).Payload), "before"; got != want {
		t.Errorf("payload = %q, want %q", got, want)
	}
}
