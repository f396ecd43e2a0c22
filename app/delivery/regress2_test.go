package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

type gateConn struct {
	*memConnector
	gate    chan struct{}
	entered chan struct{}
}

func (g *gateConn) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.memConnector.Create(ctx, t)
}

// R4: while a half-open trial call is in flight, other deliveries are
// refused by the breaker without reaching the vendor, and that refusal
// spends their attempt and can make them dead.
func TestHalfOpenBurnsAttempts(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	one := 1
	rig.cfg.Connections[0].MaxRetries = &one
	rig.report(t, 2)
	gc := &gateConn{memConnector: rig.mems["A"], gate: make(chan struct{}), entered: make(chan struct{}, 2)}
	co := rig.courier(t, CourierOptions{Build: func(connectors.Connection) (connectors.Connector, error) { return gc, nil },
		Guard:   connectors.GuardOptions{FailuresToTrip: 1, OpenFor: time.Minute, RatePerSecond: 1000, Burst: 1000, Now: rig.clock.Now},
		Backoff: connectors.Backoff{Base: time.Millisecond, Max: time.Millisecond, Rand: func(n int64) int64 { return 0 }}})
	ctx := context.Background()
	// both tickets fail once with 503 (ticket 1 trips the breaker; ticket 2 is refused by it)
	rig.mems["A"].fail(createStep{err: &connectors.Error{Op: "create", Class: connectors.Retryable, Status: 503}})
	close(gc.gate)
	rig.step(t, co)
	<-gc.entered
	rig.clock.Add(time.Minute) // half-open
	gc.gate = make(chan struct{})
	ls, _ := rig.store.Lease(ctx, queue.LeaseOptions{Limit: 2})
	if len(ls) != 2 {
		t.Fatalf("leases %d", len(ls))
	}
	if ls[0].Uncertain {
		ls[0], ls[1] = ls[1], ls[0]
	}
	res := make(chan queue.Outcome, 1)
	go func() { res <- co.Deliver(ctx, ls[0]) }() // the trial
	<-gc.entered
	o := co.Deliver(ctx, ls[1])
	t.Logf("second delivery (attempt %d) while trial in flight: %+v; vendor creates=%d", ls[1].Attempts, o, rig.mems["A"].creates)
	if o.State == queue.StateDead {
		t.Error("a ticket went dead after the breaker refused it locally (never reached the vendor)")
	}
	close(gc.gate)
	<-res
}
