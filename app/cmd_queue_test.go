package app

import (
	"database/sql"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// flipIndexEntry flips one byte of a cell in index's root page of the
// (closed) queue file so that quick_check still passes while a routed
// ticket looks orphaned: the damage of the field report.
func flipIndexEntry(t *testing.T, path, index string) {
	t.Helper()
	query := func(q string, args ...any) string {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var s string
		if err := db.QueryRow(q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	var pageSize, root int64
	pageSize = atoi(t, query("PRAGMA page_size"))
	root = atoi(t, query("SELECT rootpage FROM sqlite_schema WHERE name = ?", index))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := pageSize - 1; off > pageSize/2; off-- {
		b := slices.Clone(orig)
		b[(root-1)*pageSize+off] ^= 0x01
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if query("PRAGMA quick_check") == "ok" && query("SELECT COUNT(*) FROM tickets WHERE id NOT IN (SELECT ticket_id FROM deliveries)") != "0" {
			return
		}
	}
	t.Fatalf("could not damage %s", index)
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestQueueListReportsStorageProblems: after one flipped byte in an index,
// queue list still lists every ticket and tells the help desk on stderr
// that the index was rebuilt; the next run has nothing to report.
func TestQueueListReportsStorageProblems(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1,"connections":[
		{"name":"Jira","type":"jira","baseUrl":"http://127.0.0.1:8080","credentials":{"type":"api_token","username":"a@b.c","apiToken":"keyring:jira"}}]}`)
	var want []string
	for range 30 {
		want = append(want, strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "printer jammed", "--no-system-info").stdout))
	}
	flipIndexEntry(t, h.env[EnvDBPath], "deliveries_ticket")

	steps := []struct {
		name   string
		stderr []string // lines wanted on stderr, in order
	}{
		{"first list after the damage", []string{"ticketray: storage problem: index deliveries_ticket was damaged and has been rebuilt"}},
		{"next list", nil},
	}
	for _, st := range steps {
		r := h.mustRun("--config", cfg, "queue", "list", "--json")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if line != "" {
				got = append(got, line)
			}
		}
		if !slices.Equal(got, st.stderr) {
			t.Errorf("%s: stderr = %q, want %q", st.name, got, st.stderr)
		}
		var ids []string
		for _, e := range h.list("--config", cfg) {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s: listed %d tickets, want the %d reported", st.name, len(ids), len(want))
		}
	}
}
