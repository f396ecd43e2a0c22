package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// addConnector is a memConnector that takes additions: comments by key,
// with a script of failures for the next Add calls.
type addConnector struct {
	*memConnector
	mu       sync.Mutex
	comments map[string][]string // remote id → keys of the comments on it
	script   []createStep
}

func (a *addConnector) Add(ctx context.Context, r connectors.Remote, ad *connectors.Addition) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.script) > 0 {
		st := a.script[0]
		a.script = a.script[1:]
		if st.createToo {
			a.comments[r.ID] = append(a.comments[r.ID], ad.Key)
		}
		return st.err
	}
	a.comments[r.ID] = append(a.comments[r.ID], ad.Key)
	return nil
}

func (a *addConnector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.comments[r.ID] {
		if k == key {
			return true, nil
		}
	}
	return false, nil
}

// addTo queues an addition to the ticket with id parent for conn.
func addTo(t *testing.T, rig *courierRig, parent, conn string) {
	t.Helper()
	b, _ := json.Marshal(AdditionPayload{Parent: parent, Key: connectors.NewKey(), Text: "It happened again.", CreatedAt: time.Now()})
	if _, err := rig.store.EnqueueUpdate(context.Background(), parent, time.Now(), b, []queue.Target{{Connection: conn, Action: queue.ActionUpdate}}); err != nil {
		t.Fatal(err)
	}
}

// An addition waits for its ticket's create (spending nothing), then is
// added once; after an unknown outcome the retry finds it and adds nothing.
func TestAdditionOnce(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.report(t, 1)
	ad := &addConnector{memConnector: rig.mems["A"], comments: map[string][]string{}}
	co := rig.courier(t, CourierOptions{Backoff: connectors.Backoff{Base: time.Hour, Max: time.Hour, Rand: func(n int64) int64 { return n - 1 }},
		Build: func(connectors.Connection) (connectors.Connector, error) { return ad, nil }})
	ctx := context.Background()
	items, _ := rig.store.List(ctx, queue.Filter{})
	parent := items[0].ID
	addTo(t, rig, parent, "A")
	// The addition may be leased before the create: it waits.
	for {
		l, o := rig.step(t, co)
		if l.Action == queue.ActionCreate {
			if o.State != queue.StateDelivered {
				t.Fatalf("create: %+v", o)
			}
			break
		}
		if o.State != queue.Offline {
			t.Fatalf("addition before its create: %+v", o)
		}
		rig.clock.Add(waitForCreate)
	}
	rig.clock.Add(waitForCreate)
	ad.script = []createStep{{err: &connectors.Error{Op: "add", Class: connectors.Retryable, Sent: true, Err: errors.New("connection reset")}, createToo: true}}
	if l, o := rig.step(t, co); l.Action != queue.ActionUpdate || o.State != queue.StateRetry {
		t.Fatalf("addition with its answer lost: %s %+v", l.Action, o)
	}
	rig.clock.Add(2 * time.Hour)
	l, o := rig.step(t, co)
	if !l.Uncertain || o.State != queue.StateDelivered || o.RemoteNumber == "" {
		t.Fatalf("retry: uncertain=%v %+v", l.Uncertain, o)
	}
	for id, keys := range ad.comments {
		if len(keys) != 1 {
			t.Errorf("ticket %s holds %d copies of the addition, want 1", id, len(keys))
		}
	}
	if got, _ := rig.store.List(ctx, queue.Filter{}); len(got) != 1 {
		t.Errorf("queue list shows %d tickets, want the one (additions are listed under it)", len(got))
	}
	if adds, _ := rig.store.Additions(ctx, parent); len(adds) != 1 || adds[0].Deliveries[0].State != queue.StateDelivered {
		t.Errorf("additions %+v", adds)
	}
}

// A connector that cannot add comments yet fails the addition for good,
// saying so; a ticket whose create died takes no additions.
func TestAdditionRefused(t *testing.T) {
	rig := newCourierRig(t, true, "A")
	rig.report(t, 1)
	co := rig.courier(t, CourierOptions{})
	ctx := context.Background()
	items, _ := rig.store.List(ctx, queue.Filter{})
	rig.step(t, co) // the create
	addTo(t, rig, items[0].ID, "A")
	if _, o := rig.step(t, co); o.State != queue.StateDead || o.Error != connectors.ErrAddUnsupported.Error() {
		t.Errorf("addition through a connector without Add: %+v", o)
	}
}
