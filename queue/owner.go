package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A lease token is "<host>/<pid>/<random>": a process that finds a lease
// held by a dead process on its own host takes it over at once instead of
// waiting for it to expire, so a crashed tray app's deliveries resume as
// soon as it restarts. A reused pid only means waiting for the expiry.
func leaseToken(random string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), random)
}

// ownerGone reports whether token belongs to a process on this host that
// no longer exists.
func ownerGone(token string) bool {
	parts := strings.SplitN(token, "/", 3)
	if len(parts) != 3 {
		return false
	}
	if host, _ := os.Hostname(); parts[0] != host {
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

// reclaimOrphans expires the leases of dead local processes.
func (s *Store) reclaimOrphans(ctx context.Context, tx *sql.Tx, conn string) error {
	q := "SELECT id, lease_token FROM deliveries WHERE state = 'in_flight' AND lease_expires_at > ?"
	args := []any{ms(s.now())}
	if conn != "" {
		q += " AND connection = ?"
		args = append(args, conn)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	var orphans []int64
	for rows.Next() {
		var id int64
		var token sql.NullString
		if err := rows.Scan(&id, &token); err != nil {
			rows.Close()
			return err
		}
		if token.Valid && ownerGone(token.String) {
			orphans = append(orphans, id)
		}
	}
	rows.Close()
	for _, id := range orphans {
		if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET lease_expires_at = ? WHERE id = ?", ms(s.now()), id); err != nil {
			return err
		}
	}
	return rows.Err()
}
