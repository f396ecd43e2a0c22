package queue

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func ticketBlob(t *testing.T, raw *sql.DB, id string) []byte {
	t.Helper()
	var b []byte
	if err := raw.QueryRow("SELECT payload FROM tickets WHERE id = ?", id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func setTicketBlob(t *testing.T, raw *sql.DB, id string, b []byte) {
	t.Helper()
	res, err := raw.Exec("UPDATE tickets SET payload = ? WHERE id = ?", b, id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("updated %d rows, want 1", n)
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 0x01
	return b
}

func TestTamperedPayload(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, raw *sql.DB, victim string)
	}{
		{"flipped nonce byte", func(t *testing.T, raw *sql.DB, id string) {
			setTicketBlob(t, raw, id, flip(ticketBlob(t, raw, id), 0))
		}},
		{"flipped ciphertext byte", func(t *testing.T, raw *sql.DB, id string) {
			setTicketBlob(t, raw, id, flip(ticketBlob(t, raw, id), 20))
		}},
		{"flipped tag byte", func(t *testing.T, raw *sql.DB, id string) {
			setTicketBlob(t, raw, id, flip(ticketBlob(t, raw, id), -1))
		}},
		{"truncated blob", func(t *testing.T, raw *sql.DB, id string) {
			setTicketBlob(t, raw, id, ticketBlob(t, raw, id)[:10])
		}},
		{"empty blob", func(t *testing.T, raw *sql.DB, id string) {
			setTicketBlob(t, raw, id, []byte{})
		}},
		{"unknown data key", func(t *testing.T, raw *sql.DB, id string) {
			if _, err := raw.Exec("UPDATE tickets SET dek_id = 99 WHERE id = ?", id); err != nil {
				t.Fatal(err)
			}
		}},
		{"created_at edited", func(t *testing.T, raw *sql.DB, id string) {
			// created_at is a clear column outside the AAD: editing it is
			// not detected, and must not break decryption either.
			if _, err := raw.Exec("UPDATE tickets SET created_at = created_at + 1 WHERE id = ?", id); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			var all []string
			for i := range 3 {
				all = append(all, enqueue(t, s, t0.Add(time.Duration(i)*time.Second), "ticket "+strings.Repeat("#", i+1), Target{Connection: "zendesk", Action: ActionCreate}))
			}
			victim := all[1]
			tt.tamper(t, rawDB(t, s.Path()), victim)
			wantTampered := tt.name != "created_at edited"

			items := list(t, s, "")
			if got, want := len(items), 3; got != want {
				t.Fatalf("List returned %d items, want %d", got, want)
			}
			for i, it := range items {
				if it.ID == victim && wantTampered {
					if !errors.Is(it.Err, ErrTampered) {
						t.Errorf("tampered ticket: Err = %v, want ErrTampered", it.Err)
					}
					if it.Payload != nil {
						t.Errorf("tampered ticket: Payload = %q, want nil", it.Payload)
					}
					if got, want := len(it.Deliveries), 1; got != want {
						t.Errorf("tampered ticket has %d deliveries, want %d", got, want)
					}
					continue
				}
				if it.Err != nil {
					t.Errorf("ticket %d: Err = %v, want nil", i, it.Err)
				}
				if got, want := string(it.Payload), "ticket "+strings.Repeat("#", i+1); got != want {
					t.Errorf("ticket %d: Payload = %q, want %q", i, got, want)
				}
			}
			it := get(t, s, victim)
			if got, want := errors.Is(it.Err, ErrTampered), wantTampered; got != want {
				t.Errorf("Get(victim).Err = %v; tampered %v, want %v", it.Err, got, want)
			}
		})
	}
}

func TestTamperedPayloadSwapDetected(t *testing.T) {
	s, _ := newStore(t)
	a := enqueue(t, s, t0, "ticket A: reset my password")
	b := enqueue(t, s, t0, "ticket B: printer jam")
	c := enqueue(t, s, t0, "ticket C: untouched")
	raw := rawDB(t, s.Path())
	blobA, blobB := ticketBlob(t, raw, a), ticketBlob(t, raw, b)
	setTicketBlob(t, raw, a, blobB)
	setTicketBlob(t, raw, b, blobA)

	for _, id := range []string{a, b} {
		it := get(t, s, id)
		if !errors.Is(it.Err, ErrTampered) {
			t.Errorf("ticket with another row's payload: Err = %v, Payload %q; want ErrTampered", it.Err, it.Payload)
		}
	}
	if it := get(t, s, c); it.Err != nil || string(it.Payload) != "ticket C: untouched" {
		t.Errorf("untouched ticket: %q, %v", it.Payload, it.Err)
	}
}

func TestTamperedPayloadFromAnotherQueue(t *testing.T) {
	// Same passphrase, same ticket row copied verbatim: the queue id in the
	// AAD (and the other queue's data key) must make it fail.
	s1, _ := newStore(t)
	s2, _ := newStore(t)
	enqueue(t, s1, t0, "queue 1")
	id2 := enqueue(t, s2, t0, "queue 2 secret")
	raw1, raw2 := rawDB(t, s1.Path()), rawDB(t, s2.Path())
	if _, err := raw1.Exec("INSERT INTO tickets (id, created_at, dek_id, payload) VALUES (?, 0, 1, ?)", id2, ticketBlob(t, raw2, id2)); err != nil {
		t.Fatal(err)
	}
	if it := get(t, s1, id2); !errors.Is(it.Err, ErrTampered) {
		t.Errorf("row copied from another queue: Err = %v, Payload %q; want ErrTampered", it.Err, it.Payload)
	}
}

func TestTamperedErrorAndEventDetail(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	enqueue(t, s, t0, "a", Target{Connection: "one", Action: ActionCreate}, Target{Connection: "two", Action: ActionCreate})
	l1, l2 := leaseOne(t, s, "one"), leaseOne(t, s, "two")
	complete(t, s, l1, Outcome{State: StateDead, Error: "error one"})
	complete(t, s, l2, Outcome{State: StateDead, Error: "error two"})

	// Swap the two sealed error texts and the two event details.
	raw := rawDB(t, s.Path())
	for _, tc := range []struct{ table, col string }{{"deliveries", "last_error"}, {"events", "detail"}} {
		var id1, id2 int64
		var b1, b2 []byte
		if err := raw.QueryRow("SELECT MIN(id), MAX(id) FROM "+tc.table+" WHERE "+tc.col+" IS NOT NULL").Scan(&id1, &id2); err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			id  int64
			dst *[]byte
		}{{id1, &b1}, {id2, &b2}} {
			if err := raw.QueryRow("SELECT "+tc.col+" FROM "+tc.table+" WHERE id = ?", x.id).Scan(x.dst); err != nil {
				t.Fatal(err)
			}
		}
		if id1 == id2 || len(b1) == 0 || bytes.Equal(b1, b2) {
			t.Fatalf("%s: nothing to swap (ids %d, %d)", tc.table, id1, id2)
		}
		for _, x := range []struct {
			id int64
			b  []byte
		}{{id1, b2}, {id2, b1}} {
			if _, err := raw.Exec("UPDATE "+tc.table+" SET "+tc.col+" = ? WHERE id = ?", x.b, x.id); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, l := range []Lease{l1, l2} {
		ds, err := s.deliveries(ctx, "WHERE id = ?", l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ds[0].LastError, "(error text failed authentication)"; got != want {
			t.Errorf("swapped LastError = %q, want %q", got, want)
		}
		evs, err := s.Events(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := evs[len(evs)-1].Detail, "(detail failed authentication)"; got != want {
			t.Errorf("swapped event detail = %q, want %q", got, want)
		}
	}
}

func TestLeaseTamperedTicketGoesDead(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	bad := enqueue(t, s, t0, "tampered", Target{Connection: "zendesk", Action: ActionCreate})
	good := enqueue(t, s, t0.Add(time.Second), "fine", Target{Connection: "zendesk", Action: ActionCreate})
	raw := rawDB(t, s.Path())
	setTicketBlob(t, raw, bad, flip(ticketBlob(t, raw, bad), 30))

	ls, err := s.Lease(ctx, LeaseOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ls), 1; got != want {
		t.Fatalf("Lease returned %d, want %d (the tampered ticket must not be handed out)", got, want)
	}
	if got, want := ls[0].TicketID, good; got != want {
		t.Errorf("leased ticket %s, want %s", got, want)
	}
	d := get(t, s, bad).Deliveries[0]
	if got, want := d.State, StateDead; got != want {
		t.Errorf("tampered ticket's delivery state = %q, want %q", got, want)
	}
	if !strings.Contains(d.LastError, "failed authentication") {
		t.Errorf("tampered ticket's LastError = %q, want it to say why", d.LastError)
	}
}

// TestPlaintextNeverOnDisk reads the raw files while the store is open,
// with the recent writes still in the WAL, and again after Close.
func TestPlaintextNeverOnDisk(t *testing.T) {
	secrets := []string{"Printer-on-fire-7f3a", "the toner smells of smoke 91c2", "alice.9d1e@example.com"}
	payload, err := json.Marshal(map[string]string{"summary": secrets[0], "description": secrets[1], "email": secrets[2]})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newStore(t)
	ctx := context.Background()
	id, err := s.Enqueue(ctx, t0, payload, []Target{{Connection: "zendesk", Action: ActionCreate}, {Connection: "jira", Action: ActionCreate}})
	if err != nil {
		t.Fatal(err)
	}
	complete(t, s, leaseOne(t, s, "zendesk"), Outcome{State: StateDead, Error: `422: requester "` + secrets[2] + `" is suspended`})
	complete(t, s, leaseOne(t, s, "jira"), Outcome{State: StateRetry, Error: "field summary=" + secrets[0] + " too long"})

	// The store must still decrypt what it wrote, or this test would pass
	// for a store that wrote nothing useful.
	it := get(t, s, id)
	if !bytes.Equal(it.Payload, payload) {
		t.Fatalf("payload = %q, want %q", it.Payload, payload)
	}
	if !strings.Contains(it.Deliveries[0].LastError, secrets[2]) {
		t.Fatalf("LastError = %q, want it to hold the email", it.Deliveries[0].LastError)
	}

	check := func(when string, suffixes ...string) {
		t.Helper()
		var all []byte
		defer func() {
			// Control: the clear connection name, written in the same
			// transactions, is found, so the rows are in the bytes read.
			if !bytes.Contains(all, []byte("zendesk")) {
				t.Errorf("%s: the files do not hold the clear columns either; the check proves nothing", when)
			}
		}()
		for _, suffix := range suffixes {
			b, err := os.ReadFile(s.Path() + suffix)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if suffix == "-wal" && len(b) == 0 {
				t.Fatalf("%s: the WAL is empty, so checking it proves nothing", when)
			}
			all = append(all, b...)
			for _, secret := range secrets {
				for _, form := range []string{secret, strings.ToUpper(secret)} {
					if bytes.Contains(b, []byte(form)) {
						t.Errorf("%s: %q is in queue.db%s in clear text", when, form, suffix)
					}
				}
			}
		}
	}
	suffixes := []string{"", "-wal"}
	if _, err := os.Stat(s.Path() + "-shm"); err == nil {
		suffixes = append(suffixes, "-shm")
	}
	check("while open", suffixes...)

	// The rows must be in the WAL, not yet only in the main file.
	raw := rawDB(t, s.Path())
	if got := queryInt(t, raw, "SELECT COUNT(*) FROM tickets"); got != 1 {
		t.Fatalf("%d tickets seen from a second connection, want 1", got)
	}
	raw.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after Close", "")
}
