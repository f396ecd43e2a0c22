package queue

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Lease is a delivery handed to one worker until Expires. If the worker
// dies, the delivery becomes due again when the lease expires.
type Lease struct {
	Delivery
	Token   string
	Expires time.Time
	// Payload is the decrypted ticket.
	Payload []byte
	// Uncertain is set when an earlier attempt may have reached the vendor
	// (it timed out, or its process died in flight): a create must first
	// look the ticket up by its idempotency key.
	Uncertain bool
}

// LeaseOptions bound one Lease call.
type LeaseOptions struct {
	Limit      int           // at most this many deliveries (default 1)
	TTL        time.Duration // lease length (default 2 minutes)
	Connection string        // only this connection, when set
	// OnDead is called for each claimed delivery that Lease itself marks
	// dead instead of handing out (its payload fails authentication), with
	// the reason recorded for it.
	OnDead func(d Delivery, reason string)
}

// Lease claims due deliveries: pending or retry ones whose time has come,
// and in-flight ones whose lease has expired. Each claim spends an attempt.
//
// Its cost does not grow with the backlog: for a connection it walks
// deliveries_open in due order and stops at Limit, and reads each claimed
// delivery and its ticket by primary key, all in one transaction (one
// commit, which writes the delivery's page and nothing else).
func (s *Store) Lease(ctx context.Context, o LeaseOptions) ([]Lease, error) {
	if o.Limit <= 0 {
		o.Limit = 1
	}
	if o.TTL <= 0 {
		o.TTL = 2 * time.Minute
	}
	raw, err := randomBytes(12)
	if err != nil {
		return nil, err
	}
	token := leaseToken(hex.EncodeToString(raw))
	now := s.now()
	expires := now.Add(o.TTL)
	var leases []claimed
	err = s.repairing(ctx, func() error {
		leases = nil
		return s.inTx(ctx, func(tx *sql.Tx) error { return s.claim(ctx, tx, o, token, now, expires, &leases) })
	})
	if err != nil {
		return nil, s.wrap("lease in", err)
	}
	out := make([]Lease, 0, len(leases))
	for _, l := range leases {
		if l.Err != nil {
			// A payload that fails authentication can never be delivered.
			reason := l.Err.Error()
			if err := s.Complete(ctx, l.Lease, Outcome{State: StateDead, Error: reason}); err != nil {
				return nil, err
			}
			if o.OnDead != nil {
				l.State = StateDead
				o.OnDead(l.Delivery, reason)
			}
			continue
		}
		out = append(out, l.Lease)
	}
	return out, nil
}

// due is a delivery Lease may claim, with its ticket's sealed payload.
type due struct {
	id, next  int64
	uncertain bool // an earlier attempt may have reached the vendor
	// takeover: the delivery is in flight under an expired or orphaned
	// lease, whose attempt (attempts, started at leasedAt) never ended.
	takeover bool
	leasedAt sql.NullInt64
	attempts int
	// The ticket's sealed payload (not found: its ticket is gone).
	ticket     string
	payloadDek sql.NullInt64
	payload    []byte
}

// dueQuery reads the due work in one statement, with each delivery's
// ticket: it walks deliveries_open in due order and stops at the limit.
// Deliveries in flight keep their place in that index (a lease does not
// move them: one page less), so the walk steps over the leases still
// running, never more than the leases held at once; an expired lease is
// due again where it stands. where is the connection condition ("" for
// every connection).
func dueQuery(where string) string {
	return `SELECT d.id, d.next_attempt_at, d.ever_sent, d.state = 'in_flight', d.leased_at, d.attempts, d.ticket_id, t.dek_id, t.payload
		FROM deliveries d LEFT JOIN tickets t ON t.id = d.ticket_id
		WHERE ` + where + `d.settled_at IS NULL AND d.next_attempt_at <= ?
			AND (d.state != 'in_flight' OR d.lease_expires_at <= ?)
		ORDER BY d.next_attempt_at, d.id LIMIT ?`
}

var (
	dueForConnection = dueQuery("d.connection = ? AND ")
	dueForAll        = dueQuery("") // tests and tools: not the dispatcher's hot path
)

// dueWork returns at most o.Limit due deliveries, in due order.
func (s *Store) dueWork(ctx context.Context, tx *sql.Tx, o LeaseOptions, now time.Time) ([]due, error) {
	q, args := dueForConnection, []any{o.Connection, ms(now), ms(now), o.Limit}
	if o.Connection == "" {
		q, args = dueForAll, []any{ms(now), ms(now), o.Limit}
	}
	rows, err := s.query(ctx, tx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []due
	for rows.Next() {
		var d due
		var ticket sql.NullString
		if err := rows.Scan(&d.id, &d.next, &d.uncertain, &d.takeover, &d.leasedAt, &d.attempts, &ticket, &d.payloadDek, &d.payload); err != nil {
			return nil, err
		}
		d.ticket = ticket.String
		d.uncertain = d.uncertain || d.takeover // the lost attempt may have reached the vendor
		if !d.takeover {
			d.leasedAt, d.attempts = sql.NullInt64{}, 0
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// claimed is a lease made inside the transaction; Err is set when its
// payload fails authentication, for Lease to mark it dead afterwards.
type claimed struct {
	Lease
	Err error
}

// claim marks the due deliveries in flight under token, inside tx, and
// reads each with its ticket.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, o LeaseOptions, token string, now, expires time.Time, out *[]claimed) error {
	work, err := s.dueWork(ctx, tx, o, now)
	if err != nil {
		return err
	}
	if len(work) == 0 {
		// Nothing due: the only work there can be is a lease held by a
		// process that died (a crashed tray app's, found before expiry).
		n, err := s.reclaimOrphans(ctx, tx, o.Connection)
		if err != nil || n == 0 {
			return err
		}
		if work, err = s.dueWork(ctx, tx, o, now); err != nil {
			return err
		}
	}
	for _, w := range work {
		if w.takeover && w.leasedAt.Valid {
			// The attempt under the lost lease never ended: its start
			// stays in the history (the courier waits for such an
			// attempt to settle before it looks the ticket up).
			if err := s.addEvent(ctx, tx, w.id, fromMs(w.leasedAt.Int64), StateInFlight, w.attempts, ""); err != nil {
				return err
			}
		}
		// The attempt's start is leased_at on the row, not an event row:
		// one page less in this commit (Events shows it all the same).
		d, blob, dek, err := scanDelivery(s.queryRow(ctx, tx, `UPDATE deliveries SET state = 'in_flight', attempts = attempts + 1,
				lease_token = ?, lease_expires_at = ?, leased_at = ?, updated_at = ? WHERE id = ? RETURNING `+deliveryCols, token, ms(expires), ms(now), ms(now), w.id))
		if err != nil {
			return err
		}
		if err := s.openError(ctx, &d, blob, dek); err != nil {
			return err
		}
		l := claimed{Lease: Lease{Delivery: d, Token: token, Expires: expires, Uncertain: w.uncertain}}
		if w.payloadDek.Valid { // read with the due work, in this transaction
			p, err := s.open(ctx, "tickets", d.TicketID, w.payloadDek.Int64, w.payload)
			if errors.Is(err, ErrTampered) {
				l.Err = fmt.Errorf("ticket %s: %w", d.TicketID, err)
			} else if err != nil {
				return err
			}
			l.Payload = p
		}
		*out = append(*out, l)
	}
	return nil
}

// Offline is an Outcome state: the connection is unreachable, so the
// delivery goes back to pending without spending an attempt.
const Offline = "offline"

// Outcome is what became of a leased delivery.
type Outcome struct {
	State string // StateDelivered, StateRetry, StateDead or Offline
	// Remote identifiers of the created or found ticket (delivered only).
	RemoteID, RemoteNumber, RemoteURL string
	// Error is the failure, kept sealed: vendor messages may echo personal data.
	Error string
	// NextAttemptAt is when a retry or offline delivery becomes due.
	NextAttemptAt time.Time
}

// Complete records the outcome of a lease. It fails with ErrLeaseLost if
// the lease expired and another worker took the delivery over.
func (s *Store) Complete(ctx context.Context, l Lease, o Outcome) error {
	now := s.now()
	// A damaged index on the columns updated here fails the update
	// (SQLITE_CORRUPT_INDEX): rebuild it and record the outcome anyway.
	err := s.repairing(ctx, func() error { return s.completeTx(ctx, l, o, now) })
	if errors.Is(err, ErrLeaseLost) {
		return fmt.Errorf("queue: complete delivery %d: %w", l.ID, err)
	}
	return s.wrapIf("complete delivery in", err)
}

// completeDelivered records a delivered outcome. The row tells it all
// (leased_at, delivered_at, the remote number): no event row, one page
// less in the commit.
const completeDelivered = `UPDATE deliveries SET state = 'delivered', remote_id = ?, remote_number = ?, remote_url = ?,
	delivered_at = ?, settled_at = ?, last_error = NULL, error_dek_id = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ?
	WHERE id = ? AND state = 'in_flight' AND lease_token = ?`

func (s *Store) completeTx(ctx context.Context, l Lease, o Outcome, now time.Time) error {
	if o.State == StateDelivered {
		// Sealing nothing and writing no event, it is one statement,
		// which commits on its own.
		return s.inStatement(ctx, false, func(ctx context.Context) error {
			res, err := s.exec(ctx, nil, completeDelivered, o.RemoteID, o.RemoteNumber, o.RemoteURL, ms(now), ms(now), ms(now), l.ID, l.Token)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return ErrLeaseLost
			}
			return nil
		})
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var errDek any
		var errBlob []byte
		if o.Error != "" {
			// Only an error is sealed here.
			if err := s.ensureActive(ctx, tx); err != nil {
				return err
			}
			dek, blob, err := s.keys.seal("deliveries", strconv.FormatInt(l.ID, 10), []byte(o.Error))
			if err != nil {
				return err
			}
			errDek, errBlob = dek, blob
		}
		var q string
		args := []any{}
		switch o.State {
		case StateRetry, Offline:
			if o.NextAttemptAt.IsZero() {
				o.NextAttemptAt = now
			}
			q = `UPDATE deliveries SET state = ?, next_attempt_at = ?, last_error = ?, error_dek_id = ?`
			st := StateRetry
			if o.State == Offline {
				st = StatePending
				q += ", attempts = attempts - 1" // never reached the vendor: nothing spent
				if l.Uncertain {
					// An earlier attempt may have (its process died in
					// flight): the next one must still look first.
					q += ", ever_sent = 1"
				}
			} else {
				q += ", ever_sent = 1"
			}
			args = append(args, st, ms(o.NextAttemptAt), errBlob, errDek)
		case StateDead:
			q = `UPDATE deliveries SET state = 'dead', settled_at = ?, last_error = ?, error_dek_id = ?, ever_sent = 1`
			args = append(args, ms(now), errBlob, errDek)
		default:
			return fmt.Errorf("unknown outcome %q", o.State)
		}
		q += ", lease_token = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND state = 'in_flight' AND lease_token = ? RETURNING leased_at"
		args = append(args, ms(now), l.ID, l.Token)
		var started sql.NullInt64
		err := s.queryRow(ctx, tx, q, args...).Scan(&started)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLeaseLost
		}
		if err != nil {
			return err
		}
		return s.addOutcomeEvent(ctx, tx, l.ID, now, started, o.State, l.Attempts, o.Error)
	})
}

func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, deliveryID int64, at time.Time, state string, attempt int, detail string) error {
	return s.addOutcomeEvent(ctx, tx, deliveryID, at, sql.NullInt64{}, state, attempt, detail)
}

// addOutcomeEvent appends an event; started is the start of the attempt
// it ends (Events shows it as that attempt's in_flight step).
func (s *Store) addOutcomeEvent(ctx context.Context, tx *sql.Tx, deliveryID int64, at time.Time, started sql.NullInt64, state string, attempt int, detail string) error {
	if detail == "" {
		// No sealed detail, so no id needed up front: SQLite gives MAX+1.
		_, err := s.exec(ctx, tx, "INSERT INTO events (delivery_id, at, state, attempt, started_at) VALUES (?, ?, ?, ?, ?)", deliveryID, ms(at), state, attempt, started)
		return err
	}
	var id int64
	if err := s.queryRow(ctx, tx, "SELECT COALESCE(MAX(id), 0) + 1 FROM events").Scan(&id); err != nil {
		return err
	}
	d, blob, err := s.keys.seal("events", strconv.FormatInt(id, 10), []byte(detail))
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, tx, "INSERT INTO events (id, delivery_id, at, state, attempt, detail, dek_id, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		id, deliveryID, ms(at), state, attempt, blob, d, started)
	return err
}

// Retry makes a ticket's failed deliveries (dead or waiting to retry) due
// now, with a fresh attempt budget. It returns how many it rescheduled.
func (s *Store) Retry(ctx context.Context, ticketID string) (int, error) {
	it, err := s.Get(ctx, ticketID)
	if err != nil {
		return 0, err
	}
	return s.retryWhere(ctx, "ticket_id = ? AND state IN ('dead', 'retry')", it.ID)
}

// RetryAllDead makes every dead delivery due now.
func (s *Store) RetryAllDead(ctx context.Context) (int, error) {
	return s.retryWhere(ctx, "state = 'dead'")
}

func (s *Store) retryWhere(ctx context.Context, where string, args ...any) (int, error) {
	now := s.now()
	var n int
	err := s.repairing(ctx, func() error { return s.retryTx(ctx, now, &n, where, args...) })
	return n, s.wrapIf("retry in", err)
}

func (s *Store) retryTx(ctx context.Context, now time.Time, n *int, where string, args ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, attempts FROM deliveries WHERE "+where, args...)
		if err != nil {
			return err
		}
		type d struct{ id, attempts int64 }
		var ds []d
		for rows.Next() {
			var x d
			if err := rows.Scan(&x.id, &x.attempts); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, x)
		}
		rows.Close()
		for _, x := range ds {
			if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET state = 'pending', settled_at = NULL, attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?", ms(now), ms(now), x.id); err != nil {
				return err
			}
			if err := s.addEvent(ctx, tx, x.id, now, "retry_requested", int(x.attempts), ""); err != nil {
				return err
			}
		}
		*n = len(ds)
		return rows.Err()
	})
}

// Purge deletes tickets whose every delivery, and every delivery of their
// additions, was delivered before the cutoff. Tickets with work left,
// dead deliveries or no delivery at all, or with such an addition, are
// never purged.
func (s *Store) Purge(ctx context.Context, deliveredBefore time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// A ticket goes with its additions (ON DELETE CASCADE), so they
		// must qualify too: one with an addition that is not delivered
		// everywhere before the cutoff (or is not routed at all) stays.
		res, err := tx.ExecContext(ctx, `DELETE FROM tickets WHERE id IN (
			SELECT ticket_id FROM deliveries GROUP BY ticket_id
			HAVING SUM(state != 'delivered') = 0 AND MAX(delivered_at) < ?1)
			AND NOT EXISTS (SELECT 1 FROM tickets AS a WHERE a.parent_id = tickets.id AND (
				NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = a.id)
				OR EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = a.id AND (state != 'delivered' OR delivered_at >= ?1))))`, ms(deliveredBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), s.wrapIf("purge", err)
}
