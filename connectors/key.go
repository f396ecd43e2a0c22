package connectors

import (
	"errors"
	"fmt"
	"strings"
)

// CheckKey accepts idempotency keys of 1 to max letters, digits, - and _:
// such a key goes into a vendor's query, URL path or field as it is, with
// no escaping to get wrong. max is the vendor field's length.
func CheckKey(k string, max int) error {
	if k == "" || len(k) > max {
		return fmt.Errorf("the idempotency key must be 1 to %d characters", max)
	}
	for _, r := range k {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return errors.New("the idempotency key must be letters, digits, - or _")
		}
	}
	return nil
}

// CheckTicket is the check a create starts with: the ticket has a summary
// and checkKey accepts its key. Its error is permanent, as a retry would
// send the same ticket.
func CheckTicket(t *Ticket, checkKey func(string) error) error {
	if t == nil || strings.TrimSpace(t.Summary) == "" {
		return &Error{Op: "create", Class: Permanent, Err: errors.New("the ticket has no summary")}
	}
	if err := checkKey(t.IdempotencyKey); err != nil {
		return &Error{Op: "create", Class: Permanent, Err: err}
	}
	return nil
}
