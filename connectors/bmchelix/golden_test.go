package bmchelix_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/diagnostics"
)

// TestCreateRequestGolden pins the values a create sends, the wire format
// an AR administrator reviews, in testdata/create-request.golden.json
// (go test -update rewrites it).
func TestCreateRequestGolden(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	conn.Options = options("company", bmcfake.CompanyCalbro)
	conn.Mappings = map[string]map[string]string{"category": {"Network": "Network", "default": "Software"}}
	tk := &connectors.Ticket{
		Summary:        "VPN drops every hour",
		Description:    "Since Monday the VPN disconnects about once an hour.",
		Category:       "Network",
		Priority:       connectors.PriorityHigh,
		User:           connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"},
		SystemInfo:     &diagnostics.SystemInfo{OSName: "debian", OSVersion: "12", Architecture: "amd64", DeviceName: "lap-42", DeviceID: "dev-1"},
		SkillResults:   []diagnostics.SkillResult{{SkillID: "dns-flush", SkillName: "Flush DNS cache", Status: "success", Output: "flushed", ExecutionTimeMs: 120}},
		Context:        connectors.Context{AppVersion: "1.4.0"},
		CreatedAt:      time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC),
		IdempotencyKey: "3f2a9c1d7e5b4a60b1c2d3e4f5a6b7c8",
	}
	if _, err := conformance.MustBuild(t, conn).Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(map[string]any{"values": lastValues(t, f, createPath)}, "", "  ")
	got = append(got, '\n')
	conformance.Golden(t, "testdata/create-request.golden.json", got)

}
