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

	cfgPath, db, env, keys := killRig(t, n, connectors.User{ID: "bob"}, map[string]any{
		"name": "Jira", "type": "jira", "baseUrl": jf.URL(), "timeoutMs": 5000,
		"credentials": map[string]any{"type": "api_token", "username": jirafake.Email, "apiToken": jirafake.APIToken},
		"options":     map[string]any{"projectKey": jirafake.ProjectKey, "issueType": "Task", "rateLimitPerSecond": 1000},
	})

	args := []string{"--config", cfgPath, "--db", db, "drain", "--timeout", "60s"}
	kills := killDrains(t, env, args, rounds, 10, 1, n, func() int { return len(jf.Issues()) })
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

// killPass is the kill tests' queue passphrase.
const killPass = "kill test passphrase"

// killRig writes a config with conns, creates the queue with a cheap KDF
// cost (stored with it), queues n tickets from user through the app core,
// and returns the paths, the environment for the binary and the tickets'
// keys.
func killRig(t *testing.T, n int, user connectors.User, conns ...map[string]any) (cfgPath, db string, env, keys []string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath, db = filepath.Join(dir, "config.json"), filepath.Join(dir, "queue.db")
	b, _ := json.Marshal(map[string]any{"version": 1, "connections": conns})
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := queue.Open(ctx, db, queue.Options{KEK: queue.PassphraseKEK{Passphrase: []byte(killPass), Time: 1, MemoryKiB: 8 << 10, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	getenv := func(k string) string { return map[string]string{app.EnvPassphrase: killPass}[k] }
	svc, err := app.Open(ctx, app.Options{ConfigPath: cfgPath, DBPath: db, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	for i := 0; i < n; i++ {
		r, err := svc.Submit(ctx, app.Draft{Summary: fmt.Sprintf("Laptop %d will not boot", i), User: user})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r.IdempotencyKey)
	}
	return cfgPath, db, environ(t, map[string]string{app.EnvPassphrase: killPass}), keys
}

// killDrains runs the binary with args up to rounds times, each killed
// with SIGKILL (no deferred cleanup, requests in flight) once delivered()
// has grown by a random step of up to maxStep, stopping short of want by
// slack; it returns how many were killed. TICKETRAY_KILL_SEED replays.
func killDrains(t *testing.T, env, args []string, rounds, maxStep, slack, want int, delivered func() int) int {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TICKETRAY_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set TICKETRAY_KILL_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	kills := 0
	for round := 0; round < rounds; round++ {
		before := delivered()
		if before >= want-slack {
			break
		}
		target := before + 1 + rng.IntN(min(maxStep, want-before-slack))
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
		cmd.Process.Kill()
		<-exited
		kills++
		t.Logf("round %d: killed after %d of %d deliveries reached the vendors", round, delivered(), want)
	}
	return kills
}
