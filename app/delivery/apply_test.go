package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
)

// A pushed update (a webhook) is recorded like a sync's, matched by remote
// id or number; what it leaves out keeps what is stored; an older one or a
// replay changes nothing; an unknown ticket is not known; the supervisor
// tells OnStatus of a change even with no courier running.
func TestApplyPushedUpdate(t *testing.T) {
	rig := newCourierRig(t, false, "A")
	rig.cfg.Connections[0].Mappings = map[string]map[string]string{"status": {"6": connectors.StateResolved, "2": connectors.StateInProgress}}
	rig.report(t, 2)
	co := rig.courier(t, CourierOptions{Guard: connectors.GuardOptions{RatePerSecond: 1000, Burst: 1000}})
	ctx := context.Background()
	if err := co.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ := rig.store.Remotes(ctx, "A", false)
	if len(all) != 2 {
		t.Fatalf("%d delivered", len(all))
	}
	t0 := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC)

	known, ch, err := co.Apply(ctx, "A", connectors.Update{Remote: connectors.Remote{ID: all[0].RemoteID}, Status: "2", Assignee: "Beth", UpdatedAt: t0}, true)
	if err != nil || !known || ch == nil || ch.After != connectors.StateInProgress || ch.TicketID != all[0].TicketID {
		t.Fatalf("by id: known %v, change %+v, err %v", known, ch, err)
	}
	// By number, a comment only: status and assignee are kept.
	u := connectors.Update{Remote: connectors.Remote{Number: all[0].RemoteNumber}, UpdatedAt: t0.Add(time.Minute),
		Comments: []connectors.RemoteComment{{ID: "c1", Body: "On it.", CreatedAt: t0.Add(time.Minute)}}}
	if known, ch, err = co.Apply(ctx, "A", u, false); err != nil || !known || ch != nil {
		t.Fatalf("comment: known %v, change %+v, err %v", known, ch, err)
	}
	got, _ := rig.store.Remotes(ctx, "A", false)
	d := ParseRemoteDetail(got[0].Detail)
	if got[0].Status != connectors.StateInProgress || d.RemoteStatus != "2" || d.Assignee != "Beth" || len(d.Comments) != 1 || !d.RemoteUpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("after the comment: %q %+v", got[0].Status, d)
	}
	// Older than what is stored: ignored.
	if known, ch, err = co.Apply(ctx, "A", connectors.Update{Remote: connectors.Remote{ID: all[0].RemoteID}, Status: "6", UpdatedAt: t0}, true); err != nil || !known || ch != nil {
		t.Fatalf("stale: known %v, change %+v, err %v", known, ch, err)
	}
	if got, _ = rig.store.Remotes(ctx, "A", false); got[0].Status != connectors.StateInProgress || ParseRemoteDetail(got[0].Detail).Assignee != "Beth" {
		t.Errorf("a stale update changed the ticket: %q", got[0].Status)
	}
	// Unknown ticket, unknown connection.
	if known, _, err = co.Apply(ctx, "A", connectors.Update{Remote: connectors.Remote{ID: "nope", Number: "INC9"}, Status: "6"}, true); known || err != nil {
		t.Errorf("unknown ticket: known %v, err %v", known, err)
	}
	if known, _, _ = co.Apply(ctx, "B", connectors.Update{Remote: connectors.Remote{ID: all[0].RemoteID}, Status: "6"}, true); known {
		t.Error("a ticket of A known to B")
	}

	// The supervisor with no courier running records with the config in
	// force and tells OnStatus; a replay of the same update changes nothing.
	var told []Change
	sup := New(Options{Store: rig.store, Config: &config.Loaded{Config: rig.cfg}, OnStatus: func(c Change) { told = append(told, c) }})
	resolve := connectors.Update{Remote: connectors.Remote{ID: all[1].RemoteID}, Status: "6", UpdatedAt: t0}
	for range 2 {
		if known, _, err = sup.Apply(ctx, "A", resolve, false); !known || err != nil {
			t.Fatalf("supervisor: known %v, err %v", known, err)
		}
	}
	if len(told) != 1 || told[0].After != connectors.StateResolved || !told[0].Notable() {
		t.Errorf("OnStatus told %+v", told)
	}
}
