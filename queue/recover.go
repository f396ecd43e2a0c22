package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// RecoverResult says what Recover salvaged from a damaged queue file.
type RecoverResult struct {
	// Recovered are the ids of the tickets copied into this queue, with
	// their original ids (and so their idempotency keys) and deliveries.
	Recovered []string
	// Present are the ids of readable tickets this queue already had
	// (recovered before, or never lost): they were left as they are.
	Present []string
	// Unreadable are the ids of tickets found but not readable: their row
	// is damaged or their payload fails authentication.
	Unreadable []string
	// WithoutDeliveries are the recovered tickets whose deliveries could
	// not be read. The next courier start routes them to the configured
	// connections like tickets queued before any was configured; each of
	// those first looks the ticket up by its idempotency key, as it may
	// have been sent before.
	WithoutDeliveries []string
	// Problems says, in plain words, what else could not be read: damaged
	// stretches of a table (whose ticket ids are unknown), unreadable
	// delivery rows or histories.
	Problems []string
}

// Complete reports whether everything in the file was read.
func (r RecoverResult) Complete() bool { return len(r.Unreadable) == 0 && len(r.Problems) == 0 }

// Recover copies every readable ticket of the queue file at path (a file
// Open moved aside as corrupt, or any damaged copy) into this queue, with
// its deliveries and their history, and returns what it could and could
// not read. src must be the key source the file was made with (usually
// the same as this queue's). It is idempotent: a ticket this queue already
// has is left alone, so running it twice adds nothing the second time.
//
// Delivery states carry over: pending and retrying deliveries stay due,
// delivered ones keep their remote ids, dead ones stay dead. A delivery
// that was in flight becomes pending and uncertain, so its next attempt
// looks the ticket up by its idempotency key before creating it. A ticket
// whose deliveries are unreadable comes with none: the next courier start
// routes it as an orphan.
//
// The file itself is never changed: it is read from a private copy.
func (s *Store) Recover(ctx context.Context, path string, src KEKSource) (RecoverResult, error) {
	var res RecoverResult
	abs, err := filepath.Abs(path)
	if err != nil {
		return res, fmt.Errorf("queue: recover %s: %w", path, err)
	}
	if abs == s.path {
		return res, fmt.Errorf("queue: recover %s: that is this queue's own file; give the moved-aside or damaged copy", path)
	}
	old, cleanup, err := openSalvage(ctx, abs)
	if err != nil {
		return res, err
	}
	defer cleanup()
	ks, err := old.unlockKeys(ctx, src)
	if err != nil {
		return res, fmt.Errorf("queue: recover %s: the data keys cannot be read, so no ticket can be: %w", abs, err)
	}
	if ks == nil {
		return res, fmt.Errorf("queue: recover %s: the file has no data keys, so no ticket can be read", abs)
	}
	old.keys = ks

	tickets, ticketProblems, unreadableRows := old.salvageTickets(ctx)
	res.Problems = append(res.Problems, ticketProblems...)
	res.Unreadable = append(res.Unreadable, unreadableRows...)
	deliveries, problems := old.salvageDeliveries(ctx, tickets)
	res.Problems = append(res.Problems, problems...)
	deliveriesDamaged := len(problems) > 0
	events, problems := old.salvageEvents(ctx)
	res.Problems = append(res.Problems, problems...)

	ids := make([]string, 0, len(tickets))
	for id := range tickets {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := tickets[ids[i]], tickets[ids[j]]
		if a.createdAt != b.createdAt {
			return a.createdAt < b.createdAt
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		t := tickets[id]
		payload, err := old.open(ctx, "tickets", id, t.dek, t.blob)
		if err != nil {
			res.Unreadable = append(res.Unreadable, id)
			continue
		}
		uncertain := deliveriesDamaged && len(deliveries[id]) == 0
		added, err := s.restoreTicket(ctx, old, id, t, payload, deliveries[id], events, filepath.Base(abs), uncertain)
		if err != nil {
			return res, s.wrap("recover into", err)
		}
		if added {
			res.Recovered = append(res.Recovered, id)
			if uncertain {
				res.WithoutDeliveries = append(res.WithoutDeliveries, id)
			}
		} else {
			res.Present = append(res.Present, id)
		}
	}
	sort.Strings(res.Unreadable)
	return res, nil
}

// openSalvage opens a private copy of the file at path (and its -wal), so
// that nothing SQLite does while reading it can change the original.
func openSalvage(ctx context.Context, path string) (*Store, func(), error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("queue: recover %s: %w", path, err)
	}
	dir, err := os.MkdirTemp("", "ticketray-recover-")
	if err != nil {
		return nil, nil, fmt.Errorf("queue: recover %s: %w", path, err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	copyPath := filepath.Join(dir, "queue.db")
	for _, suf := range []string{"", "-wal"} {
		if err := copyFile(path+suf, copyPath+suf); err != nil && !(suf != "" && errors.Is(err, os.ErrNotExist)) {
			cleanup()
			return nil, nil, fmt.Errorf("queue: recover %s: copy the file: %w", path, err)
		}
	}
	// writable_schema makes SQLite read a truncated file as far as it goes
	// instead of refusing it whole (safe: this is a private copy).
	db, err := sql.Open("sqlite", "file:"+copyPath+"?_pragma=busy_timeout(1000)&_pragma=writable_schema(1)")
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("queue: recover %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	old := &Store{db: db, path: path}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('tickets', 'meta', 'deks')").Scan(&n); err != nil || n != 3 {
		db.Close()
		cleanup()
		if err == nil {
			err = errors.New("it is not a Ticketray queue")
		}
		return nil, nil, fmt.Errorf("queue: recover %s: nothing can be read: %w", path, err)
	}
	return old, func() { db.Close(); cleanup() }, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type sealedTicket struct {
	createdAt, dek int64
	blob           []byte
	parent         sql.NullString // an addition's ticket (migration 0007)
}

// salvageTickets reads every ticket row it can, along two paths: the
// table in rowid order, and the ids in the primary-key index, each id then
// looked up on its own. A ticket whose id is known (from the index) but
// whose row cannot be read is returned in unreadable.
func (s *Store) salvageTickets(ctx context.Context) (map[string]sealedTicket, []string, []string) {
	tickets := map[string]sealedTicket{}
	parent := "NULL"
	if s.hasColumn(ctx, "tickets", "parent_id") {
		parent = "parent_id"
	}
	problems := salvageScan(ctx, s.db, "tickets", "id, created_at, dek_id, payload, "+parent, func(scan func(...any) error) error {
		var id string
		var t sealedTicket
		if err := scan(&id, &t.createdAt, &t.dek, &t.blob, &t.parent); err != nil {
			return err
		}
		tickets[id] = t
		return nil
	})
	var unreadable []string
	for _, id := range s.indexedTicketIDs(ctx) {
		if _, ok := tickets[id]; ok {
			continue
		}
		var t sealedTicket
		if err := s.db.QueryRowContext(ctx, "SELECT created_at, dek_id, payload, "+parent+" FROM tickets WHERE id = ?", id).Scan(&t.createdAt, &t.dek, &t.blob, &t.parent); err != nil {
			unreadable = append(unreadable, id)
			continue
		}
		tickets[id] = t
	}
	return tickets, problems, unreadable
}

// indexedTicketIDs lists the ticket ids in the primary-key index, skipping
// damaged stretches of it.
func (s *Store) indexedTicketIDs(ctx context.Context) []string {
	var index string
	if err := s.db.QueryRowContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tickets' AND name LIKE 'sqlite_autoindex_%'").Scan(&index); err != nil {
		return nil
	}
	q := "SELECT id FROM tickets INDEXED BY " + quoteIdent(index) + " WHERE id > ? ORDER BY id LIMIT 64"
	var out []string
	last := ""
	for jump := 0; ctx.Err() == nil; {
		after := last
		if jump > 0 {
			if after = nextPrefix(last, len(last)-jump+1); after == "" {
				return out // nothing left to jump to
			}
		}
		rows, err := s.db.QueryContext(ctx, q, after)
		n := 0
		if err == nil {
			for rows.Next() {
				var id string
				if err = rows.Scan(&id); err != nil {
					break
				}
				out, last, n = append(out, id), id, n+1
			}
			if err == nil {
				err = rows.Err()
			}
			rows.Close()
		}
		switch {
		case err != nil:
			if last == "" {
				last = "0"
			}
			if jump++; jump > len(last) {
				return out
			}
		case n == 0:
			return out
		default:
			jump = 0
		}
	}
	return out
}

// nextPrefix returns the least string above every string that starts with
// s[:k]: s[:k-1] with its last character incremented, or "" if none.
func nextPrefix(s string, k int) string {
	if k <= 0 || k > len(s) {
		return ""
	}
	b := []byte(s[:k])
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// salvageScan reads every row of table it can in rowid order, calling fn
// with a scanner for cols. A damaged stretch is skipped by seeking ever
// further past it (1, 2, 4 … rows on); it returns the stretches it could
// not read. (Rows skipped over in a long jump are found again through an
// index where one leads to them: see salvageTickets.)
func salvageScan(ctx context.Context, db *sql.DB, table, cols string, fn func(scan func(dest ...any) error) error) []string {
	q := fmt.Sprintf("SELECT rowid, %s FROM %s NOT INDEXED WHERE rowid > ? ORDER BY rowid LIMIT 64", cols, table)
	var problems []string
	last, skip := int64(0), int64(0)
	var badErr error // the failure that started the damaged stretch after last
	for ctx.Err() == nil {
		if skip > 0 && last > math.MaxInt64-skip {
			break
		}
		rows, err := db.QueryContext(ctx, q, last+skip)
		n := 0
		if err == nil {
			for rows.Next() {
				var rowid int64
				err = fn(func(dest ...any) error { return rows.Scan(append([]any{&rowid}, dest...)...) })
				if err != nil {
					break
				}
				if n == 0 && badErr != nil {
					problems = append(problems, fmt.Sprintf("%s: the rows between row %d and row %d could not be read (%v)", table, last, rowid, badErr))
					badErr, skip = nil, 0
				}
				last, n = rowid, n+1
			}
			if err == nil {
				err = rows.Err()
			}
			rows.Close()
		}
		switch {
		case err != nil:
			if badErr == nil {
				badErr, skip = err, 0
			}
			if skip == 0 {
				skip = 1
			} else if skip *= 2; skip > 1<<40 {
				problems = append(problems, fmt.Sprintf("%s: the rows after row %d could not be read (%v)", table, last, badErr))
				return problems
			}
		case n > 0:
			skip = 0
		case badErr != nil:
			// Nothing after the jump: the rows between, if any, are lost.
			problems = append(problems, fmt.Sprintf("%s: the rows after row %d could not be read (%v)", table, last, badErr))
			return problems
		default:
			return problems
		}
	}
	return problems
}

// oldDelivery is a delivery row read from a damaged file.
type oldDelivery struct {
	id                                int64
	ticketID, connection, action      string
	state                             string
	attempts                          int
	next, created, updated            int64
	remoteID, remoteNumber, remoteURL sql.NullString
	lastError                         []byte
	errDek, delivered                 sql.NullInt64
	everSent                          bool
	leased                            sql.NullInt64 // start of its last attempt (migration 0008)
}

// hasColumn reports whether the old file's table has the column (files
// from before a migration lack it).
func (s *Store) hasColumn(ctx context.Context, table, col string) bool {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", table, col).Scan(&n)
	return err == nil && n == 1
}

func (s *Store) deliveryCols(ctx context.Context) string {
	cols := "id, ticket_id, connection, action, state, attempts, next_attempt_at, created_at, updated_at, remote_id, remote_number, remote_url, last_error, error_dek_id, delivered_at, "
	if s.hasColumn(ctx, "deliveries", "ever_sent") {
		cols += "ever_sent, "
	} else {
		cols += "0, " // a file from before migration 0002
	}
	if s.hasColumn(ctx, "deliveries", "leased_at") {
		return cols + "leased_at"
	}
	return cols + "NULL"
}

func scanOldDelivery(scan func(...any) error) (oldDelivery, error) {
	var d oldDelivery
	err := scan(&d.id, &d.ticketID, &d.connection, &d.action, &d.state, &d.attempts, &d.next, &d.created, &d.updated,
		&d.remoteID, &d.remoteNumber, &d.remoteURL, &d.lastError, &d.errDek, &d.delivered, &d.everSent, &d.leased)
	return d, err
}

// salvageDeliveries reads the delivery rows it can, by table scan and,
// for each ticket, through the deliveries_ticket index.
func (s *Store) salvageDeliveries(ctx context.Context, tickets map[string]sealedTicket) (map[string][]oldDelivery, []string) {
	cols := s.deliveryCols(ctx)
	byID := map[int64]oldDelivery{}
	problems := salvageScan(ctx, s.db, "deliveries", cols, func(scan func(...any) error) error {
		d, err := scanOldDelivery(scan)
		if err == nil {
			byID[d.id] = d
		}
		return err
	})
	for id := range tickets {
		rows, err := s.db.QueryContext(ctx, "SELECT "+cols+" FROM deliveries WHERE ticket_id = ?", id)
		if err != nil {
			continue
		}
		for rows.Next() {
			d, err := scanOldDelivery(rows.Scan)
			if err != nil {
				break
			}
			byID[d.id] = d
		}
		rows.Close()
	}
	out := map[string][]oldDelivery{}
	for _, d := range byID {
		out[d.ticketID] = append(out[d.ticketID], d)
	}
	for _, ds := range out {
		sort.Slice(ds, func(i, j int) bool { return ds[i].id < ds[j].id })
	}
	return out, problems
}

type oldEvent struct {
	id, deliveryID, at int64
	state              string
	attempt            int
	detail             []byte
	dek                sql.NullInt64
	started            sql.NullInt64
}

// salvageEvents reads the delivery history rows it can.
func (s *Store) salvageEvents(ctx context.Context) (map[int64][]oldEvent, []string) {
	out := map[int64][]oldEvent{}
	cols := "id, delivery_id, at, state, attempt, detail, dek_id, NULL"
	if s.hasColumn(ctx, "events", "started_at") {
		cols = "id, delivery_id, at, state, attempt, detail, dek_id, started_at"
	}
	problems := salvageScan(ctx, s.db, "events", cols, func(scan func(...any) error) error {
		var e oldEvent
		if err := scan(&e.id, &e.deliveryID, &e.at, &e.state, &e.attempt, &e.detail, &e.dek, &e.started); err != nil {
			return err
		}
		out[e.deliveryID] = append(out[e.deliveryID], e)
		return nil
	})
	return out, problems
}

// restoreTicket inserts one salvaged ticket with its deliveries and their
// history, re-sealed under this queue's keys, unless this queue already has
// a ticket with its id. Errors are this queue's (the disk), never the
// damaged file's: what cannot be read from it is left out.
func (s *Store) restoreTicket(ctx context.Context, old *Store, id string, t sealedTicket, payload []byte, ds []oldDelivery, events map[int64][]oldEvent, from string, uncertain bool) (added bool, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		added = false
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM tickets WHERE id = ?", id).Scan(&n); err != nil || n > 0 {
			return err
		}
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		dek, blob, err := s.keys.seal("tickets", id, payload)
		if err != nil {
			return err
		}
		// An addition stays under its ticket when that one is here (it
		// was created first, so it was restored first); else it is listed
		// on its own rather than lost.
		var parent any
		if t.parent.Valid {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM tickets WHERE id = ?", t.parent.String).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				parent = t.parent.String
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO tickets (id, created_at, dek_id, payload, parent_id) VALUES (?, ?, ?, ?, ?)", id, t.createdAt, dek, blob, parent); err != nil {
			return err
		}
		if uncertain {
			if _, err := tx.ExecContext(ctx, "INSERT INTO tickets_uncertain (ticket_id) VALUES (?)", id); err != nil {
				return err
			}
		}
		routed := 0
		for _, d := range ds {
			if checkTarget(Target{Connection: d.connection, Action: d.action}) != nil {
				continue
			}
			state, next, everSent := d.state, d.next, d.everSent
			switch state {
			case StatePending, StateRetry, StateDelivered, StateDead:
			default: // in flight in a process of the old file: maybe sent, so find by key first
				state, next, everSent = StatePending, ms(now), true
			}
			var settled any
			if state == StateDelivered || state == StateDead {
				settled = ms(now)
				if d.delivered.Valid {
					settled = d.delivered.Int64
				}
			}
			var newID int64
			err := tx.QueryRowContext(ctx, `INSERT OR IGNORE INTO deliveries (ticket_id, connection, action, state, attempts, next_attempt_at,
				remote_id, remote_number, remote_url, created_at, updated_at, delivered_at, ever_sent, settled_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				id, d.connection, d.action, state, d.attempts, next, d.remoteID, d.remoteNumber, d.remoteURL, d.created, ms(now), d.delivered, everSent, settled).Scan(&newID)
			if errors.Is(err, sql.ErrNoRows) {
				continue // a second create for the same connection: the file's own damage
			}
			if err != nil {
				return err
			}
			if d.lastError != nil && d.errDek.Valid {
				if msg, err := old.open(ctx, "deliveries", fmt.Sprint(d.id), d.errDek.Int64, d.lastError); err == nil {
					edek, eblob, err := s.keys.seal("deliveries", fmt.Sprint(newID), msg)
					if err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET last_error = ?, error_dek_id = ? WHERE id = ?", eblob, edek, newID); err != nil {
						return err
					}
				}
			}
			evs := events[d.id]
			sort.Slice(evs, func(i, j int) bool { return evs[i].id < evs[j].id })
			delivered := false
			for _, e := range evs {
				delivered = delivered || e.state == StateDelivered
				var detail string
				if e.detail != nil && e.dek.Valid {
					if msg, err := old.open(ctx, "events", fmt.Sprint(e.id), e.dek.Int64, e.detail); err == nil {
						detail = string(msg)
					} else {
						detail = "(detail could not be recovered)"
					}
				}
				if err := s.addOutcomeEvent(ctx, tx, newID, fromMs(e.at), e.started, e.state, e.attempt, detail); err != nil {
					return err
				}
			}
			// What the old row told of its history (see Events) becomes
			// event rows: the new row starts with no lease of its own.
			switch {
			case d.state == StateInFlight && d.leased.Valid:
				if err := s.addEvent(ctx, tx, newID, fromMs(d.leased.Int64), StateInFlight, d.attempts, ""); err != nil {
					return err
				}
			case d.state == StateDelivered && !delivered && d.delivered.Valid:
				if err := s.addOutcomeEvent(ctx, tx, newID, fromMs(d.delivered.Int64), d.leased, StateDelivered, d.attempts, d.remoteNumber.String); err != nil {
					return err
				}
			}
			if err := s.addEvent(ctx, tx, newID, now, "recovered", d.attempts, "recovered from "+from); err != nil {
				return err
			}
			routed++
		}
		if routed == 0 {
			if err := s.addUnrouted(ctx, tx, 1); err != nil {
				return err
			}
		}
		added = true
		return nil
	})
	return added, err
}
