package connectors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Local states a delivered ticket can be in, whatever the vendor calls
// them: what My tickets and `queue list` show.
const (
	StateBacklog      = "backlog"
	StateInProgress   = "in_progress"
	StateWaitingOnYou = "waiting_on_you"
	StateResolved     = "resolved"
	StateClosed       = "closed"
)

// LocalStates lists the local states in their natural order.
var LocalStates = []string{StateBacklog, StateInProgress, StateWaitingOnYou, StateResolved, StateClosed}

// Update is what the help desk's side says of one delivered ticket: read
// by a sync (polling) or carried by a webhook.
type Update struct {
	Remote
	// Status is the vendor's own status, by name or code ("In Progress",
	// "6", "pending").
	Status string `json:"status"`
	// Category is the vendor's grouping of the status where it has one
	// (Jira's status category key: new, indeterminate, done), or a
	// qualifier that changes its meaning (ServiceNow's on-hold reason).
	Category string `json:"category,omitempty"`
	// Assignee is the display name of who works on it ("" for nobody).
	Assignee  string    `json:"assignee,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitempty"`
	// Comments are the help desk's public comments, oldest first: all of
	// them, or those since the sync's since time where the vendor can
	// filter.
	Comments []RemoteComment `json:"comments,omitempty"`
}

// RemoteComment is a public comment on a remote ticket.
type RemoteComment struct {
	ID        string    `json:"id"`
	Author    string    `json:"author,omitempty"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

// ErrSyncUnsupported is Guarded.Sync's answer for a connector that is not
// a Syncer.
var ErrSyncUnsupported = errors.New("this connector cannot read status in batches")

// Syncer is implemented by connectors that read many tickets' state in a
// few batched requests: one incremental query per poll cycle where the
// vendor allows (JQL with updated >=, a ServiceNow encoded query,
// Zendesk's show_many), never one GET per ticket per cycle. Sync returns
// an Update for each of remotes that changed at or after since (all of
// them when since is zero); tickets it does not mention are unchanged.
// Errors are *Error, classified as for any call.
type Syncer interface {
	Sync(ctx context.Context, since time.Time, remotes []Remote) ([]Update, error)
}

// SyncBatches runs sync on ids size at a time, for a vendor whose query
// names its tickets and so must be kept short, and joins the updates in
// order. The first error ends it.
func SyncBatches(ids []string, size int, sync func(batch []string) ([]Update, error)) ([]Update, error) {
	var out []Update
	for batch := range slices.Chunk(ids, size) {
		ups, err := sync(batch)
		if err != nil {
			return nil, err
		}
		out = append(out, ups...)
	}
	return out, nil
}

// StatusTable is the connection's status table: vendor status (or status
// category) → local state. A mappings.status in the config is laid over
// the vendor's built-in rows (the type's Driver.StatusRows); the default
// row, backlog unless the config says otherwise, is always there. Keys
// are lower case.
func (c *Connection) StatusTable() map[string]string {
	t := map[string]string{DefaultRow: StateBacklog}
	if drv, ok := lookup(c.Type); ok {
		for k, v := range drv.StatusRows {
			t[strings.ToLower(k)] = v
		}
	}
	for k, v := range c.Mappings["status"] {
		t[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return t
}

// LocalStatus maps an update to a local state: the type's own rule when
// its Driver has one (ServiceNow's on-hold reasons), else the row for the
// status, else the row for its category, else the default row.
func (c *Connection) LocalStatus(u Update) string {
	t := c.StatusTable()
	if drv, ok := lookup(c.Type); ok && drv.LocalStatus != nil {
		if s := drv.LocalStatus(t, u); s != "" {
			return s
		}
	}
	if s, ok := t[strings.ToLower(u.Status)]; ok {
		return s
	}
	if s, ok := t[strings.ToLower(u.Category)]; ok && u.Category != "" {
		return s
	}
	return t[DefaultRow]
}

// checkStatusRow is the shared rule for a status row: the value is a
// local state.
func checkStatusRow(value string) error {
	if !slices.Contains(LocalStates, value) {
		return fmt.Errorf("must be one of %s", strings.Join(LocalStates, ", "))
	}
	return nil
}
