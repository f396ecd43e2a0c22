package diagnostics

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkCollect measures full system-information collection (every
// probe, top-5 processes, device id and salt from the data dir) with the
// probes run concurrently, beside the baseline of the same probes run one
// after another, in the same run and interleaved so both see the same
// machine load. It reports p50/p95 latency of each and the serial/parallel
// ratio (above 1 means the concurrent collection is faster).
// ns/op is the cost of one of each together and not meaningful alone.
//
//	go test -run '^$' -bench BenchmarkCollect -benchtime 200x ./diagnostics/
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	o := Options{DataDir: b.TempDir(), AppVersion: "bench", TopProcesses: 5}
	// Warm up: create the id and salt files, fill the OS's caches.
	Collect(ctx, o)
	collectSerial(ctx, o)
	var par, ser []time.Duration
	partial := 0
	timeOne := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	i := 0
	for b.Loop() {
		parallel := func() {
			if si := Collect(ctx, o); si.Partial {
				partial++
			}
		}
		serial := func() { collectSerial(ctx, o) }
		if i%2 == 0 {
			par = append(par, timeOne(parallel))
			ser = append(ser, timeOne(serial))
		} else {
			ser = append(ser, timeOne(serial))
			par = append(par, timeOne(parallel))
		}
		i++
	}
	p50, p95 := quantileMs(par, 0.50), quantileMs(par, 0.95)
	s50, s95 := quantileMs(ser, 0.50), quantileMs(ser, 0.95)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p95, "p95-ms")
	b.ReportMetric(s50, "serial-p50-ms")
	b.ReportMetric(s95, "serial-p95-ms")
	b.ReportMetric(s50/p50, "speedup-p50")
	b.ReportMetric(s95/p95, "speedup-p95")
	b.ReportMetric(float64(partial), "partial-runs")
}

// quantileMs is the q-quantile of ds (nearest rank), in milliseconds.
func quantileMs(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

func TestQuantile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		in   []time.Duration
		q    float64
		want float64
	}{
		{ms(5, 1, 3, 2, 4), 0.5, 3},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 0.95, 19},
		{ms(7), 0.95, 7},
		{nil, 0.5, 0},
	}
	for _, tt := range tests {
		if got := quantileMs(tt.in, tt.q); got != tt.want {
			t.Errorf("quantileMs(%v, %v) = %v, want %v", tt.in, tt.q, got, tt.want)
		}
	}
}
