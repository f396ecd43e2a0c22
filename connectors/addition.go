package connectors

import (
	"context"
	"errors"
)

// Addition is what a reporter adds to a ticket already delivered: a
// comment and files, with an idempotency key of its own.
type Addition struct {
	// Key is the update delivery's key (DeliveryKey of the update's key
	// and the connection): the vendor keeps it with the comment.
	Key         string
	Text        string
	Author      User
	Attachments []Attachment
}

// Adder adds to delivered tickets exactly once. Add posts a.Text as the
// reporter's comment on r (visible to the help desk's agents), with a.Key
// where the vendor keeps it alongside (a comment property, a marker line
// at the end of the body), then uploads a.Attachments. FindAddition
// reports whether a comment carrying key is already on r, so a retry after
// an unknown outcome never posts it twice. Errors are *Error, classified
// as for any call.
type Adder interface {
	Add(ctx context.Context, r Remote, a *Addition) error
	FindAddition(ctx context.Context, r Remote, key string) (bool, error)
}

// AdditionMarker is the line vendors without comment properties end the
// body with, so FindAddition can search the comments for it.
func AdditionMarker(key string) string { return "[Ticketray " + key + "]" }

// ErrAddUnsupported is Guarded.Add's answer for a connector that is not an
// Adder.
var ErrAddUnsupported = errors.New("this connector cannot add comments to a ticket yet")
