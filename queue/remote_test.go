package queue

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// deliverAll enqueues n tickets for connection conn and records each as
// delivered, returning the delivery ids.
func deliverAll(t *testing.T, s *Store, conn string, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if _, err := s.Enqueue(ctx, s.now(), []byte("ticket"), []Target{{Connection: conn, Action: ActionCreate}}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := s.Lease(ctx, LeaseOptions{Limit: n, Connection: conn})
	if err != nil || len(ls) != n {
		t.Fatalf("lease: %v, %d", err, len(ls))
	}
	var ids []int64
	for i, l := range ls {
		if err := s.Complete(ctx, l, Outcome{State: StateDelivered, RemoteID: "r" + string(rune('a'+i)), RemoteNumber: "INC" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	return ids
}

func TestRemoteState(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	ids := deliverAll(t, s, "A", 3)
	deliverAll(t, s, "B", 1)

	rs, err := s.Remotes(ctx, "A", true)
	if err != nil || len(rs) != 3 || rs[0].Status != "" || rs[0].Detail != nil || rs[0].RemoteNumber == "" {
		t.Fatalf("before any sync: %v %+v", err, rs)
	}
	secret := []byte(`{"assignee":"Agent Smith","comments":["restart it"]}`)
	for _, tt := range []struct {
		id      int64
		status  string
		detail  []byte
		changed bool
		before  string
	}{
		{ids[0], "in_progress", secret, true, ""},
		{ids[0], "in_progress", secret, false, "in_progress"},
		{ids[0], "resolved", secret, true, "in_progress"},
		{ids[1], StatusClosed, []byte("{}"), true, ""},
	} {
		changed, before, err := s.SetRemote(ctx, tt.id, tt.status, tt.detail)
		if err != nil || changed != tt.changed || before != tt.before {
			t.Errorf("SetRemote(%d, %s) = %v, %q, %v; want %v, %q", tt.id, tt.status, changed, before, err, tt.changed, tt.before)
		}
	}
	open, err := s.Remotes(ctx, "A", true)
	if err != nil || len(open) != 2 || open[0].ID != ids[0] || open[0].Status != "resolved" || !bytes.Equal(open[0].Detail, secret) || open[1].ID != ids[2] {
		t.Errorf("open remotes of A: %v %+v", err, open)
	}
	if all, _ := s.Remotes(ctx, "", false); len(all) != 4 {
		t.Errorf("every remote: %d, want 4", len(all))
	}
	// Sealed at rest, and through a key rotation.
	if _, err := s.RotateDEK(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Remotes(ctx, "A", false); !bytes.Equal(again[0].Detail, secret) {
		t.Errorf("after rotation: %q", again[0].Detail)
	}
	s.Close()
	for _, f := range []string{s.Path(), s.Path() + "-wal"} {
		data, _ := os.ReadFile(f)
		if bytes.Contains(data, []byte("Agent Smith")) {
			t.Errorf("%s holds the assignee's name in clear", f)
		}
	}
}
