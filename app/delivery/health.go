package delivery

import (
	"errors"
	"fmt"

	"github.com/ticketray/ticketray/connectors"
)

// Health states of a connection, as recorded in the queue.
const (
	Healthy       = "healthy"
	Degraded      = "degraded"      // retryable failures, still trying
	Down          = "down"          // offline: not reachable at all
	BreakerOpen   = "breaker_open"  // too many failures in a row: resting
	Failing       = "failing"       // the vendor refuses: deliveries die
	Misconfigured = "misconfigured" // cannot be built: deliveries wait
	// SignInRequired: an oauth2_user connection has no usable sign-in
	// (never signed in, or the grant was revoked): deliveries wait until
	// someone runs `ticketray connections login NAME`.
	SignInRequired = "signin_required"
)

// Red reports whether a state needs someone to act: the connection will
// not deliver until the config, the credentials or the vendor change.
func Red(state string) bool {
	return state == Failing || state == Misconfigured || state == SignInRequired
}

// refusal says in plain words why the vendor refused a delivery for good:
// what a help desk agent reads next to a red light.
func refusal(err error) string {
	var e *connectors.Error
	if !errors.As(err, &e) || e.Status == 0 {
		return "delivery refused: " + err.Error()
	}
	switch e.Status {
	case 401, 403:
		return fmt.Sprintf("credentials rejected (HTTP %d): %v", e.Status, err)
	case 404:
		return fmt.Sprintf("not found at the vendor (HTTP %d; check baseUrl and options): %v", e.Status, err)
	case 400, 409, 422:
		return fmt.Sprintf("ticket rejected as invalid (HTTP %d; check options and mappings): %v", e.Status, err)
	}
	return fmt.Sprintf("delivery refused (HTTP %d): %v", e.Status, err)
}
