package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/freshservice/fsfake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/connectors/jsm/jsmfake"
	"github.com/ticketray/ticketray/connectors/salesforce/sffake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
)

// sevenVendors is a config with one connection to each vendor fake, all
// started on loopback.
type sevenVendors struct {
	jira *jirafake.Fake
	jsm  *jsmfake.Fake
	sn   *snfake.Fake
	zd   *zdfake.Fake
	fs   *fsfake.Fake
	sf   *sffake.Fake
	bmc  *bmcfake.Fake
	// counts is each fake's record count for a delivery key, and faults
	// its fault injector, by connection.
	counts map[string]func(key string) int
	faults map[string]*fake.Injector
}

func startSevenVendors(t testing.TB) (*sevenVendors, string) {
	t.Helper()
	v := &sevenVendors{jira: jirafake.New(), jsm: jsmfake.New(), sn: snfake.Start(), zd: zdfake.Start(), fs: fsfake.Start(), sf: sffake.Start(), bmc: bmcfake.Start()}
	for _, s := range []interface{ Start() error }{v.jira, v.jsm} {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() }{v.jira, v.jsm, v.sn, v.zd, v.fs, v.sf, v.bmc} {
		t.Cleanup(c.Close)
	}
	v.faults = map[string]*fake.Injector{"Jira": v.jira.Faults, "JSM": v.jsm.Faults, "ServiceNow": v.sn.Faults,
		"Zendesk": v.zd.Faults, "Freshservice": v.fs.Faults, "Salesforce": v.sf.Faults, "BMC Helix": v.bmc.Faults}
	v.counts = map[string]func(string) int{"Jira": v.jira.Count, "JSM": v.jsm.Count, "ServiceNow": v.sn.Count,
		"Zendesk": v.zd.Count, "Freshservice": v.fs.Count, "Salesforce": v.sf.Count, "BMC Helix": v.bmc.Count}
	conns := []map[string]any{
		{"name": "Jira", "type": "jira", "baseUrl": v.jira.URL(),
			"credentials": map[string]any{"type": "api_token", "username": jirafake.Email, "apiToken": jirafake.APIToken},
			"options":     map[string]any{"projectKey": jirafake.ProjectKey, "issueType": "Task"}},
		{"name": "JSM", "type": "jsm", "baseUrl": v.jsm.URL(),
			"credentials": map[string]any{"type": "api_token", "username": jsmfake.Email, "apiToken": jsmfake.APIToken},
			"options":     map[string]any{"serviceDeskId": jsmfake.ServiceDeskID, "requestTypeId": jsmfake.RequestTypeID, "raiseOnBehalfOf": true}},
		{"name": "ServiceNow", "type": "servicenow", "baseUrl": v.sn.URL(),
			"credentials": map[string]any{"type": "basic", "username": snfake.Username, "password": "env:SN_PASSWORD"}},
		{"name": "Zendesk", "type": "zendesk", "baseUrl": v.zd.URL(),
			"credentials": map[string]any{"type": "api_token", "username": zdfake.Email, "apiToken": zdfake.APIToken}},
		{"name": "Freshservice", "type": "freshservice", "baseUrl": v.fs.URL(),
			"credentials": map[string]any{"type": "api_token", "apiToken": fsfake.APIKey}},
		{"name": "Salesforce", "type": "salesforce", "baseUrl": v.sf.URL(),
			"credentials": map[string]any{"type": "bearer", "token": sffake.Token}},
		{"name": "BMC Helix", "type": "bmc_helix", "baseUrl": v.bmc.URL(),
			"credentials": map[string]any{"type": "basic", "username": bmcfake.Username, "password": bmcfake.Password}},
	}
	for _, c := range conns {
		c["timeoutMs"] = 5000
		opts, _ := c["options"].(map[string]any)
		if opts == nil {
			opts = map[string]any{}
			c["options"] = opts
		}
		opts["rateLimitPerSecond"] = 1000
	}
	b, err := json.Marshal(map[string]any{"version": 1, "categories": []string{"Hardware", "Network"}, "connections": conns})
	if err != nil {
		t.Fatal(err)
	}
	return v, string(b)
}

// `ticketray report` and one drain deliver every ticket to all seven
// vendors at once: each fake holds exactly one record per ticket, with the
// priority and the requester mapped.
func TestReportAndDrainToSevenVendors(t *testing.T) {
	v, body := startSevenVendors(t)
	h := newHarness(t)
	h.env["SN_PASSWORD"] = snfake.Password
	cfg := h.writeConfig(body)
	const n = 8
	keys := map[string]string{} // summary → ticket key
	for i := 0; i < n; i++ {
		summary := fmt.Sprintf("Printer %d jams", i)
		r := h.mustRun("--config", cfg, "report", "--summary", summary, "--description", "Tray 2 jams on every page.",
			"--category", "Hardware", "--priority", priorities[i%4], "--user-name", "Alice Example", "--user-email", "alice@example.com",
			"--no-system-info", "--json")
		var rc Receipt
		if err := json.Unmarshal([]byte(r.stdout), &rc); err != nil || len(rc.Connections) != 7 {
			t.Fatalf("report: %v %+v", err, rc)
		}
		keys[summary] = rc.IdempotencyKey
	}
	if r := h.run("--config", cfg, "drain", "--timeout", "2m"); r.code != ExitOK {
		t.Fatalf("drain: exit %d\n%s", r.code, r.stderr)
	}
	for name, count := range v.counts {
		for s, k := range keys {
			if c := count(connectors.DeliveryKey(k, name)); c != 1 {
				t.Errorf("%s holds %d records of %q, want exactly 1", name, c, s)
			}
		}
	}
	prio := func(summary string) string {
		var i int
		fmt.Sscanf(summary, "Printer %d jams", &i)
		return priorities[i%4]
	}
	alice, _ := v.zd.User("alice@example.com")
	for _, tk := range v.zd.Tickets() {
		want := map[string]string{"low": "low", "medium": "normal", "high": "high", "critical": "urgent"}[prio(tk.Subject)]
		if tk.Priority != want || alice.ID == 0 || tk.RequesterID != alice.ID {
			t.Errorf("Zendesk %q: priority %q (want %q), requester %d (Alice %d)", tk.Subject, tk.Priority, want, tk.RequesterID, alice.ID)
		}
	}
	for id := int64(1); id <= n; id++ {
		tk := v.fs.Ticket(id)
		if tk == nil {
			t.Errorf("Freshservice has no ticket %d", id)
			continue
		}
		want := map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}[prio(tk.Subject)]
		if tk.Priority != want || tk.Email != "alice@example.com" {
			t.Errorf("Freshservice %q: priority %d (want %d), requester %q", tk.Subject, tk.Priority, want, tk.Email)
		}
	}
	for _, c := range v.sf.Cases() {
		want := map[string]string{"low": "Low", "medium": "Medium", "high": "High", "critical": "High"}[prio(c.Fields["Subject"])]
		if c.Fields["Priority"] != want || c.Fields["SuppliedEmail"] != "alice@example.com" || c.Fields["SuppliedName"] != "Alice Example" {
			t.Errorf("Salesforce %q: priority %q (want %q), supplied %q <%q>", c.Fields["Subject"], c.Fields["Priority"], want, c.Fields["SuppliedName"], c.Fields["SuppliedEmail"])
		}
	}
	for _, inc := range v.bmc.Incidents() {
		summary, _ := inc["Description"].(string)
		want := map[string]string{"low": "4-Low", "medium": "3-Medium", "high": "2-High", "critical": "1-Critical"}[prio(summary)]
		detail, _ := inc["Detailed Decription"].(string)
		if inc["Urgency"] != want || !strings.Contains(detail, "alice@example.com") {
			t.Errorf("BMC %q: urgency %v (want %q), reporter in the details: %v", summary, inc["Urgency"], want, strings.Contains(detail, "alice@example.com"))
		}
	}
	for _, inc := range v.sn.Incidents() {
		if inc["caller_id"] != snfake.AliceSysID {
			t.Errorf("ServiceNow %s: caller %q, want Alice", inc["number"], inc["caller_id"])
		}
	}
	for _, rq := range v.jsm.Requests() {
		if rq.RaiseOnBehalfOf != jsmfake.CustomerAccountID {
			t.Errorf("JSM %s: on behalf of %q, want Alice", rq.IssueKey, rq.RaiseOnBehalfOf)
		}
	}
	for name, vf := range map[string]interface{ Violations() []string }{"Jira": v.jira, "JSM": v.jsm, "Zendesk": v.zd, "Freshservice": v.fs, "Salesforce": v.sf} {
		if vs := vf.Violations(); len(vs) > 0 {
			t.Errorf("%s saw %d requests that break its spec, e.g. %s", name, len(vs), vs[0])
		}
	}
}
