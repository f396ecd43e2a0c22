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
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/queue"
)

// TestDrainSurvivesSIGKILL kills `ticketray drain` with SIGKILL at random
// points while it delivers (requests in flight: the fake answers after
// 40 ms, four at a time), restarts it, and finally checks that every
// ticket exists exactly once on the vendor.
func TestDrainSurvivesSIGKILL(t *testing.T) {
	n, rounds := 40, 8
	if testing.Short() {
		n, rounds = 12, 3
	}
	jf := jirafake.New()
	if err := jf.Start(); err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	jf.Faults.Always("POST", "/rest/api/3/issue", fake.Fault{Kind: fake.Delay, Wait: 40 * time.Millisecond})

	dir := t.TempDir()
	cfgPath, db := filepath.Join(dir, "config.json"), filepath.Join(dir, "queue.db")
	cfg := map[string]any{"version": 1, "connections": []any{map[string]any{
		"name": "Jira", "type": "jira", "baseUrl": jf.URL(), "timeoutMs": 5000,
		"credentials": map[string]any{"type": "api_token", "username": jirafake.Email, "apiToken": jirafake.APIToken},
		"options":     map[string]any{"projectKey": jirafake.ProjectKey, "issueType": "Task", "rateLimitPerSecond": 1000},
	}}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	const pass = "kill test passphrase"
	ctx := context.Background()
	// Create the queue with a cheap KDF cost (stored with it), then queue
	// the tickets through the app core.
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
		r, err := svc.Submit(ctx, app.Draft{Summary: fmt.Sprintf("Laptop %d will not boot", i), User: connectors.User{ID: "bob"}})
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = r.IdempotencyKey
	}
	svc.Close()

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TICKETRAY_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set TICKETRAY_KILL_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	env := environ(t, map[string]string{app.EnvPassphrase: pass})
	args := []string{"--config", cfgPath, "--db", db, "drain", "--timeout", "60s"}
	kills := 0
	for round := 0; round < rounds; round++ {
		before := len(jf.Issues())
		if before >= n-1 {
			break
		}
		target := before + 1 + rng.IntN(min(10, n-before-1))
		cmd := exec.Command(binary(t), args...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for len(jf.Issues()) < target && time.Now().Before(deadline) {
			select {
			case err := <-exited:
				t.Fatalf("round %d: drain exited before it was killed: %v", round, err)
			case <-time.After(2 * time.Millisecond): // polling the fake's count
			}
		}
		cmd.Process.Kill() // SIGKILL: no deferred cleanup, requests in flight
		<-exited
		kills++
		t.Logf("round %d: killed after %d tickets reached the vendor", round, len(jf.Issues()))
	}
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("final drain: exit %d\n%s", r.code, r.stderr)
	}
	if kills == 0 {
		t.Fatal("no drain was killed")
	}
	for _, k := range keys {
		if c := jf.Count(connectors.DeliveryKey(k, "Jira")); c != 1 {
			t.Errorf("ticket %s exists %d times on the vendor, want exactly 1", k, c)
		}
	}
	if got := len(jf.Issues()); got != n {
		t.Errorf("vendor holds %d issues, want %d", got, n)
	}
	if v := jf.Violations(); len(v) > 0 {
		t.Errorf("spec violations: %v", v)
	}
	list := run(t, env, "--db", db, "queue", "list", "--state", "delivered", "--json")
	var entries []struct {
		Deliveries []struct{ State, RemoteNumber string }
	}
	if err := json.Unmarshal([]byte(list.stdout), &entries); err != nil || len(entries) != n {
		t.Fatalf("queue list: %v, %d entries\n%s", err, len(entries), list.stderr)
	}
	for _, e := range entries {
		if e.Deliveries[0].State != "delivered" || e.Deliveries[0].RemoteNumber == "" {
			t.Errorf("delivery %+v", e.Deliveries[0])
		}
	}
}
