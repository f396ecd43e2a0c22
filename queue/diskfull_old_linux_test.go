package queue

import (
	"context"
	"path/filepath"
	"testing"
)

// TestFullDiskSchema8Readable: the first open after the upgrade
// finds the disk full, so 0009 cannot be applied and the queue opens
// read-only at schema 8 ("what was queued stays readable"). The status
// line's reads must still work there; they now name settled_at and
// deliveries_open, which schema 8 does not have.
func TestFullDiskSchema8Readable(t *testing.T) {
	ctx := context.Background()
	dir := tinyDisk(t)
	path := filepath.Join(dir, "queue.db")
	s := openStore(t, path, Options{KEK: fastKEK("pw")})
	enqueue(t, s, t0, "waiting", Target{"SN", ActionCreate})
	enqueue(t, s, t0, "in flight", Target{"SN", ActionCreate})
	leaseOne(t, s, "SN")
	s.Close()
	raw := rawDB(t, path)
	downTo8(t, raw)
	raw.Close()
	fillDisk(t, dir)

	ro, err := Open(ctx, path, Options{KEK: fastKEK("pw")})
	if err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	defer ro.Close()
	if items, err := ro.List(ctx, Filter{}); err != nil || len(items) != 2 {
		t.Errorf("List = %d, %v", len(items), err)
	}
	if c, err := ro.Counts(ctx); err != nil {
		t.Errorf("Counts on the read-only schema-8 queue: %v", err)
	} else {
		t.Logf("Counts = %v", c)
	}
	if _, err := ro.Left(ctx); err != nil {
		t.Errorf("Left: %v", err)
	}
	if _, _, err := ro.NextDue(ctx, "SN"); err != nil {
		t.Errorf("NextDue: %v", err)
	}
}
