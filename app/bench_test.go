package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
)

// BenchmarkDrain measures drain throughput against the Jira fake answering
// each create after a fixed 50 ms, beside the ideal for that latency:
// tickets × latency / concurrency. Metric x_ideal is elapsed / ideal (1.0
// is perfect). Run with -benchtime=1x: one iteration drains 48 tickets.
func BenchmarkDrain(b *testing.B) {
	const latency = 50 * time.Millisecond
	const tickets = 48
	for _, conc := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				rig := newE2ERig(b)
				off := false
				rig.svc.Config.Connections[1].Enabled = &off // Jira only
				rig.svc.Config.Connections[2].Enabled = &off
				rig.start(b)
				rig.jira.Faults.Always("POST", "/rest/api/3/issue", fake.Fault{Kind: fake.Delay, Wait: latency})
				keys := rig.report(b, tickets)
				co, err := delivery.NewCourier(rig.svc.Store, rig.svc.Config, delivery.CourierOptions{Build: rig.svc.buildConnector, Concurrency: conc, Guard: connectors.GuardOptions{RatePerSecond: 1e6, Burst: 1e6}})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				b.StartTimer()
				start := time.Now()
				err = co.Drain(ctx)
				elapsed += time.Since(start)
				b.StopTimer()
				cancel()
				co.Close()
				if err != nil {
					b.Fatal(err)
				}
				for _, k := range keys {
					if n := rig.jira.Count(connectors.DeliveryKey(k, "Jira")); n != 1 {
						b.Fatalf("ticket %s delivered %d times", k, n)
					}
				}
			}
			per := elapsed / time.Duration(b.N)
			ideal := tickets * latency / time.Duration(conc)
			b.ReportMetric(ideal.Seconds(), "ideal_s")
			b.ReportMetric(per.Seconds(), "drain_s")
			b.ReportMetric(float64(per)/float64(ideal), "x_ideal")
			b.ReportMetric(tickets/per.Seconds(), "tickets/s")
		})
	}
}
