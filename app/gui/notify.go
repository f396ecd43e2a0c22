package gui

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/queue"
)

// deliveryState is what the notifier remembers of one delivery.
type deliveryState struct {
	Ticket       string // ticket id
	Summary      string // "" when the ticket is unreadable
	Connection   string
	State        string
	RemoteNumber string
	LastError    string
}

// snapshot is every delivery's state at one moment, by delivery id.
type snapshot map[int64]deliveryState

func takeSnapshot(entries []app.Entry) snapshot {
	s := snapshot{}
	for _, e := range entries {
		summary := ""
		if e.Ticket != nil {
			summary = e.Ticket.Summary
		}
		for _, d := range e.Deliveries {
			s[d.ID] = deliveryState{Ticket: e.ID, Summary: summary, Connection: d.Connection, State: d.State, RemoteNumber: d.RemoteNumber, LastError: d.LastError}
		}
	}
	return s
}

// notice is a desktop notification to send.
type notice struct{ Title, Content string }

// maxNotices is how many notifications one change may raise; beyond it
// they are folded into one.
const maxNotices = 3

// notices says what changed between two snapshots that the user should
// hear about: a delivery that became delivered, or dead. The first
// snapshot (prev nil) raises nothing: those are old news.
func notices(prev, cur snapshot) []notice {
	if prev == nil {
		return nil
	}
	var sent, died []deliveryState
	for _, id := range slices.Sorted(maps.Keys(cur)) {
		d := cur[id]
		old, seen := prev[id]
		if seen && old.State == d.State {
			continue
		}
		switch d.State {
		case queue.StateDelivered:
			sent = append(sent, d)
		case queue.StateDead:
			died = append(died, d)
		}
	}
	if len(sent)+len(died) > maxNotices {
		return []notice{{Title: "Ticketray", Content: fold(len(sent), len(died))}}
	}
	var out []notice
	for _, d := range sent {
		out = append(out, notice{Title: "Ticket sent as " + d.RemoteNumber, Content: fmt.Sprintf("%s — received by %s.", quoted(d), d.Connection)})
	}
	for _, d := range died {
		out = append(out, notice{Title: "Ticket could not be sent", Content: fmt.Sprintf("%s was refused by %s: %s", quoted(d), d.Connection, clip(d.LastError, 120))})
	}
	return out
}

func fold(sent, died int) string {
	switch {
	case died == 0:
		return fmt.Sprintf("%d tickets sent.", sent)
	case sent == 0:
		return fmt.Sprintf("%d tickets could not be sent; see the help desk queue.", died)
	}
	return fmt.Sprintf("%d tickets sent; %d could not be sent (see the help desk queue).", sent, died)
}

func quoted(d deliveryState) string {
	if d.Summary == "" {
		return "Ticket " + shortID(d.Ticket)
	}
	return "“" + clip(d.Summary, 60) + "”"
}

// changeKey condenses queue counts so the watcher can tell cheaply when
// to take a new snapshot.
func changeKey(counts map[string]int) string {
	return fmt.Sprintf("%d/%d/%d/%d/%d/%d", counts[queue.StatePending], counts[queue.StateInFlight], counts[queue.StateRetry], counts[queue.StateDelivered], counts[queue.StateDead], counts[queue.Unrouted])
}
