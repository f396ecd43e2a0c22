package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Open's quick_check proves the file's structure, not that each index
// matches its table: one flipped byte in an index leaves quick_check happy
// while queries through that index see rows that are not there (and a
// UNIQUE constraint then fails on every insert). A full integrity_check
// runs in the background after Open, and again when a statement fails in a
// way that contradicts the tables; indexes of sound tables are rebuilt.

// checker holds what the storage checks found.
type checker struct {
	mu       sync.Mutex   // one check at a time
	rebuilds atomic.Int64 // indexes rebuilt so far, by any check
	done     chan struct{}
	pmu      sync.Mutex
	problems map[string]string // by kind, so a later check replaces an earlier finding
}

// Problems lists the storage problems found so far, in plain words for
// the help desk: damaged indexes (and whether they were rebuilt), damage to
// the tables, tickets that cannot be read, a full disk. Empty when all is
// well. It never blocks; see Check.
func (s *Store) Problems() []string {
	s.check.pmu.Lock()
	defer s.check.pmu.Unlock()
	keys := make([]string, 0, len(s.check.problems))
	for k := range s.check.problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = s.check.problems[k]
	}
	return out
}

// Check waits for the background check that Open started (or until ctx
// ends) and returns Problems.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	select {
	case <-s.check.done:
	case <-ctx.Done():
		return s.Problems(), ctx.Err()
	}
	return s.Problems(), nil
}

func (s *Store) setProblem(kind, msg string) {
	s.check.pmu.Lock()
	defer s.check.pmu.Unlock()
	if s.check.problems == nil {
		s.check.problems = map[string]string{}
	}
	if msg == "" {
		delete(s.check.problems, kind)
		return
	}
	s.check.problems[kind] = msg
}

func (s *Store) hasProblem(kind string) bool {
	s.check.pmu.Lock()
	defer s.check.pmu.Unlock()
	_, ok := s.check.problems[kind]
	return ok
}

// backgroundCheck lets tests keep Open from checking, to reach the checks
// that failing statements start.
var backgroundCheck = true

// startCheck runs the first full check in the background; Close stops it.
func (s *Store) startCheck() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBG = cancel
	s.check.done = make(chan struct{})
	if !backgroundCheck {
		close(s.check.done)
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer close(s.check.done)
		s.checkStorage(ctx)
	}()
}

// needsCheck reports whether err is one that damage to an index causes:
// a constraint that the table contents contradict, or SQLite noticing an
// index entry without its row.
func needsCheck(err error) bool {
	if errors.Is(err, errIndexContradicted) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CORRUPT_INDEX:
		return true
	}
	return se.Code()&0xff == sqlite3.SQLITE_CORRUPT
}

// errIndexContradicted: what an index said is not what its table holds.
var errIndexContradicted = errors.New("an index contradicts its table")

// repairing runs fn; if it fails in a way index damage explains, it checks
// the file, rebuilds what it can, and runs fn once more if anything was
// rebuilt.
func (s *Store) repairing(ctx context.Context, fn func() error) error {
	before := s.check.rebuilds.Load()
	err := fn()
	if err == nil || !needsCheck(err) {
		return err
	}
	// The background check may have rebuilt the index between fn's
	// failure and this check, which then finds nothing left to do: fn
	// still deserves its second run.
	if rebuilt, _ := s.checkStorage(ctx); rebuilt || s.check.rebuilds.Load() != before {
		return fn()
	}
	return err
}

var (
	reIndex = regexp.MustCompile(`\bindex (\S+)`)
	reTree  = regexp.MustCompile(`(?mi)(?:^tree|on tree page) (\d+)\b`) // a message may follow "*** in database main ***\n"
)

// damage is what an integrity_check found, by object.
type damage struct {
	indexes map[string]string // damaged index -> its table
	tables  map[string]bool   // damaged tables (or "" for damage not tied to one)
	lines   int
}

// checkStorage runs integrity_check, rebuilds the damaged indexes of sound
// tables, and counts unreadable tickets, recording what it found in
// Problems. rebuilt reports whether any index was rebuilt.
func (s *Store) checkStorage(ctx context.Context) (rebuilt bool, err error) {
	s.check.mu.Lock()
	defer s.check.mu.Unlock()
	d, err := s.integrity(ctx)
	if err != nil {
		return false, err
	}
	if len(d.indexes) > 0 && s.readOnly == nil {
		var names []string
		for name, table := range d.indexes {
			if d.tables[table] || d.tables[""] {
				continue // an index of a damaged table cannot be rebuilt from it
			}
			if _, err := s.db.ExecContext(ctx, "REINDEX "+quoteIdent(name)); err != nil {
				s.setProblem("index "+name, fmt.Sprintf("index %s is damaged and could not be rebuilt (%v)", name, err))
				continue
			}
			names = append(names, name)
		}
		if len(names) > 0 {
			rebuilt = true
			s.check.rebuilds.Add(1)
			if d, err = s.integrity(ctx); err != nil {
				return rebuilt, err
			}
			for _, name := range names {
				if _, still := d.indexes[name]; !still {
					s.setProblem("index "+name, fmt.Sprintf("index %s was damaged and has been rebuilt", name))
				}
			}
		}
	}
	for name := range d.indexes {
		if !s.hasProblem("index " + name) {
			s.setProblem("index "+name, fmt.Sprintf("index %s is damaged", name))
		}
	}
	switch {
	case len(d.tables) > 0:
		var names []string
		for t := range d.tables {
			if t != "" {
				names = append(names, t)
			}
		}
		sort.Strings(names)
		where := "the queue file"
		if len(names) > 0 {
			where = "table " + strings.Join(names, ", ")
		}
		s.setProblem("file", fmt.Sprintf("the queue file is damaged (%s: %d problems found); readable tickets are still delivered, and 'ticketray queue recover' can copy them into a new queue", where, d.lines))
	default:
		s.setProblem("file", "")
	}
	if s.readOnly == nil {
		s.recount(ctx)
	}
	if n, err := s.countUnreadable(ctx); err == nil {
		msg := ""
		if n == 1 {
			msg = "1 ticket is unreadable (it fails authentication: damaged, or sealed by a key this queue no longer has)"
		} else if n > 1 {
			msg = fmt.Sprintf("%d tickets are unreadable (they fail authentication: damaged, or sealed by a key this queue no longer has)", n)
		}
		s.setProblem("unreadable", msg)
	} else if ctx.Err() == nil {
		s.setProblem("unreadable", fmt.Sprintf("some tickets cannot be read (%v)", err))
	}
	return rebuilt, nil
}

// countsDisagree counts what delivery_counts has wrong: settled deliveries
// per connection and state, and the tickets with no delivery.
const countsDisagree = `SELECT (SELECT COUNT(*) FROM (
		SELECT connection, state, COUNT(*) AS n FROM deliveries WHERE state IN ('delivered', 'dead') GROUP BY 1, 2) AS real
		FULL JOIN (SELECT * FROM delivery_counts WHERE state != 'unrouted' AND n != 0) AS c USING (connection, state)
		WHERE c.n IS NOT real.n)
	+ ((SELECT n FROM delivery_counts WHERE connection = '' AND state = 'unrouted')
		IS NOT (SELECT COUNT(*) FROM tickets WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = tickets.id)))`

// recount makes delivery_counts agree with the rows again, in the check
// after Open, which reads every row anyway. They drift only when a process
// of an older release kept writing after a newer one upgraded the file
// (before 0009 a trigger counted unrouted tickets, and the old process's
// enqueue no longer is), or after damage. It reads first and writes only
// when they disagree, so the write lock is not held for the pass.
func (s *Store) recount(ctx context.Context) (fixed bool, err error) {
	var n int
	if err := s.db.QueryRowContext(ctx, countsDisagree).Scan(&n); err != nil || n == 0 {
		return false, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, countsDisagree).Scan(&n); err != nil || n == 0 {
			return err
		}
		fixed = true
		for _, q := range []string{
			"DELETE FROM delivery_counts",
			`INSERT INTO delivery_counts (connection, state, n)
				SELECT connection, state, COUNT(*) FROM deliveries WHERE state IN ('delivered', 'dead') GROUP BY 1, 2`,
			`INSERT INTO delivery_counts (connection, state, n)
				SELECT '', 'unrouted', COUNT(*) FROM tickets WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = tickets.id)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	return fixed, err
}

// object is a table or index of the schema.
type object struct{ name, typ, table string }

// add files one integrity_check message under the object it names (by
// name, or by the root page of its b-tree).
func (d *damage) add(line string, byRoot map[int64]object, byName map[string]object) {
	var o object
	var found bool
	if m := reIndex.FindStringSubmatch(line); m != nil {
		o, found = byName[m[1]]
	} else if m := reTree.FindStringSubmatch(line); m != nil {
		root, _ := strconv.ParseInt(m[1], 10, 64)
		o, found = byRoot[root]
	}
	switch {
	case strings.Contains(line, "never used"):
		// A page lost from the free list wastes space; nothing is lost.
	case found && o.typ == "index":
		d.indexes[o.name] = o.table
	case found:
		d.tables[o.name] = true
	default:
		d.tables[""] = true // damage not tied to one object
	}
}

// integrity runs PRAGMA integrity_check and sorts its findings by object.
func (s *Store) integrity(ctx context.Context) (damage, error) {
	d := damage{indexes: map[string]string{}, tables: map[string]bool{}}
	byRoot := map[int64]object{}
	byName := map[string]object{}
	rows, err := s.db.QueryContext(ctx, "SELECT name, type, tbl_name, rootpage FROM sqlite_schema WHERE rootpage > 0")
	if err != nil {
		return d, s.wrap("check", err)
	}
	for rows.Next() {
		var o object
		var root int64
		if err := rows.Scan(&o.name, &o.typ, &o.table, &root); err != nil {
			rows.Close()
			return d, s.wrap("check", err)
		}
		byRoot[root], byName[o.name] = o, o
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, "PRAGMA integrity_check(200)")
	if err != nil {
		return d, s.wrap("check", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return d, s.wrap("check", err)
		}
		if line == "ok" {
			continue
		}
		d.lines++
		d.add(line, byRoot, byName)
	}
	if err := rows.Err(); err != nil {
		return d, s.wrap("check", err)
	}
	return d, nil
}

// countUnreadable counts the tickets whose payload fails authentication,
// one row at a time (payloads with attachments can be large).
func (s *Store) countUnreadable(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, dek_id, payload FROM tickets")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var id string
		var dek int64
		var blob sql.RawBytes // not copied: every payload of the queue passes through here
		if err := rows.Scan(&id, &dek, &blob); err != nil {
			return n, err
		}
		if _, err := s.open(ctx, "tickets", id, dek, blob); errors.Is(err, ErrTampered) {
			n++
		} else if err != nil {
			return n, err
		}
	}
	return n, rows.Err()
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
