package queue

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"modernc.org/sqlite"
)

// commitArm, when set, is run (once) by the commit hook of whichever
// connection commits next; canceled is that connection's driver flag,
// set once the driver has seen the call's context end.
var commitArm atomic.Pointer[func(canceled *atomic.Int32, watched bool)]

var hookOnce sync.Once

// hookCommits makes every connection opened from now on run commitArm at
// its next commit.
func hookCommits() {
	hookOnce.Do(func() {
		sqlite.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
			// The driver's own flags (modernc.org/sqlite v1.61): the test
			// must wait until the driver has seen the cancel to fail
			// without the fix every time.
			rc := reflect.ValueOf(c).Elem()
			cf, wf := rc.FieldByName("canceled"), rc.FieldByName("waitCtx")
			if !cf.IsValid() || !wf.IsValid() || cf.Type() != reflect.TypeOf(atomic.Int32{}) || wf.Type() != reflect.TypeOf((*context.Context)(nil)).Elem() {
				return errors.New("commitcancel_test: modernc.org/sqlite's conn has no canceled and waitCtx fields any more: update this test for the driver")
			}
			canceled := (*atomic.Int32)(unsafe.Pointer(cf.UnsafeAddr()))
			waitCtx := (*context.Context)(unsafe.Pointer(wf.UnsafeAddr()))
			c.(interface{ RegisterCommitHook(sqlite.CommitHookFn) }).RegisterCommitHook(func() int32 {
				if fn := commitArm.Swap(nil); fn != nil {
					// The driver watches the call's context only when it
					// can end (then waitCtx is it): wait for it to notice.
					watched := *waitCtx != nil && (*waitCtx).Done() != nil
					(*fn)(canceled, watched)
				}
				return 0 // go on committing
			})
			return nil
		})
	})
}

// cancelDuringCommit arms the hook: the next commit cancels ctx and waits
// until the driver has seen it, then lets the commit go on to disk.
func cancelDuringCommit(cancel context.CancelFunc) {
	fn := func(canceled *atomic.Int32, watched bool) {
		cancel()
		for watched && canceled.Load() == 0 {
			runtime.Gosched()
		}
	}
	commitArm.Store(&fn)
}

// TestEnqueueCanceledDuringCommit: an Enqueue whose context ends
// while its commit is being written must not report failure for a ticket
// that is durably queued (the caller would submit it again: a duplicate
// ticket at the help desk). With a transaction (EnqueueBatch, or before
// 7028d3f) an error always meant nothing was stored.
func TestEnqueueCanceledDuringCommit(t *testing.T) {
	hookCommits()
	path := dbPath(t)
	s := openStore(t, path, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelDuringCommit(cancel)
	id, err := s.Enqueue(ctx, t0, []byte("my printer is on fire"), []Target{{"SN", ActionCreate}})
	commitArm.Store(nil)
	n := queryInt(t, rawDB(t, path), "SELECT COUNT(*) FROM tickets")
	t.Logf("Enqueue = %q, %v; tickets stored: %d", id, err, n)
	if err != nil && n != 0 {
		t.Errorf("Enqueue failed (%v) but the ticket is queued: a resubmit sends it twice", err)
	}
	if err == nil && n != 1 {
		t.Errorf("Enqueue succeeded but %d tickets are stored", n)
	}
}

// TestBatchCanceledDuringCommit: the same through a transaction
// (EnqueueBatch): error and stored never go together.
func TestBatchCanceledDuringCommit(t *testing.T) {
	hookCommits()
	path := dbPath(t)
	s := openStore(t, path, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelDuringCommit(cancel)
	nt := NewTicket{CreatedAt: t0, Payload: []byte("x"), Targets: []Target{{"SN", ActionCreate}}}
	ids, err := s.EnqueueBatch(ctx, []NewTicket{nt, nt})
	commitArm.Store(nil)
	n := queryInt(t, rawDB(t, path), "SELECT COUNT(*) FROM tickets")
	t.Logf("EnqueueBatch = %v, %v; tickets stored: %d", ids, err, n)
	if err != nil && n != 0 {
		t.Errorf("EnqueueBatch failed (%v) but %d tickets are queued", err, n)
	}
}

// TestDeliveredCanceledDuringCommit: a delivered outcome recorded
// while its context ends is reported as failed though it is recorded.
func TestDeliveredCanceledDuringCommit(t *testing.T) {
	hookCommits()
	s, _ := newStore(t)
	enqueue(t, s, t0, "x", Target{"SN", ActionCreate})
	l := leaseOne(t, s, "SN")
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cancelDuringCommit(cancel)
	err := s.Complete(ctx, l, Outcome{State: StateDelivered, RemoteNumber: "INC1"})
	commitArm.Store(nil)
	st := get(t, s, l.TicketID).Deliveries[0].State
	t.Logf("Complete = %v; delivery is %s", err, st)
	if err != nil && st == StateDelivered {
		t.Errorf("Complete failed (%v) but the delivery is recorded delivered", err)
	}
}
