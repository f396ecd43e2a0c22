package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A lease token is "<host>/<pid>/<random>": a process that finds a lease
// held by a dead process on its own host takes it over at once instead of
// waiting for it to expire, so a crashed tray app's deliveries resume as
// soon as it restarts. A reused pid only means waiting for the expiry.
func leaseToken(random string) string {
	return fmt.Sprintf("%s/%d/%s", hostname(), os.Getpid(), random)
}

// hostname is looked up once: os.Hostname reads a file on some systems.
var hostname = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})

// ownerGone reports whether token belongs to a process on this host that
// no longer exists.
func ownerGone(token string) bool {
	parts := strings.SplitN(token, "/", 3)
	if len(parts) != 3 {
		return false
	}
	if parts[0] != hostname() {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return processGone(pid)
}

func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true // Windows: no such process
	}
	err = p.Signal(syscall.Signal(0))
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH)
}

// afterOrphansRead is a test's hook between reclaimOrphans' read and its
// writes; nil otherwise.
var afterOrphansRead func()

// reclaimOrphans expires the unexpired leases of dead local processes (of
// conn, or of every connection for ""), inside tx, and returns how many.
// It runs at Open, over all the work left, and when a Lease finds nothing
// due, not on every lease. Then the due end of conn's deliveries_open
// holds only leases still running (leased deliveries keep their due
// time), so it reads those and never the backlog.
func (s *Store) reclaimOrphans(ctx context.Context, tx *sql.Tx, conn string) (int, error) {
	now := ms(s.now())
	q := "SELECT id, lease_token FROM deliveries WHERE settled_at IS NULL AND state = 'in_flight' AND lease_expires_at > ?"
	args := []any{now}
	if conn != "" {
		q = "SELECT id, lease_token FROM deliveries WHERE connection = ? AND settled_at IS NULL AND next_attempt_at <= ? AND state = 'in_flight' AND lease_expires_at > ?"
		args = []any{conn, now, now}
	}
	rows, err := s.query(ctx, tx, q, args...)
	if err != nil {
		return 0, err
	}
	type orphan struct {
		id    int64
		token string
	}
	var orphans []orphan
	for rows.Next() {
		var id int64
		var token sql.NullString
		if err := rows.Scan(&id, &token); err != nil {
			rows.Close()
			return 0, err
		}
		if token.Valid && ownerGone(token.String) {
			orphans = append(orphans, orphan{id, token.String})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if afterOrphansRead != nil {
		afterOrphansRead()
	}
	n := 0
	for _, o := range orphans {
		// Still that lease: at Open (no transaction) another process may
		// have taken it over since it was read.
		res, err := s.exec(ctx, tx, "UPDATE deliveries SET lease_expires_at = ? WHERE id = ? AND state = 'in_flight' AND lease_token = ?", ms(s.now()), o.id, o.token)
		if err != nil {
			return 0, err
		}
		if k, err := res.RowsAffected(); err == nil {
			n += int(k)
		}
	}
	return n, nil
}
