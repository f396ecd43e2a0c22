package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// The update job: what a reporter adds to a ticket already queued (a
// comment, files) is queued like a ticket of its own with one update
// delivery per connection the ticket goes to. It waits for the ticket's
// create there, then is added exactly once: its key travels with the
// comment, and an attempt whose outcome is unknown looks for it first.

// AdditionPayload is an addition as the queue keeps it (sealed).
type AdditionPayload struct {
	// Parent is the id of the ticket it adds to.
	Parent string `json:"parent"`
	// Key is the addition's own idempotency key; each connection sees
	// connectors.DeliveryKey(Key, connection).
	Key         string                  `json:"key"`
	Text        string                  `json:"text"`
	Author      connectors.User         `json:"author"`
	Attachments []connectors.Attachment `json:"attachments,omitempty"`
	CreatedAt   time.Time               `json:"createdAt"`
}

// waitForCreate bounds how long an addition waits before looking again
// for its ticket's create to be delivered.
const waitForCreate = 30 * time.Second

func (c *Courier) deliverAddition(ctx context.Context, cc *conn, g *connectors.Guarded, l queue.Lease) queue.Outcome {
	var p AdditionPayload
	if err := json.Unmarshal(l.Payload, &p); err != nil || p.Parent == "" {
		return queue.Outcome{State: queue.StateDead, Error: "stored addition is unreadable"}
	}
	if !g.CanAdd() {
		return queue.Outcome{State: queue.StateDead, Error: connectors.ErrAddUnsupported.Error()}
	}
	parent, err := c.store.Get(ctx, p.Parent)
	if err != nil {
		if errors.Is(err, queue.ErrNotFound) {
			return queue.Outcome{State: queue.StateDead, Error: "the ticket it adds to is gone"}
		}
		return queue.Outcome{State: queue.StateRetry, Error: err.Error(), NextAttemptAt: c.o.Now().Add(waitForCreate)}
	}
	var create *queue.Delivery
	for i, d := range parent.Deliveries {
		if d.Connection == l.Connection && d.Action == queue.ActionCreate {
			create = &parent.Deliveries[i]
		}
	}
	switch {
	case create == nil:
		return queue.Outcome{State: queue.StateDead, Error: "the ticket is not sent to this connection"}
	case create.State == queue.StateDead:
		return queue.Outcome{State: queue.StateDead, Error: "the ticket could not be created here, so nothing can be added to it"}
	case create.State != queue.StateDelivered:
		// Not created yet: look again just after its next attempt (a
		// second when it is under way), spending nothing.
		next := c.o.Now()
		if (create.State == queue.StatePending || create.State == queue.StateRetry) && create.NextAttemptAt.After(next) {
			next = create.NextAttemptAt
		}
		next = next.Add(time.Second)
		if limit := c.o.Now().Add(waitForCreate); next.After(limit) {
			next = limit
		}
		return queue.Outcome{State: queue.Offline, Error: "waiting for the ticket to be created", NextAttemptAt: next}
	}
	r := connectors.Remote{ID: create.RemoteID, Number: create.RemoteNumber, URL: create.RemoteURL}
	a := &connectors.Addition{Key: connectors.DeliveryKey(p.Key, l.Connection), Text: p.Text, Author: p.Author, Attachments: p.Attachments}
	done := queue.Outcome{State: queue.StateDelivered, RemoteID: r.ID, RemoteNumber: r.Number, RemoteURL: r.URL}
	if l.Uncertain {
		if until := c.settled(ctx, cc, l); until.After(c.o.Now()) {
			return queue.Outcome{State: queue.Offline, Error: "waiting for an earlier attempt to settle", NextAttemptAt: until}
		}
		found, err := g.FindAddition(ctx, r, a.Key)
		if err != nil {
			return c.failure(ctx, cc, l, err)
		}
		if found {
			return done
		}
	}
	if err := g.Add(ctx, r, a); err != nil {
		return c.failure(ctx, cc, l, err)
	}
	c.setState(cc, Healthy, true, "")
	return done
}
