package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
)

var (
	drainRounds = flag.Int("drain-rounds", 3, "rounds of the drain (g); each drains both backlogs in a child process")
	submitEvery = flag.Duration("submit-every", 10*time.Millisecond, "time between Submits while measuring their latency (g)")
	drainChild  = flag.String("drain-child", "", "internal: drain the queue at this path and report")
)

// fakeConnector answers at once, as a vendor on a fast LAN would, so the
// queue's own costs are what the drain measures.
type fakeConnector struct {
	mu sync.Mutex
	n  int
}

func (f *fakeConnector) Create(ctx context.Context, t *connectors.Ticket) (connectors.Remote, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return connectors.Remote{ID: strconv.Itoa(f.n), Number: fmt.Sprintf("INC%07d", f.n), URL: "https://example.invalid/" + strconv.Itoa(f.n)}, nil
}

func (f *fakeConnector) Find(context.Context, string) (connectors.Remote, error) {
	return connectors.Remote{}, connectors.ErrNotFound
}

func (f *fakeConnector) Status(ctx context.Context, r connectors.Remote) (connectors.RemoteStatus, error) {
	return connectors.RemoteStatus{Remote: r, Status: "new"}, nil
}
func (f *fakeConnector) Comment(context.Context, connectors.Remote, string) error { return nil }
func (f *fakeConnector) Attach(context.Context, connectors.Remote, connectors.Attachment) error {
	return nil
}
func (f *fakeConnector) Check(context.Context) error { return nil }

// ticketJSON is a report as the app queues it, about payloadSize long.
func ticketJSON() []byte {
	t := connectors.Ticket{Summary: "Printer on floor 3 is offline", Priority: connectors.PriorityMedium,
		IdempotencyKey: connectors.NewKey(), CreatedAt: time.Now().UTC(), User: connectors.User{Email: "u@example.com"},
		Description: strings.Repeat("The printer shows error 0x42 after the morning update. ", 36)}
	b, err := json.Marshal(t)
	must(err)
	return b
}

// drains runs the courier drain of both backlogs in child processes,
// alternating, so that each child's peak RSS is its own.
func drains() {
	type result struct {
		rssKB, openKB           int64
		idleP99, drainP99, took time.Duration
		submits                 int
	}
	res := map[int][]result{}
	for r := 0; r < *drainRounds; r++ {
		for _, n := range []int{*small, *big} {
			path := filepath.Join(*dir, fmt.Sprintf("drain-%d-%d.db", n, r))
			s := openStore(filepath.Base(path))
			fill(s, n, ticketJSON)
			must(s.Close())
			cmd := exec.Command(os.Args[0], "-drain-child", path)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				log.Fatalf("drain child: %v", err)
			}
			var x result
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 2 {
					continue
				}
				v, _ := strconv.ParseInt(f[1], 10, 64)
				switch f[0] {
				case "rss_kb":
					x.rssKB = v
				case "open_rss_kb":
					x.openKB = v
				case "idle_p99_us":
					x.idleP99 = time.Duration(v) * time.Microsecond
				case "drain_p99_us":
					x.drainP99 = time.Duration(v) * time.Microsecond
				case "drain_ms":
					x.took = time.Duration(v) * time.Millisecond
				case "submits":
					x.submits = int(v)
				}
			}
			res[n] = append(res[n], x)
			os.Remove(path)
			os.Remove(path + "-wal")
			os.Remove(path + "-shm")
			fmt.Fprintf(os.Stderr, ".")
		}
	}
	fmt.Fprintln(os.Stderr)
	fmt.Println("\n| drain through the courier | peak RSS MB, whole process | peak RSS MB, drain only | drain s | Submit p99 ms, idle | Submit p99 ms, during drain | during / idle | Submits during drain |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	med := func(xs []result, f func(result) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	for _, n := range []int{*small, *big} {
		xs := res[n]
		fmt.Printf("| %d tickets | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f× | %.0f |\n", n,
			med(xs, func(x result) float64 { return float64(max(x.rssKB, x.openKB)) / 1024 }),
			med(xs, func(x result) float64 { return float64(x.rssKB) / 1024 }),
			med(xs, func(x result) float64 { return x.took.Seconds() }),
			med(xs, func(x result) float64 { return ms(x.idleP99) }),
			med(xs, func(x result) float64 { return ms(x.drainP99) }),
			med(xs, func(x result) float64 { return float64(x.drainP99) / float64(x.idleP99) }),
			med(xs, func(x result) float64 { return float64(x.submits) }))
	}
	ratio := func(f func(result) int64) float64 {
		rs := make([]float64, *drainRounds)
		for i := range rs {
			rs[i] = float64(f(res[*big][i])) / float64(f(res[*small][i]))
		}
		sort.Float64s(rs)
		return rs[len(rs)/2]
	}
	fmt.Printf("\npeak RSS draining %d / draining %d, whole process (open, its background check, drain): %.2f× (median of per-round ratios; target ≤ 1.2×)\n", *big, *small,
		ratio(func(x result) int64 { return max(x.rssKB, x.openKB) }))
	fmt.Printf("peak RSS draining %d / draining %d, from the start of the drain: %.2f×\n", *big, *small, ratio(func(x result) int64 { return x.rssKB }))
	fmt.Printf("Submit p99 during the %d drain / idle: %.2f× (median over rounds; target ≤ 2×)\n", *big,
		med(res[*big], func(x result) float64 { return float64(x.drainP99) / float64(x.idleP99) }))
}

// childDrain is the child process of drains: it opens the queue, measures
// Submit latency idle, then drains through the courier while submitting,
// and prints its figures.
func childDrain() bool {
	if *drainChild == "" {
		return false
	}
	ctx := context.Background()
	*dir = filepath.Dir(*drainChild)
	st := openStore(filepath.Base(*drainChild))
	defer st.Close()
	opened := peakRSS()
	// The peak of the drain alone: Linux resets VmHWM on "5" to clear_refs.
	must(os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
	cfg := config.Default()
	cfg.Connections = []connectors.Connection{{Name: "fake", Type: "servicenow", BaseURL: "https://fake.example.invalid",
		Credentials: connectors.Credentials{Type: "bearer", Token: "t"}}}
	fake := &fakeConnector{}
	co, err := delivery.NewCourier(st, cfg, delivery.CourierOptions{
		Build: func(connectors.Connection) (connectors.Connector, error) { return fake, nil },
		Guard: connectors.GuardOptions{RatePerSecond: 1e6, Burst: 1e6}, // the vendor's rate limit is not what is measured
		Probe: func(context.Context, string) bool { return true },
	})
	must(err)
	defer co.Close()
	submit := func() time.Duration {
		start := time.Now()
		if _, err := st.Enqueue(ctx, time.Now(), ticketJSON(), target); err != nil {
			log.Fatal(err)
		}
		d := time.Since(start)
		co.Wake()
		return d
	}
	p99 := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[(len(ds)*99)/100]
	}
	var idle []time.Duration
	for range 200 {
		idle = append(idle, submit())
		time.Sleep(*submitEvery)
	}
	var done atomic.Bool
	var during []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			during = append(during, submit())
			time.Sleep(*submitEvery)
		}
	}()
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	err = co.Drain(dctx)
	took := time.Since(start)
	cancel()
	done.Store(true)
	wg.Wait()
	must(err)
	if len(during) == 0 {
		during = append(during, 0)
	}
	fmt.Printf("open_rss_kb %d\n", opened)
	fmt.Printf("rss_kb %d\nidle_p99_us %d\ndrain_p99_us %d\ndrain_ms %d\nsubmits %d\n",
		peakRSS(), p99(idle).Microseconds(), p99(during).Microseconds(), took.Milliseconds(), len(during))
	return true
}

// peakRSS is VmHWM from /proc/self/status, in KiB.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	must(err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}
