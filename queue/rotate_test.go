package queue

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// dekUse counts the sealed blobs per data key in every table.
func dekUse(t *testing.T, raw *sql.DB) map[string]map[int64]int64 {
	t.Helper()
	out := map[string]map[int64]int64{}
	for _, q := range []struct{ name, sql string }{
		{"tickets", "SELECT dek_id, COUNT(*) FROM tickets GROUP BY dek_id"},
		{"deliveries", "SELECT error_dek_id, COUNT(*) FROM deliveries WHERE last_error IS NOT NULL GROUP BY error_dek_id"},
		{"events", "SELECT dek_id, COUNT(*) FROM events WHERE detail IS NOT NULL GROUP BY dek_id"},
		{"deks", "SELECT id, 1 FROM deks"},
	} {
		rows, err := raw.Query(q.sql)
		if err != nil {
			t.Fatal(err)
		}
		m := map[int64]int64{}
		for rows.Next() {
			var id, n int64
			if err := rows.Scan(&id, &n); err != nil {
				t.Fatal(err)
			}
			m[id] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		out[q.name] = m
	}
	return out
}

func sprint(v any) string { return fmt.Sprint(v) }

// snapshot is everything a store decrypts, to compare before and after.
type snapshot struct {
	payloads map[string]string
	errors   map[int64]string
	details  map[int64][]string
}

func takeSnapshot(t *testing.T, s *Store) snapshot {
	t.Helper()
	snap := snapshot{payloads: map[string]string{}, errors: map[int64]string{}, details: map[int64][]string{}}
	for _, it := range list(t, s, "") {
		if it.Err != nil {
			t.Fatalf("ticket %s: %v", it.ID, it.Err)
		}
		snap.payloads[it.ID] = string(it.Payload)
		for _, d := range it.Deliveries {
			snap.errors[d.ID] = d.LastError
			for _, e := range events(t, s, d.ID) {
				snap.details[d.ID] = append(snap.details[d.ID], e.Detail)
			}
		}
	}
	return snap
}

func (a snapshot) equal(b snapshot) bool {
	return sprint(a.payloads) == sprint(b.payloads) && sprint(a.errors) == sprint(b.errors) && sprint(a.details) == sprint(b.details)
}

// populate makes tickets with sealed payloads, delivery errors and event
// details.
func populate(t *testing.T, s *Store) {
	t.Helper()
	for i := range 3 {
		enqueue(t, s, t0, fmt.Sprintf("ticket %d from dave@example.com", i), Target{"zendesk", ActionCreate}, Target{"jira", ActionCreate})
	}
	complete(t, s, leaseOne(t, s, "zendesk"), Outcome{State: StateDead, Error: "dead: dave@example.com unknown"})
	complete(t, s, leaseOne(t, s, "zendesk"), Outcome{State: StateRetry, Error: "retry: 503", NextAttemptAt: t0.Add(time.Hour)})
	complete(t, s, leaseOne(t, s, "zendesk"), Outcome{State: StateDelivered, RemoteNumber: "#7"})
	complete(t, s, leaseOne(t, s, "jira"), Outcome{State: Offline}) // an event without detail
}

func TestRotateDEK(t *testing.T) {
	clk := newFakeClock(t0)
	path := dbPath(t)
	kek := fastKEK("rotate me")
	s := openStore(t, path, Options{KEK: kek, Now: clk.Now})
	ctx := context.Background()
	populate(t, s)
	raw := rawDB(t, path)
	before := takeSnapshot(t, s)
	if got, want := sprint(dekUse(t, raw)), sprint(map[string]map[int64]int64{
		"tickets": {1: 3}, "deliveries": {1: 2}, "events": {1: 2}, "deks": {1: 1}, // the delivered outcome is the row itself, no sealed event
	}); got != want {
		t.Fatalf("before rotation: %s, want %s", got, want)
	}
	oldBlobs := map[string][]byte{}
	for id := range before.payloads {
		oldBlobs[id] = ticketBlob(t, raw, id)
	}

	res, err := s.RotateDEK(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%+v", res), fmt.Sprintf("%+v", RotateResult{DEK: 2, Reencrypted: 3 + 2 + 2}); got != want {
		t.Errorf("RotateDEK = %s, want %s", got, want)
	}
	if got, want := sprint(dekUse(t, raw)), sprint(map[string]map[int64]int64{
		"tickets": {2: 3}, "deliveries": {2: 2}, "events": {2: 2}, "deks": {2: 1},
	}); got != want {
		t.Errorf("after rotation: %s, want %s", got, want)
	}
	for id, old := range oldBlobs {
		if bytes.Equal(ticketBlob(t, raw, id), old) {
			t.Errorf("ticket %s: the blob was not re-sealed", id)
		}
	}
	if got := takeSnapshot(t, s); !got.equal(before) {
		t.Errorf("after rotation the store decrypts\n%+v, want\n%+v", got, before)
	}
	// New writes use the new key.
	newID := enqueue(t, s, t0, "after rotation")
	if got, want := queryInt(t, raw, "SELECT COUNT(*) FROM tickets WHERE dek_id = 2"), int64(4); got != want {
		t.Errorf("%d tickets on key 2, want %d", got, want)
	}

	s.Close()
	s = openStore(t, path, Options{KEK: kek, Now: clk.Now})
	after := takeSnapshot(t, s)
	if got, want := after.payloads[newID], "after rotation"; got != want {
		t.Errorf("ticket written after the rotation = %q, want %q", got, want)
	}
	delete(after.payloads, newID)
	if !after.equal(before) {
		t.Errorf("after reopen the store decrypts\n%+v, want\n%+v", after, before)
	}

	// A second rotation makes yet another key.
	res, err = s.RotateDEK(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := [2]any{res.DEK, res.Resumed}, [2]any{int64(3), false}; got != want {
		t.Errorf("second rotation: DEK, Resumed = %v, want %v", got, want)
	}
	if got, want := sprint(dekUse(t, raw)["deks"]), sprint(map[int64]int64{3: 1}); got != want {
		t.Errorf("deks after second rotation: %s, want %s", got, want)
	}
}

func TestRotateDEKResumesAfterInterruption(t *testing.T) {
	const n = 450 // more than two batches
	if n <= 2*rotateBatch {
		t.Fatalf("n = %d must exceed two batches of %d", n, rotateBatch)
	}
	clk := newFakeClock(t0)
	path := dbPath(t)
	kek := fastKEK("resume")
	s := openStore(t, path, Options{KEK: kek, Now: clk.Now})
	ctx := context.Background()
	for i := range n {
		enqueue(t, s, t0, fmt.Sprint("t", i))
	}
	raw := rawDB(t, path)

	interrupt := errors.New("power cut")
	batches := 0
	afterRotateBatch = func() error {
		batches++
		if batches == 1 {
			return interrupt
		}
		return nil
	}
	t.Cleanup(func() { afterRotateBatch = nil })

	_, err := s.RotateDEK(ctx)
	if !errors.Is(err, interrupt) {
		t.Fatalf("RotateDEK = %v, want the interruption", err)
	}
	if got, want := sprint(dekUse(t, raw)["tickets"]), sprint(map[int64]int64{1: n - rotateBatch, 2: rotateBatch}); got != want {
		t.Fatalf("after the interruption tickets per key = %s, want %s", got, want)
	}
	if got, want := sprint(dekUse(t, raw)["deks"]), sprint(map[int64]int64{1: 1, 2: 1}); got != want {
		t.Fatalf("after the interruption deks = %s, want %s", got, want)
	}
	// Half-rotated, everything still reads, and new tickets use key 2.
	s.Close()
	s = openStore(t, path, Options{KEK: kek, Now: clk.Now})
	items := list(t, s, "")
	if got, want := len(items), n; got != want {
		t.Fatalf("%d tickets, want %d", got, want)
	}
	for i, it := range items {
		if it.Err != nil {
			t.Fatalf("ticket %d: %v", i, it.Err)
		}
	}
	extra := enqueue(t, s, t0, "during the half-done rotation")
	if got, want := queryInt(t, raw, "SELECT dek_id FROM tickets WHERE id = ?", extra), int64(2); got != want {
		t.Errorf("new ticket sealed with key %d, want %d", got, want)
	}

	res, err := s.RotateDEK(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%+v", res), fmt.Sprintf("%+v", RotateResult{DEK: 2, Resumed: true, Reencrypted: n - rotateBatch}); got != want {
		t.Errorf("resumed RotateDEK = %s, want %s", got, want)
	}
	if got, want := sprint(dekUse(t, raw)), sprint(map[string]map[int64]int64{
		"tickets": {2: n + 1}, "deliveries": {}, "events": {}, "deks": {2: 1},
	}); got != want {
		t.Errorf("after resuming: %s, want %s", got, want)
	}
	want := map[string]string{}
	for _, it := range items {
		want[it.ID] = string(it.Payload)
	}
	want[extra] = "during the half-done rotation"
	s.Close()
	s = openStore(t, path, Options{KEK: kek, Now: clk.Now})
	if got := takeSnapshot(t, s).payloads; sprint(got) != sprint(want) {
		t.Errorf("after resuming and reopening, payloads differ")
	}
}

func TestRotateDEKSkipsTampered(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	good := enqueue(t, s, t0, "good")
	bad := enqueue(t, s, t0, "bad")
	raw := rawDB(t, s.Path())
	setTicketBlob(t, raw, bad, flip(ticketBlob(t, raw, bad), 25))

	res, err := s.RotateDEK(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Skipped, []string{"tickets " + bad}; !slices.Equal(got, want) {
		t.Errorf("Skipped = %v, want %v", got, want)
	}
	if got, want := res.Reencrypted, 1; got != want {
		t.Errorf("Reencrypted = %d, want %d", got, want)
	}
	// The key still sealing the tampered blob is kept; the good ticket moved.
	if got, want := sprint(dekUse(t, raw)), sprint(map[string]map[int64]int64{
		"tickets": {1: 1, 2: 1}, "deliveries": {}, "events": {}, "deks": {1: 1, 2: 1},
	}); got != want {
		t.Errorf("after rotation: %s, want %s", got, want)
	}
	if it := get(t, s, good); string(it.Payload) != "good" {
		t.Errorf("good ticket: %q, %v", it.Payload, it.Err)
	}
	if it := get(t, s, bad); !errors.Is(it.Err, ErrTampered) {
		t.Errorf("bad ticket: Err = %v, want ErrTampered", it.Err)
	}
}

func TestRewrapKEK(t *testing.T) {
	keyringA, keyringB := newMemSecrets(), newMemSecrets()
	tests := []struct {
		name     string
		from, to KEKSource
	}{
		{"passphrase to passphrase", fastKEK("old passphrase"), fastKEK("new passphrase")},
		{"passphrase to keyring", fastKEK("old passphrase"), KeyringKEK{Store: keyringA}},
		{"keyring to passphrase", KeyringKEK{Store: keyringA}, fastKEK("new passphrase")},
		{"keyring to another keyring", KeyringKEK{Store: keyringA}, KeyringKEK{Store: keyringB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := dbPath(t)
			s := openStore(t, path, Options{KEK: tt.from})
			populate(t, s)
			if _, err := s.RotateDEK(ctx); err != nil { // two DEK ids in its history
				t.Fatal(err)
			}
			before := takeSnapshot(t, s)
			raw := rawDB(t, path)
			var wrappedBefore []byte
			if err := raw.QueryRow("SELECT wrapped FROM deks").Scan(&wrappedBefore); err != nil {
				t.Fatal(err)
			}
			blobsBefore := dekUse(t, raw)

			if err := s.RewrapKEK(ctx, tt.to); err != nil {
				t.Fatal(err)
			}
			// The open store keeps working, and payloads were not touched.
			if got := takeSnapshot(t, s); !got.equal(before) {
				t.Errorf("after RewrapKEK the open store decrypts %+v, want %+v", got, before)
			}
			if got, want := sprint(dekUse(t, raw)), sprint(blobsBefore); got != want {
				t.Errorf("RewrapKEK re-sealed payloads: %s, want %s", got, want)
			}
			var wrappedAfter []byte
			if err := raw.QueryRow("SELECT wrapped FROM deks").Scan(&wrappedAfter); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(wrappedAfter, wrappedBefore) {
				t.Error("the data key was not re-wrapped")
			}
			id := enqueue(t, s, t0, "after rewrap")
			s.Close()

			if _, err := Open(ctx, path, Options{KEK: tt.from}); !errors.Is(err, ErrWrongKey) {
				t.Errorf("Open with the old key source = %v, want ErrWrongKey", err)
			}
			s = openStore(t, path, Options{KEK: tt.to})
			got := takeSnapshot(t, s)
			if p := got.payloads[id]; p != "after rewrap" {
				t.Errorf("ticket written after the rewrap = %q", p)
			}
			delete(got.payloads, id)
			if !got.equal(before) {
				t.Errorf("after reopening with the new key: %+v, want %+v", got, before)
			}
		})
	}
}

func TestRewrapKEKFailureKeepsOldKey(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	old := fastKEK("old")
	s := openStore(t, path, Options{KEK: old})
	id := enqueue(t, s, t0, "x")
	broken := newMemSecrets()
	broken.setErr = errors.New("keyring unavailable")
	if err := s.RewrapKEK(ctx, KeyringKEK{Store: broken}); !errors.Is(err, broken.setErr) {
		t.Fatalf("RewrapKEK = %v, want %v", err, broken.setErr)
	}
	if err := s.RewrapKEK(ctx, PassphraseKEK{Passphrase: nil}); err == nil {
		t.Fatal("RewrapKEK to an empty passphrase succeeded")
	}
	enqueue(t, s, t0, "y")
	s.Close()
	s = openStore(t, path, Options{KEK: old})
	if got, want := string(get(t, s, id).Payload), "x"; got != want {
		t.Errorf("payload = %q, want %q", got, want)
	}
}

// TestRotateSeenByOtherHandle checks that a second process picks up keys
// that another one added and retired.
func TestRotateSeenByOtherHandle(t *testing.T) {
	path := dbPath(t)
	kek := fastKEK("shared")
	a := openStore(t, path, Options{KEK: kek})
	b := openStore(t, path, Options{KEK: kek})
	ctx := context.Background()
	id := enqueue(t, a, t0, "from a")
	for range 2 {
		if _, err := a.RotateDEK(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := string(get(t, b, id).Payload), "from a"; got != want {
		t.Errorf("b reads %q, want %q", got, want)
	}
	idB := enqueue(t, b, t0.Add(time.Second), "from b")
	raw := rawDB(t, path)
	if got, want := queryInt(t, raw, "SELECT dek_id FROM tickets WHERE id = ?", idB), int64(3); got != want {
		t.Errorf("b sealed with key %d after a's rotations, want %d", got, want)
	}
	if got, want := string(get(t, a, idB).Payload), "from b"; got != want {
		t.Errorf("a reads %q, want %q", got, want)
	}
}

// TestRotateDEKAfterSkippedBlobStillRotates: a tampered blob keeps its old
// key alive, but that is not an interrupted rotation: the next RotateDEK
// must still make a new key.
func TestRotateDEKAfterSkippedBlobStillRotates(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	good := enqueue(t, s, t0, "good")
	bad := enqueue(t, s, t0, "bad")
	raw := rawDB(t, s.Path())
	setTicketBlob(t, raw, bad, flip(ticketBlob(t, raw, bad), 25))

	for i, want := range []RotateResult{
		{DEK: 2, Reencrypted: 1, Skipped: []string{"tickets " + bad}},
		{DEK: 3, Reencrypted: 1, Skipped: []string{"tickets " + bad}},
	} {
		res, err := s.RotateDEK(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprintf("%+v", res), fmt.Sprintf("%+v", want); got != want {
			t.Errorf("rotation %d = %s, want %s", i+1, got, want)
		}
	}
	// Key 1 stays for the tampered blob; key 2 sealed nothing left.
	if got, want := sprint(dekUse(t, raw)), sprint(map[string]map[int64]int64{
		"tickets": {1: 1, 3: 1}, "deliveries": {}, "events": {}, "deks": {1: 1, 3: 1},
	}); got != want {
		t.Errorf("after two rotations: %s, want %s", got, want)
	}
	if it := get(t, s, good); string(it.Payload) != "good" {
		t.Errorf("good ticket: %q, %v", it.Payload, it.Err)
	}
}

// TestEnqueueAfterOtherHandleRotated: a handle that has read nothing since
// another one rotated the key still seals a new ticket with the newest key
// (the insert checks it, and the ticket is sealed again), so a rotation is
// never undercut.
func TestEnqueueAfterOtherHandleRotated(t *testing.T) {
	path := dbPath(t)
	kek := fastKEK("shared")
	a := openStore(t, path, Options{KEK: kek})
	b := openStore(t, path, Options{KEK: kek})
	ctx := context.Background()
	for range 2 {
		if _, err := a.RotateDEK(ctx); err != nil {
			t.Fatal(err)
		}
	}
	idB := enqueue(t, b, t0, "from b", Target{"zendesk", ActionCreate})
	raw := rawDB(t, path)
	if got, want := queryInt(t, raw, "SELECT dek_id FROM tickets WHERE id = ?", idB), int64(3); got != want {
		t.Errorf("b sealed with key %d after a's rotations, want %d", got, want)
	}
	if got := queryInt(t, raw, "SELECT COUNT(*) FROM tickets"); got != 1 {
		t.Errorf("%d tickets, want 1", got)
	}
	if got := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries"); got != 1 {
		t.Errorf("%d deliveries, want 1 (the stale attempt wrote nothing)", got)
	}
	if got, want := string(get(t, a, idB).Payload), "from b"; got != want {
		t.Errorf("a reads %q, want %q", got, want)
	}
}
