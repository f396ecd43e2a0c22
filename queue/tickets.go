package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Actions a delivery performs on its connection.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionSync   = "sync"
)

// Delivery states.
const (
	StatePending   = "pending"
	StateInFlight  = "in_flight"
	StateDelivered = "delivered"
	StateRetry     = "retry"
	StateDead      = "dead"
)

// Unrouted is Counts' key for tickets with no delivery yet: queued while
// no connection was configured, they wait for one (see AssignOrphans).
const Unrouted = "unrouted"

// Target is one delivery to schedule: an action on a named connection.
type Target struct {
	Connection string
	Action     string
}

// Item is a stored ticket with its deliveries. Payload is decrypted; when
// it fails authentication Err is ErrTampered and Payload is nil, and the
// rest of the queue stays readable.
type Item struct {
	ID         string
	CreatedAt  time.Time
	Payload    []byte
	Err        error
	Deliveries []Delivery
}

// Delivery is one ticket × connection × action and where it stands.
type Delivery struct {
	ID            int64
	TicketID      string
	Connection    string
	Action        string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LeaseExpires  time.Time
	RemoteID      string
	RemoteNumber  string
	RemoteURL     string
	LastError     string
	UpdatedAt     time.Time
	DeliveredAt   time.Time
}

// Event is one entry of a delivery's history.
type Event struct {
	DeliveryID int64
	At         time.Time
	State      string
	Attempt    int
	Detail     string
}

// Enqueue stores a sealed payload and one pending delivery per target, and
// returns the new ticket's id once the transaction is durable on disk.
func (s *Store) Enqueue(ctx context.Context, createdAt time.Time, payload []byte, targets []Target) (string, error) {
	ids, err := s.enqueue(ctx, []NewTicket{{CreatedAt: createdAt, Payload: payload, Targets: targets}})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// NewTicket is one ticket for EnqueueBatch.
type NewTicket struct {
	CreatedAt time.Time
	Payload   []byte
	Targets   []Target
	// Parent, when set, makes this an addition to that ticket (see
	// EnqueueUpdate): listed under it, not on its own.
	Parent string
}

// EnqueueBatch stores many tickets, each as Enqueue would, in one
// transaction: all of them are durable when it returns, or none is. It is
// for imports (tickets salvaged or moved from another queue) and for
// filling a queue in tests and benchmarks: one fsync for the lot instead
// of one per ticket. It returns the new ids in the order of ts.
func (s *Store) EnqueueBatch(ctx context.Context, ts []NewTicket) ([]string, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	return s.enqueue(ctx, ts)
}

func (s *Store) enqueue(ctx context.Context, ts []NewTicket) ([]string, error) {
	ids := make([]string, len(ts))
	for i := range ts {
		// Random (v4), not time-ordered: staff type short prefixes of these,
		// and v7's prefix is the same for every ticket within a minute.
		u, err := uuid.NewRandom()
		if err != nil {
			return nil, fmt.Errorf("queue: enqueue: %w", err)
		}
		ids[i] = u.String()
	}
	now := ms(s.now())
	// A user's Submit (one ticket) goes ahead of the drain's writes.
	urgent := len(ts) == 1
	err := s.repairing(ctx, func() error {
		err := s.enqueueTx(ctx, urgent, ids, ts, now)
		for range 3 {
			if !errors.Is(err, errStaleDEK) {
				break
			}
			// Another process rotated the key: seal again with the new one.
			if err = s.refreshKeys(ctx, s.keys); err == nil {
				err = s.enqueueTx(ctx, urgent, ids, ts, now)
			}
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("enqueue in", err)
	}
	return ids, nil
}

// errStaleDEK: the row was sealed with a key that is no longer the newest
// (another process rotated it); nothing was written.
var errStaleDEK = errors.New("the data key was rotated meanwhile")

func (s *Store) enqueueTx(ctx context.Context, urgent bool, ids []string, ts []NewTicket, now int64) error {
	if len(ts) == 1 {
		// A user's Submit: one statement that commits on its own.
		return s.inStatement(ctx, urgent, func(ctx context.Context) error { return s.insertTicket(ctx, nil, ids[0], ts[0], now) })
	}
	return s.inTxAs(ctx, urgent, func(tx *sql.Tx) error {
		for i, t := range ts {
			if err := s.insertTicket(ctx, tx, ids[i], t, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertTicket seals t and stores it with its deliveries, through the
// enqueue_ticket view (migration 0009): one statement.
func (s *Store) insertTicket(ctx context.Context, tx *sql.Tx, id string, t NewTicket, now int64) error {
	targets := make([][2]string, len(t.Targets))
	for i, target := range t.Targets {
		if err := checkTarget(target); err != nil {
			return err
		}
		targets[i] = [2]string{target.Connection, target.Action}
	}
	list, err := json.Marshal(targets)
	if err != nil {
		return err
	}
	dek, blob, err := s.keys.seal("tickets", id, t.Payload)
	if err != nil {
		return err
	}
	var parent any
	if t.Parent != "" {
		parent = t.Parent
	}
	// The view's trigger checks that the key it was sealed with is the
	// newest, so a rotation by another process is never undercut (what
	// ensureActive does, without a statement of its own).
	_, err = s.exec(ctx, tx, `INSERT INTO enqueue_ticket (id, created_at, dek_id, payload, parent_id, targets, now) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, ms(t.CreatedAt), dek, blob, parent, string(list), now)
	if isStaleDEK(err) {
		return errStaleDEK
	}
	return err
}

// isStaleDEK reports whether err is enqueue_ticket's refusal of a ticket
// sealed with a key that is no longer the newest.
func isStaleDEK(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_TRIGGER && strings.Contains(se.Error(), "queue: stale data key")
}

func checkTarget(t Target) error {
	if t.Connection == "" {
		return fmt.Errorf("delivery target has no connection name")
	}
	switch t.Action {
	case ActionCreate, ActionUpdate, ActionSync:
		return nil
	}
	return fmt.Errorf("delivery action %q is not create, update or sync", t.Action)
}

// Filter selects tickets by the state of their deliveries. State "pending"
// matches every ticket with work left (pending, in flight or retrying).
type Filter struct {
	State string
}

// List returns tickets oldest first, with their deliveries.
func (s *Store) List(ctx context.Context, f Filter) ([]Item, error) {
	q := "SELECT id, created_at, dek_id, payload FROM tickets WHERE parent_id IS NULL"
	var args []any
	switch f.State {
	case "":
	case StatePending:
		q += " AND id IN (SELECT ticket_id FROM deliveries WHERE state IN ('pending', 'in_flight', 'retry'))"
	case StateDelivered, StateDead, StateRetry, StateInFlight:
		q += " AND id IN (SELECT ticket_id FROM deliveries WHERE state = ?)"
		args = append(args, f.State)
	default:
		return nil, fmt.Errorf("queue: unknown state %q (pending, in_flight, retry, delivered, dead)", f.State)
	}
	q += " ORDER BY created_at, rowid"
	items, err := s.items(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("list", err)
	}
	return items, nil
}

// EnqueueUpdate stores what a reporter adds to ticket parent (its full
// id), sealed like a ticket, with one pending update delivery per target,
// and returns the addition's id once it is durable.
func (s *Store) EnqueueUpdate(ctx context.Context, parent string, createdAt time.Time, payload []byte, targets []Target) (string, error) {
	for _, t := range targets {
		if t.Action != ActionUpdate {
			return "", fmt.Errorf("queue: enqueue update: target %s is a %q, not an update", t.Connection, t.Action)
		}
	}
	ids, err := s.enqueue(ctx, []NewTicket{{CreatedAt: createdAt, Payload: payload, Targets: targets, Parent: parent}})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// Additions lists what was added to ticket parent (its full id), oldest
// first, with their deliveries.
func (s *Store) Additions(ctx context.Context, parent string) ([]Item, error) {
	items, err := s.items(ctx, "SELECT id, created_at, dek_id, payload FROM tickets WHERE parent_id = ? ORDER BY created_at, rowid", parent)
	if err != nil {
		return nil, s.wrap("list additions in", err)
	}
	return items, nil
}

// Get returns one ticket by id (a unique prefix of at least 8 characters
// is enough).
func (s *Store) Get(ctx context.Context, id string) (Item, error) {
	if len(id) < 8 {
		return Item{}, fmt.Errorf("queue: ticket %q: %w (give at least 8 characters of the id)", id, ErrNotFound)
	}
	items, err := s.items(ctx, "SELECT id, created_at, dek_id, payload FROM tickets WHERE id >= ? AND id < ? ORDER BY id LIMIT 2", id, id+"\uffff")
	if err != nil {
		return Item{}, s.wrap("get", err)
	}
	switch len(items) {
	case 0:
		return Item{}, fmt.Errorf("queue: ticket %q: %w", id, ErrNotFound)
	case 1:
		return items[0], nil
	}
	return Item{}, fmt.Errorf("queue: ticket id prefix %q is ambiguous", id)
}

func (s *Store) items(ctx context.Context, q string, args ...any) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	type sealed struct {
		dek  int64
		blob []byte
	}
	var items []Item
	var blobs []sealed
	for rows.Next() {
		var it Item
		var created int64
		var sl sealed
		if err := rows.Scan(&it.ID, &created, &sl.dek, &sl.blob); err != nil {
			rows.Close()
			return nil, err
		}
		it.CreatedAt = fromMs(created)
		items = append(items, it)
		blobs = append(blobs, sl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range items {
		p, err := s.open(ctx, "tickets", items[i].ID, blobs[i].dek, blobs[i].blob)
		if errors.Is(err, ErrTampered) {
			items[i].Err = fmt.Errorf("ticket %s: %w", items[i].ID, err)
		} else if err != nil {
			return nil, err
		}
		items[i].Payload = p
		if items[i].Deliveries, err = s.deliveries(ctx, "WHERE ticket_id = ? ORDER BY id", items[i].ID); err != nil {
			return nil, err
		}
	}
	return items, nil
}

const deliveryCols = `id, ticket_id, connection, action, state, attempts, next_attempt_at, COALESCE(lease_expires_at, 0),
	COALESCE(remote_id, ''), COALESCE(remote_number, ''), COALESCE(remote_url, ''), last_error, COALESCE(error_dek_id, 0), updated_at, COALESCE(delivered_at, 0)`

func (s *Store) deliveries(ctx context.Context, where string, args ...any) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+deliveryCols+" FROM deliveries "+where, args...)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	var errBlobs [][]byte
	var errDeks []int64
	for rows.Next() {
		d, blob, dek, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
		errBlobs = append(errBlobs, blob)
		errDeks = append(errDeks, dek)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.openError(ctx, &out[i], errBlobs[i], errDeks[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanDelivery reads one row of deliveryCols; the sealed last error is
// returned as it is, for openError.
func scanDelivery(r interface{ Scan(...any) error }) (d Delivery, errBlob []byte, errDek int64, err error) {
	var next, lease, updated, delivered int64
	if err := r.Scan(&d.ID, &d.TicketID, &d.Connection, &d.Action, &d.State, &d.Attempts, &next, &lease,
		&d.RemoteID, &d.RemoteNumber, &d.RemoteURL, &errBlob, &errDek, &updated, &delivered); err != nil {
		return Delivery{}, nil, 0, err
	}
	d.NextAttemptAt, d.UpdatedAt = fromMs(next), fromMs(updated)
	if lease != 0 {
		d.LeaseExpires = fromMs(lease)
	}
	if delivered != 0 {
		d.DeliveredAt = fromMs(delivered)
	}
	return d, errBlob, errDek, nil
}

// openError decrypts a delivery's last error into d.LastError.
func (s *Store) openError(ctx context.Context, d *Delivery, blob []byte, dek int64) error {
	if blob == nil {
		return nil
	}
	msg, err := s.open(ctx, "deliveries", strconv.FormatInt(d.ID, 10), dek, blob)
	switch {
	case errors.Is(err, ErrTampered):
		d.LastError = "(error text failed authentication)"
	case err != nil:
		return err
	default:
		d.LastError = string(msg)
	}
	return nil
}

// Events returns a delivery's history, oldest first: each attempt's start
// (in_flight) and its end (delivered, retry, offline, dead), retries asked
// for and recoveries.
//
// The hot path writes no event row for what the delivery row tells: the
// start of an attempt is leased_at on the row until the attempt ends, then
// started_at on its outcome event; a delivered row is its own last event.
// An attempt whose process died in flight is an in_flight event written
// when a later lease takes it over. Histories written before this scheme
// (an event row for every step) read the same.
func (s *Store) Events(ctx context.Context, deliveryID int64) ([]Event, error) {
	// The row and its events from one snapshot: an attempt ending between
	// two reads would show as under way again.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap("events", err)
	}
	defer tx.Rollback()
	var row struct {
		state, number     string
		attempts          int
		leased, delivered sql.NullInt64
	}
	err = tx.QueryRowContext(ctx, "SELECT state, attempts, leased_at, delivered_at, COALESCE(remote_number, '') FROM deliveries WHERE id = ?", deliveryID).
		Scan(&row.state, &row.attempts, &row.leased, &row.delivered, &row.number)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, s.wrap("events", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, at, state, attempt, detail, COALESCE(dek_id, 0), started_at FROM events WHERE delivery_id = ? ORDER BY id", deliveryID)
	if err != nil {
		return nil, s.wrap("events", err)
	}
	type raw struct {
		i, id, dek int64
		blob       []byte
	}
	var out []Event
	var raws []raw
	hasDelivered := false
	for rows.Next() {
		e := Event{DeliveryID: deliveryID}
		var r raw
		var at int64
		var started sql.NullInt64
		if err := rows.Scan(&r.id, &at, &e.State, &e.Attempt, &r.blob, &r.dek, &started); err != nil {
			rows.Close()
			return nil, s.wrap("events", err)
		}
		e.At = fromMs(at)
		if started.Valid {
			out = append(out, Event{DeliveryID: deliveryID, At: fromMs(started.Int64), State: StateInFlight, Attempt: e.Attempt})
		}
		hasDelivered = hasDelivered || e.State == StateDelivered
		r.i = int64(len(out))
		out = append(out, e)
		raws = append(raws, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("events", err)
	}
	for _, r := range raws {
		if r.blob == nil {
			continue
		}
		msg, err := s.open(ctx, "events", fmt.Sprint(r.id), r.dek, r.blob)
		if err != nil && !errors.Is(err, ErrTampered) {
			return nil, s.wrap("events", err)
		}
		out[r.i].Detail = string(msg)
		if err != nil {
			out[r.i].Detail = "(detail failed authentication)"
		}
	}
	// The attempt under way, or the one that delivered: from the row.
	switch {
	case row.state == StateInFlight && row.leased.Valid:
		out = append(out, Event{DeliveryID: deliveryID, At: fromMs(row.leased.Int64), State: StateInFlight, Attempt: row.attempts})
	case row.state == StateDelivered && !hasDelivered && row.delivered.Valid:
		if row.leased.Valid {
			out = append(out, Event{DeliveryID: deliveryID, At: fromMs(row.leased.Int64), State: StateInFlight, Attempt: row.attempts})
		}
		out = append(out, Event{DeliveryID: deliveryID, At: fromMs(row.delivered.Int64), State: StateDelivered, Attempt: row.attempts, Detail: row.number})
	}
	return out, nil
}

// Delete removes a ticket and its deliveries for good.
func (s *Store) Delete(ctx context.Context, id string) error {
	it, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM tickets WHERE id = ?", it.ID)
		return err
	})
	return s.wrapIf("delete", err)
}

func (s *Store) wrapIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return s.wrap(op, err)
}

// Counts returns the number of deliveries in each state, and under
// Unrouted the number of tickets that have none yet. Deliveries with work
// left count under StatePending, whether waiting, in flight or waiting to
// retry (see counts). Its cost does not grow with the history, only with
// the work left.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	var byConn map[string]map[string]int
	var unrouted int
	// It walks deliveries_open: damage there is rebuilt, not shown as an
	// unavailable queue.
	err := s.repairing(ctx, func() (err error) {
		byConn, unrouted, err = s.counts(ctx)
		return err
	})
	if err != nil {
		return nil, s.wrap("count", err)
	}
	m := map[string]int{Unrouted: unrouted}
	for _, states := range byConn {
		for st, n := range states {
			m[st] += n
		}
	}
	return m, nil
}

// counts returns deliveries by connection and state (only non-zero ones),
// and the tickets with no delivery. The work left (pending, in flight or
// waiting to retry) all counts as pending: it is counted from
// deliveries_open, which holds nothing else and whose entries a lease does
// not touch, so it cannot tell them apart; delivery_counts keeps what is
// settled and the unrouted tickets. One statement, so one snapshot. Its
// cost grows with the work left, not with the history (a covering walk of
// deliveries_open: 0.7 ms for 10,000 waiting, docs/BENCHMARKS.md); a
// count kept up to date instead cost every enqueue a page.
func (s *Store) counts(ctx context.Context) (map[string]map[string]int, int, error) {
	q := `SELECT connection, state, n FROM delivery_counts WHERE n != 0
		UNION ALL SELECT connection, 'pending', COUNT(*) FROM deliveries INDEXED BY deliveries_open WHERE settled_at IS NULL GROUP BY connection`
	if s.oldSchema {
		q = countsAnySchema
	}
	rows, err := s.query(ctx, nil, q)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	byConn := map[string]map[string]int{}
	unrouted := 0
	for rows.Next() {
		var c, st string
		var n int
		if err := rows.Scan(&c, &st, &n); err != nil {
			return nil, 0, err
		}
		if c == "" && st == Unrouted {
			unrouted = n
			continue
		}
		if byConn[c] == nil {
			byConn[c] = map[string]int{}
		}
		byConn[c][st] += n
	}
	return byConn, unrouted, rows.Err()
}

// countsAnySchema is counts' statement for a file of an older schema,
// open read-only on a full disk: a full pass, as nothing is queued meanwhile.
const countsAnySchema = `SELECT connection, CASE WHEN state IN ('delivered', 'dead') THEN state ELSE 'pending' END, COUNT(*)
		FROM deliveries GROUP BY 1, 2
	UNION ALL SELECT '', 'unrouted', COUNT(*) FROM tickets WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = tickets.id)`

// addUnrouted changes the count of tickets with no delivery by n. The code
// that makes or routes such a ticket keeps it, not a trigger (migration
// 0009): an enqueue with targets writes no count.
func (s *Store) addUnrouted(ctx context.Context, tx *sql.Tx, n int) error {
	if n == 0 {
		return nil
	}
	_, err := s.exec(ctx, tx, "UPDATE delivery_counts SET n = n + ? WHERE connection = '' AND state = 'unrouted'", n)
	return err
}

// left counts the deliveries with work left (pending, in flight or
// retrying), by connection; connections with none are left out.
func (s *Store) left(ctx context.Context) (map[string]int, error) {
	byConn, _, err := s.counts(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for c, states := range byConn {
		if n := states[StatePending]; n != 0 { // all the work left (counts)
			m[c] = n
		}
	}
	return m, nil
}

// AssignOrphans gives every ticket that has no delivery at all (it was
// queued while no connection was configured) one pending delivery per
// target. Tickets already routed somewhere are left as they are: adding a
// connection does not resend old tickets to it.
func (s *Store) AssignOrphans(ctx context.Context, targets []Target) (int, error) {
	if len(targets) == 0 {
		return 0, nil
	}
	for _, t := range targets {
		if err := checkTarget(t); err != nil {
			return 0, fmt.Errorf("queue: assign: %w", err)
		}
	}
	now := ms(s.now())
	var n int
	// A damaged deliveries index makes routed tickets look orphaned and the
	// insert then fails on the unique deliveries_ticket: rebuild and try again.
	err := s.repairing(ctx, func() error { return s.assignTx(ctx, targets, now, &n) })
	return n, s.wrapIf("assign deliveries in", err)
}

func (s *Store) assignTx(ctx context.Context, targets []Target, now int64, n *int) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id FROM tickets WHERE parent_id IS NULL AND id NOT IN (SELECT ticket_id FROM deliveries) ORDER BY created_at, rowid")
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			// Found through deliveries_ticket, which is also what keeps a
			// ticket to one delivery per connection: a damaged entry would
			// route it again (and send it twice). One pass over the table
			// itself confirms the orphans before any is routed.
			list, _ := json.Marshal(ids)
			var routed int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM deliveries NOT INDEXED WHERE ticket_id IN (SELECT value FROM json_each(?))", string(list)).Scan(&routed); err != nil {
				return err
			}
			if routed > 0 {
				return errIndexContradicted
			}
		}
		for _, id := range ids {
			for _, t := range targets {
				// A ticket salvaged without its deliveries may have been sent.
				if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (ticket_id, connection, action, state, next_attempt_at, created_at, updated_at, ever_sent)
					VALUES (?, ?, ?, 'pending', ?, ?, ?, EXISTS (SELECT 1 FROM tickets_uncertain WHERE ticket_id = ?))`, id, t.Connection, t.Action, now, now, now, id); err != nil {
					return err
				}
			}
		}
		if len(ids) > 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM tickets_uncertain WHERE ticket_id IN (SELECT ticket_id FROM deliveries)"); err != nil {
				return err
			}
			if err := s.addUnrouted(ctx, tx, -len(ids)); err != nil {
				return err
			}
		}
		*n = len(ids)
		return nil
	})
}
