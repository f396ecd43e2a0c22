package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// Status coming back. A sync cycle asks each connection, in one batched
// query (connectors.Syncer), what became of the tickets it holds that are
// not closed; maps the vendor's status to a local state through the
// connection's status table; and records it sealed (names and comments
// are personal data) with queue.Store.SetRemote. A ticket the help desk
// closed is not asked about again.

// RemoteDetail is what is sealed with a ticket's remote state: the
// vendor's own words, who works on it and the conversation.
type RemoteDetail struct {
	RemoteStatus    string                     `json:"remoteStatus"`
	Category        string                     `json:"category,omitempty"`
	Assignee        string                     `json:"assignee,omitempty"`
	RemoteUpdatedAt time.Time                  `json:"remoteUpdatedAt,omitzero"`
	Comments        []connectors.RemoteComment `json:"comments,omitempty"`
}

// ParseRemoteDetail reads a sealed detail; nil or damaged gives zero.
func ParseRemoteDetail(b []byte) RemoteDetail {
	var d RemoteDetail
	if len(b) > 0 {
		_ = json.Unmarshal(b, &d)
	}
	return d
}

// Change is a ticket whose local state a sync changed.
type Change struct {
	TicketID, Connection, RemoteNumber string
	Before, After                      string
	// Note is the first line of the help desk's newest comment, if any.
	Note string
}

// Notable reports whether the reporter should hear of the change: the
// ticket waits on them, or it was resolved.
func (c Change) Notable() bool {
	return c.After == connectors.StateWaitingOnYou || c.After == connectors.StateResolved
}

// SyncReport is what one cycle did for one connection.
type SyncReport struct {
	Connection string `json:"connection"`
	Open       int    `json:"open"`    // tickets not closed, asked about
	Updated    int    `json:"updated"` // tickets whose recorded state changed
	Error      string `json:"error,omitempty"`
	Skipped    string `json:"skipped,omitempty"` // why it was not asked
}

// syncSlack widens each incremental query backwards: vendors stamp
// updates with their own clocks, at best to the minute.
const syncSlack = 2 * time.Minute

// Sync runs one sync cycle over every connection the courier serves and
// returns a report per connection and the changes it recorded.
func (c *Courier) Sync(ctx context.Context) ([]SyncReport, []Change) {
	var reports []SyncReport
	var changes []Change
	for _, name := range c.names {
		r, ch := c.syncOne(ctx, c.conns[name])
		reports = append(reports, r)
		changes = append(changes, ch...)
	}
	return reports, changes
}

func (c *Courier) syncOne(ctx context.Context, cc *conn) (SyncReport, []Change) {
	rep := SyncReport{Connection: cc.cfg.Name}
	g, why := cc.guarded()
	cc.mu.Lock()
	offline := cc.offline
	cc.mu.Unlock()
	switch {
	case g == nil:
		rep.Skipped = "misconfigured: " + why
		return rep, nil
	case !g.CanSync():
		rep.Skipped = "this connector does not read status back yet"
		return rep, nil
	case offline:
		rep.Skipped = "offline"
		return rep, nil
	}
	open, err := c.store.Remotes(ctx, cc.cfg.Name, true)
	if err != nil {
		rep.Error = err.Error()
		return rep, nil
	}
	rep.Open = len(open)
	if len(open) == 0 {
		return rep, nil
	}
	cursorKey := "sync.since." + cc.cfg.Name
	var since time.Time
	if b, err := c.store.Setting(ctx, cursorKey); err == nil {
		_ = since.UnmarshalText(b)
	}
	started := c.o.Now()
	remotes := make([]connectors.Remote, len(open))
	byID := map[string]queue.Remote{}
	var changes []Change
	for i, r := range open {
		remotes[i] = connectors.Remote{ID: r.RemoteID, Number: r.RemoteNumber, URL: r.RemoteURL}
		byID[r.RemoteID] = r
		if r.Status == "" {
			// Never read back yet (delivered after the last cycle, or
			// found late): the incremental window may not cover it.
			since = time.Time{}
			continue
		}
		// The status table may have changed since it was recorded: map
		// the vendor's words again, no request needed.
		d := ParseRemoteDetail(r.Detail)
		u := connectors.Update{Remote: remotes[i], Status: d.RemoteStatus, Category: d.Category, Assignee: d.Assignee, UpdatedAt: d.RemoteUpdatedAt}
		if d.RemoteStatus != "" && cc.cfg.LocalStatus(u) != r.Status {
			ch, changed, err := c.record(ctx, cc, r, u)
			if err != nil {
				rep.Error = err.Error()
				return rep, changes
			}
			if changed {
				rep.Updated++
			}
			if ch != nil {
				changes = append(changes, *ch)
			}
		}
	}
	if !since.IsZero() {
		since = since.Add(-syncSlack)
	}
	ups, err := g.Sync(ctx, since, remotes)
	if err != nil {
		if connectors.ClassOf(err) == connectors.Offline {
			c.goOffline(cc, err)
		}
		rep.Error = err.Error()
		return rep, nil
	}
	for _, u := range ups {
		r, ok := byID[u.ID]
		if !ok {
			continue // not one of ours (a vendor that reports more)
		}
		ch, changed, err := c.record(ctx, cc, r, u)
		if err != nil {
			rep.Error = err.Error()
			return rep, changes
		}
		if changed {
			rep.Updated++
		}
		if ch != nil {
			changes = append(changes, *ch)
		}
	}
	if b, err := started.MarshalText(); err == nil {
		if err := c.store.PutSetting(ctx, cursorKey, b); err != nil {
			rep.Error = err.Error()
		}
	}
	return rep, changes
}

// record stores what an update says of one ticket, keeping the comments
// seen before (a vendor may return only the new ones), and returns the
// change of local state if there was one.
func (c *Courier) record(ctx context.Context, cc *conn, r queue.Remote, u connectors.Update) (*Change, bool, error) {
	prev := ParseRemoteDetail(r.Detail)
	if !u.UpdatedAt.IsZero() && u.UpdatedAt.Before(prev.RemoteUpdatedAt) {
		return nil, false, nil // older than what a webhook already recorded
	}
	d := RemoteDetail{RemoteStatus: u.Status, Category: u.Category, Assignee: u.Assignee, RemoteUpdatedAt: u.UpdatedAt,
		Comments: mergeComments(prev.Comments, u.Comments)}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, false, err
	}
	local := cc.cfg.LocalStatus(u)
	changed, before, err := c.store.SetRemote(ctx, r.ID, local, b)
	if err != nil {
		return nil, false, err
	}
	if !changed || before == local {
		return nil, changed, nil
	}
	ch := &Change{TicketID: r.TicketID, Connection: r.Connection, RemoteNumber: r.RemoteNumber, Before: before, After: local}
	if n := len(d.Comments); n > 0 {
		ch.Note, _, _ = strings.Cut(strings.TrimSpace(d.Comments[n-1].Body), "\n")
	}
	return ch, true, nil
}

// applyMu makes the records of pushed updates one at a time in a process:
// each reads what is stored, then writes.
var applyMu sync.Mutex

// Apply records an update that a help desk pushed (a signed webhook)
// through the same status mapping and sealed storage as a sync: to the
// delivered create of connection whose remote id or number is u's. It
// reports known=false, and changes nothing, when no delivery matches (or
// the connection is not one the courier serves); ch is the change of local
// state, if there was one.
//
// A push may carry only part of the ticket: an empty Status keeps the
// stored status and category, and unless assigneeSet the stored assignee
// is kept. An update older (UpdatedAt) than what is stored is ignored, so
// stale and replayed deliveries change nothing. A closed ticket is still
// matched: a help desk may reopen it.
func (c *Courier) Apply(ctx context.Context, connection string, u connectors.Update, assigneeSet bool) (known bool, ch *Change, err error) {
	cc, ok := c.conns[connection]
	if !ok || (u.ID == "" && u.Number == "") {
		return false, nil, nil
	}
	applyMu.Lock()
	defer applyMu.Unlock()
	all, err := c.store.Remotes(ctx, connection, false)
	if err != nil {
		return false, nil, err
	}
	i := slices.IndexFunc(all, func(r queue.Remote) bool {
		return (u.ID != "" && r.RemoteID == u.ID) || (u.Number != "" && r.RemoteNumber == u.Number)
	})
	if i < 0 {
		return false, nil, nil
	}
	r := all[i]
	prev := ParseRemoteDetail(r.Detail)
	if !u.UpdatedAt.IsZero() && u.UpdatedAt.Before(prev.RemoteUpdatedAt) {
		return true, nil, nil
	}
	if u.Status == "" {
		u.Status, u.Category = prev.RemoteStatus, prev.Category
	}
	if !assigneeSet {
		u.Assignee = prev.Assignee
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = prev.RemoteUpdatedAt
	}
	u.Remote = connectors.Remote{ID: r.RemoteID, Number: r.RemoteNumber, URL: r.RemoteURL}
	ch, _, err = c.record(ctx, cc, r, u)
	return true, ch, err
}

// recorder is a courier that only records pushed updates (Apply) with the
// connections of cfg: no connector is built and nothing is delivered.
func recorder(store *queue.Store, cfg *config.Config) *Courier {
	c := &Courier{store: store, conns: map[string]*conn{}}
	for _, cn := range cfg.Enabled() {
		c.conns[cn.Name] = &conn{cfg: cn}
		c.names = append(c.names, cn.Name)
	}
	return c
}

// mergeComments adds the new comments to those seen before, once each (by
// id), oldest first.
func mergeComments(old, add []connectors.RemoteComment) []connectors.RemoteComment {
	out := slices.Clone(old)
	for _, c := range add {
		if !slices.ContainsFunc(out, func(o connectors.RemoteComment) bool { return o.ID == c.ID }) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b connectors.RemoteComment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// SyncSummary is the one-line summary of a cycle, for logs and the CLI.
func SyncSummary(reports []SyncReport) string {
	var parts []string
	for _, r := range reports {
		switch {
		case r.Error != "":
			parts = append(parts, fmt.Sprintf("%s: failed (%s)", r.Connection, r.Error))
		case r.Skipped != "":
			parts = append(parts, fmt.Sprintf("%s: skipped (%s)", r.Connection, r.Skipped))
		default:
			parts = append(parts, fmt.Sprintf("%s: %d open, %d updated", r.Connection, r.Open, r.Updated))
		}
	}
	if len(parts) == 0 {
		return "no connection to sync"
	}
	return strings.Join(parts, "; ")
}
