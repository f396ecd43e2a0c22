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

// Watch tells a caller that polls the queue (the tray's status and
// notifications, an open queue window) whether anything was committed to
// it since it last asked, by this process or another. Counts alone does
// not tell: an attempt that starts or fails changes no count (all the work
// left counts as pending).
type Watch struct{ w changeWatch }

// Watch returns a new Watch. It holds a connection of its own until
// Close.
func (s *Store) Watch() *Watch { return &Watch{w: changeWatch{s: s}} }

// Changed reports whether anything was committed since the previous call;
// the first call reports true. After an error the next call starts over
// (and reports true).
func (w *Watch) Changed(ctx context.Context) (bool, error) {
	first := w.w.conn == nil
	moved, err := w.w.changed(ctx)
	if err != nil {
		return true, err
	}
	return moved || first, nil
}

// Close releases the Watch's connection.
func (w *Watch) Close() { w.w.close() }
