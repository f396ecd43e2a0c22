// Command bench measures Ticketray's queue beside its baselines, in one
// process, interleaving the variants round by round so that machine noise
// falls on all of them alike, and prints medians and ratios from the same
// run (issue 11; docs/BENCHMARKS.md has the figures and the command):
//
//	(a) Ticketray Enqueue
//	(b) Ticketray Enqueue + Lease + Complete (one cycle)
//	(c) goqite Send + Receive + Delete on modernc, with Ticketray's pragmas,
//	    and as goqite's README configures it (for reference)
//	(d) a plain INSERT with Ticketray's pragmas, one transaction per row
//	(e) the cycle with 100 and with 10,000 tickets waiting
//	(f) rotation of 1,000 and of 10,000 tickets
//	(g) draining 100 and 10,000 tickets through the real courier to a fake
//	    connector, each in a child process: peak RSS, and the latency of a
//	    Submit (a durable Enqueue) during the drain beside idle
//	(h) the status line's counts with 100 and with 10,000 tickets waiting
//
// It lives in its own module so that goqite stays out of the app's go.mod.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"time"

	"maragu.dev/goqite"
	_ "modernc.org/sqlite"

	"github.com/ticketray/ticketray/queue"
)

var (
	rounds   = flag.Int("rounds", 11, "rounds; each runs every variant once")
	ops      = flag.Int("ops", 200, "operations per variant per round (a-e)")
	big      = flag.Int("big", 10000, "the large backlog (e, f, g)")
	small    = flag.Int("small", 100, "the small backlog (e, g)")
	rotSmall = flag.Int("rot-small", 1000, "the small rotation (f)")
	only     = flag.String("only", "", "comma-separated parts to run: cycle, rotate, drain (default all)")
	dir      = flag.String("dir", "", "directory for the database files (default a temporary one)")
	cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
)

const payloadSize = 2 << 10

func main() {
	flag.Parse()
	if childDrain() {
		return
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "ticketray-bench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	part := func(p string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), p) }
	fmt.Printf("rounds %d, %d ops per variant per round, payload %d B, dir %s\n", *rounds, *ops, payloadSize, *dir)
	fmt.Printf("load average before: %s\n", loadavg())
	if part("cycle") {
		cycles()
	}
	if part("rotate") {
		rotations()
	}
	if part("drain") {
		drains()
	}
	fmt.Printf("load average after: %s\n", loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func payload() []byte {
	p := make([]byte, payloadSize)
	rand.Read(p)
	return p
}

// fileSecrets is a stand-in for the OS keyring, in files next to the
// queues so that the drain's child process finds the keys: the key source
// is not what is measured.
type fileSecrets struct{}

func (fileSecrets) Get(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(*dir, "keyring-"+name))
}

func (fileSecrets) Set(name string, v []byte) error {
	return os.WriteFile(filepath.Join(*dir, "keyring-"+name), v, 0o600)
}

var secrets = fileSecrets{}

func openStore(name string) *queue.Store {
	s, err := queue.Open(context.Background(), filepath.Join(*dir, name), queue.Options{KEK: queue.KeyringKEK{Store: secrets}})
	must(err)
	_, err = s.Check(context.Background()) // the background integrity check is done before measuring
	must(err)
	return s
}

var target = []queue.Target{{Connection: "fake", Action: queue.ActionCreate}}

// fill enqueues n tickets in batches.
func fill(s *queue.Store, n int, body func() []byte) {
	for n > 0 {
		k := min(n, 500)
		batch := make([]queue.NewTicket, k)
		for i := range batch {
			batch[i] = queue.NewTicket{CreatedAt: time.Now(), Payload: body(), Targets: target}
		}
		_, err := s.EnqueueBatch(context.Background(), batch)
		must(err)
		n -= k
	}
}

// ticketrayDSN is the queue's own connection string (queue/store.go).
func ticketrayDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "secure_delete(1)", "cache_size(-1024)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// readmeDSN is goqite's README configuration (WAL, 5 s timeout, foreign
// keys, one connection) in modernc's spelling; synchronous stays at
// SQLite's default, FULL.
func readmeDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(5000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

const goqiteSchema = `create table goqite (
  id text primary key default ('m_' || lower(hex(randomblob(16)))),
  created text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  updated text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  queue text not null,
  body blob not null,
  timeout text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  received integer not null default 0,
  priority integer not null default 0
) strict;
create trigger goqite_updated_timestamp after update on goqite begin
  update goqite set updated = strftime('%Y-%m-%dT%H:%M:%fZ') where id = old.id;
end;
create index goqite_queue_priority_created_idx on goqite (queue, priority desc, created);`

func openGoqite(name string, readme bool) *goqite.Queue {
	path := filepath.Join(*dir, name)
	dsn := ticketrayDSN(path)
	if readme {
		dsn = readmeDSN(path)
	}
	db, err := sql.Open("sqlite", dsn)
	must(err)
	if readme {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	}
	_, err = db.Exec(goqiteSchema)
	must(err)
	return goqite.New(goqite.NewOpts{DB: db, Name: "jobs"})
}

// variant is one measured operation; run does it once.
type variant struct {
	name string
	run  func()
	per  []time.Duration // per-operation mean, one per round
}

// interleave runs every variant ops times per round, round by round, the
// order rotating each round, and records each round's mean per operation.
func interleave(vs []*variant, n int) {
	for r := 0; r < *rounds; r++ {
		for i := range vs {
			v := vs[(i+r)%len(vs)]
			start := time.Now()
			for range n {
				v.run()
			}
			v.per = append(v.per, time.Since(start)/time.Duration(n))
		}
		fmt.Fprintf(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// medianRatio is the median over rounds of a's time over b's in that round.
func medianRatio(a, b *variant) float64 {
	rs := make([]float64, len(a.per))
	for i := range rs {
		rs[i] = float64(a.per[i]) / float64(b.per[i])
	}
	sort.Float64s(rs)
	return rs[len(rs)/2]
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Microsecond)) }

func cycles() {
	ctx := context.Background()
	body := payload()

	enq := openStore("enqueue.db")
	cyc := openStore("cycle.db")
	smallQ := openStore("cycle-small.db")
	bigQ := openStore("cycle-big.db")
	fill(smallQ, *small, payload)
	fill(bigQ, *big, payload)
	gq := openGoqite("goqite.db", false)
	gqReadme := openGoqite("goqite-readme.db", true)

	plain, err := sql.Open("sqlite", ticketrayDSN(filepath.Join(*dir, "plain.db")))
	must(err)
	_, err = plain.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, payload BLOB NOT NULL) STRICT")
	must(err)

	cycle := func(s *queue.Store) func() {
		return func() {
			_, err := s.Enqueue(ctx, time.Now(), body, target)
			must(err)
			ls, err := s.Lease(ctx, queue.LeaseOptions{Connection: "fake", Limit: 1})
			must(err)
			if len(ls) != 1 {
				log.Fatalf("leased %d", len(ls))
			}
			must(s.Complete(ctx, ls[0], queue.Outcome{State: queue.StateDelivered, RemoteID: "1", RemoteNumber: "INC1"}))
		}
	}
	goq := func(q *goqite.Queue) func() {
		return func() {
			must(q.Send(ctx, goqite.Message{Body: body}))
			m, err := q.Receive(ctx)
			must(err)
			if m == nil {
				log.Fatal("goqite received nothing")
			}
			must(q.Delete(ctx, m.ID))
		}
	}
	a := &variant{name: "(a) Ticketray Enqueue", run: func() {
		_, err := enq.Enqueue(ctx, time.Now(), body, target)
		must(err)
	}}
	b := &variant{name: "(b) Ticketray Enqueue+Lease+Complete", run: cycle(cyc)}
	c := &variant{name: "(c) goqite Send+Receive+Delete, Ticketray's pragmas", run: goq(gq)}
	cr := &variant{name: "(c') goqite Send+Receive+Delete, README config", run: goq(gqReadme)}
	// A plain INSERT on its own is its own transaction: no BEGIN or COMMIT
	// round trips, as Ticketray's enqueue (one statement).
	d := &variant{name: "(d) plain INSERT, one transaction per row", run: func() {
		_, err := plain.ExecContext(ctx, "INSERT INTO t (created_at, payload) VALUES (?, ?)", time.Now().UnixMilli(), body)
		must(err)
	}}
	e1 := &variant{name: fmt.Sprintf("(e) cycle, %d waiting", *small), run: cycle(smallQ)}
	e2 := &variant{name: fmt.Sprintf("(e) cycle, %d waiting", *big), run: cycle(bigQ)}
	vs := []*variant{a, b, c, cr, d, e1, e2}
	interleave(vs, *ops)

	fmt.Println("\n| variant | median µs/op | min | max |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, v := range vs {
		fmt.Printf("| %s | %s | %s | %s |\n", v.name, us(median(v.per)), us(slices.Min(v.per)), us(slices.Max(v.per)))
	}
	fmt.Println("\n| ratio | median of per-round ratios | target |")
	fmt.Println("| --- | --- | --- |")
	fmt.Printf("| (b) / (c) cycle vs goqite, equal pragmas | %.2f× | ≤ 1.0× |\n", medianRatio(b, c))
	fmt.Printf("| (b) / (c') cycle vs goqite, README config | %.2f× | (reference) |\n", medianRatio(b, cr))
	fmt.Printf("| (a) / (d) enqueue vs plain INSERT | %.2f× | ≤ 1.5× |\n", medianRatio(a, d))
	fmt.Printf("| (b) / (d) cycle vs plain INSERT | %.2f× | (reference) |\n", medianRatio(b, d))
	fmt.Printf("| (e) %d waiting / %d waiting | %.2f× | ≤ 1.2× |\n", *big, *small, medianRatio(e2, e1))

	// The status line's counts walk the index of the work left (migration
	// 0009: a count kept up to date cost every enqueue a page), so they
	// grow with the backlog; the tray reads them every 5 s.
	counts := func(s *queue.Store) func() {
		return func() {
			_, err := s.Counts(ctx)
			must(err)
		}
	}
	h1 := &variant{name: fmt.Sprintf("(h) Counts, %d waiting", *small), run: counts(smallQ)}
	h2 := &variant{name: fmt.Sprintf("(h) Counts, %d waiting", *big), run: counts(bigQ)}
	interleave([]*variant{h1, h2}, max(*ops/10, 1))
	fmt.Println("\n| status line counts | median ms | min | max |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, v := range []*variant{h1, h2} {
		fmt.Printf("| %s | %.3f | %.3f | %.3f |\n", v.name, ms(median(v.per)), ms(slices.Min(v.per)), ms(slices.Max(v.per)))
	}
	for _, s := range []*queue.Store{enq, cyc, smallQ, bigQ} {
		s.Close()
	}
}

func rotations() {
	ctx := context.Background()
	s1 := openStore("rotate-small.db")
	s2 := openStore("rotate-big.db")
	fill(s1, *rotSmall, payload)
	fill(s2, *big, payload)
	rot := func(s *queue.Store, n int) func() {
		return func() {
			res, err := s.RotateDEK(ctx)
			must(err)
			if res.Reencrypted < n {
				log.Fatalf("rotation re-sealed %d of %d", res.Reencrypted, n)
			}
		}
	}
	// The small rotation runs big/small times a round, so that both take
	// about as long and a burst of noise weighs on them alike.
	k := max(*big / *rotSmall, 1)
	small := rot(s1, *rotSmall)
	f1 := &variant{name: fmt.Sprintf("(f) rotation of %d tickets", *rotSmall), run: func() {
		for range k {
			small()
		}
	}}
	f2 := &variant{name: fmt.Sprintf("(f) rotation of %d tickets", *big), run: rot(s2, *big)}
	interleave([]*variant{f1, f2}, 1)
	for i := range f1.per {
		f1.per[i] /= time.Duration(k)
	}
	m1, m2 := median(f1.per), median(f2.per)
	per1 := m1 / time.Duration(*rotSmall/1000)
	per2 := m2 / time.Duration(*big/1000)
	// Per 1,000 tickets, round by round.
	rs := make([]float64, len(f1.per))
	for i := range rs {
		rs[i] = (float64(f2.per[i]) / float64(*big)) / (float64(f1.per[i]) / float64(*rotSmall))
	}
	sort.Float64s(rs)
	fmt.Println("\n| rotation | median ms | ms per 1,000 tickets |")
	fmt.Println("| --- | --- | --- |")
	fmt.Printf("| %d tickets | %.1f | %.1f |\n", *rotSmall, ms(m1), ms(per1))
	fmt.Printf("| %d tickets | %.1f | %.1f |\n", *big, ms(m2), ms(per2))
	fmt.Printf("\nper 1,000 at %d / per 1,000 at %d: %.2f× (median of per-round ratios; target ≤ 1.2×)\n", *big, *rotSmall, rs[len(rs)/2])
	s1.Close()
	s2.Close()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
