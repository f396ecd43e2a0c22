package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// Report → delivered to the ServiceNow fake → an agent resolves it with a
// comment → `ticketray sync` records it: queue list shows resolved with the
// assignee, queue show the conversation, and the change is the notable
// kind the tray notifies of. A second sync changes nothing.
func TestSyncEndToEnd(t *testing.T) {
	sn := snfake.Start()
	t.Cleanup(sn.Close)
	h := newHarness(t)
	h.env["SN_PASSWORD"] = snfake.Password
	cfg := h.writeConfig(fmt.Sprintf(`{"version":1,"connections":[{"name":"ServiceNow","type":"servicenow","baseUrl":%q,
		"credentials":{"type":"basic","username":%q,"password":"env:SN_PASSWORD"}}]}`, sn.URL(), snfake.Username))
	id := strings.TrimSpace(h.mustRun("--config", cfg, "report", "--summary", "Printer jams", "--user-email", snfake.AliceEmail, "--no-system-info").stdout)
	h.mustRun("--config", cfg, "drain", "--timeout", "30s")
	incs := sn.Incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	agent := sn.AddUser(snfake.SysUser{UserName: "beth.anglin", Name: "Beth Anglin"})
	if !sn.Act(incs[0]["sys_id"], "beth.anglin", map[string]string{"state": "6", "assigned_to": agent,
		"comments": "Replaced the fuser.\nPlease try again.", "work_notes": "internal: fuser part 4411"}) {
		t.Fatal("no incident to act on")
	}

	var out syncJSON
	r := h.mustRun("--config", cfg, "sync", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("sync --json: %v\n%s", err, r.stdout)
	}
	if len(out.Connections) != 1 || out.Connections[0].Updated != 1 || len(out.Changes) != 1 {
		t.Fatalf("sync: %+v", out)
	}
	ch := out.Changes[0]
	if ch.After != "resolved" || ch.TicketID != id || ch.Note != "Replaced the fuser." {
		t.Errorf("change %+v", ch)
	}
	if title, body, ok := StatusNotice(ch); !ok || title != incs[0]["number"]+" was resolved" || !strings.HasSuffix(body, ": Replaced the fuser.") {
		t.Errorf("notification %q %q %v", title, body, ok)
	}
	got := h.list("--config", cfg)
	d := got[0].Deliveries[0]
	if d.Status != "resolved" || d.RemoteStatus != "6" || d.Assignee != "Beth Anglin" || d.RemoteUpdatedAt == nil {
		t.Errorf("queue list delivery: %+v", d)
	}
	show := h.mustRun("--config", cfg, "queue", "show", id).stdout
	if !strings.Contains(show, "at the help desk: resolved (6), assigned to Beth Anglin") || !strings.Contains(show, "Replaced the fuser.") ||
		strings.Contains(show, "fuser part 4411") {
		t.Errorf("queue show:\n%s", show)
	}
	r = h.mustRun("--config", cfg, "sync", "--json")
	out = syncJSON{}
	json.Unmarshal([]byte(r.stdout), &out)
	if len(out.Changes) != 0 {
		t.Errorf("a second sync changed %+v", out.Changes)
	}
	// Closed at the help desk: recorded, and then no longer asked about.
	sn.Act(incs[0]["sys_id"], "beth.anglin", map[string]string{"state": "7"})
	h.mustRun("--config", cfg, "sync")
	r = h.mustRun("--config", cfg, "sync", "--json")
	out = syncJSON{}
	json.Unmarshal([]byte(r.stdout), &out)
	if len(out.Connections) != 1 || out.Connections[0].Open != 0 {
		t.Errorf("after closing: %+v", out.Connections)
	}
}
