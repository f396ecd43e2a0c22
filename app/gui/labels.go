package gui

import (
	"fmt"
	"strings"
	"time"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// The queue viewer's words, as plain functions of the data so they are
// tested without Fyne.

// stateFilters are the queue viewer's filter choices and the
// `queue list --state` value each stands for.
var stateFilters = []struct{ Label, State string }{
	{"All", ""},
	{"Pending", queue.StatePending},
	{"Delivered", queue.StateDelivered},
	{"Dead", queue.StateDead},
}

func filterLabels() []string {
	out := make([]string, len(stateFilters))
	for i, f := range stateFilters {
		out[i] = f.Label
	}
	return out
}

// filterState is the store filter for a filter label ("" for All or an
// unknown label).
func filterState(label string) string {
	for _, f := range stateFilters {
		if f.Label == label {
			return f.State
		}
	}
	return ""
}

// mine keeps the tickets whose requester is user (matched by id). An
// unreadable ticket has no requester and is never anyone's.
func mine(entries []app.Entry, user connectors.User) []app.Entry { return app.Mine(entries, user) }

// Fixed columns of the queue table; one column per connection follows.
var fixedColumns = []string{"Created", "Summary", "Requester", "Priority"}

// connectionColumns names the per-connection columns: every connection
// the entries have a delivery for, in order of first appearance.
func connectionColumns(entries []app.Entry) []string {
	var cols []string
	seen := map[string]bool{}
	for _, e := range entries {
		for _, d := range e.Deliveries {
			if !seen[d.Connection] {
				seen[d.Connection] = true
				cols = append(cols, d.Connection)
			}
		}
	}
	return cols
}

// cell is the text of one table cell. Column indexes past the fixed
// columns are conns.
func cell(e app.Entry, col int, conns []string, now time.Time) string {
	if col >= len(fixedColumns) {
		i := col - len(fixedColumns)
		if i >= len(conns) {
			return ""
		}
		for _, d := range e.Deliveries {
			if d.Connection == conns[i] {
				return deliveryCell(d, now)
			}
		}
		return "—"
	}
	t := e.Ticket
	switch col {
	case 0:
		return e.CreatedAt.Local().Format("2006-01-02 15:04")
	case 1:
		if t == nil {
			return "(unreadable: failed authentication)"
		}
		return clip(t.Summary, 80)
	case 2:
		if t == nil {
			return "—"
		}
		return requester(t.User)
	case 3:
		if t == nil {
			return "—"
		}
		return string(t.Priority)
	}
	return ""
}

func requester(u connectors.User) string {
	switch {
	case u.Name != "" && u.Email != "":
		return u.Name + " <" + u.Email + ">"
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.ID
}

// deliveryCell says where one delivery stands: delivered with the remote
// number, retrying with the next attempt time and last error, dead with
// the vendor's message.
func deliveryCell(d queue.Delivery, now time.Time) string {
	switch d.State {
	case queue.StateDelivered:
		return "delivered " + d.RemoteNumber
	case queue.StateInFlight:
		return "sending…"
	case queue.StatePending:
		if d.NextAttemptAt.After(now) {
			return "waiting until " + clock(d.NextAttemptAt, now)
		}
		if d.LastError != "" {
			return "waiting; last error: " + clip(d.LastError, 60)
		}
		return "waiting"
	case queue.StateRetry:
		s := fmt.Sprintf("retry %s (attempt %d)", clock(d.NextAttemptAt, now), d.Attempts+1)
		if d.LastError != "" {
			s += ": " + clip(d.LastError, 60)
		}
		return s
	case queue.StateDead:
		return "dead: " + clip(d.LastError, 80)
	}
	return d.State
}

// clock is a time of day, with the date when it is not today.
func clock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return "at " + t.Format("15:04:05")
	}
	return "on " + t.Format("2006-01-02 15:04")
}

// counts is the viewer's summary line.
func countLine(entries []app.Entry) string {
	var waiting, dead int
	for _, e := range entries {
		for _, d := range e.Deliveries {
			switch d.State {
			case queue.StatePending, queue.StateInFlight, queue.StateRetry:
				waiting++
			case queue.StateDead:
				dead++
			}
		}
	}
	n := fmt.Sprintf("%d tickets", len(entries))
	if len(entries) == 1 {
		n = "1 ticket"
	}
	return fmt.Sprintf("%s · %d deliveries waiting · %d dead", n, waiting, dead)
}

// sentLine is the report window's status once the courier has a result
// for a just-saved ticket; ok is false while nothing is final yet.
func sentLine(ds []queue.Delivery) (line string, ok bool) {
	var sent, refused []string
	for _, d := range ds {
		switch d.State {
		case queue.StateDelivered:
			sent = append(sent, d.RemoteNumber+" ("+d.Connection+")")
		case queue.StateDead:
			refused = append(refused, d.Connection+" refused it: "+clip(d.LastError, 100))
		}
	}
	switch {
	case len(refused) > 0:
		return "Saved, but " + strings.Join(refused, "; ") + ". The help desk can see it in the queue.", true
	case len(sent) == 1 && len(ds) == 1:
		return "Sent as " + ds[0].RemoteNumber + ".", true
	case len(sent) > 0:
		return "Sent as " + strings.Join(sent, " and ") + ".", true
	}
	return "", false
}

// allFinal reports whether every delivery is delivered or dead.
func allFinal(ds []queue.Delivery) bool {
	for _, d := range ds {
		if d.State != queue.StateDelivered && d.State != queue.StateDead {
			return false
		}
	}
	return true
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// clip puts s on one line of at most n runes.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
