package app

import (
	"context"
	"time"

	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/queue"
)

// RemoteView is what the help desk's side last said of a delivered ticket:
// its local state (backlog, in_progress, waiting_on_you, resolved,
// closed), the vendor's own status, who works on it and the conversation.
type RemoteView struct {
	Status   string
	SyncedAt time.Time
	delivery.RemoteDetail
}

type remoteViews map[int64]RemoteView

// remoteViews reads what was recorded of every delivered create.
func (s *Service) remoteViews(ctx context.Context) (remoteViews, error) {
	rs, err := s.Store.Remotes(ctx, "", false)
	if err != nil {
		return nil, err
	}
	out := remoteViews{}
	for _, r := range rs {
		if r.Status != "" {
			out[r.ID] = RemoteView{Status: r.Status, SyncedAt: r.SyncedAt, RemoteDetail: delivery.ParseRemoteDetail(r.Detail)}
		}
	}
	return out, nil
}

// of keeps the views of ds (nil when none).
func (v remoteViews) of(ds []queue.Delivery) map[int64]RemoteView {
	var out map[int64]RemoteView
	for _, d := range ds {
		if r, ok := v[d.ID]; ok {
			if out == nil {
				out = map[int64]RemoteView{}
			}
			out[d.ID] = r
		}
	}
	return out
}
