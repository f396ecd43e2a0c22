package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// BenchmarkSyncRequests counts the requests one status-sync cycle makes
// per connection for 1, 100 and 1,000 open tickets on each vendor's fake,
// beside the one-GET-per-ticket baseline (N requests): a first cycle
// (everything is new) and a quiet one (nothing changed since the last).
// Metrics: first_req, quiet_req, baseline_req, x_baseline (first cycle /
// baseline). Run with -benchtime=1x.
func BenchmarkSyncRequests(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		v, body := startSevenVendors(b)
		cfg, err := config.Parse("bench.json", []byte(body))
		if err != nil {
			b.Fatal(err)
		}
		served := map[string]func() int{
			"Jira": v.jira.Requests, "JSM": v.jsm.Served,
			"ServiceNow":   func() int { return len(v.sn.Requests()) },
			"Zendesk":      func() int { return len(v.zd.Requests()) },
			"Freshservice": func() int { return len(v.fs.Requests()) },
			"Salesforce":   func() int { return len(v.sf.Requests()) },
			"BMC Helix":    func() int { return len(v.bmc.Requests()) },
		}
		for _, conn := range cfg.Connections {
			if conn.Type == "servicenow" {
				conn.Credentials.Password = snfake.Password // no environment here
			}
			b.Run(fmt.Sprintf("%s/open=%d", conn.Name, n), func(b *testing.B) {
				c := conformance.MustBuild(b, conn)
				remotes := make([]connectors.Remote, n)
				for i := range remotes {
					remotes[i] = conformance.MustCreate(b, c, conformance.Delivery(conformance.Ticket(), conn))
				}
				sy := c.(connectors.Syncer)
				var first, quiet int
				for i := 0; i < b.N; i++ {
					start := served[conn.Name]()
					if _, err := sy.Sync(context.Background(), time.Time{}, remotes); err != nil {
						b.Fatal(err)
					}
					mid := served[conn.Name]()
					if _, err := sy.Sync(context.Background(), time.Now().Add(time.Minute), remotes); err != nil {
						b.Fatal(err)
					}
					first, quiet = mid-start, served[conn.Name]()-mid
				}
				b.ReportMetric(float64(first), "first_req")
				b.ReportMetric(float64(quiet), "quiet_req")
				b.ReportMetric(float64(n), "baseline_req")
				b.ReportMetric(float64(first)/float64(n), "x_baseline")
			})
		}
	}
}
