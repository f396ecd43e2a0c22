package salesforce_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/salesforce"
	"github.com/ticketray/ticketray/connectors/salesforce/sffake"
)

const commentPath = "/services/data/" + salesforce.DefaultAPIVersion + "/sobjects/CaseComment"

func TestAddConformance(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget { return addTarget(startFake(t)) })
}

// addTarget is the update job's view of a fake: the Case's Comments and
// Files lists.
func addTarget(f *sffake.Fake) conformance.AddTarget {
	return conformance.AddTarget{
		Target:    target(f),
		AddMethod: http.MethodPost,
		AddPath:   commentPath,
		Comments: func(t *testing.T, r connectors.Remote) []string {
			var out []string
			for _, cm := range f.CaseComments(r.ID) {
				out = append(out, cm.Body)
			}
			return out
		},
		Files: func(t *testing.T, r connectors.Remote) int { return len(f.CaseFiles(r.ID)) },
	}
}

func adder(t *testing.T, f *sffake.Fake) (connectors.Adder, connectors.Remote) {
	t.Helper()
	c := conformance.MustBuild(t, connection(f.URL()))
	r, err := c.Create(context.Background(), ticket())
	if err != nil {
		t.Fatal(err)
	}
	return c.(connectors.Adder), r
}

func addition(text string) *connectors.Addition {
	return &connectors.Addition{Key: connectors.DeliveryKey(connectors.NewKey(), "add"), Text: text,
		Author: connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"}}
}

// TestAddBody: a private comment naming the reporter, ending with the
// marker line; a long text is cut so the marker stays within the 4,000
// characters, and the addition still finds it.
func TestAddBody(t *testing.T) {
	f := startFake(t)
	ad, r := adder(t, f)
	ctx := context.Background()
	a := addition(strings.Repeat("n", 5000))
	if err := ad.Add(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	cm := f.CaseComments(r.ID)
	if len(cm) != 1 {
		t.Fatalf("%d comments on the Case, want 1", len(cm))
	}
	body := cm[0].Body
	if cm[0].IsPublished {
		t.Error("the addition is a published comment; want a private one (agents only, not echoed by Sync)")
	}
	if n := len([]rune(body)); n != 4000 {
		t.Errorf("the body has %d characters, want 4000", n)
	}
	if !strings.HasSuffix(body, "\nAdded by Alice Example <alice@example.com> (user ID alice) with Ticketray\n"+connectors.AdditionMarker(a.Key)) {
		t.Errorf("the body ends %q; want the reporter and the marker", body[len(body)-200:])
	}
	if found, err := ad.FindAddition(ctx, r, a.Key); err != nil || !found {
		t.Errorf("FindAddition = %v, %v; want found", found, err)
	}
}

// TestFindAdditionScope: the marker is searched in the Case's own
// comments only, through every batch of the CaseComments subquery, and a
// marker quoted inside a line does not count.
func TestFindAdditionScope(t *testing.T) {
	f := startFake(t, sffake.WithQueryBatch(2000, 2))
	ad, r := adder(t, f)
	_, other := adder(t, f)
	ctx := context.Background()
	a := addition("first")
	if err := ad.Add(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // newer comments push the addition to a later batch
		f.AddComment(r.ID, "Agent Smith", "working on it", i%2 == 0)
	}
	b := addition("on the other Case")
	if err := ad.Add(ctx, other, b); err != nil {
		t.Fatal(err)
	}
	f.AddComment(r.ID, "Agent Smith", "you wrote "+connectors.AdditionMarker(b.Key)+" there", false)
	before := len(f.Requests())
	if found, err := ad.FindAddition(ctx, r, a.Key); err != nil || !found {
		t.Errorf("FindAddition in a later batch = %v, %v; want found", found, err)
	}
	if n := len(f.Requests()) - before; n < 2 {
		t.Errorf("FindAddition sent %d requests; want the query and its further batches", n)
	}
	if found, err := ad.FindAddition(ctx, r, b.Key); err != nil || found {
		t.Errorf("FindAddition of another Case's addition = %v, %v; want not found", found, err)
	}
}

func TestAddErrors(t *testing.T) {
	f := startFake(t)
	ad, r := adder(t, f)
	ctx := context.Background()
	gone := connectors.Remote{ID: "500FK0000009999AAA"}
	for name, err := range map[string]error{
		"bad id":              ad.Add(ctx, connectors.Remote{ID: "001FK0000000001AAA"}, addition("x")),
		"empty text":          ad.Add(ctx, r, addition(" \n")),
		"bad key":             ad.Add(ctx, r, &connectors.Addition{Key: "a/b", Text: "x"}),
		"add to a gone Case":  ad.Add(ctx, gone, addition("x")),
		"find on a gone Case": func() error { _, err := ad.FindAddition(ctx, gone, addition("x").Key); return err }(),
		"find with a bad id":  func() error { _, err := ad.FindAddition(ctx, connectors.Remote{}, addition("x").Key); return err }(),
	} {
		if connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
	if n := len(f.CaseComments(r.ID)); n != 0 {
		t.Errorf("%d comments after refused additions, want 0", n)
	}
}
