package connectors

import (
	"errors"
	"fmt"
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
