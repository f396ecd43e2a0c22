package queue

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPagesPerCommit pins how many pages each commit of the hot path
// writes to the WAL, measured from the -wal file's growth. Every frame is
// two writes and part of the fsync, and at equal fsyncs this is what made
// the cycle slower than goqite's (issue 11; docs/BENCHMARKS.md): goqite's
// Send+Receive+Delete writes 7 frames on its empty queue in the benchmark.
// An enqueue cannot go below 5 here (the ticket's own page, its parent
// and the file's header page, as the table grows; its delivery; the index
// of the work left), and a lease writes the delivery's page alone
// (migration 0009). The budgets fail a change that adds an index, a count
// or an event row to the hot path.
func TestPagesPerCommit(t *testing.T) {
	path := dbPath(t)
	s := openStore(t, path, Options{})
	ctx := context.Background()
	payload := []byte(strings.Repeat("x", 2048))
	waiting := make([]NewTicket, 30)
	for i := range waiting {
		waiting[i] = NewTicket{CreatedAt: t0, Payload: payload, Targets: []Target{{"zendesk", ActionCreate}}}
	}
	if _, err := s.EnqueueBatch(ctx, waiting); err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	frames := func() int64 {
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return (st.Size() - 32) / (pageSize + 24)
	}
	const rounds = 20 // 20 cycles stay far below the auto-checkpoint's 1000 pages
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	var enq, lease, done int64
	for range rounds {
		f0 := frames()
		if _, err := s.Enqueue(ctx, t0, payload, []Target{{"zendesk", ActionCreate}}); err != nil {
			t.Fatal(err)
		}
		f1 := frames()
		ls, err := s.Lease(ctx, LeaseOptions{Connection: "zendesk", TTL: time.Minute})
		if err != nil || len(ls) != 1 {
			t.Fatalf("Lease = %d, %v", len(ls), err)
		}
		f2 := frames()
		if err := s.Complete(ctx, ls[0], Outcome{State: StateDelivered, RemoteNumber: "1"}); err != nil {
			t.Fatal(err)
		}
		f3 := frames()
		enq, lease, done = enq+f1-f0, lease+f2-f1, done+f3-f2
	}
	per := func(n int64) float64 { return float64(n) / rounds }
	t.Logf("WAL frames per commit: enqueue %.1f, lease %.1f, complete %.1f, cycle %.1f", per(enq), per(lease), per(done), per(enq+lease+done))
	for _, c := range []struct {
		name   string
		n      int64
		budget float64
	}{
		{"enqueue", enq, 7.2}, {"lease", lease, 1.2}, {"complete", done, 3}, {"cycle", enq + lease + done, 11.4},
	} {
		if got := per(c.n); got > c.budget {
			t.Errorf("%s writes %.1f WAL frames per commit, budget %.1f", c.name, got, c.budget)
		}
	}
}
