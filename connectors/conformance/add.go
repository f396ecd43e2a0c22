package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
)

// AddTarget is a Target whose fake shows the comments on a ticket.
type AddTarget struct {
	Target
	// AddMethod and AddPath match the request that posts the comment (a
	// path prefix), for the reset-after-send case.
	AddMethod, AddPath string
	// Comments lists the bodies of the comments on r, as the help desk
	// sees them.
	Comments func(t *testing.T, r connectors.Remote) []string
	// Files counts the files attached to r.
	Files func(t *testing.T, r connectors.Remote) int
}

// RunAdd checks the update job's exactly-once: a reporter's addition is
// posted once with its text and files; FindAddition finds it by its key
// and not by another; when the comment request reaches the vendor but its
// answer is lost, the retry finds it and posts nothing more.
func RunAdd(t *testing.T, newTarget func(t *testing.T) AddTarget) {
	t.Run("add once", func(t *testing.T) { addOnce(t, newTarget(t)) })
	t.Run("reset after send, then no duplicate", func(t *testing.T) { addAfterReset(t, newTarget(t)) })
}

func adder(t *testing.T, tg AddTarget) (connectors.Connector, connectors.Adder, connectors.Remote) {
	t.Helper()
	c := MustBuild(t, tg.Connection)
	ad, ok := c.(connectors.Adder)
	if !ok {
		t.Fatalf("the %s connector does not implement connectors.Adder", tg.Connection.Type)
	}
	return c, ad, MustCreate(t, c, Delivery(Ticket(), tg.Connection))
}

func addition() *connectors.Addition {
	return &connectors.Addition{Key: connectors.DeliveryKey(connectors.NewKey(), "add"), Text: "It happened again at 10:05, screenshot attached.",
		Author:      connectors.User{ID: "alice", Name: "Alice Example", Email: "alice@example.com"},
		Attachments: []connectors.Attachment{{Filename: "screen.png", ContentType: "image/png", SizeBytes: 4, Data: []byte("\x89PNG")}}}
}

func countText(bodies []string, text string) int {
	n := 0
	for _, b := range bodies {
		if strings.Contains(b, text) {
			n++
		}
	}
	return n
}

func addOnce(t *testing.T, tg AddTarget) {
	ctx := context.Background()
	_, ad, r := adder(t, tg)
	a := addition()
	if found, err := ad.FindAddition(ctx, r, a.Key); err != nil || found {
		t.Fatalf("FindAddition before Add = %v, %v", found, err)
	}
	if err := ad.Add(ctx, r, a); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if n := countText(tg.Comments(t, r), a.Text); n != 1 {
		t.Errorf("%d comments carry the text, want 1", n)
	}
	if tg.Files != nil && tg.Files(t, r) < 1 {
		t.Error("the addition's file is not on the ticket")
	}
	if found, err := ad.FindAddition(ctx, r, a.Key); err != nil || !found {
		t.Errorf("FindAddition after Add = %v, %v", found, err)
	}
	if found, err := ad.FindAddition(ctx, r, connectors.DeliveryKey(connectors.NewKey(), "add")); err != nil || found {
		t.Errorf("FindAddition with another key = %v, %v", found, err)
	}
	checkViolations(t, tg.Violations)
}

func addAfterReset(t *testing.T, tg AddTarget) {
	ctx := context.Background()
	_, ad, r := adder(t, tg)
	a := addition()
	a.Attachments = nil
	tg.Faults.Add(tg.AddMethod, tg.AddPath, fake.Fault{Kind: fake.ResetAfter})
	err := ad.Add(ctx, r, a)
	var e *connectors.Error
	if err == nil || !errors.As(err, &e) || connectors.ClassOf(err) != connectors.Retryable {
		t.Fatalf("Add with the answer lost = %v, want a retryable error", err)
	}
	// The courier's retry: find first.
	found, err := ad.FindAddition(ctx, r, a.Key)
	if err != nil {
		t.Fatalf("FindAddition: %v", err)
	}
	if !found {
		if err := ad.Add(ctx, r, a); err != nil {
			t.Fatalf("retry: %v", err)
		}
	}
	if n := countText(tg.Comments(t, r), a.Text); n != 1 {
		t.Errorf("%d comments carry the text after a reset and a retry, want exactly 1", n)
	}
}
