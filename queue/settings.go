package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PutSetting stores value under name, sealed with the active data key,
// replacing any earlier value. The name is kept in clear: it must not hold
// personal data.
func (s *Store) PutSetting(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("queue: put setting: the name is empty")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureActive(ctx, tx); err != nil {
			return err
		}
		dek, blob, err := s.keys.seal("settings", name, value)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value, dek_id, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, dek_id = excluded.dek_id, updated_at = excluded.updated_at`,
			name, blob, dek, ms(s.now()))
		return err
	})
	return s.wrapIf(fmt.Sprintf("put setting %q in", name), err)
}

// Setting returns the value stored under name. A name never stored is an
// error matching ErrNotFound; a value that fails authentication matches
// ErrTampered.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var dek int64
	var blob []byte
	err := s.db.QueryRowContext(ctx, "SELECT dek_id, value FROM settings WHERE name = ?", name).Scan(&dek, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("queue: setting %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("read setting %q in", name), err)
	}
	v, err := s.open(ctx, "settings", name, dek, blob)
	if err != nil {
		return nil, fmt.Errorf("queue: setting %q: %w", name, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}
