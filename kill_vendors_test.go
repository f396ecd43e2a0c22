package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/freshservice/fsfake"
	"github.com/ticketray/ticketray/connectors/salesforce/sffake"
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
	"github.com/ticketray/ticketray/queue"
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

	dir := t.TempDir()
	cfgPath, db := filepath.Join(dir, "config.json"), filepath.Join(dir, "queue.db")
	opts := map[string]any{"rateLimitPerSecond": 1000}
	cfg := map[string]any{"version": 1, "connections": []any{
		map[string]any{"name": "Zendesk", "type": "zendesk", "baseUrl": zd.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "api_token", "username": zdfake.Email, "apiToken": zdfake.APIToken}},
		map[string]any{"name": "Freshservice", "type": "freshservice", "baseUrl": fs.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "api_token", "apiToken": fsfake.APIKey}},
		map[string]any{"name": "Salesforce", "type": "salesforce", "baseUrl": sf.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "bearer", "token": sffake.Token}},
		map[string]any{"name": "BMC Helix", "type": "bmc_helix", "baseUrl": bmc.URL(), "timeoutMs": 5000, "options": opts,
			"credentials": map[string]any{"type": "basic", "username": bmcfake.Username, "password": bmcfake.Password}},
	}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	const pass = "kill test passphrase"
	ctx := context.Background()
	st, err := queue.Open(ctx, db, queue.Options{KEK: queue.PassphraseKEK{Passphrase: []byte(pass), Time: 1, MemoryKiB: 8 << 10, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	getenv := func(k string) string { return map[string]string{app.EnvPassphrase: pass}[k] }
	svc, err := app.Open(ctx, app.Options{ConfigPath: cfgPath, DBPath: db, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, n)
	for i := range keys {
		r, err := svc.Submit(ctx, app.Draft{Summary: fmt.Sprintf("Laptop %d will not boot", i),
			User: connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = r.IdempotencyKey
	}
	svc.Close()
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

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TICKETRAY_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set TICKETRAY_KILL_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	env := environ(t, map[string]string{app.EnvPassphrase: pass})
	args := []string{"--config", cfgPath, "--db", db, "drain", "--timeout", "60s"}
	want, kills := 4*n, 0
	for round := 0; round < rounds; round++ {
		before := delivered()
		if before >= want-4 {
			break
		}
		target := before + 1 + rng.IntN(min(20, want-before-4))
		cmd := exec.Command(binary(t), args...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for delivered() < target && time.Now().Before(deadline) {
			select {
			case err := <-exited:
				t.Fatalf("round %d: drain exited before it was killed: %v", round, err)
			case <-time.After(2 * time.Millisecond): // polling the fakes' counts
			}
		}
		cmd.Process.Kill() // SIGKILL: no deferred cleanup, requests in flight
		<-exited
		kills++
		t.Logf("round %d: killed after %d of %d records reached the vendors", round, delivered(), want)
	}
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
