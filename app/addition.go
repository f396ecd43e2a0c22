package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// MaxAdditionText bounds what a reporter adds in one comment.
const MaxAdditionText = 32 << 10

// AdditionReceipt says what Comment stored.
type AdditionReceipt struct {
	ID          string   `json:"id"`
	Ticket      string   `json:"ticket"`
	Connections []string `json:"connections"`
}

// Comment queues what the reporter adds to ticket id (a unique prefix
// will do): a comment and files, sent to every connection the ticket goes
// to once its create is there, exactly once. It returns once the addition
// is durable.
func (s *Service) Comment(ctx context.Context, id, text string, files []connectors.Attachment, author connectors.User) (AdditionReceipt, error) {
	text = strings.TrimSpace(text)
	var bad []string
	if text == "" && len(files) == 0 {
		bad = append(bad, "text: is required (or attach a file)")
	}
	if len(text) > MaxAdditionText {
		bad = append(bad, fmt.Sprintf("text: is %d bytes; the limit is %d", len(text), MaxAdditionText))
	}
	if len(bad) > 0 {
		return AdditionReceipt{}, usagef("%s", strings.Join(bad, "; "))
	}
	parent, err := s.Store.Get(ctx, id)
	if err != nil {
		return AdditionReceipt{}, err
	}
	if parent.Err != nil {
		return AdditionReceipt{}, fmt.Errorf("ticket %s is unreadable, so nothing can be added to it: %w", parent.ID, parent.Err)
	}
	r := AdditionReceipt{Ticket: parent.ID, Connections: []string{}}
	var targets []queue.Target
	for _, d := range parent.Deliveries {
		if d.Action == queue.ActionCreate && d.State != queue.StateDead {
			targets = append(targets, queue.Target{Connection: d.Connection, Action: queue.ActionUpdate})
			r.Connections = append(r.Connections, d.Connection)
		}
	}
	if len(targets) == 0 {
		return AdditionReceipt{}, errors.New("this ticket is not going to any help desk (no connection was configured when it was reported, or it failed everywhere), so nothing can be added to it")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(delivery.AdditionPayload{Parent: parent.ID, Key: connectors.NewKey(), Text: text, Author: author, Attachments: files, CreatedAt: now})
	if err != nil {
		return AdditionReceipt{}, err
	}
	if r.ID, err = s.Store.EnqueueUpdate(ctx, parent.ID, now, b, targets); err != nil {
		return AdditionReceipt{}, err
	}
	return r, nil
}
