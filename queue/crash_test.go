package queue

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The crash test re-runs this test binary as a child that enqueues in a
// tight loop and acknowledges each ticket on stdout only after Enqueue
// returned nil. The parent kills it with SIGKILL at a random
// acknowledgement and checks that every acknowledged ticket survived.
const (
	crashEnvPath  = "TICKETRAY_CRASH_CHILD"
	crashEnvRound = "TICKETRAY_CRASH_ROUND"
	crashEnvSeed  = "TICKETRAY_CRASH_SEED" // set to replay a failing run
)

var crashTargets = []Target{{"zendesk", ActionCreate}, {"jira", ActionSync}}

func crashKEK() PassphraseKEK { return fastKEK("crash test passphrase") }

// crashPayload is ticket n of a round: its size varies so that some
// payloads need overflow pages.
func crashPayload(round, n int) []byte {
	head := fmt.Sprintf("round=%d n=%d|", round, n)
	size := (n*733 + round*97) % 9000
	return append([]byte(head), bytes.Repeat([]byte{byte('a' + (n+round)%26)}, size)...)
}

func crashCreatedAt(round, n int) time.Time {
	return t0.Add(time.Duration(round)*time.Hour + time.Duration(n)*time.Millisecond)
}

// parseCrashPayload returns the round and n a payload claims.
func parseCrashPayload(p []byte) (round, n int, ok bool) {
	head, _, found := bytes.Cut(p, []byte("|"))
	if !found {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(string(head), "round=%d n=%d", &round, &n); err != nil {
		return 0, 0, false
	}
	return round, n, true
}

// TestCrashChild is the child process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("helper process for TestCrashRecovery")
	}
	round, err := strconv.Atoi(os.Getenv(crashEnvRound))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, path, Options{KEK: crashKEK()})
	if err != nil {
		fmt.Fprintf(os.Stdout, "ERR open: %v\n", err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stdout, "READY")
	// The parent kills us long before this; the bound only stops an
	// orphan.
	deadline := time.Now().Add(time.Minute)
	for n := 0; time.Now().Before(deadline); n++ {
		id, err := s.Enqueue(ctx, crashCreatedAt(round, n), crashPayload(round, n), crashTargets)
		if err != nil {
			fmt.Fprintf(os.Stdout, "ERR enqueue %d: %v\n", n, err)
			os.Exit(3)
		}
		// os.Stdout is unbuffered: the line is in the pipe when this returns.
		fmt.Fprintf(os.Stdout, "ACK %s %d\n", id, n)
	}
	os.Exit(4)
}

type ack struct {
	round, n int
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashEnvPath) != "" {
		t.Skip("in the child")
	}
	rounds := 25
	if testing.Short() {
		rounds = 5
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashEnvSeed); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashEnvSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x7469636b6574))
	path := dbPath(t)
	acked := map[string]ack{}
	start := time.Now()

	for round := range rounds {
		// Kill after the k-th acknowledgement (k = 0: right after Open),
		// then after a random delay so the kill lands anywhere in the next
		// Enqueue, not only at its start. The delay places the fault; no
		// assertion depends on it.
		k := rng.IntN(41)
		var delay time.Duration
		if rng.IntN(4) != 0 {
			delay = time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
		}
		got := runCrashChild(t, path, round, k, delay)
		for id, a := range got {
			if prev, dup := acked[id]; dup {
				t.Fatalf("round %d: id %s acknowledged twice (%v and %v)", round, id, prev, a)
			}
			acked[id] = a
		}
		verifyCrashQueue(t, path, round, acked)
		if t.Failed() {
			t.Fatalf("round %d (kill %v after %d acks) broke the queue; seed %d", round, delay, k, seed)
		}
	}
	t.Logf("%d rounds, %d acknowledged tickets, %v", rounds, len(acked), time.Since(start).Round(time.Millisecond))
}

// runCrashChild starts the child, kills it delay after its k-th
// acknowledgement and returns every acknowledgement it printed, including
// those that were already in the pipe when it died.
func runCrashChild(t *testing.T, path string, round, k int, delay time.Duration) map[string]ack {
	t.Helper()
	// A safety net against a hung child, not a synchronisation.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvRound+"="+strconv.Itoa(round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := map[string]ack{}
	var once sync.Once
	var killed atomic.Bool
	kill := func() {
		once.Do(func() {
			killed.Store(true)
			if err := cmd.Process.Kill(); err != nil {
				t.Errorf("kill: %v", err)
			}
		})
	}
	killSoon := func() {
		if delay == 0 {
			kill()
		} else {
			time.AfterFunc(delay, kill)
		}
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch f := strings.Fields(line); {
		case line == "READY":
			if k == 0 {
				killSoon()
			}
		case len(f) == 3 && f[0] == "ACK":
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatalf("bad line %q", line)
			}
			acks[f[1]] = ack{round, n}
			if len(acks) == k {
				killSoon()
			}
		case strings.HasPrefix(line, "ERR"):
			kill()
			t.Errorf("round %d: child: %s", round, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !killedBySIGKILL(ee) || !killed.Load() {
		t.Fatalf("round %d: child ended with %v before it was killed (killed=%v, %d acks, wanted %d)", round, err, killed.Load(), len(acks), k)
	}
	return acks
}

func killedBySIGKILL(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// verifyCrashQueue opens the queue after a kill, as the next start would,
// and checks every acknowledged ticket and that no ticket is half-written.
func verifyCrashQueue(t *testing.T, path string, round int, acked map[string]ack) {
	t.Helper()
	ctx := context.Background()
	// Open runs quick_check and would move a corrupt file aside.
	s, err := Open(ctx, path, Options{KEK: crashKEK()})
	if err != nil {
		t.Fatalf("round %d: Open after the kill: %v", round, err)
	}
	defer s.Close()
	items, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatalf("round %d: List: %v", round, err)
	}
	byID := map[string]Item{}
	for _, it := range items {
		byID[it.ID] = it
		// Acknowledged or not, every committed ticket is whole.
		if it.Err != nil {
			t.Errorf("ticket %s: %v", it.ID, it.Err)
			continue
		}
		r, n, ok := parseCrashPayload(it.Payload)
		if !ok || !bytes.Equal(it.Payload, crashPayload(r, n)) {
			t.Errorf("ticket %s: payload %.40q… is not one the child wrote", it.ID, it.Payload)
		}
		if got, want := it.CreatedAt, crashCreatedAt(r, n); !got.Equal(want) {
			t.Errorf("ticket %s: CreatedAt %v, want %v", it.ID, got, want)
		}
		if got, want := len(it.Deliveries), len(crashTargets); got != want {
			t.Errorf("ticket %s has %d deliveries, want %d", it.ID, got, want)
			continue
		}
		for i, d := range it.Deliveries {
			if got, want := (Target{d.Connection, d.Action}), crashTargets[i]; got != want || d.State != StatePending || d.Attempts != 0 {
				t.Errorf("ticket %s delivery %d = %+v %s/%d, want %+v pending/0", it.ID, i, got, d.State, d.Attempts, want)
			}
		}
	}
	for id, a := range acked {
		it, ok := byID[id]
		if !ok {
			t.Errorf("acknowledged ticket %s (round %d, n %d) is missing", id, a.round, a.n)
			continue
		}
		if it.Err == nil && !bytes.Equal(it.Payload, crashPayload(a.round, a.n)) {
			t.Errorf("acknowledged ticket %s holds another payload", id)
		}
	}
	raw := rawDB(t, path)
	defer raw.Close()
	for q, want := range map[string]int64{
		"SELECT COUNT(*) FROM tickets WHERE id NOT IN (SELECT ticket_id FROM deliveries)": 0,
		"SELECT COUNT(*) FROM deliveries WHERE ticket_id NOT IN (SELECT id FROM tickets)": 0,
		"SELECT COUNT(*) FROM tickets": int64(len(items)),
	} {
		if got := queryInt(t, raw, q); got != want {
			t.Errorf("round %d: %s = %d, want %d", round, q, got, want)
		}
	}
	var check string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("round %d: integrity_check = %q, %v", round, check, err)
	}
}
