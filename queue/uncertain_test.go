package queue

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestUncertainSurvivesStaffRetry: once a failed attempt may have reached
// the vendor, every later create must look the ticket up first, even after
// staff reset the attempts with a manual retry; an offline failure (never
// sent) leaves a delivery certain.
func TestUncertainSurvivesStaffRetry(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	enqueue(t, s, t0, "a", Target{"SN", ActionCreate})

	l := leaseOne(t, s, "SN")
	if l.Uncertain {
		t.Fatal("first attempt is uncertain")
	}
	complete(t, s, l, Outcome{State: Offline, NextAttemptAt: clock.Now()})
	if l = leaseOne(t, s, "SN"); l.Uncertain {
		t.Fatal("uncertain after an offline failure, which never reached the vendor")
	}
	complete(t, s, l, Outcome{State: StateDead, Error: "timeout after the request was sent"})
	if _, err := s.RetryAllDead(ctx); err != nil {
		t.Fatal(err)
	}
	l = leaseOne(t, s, "SN")
	if !l.Uncertain || l.Attempts != 1 {
		t.Fatalf("after a staff retry: uncertain=%v attempts=%d; want true, 1", l.Uncertain, l.Attempts)
	}

	// A lease that expired in flight (the worker died) is uncertain too.
	enqueue(t, s, t0, "b", Target{"JIRA", ActionCreate})
	leaseOne(t, s, "JIRA")
	clock.Advance(3 * time.Minute)
	if l := leaseOne(t, s, "JIRA"); !l.Uncertain {
		t.Fatal("a delivery taken over from an expired lease must be uncertain")
	}
}

// orphan makes l's lease look held by a process that died on this host: a
// finished child process's pid stands for the crashed owner.
func orphan(t *testing.T, s *Store, l Lease) {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no 'true' command:", err)
	}
	dead := strings.Replace(l.Token, fmt.Sprintf("/%d/", os.Getpid()), fmt.Sprintf("/%d/", cmd.Process.Pid), 1)
	if dead == l.Token {
		t.Fatalf("token %q does not carry this pid", l.Token)
	}
	if _, err := s.db.Exec("UPDATE deliveries SET lease_token = ? WHERE id = ?", dead, l.ID); err != nil {
		t.Fatal(err)
	}
}

// TestOrphanedLeaseReclaimed: a lease held by a process that died on this
// host is taken over at once, not after it expires, and is uncertain.
func TestOrphanedLeaseReclaimed(t *testing.T) {
	s, _ := newStore(t)
	enqueue(t, s, t0, "a", Target{"SN", ActionCreate})
	l := leaseOne(t, s, "SN")
	orphan(t, s, l)
	got := leaseOne(t, s, "SN") // the fake clock has not moved: no expiry
	if got.ID != l.ID || !got.Uncertain || got.Attempts != 2 {
		t.Errorf("reclaimed lease = id %d uncertain %v attempts %d", got.ID, got.Uncertain, got.Attempts)
	}
	// A live owner's lease (our own) is left alone.
	enqueue(t, s, t0, "b", Target{"J", ActionCreate})
	leaseOne(t, s, "J")
	if ls, _ := s.Lease(context.Background(), LeaseOptions{Connection: "J"}); len(ls) != 0 {
		t.Error("a live process's lease was taken over")
	}
}

// TestOrphanReclaimSparesNewLease: the reclaim at Open reads the orphaned
// leases outside a transaction; a lease another process takes over
// between that read and the reclaim's write is its own, and is not
// expired.
func TestOrphanReclaimSparesNewLease(t *testing.T) {
	s, clock := newStore(t)
	enqueue(t, s, t0, "a", Target{"SN", ActionCreate})
	l := leaseOne(t, s, "SN")
	orphan(t, s, l)
	live := l.Token + "-other-process"
	expires := ms(clock.Now().Add(time.Hour))
	afterOrphansRead = func() { // another process takes the orphan over
		if _, err := s.db.Exec("UPDATE deliveries SET lease_token = ?, lease_expires_at = ? WHERE id = ?", live, expires, l.ID); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { afterOrphansRead = nil })
	n, err := s.reclaimOrphans(context.Background(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, s.db, "SELECT lease_expires_at FROM deliveries WHERE id = ?", l.ID); n != 0 || got != expires {
		t.Errorf("reclaim = %d, lease expires at %d; want 0 reclaimed and the new lease kept (%d)", n, got, expires)
	}
}

func TestAssignOrphans(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	lonely := enqueue(t, s, t0, "queued with no connection")
	routed := enqueue(t, s, t0, "already routed", Target{"Old", ActionCreate})
	n, err := s.AssignOrphans(ctx, []Target{{"SN", ActionCreate}, {"Jira", ActionCreate}})
	if err != nil || n != 1 {
		t.Fatalf("AssignOrphans = %d, %v; want 1", n, err)
	}
	if ds := get(t, s, lonely).Deliveries; len(ds) != 2 || ds[0].Connection != "SN" || ds[1].Connection != "Jira" || ds[0].State != StatePending {
		t.Errorf("orphan's deliveries = %+v", ds)
	}
	if ds := get(t, s, routed).Deliveries; len(ds) != 1 || ds[0].Connection != "Old" {
		t.Errorf("a routed ticket got new deliveries: %+v", ds)
	}
	if n, _ := s.AssignOrphans(ctx, []Target{{"SN", ActionCreate}}); n != 0 {
		t.Errorf("second AssignOrphans assigned %d", n)
	}
}

// A delivery taken over from a process that died in flight stays
// uncertain when its next attempt ends offline (nothing was sent this
// time, but the dead attempt may have reached the vendor).
func TestOfflineKeepsTakenOverUncertain(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, clk.Now(), []byte("t"), []Target{{Connection: "A", Action: ActionCreate}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lease(ctx, LeaseOptions{Limit: 1, TTL: time.Minute}); err != nil { // dies in flight
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	ls, err := s.Lease(ctx, LeaseOptions{Limit: 1})
	if err != nil || len(ls) != 1 || !ls[0].Uncertain {
		t.Fatalf("takeover: %v %+v", err, ls)
	}
	if err := s.Complete(ctx, ls[0], Outcome{State: Offline, Error: "network down"}); err != nil {
		t.Fatal(err)
	}
	ls, err = s.Lease(ctx, LeaseOptions{Limit: 1})
	if err != nil || len(ls) != 1 || !ls[0].Uncertain {
		t.Fatalf("after an offline attempt the delivery is no longer uncertain: %v %+v", err, ls)
	}
}
