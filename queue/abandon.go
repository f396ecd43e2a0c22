package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// AbandonResult is what Abandon did to a connection's deliveries.
type AbandonResult struct {
	// Dead is how many deliveries with work left it marked dead.
	Dead int
	// InFlight is how many it left alone because a live worker holds
	// their lease: the vendor may be creating the ticket right now, so
	// the attempt's own outcome is recorded, not a guess.
	InFlight int
}

// Abandon marks every delivery of connection conn that has work left
// (pending, retrying, or in flight under an expired lease) dead, with
// reason as its error and in its history, so that nothing is dropped
// silently when a connection is removed for good: the help desk sees them
// among the dead deliveries, and `queue retry` can revive them. The reason
// is sealed like every delivery error.
func (s *Store) Abandon(ctx context.Context, conn, reason string) (AbandonResult, error) {
	if conn == "" {
		return AbandonResult{}, errors.New("queue: abandon: no connection named")
	}
	if reason == "" {
		return AbandonResult{}, errors.New("queue: abandon: a reason is required")
	}
	var res AbandonResult
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = AbandonResult{}
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, attempts, state = 'in_flight', leased_at FROM deliveries WHERE connection = ? AND settled_at IS NULL AND (state IN ('pending', 'retry')
			OR state = 'in_flight' AND (lease_expires_at IS NULL OR lease_expires_at <= ?))`, conn, ms(now))
		if err != nil {
			return err
		}
		type d struct {
			id, attempts int64
			inFlight     bool
			leased       sql.NullInt64
		}
		var ds []d
		for rows.Next() {
			var x d
			if err := rows.Scan(&x.id, &x.attempts, &x.inFlight, &x.leased); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range ds {
			if x.inFlight && x.leased.Valid {
				// Its attempt never ended (the lease expired): keep its
				// start in the history, as a lease taking it over would.
				if err := s.addEvent(ctx, tx, x.id, fromMs(x.leased.Int64), StateInFlight, int(x.attempts), ""); err != nil {
					return err
				}
			}
			dek, blob, err := s.keys.seal("deliveries", strconv.FormatInt(x.id, 10), []byte(reason))
			if err != nil {
				return err
			}
			// An attempt under an expired lease may have reached the
			// vendor: a retry must look the ticket up first.
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'dead', settled_at = ?, last_error = ?, error_dek_id = ?, ever_sent = ever_sent OR state = 'in_flight',
				lease_token = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?`, ms(now), blob, dek, ms(now), x.id); err != nil {
				return err
			}
			if err := s.addEvent(ctx, tx, x.id, now, StateDead, int(x.attempts), reason); err != nil {
				return err
			}
		}
		res.Dead = len(ds)
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE connection = ? AND state = 'in_flight'`, conn).Scan(&live); err != nil {
			return err
		}
		res.InFlight = live
		return nil
	})
	if err != nil {
		return AbandonResult{}, fmt.Errorf("queue: abandon the deliveries of %q: %w", conn, err)
	}
	return res, nil
}
