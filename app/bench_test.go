package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
	"github.com/ticketray/ticketray/queue"
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

// BenchmarkDrainVendor is BenchmarkDrain for each vendor: its fake answers
// each create after 50 ms; 48 tickets drain through one connection with 4
// deliveries in flight, beside the ideal (tickets × 50 ms / 4) measured in
// the same run. Run with -benchtime=1x.
func BenchmarkDrainVendor(b *testing.B) {
	const latency = 50 * time.Millisecond
	const tickets, conc = 48, 4
	slow := fake.Fault{Kind: fake.Delay, Wait: latency}
	for _, vendor := range []struct {
		name, method, path string
	}{
		{"Jira", "POST", "/rest/api/3/issue"},
		{"JSM", "POST", "/rest/servicedeskapi/request"},
		{"ServiceNow", "POST", "/api/now/table/incident"},
		{"Zendesk", "POST", "/api/v2/tickets"},
		{"Freshservice", "POST", "/api/v2/tickets"},
		{"Salesforce", "PATCH", "/services/data/"},
		{"BMC Helix", "POST", "/api/arsys/v1/entry/HPD:IncidentInterface_Create"},
	} {
		b.Run(vendor.name, func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				v, body := startSevenVendors(b)
				v.faults[vendor.name].Always(vendor.method, vendor.path, slow)
				cfg, err := config.Parse("bench.json", []byte(body))
				if err != nil {
					b.Fatal(err)
				}
				for j := range cfg.Connections {
					if cfg.Connections[j].Name != vendor.name {
						off := false
						cfg.Connections[j].Enabled = &off
					}
				}
				st, err := queue.Open(context.Background(), b.TempDir()+"/q.db", queue.Options{KEK: queue.PassphraseKEK{Passphrase: []byte("p"), Time: 1, MemoryKiB: 8 << 10, Threads: 1}})
				if err != nil {
					b.Fatal(err)
				}
				svc := &Service{Config: cfg, Store: st, sessionID: "bench", getenv: func(k string) string { return map[string]string{"SN_PASSWORD": snfake.Password}[k] }}
				var keys []string
				for k := 0; k < tickets; k++ {
					rc, err := svc.Submit(context.Background(), Draft{Summary: fmt.Sprintf("Printer %d jams", k), Priority: "high",
						User: connectors.User{Name: "Alice Example", Email: "alice@example.com"}})
					if err != nil {
						b.Fatal(err)
					}
					keys = append(keys, rc.IdempotencyKey)
				}
				co, err := delivery.NewCourier(st, cfg, delivery.CourierOptions{Build: svc.buildConnector, Concurrency: conc})
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
				st.Close()
				if err != nil {
					b.Fatal(err)
				}
				for _, k := range keys {
					if n := v.counts[vendor.name](connectors.DeliveryKey(k, vendor.name)); n != 1 {
						b.Fatalf("ticket %s delivered %d times", k, n)
					}
				}
			}
			per := elapsed / time.Duration(b.N)
			ideal := tickets * latency / conc
			b.ReportMetric(ideal.Seconds(), "ideal_s")
			b.ReportMetric(per.Seconds(), "drain_s")
			b.ReportMetric(float64(per)/float64(ideal), "x_ideal")
			b.ReportMetric(tickets/per.Seconds(), "tickets/s")
		})
	}
}
