package queue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// t0 is the fake clock's starting point in most tests.
var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)

// fakeClock is an injectable Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// memSecrets is an in-memory SecretStore.
type memSecrets struct {
	mu     sync.Mutex
	items  map[string][]byte
	getErr error // returned by Get for every name when set
	setErr error // returned by Set when set
}

func newMemSecrets() *memSecrets { return &memSecrets{items: map[string][]byte{}} }

func (m *memSecrets) Get(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return nil, m.getErr
	}
	v, ok := m.items[name]
	if !ok {
		return nil, fmt.Errorf("keyring item %q: %w", name, fs.ErrNotExist)
	}
	return bytes.Clone(v), nil
}

func (m *memSecrets) Set(name string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.setErr != nil {
		return m.setErr
	}
	m.items[name] = bytes.Clone(value)
	return nil
}

func (m *memSecrets) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.items {
		out = append(out, k)
	}
	return out
}

// fastKEK is a passphrase source with the cheapest cost Open accepts.
func fastKEK(pass string) PassphraseKEK {
	return PassphraseKEK{Passphrase: []byte(pass), Time: 1, MemoryKiB: 8 << 10, Threads: 1}
}

func dbPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "queue.db")
}

// openStore opens path and closes it when the test ends.
func openStore(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	if opts.KEK == nil {
		opts.KEK = fastKEK("correct horse battery staple")
	}
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newStore opens a fresh queue in a temporary directory with a fake clock.
func newStore(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	clk := newFakeClock(t0)
	return openStore(t, dbPath(t), Options{Now: clk.Now}), clk
}

// rawDB is a second, plain connection pool to the queue file, as an
// attacker or a curious admin with sqlite3 would have.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// checkCounts fails unless what delivery_counts keeps (settled deliveries
// by connection and state, unrouted tickets) and the deliveries_open
// index (the work left) agree with the rows themselves.
func checkCounts(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, c := range []struct{ what, q string }{
		{"settled counts that disagree with the rows", `SELECT COUNT(*) FROM (
			SELECT connection, state, COUNT(*) AS n FROM deliveries NOT INDEXED WHERE state IN ('delivered', 'dead') GROUP BY 1, 2) AS real
			FULL JOIN (SELECT * FROM delivery_counts WHERE state != 'unrouted' AND n != 0) AS c USING (connection, state)
			WHERE c.n IS NOT real.n`},
		{"negative counts", `SELECT COUNT(*) FROM delivery_counts WHERE n < 0`},
		{"unrouted tickets miscounted", `SELECT (SELECT n FROM delivery_counts WHERE connection = '' AND state = 'unrouted')
			IS NOT (SELECT COUNT(*) FROM tickets NOT INDEXED WHERE NOT EXISTS (SELECT 1 FROM deliveries NOT INDEXED WHERE ticket_id = tickets.id))`},
		{"deliveries whose settled_at disagrees with their state", `SELECT COUNT(*) FROM deliveries NOT INDEXED
			WHERE (state IN ('delivered', 'dead')) != (settled_at IS NOT NULL)`},
		{"open deliveries missing from deliveries_open", `SELECT (SELECT COUNT(*) FROM deliveries NOT INDEXED WHERE settled_at IS NULL)
			- (SELECT COUNT(*) FROM deliveries INDEXED BY deliveries_open WHERE settled_at IS NULL)`},
	} {
		if n := queryInt(t, db, c.q); n != 0 {
			t.Errorf("%s: %d", c.what, n)
		}
	}
}

func enqueue(t *testing.T, s *Store, createdAt time.Time, payload string, targets ...Target) string {
	t.Helper()
	id, err := s.Enqueue(context.Background(), createdAt, []byte(payload), targets)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return id
}

func list(t *testing.T, s *Store, state string) []Item {
	t.Helper()
	items, err := s.List(context.Background(), Filter{State: state})
	if err != nil {
		t.Fatalf("List(%q): %v", state, err)
	}
	return items
}

func get(t *testing.T, s *Store, id string) Item {
	t.Helper()
	it, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return it
}

func ids(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// lease claims exactly one due delivery (of connection, when set).
func leaseOne(t *testing.T, s *Store, connection string) Lease {
	t.Helper()
	ls, err := s.Lease(context.Background(), LeaseOptions{Connection: connection, TTL: time.Minute})
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	if len(ls) != 1 {
		t.Fatalf("Lease(%q) returned %d leases, want 1", connection, len(ls))
	}
	return ls[0]
}

func complete(t *testing.T, s *Store, l Lease, o Outcome) {
	t.Helper()
	if err := s.Complete(context.Background(), l, o); err != nil {
		t.Fatalf("Complete(%d, %s): %v", l.ID, o.State, err)
	}
}

func fileSHA(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
