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
	"testing"
	"time"
)

// SIGKILL during Lease/Complete and during a key rotation: the child
// process works on a queue the parent filled, acknowledging on stdout
// only what returned nil, and the parent kills it at a random point.
const (
	crashEnvMode   = "TICKETRAY_CRASH_MODE" // lease or rotate
	crashEnvWorkDB = "TICKETRAY_CRASH_WORK_DB"
)

// TestCrashWorkChild is the child; it does nothing in a normal run.
func TestCrashWorkChild(t *testing.T) {
	path := os.Getenv(crashEnvWorkDB)
	if path == "" {
		t.Skip("helper process for TestCrashDuringLease and TestCrashDuringRotation")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, Options{KEK: crashKEK()})
	if err != nil {
		fmt.Printf("ERR open: %v\n", err)
		os.Exit(2)
	}
	fmt.Println("READY")
	deadline := time.Now().Add(time.Minute) // only stops an orphan
	switch os.Getenv(crashEnvMode) {
	case "lease":
		for time.Now().Before(deadline) {
			ls, err := s.Lease(ctx, LeaseOptions{Connection: "zendesk", Limit: 3, TTL: time.Hour})
			if err != nil {
				fmt.Printf("ERR lease: %v\n", err)
				os.Exit(3)
			}
			if len(ls) == 0 {
				fmt.Println("EMPTY")
				time.Sleep(time.Second)
				continue
			}
			for _, l := range ls {
				fmt.Printf("LEASED %d\n", l.ID)
			}
			for _, l := range ls {
				if err := s.Complete(ctx, l, Outcome{State: StateDelivered, RemoteNumber: "INC" + strconv.FormatInt(l.ID, 10)}); err != nil {
					fmt.Printf("ERR complete: %v\n", err)
					os.Exit(3)
				}
				fmt.Printf("DONE %d\n", l.ID)
			}
		}
	case "rotate":
		for n := 0; time.Now().Before(deadline); n++ {
			res, err := s.RotateDEK(ctx)
			if err != nil {
				fmt.Printf("ERR rotate: %v\n", err)
				os.Exit(3)
			}
			fmt.Printf("ROTATED %d %d\n", res.DEK, res.Reencrypted)
		}
	}
	os.Exit(4)
}

// runWorkChild starts the child in mode and kills it after its k-th line
// that starts with killOn, plus a random delay; it returns the lines.
func runWorkChild(t *testing.T, path, mode, killOn string, k int, delay time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashWorkChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvWorkDB+"="+path, crashEnvMode+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { cmd.Process.Kill() }) }
	var lines []string
	seen := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		switch {
		case strings.HasPrefix(line, "ERR"):
			kill()
			t.Errorf("child: %s", line)
		case line == "EMPTY":
			kill()
		case strings.HasPrefix(line, killOn):
			if seen++; seen == k {
				time.AfterFunc(delay, kill)
			}
		}
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || !killedBySIGKILL(ee) {
		t.Fatalf("%s child ended with %v before it was killed", mode, err)
	}
	return lines
}

// crashFill queues n tickets for the crash tests' connections.
func crashFill(t *testing.T, path string, round, n int) {
	t.Helper()
	s := openStore(t, path, Options{KEK: crashKEK()})
	var batch []NewTicket
	for i := range n {
		batch = append(batch, NewTicket{CreatedAt: crashCreatedAt(round, i), Payload: crashPayload(round, i), Targets: crashTargets})
	}
	if _, err := s.EnqueueBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// checkWhole opens the queue as the next start would and checks that
// every ticket is whole and readable, the counts agree with the rows, and
// the file is sound. It returns the store, still open.
func checkWhole(t *testing.T, path string, tickets int) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{KEK: crashKEK()})
	if err != nil {
		t.Fatalf("Open after the kill: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	items, err := s.List(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != tickets {
		t.Errorf("%d tickets after the kill, want %d", len(items), tickets)
	}
	for _, it := range items {
		r, n, ok := parseCrashPayload(it.Payload)
		if it.Err != nil || !ok || !bytes.Equal(it.Payload, crashPayload(r, n)) {
			t.Errorf("ticket %s unreadable or changed: %v", it.ID, it.Err)
		}
		if len(it.Deliveries) != len(crashTargets) {
			t.Errorf("ticket %s has %d deliveries", it.ID, len(it.Deliveries))
		}
	}
	raw := rawDB(t, path)
	defer raw.Close()
	var check string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	checkCounts(t, raw)
	return s
}

func crashRounds() int {
	if testing.Short() {
		return 4
	}
	return 12
}

// TestCrashDuringLease: a drain killed anywhere in Lease or Complete loses
// no ticket and no recorded outcome, and the next start takes over the dead
// process's leases at once (they were taken for an hour), as uncertain.
func TestCrashDuringLease(t *testing.T) {
	if os.Getenv(crashEnvWorkDB) != "" {
		t.Skip("in the child")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const tickets = 60
	for round := range crashRounds() {
		path := dbPath(t)
		crashFill(t, path, round, tickets)
		k := 1 + rng.IntN(30)
		delay := time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
		lines := runWorkChild(t, path, "lease", "LEASED", k, delay)
		leased, done := map[int64]bool{}, map[int64]bool{}
		for _, l := range lines {
			var id int64
			if _, err := fmt.Sscanf(l, "LEASED %d", &id); err == nil {
				leased[id] = true
			}
			if _, err := fmt.Sscanf(l, "DONE %d", &id); err == nil {
				done[id] = true
			}
		}
		s := checkWhole(t, path, tickets)
		ctx := context.Background()
		items, _ := s.List(ctx, Filter{})
		inFlight := map[int64]bool{}
		for _, it := range items {
			for _, d := range it.Deliveries {
				switch {
				case done[d.ID] && d.State != StateDelivered:
					t.Errorf("round %d: delivery %d was recorded delivered, now %s", round, d.ID, d.State)
				case d.State == StateInFlight:
					if !leased[d.ID] && d.Attempts == 0 {
						t.Errorf("round %d: delivery %d in flight without a lease", round, d.ID)
					}
					inFlight[d.ID] = true
				case d.State == StateDelivered && d.RemoteNumber != "INC"+strconv.FormatInt(d.ID, 10):
					t.Errorf("round %d: delivery %d delivered with %q", round, d.ID, d.RemoteNumber)
				}
			}
		}
		t.Logf("round %d: killed %v after lease %d: %d outcomes recorded, %d left in flight", round, delay, k, len(done), len(inFlight))
		// Open reclaimed the dead child's leases: they are due now, uncertain.
		for len(inFlight) > 0 {
			ls, err := s.Lease(ctx, LeaseOptions{Connection: "zendesk", Limit: 10})
			if err != nil || len(ls) == 0 {
				t.Fatalf("round %d: %d leases of the killed child not taken over (%v)", round, len(inFlight), err)
			}
			for _, l := range ls {
				if inFlight[l.ID] {
					if !l.Uncertain {
						t.Errorf("round %d: delivery %d taken over from a dead process is not uncertain", round, l.ID)
					}
					// The dead child's attempt stays in the history, right
					// before this one: the courier's settle wait looks for it.
					evs, err := s.Events(ctx, l.ID)
					if n := len(evs); err != nil || n < 2 || evs[n-2].State != StateInFlight || evs[n-1].State != StateInFlight || evs[n-1].Attempt != l.Attempts {
						t.Errorf("round %d: delivery %d taken over: history %+v (%v), want the dead attempt's start, then this one's", round, l.ID, evs, err)
					}
					delete(inFlight, l.ID)
				}
				complete(t, s, l, Outcome{State: StateDelivered, RemoteNumber: "INC" + strconv.FormatInt(l.ID, 10)})
			}
		}
		if t.Failed() {
			t.Fatalf("round %d (kill %v after %d leases) broke the queue", round, delay, k)
		}
	}
}

// TestCrashDuringRotation: a key rotation killed anywhere loses nothing:
// every ticket stays readable under the keys left, and the next rotation
// finishes the interrupted one.
func TestCrashDuringRotation(t *testing.T) {
	if os.Getenv(crashEnvWorkDB) != "" {
		t.Skip("in the child")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	const tickets = 700 // several batches of rotateBatch
	path := dbPath(t)
	crashFill(t, path, 0, tickets)
	for round := range crashRounds() {
		delay := time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
		lines := runWorkChild(t, path, "rotate", "READY", 1, delay)
		rotated := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "ROTATED") {
				rotated++
			}
		}
		s := checkWhole(t, path, tickets)
		ctx := context.Background()
		res, err := s.RotateDEK(ctx)
		if err != nil || len(res.Skipped) != 0 {
			t.Fatalf("round %d: rotation after the kill = %+v, %v", round, res, err)
		}
		raw := rawDB(t, path)
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM tickets WHERE dek_id != ?", res.DEK); n != 0 {
			t.Errorf("round %d: %d tickets not under the new key %d", round, n, res.DEK)
		}
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM deks"); n != 1 {
			t.Errorf("round %d: %d data keys left, want 1", round, n)
		}
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM meta WHERE key = 'rotating'"); n != 0 {
			t.Errorf("round %d: the rotation marker is left", round)
		}
		raw.Close()
		s.Close()
		t.Logf("round %d: killed %v after start, %d rotations had finished", round, delay, rotated)
		if t.Failed() {
			t.Fatalf("round %d broke the queue", round)
		}
	}
}
