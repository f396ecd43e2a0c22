package queue

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnqueueGetListRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	targets := []Target{{Connection: "zendesk", Action: ActionCreate}, {Connection: "jira", Action: ActionSync}}
	createdAt := time.Date(2025, 3, 1, 8, 0, 0, 123_456_789, time.UTC)
	payload := []byte(`{"summary":"VPN drops every hour","reporter":"bob@example.com"}`)

	id, err := s.Enqueue(ctx, createdAt, payload, targets)
	if err != nil {
		t.Fatal(err)
	}
	it := get(t, s, id)
	if got, want := it.ID, id; got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}
	if it.Err != nil {
		t.Errorf("Err = %v, want nil", it.Err)
	}
	if got, want := it.Payload, payload; !bytes.Equal(got, want) {
		t.Errorf("Payload = %q, want %q", got, want)
	}
	if got, want := it.CreatedAt, createdAt.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", got, want)
	}
	if got, want := len(it.Deliveries), len(targets); got != want {
		t.Fatalf("%d deliveries, want %d", got, want)
	}
	for i, d := range it.Deliveries {
		if got, want := (Target{d.Connection, d.Action}), targets[i]; got != want {
			t.Errorf("delivery %d target = %+v, want %+v", i, got, want)
		}
		if got, want := d.State, StatePending; got != want {
			t.Errorf("delivery %d state = %q, want %q", i, got, want)
		}
		if got, want := d.TicketID, id; got != want {
			t.Errorf("delivery %d ticket = %q, want %q", i, got, want)
		}
		if got, want := d.Attempts, 0; got != want {
			t.Errorf("delivery %d attempts = %d, want %d", i, got, want)
		}
		if got, want := d.NextAttemptAt, t0; !got.Equal(want) {
			t.Errorf("delivery %d due %v, want %v (the injected clock)", i, got, want)
		}
	}

	items := list(t, s, "")
	if got, want := ids(items), []string{id}; !slices.Equal(got, want) {
		t.Fatalf("List ids = %v, want %v", got, want)
	}
	if got, want := items[0].Payload, payload; !bytes.Equal(got, want) {
		t.Errorf("List payload = %q, want %q", got, want)
	}
}

func TestEnqueueRejectsBadTargetAtomically(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
	}{
		{"no connection", []Target{{Connection: "", Action: ActionCreate}}},
		{"unknown action", []Target{{Connection: "zendesk", Action: "delete"}}},
		{"bad second target", []Target{{Connection: "zendesk", Action: ActionCreate}, {Connection: "jira", Action: "nuke"}}},
		{"two creates on one connection", []Target{{Connection: "zendesk", Action: ActionCreate}, {Connection: "zendesk", Action: ActionCreate}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			if _, err := s.Enqueue(context.Background(), t0, []byte("x"), tt.targets); err == nil {
				t.Fatal("Enqueue succeeded, want an error")
			}
			raw := rawDB(t, s.Path())
			if got, want := queryInt(t, raw, "SELECT COUNT(*) FROM tickets"), int64(0); got != want {
				t.Errorf("%d tickets after a failed enqueue, want %d", got, want)
			}
			if got, want := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries"), int64(0); got != want {
				t.Errorf("%d deliveries after a failed enqueue, want %d", got, want)
			}
		})
	}
}

func TestListFilterByState(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	zd := Target{Connection: "zendesk", Action: ActionCreate}
	// Created out of order: List is oldest first by created_at.
	pending := enqueue(t, s, t0.Add(-1*time.Hour), "pending", Target{Connection: "pending", Action: ActionCreate})
	inFlight := enqueue(t, s, t0.Add(-2*time.Hour), "in flight", Target{Connection: "inflight", Action: ActionCreate})
	retry := enqueue(t, s, t0.Add(-3*time.Hour), "retry", Target{Connection: "retry", Action: ActionCreate})
	delivered := enqueue(t, s, t0.Add(-4*time.Hour), "delivered", Target{Connection: "delivered", Action: ActionCreate})
	dead := enqueue(t, s, t0.Add(-5*time.Hour), "dead", Target{Connection: "dead", Action: ActionCreate})
	mixed := enqueue(t, s, t0.Add(-6*time.Hour), "mixed", zd, Target{Connection: "delivered", Action: ActionSync})
	none := enqueue(t, s, t0.Add(-7*time.Hour), "no deliveries")

	leaseOne(t, s, "inflight")
	complete(t, s, leaseOne(t, s, "retry"), Outcome{State: StateRetry, NextAttemptAt: clk.Now().Add(time.Hour)})
	for _, c := range []string{"delivered", "delivered"} {
		complete(t, s, leaseOne(t, s, c), Outcome{State: StateDelivered, RemoteID: "1"})
	}
	complete(t, s, leaseOne(t, s, "dead"), Outcome{State: StateDead, Error: "400"})

	tests := []struct {
		state string
		want  []string
	}{
		{"", []string{none, mixed, dead, delivered, retry, inFlight, pending}},
		{StatePending, []string{mixed, retry, inFlight, pending}},
		{StateInFlight, []string{inFlight}},
		{StateRetry, []string{retry}},
		{StateDelivered, []string{mixed, delivered}},
		{StateDead, []string{dead}},
	}
	for _, tt := range tests {
		t.Run("state="+tt.state, func(t *testing.T) {
			if got, want := ids(list(t, s, tt.state)), tt.want; !slices.Equal(got, want) {
				t.Errorf("List(%q) = %v, want %v", tt.state, got, want)
			}
		})
	}

	for _, bad := range []string{"bogus", "PENDING", "offline", "retry_requested"} {
		if _, err := s.List(ctx, Filter{State: bad}); err == nil {
			t.Errorf("List(%q) succeeded, want an error", bad)
		}
	}
}

// commonPrefix returns the longest common prefix of a and b.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

func TestGetByPrefix(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var all []string
	for i := range 3 {
		all = append(all, enqueue(t, s, t0, "ticket "+string(rune('A'+i))))
	}
	t.Run("unique prefixes", func(t *testing.T) {
		for _, id := range all {
			// The shortest prefix (>= 8) that no other id has.
			n := 8
			for _, other := range all {
				if other != id {
					n = max(n, len(commonPrefix(id, other))+1)
				}
			}
			for _, p := range []string{id, id[:n]} {
				it, err := s.Get(ctx, p)
				if err != nil {
					t.Fatalf("Get(%q): %v", p, err)
				}
				if got, want := it.ID, id; got != want {
					t.Errorf("Get(%q).ID = %q, want %q", p, got, want)
				}
			}
		}
	})

	// Ids are random, so a shared 8-character prefix is made by hand: a
	// twin row whose id extends all[0]'s first 8 characters.
	shared := all[0][:8]
	if _, err := s.db.Exec("INSERT INTO tickets (id, created_at, dek_id, payload) SELECT ?, created_at, dek_id, payload FROM tickets WHERE id = ?", shared+"-twin", all[0]); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		id       string
		notFound bool // else: some other error (ambiguous)
	}{
		{"ambiguous", shared, false},
		{"too short", all[0][:7], true},
		{"empty", "", true},
		{"missing", "ffffffff-ffff-7fff-bfff-ffffffffffff", true},
		{"missing prefix", "00000000", true},
		{"longer than the id", all[0] + "0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Get(ctx, tt.id)
			if err == nil {
				t.Fatalf("Get(%q) succeeded, want an error", tt.id)
			}
			if got, want := errors.Is(err, ErrNotFound), tt.notFound; got != want {
				t.Errorf("Get(%q) = %v; errors.Is(ErrNotFound) = %v, want %v", tt.id, err, got, want)
			}
			if !tt.notFound && !strings.Contains(err.Error(), "ambiguous") {
				t.Errorf("Get(%q) = %v, want it to say the prefix is ambiguous", tt.id, err)
			}
		})
	}
}

func TestDeleteAndCounts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	zd := Target{Connection: "zendesk", Action: ActionCreate}
	keep := enqueue(t, s, t0, "keep", zd)
	gone := enqueue(t, s, t0, "gone", zd, Target{Connection: "jira", Action: ActionSync})
	l := leaseOne(t, s, "jira")
	complete(t, s, l, Outcome{State: StateDead, Error: "no such project"})
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts, map[string]int{StatePending: 2, StateDead: 1, Unrouted: 0}; !mapsEqual(got, want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}
	// A ticket queued while no connection exists waits too.
	orphan := enqueue(t, s, t0, "orphan")
	if counts, err = s.Counts(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := counts, map[string]int{StatePending: 2, StateDead: 1, Unrouted: 1}; !mapsEqual(got, want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}

	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(list(t, s, "")), []string{keep, orphan}; !slices.Equal(got, want) {
		t.Errorf("after Delete, List = %v, want %v", got, want)
	}
	raw := rawDB(t, s.Path())
	if got := queryInt(t, raw, "SELECT COUNT(*) FROM deliveries WHERE ticket_id = ?", gone); got != 0 {
		t.Errorf("%d deliveries of the deleted ticket remain", got)
	}
	if got := queryInt(t, raw, "SELECT COUNT(*) FROM events WHERE delivery_id = ?", l.ID); got != 0 {
		t.Errorf("%d events of the deleted ticket remain", got)
	}
	if err := s.Delete(ctx, gone); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "nested")
	path := filepath.Join(dir, "queue.db")
	s := openStore(t, path, Options{})
	enqueue(t, s, t0, "make the WAL grow", Target{Connection: "zendesk", Action: ActionCreate})

	for _, d := range []string{filepath.Dir(dir), dir} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o700); got != want {
			t.Errorf("%s mode = %v, want %v", d, got, want)
		}
	}
	// While the store is open after a write, all three files exist.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatalf("queue file%s: %v", suffix, err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("%s mode = %v, want %v", path+suffix, got, want)
		}
	}
}

func TestOpenPathWithSpecialCharacters(t *testing.T) {
	// The DSN is a file: URI; characters that mean something in a URI
	// must not change which file is opened.
	path := filepath.Join(t.TempDir(), "my queue #1 ?x=1&y=%20", "queue.db")
	s := openStore(t, path, Options{})
	id := enqueue(t, s, t0, "hello")
	if got, want := s.Path(), path; got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the queue is not at the path given: %v", err)
	}
	if got, want := dirNames(t, filepath.Dir(path)), []string{"queue.db"}; !slices.Equal(got, want) {
		t.Errorf("files next to the queue = %v, want %v", got, want)
	}
	s2 := openStore(t, path, Options{})
	if got, want := string(get(t, s2, id).Payload), "hello"; got != want {
		t.Errorf("payload after reopen = %q, want %q", got, want)
	}
}

func TestOpenRelativePathIsAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := openStore(t, "queue.db", Options{})
	if got, want := s.Path(), filepath.Join(dir, "queue.db"); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
}

func TestOpenRequiresKEK(t *testing.T) {
	path := dbPath(t)
	if _, err := Open(context.Background(), path, Options{}); err == nil {
		t.Fatal("Open without a key source succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open without a key source created the file (stat: %v)", err)
	}
}

func TestOpenWrongKey(t *testing.T) {
	secrets := newMemSecrets()
	other := newMemSecrets()
	tests := []struct {
		name         string
		create, open KEKSource
		// prepare runs between create and open.
		prepare func()
	}{
		{"other passphrase", fastKEK("passphrase A"), fastKEK("passphrase B"), nil},
		{"other passphrase, same cost", fastKEK("A"), fastKEK("a"), nil},
		{"passphrase queue opened with keyring", fastKEK("passphrase A"), KeyringKEK{Store: secrets}, nil},
		{"keyring queue opened with passphrase", KeyringKEK{Store: secrets}, fastKEK("passphrase A"), nil},
		{"keyring item missing", KeyringKEK{Store: secrets}, KeyringKEK{Store: other}, nil},
		{"keyring item holds another key", KeyringKEK{Store: secrets}, KeyringKEK{Store: secrets}, func() {
			for _, n := range secrets.names() {
				secrets.items[n] = bytes.Repeat([]byte{7}, 32)
			}
		}},
		{"keyring item is not a 256-bit key", KeyringKEK{Store: secrets}, KeyringKEK{Store: secrets}, func() {
			for _, n := range secrets.names() {
				secrets.items[n] = []byte("hunter2")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "queue.db")
			s, err := Open(context.Background(), path, Options{KEK: tt.create})
			if err != nil {
				t.Fatal(err)
			}
			enqueue(t, s, t0, "secret", Target{Connection: "zendesk", Action: ActionCreate})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare()
			}
			before := fileSHA(t, path)

			s2, err := Open(context.Background(), path, Options{KEK: tt.open})
			if err == nil {
				s2.Close()
				t.Fatal("Open with the wrong key succeeded")
			}
			if !errors.Is(err, ErrWrongKey) {
				t.Errorf("Open = %v, want ErrWrongKey", err)
			}
			var ce *CorruptError
			if errors.As(err, &ce) {
				t.Errorf("a wrong key was reported as corruption: %v", err)
			}
			if got, want := fileSHA(t, path), before; got != want {
				t.Error("Open with the wrong key changed the queue file")
			}
			if got, want := dirNames(t, dir), []string{"queue.db"}; !slices.Equal(got, want) {
				t.Errorf("files after a wrong-key Open = %v, want %v", got, want)
			}
		})
	}
}

func TestOpenKeyringErrorIsNotWrongKey(t *testing.T) {
	// A locked or unreachable keyring is not proof of a wrong key: the
	// caller must not tell the user to reset the queue.
	secrets := newMemSecrets()
	path := dbPath(t)
	s := openStore(t, path, Options{KEK: KeyringKEK{Store: secrets}})
	s.Close()

	locked := errors.New("the keyring is locked")
	secrets.getErr = locked
	_, err := Open(context.Background(), path, Options{KEK: KeyringKEK{Store: secrets}})
	if !errors.Is(err, locked) {
		t.Errorf("Open = %v, want it to wrap %v", err, locked)
	}
	if errors.Is(err, ErrWrongKey) {
		t.Errorf("Open = %v: a keyring failure must not be ErrWrongKey", err)
	}

	secrets.getErr = nil
	openStore(t, path, Options{KEK: KeyringKEK{Store: secrets}})
}

func TestOpenKeyringSetFailureCanBeRetried(t *testing.T) {
	secrets := newMemSecrets()
	secrets.setErr = errors.New("no keyring daemon")
	path := dbPath(t)
	_, err := Open(context.Background(), path, Options{KEK: KeyringKEK{Store: secrets}})
	if !errors.Is(err, secrets.setErr) {
		t.Fatalf("Open = %v, want it to wrap %v", err, secrets.setErr)
	}
	// The failed creation left no half-made keys: the next Open (with a
	// working keyring or with a passphrase) creates them.
	secrets.setErr = nil
	s := openStore(t, path, Options{KEK: KeyringKEK{Store: secrets}})
	id := enqueue(t, s, t0, "after retry")
	if got, want := string(get(t, s, id).Payload), "after retry"; got != want {
		t.Errorf("payload = %q, want %q", got, want)
	}
	if got, want := len(secrets.names()), 1; got != want {
		t.Errorf("%d keyring items, want %d", got, want)
	}
}

func TestPassphraseCost(t *testing.T) {
	tests := []struct {
		name string
		kek  PassphraseKEK
		ok   bool
	}{
		{"minimum", PassphraseKEK{Passphrase: []byte("p"), Time: 1, MemoryKiB: 8 << 10, Threads: 1}, true},
		{"memory below minimum", PassphraseKEK{Passphrase: []byte("p"), Time: 1, MemoryKiB: 1 << 10, Threads: 1}, false},
		{"too many passes", PassphraseKEK{Passphrase: []byte("p"), Time: 17, MemoryKiB: 8 << 10, Threads: 1}, false},
		{"empty passphrase", PassphraseKEK{Time: 1, MemoryKiB: 8 << 10, Threads: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dbPath(t)
			s, err := Open(context.Background(), path, Options{KEK: tt.kek})
			if got, want := err == nil, tt.ok; got != want {
				t.Fatalf("Open = %v, want success %v", err, want)
			}
			if err == nil {
				s.Close()
				return
			}
			// A rejected cost must not leave key parameters behind that
			// no later Open accepts: a valid source still opens the file.
			s = openStore(t, path, Options{KEK: fastKEK("p")})
			id := enqueue(t, s, t0, "ok")
			if got, want := string(get(t, s, id).Payload), "ok"; got != want {
				t.Errorf("payload = %q, want %q", got, want)
			}
		})
	}
}

// TestCountsWorkLeft: Counts puts all the work left (waiting, in flight,
// waiting to retry) under pending and the settled deliveries under their
// state, and Left counts the work left per connection, at every step of a
// delivery's life (migration 0009: a lease writes no count).
func TestCountsWorkLeft(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	zd, jira := Target{"zendesk", ActionCreate}, Target{"jira", ActionCreate}
	for range 3 {
		enqueue(t, s, t0, "x", zd, jira)
	}
	check := func(step string, want map[string]int, wantLeft map[string]int) {
		t.Helper()
		got, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want[Unrouted] = 0
		if !mapsEqual(got, want) {
			t.Errorf("%s: Counts = %v, want %v", step, got, want)
		}
		left, err := s.Left(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !mapsEqual(left, wantLeft) {
			t.Errorf("%s: Left = %v, want %v", step, left, wantLeft)
		}
		checkCounts(t, s.db)
	}
	check("queued", map[string]int{StatePending: 6}, map[string]int{"zendesk": 3, "jira": 3})
	ls, err := s.Lease(ctx, LeaseOptions{Connection: "zendesk", Limit: 3, TTL: time.Minute})
	if err != nil || len(ls) != 3 {
		t.Fatalf("Lease = %d, %v", len(ls), err)
	}
	check("three leased", map[string]int{StatePending: 6}, map[string]int{"zendesk": 3, "jira": 3})
	complete(t, s, ls[0], Outcome{State: StateDelivered, RemoteNumber: "1"})
	complete(t, s, ls[1], Outcome{State: StateRetry, Error: "503", NextAttemptAt: t0.Add(time.Hour)})
	complete(t, s, ls[2], Outcome{State: Offline})
	check("outcomes", map[string]int{StatePending: 5, StateDelivered: 1}, map[string]int{"zendesk": 2, "jira": 3})
	clk.Advance(time.Hour)
	ls, err = s.Lease(ctx, LeaseOptions{Connection: "zendesk", Limit: 2, TTL: time.Minute})
	if err != nil || len(ls) != 2 {
		t.Fatalf("Lease = %d, %v", len(ls), err)
	}
	check("retry and offline leased", map[string]int{StatePending: 5, StateDelivered: 1}, map[string]int{"zendesk": 2, "jira": 3})
	complete(t, s, ls[0], Outcome{State: StateDead, Error: "400"})
	check("one dead", map[string]int{StatePending: 4, StateDelivered: 1, StateDead: 1}, map[string]int{"zendesk": 1, "jira": 3})
	if n, err := s.RetryAllDead(ctx); err != nil || n != 1 {
		t.Fatalf("RetryAllDead = %d, %v", n, err)
	}
	check("dead retried", map[string]int{StatePending: 5, StateDelivered: 1}, map[string]int{"zendesk": 2, "jira": 3})
}
