package queue

import (
	"context"
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
