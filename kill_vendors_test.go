package main

import (
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/freshservice/fsfake"
	"github.com/ticketray/ticketray/connectors/salesforce/sffake"
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
)

// TestDrainSurvivesSIGKILLNewVendors is the SIGKILL drain test for the
// four newer vendors at once: Zendesk, Freshservice, Salesforce and BMC
// Helix answer each create after 40 ms; `ticketray drain` is killed at
// random points with requests in flight and restarted; in the end each
// vendor holds every ticket exactly once.
func TestDrainSurvivesSIGKILLNewVendors(t *testing.T) {
	n, rounds := 24, 8
	if testing.Short() {
		n, rounds = 8, 3
	}
	zd, fs, sf, bmc := zdfake.Start(), fsfake.Start(), sffake.Start(), bmcfake.Start()
	defer zd.Close()
	defer fs.Close()
	defer sf.Close()
	defer bmc.Close()
	slow := fake.Fault{Kind: fake.Delay, Wait: 40 * time.Millisecond}
	zd.Faults.Always("POST", "/api/v2/tickets", slow)
	fs.Faults.Always("POST", "/api/v2/tickets", slow)
	sf.Faults.Always("PATCH", "/services/data/", slow)
	bmc.Faults.Always("POST", "/api/arsys/v1/entry/HPD:IncidentInterface_Create", slow)
	counts := map[string]func(string) int{"Zendesk": zd.Count, "Freshservice": fs.Count, "Salesforce": sf.Count, "BMC Helix": bmc.Count}

	opts := map[string]any{"rateLimitPerSecond": 1000}
	cfgPath, db, env, keys := killRig(t, n, connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"},
		map[string]any{"name": "Zendesk", "type": "zendesk", "baseUrl": zd.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "api_token", "username": zdfake.Email, "apiToken": zdfake.APIToken}},
		map[string]any{"name": "Freshservice", "type": "freshservice", "baseUrl": fs.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "api_token", "apiToken": fsfake.APIKey}},
		map[string]any{"name": "Salesforce", "type": "salesforce", "baseUrl": sf.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "bearer", "token": sffake.Token}},
		map[string]any{"name": "BMC Helix", "type": "bmc_helix", "baseUrl": bmc.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "basic", "username": bmcfake.Username, "password": bmcfake.Password}},
	)
	// delivered counts the records on all four vendors.
	delivered := func() int {
		sum := 0
		for name, count := range counts {
			for _, k := range keys {
				sum += count(connectors.DeliveryKey(k, name))
			}
		}
		return sum
	}

	args := []string{"--config", cfgPath, "--db", db, "drain", "--timeout", "60s"}
	kills := killDrains(t, env, args, rounds, 20, 4, 4*n, delivered)
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("final drain: exit %d\n%s", r.code, r.stderr)
	}
	if kills == 0 {
		t.Fatal("no drain was killed")
	}
	for name, count := range counts {
		for _, k := range keys {
			if c := count(connectors.DeliveryKey(k, name)); c != 1 {
				t.Errorf("%s holds ticket %s %d times, want exactly 1", name, k, c)
			}
		}
	}
	for name, vf := range map[string]interface{ Violations() []string }{"Zendesk": zd, "Freshservice": fs, "Salesforce": sf} {
		if v := vf.Violations(); len(v) > 0 {
			t.Errorf("%s saw %d requests that break its spec, e.g. %s", name, len(v), v[0])
		}
	}
}
