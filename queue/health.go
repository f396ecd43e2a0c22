package queue

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Health is what the draining process last saw of a connection.
type Health struct {
	Connection  string
	State       string // healthy, degraded, down, breaker_open
	LastSuccess time.Time
	LastErrorAt time.Time
	LastError   string
	UpdatedAt   time.Time
	// Depth is the number of deliveries still to do (pending, in flight
	// or retrying) for the connection.
	Depth int
}

// SetHealth records a connection's state. A non-empty errText replaces
// the last error; success sets the last success time.
func (s *Store) SetHealth(ctx context.Context, conn, state string, success bool, errText string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO connection_health (connection, state, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (connection) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`, conn, state, ms(now)); err != nil {
			return err
		}
		if success {
			if _, err := tx.ExecContext(ctx, "UPDATE connection_health SET last_success_at = ? WHERE connection = ?", ms(now), conn); err != nil {
				return err
			}
		}
		if errText != "" {
			dek, blob, err := s.keys.seal("connection_health", conn, []byte(errText))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE connection_health SET last_error = ?, error_dek_id = ?, last_error_at = ? WHERE connection = ?", blob, dek, ms(now), conn); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrapIf("record health in", err)
}

// Health returns the recorded health of the named connections (all
// recorded ones when none are named), with their queue depth. A
// connection never seen has State "" and its depth.
func (s *Store) Health(ctx context.Context, conns ...string) ([]Health, error) {
	depth, err := s.left(ctx)
	if err != nil {
		return nil, s.wrap("health", err)
	}
	if len(conns) == 0 {
		r, err := s.db.QueryContext(ctx, "SELECT connection FROM connection_health ORDER BY connection")
		if err != nil {
			return nil, s.wrap("health", err)
		}
		for r.Next() {
			var c string
			r.Scan(&c)
			conns = append(conns, c)
		}
		r.Close()
	}
	out := make([]Health, 0, len(conns))
	for _, c := range conns {
		h := Health{Connection: c, Depth: depth[c]}
		var succ, errAt, upd, dek sql.NullInt64
		var blob []byte
		err := s.db.QueryRowContext(ctx, `SELECT state, last_success_at, last_error_at, last_error, error_dek_id, updated_at
			FROM connection_health WHERE connection = ?`, c).Scan(&h.State, &succ, &errAt, &blob, &dek, &upd)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, s.wrap("health", err)
		default:
			if succ.Valid {
				h.LastSuccess = fromMs(succ.Int64)
			}
			if errAt.Valid {
				h.LastErrorAt = fromMs(errAt.Int64)
			}
			h.UpdatedAt = fromMs(upd.Int64)
			if blob != nil {
				msg, err := s.open(ctx, "connection_health", c, dek.Int64, blob)
				if err != nil && !errors.Is(err, ErrTampered) {
					return nil, s.wrap("health", err)
				}
				h.LastError = string(msg)
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// NextDue returns when the next pending or retrying delivery for conn
// becomes due, or an in-flight lease expires; ok is false when there is
// nothing left to do for it.
func (s *Store) NextDue(ctx context.Context, conn string) (at time.Time, ok bool, err error) {
	if s.oldSchema {
		return s.nextDueAnySchema(ctx, conn)
	}
	// deliveries_open in due order: the leases still running keep their
	// place at its front, so the first delivery not in flight is the next
	// one due, and a lease taken later than it expires later than it is
	// due. The walk stops there.
	rows, err := s.query(ctx, nil, `SELECT state = 'in_flight', CASE state WHEN 'in_flight' THEN COALESCE(lease_expires_at, next_attempt_at) ELSE next_attempt_at END
		FROM deliveries WHERE connection = ? AND settled_at IS NULL ORDER BY next_attempt_at, id`, conn)
	if err != nil {
		return time.Time{}, false, s.wrap("next due", err)
	}
	defer rows.Close()
	var next int64
	for rows.Next() {
		var inFlight bool
		var at int64 // when it is due, or its lease expires
		if err := rows.Scan(&inFlight, &at); err != nil {
			return time.Time{}, false, s.wrap("next due", err)
		}
		if !ok || at < next {
			next, ok = at, true
		}
		if !inFlight {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, s.wrap("next due", err)
	}
	if !ok {
		return time.Time{}, false, nil
	}
	return fromMs(next), true, nil
}

// nextDueAnySchema is NextDue for a file of an older schema, open
// read-only on a full disk.
func (s *Store) nextDueAnySchema(ctx context.Context, conn string) (time.Time, bool, error) {
	var at sql.NullInt64
	err := s.queryRow(ctx, nil, `SELECT MIN(CASE state WHEN 'in_flight' THEN lease_expires_at ELSE next_attempt_at END)
		FROM deliveries WHERE connection = ? AND state IN ('pending', 'retry', 'in_flight')`, conn).Scan(&at)
	if err != nil {
		return time.Time{}, false, s.wrap("next due", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return fromMs(at.Int64), true, nil
}

// Left counts the deliveries with work left, by connection.
func (s *Store) Left(ctx context.Context) (map[string]int, error) {
	m, err := s.left(ctx)
	if err != nil {
		return nil, s.wrap("count", err)
	}
	return m, nil
}
