// Package webhooks receives the status webhooks that help desks send about
// tickets Ticketray created: it verifies a delivery's signature on the raw
// body (constant time), rejects replayed deliveries, parses Jira, Zendesk and
// ServiceNow payloads into one Event and hands it to an Applier.
//
// It imports only the connectors package's types (Event.Update speaks
// the sync job's connectors.Update). The app supplies the three things it
// does not own: where a connection's secret comes from (Endpoints), what a
// verified event changes (Applier) and where the counters go (Stats). See
// Handler.
package webhooks

import (
	"errors"
	"time"
)

// Kind names the wire format of a connection's webhooks. The values are the
// connection types of the config contract.
type Kind string

// The kinds that send webhooks. Jira Service Management uses Jira's admin
// webhooks, so KindJSM is parsed and verified like KindJira.
const (
	KindJira       Kind = "jira"
	KindJSM        Kind = "jsm"
	KindServiceNow Kind = "servicenow"
	KindZendesk    Kind = "zendesk"
)

// Supported reports whether k has a verifier and a parser.
func Supported(k Kind) bool {
	switch k {
	case KindJira, KindJSM, KindServiceNow, KindZendesk:
		return true
	}
	return false
}

// Action says what happened to the remote ticket.
type Action string

// Actions. A comment action carries Event.Comment; every action carries the
// ticket's status fields when the payload has them.
const (
	ActionUpdated        Action = "updated"         // created or changed
	ActionDeleted        Action = "deleted"         // the remote ticket was deleted
	ActionComment        Action = "comment"         // a comment was added
	ActionCommentUpdated Action = "comment_updated" // a comment was edited
	ActionCommentDeleted Action = "comment_deleted" // a comment was removed
)

// Event is one verified delivery about one remote ticket, in the same terms
// for every vendor. Fields a payload does not carry are zero.
type Event struct {
	// DeliveryID is the sender's delivery id (X-Atlassian-Webhook-Identifier,
	// X-Zendesk-Webhook-Invocation-Id, X-Ticketray-Delivery-Id), or
	// "sha256:<hex>" of what was signed when the sender gave none.
	DeliveryID string
	// Connection is the connection name from the URL.
	Connection string
	Kind       Kind
	// Type is the vendor's own event name (jira:issue_updated,
	// zen:event-type:ticket.status_changed, …), for logs.
	Type   string
	Action Action
	// RemoteID is the vendor's id (Jira issue id, ServiceNow sys_id, Zendesk
	// ticket id): connectors.Remote.ID.
	RemoteID string
	// RemoteKey is what people quote (PROJ-12, INC0010023, the Zendesk
	// ticket id): connectors.Remote.Number.
	RemoteKey string
	// ExternalID is Ticketray's idempotency key when the payload carries it:
	// Jira label ticketray-<key>, Zendesk external_id, ServiceNow
	// correlation_id. Matching on it finds a ticket whose remote key was not
	// stored yet.
	ExternalID string
	// Status is the vendor's status name or code (Jira "In Progress",
	// Zendesk "pending" (lower case), ServiceNow "6"): the key of the
	// connection's status mapping.
	Status string
	// StatusCategory is Jira's statusCategory key (new, indeterminate,
	// done) when present.
	StatusCategory string
	// StatusReason qualifies Status: ServiceNow's hold_reason.
	StatusReason string
	// Assignee is the assignee's display name. AssigneeSet reports whether
	// the payload said who is assigned: when it is true, an empty Assignee
	// means unassigned; when false, keep what is stored.
	Assignee    string
	AssigneeSet bool
	// UpdatedAt is when the ticket changed, per the vendor (zero if the
	// payload has no parseable time). Apply should ignore an event older
	// than what it stored: that makes stale and replayed deliveries harmless.
	UpdatedAt time.Time
	// Comment is set for comment actions.
	Comment *Comment
}

// Comment is a comment on a remote ticket. Body is personal data: store it
// encrypted and never log it.
type Comment struct {
	ID        string
	Author    string // display name
	Body      string
	Public    bool // visible to the reporter (not an internal note)
	CreatedAt time.Time
}

// Sentinel errors of Parse and Verify, for errors.Is.
var (
	// ErrMalformed: the body is not the JSON the vendor's contract
	// describes. The handler answers 400.
	ErrMalformed = errors.New("malformed webhook payload")
	// ErrNotTicket: a well-formed payload about something else than a
	// ticket (a Zendesk user event, a Jira project event). The handler
	// answers 202 and changes nothing.
	ErrNotTicket = errors.New("webhook payload is not about a ticket")
	// ErrMissingSignature: the signature header (or Zendesk's timestamp) is
	// absent. 401.
	ErrMissingSignature = errors.New("missing webhook signature")
	// ErrBadSignature: the signature does not match the body. 401.
	ErrBadSignature = errors.New("webhook signature does not match")
	// ErrStale: Zendesk's signed timestamp is more than MaxSkew from now.
	// 401.
	ErrStale = errors.New("webhook timestamp outside the accepted window")
	// ErrUnsupported: the connection's kind has no webhooks.
	ErrUnsupported = errors.New("connection type does not support webhooks")
)
