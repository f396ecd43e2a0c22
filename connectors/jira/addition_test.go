package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

func TestAddConformance(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget { return addTarget(t, startFake(t)) })
}

// addTarget is the update job's suite's view of a fake.
func addTarget(t *testing.T, f *jirafake.Fake) conformance.AddTarget {
	return conformance.AddTarget{
		Target:    target(t, f),
		AddMethod: http.MethodPost,
		AddPath:   "/rest/api/3/issue/",
		Comments: func(t *testing.T, r connectors.Remote) []string {
			is, ok := f.Issue(r.ID)
			if !ok {
				t.Fatalf("issue %s is not on the fake", r.ID)
			}
			var out []string
			for _, c := range is.Comments {
				out = append(out, PlainText(c.Body))
			}
			return out
		},
		Files: func(t *testing.T, r connectors.Remote) int {
			is, _ := f.Issue(r.ID)
			return len(is.Attachments)
		},
	}
}

// TestAddShape: the comment is unrestricted, names the reporter, and
// carries the key in its property rather than in its text.
func TestAddShape(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	a := &connectors.Addition{Key: "add-key-1", Text: "Still broken.", Author: connectors.User{Name: "Alice Example", Email: "alice@example.com"}}
	if err := c.Add(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	is, _ := f.Issue(r.ID)
	if len(is.Comments) != 1 {
		t.Fatalf("comments = %d, want 1", len(is.Comments))
	}
	cm := is.Comments[0]
	text := PlainText(cm.Body)
	if cm.Visibility != "" || !strings.Contains(text, "Still broken.") || !strings.Contains(text, "Alice Example <alice@example.com>") || strings.Contains(text, a.Key) {
		t.Errorf("comment = %q, visibility %q", text, cm.Visibility)
	}
	var v struct{ Key string }
	if err := json.Unmarshal(cm.Properties[AdditionProperty], &v); err != nil || v.Key != a.Key {
		t.Errorf("property %s = %s", AdditionProperty, cm.Properties[AdditionProperty])
	}
	if err := c.Add(ctx, r, &connectors.Addition{Key: "k", Text: " "}); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("empty addition = %v, want permanent", err)
	}
}

// TestFindAdditionPages: the key is found past the first page of
// comments, and agents' comments quoting the key's text do not count.
func TestFindAdditionPages(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, r, &connectors.Addition{Key: "old-key", Text: "first"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2*additionPage+3; i++ {
		f.AddAgentComment(r.ID, jirafake.Comment{Author: "Agent", Body: jirafake.TextDoc("looking at new-key"), Public: true})
	}
	for _, tc := range []struct {
		key  string
		want bool
	}{{"old-key", true}, {"new-key", false}} {
		if found, err := c.FindAddition(ctx, r, tc.key); err != nil || found != tc.want {
			t.Errorf("FindAddition(%s) = %v, %v, want %v", tc.key, found, err, tc.want)
		}
	}
	if _, err := c.FindAddition(ctx, connectors.Remote{ID: "99999"}, "old-key"); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("FindAddition on a missing issue = %v, want permanent", err)
	}
}

func TestWithByline(t *testing.T) {
	for _, tc := range []struct {
		u    connectors.User
		want string
	}{
		{connectors.User{}, "hi\n"},
		{connectors.User{Email: "a@x"}, "hi\n\n— a@x (via Ticketray)"},
		{connectors.User{Name: "A", Email: "a@x"}, "hi\n\n— A <a@x> (via Ticketray)"},
	} {
		if got := WithByline("hi\n", tc.u); got != tc.want {
			t.Errorf("WithByline(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}
