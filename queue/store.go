// Package queue is Ticketray's durable, encrypted offline queue: a SQLite
// file that holds tickets as sealed payloads plus the few clear fields the
// delivery schedule needs.
//
// A ticket is committed with synchronous=FULL before Enqueue returns, so an
// acknowledged ticket survives a crash or power loss. The tray app and CLI
// processes share the file: WAL mode, a busy timeout and immediate
// transactions serialise writers without failing them.
//
// Damage is expected, not fatal: Open proves the key on a read-only
// connection before anything can write, moves a structurally corrupt file
// aside (Recover salvages it later), opens read-only on a full disk, and
// checks the whole file in the background, rebuilding damaged indexes;
// Problems tells the help desk what it found.
package queue

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Errors callers test for with errors.Is.
var (
	ErrWrongKey  = errors.New("the encryption key does not match this queue")
	ErrTampered  = errors.New("payload failed authentication (tampered or corrupted)")
	ErrNotFound  = errors.New("not found")
	ErrDiskFull  = errors.New("the disk is full")
	ErrReadOnly  = errors.New("the queue file is read-only")
	ErrLeaseLost = errors.New("lease expired or taken over by another worker")
)

// ErrFull is the old name of ErrDiskFull.
//
// Deprecated: use ErrDiskFull.
var ErrFull = ErrDiskFull

// CorruptError reports a database file that failed its integrity check and
// was moved aside. The original bytes are kept at MovedTo for inspection.
type CorruptError struct {
	Path    string
	MovedTo string
	Err     error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("queue: %s is corrupt (%v); moved it to %s, a new queue will be created on the next start", e.Path, e.Err, e.MovedTo)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Options configure Open.
type Options struct {
	// KEK supplies the key-encryption key. Required.
	KEK KEKSource
	// Now is the clock; tests inject one to assert on scheduled times.
	Now func() time.Time
}

// Store is an open queue file.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
	keys *keyset

	check    checker            // storage checks and the problems they found
	stopBG   context.CancelFunc // stops the background check
	bg       sync.WaitGroup
	readOnly error // why the store could only be opened for reading (ErrDiskFull), or nil
	// oldSchema is set when a read-only store could not migrate a file of
	// an older schema: the reads that need the newest one (counts, next
	// due) use forms every schema has.
	oldSchema bool

	stmts  stmtCache // prepared statements of the hot paths
	writer writeLock // this process's writers take turns (see inTxAs)
}

// writeLock lets one writer of this process at a time ask SQLite for the
// write lock, urgent ones first.
type writeLock struct {
	mu     sync.Mutex
	cond   sync.Cond
	held   bool
	urgent int // urgent writers waiting
}

func (l *writeLock) lock(urgent bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cond.L == nil {
		l.cond.L = &l.mu
	}
	if urgent {
		l.urgent++
		defer func() { l.urgent-- }()
	}
	for l.held || (!urgent && l.urgent > 0) {
		l.cond.Wait()
	}
	l.held = true
}

func (l *writeLock) unlock() {
	l.mu.Lock()
	l.held = false
	l.mu.Unlock()
	l.cond.Broadcast()
}

// Open opens or creates the queue at path. A wrong key, a corrupt file or
// a file from a newer Ticketray are reported without changing the file
// (a corrupt file is moved aside, never replaced): an existing queue's key
// is proven on a read-only connection before anything can write to it, so
// not even a WAL left by a crash is checkpointed under a wrong key.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.KEK == nil {
		return nil, fmt.Errorf("queue: open %s: no key source", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	before := sidecarsOf(abs)
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", abs, err)
	}
	keys, err := proveKey(ctx, abs, opts.KEK)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", abs, err)
	}
	db.SetMaxIdleConns(maxIdleConns)
	s := &Store{db: db, path: abs, now: opts.Now, keys: keys}
	if err := s.init(ctx, opts.KEK); err != nil {
		db.Close()
		if isCorrupt(err) {
			return nil, moveAside(abs, err, opts.Now())
		}
		removeNewSidecars(abs, before)
		if isDiskFull(abs, err) {
			// Reading needs no space: what was queued stays readable.
			if ro, rerr := openReadOnly(ctx, abs, opts, keys); rerr == nil {
				return ro, nil
			}
			removeNewSidecars(abs, before)
			return nil, fmt.Errorf("queue: open %s: %w (free some space on the disk that holds it): %v", abs, ErrDiskFull, err)
		}
		return nil, err
	}
	// Leases of a process that died on this host are taken over now, not
	// when they expire; Lease looks again whenever it finds nothing due.
	// (Outside a transaction: it reads without locking, and writes only
	// when it found such a lease, each write atomic on its own.) A failure
	// here does not fail Open: those leases expire, or a Lease reclaims them.
	s.reclaimOrphans(ctx, nil, "")
	s.startCheck()
	return s, nil
}

// maxIdleConns keeps the connections a draining process uses (a few per
// connection, the watcher, readers) open between calls, with the
// statements prepared on them; database/sql's default of 2 closed and
// reopened them all the time.
const maxIdleConns = 8

// openReadOnly opens the queue for reading only, on a disk too full to
// create or grow its -wal and -shm files. Without a -wal or -shm no process
// has the queue open and the file holds every commit, so it is read as
// immutable, needing no -shm at all; otherwise only through the existing
// -shm, or not at all. Every write then fails with ErrDiskFull.
func openReadOnly(ctx context.Context, path string, opts Options, keys *keyset) (*Store, error) {
	sc := sidecarsOf(path)
	db, err := sql.Open("sqlite", dsnReadOnly(path, !sc.wal && !sc.shm))
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, now: opts.Now, keys: keys, readOnly: ErrDiskFull}
	err = func() error {
		version, err := s.userVersion(ctx)
		if err != nil {
			return err
		}
		latest, _, err := migrationFiles()
		if err != nil {
			return err
		}
		if version == 0 || version > latest {
			return fmt.Errorf("queue: %s: schema version %d cannot be read without migrating", path, version)
		}
		s.oldSchema = version < latest
		if s.keys == nil {
			ks, err := s.unlockKeys(ctx, opts.KEK)
			if err != nil {
				return err
			}
			if ks == nil {
				return fmt.Errorf("queue: %s has no keys yet", path)
			}
			s.keys = ks
		}
		return s.refreshKeys(ctx, s.keys)
	}()
	if err != nil {
		db.Close()
		return nil, err
	}
	s.setProblem("disk", "the disk is full: the queue is open read-only, so nothing new can be queued or delivered until some space is freed")
	s.startCheck()
	return s, nil
}

// isDiskFull reports whether err means the disk holding path has no space:
// SQLite says so, or fails to size its -shm file (the usual first failure
// on a full disk), or fails to write while the disk has no space left.
func isDiskFull(path string, err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return errors.Is(err, ErrDiskFull)
	}
	switch {
	case se.Code()&0xff == sqlite3.SQLITE_FULL, se.Code() == sqlite3.SQLITE_IOERR_SHMSIZE:
		return true
	case se.Code()&0xff == sqlite3.SQLITE_IOERR, se.Code()&0xff == sqlite3.SQLITE_CANTOPEN:
		free, ok := freeBytes(filepath.Dir(path))
		return ok && free < 64<<10
	}
	return false
}

// proveKey checks src against an existing queue's wrapped data keys on a
// read-only connection, which never checkpoints or writes. It returns the
// unlocked keys, or nil when there is nothing to check yet (a new file) or
// the file cannot be read: the read-write open then creates the queue or
// reports the damage.
func proveKey(ctx context.Context, path string, src KEKSource) (*keyset, error) {
	before := sidecarsOf(path)
	if st, err := os.Stat(path); (err != nil || st.Size() == 0) && !before.wal {
		return nil, nil // nothing written yet
	}
	// Without a WAL the file holds every commit: read it as immutable, which
	// creates no -wal or -shm. A WAL (left by a crash, or another process
	// has the queue open) must be read through SQLite's WAL index.
	ks, err := readKeys(ctx, path, src, !before.wal)
	if errors.Is(err, ErrWrongKey) && !before.wal && sidecarsOf(path).wal {
		// Another process opened the queue while it was read as immutable:
		// read it again the careful way before calling the key wrong.
		ks, err = readKeys(ctx, path, src, false)
	}
	return ks, err
}

func readKeys(ctx context.Context, path string, src KEKSource, immutable bool) (*keyset, error) {
	db, err := sql.Open("sqlite", dsnReadOnly(path, immutable))
	if err != nil {
		return nil, nil
	}
	defer db.Close()
	probe := &Store{db: db, path: path}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('meta', 'deks')").Scan(&n); err != nil || n != 2 {
		return nil, nil
	}
	ks, err := probe.unlockKeys(ctx, src)
	var se *sqlite.Error
	if errors.As(err, &se) {
		return nil, nil // storage trouble, not a key problem: the read-write open reports it
	}
	return ks, err
}

func dsn(path string) string {
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(1)",
		"secure_delete(1)", // deleted rows are zeroed, not left in free pages
		// Each connection caches at most 1 MiB of pages (SQLite's default
		// is 2 MiB): a draining process holds several connections, and
		// with a big backlog their caches filled and set its peak RSS. The
		// hot paths touch a few index pages; the OS caches the file.
		"cache_size(-1024)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// dsnReadOnly opens path for reading only. immutable tells SQLite the file
// cannot change, so it needs no -shm file and takes no locks: only safe
// when no other process has the queue open and no WAL holds commits.
func dsnReadOnly(path string, immutable bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	q.Set("mode", "ro")
	if immutable {
		q.Set("immutable", "1")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// sidecars records which of a queue's -wal and -shm files exist.
type sidecars struct{ wal, shm bool }

func sidecarsOf(path string) sidecars {
	_, werr := os.Lstat(path + "-wal")
	_, serr := os.Lstat(path + "-shm")
	return sidecars{wal: werr == nil, shm: serr == nil}
}

// removeNewSidecars deletes the -wal and -shm files a failed open created,
// when nothing can be in them: an empty -wal holds no commit, and a -shm
// in use by a live process is never smaller than one wal-index page.
func removeNewSidecars(path string, before sidecars) {
	now := sidecarsOf(path)
	empty := func(p string) bool {
		st, err := os.Lstat(p)
		return err == nil && st.Size() == 0
	}
	// A -shm in use holds at least one 32 KiB wal-index page; a failed
	// open on a full disk leaves a few bytes.
	small := func(p string) bool {
		st, err := os.Lstat(p)
		return err == nil && st.Size() < 32<<10
	}
	if now.wal && !before.wal && !empty(path+"-wal") {
		return
	}
	if now.shm && !before.shm && !small(path+"-shm") {
		return
	}
	if now.wal && !before.wal {
		os.Remove(path + "-wal")
	}
	if now.shm && !before.shm {
		os.Remove(path + "-shm")
	}
}

// createPrivate makes the file (and its directory) owner-only before SQLite
// touches it; SQLite gives the -wal and -shm files the same mode.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	// An existing file readable by others is tightened: SQLite copies its
	// mode to the -wal and -shm files.
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, 0o600)
	}
	return nil
}

func (s *Store) init(ctx context.Context, src KEKSource) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.wrap("open", err)
	}
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return s.wrap("integrity check", err)
	}
	if check != "ok" {
		return fmt.Errorf("queue: %s: %w: %s", s.path, errIntegrity, check)
	}
	version, err := s.userVersion(ctx)
	if err != nil {
		return s.wrap("read schema version", err)
	}
	latest, files, err := migrationFiles()
	if err != nil {
		return err
	}
	if version > latest {
		return fmt.Errorf("queue: %s has schema version %d; this Ticketray understands up to %d: upgrade Ticketray", s.path, version, latest)
	}
	// An existing queue proves the key before anything is written to it
	// (Open has done so already on a read-only connection, unless the file
	// could not be read that way).
	if version > 0 {
		if s.keys != nil {
			if err := s.refreshKeys(ctx, s.keys); err != nil {
				return err
			}
		} else if err := s.loadKeys(ctx, src); err != nil {
			return err
		}
	}
	if err := s.migrate(ctx, version, files); err != nil {
		return err
	}
	if s.keys == nil {
		return s.loadKeys(ctx, src)
	}
	return nil
}

func (s *Store) userVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func migrationFiles() (int, []string, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, nil, err
	}
	sort.Strings(files)
	for i, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil || n != i+1 {
			panic("queue: migrations must be numbered 0001_… without gaps: " + f)
		}
	}
	return len(files), files, nil
}

// migrate applies each pending migration in its own immediate transaction,
// re-reading user_version inside it so concurrent openers apply each once.
func (s *Store) migrate(ctx context.Context, from int, files []string) error {
	for v := from; v < len(files); v++ {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
				return err
			}
			if cur > v {
				return nil
			}
			body, err := migrations.ReadFile(files[v])
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", files[v], err)
			}
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return s.wrap("migrate", err)
		}
	}
	return nil
}

// Path is the absolute path of the queue file.
func (s *Store) Path() string { return s.path }

// Close stops the background check and closes the database.
func (s *Store) Close() error {
	if s.stopBG != nil {
		s.stopBG()
	}
	s.bg.Wait()
	s.stmts.close()
	return s.db.Close()
}

// stmtCache holds the prepared statements of the hot paths, by their text.
// database/sql prepares a *sql.Stmt once on each connection that runs it
// and keeps it there, so SQLite parses and plans a hot statement once per
// connection instead of on every call (about a third of a cycle's CPU).
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) has(q string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[q]
	return ok
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// stmt returns q prepared, inside tx when tx is not nil.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if tx != nil && !s.stmts.has(q) && s.db.Stats().MaxOpenConnections > 0 {
		// Preparing for the cache takes a connection from the pool; a
		// bounded pool may have none but tx's, which waits on this:
		// prepare on tx's own connection instead (it closes with tx).
		return tx.PrepareContext(ctx, q)
	}
	st, err := s.stmts.get(ctx, s.db, q)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		return tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

// exec runs a cached statement, inside tx when tx is not nil.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// query runs a cached query, inside tx when tx is not nil.
func (s *Store) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// row is a cached query's single row, or the error that prepared it.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

// queryRow runs a cached single-row query, inside tx when tx is not nil.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) row {
	st, err := s.stmt(ctx, tx, q)
	if err != nil {
		return row{err: err}
	}
	return row{r: st.QueryRowContext(ctx, args...)}
}

// inTx runs fn in an immediate transaction, rolling back on error.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.inTxAs(ctx, false, fn)
}

// inTxAs is inTx; urgent writers (a user's Submit) go ahead of the others
// waiting in this process.
//
// This process's writers take turns on s.writer before they ask SQLite
// for the write lock. Without it they all ask SQLite at once, and a writer
// that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5 … 100
// ms) however soon the lock is free: during a drain a Submit waited
// 30 times its idle latency. The busy handler is left to other processes.
func (s *Store) inTxAs(ctx context.Context, urgent bool, fn func(*sql.Tx) error) error {
	s.writer.lock(urgent)
	defer s.writer.unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if ctx.Err() != nil {
			return ctx.Err() // database/sql rolled back on cancel; say why
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// inStatement runs fn, which makes one write statement outside any
// transaction: SQLite commits it on its own. It is as atomic as inTx and
// takes the write lock the same way (a writing statement starts its
// transaction as a write one, and a busy lock is retried from scratch just
// as for BEGIN IMMEDIATE), without the BEGIN and the COMMIT: two round
// trips through database/sql, about a tenth of a commit's time. Writers
// of this process still take turns first (see inTxAs).
func (s *Store) inStatement(ctx context.Context, urgent bool, fn func(context.Context) error) error {
	s.writer.lock(urgent)
	defer s.writer.unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	// The statement commits on its own: once it runs, a context that ends
	// must not turn a commit into a reported failure (the driver reports
	// ctx.Err() for a statement that completed), so it runs uncancelled.
	return fn(context.WithoutCancel(ctx))
}

// wrap adds the operation and file to err and maps SQLite's storage errors
// to the package's sentinels.
func (s *Store) wrap(op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("queue: %s %s: %w: %v", op, s.path, ErrDiskFull, err)
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
			if s.readOnly != nil {
				return fmt.Errorf("queue: %s %s: %w (the queue is open read-only until some space is freed)", op, s.path, s.readOnly)
			}
			return fmt.Errorf("queue: %s %s: %w: %v", op, s.path, ErrReadOnly, err)
		}
		if se.Code() == sqlite3.SQLITE_IOERR_SHMSIZE {
			return fmt.Errorf("queue: %s %s: %w: %v", op, s.path, ErrDiskFull, err)
		}
	}
	return fmt.Errorf("queue: %s %s: %w", op, s.path, err)
}

var errIntegrity = errors.New("integrity check failed")

func isCorrupt(err error) bool {
	if errors.Is(err, errIntegrity) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// moveAside renames a corrupt queue (and its WAL and shared-memory files)
// to a timestamped name next to it.
func moveAside(path string, cause error, now time.Time) error {
	dest := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	// Never overwrite earlier evidence moved aside in the same second.
	for n := 2; ; n++ {
		if _, err := os.Lstat(dest); os.IsNotExist(err) {
			break
		}
		dest = fmt.Sprintf("%s.corrupt-%s-%d", path, now.UTC().Format("20060102T150405Z"), n)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err != nil {
			continue
		}
		if err := os.Rename(path+suffix, dest+suffix); err != nil {
			return fmt.Errorf("queue: %s is corrupt (%v) and could not be moved aside: %w", path, cause, err)
		}
	}
	return &CorruptError{Path: path, MovedTo: dest, Err: cause}
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }
