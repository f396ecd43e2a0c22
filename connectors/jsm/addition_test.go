package jsm

import (
	"context"
	"net/http"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/jsm/jsmfake"
)

func TestAddConformance(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget { return addTarget(startFake(t)) })
}

// addTarget is the update job's suite's view of a fake.
func addTarget(f *jsmfake.Fake) conformance.AddTarget {
	return conformance.AddTarget{
		Target:    target(f),
		AddMethod: http.MethodPost,
		AddPath:   "/rest/servicedeskapi/request/",
		Comments: func(t *testing.T, r connectors.Remote) []string {
			is, ok := f.Site().Issue(r.ID)
			if !ok {
				t.Fatalf("request %s is not on the fake", r.ID)
			}
			var out []string
			for _, c := range is.Comments {
				out = append(out, jsmfake.PlainBody(c.Body))
			}
			return out
		},
		Files: func(t *testing.T, r connectors.Remote) int {
			is, _ := f.Site().Issue(r.ID)
			return len(is.Attachments)
		},
	}
}

// TestAddShape: a public comment (a reply the customer sees), naming the
// reporter and ending with the marker line.
func TestAddShape(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	a := &connectors.Addition{Key: "add-key-1", Text: "Still broken.\n", Author: connectors.User{Name: "Alice Example", Email: "alice@example.com"}}
	if err := c.Add(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	is, _ := f.Site().Issue(r.ID)
	if len(is.Comments) != 1 {
		t.Fatalf("comments = %d, want 1", len(is.Comments))
	}
	want := "Still broken.\n\n— Alice Example <alice@example.com> (via Ticketray)\n\n[Ticketray add-key-1]"
	if cm := is.Comments[0]; !cm.Public || jsmfake.PlainBody(cm.Body) != want {
		t.Errorf("comment = %q (public %v), want %q, public", jsmfake.PlainBody(cm.Body), cm.Public, want)
	}
	if err := c.Add(ctx, r, &connectors.Addition{Key: "k", Text: " "}); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("empty addition = %v, want permanent", err)
	}
}

// TestFindAdditionPages: the marker is found past the first page; a
// marker that is not the last line (an agent quoting it), one in an
// internal note, or another key's do not count.
func TestFindAdditionPages(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < additionPage+5; i++ {
		f.Reply(r.ID, "Agent", "Quoting "+connectors.AdditionMarker("quoted")+"\nthanks", true)
	}
	f.Reply(r.ID, "Agent", "note\n"+connectors.AdditionMarker("internal"), false)
	if err := c.Add(ctx, r, &connectors.Addition{Key: "late", Text: "after many replies"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		want bool
	}{{"late", true}, {"quoted", false}, {"internal", false}, {"other", false}} {
		if found, err := c.FindAddition(ctx, r, tc.key); err != nil || found != tc.want {
			t.Errorf("FindAddition(%s) = %v, %v, want %v", tc.key, found, err, tc.want)
		}
	}
	if _, err := c.FindAddition(ctx, connectors.Remote{Number: "HELPDESK-99"}, "late"); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("FindAddition on a missing request = %v, want permanent", err)
	}
}

func TestEndsWithLine(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{"text\n[m]", true},
		{"[m]\n", true},
		{"text [m]", false},
		{"[m]\nmore", false},
		{"", false},
	} {
		if got := endsWithLine(tc.body, "[m]"); got != tc.want {
			t.Errorf("endsWithLine(%q) = %v", tc.body, got)
		}
	}
}
