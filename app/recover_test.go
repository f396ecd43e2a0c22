package app

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestQueueRecover: tickets of a moved-aside queue come back with their
// ids and idempotency keys, exactly once; unreadable ones are listed by id
// and make the exit code 1.
func TestQueueRecover(t *testing.T) {
	tests := []struct {
		name string
		// damage harms the moved-aside file; it returns the ids it made
		// unreadable.
		damage func(t *testing.T, path string, ids []string) []string
		code   int
	}{
		{"moved aside intact", func(*testing.T, string, []string) []string { return nil }, ExitOK},
		{"a payload flipped", func(t *testing.T, path string, ids []string) []string {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("UPDATE tickets SET payload = CAST(zeroblob(60) AS BLOB) WHERE id = ?", ids[1]); err != nil {
				t.Fatal(err)
			}
			return []string{ids[1]}
		}, ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			keys := map[string]string{}
			var ids []string
			for _, s := range []string{"printer jammed", "VPN down", "no sound", "screen flickers"} {
				id := strings.TrimSpace(h.mustRun("report", "--summary", s, "--no-system-info").stdout)
				ids = append(ids, id)
			}
			for _, e := range h.list() {
				var full entryJSON
				json.Unmarshal([]byte(h.mustRun("queue", "show", e.ID, "--json").stdout), &full)
				keys[e.ID] = full.Ticket.IdempotencyKey
			}
			// The queue is moved aside (as Open does with a corrupt one)
			// and a new one starts.
			db := h.env[EnvDBPath]
			moved := db + ".corrupt-20250314T092653Z"
			if err := os.Rename(db, moved); err != nil {
				t.Fatal(err)
			}
			unreadable := tt.damage(t, moved, ids)
			fresh := strings.TrimSpace(h.mustRun("report", "--summary", "after the move", "--no-system-info").stdout)

			r := h.run("queue", "recover", moved, "--json")
			if r.code != tt.code {
				t.Errorf("recover: exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			var got recoverJSON
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("recover --json: %v\n%s", err, r.stdout)
			}
			wantRecovered := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(unreadable, id) })
			sort.Strings(wantRecovered)
			gotRecovered := slices.Clone(got.RecoveredIDs)
			sort.Strings(gotRecovered)
			if !slices.Equal(gotRecovered, wantRecovered) || got.Recovered != len(wantRecovered) {
				t.Errorf("recovered %v, want %v", got.RecoveredIDs, wantRecovered)
			}
			if !slices.Equal(got.UnreadableIDs, unreadable) && !(len(unreadable) == 0 && len(got.UnreadableIDs) == 0) {
				t.Errorf("unreadable %v, want %v", got.UnreadableIDs, unreadable)
			}
			if got.Complete != (tt.code == ExitOK) {
				t.Errorf("complete = %v", got.Complete)
			}

			// Same ids and idempotency keys, next to the new ticket.
			listed := map[string]bool{}
			for _, e := range h.list() {
				listed[e.ID] = true
			}
			for _, id := range wantRecovered {
				var e entryJSON
				json.Unmarshal([]byte(h.mustRun("queue", "show", id, "--json").stdout), &e)
				if e.Ticket == nil || e.Ticket.IdempotencyKey != keys[id] {
					t.Errorf("ticket %s came back with another idempotency key", id)
				}
			}
			if len(listed) != len(wantRecovered)+1 || !listed[fresh] {
				t.Errorf("queue lists %d tickets, want the %d recovered and the new one", len(listed), len(wantRecovered))
			}

			// A second run adds nothing; the human form says so.
			r = h.run("queue", "recover", moved)
			if r.code != tt.code || !strings.Contains(r.stdout, "0 tickets recovered") || !strings.Contains(r.stdout, "were already in the queue") {
				t.Errorf("second recover: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, id := range unreadable {
				if !strings.Contains(r.stdout, id) {
					t.Errorf("second recover does not name unreadable ticket %s:\n%s", id, r.stdout)
				}
			}
			if n := len(h.list()); n != len(wantRecovered)+1 {
				t.Errorf("%d tickets after the second run, want %d", n, len(wantRecovered)+1)
			}
		})
	}
}

func TestQueueRecoverUsage(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"queue", "recover"}, {"queue", "recover", "a", "b"}} {
		if r := h.run(args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
	if r := h.run("queue", "recover", filepath.Join(h.dir, "missing.db")); r.code != ExitFailure {
		t.Errorf("recover of a missing file: exit %d, want 1", r.code)
	}
	if r := h.mustRun("queue", "--help"); !strings.Contains(r.stdout, "queue recover FILE") || !strings.Contains(r.stdout, "exits 0 when everything") {
		t.Errorf("queue --help does not document recover:\n%s", r.stdout)
	}
}
