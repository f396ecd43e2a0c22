package queue

import (
	"context"
	"database/sql"
)

// changeWatch notices commits made through other connections (another
// process, or another Store on the same file) with PRAGMA data_version on
// a connection of its own: one cheap query per check, no file scan.
type changeWatch struct {
	s    *Store
	conn *sql.Conn
	last int64
}

// changed reports whether anything was committed to the file since the
// previous call. The first call only takes a baseline. On an error the
// connection is dropped and the next call starts over.
func (w *changeWatch) changed(ctx context.Context) (bool, error) {
	if w.conn == nil {
		c, err := w.s.db.Conn(ctx)
		if err != nil {
			return false, err
		}
		if err := c.QueryRowContext(ctx, "PRAGMA data_version").Scan(&w.last); err != nil {
			c.Close()
			return false, err
		}
		w.conn = c
		return false, nil
	}
	var v int64
	if err := w.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		w.close()
		return false, err
	}
	if v == w.last {
		return false, nil
	}
	w.last = v
	return true, nil
}

func (w *changeWatch) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}
