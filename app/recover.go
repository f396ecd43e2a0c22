package app

import (
	"context"
	"os"

	"github.com/ticketray/ticketray/queue"
)

// Recover copies every readable ticket of a damaged or moved-aside queue
// file (see queue.CorruptError.MovedTo) into the service's queue, unlocked
// with the same key source as the queue itself. Tickets already in the
// queue are left alone, so running it twice adds nothing. The file is
// never changed.
func (s *Service) Recover(ctx context.Context, file string) (queue.RecoverResult, error) {
	getenv := s.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	src, err := KEKSource(getenv)
	if err != nil {
		return queue.RecoverResult{}, err
	}
	return s.Store.Recover(ctx, file, src)
}
