package servicenow_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

func TestAdd(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget { return addTarget(startFake(t)) })
}

// addTarget is RunAdd's view of a fake: the incident's additional
// comments and the files uploaded to it.
func addTarget(f *snfake.Fake) conformance.AddTarget {
	return conformance.AddTarget{
		Target:    target(f),
		AddMethod: http.MethodPatch,
		AddPath:   "/api/now/table/incident/",
		Comments:  func(t *testing.T, r connectors.Remote) []string { return f.Comments(r.ID) },
		Files: func(t *testing.T, r connectors.Remote) int {
			n := 0
			for _, a := range f.Attachments() {
				if a.TableName == "incident" && a.TableSysID == r.ID {
					n++
				}
			}
			return n
		},
	}
}

func newAddition() *connectors.Addition {
	return &connectors.Addition{Key: connectors.DeliveryKey(connectors.NewKey(), "add"), Text: "Still broken.",
		Author: connectors.User{Name: "Alice Example", Email: "alice@example.com"}}
}

// TestAddIsAnAdditionalComment: the text goes to the comments journal
// (not work_notes), names the reporter and ends with the marker line.
func TestAddIsAnAdditionalComment(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	r := conformance.MustCreate(t, c, conformance.Ticket())
	a := newAddition()
	if err := c.(connectors.Adder).Add(context.Background(), r, a); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if got := f.WorkNotes(r.ID); len(got) != 0 {
		t.Errorf("work notes = %q, want none", got)
	}
	got := f.Comments(r.ID)
	if len(got) != 1 {
		t.Fatalf("comments = %q, want one", got)
	}
	want := "Still broken.\n\nAdded by Alice Example <alice@example.com> with Ticketray\n" + connectors.AdditionMarker(a.Key)
	if got[0] != want {
		t.Errorf("comment = %q, want %q", got[0], want)
	}
}

// TestFindAdditionOnlyOwnComments: the marker found in a work note, in
// another incident's comment, or quoted inside a line does not count.
func TestFindAdditionOnlyOwnComments(t *testing.T) {
	f := startFake(t)
	c := newConnector(t, connection(f.URL()))
	r := conformance.MustCreate(t, c, conformance.Ticket())
	other := conformance.MustCreate(t, c, conformance.Ticket())
	key := connectors.DeliveryKey(connectors.NewKey(), "add")
	marker := connectors.AdditionMarker(key)
	f.Act(r.ID, "agent", map[string]string{"work_notes": "x\n" + marker})
	f.Act(r.ID, "agent", map[string]string{"comments": "did you mean " + marker + "?"})
	f.Act(other.ID, "agent", map[string]string{"comments": "x\n" + marker})
	ad := c.(connectors.Adder)
	if found, err := ad.FindAddition(context.Background(), r, key); err != nil || found {
		t.Fatalf("FindAddition = %v, %v, want false", found, err)
	}
	f.Act(r.ID, "agent", map[string]string{"comments": "x\n" + marker})
	if found, err := ad.FindAddition(context.Background(), r, key); err != nil || !found {
		t.Fatalf("FindAddition = %v, %v, want true", found, err)
	}
	var q string
	for _, req := range f.Requests() {
		if req.Path == "/api/now/table/sys_journal_field" {
			q = req.Query.Get("sysparm_query")
		}
	}
	if !strings.Contains(q, "element_id="+r.ID) || !strings.Contains(q, "element=comments") {
		t.Errorf("journal query %q is not scoped to the incident's comments", q)
	}
}

func TestAddRefusesBadInput(t *testing.T) {
	f := startFake(t)
	ad := newConnector(t, connection(f.URL())).(connectors.Adder)
	r := connectors.Remote{ID: strings.Repeat("a", 32)}
	for name, a := range map[string]*connectors.Addition{
		"empty":   {Key: connectors.DeliveryKey("k", "c")},
		"bad key": {Key: "a^b", Text: "x"},
	} {
		if err := ad.Add(context.Background(), r, a); connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("%s: Add = %v, want a permanent error", name, err)
		}
	}
	if err := ad.Add(context.Background(), connectors.Remote{ID: "INC1"}, newAddition()); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("Add to a bad id = %v, want a permanent error", err)
	}
	if f.RequestTotal() != 0 {
		t.Errorf("%d requests sent, want none", f.RequestTotal())
	}
}
