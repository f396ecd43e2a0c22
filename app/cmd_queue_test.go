package app

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/jira/jirafake"
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

// tinyDisk mounts a 1 MiB tmpfs for the test (Linux, as root).
func tinyDisk(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("mounting a 1 MiB tmpfs to fill needs root on Linux")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until dir's disk is full; the returned func frees it.
func fill(t *testing.T, dir string) func() {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{64 << 10, 4 << 10, 1} {
		buf := make([]byte, n)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportOnFullDisk: on a truly full disk, queue list still shows
// every earlier ticket (and says the disk is full), report fails with a
// message naming the full disk, and nothing is lost once space is freed.
func TestReportOnFullDisk(t *testing.T) {
	h := newHarness(t)
	dir := tinyDisk(t)
	h.env[EnvDBPath] = filepath.Join(dir, "queue.db")
	var want []string
	for _, s := range []string{"printer jammed", "VPN down", "no sound"} {
		want = append(want, strings.TrimSpace(h.mustRun("report", "--summary", s, "--no-system-info").stdout))
	}
	free := fill(t, dir)

	steps := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"queue", "list", "--json"}, ExitOK, "storage problem: the disk is full"},
		{[]string{"queue", "list"}, ExitOK, "storage problem: the disk is full"},
		{[]string{"report", "--summary", "one more", "--no-system-info"}, ExitFailure, "the ticket was NOT queued: the disk is full (free some space"},
	}
	for _, st := range steps {
		r := h.run(st.args...)
		t.Logf("%v: exit %d: %s", st.args, r.code, strings.TrimSpace(r.stderr))
		if r.code != st.code || !strings.Contains(r.stderr, st.stderr) {
			t.Errorf("%v on a full disk: exit %d, stderr %q; want exit %d and %q", st.args, r.code, r.stderr, st.code, st.stderr)
		}
	}
	var got []string
	for _, e := range h.list() {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed on a full disk: %v, want %v", got, want)
	}
	if left := mustReadDir(t, dir); !slices.Equal(left, []string{"filler", "queue.db"}) {
		t.Errorf("files on the full disk: %v, want no -wal or -shm left behind", left)
	}

	free()
	want = append(want, strings.TrimSpace(h.mustRun("report", "--summary", "after freeing space", "--no-system-info").stdout))
	got = nil
	for _, e := range h.list() {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("after freeing space: %v, want %v", got, want)
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestDrainAfterIndexDamage: the field report's damage (one flipped byte in
// deliveries_ticket) made every drain exit 1 with "UNIQUE constraint
// failed"; now drain delivers every ticket, once.
func TestDrainAfterIndexDamage(t *testing.T) {
	jf := startJira(t)
	h := newHarness(t)
	cfg := h.jiraConfig(jf.URL(), jirafake.APIToken)
	for i := range 30 {
		h.mustRun("--config", cfg, "report", "--summary", fmt.Sprintf("printer %d jammed", i), "--no-system-info")
	}
	flipIndexEntry(t, h.env[EnvDBPath], "deliveries_ticket")

	r := h.run("--config", cfg, "drain", "--timeout", "30s")
	if r.code != ExitOK {
		t.Fatalf("drain after the damage: exit %d\n%s", r.code, r.stderr)
	}
	if n := len(jf.Issues()); n != 30 {
		t.Errorf("Jira holds %d issues, want 30", n)
	}
	for _, e := range h.list("--config", cfg) {
		if len(e.Deliveries) != 1 || e.Deliveries[0].State != "delivered" {
			t.Errorf("ticket %s: deliveries %+v, want one delivered", e.ID, e.Deliveries)
		}
	}
}
