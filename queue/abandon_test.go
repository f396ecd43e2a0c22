package queue

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAbandon(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	sn := Target{"SN", ActionCreate}
	lease := func(ttl time.Duration) Lease {
		t.Helper()
		ls, err := s.Lease(ctx, LeaseOptions{Connection: "SN", TTL: ttl})
		if err != nil || len(ls) != 1 {
			t.Fatalf("Lease: %v, %d leases", err, len(ls))
		}
		return ls[0]
	}
	retry := enqueue(t, s, t0, "retry", sn)
	complete(t, s, lease(time.Minute), Outcome{State: StateRetry, Error: "HTTP 503", NextAttemptAt: t0.Add(time.Hour)})
	delivered := enqueue(t, s, t0, "delivered", sn)
	complete(t, s, lease(time.Minute), Outcome{State: StateDelivered, RemoteNumber: "INC1"})
	expired := enqueue(t, s, t0, "expired", sn)
	lease(time.Minute)
	live := enqueue(t, s, t0, "live", sn)
	lease(time.Hour)
	pending := enqueue(t, s, t0, "pending", sn)
	other := enqueue(t, s, t0, "other connection", Target{"J", ActionCreate})
	clk.Advance(2 * time.Minute) // the first lease expired, the second holds

	const reason = "the connection SN was removed from the config"
	res, err := s.Abandon(ctx, "SN", reason)
	if err != nil {
		t.Fatal(err)
	}
	if res != (AbandonResult{Dead: 3, InFlight: 1}) {
		t.Errorf("result %+v, want 3 dead and 1 left in flight", res)
	}
	want := map[string]string{retry: StateDead, expired: StateDead, pending: StateDead, delivered: StateDelivered, live: StateInFlight, other: StatePending}
	for id, st := range want {
		d := get(t, s, id).Deliveries[0]
		if d.State != st {
			t.Errorf("%s: state %s, want %s", get(t, s, id).Payload, d.State, st)
		}
		if st == StateDead {
			if d.LastError != reason {
				t.Errorf("%s: error %q, want the reason", get(t, s, id).Payload, d.LastError)
			}
			evs := events(t, s, d.ID)
			if last := evs[len(evs)-1]; last.State != StateDead || last.Detail != reason || last.Attempt != d.Attempts {
				t.Errorf("%s: last event %+v", get(t, s, id).Payload, last)
			}
		}
	}
	// The expired lease's attempt never ended: its start stays in the
	// history, before the death.
	full, err := s.Events(ctx, get(t, s, expired).Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(full); n < 2 || full[n-2].State != StateInFlight || !full[n-2].At.Equal(t0) || full[n-1].State != StateDead {
		t.Errorf("history of the expired lease %+v, want its attempt's start then dead", full)
	}
	left, err := s.Left(ctx)
	if err != nil || left["SN"] != 1 || left["J"] != 1 {
		t.Errorf("left %v (%v), want SN 1 (in flight) and J 1", left, err)
	}
	// The reason is sealed like every delivery error.
	if n := queryInt(t, rawDB(t, s.Path()), "SELECT COUNT(*) FROM deliveries WHERE CAST(last_error AS TEXT) LIKE '%removed%'"); n != 0 {
		t.Errorf("%d deliveries hold the reason in clear", n)
	}
	// Nothing is lost: a retry brings them back.
	if n, err := s.Retry(ctx, pending); err != nil || n != 1 {
		t.Errorf("retry of an abandoned delivery: %d, %v", n, err)
	}
	// Again: nothing left to abandon but the live lease.
	if res, err := s.Abandon(ctx, "SN", reason); err != nil || res.Dead != 1 || res.InFlight != 1 {
		t.Errorf("second abandon: %+v, %v (want the retried one dead again)", res, err)
	}
}

func TestAbandonNeedsConnectionAndReason(t *testing.T) {
	s, _ := newStore(t)
	for _, tc := range [][2]string{{"", "why"}, {"SN", ""}} {
		if _, err := s.Abandon(context.Background(), tc[0], tc[1]); err == nil || !strings.Contains(err.Error(), "abandon") {
			t.Errorf("Abandon(%q, %q): %v", tc[0], tc[1], err)
		}
	}
}
