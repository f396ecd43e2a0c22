package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// Report → delivered → `queue comment` with a file → drain: the help desk
// sees the comment once on the incident, queue show lists the addition as
// delivered; a comment on an unknown ticket is an input error.
func TestQueueCommentEndToEnd(t *testing.T) {
	sn := snfake.Start()
	t.Cleanup(sn.Close)
	h := newHarness(t)
	h.env["SN_PASSWORD"] = snfake.Password
	cfg := h.writeConfig(fmt.Sprintf(`{"version":1,"connections":[{"name":"ServiceNow","type":"servicenow","baseUrl":%q,
		"credentials":{"type":"basic","username":%q,"password":"env:SN_PASSWORD"}}]}`, sn.URL(), snfake.Username))
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "Printer jams", "--user-email", snfake.AliceEmail, "--no-system-info").stdout)
	// The comment is queued before the ticket is even delivered: it waits
	// for the create.
	shot := filepath.Join(h.dir, "jam.png")
	if err := os.WriteFile(shot, []byte("\x89PNG\r\n\x1a\nfake"), 0o600); err != nil {
		t.Fatal(err)
	}
	var rc AdditionReceipt
	r := h.mustRun("--config", cfg, "queue", "comment", id[:8], "--text", "It jammed again at 10:05.", "--attach", shot, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &rc); err != nil || rc.Ticket != id || len(rc.Connections) != 1 {
		t.Fatalf("queue comment: %v %+v", err, rc)
	}
	if got := h.list("--config", cfg); len(got) != 1 {
		t.Errorf("queue list shows %d tickets, want 1 (additions are listed under their ticket)", len(got))
	}
	h.mustRun("--config", cfg, "drain", "--timeout", "2m")
	incs := sn.Incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	n := 0
	for _, c := range sn.Comments(incs[0]["sys_id"]) {
		if strings.Contains(c, "It jammed again at 10:05.") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the incident holds the comment %d times, want 1", n)
	}
	var sj entryJSON
	if err := json.Unmarshal([]byte(h.mustRun("--config", cfg, "queue", "show", id, "--json").stdout), &sj); err != nil {
		t.Fatal(err)
	}
	if len(sj.Additions) != 1 || sj.Additions[0].Text != "It jammed again at 10:05." || len(sj.Additions[0].Attachments) != 1 ||
		sj.Additions[0].Deliveries[0].State != "delivered" {
		t.Errorf("queue show additions: %+v", sj.Additions)
	}
	if show := h.mustRun("--config", cfg, "queue", "show", id).stdout; !strings.Contains(show, "It jammed again at 10:05.") || !strings.Contains(show, "ServiceNow: delivered") {
		t.Errorf("queue show:\n%s", show)
	}
	if r := h.run("--config", cfg, "queue", "comment", "ffffffff", "--text", "x"); r.code != ExitUsage {
		t.Errorf("comment on an unknown ticket: exit %d %s", r.code, r.stderr)
	}
	if r := h.run("--config", cfg, "queue", "comment", id, "--text", " "); r.code != ExitUsage {
		t.Errorf("an empty comment: exit %d %s", r.code, r.stderr)
	}
}
