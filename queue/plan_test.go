package queue

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// bigTables grow with the backlog and its history.
var bigTables = []string{"tickets", "deliveries", "events"}

// badPlan returns the steps of q's query plan that read a big table in full
// (SCAN) or sort (TEMP B-TREE): the steps whose cost grows with the queue.
func badPlan(t *testing.T, db *sql.DB, q string) (plan []string, bad []string) {
	t.Helper()
	args := make([]any, strings.Count(q, "?"))
	for i := range args {
		args[i] = 1
	}
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", q, err)
	}
	defer rows.Close()
	scan := regexp.MustCompile(`^SCAN (` + strings.Join(bigTables, "|") + `)\b`)
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
		if scan.MatchString(detail) || strings.Contains(detail, "TEMP B-TREE") {
			bad = append(bad, detail)
		}
	}
	return plan, bad
}

// triggerStatements are the statements triggers run: enqueue_ticket's on
// every enqueue, delivery_counts' when a delivery is settled, retried or
// deleted (EXPLAIN QUERY PLAN does not show them inside the statement that
// fires them).
var triggerStatements = []string{
	"SELECT 1 WHERE ? IS NOT (SELECT MAX(id) FROM deks)", // the RAISE's condition
	"INSERT INTO tickets (id, created_at, dek_id, payload, parent_id) VALUES (?, ?, ?, ?, ?)",
	"INSERT INTO deliveries (ticket_id, connection, action, state, next_attempt_at, created_at, updated_at) SELECT ?, value ->> 0, value ->> 1, 'pending', ?, ?, ? FROM json_each(?)",
	"UPDATE delivery_counts SET n = n + 1 WHERE connection = '' AND state = 'unrouted' AND ? = '[]'",
	"UPDATE delivery_counts SET n = n - 1 WHERE ? IN ('delivered', 'dead') AND connection = ? AND state = ?",
	"INSERT INTO delivery_counts (connection, state, n) SELECT ?, ?, 1 WHERE ? IN ('delivered', 'dead') ON CONFLICT DO UPDATE SET n = n + 1",
	"SELECT 1 FROM deliveries WHERE ticket_id = ?",
	"SELECT 1 FROM tickets WHERE id = ?",
}

// TestHotQueryPlans runs the hot paths (enqueue, lease, complete, the
// status line's counts, the dispatcher's next-due time) on a queue with a
// backlog, then asks SQLite how it runs every statement they ran: none may
// read a big table in full or sort, so their cost does not grow with the
// number of tickets waiting.
func TestHotQueryPlans(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	var batch []NewTicket
	for i := range 500 {
		batch = append(batch, NewTicket{CreatedAt: t0, Payload: []byte(fmt.Sprint("ticket ", i)),
			Targets: []Target{{"SN", ActionCreate}, {"Jira", ActionCreate}}})
	}
	if _, err := s.EnqueueBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Some history: delivered, retrying and in-flight deliveries.
	for _, o := range []Outcome{{State: StateDelivered, RemoteNumber: "INC1"}, {State: StateRetry, Error: "503", NextAttemptAt: clock.Now().Add(time.Hour)}} {
		ls, err := s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			complete(t, s, l, o)
		}
	}
	if _, err := s.Lease(ctx, LeaseOptions{Connection: "Jira", Limit: 10}); err != nil {
		t.Fatal(err)
	}

	// Only the statements the hot paths run from here on are checked.
	s.stmts.close()
	enqueue(t, s, t0, "one more", Target{"SN", ActionCreate}, Target{"Jira", ActionCreate})
	ls, err := s.Lease(ctx, LeaseOptions{Connection: "SN", Limit: 4})
	if err != nil || len(ls) != 4 {
		t.Fatalf("Lease = %d, %v", len(ls), err)
	}
	complete(t, s, ls[0], Outcome{State: StateDelivered, RemoteNumber: "INC2"})
	complete(t, s, ls[1], Outcome{State: StateRetry, Error: "503"})
	complete(t, s, ls[2], Outcome{State: StateDead, Error: "400"})
	complete(t, s, ls[3], Outcome{State: Offline, Error: "no route"})
	if _, err := s.Counts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Left(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.NextDue(ctx, "SN"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Minute) // Jira's leases expire: Lease takes them over
	if ls, err := s.Lease(ctx, LeaseOptions{Connection: "Jira", Limit: 2}); err != nil || len(ls) != 2 {
		t.Fatalf("Lease of expired leases = %d, %v", len(ls), err)
	}
	if ls, err := s.Lease(ctx, LeaseOptions{Connection: "idle"}); err != nil || len(ls) != 0 { // nothing due: the orphan reclaim runs
		t.Fatalf("Lease on an idle connection = %d, %v", len(ls), err)
	}

	s.stmts.mu.Lock()
	var stmts []string
	for q := range s.stmts.m {
		stmts = append(stmts, q)
	}
	s.stmts.mu.Unlock()
	sort.Strings(stmts)
	for _, want := range []string{"INSERT INTO enqueue_ticket", "UPDATE deliveries SET state = 'in_flight'",
		"UPDATE deliveries SET state = 'delivered'", "d.state != 'in_flight' OR d.lease_expires_at <= ?", "FROM delivery_counts",
		"CASE state WHEN 'in_flight' THEN", "next_attempt_at <= ? AND state = 'in_flight' AND lease_expires_at > ?"} {
		if !containsSub(stmts, want) {
			t.Errorf("no statement with %q ran through the statement cache; the test does not see every hot query", want)
		}
	}
	t.Logf("%d hot statements, %d trigger statements checked", len(stmts), len(triggerStatements))
	// As a new queue plans them, and as one would after an ANALYZE.
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := s.db.Exec("ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range append(stmts, triggerStatements...) {
			plan, bad := badPlan(t, s.db, q)
			if len(bad) > 0 {
				t.Errorf("analyzed=%v: %s\nreads the whole table or sorts: %q (plan %q)", analyzed, strings.Join(strings.Fields(q), " "), bad, plan)
			}
		}
	}

	// The status line's count of the work left walks deliveries_open and
	// nothing else: its cost grows with the work left (0.7 ms for 10,000
	// waiting, docs/BENCHMARKS.md), never with the history, and it reads
	// no row (migration 0009: keeping the count up to date instead cost
	// every enqueue a page).
	for _, q := range stmts {
		if !strings.Contains(q, "FROM delivery_counts") {
			continue
		}
		if plan, _ := badPlan(t, s.db, q); !slices.Contains(plan, "SEARCH deliveries USING COVERING INDEX deliveries_open (settled_at=?)") {
			t.Errorf("the counts do not walk deliveries_open alone: %q", plan)
		}
	}

	// The check itself: the lease query this replaced is caught.
	old := `SELECT id, ever_sent OR state = 'in_flight' FROM deliveries
			WHERE ((state IN ('pending', 'retry') AND next_attempt_at <= ?) OR (state = 'in_flight' AND lease_expires_at <= ?))
			AND connection = ? ORDER BY next_attempt_at, id LIMIT ?`
	if _, bad := badPlan(t, s.db, old); len(bad) == 0 {
		t.Error("the old lease query passed the check")
	}
	if _, bad := badPlan(t, s.db, "SELECT state, COUNT(*) FROM deliveries GROUP BY state"); len(bad) == 0 {
		t.Error("a full count passed the check")
	}
}

func containsSub(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
