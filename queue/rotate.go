package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RotateResult reports what a rotation did.
type RotateResult struct {
	DEK         int64    // the data key now in use
	Resumed     bool     // an interrupted rotation was finished instead of starting a new one
	Reencrypted int      // blobs re-sealed under DEK
	Skipped     []string // blobs that failed authentication and were left as they are
}

// rotateBatch is how many blobs are re-sealed per transaction: small enough
// that the tray app's enqueue never waits long behind a rotation.
const rotateBatch = 200

// afterRotateBatch lets tests interrupt a rotation between batches.
var afterRotateBatch func() error

// RotateDEK makes a new data key and re-seals every blob with it, in
// batches, then deletes the old keys. If an earlier rotation was
// interrupted it is finished first, without making yet another key.
func (s *Store) RotateDEK(ctx context.Context) (RotateResult, error) {
	var res RotateResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		// A marker, not the number of keys, tells an interrupted rotation:
		// keys kept for skipped (tampered) blobs must not stop the next one.
		var rotating int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM meta WHERE key = 'rotating'").Scan(&rotating); err != nil {
			return err
		}
		if rotating > 0 {
			res.Resumed = true
			return nil
		}
		id, err := s.keys.addDEK(ctx, tx, s.now())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('rotating', ?)", fmt.Sprint(id))
		return err
	})
	if err != nil {
		return res, s.wrap("rotate keys in", err)
	}
	s.keys.mu.RLock()
	res.DEK = s.keys.active
	s.keys.mu.RUnlock()

	for _, t := range sealedColumns {
		if err := s.reseal(ctx, t.table, t.key, t.blob, t.dek, t.byRowid, res.DEK, &res); err != nil {
			return res, s.wrap("rotate keys in", err)
		}
	}
	// Keys still sealing a skipped (tampered) blob stay, so nothing readable
	// is lost; the rest are deleted (and zeroed by secure_delete).
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// tickets and events are read once each (NOT IN builds its set in
		// one pass); the rest is one step down a dek index (migration 0005).
		_, err := tx.ExecContext(ctx, `DELETE FROM deks WHERE id < ?
			AND id NOT IN (SELECT dek_id FROM tickets)
			AND id NOT IN (SELECT dek_id FROM events WHERE dek_id IS NOT NULL)
			AND NOT EXISTS (SELECT 1 FROM deliveries WHERE error_dek_id = deks.id)
			AND NOT EXISTS (SELECT 1 FROM connection_health WHERE error_dek_id = deks.id)
			AND NOT EXISTS (SELECT 1 FROM settings WHERE dek_id = deks.id)
			AND NOT EXISTS (SELECT 1 FROM remote_state WHERE dek_id = deks.id)`, res.DEK)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM meta WHERE key = 'rotating'")
		return err
	})
	if err != nil {
		return res, s.wrap("rotate keys in", err)
	}
	return res, s.refreshKeys(ctx, s.keys)
}

// sealedColumns lists every encrypted column: its table, the column whose
// text value is the row key in the AAD, the blob and its DEK id, and
// whether a rotation walks the table by rowid (file order: each page read
// once, in order) or, for the two small tables keyed by name, by that key.
var sealedColumns = []struct {
	table, key, blob, dek string
	byRowid               bool
}{
	{"tickets", "id", "payload", "dek_id", true},
	{"deliveries", "id", "last_error", "error_dek_id", true},
	{"events", "id", "detail", "dek_id", true},
	{"connection_health", "connection", "last_error", "error_dek_id", false},
	{"settings", "name", "value", "dek_id", false},
	{"remote_state", "delivery_id", "detail", "dek_id", true},
}

// reseal re-encrypts, batch by batch, every blob of table sealed by a key
// older than active. Row keys must match those used when sealing. Each
// batch continues from where the one before ended, along the rowid (NOT
// INDEXED: never a dek index and a sort), so a rotation reads each row
// once and each page in file order: linear in the rows, whatever their
// number.
func (s *Store) reseal(ctx context.Context, table, key, blobCol, dekCol string, byRowid bool, active int64, res *RotateResult) error {
	var after any = "" // cursor, so skipped rows are not read again
	cursor, walk := key, ""
	if byRowid {
		after, cursor, walk = int64(0), "rowid", "NOT INDEXED"
	}
	// The key is read as text: it is the AAD's row key (deliveries and
	// events are keyed by their integer id, which is their rowid).
	q := fmt.Sprintf("SELECT %s, CAST(%s AS TEXT), %s, %s FROM %s %s WHERE %s > ? AND %s IS NOT NULL AND %s < ? ORDER BY %s LIMIT ?",
		cursor, key, dekCol, blobCol, table, walk, cursor, dekCol, dekCol, cursor)
	upd := fmt.Sprintf("UPDATE %s SET %s = ?, %s = ? WHERE %s = ?", table, blobCol, dekCol, cursor)
	for {
		type row struct {
			cur  any
			id   string
			dek  int64
			blob []byte
		}
		var batch []row
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			batch = batch[:0]
			rows, err := s.query(ctx, tx, q, after, active, rotateBatch)
			if err != nil {
				return err
			}
			for rows.Next() {
				var r row
				if byRowid {
					var n int64
					err = rows.Scan(&n, &r.id, &r.dek, &r.blob)
					r.cur = n
				} else {
					err = rows.Scan(&r.cur, &r.id, &r.dek, &r.blob)
				}
				if err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			s.keys.mu.RLock()
			aead := s.keys.deks[active]
			s.keys.mu.RUnlock()
			for _, r := range batch {
				plain, err := s.open(ctx, table, r.id, r.dek, r.blob)
				if errors.Is(err, ErrTampered) {
					res.Skipped = append(res.Skipped, table+" "+r.id)
					continue
				}
				if err != nil {
					return err
				}
				blob, err := seal(aead, plain, s.keys.rowAAD(table, r.id, active))
				if err != nil {
					return err
				}
				if _, err := s.exec(ctx, tx, upd, blob, active, r.cur); err != nil {
					return err
				}
				res.Reencrypted++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		after = batch[len(batch)-1].cur
		if afterRotateBatch != nil {
			if err := afterRotateBatch(); err != nil {
				return err
			}
		}
	}
}

// RewrapKEK wraps every data key under a new key-encryption key from src,
// which may be of another kind (keyring to passphrase or back). Payloads
// are not touched, so this is fast. Other processes must reopen the queue.
func (s *Store) RewrapKEK(ctx context.Context, src KEKSource) error {
	var next *keyset
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		kek, params, err := src.New(ctx, s.keys.dbID)
		if err != nil {
			return err
		}
		next, err = newKeyset(s.keys.dbID, kek)
		if err != nil {
			return err
		}
		s.keys.mu.RLock()
		defer s.keys.mu.RUnlock()
		for id, dek := range s.keys.raw {
			wrapped, err := seal(next.kek, dek, next.dekAAD(id))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE deks SET wrapped = ? WHERE id = ?", wrapped, id); err != nil {
				return err
			}
		}
		for k, v := range map[string]string{"kek_kind": src.Kind(), "kek_params": params} {
			if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = ?", v, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("re-wrap keys in", err)
	}
	s.keys.mu.Lock()
	s.keys.kek = next.kek
	s.keys.mu.Unlock()
	return nil
}
