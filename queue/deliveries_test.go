package queue

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func leaseAll(t *testing.T, s *Store, o LeaseOptions) []Lease {
	t.Helper()
	ls, err := s.Lease(context.Background(), o)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	return ls
}

func delivery(t *testing.T, s *Store, id int64) Delivery {
	t.Helper()
	ds, err := s.deliveries(context.Background(), "WHERE id = ?", id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("delivery %d: %d rows", id, len(ds))
	}
	return ds[0]
}

// events returns a delivery's outcome events: the in_flight events that
// mark each attempt's start are checked by TestLeaseRecordsAttemptStart.
func events(t *testing.T, s *Store, deliveryID int64) []Event {
	t.Helper()
	evs, err := s.Events(context.Background(), deliveryID)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	for _, e := range evs {
		if e.State != StateInFlight {
			out = append(out, e)
		}
	}
	return out
}

func TestLeaseRecordsAttemptStart(t *testing.T) {
	s, clk := newStore(t)
	enqueue(t, s, t0, "x", Target{"SN", ActionCreate})
	l := leaseOne(t, s, "")
	complete(t, s, l, Outcome{State: StateRetry, Error: "HTTP 503", NextAttemptAt: t0.Add(time.Minute)})
	clk.Advance(time.Minute)
	l = leaseOne(t, s, "")
	evs, err := s.Events(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{DeliveryID: l.ID, At: t0, State: StateInFlight, Attempt: 1},
		{DeliveryID: l.ID, At: t0, State: StateRetry, Attempt: 1, Detail: "HTTP 503"},
		{DeliveryID: l.ID, At: t0.Add(time.Minute), State: StateInFlight, Attempt: 2},
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events =\n%+v\nwant\n%+v", evs, want)
	}
}

func TestLeaseExpiryAndLeaseLost(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	payload := []byte(`{"summary":"laptop won't boot"}`)
	id, err := s.Enqueue(ctx, t0, payload, []Target{{"zendesk", ActionCreate}, {"jira", ActionCreate}})
	if err != nil {
		t.Fatal(err)
	}
	ttl := 90 * time.Second

	first := leaseAll(t, s, LeaseOptions{Limit: 10, TTL: ttl})
	if got, want := len(first), 2; got != want {
		t.Fatalf("first Lease: %d leases, want %d", got, want)
	}
	for _, l := range first {
		if got, want := l.TicketID, id; got != want {
			t.Errorf("lease ticket = %s, want %s", got, want)
		}
		if !bytes.Equal(l.Payload, payload) {
			t.Errorf("lease payload = %q, want %q", l.Payload, payload)
		}
		if got, want := l.Attempts, 1; got != want {
			t.Errorf("attempts = %d, want %d", got, want)
		}
		if got, want := l.State, StateInFlight; got != want {
			t.Errorf("state = %q, want %q", got, want)
		}
		if l.Uncertain {
			t.Error("a first attempt is not uncertain")
		}
		if got, want := l.Expires, t0.Add(ttl); !got.Equal(want) {
			t.Errorf("Expires = %v, want %v", got, want)
		}
		if got, want := l.LeaseExpires, t0.Add(ttl); !got.Equal(want) {
			t.Errorf("LeaseExpires = %v, want %v", got, want)
		}
		if l.Token == "" {
			t.Error("empty lease token")
		}
	}
	if got := leaseAll(t, s, LeaseOptions{Limit: 10, TTL: ttl}); len(got) != 0 {
		t.Fatalf("second Lease before expiry returned %d leases", len(got))
	}
	clk.Advance(ttl - time.Millisecond)
	if got := leaseAll(t, s, LeaseOptions{Limit: 10, TTL: ttl}); len(got) != 0 {
		t.Fatalf("Lease 1 ms before expiry returned %d leases", len(got))
	}
	clk.Advance(time.Millisecond)
	second := leaseAll(t, s, LeaseOptions{Limit: 10, TTL: ttl})
	if got, want := len(second), 2; got != want {
		t.Fatalf("Lease at expiry: %d leases, want %d", got, want)
	}
	for i, l := range second {
		if !l.Uncertain {
			t.Errorf("lease %d: Uncertain = false after the first worker's lease expired", i)
		}
		if got, want := l.Attempts, 2; got != want {
			t.Errorf("lease %d: attempts = %d, want %d", i, got, want)
		}
		if l.Token == first[i].Token {
			t.Errorf("lease %d: the token was reused", i)
		}
		if got, want := l.Expires, t0.Add(2*ttl); !got.Equal(want) {
			t.Errorf("lease %d: Expires = %v, want %v", i, got, want)
		}
	}

	// The first worker wakes up: its lease is gone.
	err = s.Complete(ctx, first[0], Outcome{State: StateDelivered, RemoteID: "dup"})
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Complete with a stale token = %v, want ErrLeaseLost", err)
	}
	if d := delivery(t, s, first[0].ID); d.State != StateInFlight || d.RemoteID != "" {
		t.Errorf("a lost lease changed the delivery: %+v", d)
	}
	complete(t, s, second[0], Outcome{State: StateDelivered, RemoteID: "42"})
	// A completed lease cannot be completed twice.
	if err := s.Complete(ctx, second[0], Outcome{State: StateDead, Error: "late"}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("second Complete of one lease = %v, want ErrLeaseLost", err)
	}
	if got, want := delivery(t, s, second[0].ID).State, StateDelivered; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
}

func TestLeaseLimitOrderAndConnection(t *testing.T) {
	s, clk := newStore(t)
	var tickets []string
	for range 4 {
		tickets = append(tickets, enqueue(t, s, t0, "t", Target{"zendesk", ActionCreate}, Target{"jira", ActionSync}))
		clk.Advance(time.Second) // due times differ
	}

	jira := leaseAll(t, s, LeaseOptions{Connection: "jira", Limit: 2})
	if got, want := len(jira), 2; got != want {
		t.Fatalf("Lease(jira, limit 2): %d leases, want %d", got, want)
	}
	for i, l := range jira {
		if got, want := l.Connection, "jira"; got != want {
			t.Errorf("lease %d connection = %q, want %q", i, got, want)
		}
		if got, want := l.Action, ActionSync; got != want {
			t.Errorf("lease %d action = %q, want %q", i, got, want)
		}
		if got, want := l.TicketID, tickets[i]; got != want {
			t.Errorf("lease %d ticket = %s, want %s (oldest due first)", i, got, want)
		}
	}
	if got := leaseAll(t, s, LeaseOptions{Connection: "servicenow", Limit: 10}); len(got) != 0 {
		t.Errorf("Lease(unknown connection) returned %d leases", len(got))
	}
	if got, want := len(leaseAll(t, s, LeaseOptions{})), 1; got != want {
		t.Errorf("Lease with default limit: %d leases, want %d", got, want)
	}
	rest := leaseAll(t, s, LeaseOptions{Limit: 100})
	if got, want := len(rest), 8-2-1; got != want {
		t.Errorf("remaining leases = %d, want %d", got, want)
	}
}

func TestLeaseNotDueYet(t *testing.T) {
	s, clk := newStore(t)
	clk.Set(t0.Add(time.Hour))
	enqueue(t, s, t0, "made an hour ago, due from now", Target{"zendesk", ActionCreate})
	clk.Set(t0) // the clock went back
	if got := leaseAll(t, s, LeaseOptions{}); len(got) != 0 {
		t.Errorf("Lease before the due time returned %d leases", len(got))
	}
}

func TestCompleteRetry(t *testing.T) {
	s, clk := newStore(t)
	enqueue(t, s, t0, "x", Target{"zendesk", ActionCreate})
	l := leaseOne(t, s, "")
	next := t0.Add(5 * time.Minute)
	clk.Advance(10 * time.Second)
	complete(t, s, l, Outcome{State: StateRetry, Error: "HTTP 503 Service Unavailable", NextAttemptAt: next})

	d := delivery(t, s, l.ID)
	if got, want := d.State, StateRetry; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got, want := d.NextAttemptAt, next; !got.Equal(want) {
		t.Errorf("NextAttemptAt = %v, want %v", got, want)
	}
	if got, want := d.LastError, "HTTP 503 Service Unavailable"; got != want {
		t.Errorf("LastError = %q, want %q", got, want)
	}
	if got, want := d.Attempts, 1; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
	if !d.LeaseExpires.IsZero() {
		t.Errorf("LeaseExpires = %v, want zero after Complete", d.LeaseExpires)
	}
	if got, want := d.UpdatedAt, t0.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v", got, want)
	}

	clk.Set(next.Add(-time.Millisecond))
	if got := leaseAll(t, s, LeaseOptions{}); len(got) != 0 {
		t.Fatalf("a retry was leased %v before its time", time.Millisecond)
	}
	clk.Set(next)
	l2 := leaseOne(t, s, "")
	if got, want := l2.ID, l.ID; got != want {
		t.Errorf("leased delivery %d, want %d", got, want)
	}
	if got, want := l2.Attempts, 2; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}

	// A retry without a time is due at once.
	complete(t, s, l2, Outcome{State: StateRetry, Error: "again"})
	if got, want := delivery(t, s, l.ID).NextAttemptAt, next; !got.Equal(want) {
		t.Errorf("NextAttemptAt = %v, want now (%v)", got, want)
	}
	if got, want := leaseOne(t, s, "").Attempts, 3; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

func TestCompleteOffline(t *testing.T) {
	s, clk := newStore(t)
	enqueue(t, s, t0, "x", Target{"zendesk", ActionCreate})
	l := leaseOne(t, s, "")
	next := t0.Add(30 * time.Second)
	complete(t, s, l, Outcome{State: Offline, NextAttemptAt: next})

	d := delivery(t, s, l.ID)
	if got, want := d.State, StatePending; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got, want := d.Attempts, 0; got != want {
		t.Errorf("attempts = %d, want %d (offline spends none)", got, want)
	}
	if got, want := d.NextAttemptAt, next; !got.Equal(want) {
		t.Errorf("NextAttemptAt = %v, want %v", got, want)
	}
	if got := leaseAll(t, s, LeaseOptions{}); len(got) != 0 {
		t.Fatalf("offline delivery leased before %v", next)
	}
	clk.Set(next)
	l2 := leaseOne(t, s, "")
	if got, want := l2.Attempts, 1; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
	if l2.Uncertain {
		t.Error("Uncertain after an offline outcome: the vendor was never reached")
	}
	evs := events(t, s, l.ID)
	if got, want := len(evs), 1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	if got, want := evs[0].State, Offline; got != want {
		t.Errorf("event state = %q, want %q", got, want)
	}
}

func TestCompleteDead(t *testing.T) {
	s, clk := newStore(t)
	id := enqueue(t, s, t0, "x", Target{"zendesk", ActionCreate})
	l := leaseOne(t, s, "")
	clk.Advance(3 * time.Second)
	msg := `422 Unprocessable Entity: requester "carol@example.com" is suspended`
	complete(t, s, l, Outcome{State: StateDead, Error: msg})

	d := get(t, s, id).Deliveries[0]
	if got, want := d.State, StateDead; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got, want := d.LastError, msg; got != want {
		t.Errorf("LastError = %q, want %q", got, want)
	}
	evs := events(t, s, l.ID)
	if got, want := len(evs), 1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	want := Event{DeliveryID: l.ID, At: t0.Add(3 * time.Second), State: StateDead, Attempt: 1, Detail: msg}
	if got := evs[0]; got != want {
		t.Errorf("event = %+v, want %+v", got, want)
	}
	clk.Advance(24 * time.Hour)
	if got := leaseAll(t, s, LeaseOptions{Limit: 10}); len(got) != 0 {
		t.Errorf("a dead delivery was leased")
	}
	if got, want := ids(list(t, s, StateDead)), []string{id}; !slices.Equal(got, want) {
		t.Errorf("List(dead) = %v, want %v", got, want)
	}
	if got := list(t, s, StatePending); len(got) != 0 {
		t.Errorf("List(pending) = %v, want none", ids(got))
	}
}

func TestCompleteDelivered(t *testing.T) {
	s, clk := newStore(t)
	id := enqueue(t, s, t0, "x", Target{"zendesk", ActionCreate})
	complete(t, s, leaseOne(t, s, ""), Outcome{State: StateRetry, Error: "timeout"})
	l := leaseOne(t, s, "")
	clk.Advance(time.Minute)
	complete(t, s, l, Outcome{State: StateDelivered, RemoteID: "98765", RemoteNumber: "#4321", RemoteURL: "https://acme.zendesk.com/agent/tickets/4321"})

	d := get(t, s, id).Deliveries[0]
	want := Delivery{
		ID: l.ID, TicketID: id, Connection: "zendesk", Action: ActionCreate, State: StateDelivered, Attempts: 2,
		NextAttemptAt: t0, RemoteID: "98765", RemoteNumber: "#4321", RemoteURL: "https://acme.zendesk.com/agent/tickets/4321",
		UpdatedAt: t0.Add(time.Minute), DeliveredAt: t0.Add(time.Minute),
	}
	if d != want {
		t.Errorf("delivery =\n%+v, want\n%+v", d, want)
	}
	evs := events(t, s, l.ID)
	if got, want := len(evs), 2; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	if got, want := evs[0], (Event{DeliveryID: l.ID, At: t0, State: StateRetry, Attempt: 1, Detail: "timeout"}); got != want {
		t.Errorf("event 0 = %+v, want %+v", got, want)
	}
	if got, want := evs[1], (Event{DeliveryID: l.ID, At: t0.Add(time.Minute), State: StateDelivered, Attempt: 2, Detail: "#4321"}); got != want {
		t.Errorf("event 1 = %+v, want %+v", got, want)
	}
	if got, want := ids(list(t, s, StateDelivered)), []string{id}; !slices.Equal(got, want) {
		t.Errorf("List(delivered) = %v, want %v", got, want)
	}
}

func TestCompleteUnknownOutcomeKeepsLease(t *testing.T) {
	s, _ := newStore(t)
	enqueue(t, s, t0, "x", Target{"zendesk", ActionCreate})
	l := leaseOne(t, s, "")
	for _, st := range []string{"", StatePending, StateInFlight, "retry_requested"} {
		if err := s.Complete(context.Background(), l, Outcome{State: st}); err == nil || errors.Is(err, ErrLeaseLost) {
			t.Errorf("Complete(%q) = %v, want an unknown-outcome error", st, err)
		}
	}
	if got := events(t, s, l.ID); len(got) != 0 {
		t.Errorf("%d events after rejected outcomes", len(got))
	}
	complete(t, s, l, Outcome{State: StateDelivered})
}

func TestRetryAndRetryAllDead(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	zd := Target{"zendesk", ActionCreate}
	a := enqueue(t, s, t0, "a", zd, Target{"jira", ActionCreate})
	b := enqueue(t, s, t0, "b", zd)
	c := enqueue(t, s, t0, "c", zd)
	ls := leaseAll(t, s, LeaseOptions{Limit: 10})
	if len(ls) != 4 {
		t.Fatalf("%d leases, want 4", len(ls))
	}
	byTicket := map[string][]Lease{}
	for _, l := range ls {
		byTicket[l.TicketID] = append(byTicket[l.TicketID], l)
	}
	complete(t, s, byTicket[a][0], Outcome{State: StateDead, Error: "a dead"})
	complete(t, s, byTicket[a][1], Outcome{State: StateDelivered, RemoteID: "1"})
	complete(t, s, byTicket[b][0], Outcome{State: StateDead, Error: "b dead"})
	complete(t, s, byTicket[c][0], Outcome{State: StateRetry, Error: "c retry", NextAttemptAt: t0.Add(time.Hour)})
	clk.Advance(time.Minute)

	n, err := s.Retry(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Errorf("Retry(a) = %d, want %d (the delivered one stays)", got, want)
	}
	ds := get(t, s, a).Deliveries
	if got, want := []string{ds[0].State, ds[1].State}, []string{StatePending, StateDelivered}; !slices.Equal(got, want) {
		t.Errorf("states after Retry(a) = %v, want %v", got, want)
	}
	if got, want := ds[0].Attempts, 0; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
	if got, want := ds[0].NextAttemptAt, t0.Add(time.Minute); !got.Equal(want) {
		t.Errorf("NextAttemptAt = %v, want %v", got, want)
	}
	evs := events(t, s, ds[0].ID)
	if got, want := evs[len(evs)-1], (Event{DeliveryID: ds[0].ID, At: t0.Add(time.Minute), State: "retry_requested", Attempt: 1}); got != want {
		t.Errorf("last event = %+v, want %+v", got, want)
	}

	n, err = s.RetryAllDead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Errorf("RetryAllDead = %d, want %d (only b is dead now)", got, want)
	}
	db := get(t, s, b).Deliveries[0]
	if got, want := [2]any{db.State, db.Attempts}, [2]any{StatePending, 0}; got != want {
		t.Errorf("b after RetryAllDead: %v, want %v", got, want)
	}
	if got, want := get(t, s, c).Deliveries[0].State, StateRetry; got != want {
		t.Errorf("RetryAllDead touched a retrying delivery: state %q, want %q", got, want)
	}

	// Retry of one ticket also brings a waiting retry forward.
	if n, err := s.Retry(ctx, c); err != nil || n != 1 {
		t.Errorf("Retry(c) = %d, %v; want 1, nil", n, err)
	}
	dc := get(t, s, c).Deliveries[0]
	if got, want := [3]any{dc.State, dc.Attempts, dc.NextAttemptAt}, [3]any{StatePending, 0, t0.Add(time.Minute)}; got != want {
		t.Errorf("c after Retry: %v, want %v", got, want)
	}
	if got, want := len(leaseAll(t, s, LeaseOptions{Limit: 10})), 3; got != want {
		t.Errorf("%d due after the retries, want %d", got, want)
	}

	if _, err := s.Retry(ctx, "00000000-0000-7000-8000-000000000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry(missing) = %v, want ErrNotFound", err)
	}
	if n, err := s.RetryAllDead(ctx); err != nil || n != 0 {
		t.Errorf("RetryAllDead with nothing dead = %d, %v; want 0, nil", n, err)
	}
}

func TestPurge(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	cutoff := t0.Add(time.Hour)
	target := func(c string) Target { return Target{c, ActionCreate} }

	// deliver completes the delivery of connection c at time at.
	deliver := func(c string, at time.Time) {
		t.Helper()
		clk.Set(at)
		complete(t, s, leaseOne(t, s, c), Outcome{State: StateDelivered, RemoteID: c})
	}
	old := enqueue(t, s, t0, "all delivered long ago", target("old1"), target("old2"))
	late := enqueue(t, s, t0, "one delivered after the cutoff", target("late1"), target("late2"))
	atCut := enqueue(t, s, t0, "delivered exactly at the cutoff", target("atcut"))
	dead := enqueue(t, s, t0, "delivered and dead", target("dead1"), target("dead2"))
	pending := enqueue(t, s, t0, "delivered and pending", target("pend1"), target("pend2"))
	none := enqueue(t, s, t0, "no deliveries at all")

	deliver("old1", t0)
	deliver("old2", t0.Add(10*time.Minute))
	deliver("late1", t0)
	deliver("late2", cutoff.Add(time.Minute))
	deliver("atcut", cutoff)
	deliver("dead1", t0)
	clk.Set(t0)
	complete(t, s, leaseOne(t, s, "dead2"), Outcome{State: StateDead, Error: "gone"})
	deliver("pend1", t0)
	oldDeliveries := get(t, s, old).Deliveries

	n, err := s.Purge(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Errorf("Purge = %d, want %d", got, want)
	}
	got := ids(list(t, s, ""))
	slices.Sort(got)
	want := []string{late, atCut, dead, pending, none}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after Purge, List = %v, want %v (purged %s)", got, want, old)
	}
	raw := rawDB(t, s.Path())
	for _, d := range oldDeliveries {
		if got := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries WHERE id = ?", d.ID); got != 0 {
			t.Errorf("delivery %d of the purged ticket remains", d.ID)
		}
		if got := queryInt(t, raw, "SELECT COUNT(*) FROM events WHERE delivery_id = ?", d.ID); got != 0 {
			t.Errorf("%d events of the purged ticket remain", got)
		}
	}
	if n, err := s.Purge(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0, nil", n, err)
	}
}

// TestHistoryWithoutEventRows: a lease and a delivered outcome write no
// event row (issue 11: fewer pages per commit), yet Events tells every
// attempt's start and end, including an attempt whose process died.
func TestHistoryWithoutEventRows(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	enqueue(t, s, t0, "x", Target{"SN", ActionCreate})
	rows := func() int64 {
		var n int64
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM events").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	l := leaseOne(t, s, "")
	if n := rows(); n != 0 {
		t.Errorf("a lease wrote %d event rows, want 0", n)
	}
	complete(t, s, l, Outcome{State: StateRetry, Error: "HTTP 503", NextAttemptAt: t0.Add(time.Minute)})
	clk.Advance(time.Minute)
	// Attempt 2's process dies in flight: its lease expires and attempt 3
	// takes it over.
	ttl := 2 * time.Minute
	leaseAll(t, s, LeaseOptions{Limit: 1, TTL: ttl})
	clk.Advance(ttl)
	l = leaseOne(t, s, "")
	if !l.Uncertain {
		t.Error("a lease taken over is not uncertain")
	}
	clk.Advance(time.Second)
	before := rows()
	complete(t, s, l, Outcome{State: StateDelivered, RemoteNumber: "INC0001"})
	if n := rows() - before; n != 0 {
		t.Errorf("a delivered outcome wrote %d event rows, want 0", n)
	}
	evs, err := s.Events(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	t1, t3 := t0.Add(time.Minute), t0.Add(time.Minute+ttl)
	want := []Event{
		{DeliveryID: l.ID, At: t0, State: StateInFlight, Attempt: 1},
		{DeliveryID: l.ID, At: t0, State: StateRetry, Attempt: 1, Detail: "HTTP 503"},
		{DeliveryID: l.ID, At: t1, State: StateInFlight, Attempt: 2}, // never ended
		{DeliveryID: l.ID, At: t3, State: StateInFlight, Attempt: 3},
		{DeliveryID: l.ID, At: t3.Add(time.Second), State: StateDelivered, Attempt: 3, Detail: "INC0001"},
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events =\n%+v\nwant\n%+v", evs, want)
	}
}
