package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
)

// Site is one vendor site (or instance) that several connections deliver
// to, each creating somewhere else on it: two Jira projects, a Jira project
// and a service desk, two ServiceNow assignment groups.
type Site struct {
	// Connections are two or more connections to the site, with distinct
	// names.
	Connections []Placed
	// Faults is the site's fault injector.
	Faults *fake.Injector
	// Places lists where each record on the whole site that carries key
	// lives, as Placed.Where names it, in any order.
	Places func(key string) []string
	// Violations, as in Target.
	Violations func() []string
}

// Placed is a connection and where on the site it creates.
type Placed struct {
	Connection connectors.Connection
	// Where is the place its records land, as Site.Places reports it (a
	// project key, an assignment group's sys_id).
	Where string
	// CreateMethod and CreatePath match its create request, as in Target.
	CreateMethod, CreatePath string
}

// RunShared checks exactly-once creation on a shared site. For each
// ordered pair of connections (first, second) one ticket goes to both, as
// the courier delivers it: first creates; second's create reaches the
// vendor but its answer is lost (a reset after send); second's retry finds
// before it creates. Each connection must end with its own record, exactly
// once, where it creates; and neither's Find may return the other's
// record, even given the other's delivery key. newSite must start a fresh
// site for each call.
func RunShared(t *testing.T, newSite func(t *testing.T) Site) {
	probe := newSite(t)
	n := len(probe.Connections)
	if n < 2 {
		t.Fatalf("a shared site needs two or more connections, got %d", n)
	}
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			name := fmt.Sprintf("%s then %s", probe.Connections[i].Connection.Name, probe.Connections[j].Connection.Name)
			t.Run(name, func(t *testing.T) { sharedUnknownOutcome(t, newSite(t), i, j) })
		}
	}
}

// sharedUnknownOutcome is one RunShared case: connection i creates, then
// connection j's create has an unknown outcome and is retried.
func sharedUnknownOutcome(t *testing.T, site Site, i, j int) {
	ctx := context.Background()
	checkViolations(t, site.Violations)
	first, second := site.Connections[i], site.Connections[j]
	c1, c2 := MustBuild(t, first.Connection), MustBuild(t, second.Connection)
	tk := Ticket()
	d1, d2 := Delivery(tk, first.Connection), Delivery(tk, second.Connection)

	r1, err := c1.Create(ctx, d1)
	if err != nil {
		t.Fatalf("%s: Create: %v", first.Connection.Name, err)
	}
	site.Faults.Add(second.CreateMethod, second.CreatePath, fake.Fault{Kind: fake.ResetAfter})
	if _, err := c2.Create(ctx, d2); !sent(err) {
		t.Fatalf("%s: Create through a reset = %v, want an unknown outcome (Sent)", second.Connection.Name, err)
	}
	r2, err := retry(ctx, c2, d2)
	if err != nil {
		t.Fatalf("%s: retry: %v", second.Connection.Name, err)
	}
	if r2.ID == r1.ID {
		t.Errorf("%s's retry took %s's record %s for its own", second.Connection.Name, first.Connection.Name, r1.Number)
	}
	// The first connection's own retry (had its answer been lost too)
	// must come back to its record.
	if again, err := retry(ctx, c1, d1); err != nil || again.ID != r1.ID {
		t.Errorf("%s: retry = %+v, %v; want its record %+v", first.Connection.Name, again, err, r1)
	}

	for _, p := range []struct {
		placed Placed
		key    string
	}{{first, d1.IdempotencyKey}, {second, d2.IdempotencyKey}} {
		got := site.Places(p.key)
		if !slices.Equal(got, []string{p.placed.Where}) {
			t.Errorf("%s's delivery is on the site at %v, want exactly once at %s", p.placed.Connection.Name, got, p.placed.Where)
		}
	}

	// Scoping: each connection searches only where it creates.
	for _, s := range []struct {
		who   Placed
		c     connectors.Connector
		other Placed
		key   string
	}{{first, c1, second, d2.IdempotencyKey}, {second, c2, first, d1.IdempotencyKey}} {
		if r, err := s.c.Find(ctx, s.key); !errors.Is(err, connectors.ErrNotFound) {
			t.Errorf("%s: Find with %s's delivery key = %+v, %v; want ErrNotFound", s.who.Connection.Name, s.other.Connection.Name, r, err)
		}
	}
}
