package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Remote is a delivered create and what the help desk's side last said
// of it (see SetRemote).
type Remote struct {
	Delivery
	// Status is the local state last recorded ("" when nothing was yet).
	Status string
	// SyncedAt is when it was recorded.
	SyncedAt time.Time
	// Detail is what the app sealed with it (nil when nothing was yet).
	Detail []byte
}

// StatusClosed is the local state after which a ticket is not synced again.
const StatusClosed = "closed"

// SetRemote records what a sync or a webhook learned of a delivery: its
// local state in clear and the app's detail sealed. It reports whether
// either changed, and the state before.
func (s *Store) SetRemote(ctx context.Context, deliveryID int64, status string, detail []byte) (changed bool, before string, err error) {
	key := strconv.FormatInt(deliveryID, 10)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var dek int64
		var blob []byte
		switch err := tx.QueryRowContext(ctx, "SELECT status, dek_id, detail FROM remote_state WHERE delivery_id = ?", deliveryID).Scan(&before, &dek, &blob); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			old, err := s.open(ctx, "remote_state", key, dek, blob)
			if err == nil && before == status && string(old) == string(detail) {
				return nil
			}
		}
		changed = true
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		dek, blob, err := s.keys.seal("remote_state", key, detail)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO remote_state (delivery_id, status, synced_at, dek_id, detail) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (delivery_id) DO UPDATE SET status = excluded.status, synced_at = excluded.synced_at,
			dek_id = excluded.dek_id, detail = excluded.detail`, deliveryID, status, ms(s.now()), dek, blob)
		return err
	})
	return changed, before, s.wrapIf(fmt.Sprintf("record the remote state of delivery %d in", deliveryID), err)
}

// Remotes lists delivered creates, oldest first, with what was last
// recorded of them: of connection conn ("" for every one), and only those
// not closed when open is set (what a sync cycle covers).
func (s *Store) Remotes(ctx context.Context, conn string, open bool) ([]Remote, error) {
	q := `SELECT d.id, d.ticket_id, d.connection, d.remote_id, d.remote_number, d.remote_url, d.delivered_at,
		COALESCE(r.status, ''), COALESCE(r.synced_at, 0), r.dek_id, r.detail
		FROM deliveries d LEFT JOIN remote_state r ON r.delivery_id = d.id
		WHERE d.state = 'delivered' AND d.action = 'create'`
	var args []any
	if conn != "" {
		q += " AND d.connection = ?"
		args = append(args, conn)
	}
	if open {
		q += " AND COALESCE(r.status, '') != ?"
		args = append(args, StatusClosed)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY d.id", args...)
	if err != nil {
		return nil, s.wrap("list remote states in", err)
	}
	type sealed struct {
		dek  sql.NullInt64
		blob []byte
	}
	var out []Remote
	var blobs []sealed
	for rows.Next() {
		var r Remote
		var delivered, synced int64
		var b sealed
		if err := rows.Scan(&r.ID, &r.TicketID, &r.Connection, &r.RemoteID, &r.RemoteNumber, &r.RemoteURL, &delivered,
			&r.Status, &synced, &b.dek, &b.blob); err != nil {
			rows.Close()
			return nil, s.wrap("list remote states in", err)
		}
		r.Action, r.State, r.DeliveredAt = ActionCreate, StateDelivered, fromMs(delivered)
		if synced != 0 {
			r.SyncedAt = fromMs(synced)
		}
		out = append(out, r)
		blobs = append(blobs, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list remote states in", err)
	}
	for i, b := range blobs {
		if !b.dek.Valid {
			continue
		}
		d, err := s.open(ctx, "remote_state", strconv.FormatInt(out[i].ID, 10), b.dek.Int64, b.blob)
		if err != nil && !errors.Is(err, ErrTampered) {
			return nil, s.wrap("list remote states in", err)
		}
		out[i].Detail = d // nil when tampered: the next sync writes it anew
	}
	return out, nil
}
