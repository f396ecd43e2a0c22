package gui

import (
	"fmt"
	"slices"
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
// columns are conns: where each delivery stands, in the help desk's
// words once a sync read them.
func cell(e app.Entry, col int, conns []string, now time.Time) string {
	if col >= len(fixedColumns) {
		i := col - len(fixedColumns)
		if i >= len(conns) {
			return ""
		}
		for _, d := range e.Deliveries {
			if d.Connection != conns[i] {
				continue
			}
			if r, ok := e.Remote[d.ID]; ok && d.State == queue.StateDelivered {
				return remoteCell(d, r, now)
			}
			if held := heldCell(e, d); held != "" {
				return held
			}
			return deliveryCell(d, now)
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
			return "waiting, next try " + app.Relative(d.NextAttemptAt, now)
		}
		if d.LastError != "" {
			return "waiting; last error: " + clip(d.LastError, 60)
		}
		return "waiting"
	case queue.StateRetry:
		// A time already past is never "next": the delivery is due.
		when := "due now"
		if d.NextAttemptAt.After(now) {
			when = app.Relative(d.NextAttemptAt, now)
		}
		s := fmt.Sprintf("retry %s (attempt %d)", when, d.Attempts+1)
		if d.LastError != "" {
			s += ": " + clip(d.LastError, 60)
		}
		return s
	case queue.StateDead:
		return "dead: " + clip(d.LastError, 80)
	}
	return d.State
}

// heldCell is the cell of a delivery the config holds back (its
// connection removed or disabled): the wait is for IT, not for the
// network; "" for any other delivery.
func heldCell(e app.Entry, d queue.Delivery) string {
	if d.State != queue.StatePending && d.State != queue.StateRetry {
		return ""
	}
	switch e.Held[d.Connection] {
	case app.HeldNotConfigured:
		return "waiting: connection not configured (removed?)"
	case app.HeldDisabled:
		return "waiting: connection disabled"
	}
	return ""
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
			refused = append(refused, d.Connection)
		}
	}
	switch {
	case len(refused) > 0:
		// The vendor's words are for staff (queue view, queue show).
		return "Not accepted by " + strings.Join(refused, " and ") + ". The help desk has been told about a delivery problem.", true
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

// stateWords is a local state (connectors.LocalStates) in the requester's
// words.
func stateWords(state string) string {
	switch state {
	case connectors.StateBacklog:
		return "Open"
	case connectors.StateInProgress:
		return "In progress"
	case connectors.StateWaitingOnYou:
		return "Waiting for your reply"
	case connectors.StateResolved:
		return "Resolved"
	case connectors.StateClosed:
		return "Closed"
	}
	if state == "" {
		return "Unknown"
	}
	s := strings.ReplaceAll(state, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// remoteCell is a delivered ticket's cell once the help desk's side is
// known: the number, the state in words, who works on it and when it last
// changed.
func remoteCell(d queue.Delivery, r app.RemoteView, now time.Time) string {
	parts := []string{d.RemoteNumber, stateWords(r.Status)}
	if r.Assignee != "" {
		parts = append(parts, r.Assignee)
	}
	if t := remoteUpdated(r); !t.IsZero() {
		parts = append(parts, "updated "+shortTime(t, now))
	}
	return strings.Join(parts, " · ")
}

// shortTime is a time of day today, else a date.
func shortTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02")
}

// remoteUpdated is when the help desk last changed the ticket, or when it
// was last read if the vendor does not say.
func remoteUpdated(r app.RemoteView) time.Time {
	if !r.RemoteUpdatedAt.IsZero() {
		return r.RemoteUpdatedAt
	}
	return r.SyncedAt
}

// convLine is one paragraph of the conversation pane; heading ones are
// shown in bold, and a new delivered ticket starts after a rule.
type convLine struct {
	Text           string
	Heading, Start bool
}

// conversation is the help desk's side of a ticket's deliveries: per
// delivered ticket its state, assignee and last update, then the public
// comments, oldest first, each under its author and time.
func conversation(e app.Entry) []convLine {
	var out []convLine
	add := func(heading bool, format string, args ...any) {
		out = append(out, convLine{Text: fmt.Sprintf(format, args...), Heading: heading})
	}
	start := func(format string, args ...any) {
		add(true, format, args...)
		out[len(out)-1].Start = true
	}
	for _, d := range e.Deliveries {
		if d.State != queue.StateDelivered || (d.Action != "" && d.Action != queue.ActionCreate) {
			continue // the conversation is the created ticket's
		}
		r, ok := e.Remote[d.ID]
		if !ok {
			start("%s in %s: sent", d.RemoteNumber, d.Connection)
			add(false, "The help desk has not answered yet.")
			continue
		}
		start("%s in %s: %s", d.RemoteNumber, d.Connection, stateWords(r.Status))
		facts := []string{"Not assigned yet"}
		if r.Assignee != "" {
			facts[0] = "Assigned to " + r.Assignee
		}
		if t := remoteUpdated(r); !t.IsZero() {
			facts = append(facts, "last update "+t.Local().Format("2006-01-02 15:04"))
		}
		add(false, "%s", strings.Join(facts, " · "))
		if len(r.Comments) == 0 {
			add(false, "No replies from the help desk yet.")
		}
		for _, c := range r.Comments {
			who := c.Author
			if who == "" {
				who = "Help desk"
			}
			add(true, "%s · %s", who, c.CreatedAt.Local().Format("2006-01-02 15:04"))
			add(false, "%s", strings.TrimSpace(c.Body))
		}
	}
	if len(out) == 0 {
		add(false, "Not sent to the help desk yet: its replies show here once it is.")
	}
	return out
}

// conversationText is the conversation as plain text.
func conversationText(e app.Entry) string {
	var b strings.Builder
	for _, l := range conversation(e) {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// My tickets speaks to the person who reported: one status per ticket in
// plain words, no keys, no vendor errors (those stay in the help desk
// queue and `queue show`).

// myColumns are My tickets' columns.
var myColumns = []string{"Reported", "Summary", "Status"}

// myCell is the text of one cell of My tickets.
func myCell(e app.Entry, col int) string {
	switch col {
	case 0:
		return e.CreatedAt.Local().Format("2006-01-02 15:04")
	case 1:
		if e.Ticket == nil {
			return "(cannot be read on this computer)"
		}
		return clip(e.Ticket.Summary, 80)
	case 2:
		return myStatus(e)
	}
	return ""
}

// creates are a ticket's deliveries that create it at a help desk (not
// the comments added to it since).
func creates(e app.Entry) []queue.Delivery {
	var out []queue.Delivery
	for _, d := range e.Deliveries {
		if d.Action == "" || d.Action == queue.ActionCreate {
			out = append(out, d)
		}
	}
	return out
}

// problemWords is a dead delivery in the requester's words.
const problemWords = "The help desk has been told about a delivery problem"

// heldWords is a delivery the config holds back, for the requester.
const heldWords = "Waiting for IT to set up the help desk connection"

// myDeliveryWords says where one delivery stands for the requester.
func myDeliveryWords(e app.Entry, d queue.Delivery) string {
	switch d.State {
	case queue.StateDelivered:
		if r, ok := e.Remote[d.ID]; ok && r.Status != "" {
			return "Sent as " + d.RemoteNumber + " — " + strings.ToLower(stateWords(r.Status))
		}
		return "Sent as " + d.RemoteNumber
	case queue.StateInFlight:
		return "Sending…"
	case queue.StateDead:
		return problemWords
	}
	if e.Held[d.Connection] != "" {
		return heldWords
	}
	switch app.TroubleOfText(d.LastError) {
	case app.TroubleNone:
		return "Waiting to be sent"
	case app.TroubleOffline, app.TroubleTimeout:
		return "Waiting for the network"
	case app.TroubleBusy, app.TroubleServer:
		return "Waiting for the help desk's system to answer"
	case app.TroubleSignIn:
		return "Waiting for you to sign in (Settings)"
	}
	return "Waiting for IT to fix a delivery problem"
}

// myStatus is a ticket's status for the requester: each help desk's
// words, the same words once.
func myStatus(e app.Entry) string {
	ds := creates(e)
	if len(ds) == 0 {
		return "Saved; it is sent once IT sets up the help desk connection"
	}
	var parts []string
	for _, d := range ds {
		if w := myDeliveryWords(e, d); !slices.Contains(parts, w) {
			parts = append(parts, w)
		}
	}
	return strings.Join(parts, " · ")
}

// myCountLine is My tickets' summary line.
func myCountLine(entries []app.Entry) string {
	var waiting, problems int
	for _, e := range entries {
		w, p := false, false
		for _, d := range creates(e) {
			switch d.State {
			case queue.StatePending, queue.StateInFlight, queue.StateRetry:
				w = true
			case queue.StateDead:
				p = true
			}
		}
		if w {
			waiting++
		}
		if p {
			problems++
		}
	}
	parts := []string{fmt.Sprintf("%d tickets", len(entries))}
	if len(entries) == 1 {
		parts[0] = "1 ticket"
	}
	if waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting to be sent", waiting))
	}
	if problems > 0 {
		parts = append(parts, fmt.Sprintf("%d with a delivery problem", problems))
	}
	return strings.Join(parts, " · ")
}

// myTicketText is My tickets' "Your report" tab: what was reported, the
// reference to quote, and where it stands with each help desk in full
// sentences.
func myTicketText(e app.Entry) string {
	var b strings.Builder
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	row("Reference", shortID(e.ID)+" (quote it if you call the help desk)")
	row("Reported", e.CreatedAt.Local().Format("2006-01-02 15:04"))
	if t := e.Ticket; t != nil {
		row("Summary", t.Summary)
		row("Category", t.Category)
		row("Priority", string(t.Priority))
		for _, a := range t.Attachments {
			row("Attached", a.Filename+" ("+size(a.SizeBytes)+")")
		}
		if d := strings.TrimSpace(t.Description); d != "" {
			b.WriteString("\nWhat you wrote:\n" + d + "\n")
		}
	}
	b.WriteString("\nWhere it stands:\n")
	ds := creates(e)
	if len(ds) == 0 {
		b.WriteString("Saved on this computer. It is sent once IT sets up the help desk connection.\n")
	}
	for _, d := range ds {
		line := d.Connection + ": " + myDeliveryWords(e, d) + "."
		if e.Held[d.Connection] != "" {
			line += " " + app.TroubleConfig.Sentence()
		} else if d.State == queue.StatePending || d.State == queue.StateRetry {
			if s := app.TroubleOfText(d.LastError).Sentence(); s != "" {
				line += " " + s
			}
		}
		if d.State == queue.StateDead {
			line += " It could not be sent; the help desk sees it in its queue and will follow up."
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// deliveryDetail is one delivery in full for the help desk: the cell's
// words with nothing clipped, the attempts, and the whole last error
// (the table's cells are one short line each).
func deliveryDetail(e app.Entry, d queue.Delivery, now time.Time) (head, errText string) {
	who := d.Connection
	if d.Action != "" && d.Action != queue.ActionCreate {
		who += " (added comment)"
	}
	short := d
	short.LastError = "" // said in full below
	state := deliveryCell(short, now)
	if r, ok := e.Remote[d.ID]; ok && d.State == queue.StateDelivered {
		state = remoteCell(d, r, now)
	}
	attempts := fmt.Sprintf("%d attempts", d.Attempts)
	if d.Attempts == 1 {
		attempts = "1 attempt"
	}
	switch {
	case d.State == queue.StateRetry:
		// "(attempt N)" already counts them.
	case d.State == queue.StateDead && d.Attempts > 0:
		state = "dead after " + attempts
	case d.State == queue.StateDead:
		state = "dead"
	case d.Attempts > 0:
		state += " · " + attempts
	}
	// The cell says only how soon; here the date, time and zone too.
	if next := d.NextAttemptAt; next.After(now) {
		switch d.State {
		case queue.StateRetry:
			state = fmt.Sprintf("retry %s (attempt %d)", app.When(next, now), d.Attempts+1)
		case queue.StatePending:
			state = "waiting, next try " + app.When(next, now)
		}
	}
	// The config holds it back: no time or attempt makes it go.
	if heldCell(e, d) != "" {
		state = "waiting: " + app.HeldReason(d.Connection, e.Held[d.Connection])
		if d.Attempts > 0 {
			state += " · " + attempts
		}
	}
	return who + ": " + state, strings.TrimSpace(d.LastError)
}
