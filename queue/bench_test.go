package queue

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// syncedWriteFloor measures the median cost of writing 4 KiB and fsyncing
// it, in the same directory: no durable enqueue can be cheaper.
func syncedWriteFloor(b *testing.B, dir string, n int) time.Duration {
	b.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "floor"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		ds[i] = time.Since(start)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[n/2]
}

// BenchmarkEnqueue is the durable enqueue (encrypt, insert ticket and
// deliveries, commit with synchronous=FULL) against the synced-write floor
// measured in the same run. Metric x_floor is the ratio.
func BenchmarkEnqueue(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("payload=%dKiB", size>>10), func(b *testing.B) {
			dir := b.TempDir()
			ctx := context.Background()
			st, err := Open(ctx, filepath.Join(dir, "q.db"), Options{KEK: PassphraseKEK{Passphrase: []byte("bench"), Time: 1, MemoryKiB: 8 << 10, Threads: 1}})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			floor := syncedWriteFloor(b, dir, 200)
			payload := make([]byte, size)
			targets := []Target{{"ServiceNow", ActionCreate}, {"Jira", ActionCreate}}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := st.Enqueue(ctx, time.Now(), payload, targets); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(floor.Microseconds()), "floor_µs")
			b.ReportMetric(float64(per)/float64(floor), "x_floor")
		})
	}
}
