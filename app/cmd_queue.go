package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

const queueUsage = `Usage:
  ticketray queue list [--state pending|delivered|dead] [--mine] [--json]
  ticketray queue show ID [--json]
  ticketray queue retry ID | --all-dead
  ticketray queue purge [--delivered] [--older-than DURATION]
  ticketray queue delete ID --yes
  ticketray queue recover FILE [--json]
  ticketray queue comment ID --text T [--attach FILE]... [--json]

An ID may be shortened to any unique prefix of 8 characters or more.
'pending' means work is left: pending, in flight or waiting to retry.
--mine keeps the tickets you reported (your OS account is the requester).
purge removes only tickets delivered everywhere, longer ago than
--older-than (default 30d; units h, m, s or d).
recover copies every ticket it can read from FILE (a damaged queue, or one
moved aside as corrupt: queue.db.corrupt-…) into the queue, with the same
key, ids, deliveries and history. Tickets already in the queue are skipped,
so running it twice adds nothing. It exits 0 when everything in FILE was
read, 1 when some of it could not be (the unreadable ticket ids are listed
where known). FILE itself is never changed.
comment adds to a ticket already reported: the text (and files) go to
every help desk the ticket goes to, once its ticket is created there,
exactly once; it prints the addition's id once it is on disk.
`

func (c *cli) queueCmd(args []string) error {
	usage := func() string { return queueUsage }
	if len(args) == 0 {
		return usagef("queue needs a subcommand: list, show, retry, purge, delete, recover or comment\n%s", queueUsage)
	}
	sub, args := args[0], args[1:]
	fs := c.flags("queue "+sub, usage)
	switch sub {
	case "list":
		state := fs.String("state", "", "")
		asJSON := fs.Bool("json", false, "")
		mineOnly := fs.Bool("mine", false, "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usagef("queue list takes no arguments")
		}
		switch *state {
		case "", queue.StatePending, queue.StateDelivered, queue.StateDead, queue.StateRetry, queue.StateInFlight:
		default:
			return usagef("--state must be pending, delivered or dead (or retry, in_flight)")
		}
		return c.queueList(*state, *mineOnly, *asJSON)
	case "show":
		asJSON := fs.Bool("json", false, "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("queue show needs exactly one ticket ID")
		}
		return c.queueShow(pos[0], *asJSON)
	case "retry":
		allDead := fs.Bool("all-dead", false, "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if (len(pos) == 1) == *allDead || len(pos) > 1 {
			return usagef("queue retry needs one ticket ID or --all-dead")
		}
		svc, err := c.open()
		if err != nil {
			return err
		}
		defer svc.Close()
		var n int
		if *allDead {
			n, err = svc.Store.RetryAllDead(c.ctx)
		} else {
			n, err = svc.Store.Retry(c.ctx, pos[0])
		}
		if err != nil {
			return idError(err)
		}
		fmt.Fprintf(c.env.Stdout, "%s rescheduled\n", Plural(n, "delivery"))
		if *allDead {
			if n == 0 {
				fmt.Fprintln(c.env.Stderr, "Nothing to retry: no delivery is dead.")
			}
			return nil
		}
		e, err := svc.Get(c.ctx, pos[0])
		if err != nil {
			return nil // rescheduled; only the explanation is missing
		}
		fmt.Fprintln(c.env.Stderr, retryExplained(n, e.Deliveries, e.Held, healthOf(c, svc), time.Now()))
		return nil
	case "purge":
		fs.Bool("delivered", true, "")
		older := fs.String("older-than", fmt.Sprintf("%dd", int(Retention.Hours()/24)), "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usagef("queue purge takes no arguments")
		}
		d, err := parseAge(*older)
		if err != nil {
			return usagef("--older-than: %v", err)
		}
		svc, err := c.open()
		if err != nil {
			return err
		}
		defer svc.Close()
		n, err := svc.Store.Purge(c.ctx, time.Now().Add(-d))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stdout, "%s purged\n", Plural(n, "delivered ticket"))
		return nil
	case "delete":
		yes := fs.Bool("yes", false, "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("queue delete needs exactly one ticket ID")
		}
		if !*yes {
			return usagef("queue delete removes the ticket for good, delivered or not; add --yes to confirm")
		}
		svc, err := c.open()
		if err != nil {
			return err
		}
		defer svc.Close()
		if err := svc.Store.Delete(c.ctx, pos[0]); err != nil {
			return idError(err)
		}
		fmt.Fprintln(c.env.Stdout, "deleted")
		return nil
	case "recover":
		asJSON := fs.Bool("json", false, "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("queue recover needs exactly one FILE: the damaged or moved-aside queue")
		}
		return c.queueRecover(pos[0], *asJSON)
	case "comment":
		text := fs.String("text", "", "")
		asJSON := fs.Bool("json", false, "")
		var attach listFlag
		fs.Var(&attach, "attach", "")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("queue comment needs exactly one ticket ID")
		}
		return c.queueComment(pos[0], *text, attach, *asJSON)
	case "--help", "-h", "help":
		return errHelp{usage}
	}
	return usagef("unknown queue subcommand %q (list, show, retry, purge, delete, recover, comment)", sub)
}

// retryExplained says what queue retry did to a ticket, or why nothing
// happened: every delivery done, or waiting for a reason retry cannot fix.
func retryExplained(n int, ds []queue.Delivery, held map[string]string, health map[string]queue.Health, now time.Time) string {
	var why []string
	delivered := 0
	for _, d := range ds {
		switch d.State {
		case queue.StateDelivered:
			delivered++
			continue
		case queue.StateInFlight:
			why = append(why, d.Connection+": being sent right now")
			continue
		}
		if r := HeldReason(d.Connection, held[d.Connection]); r != "" {
			why = append(why, d.Connection+": "+r)
		} else if h, ok := health[d.Connection]; ok && h.State == "down" {
			why = append(why, d.Connection+": the connection is offline; it will be sent when it is back")
		} else if r := waitReason(d.State, d.NextAttemptAt, d.LastError, health[d.Connection], now); r != "" {
			why = append(why, d.Connection+": "+r)
		} else if n == 0 && (d.State == queue.StatePending || d.State == queue.StateRetry) {
			why = append(why, d.Connection+": already due; it is sent by the next 'ticketray drain' (or the running app)")
		}
	}
	switch {
	case len(ds) == 0:
		return "Nothing to retry: no connection was configured when the ticket was queued."
	case n == 0 && delivered == len(ds):
		return "Nothing to retry: the ticket is delivered everywhere."
	case n == 0:
		return "Nothing to retry: no delivery failed.\n  " + strings.Join(why, "\n  ")
	case len(why) > 0:
		return "Due now, but still waiting:\n  " + strings.Join(why, "\n  ")
	}
	return "Due now: sent by the next 'ticketray drain' (or the running app)."
}

// idError makes an unknown or ambiguous ticket id an input error (exit 2);
// anything else (the queue cannot be read) stays a failure.
func idError(err error) error {
	if errors.Is(err, queue.ErrNotFound) || strings.Contains(err.Error(), "is ambiguous") {
		return usageError{err.Error()}
	}
	return err
}

// parseAge is time.ParseDuration plus a "d" (day) unit.
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 30d, 12h or 90m", s)
	}
	return d, nil
}

// deliveryJSON is the contract's delivery object.
type deliveryJSON struct {
	Connection    string     `json:"connection"`
	Action        string     `json:"action"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	RemoteID      string     `json:"remoteId"`
	RemoteNumber  string     `json:"remoteNumber"`
	RemoteURL     string     `json:"remoteUrl"`
	LastError     string     `json:"lastError"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	// What the help desk's side last said (status sync, webhooks): the
	// vendor's status, the local state it maps to, who works on it, when
	// it last changed there, and (queue show) the conversation.
	RemoteStatus    string                     `json:"remoteStatus,omitempty"`
	Status          string                     `json:"status,omitempty"`
	Assignee        string                     `json:"assignee,omitempty"`
	RemoteUpdatedAt *time.Time                 `json:"remoteUpdatedAt,omitempty"`
	Comments        []connectors.RemoteComment `json:"comments,omitempty"`
	History         []eventJSON                `json:"history,omitempty"`
	// Waiting says in words why a delivery still waits (human output
	// only): offline, rate-limited, breaker resting, misconfigured, ...
	Waiting string `json:"-"`
}

type eventJSON struct {
	At      time.Time `json:"at"`
	State   string    `json:"state"`
	Attempt int       `json:"attempt"`
	Detail  string    `json:"detail,omitempty"`
}

// entryJSON is one element of `queue list --json`.
type entryJSON struct {
	ID         string             `json:"id"`
	Summary    string             `json:"summary"`
	CreatedAt  time.Time          `json:"createdAt"`
	Priority   string             `json:"priority"`
	Category   string             `json:"category,omitempty"`
	Requester  *connectors.User   `json:"requester,omitempty"`
	Error      string             `json:"error,omitempty"`
	Deliveries []deliveryJSON     `json:"deliveries"`
	Ticket     *connectors.Ticket `json:"ticket,omitempty"`
	// Additions are what the reporter added since (queue comment), with
	// their deliveries (queue show).
	Additions []additionJSON `json:"additions,omitempty"`
	// Log is what the log file says about the ticket (queue show --json).
	Log []string `json:"log,omitempty"`
}

// additionJSON is one addition in `queue show --json`.
type additionJSON struct {
	ID          string         `json:"id"`
	CreatedAt   time.Time      `json:"createdAt"`
	Text        string         `json:"text"`
	Attachments []string       `json:"attachments,omitempty"`
	Error       string         `json:"error,omitempty"`
	Deliveries  []deliveryJSON `json:"deliveries"`
}

func toDeliveryJSON(d queue.Delivery, r *RemoteView) deliveryJSON {
	j := deliveryJSON{Connection: d.Connection, Action: d.Action, State: d.State, Attempts: d.Attempts,
		RemoteID: d.RemoteID, RemoteNumber: d.RemoteNumber, RemoteURL: d.RemoteURL, LastError: d.LastError}
	if d.State == queue.StatePending || d.State == queue.StateRetry {
		t := d.NextAttemptAt
		j.NextAttemptAt = &t
	}
	if r != nil {
		j.RemoteStatus, j.Status, j.Assignee = r.RemoteStatus, r.Status, r.Assignee
		if !r.RemoteUpdatedAt.IsZero() {
			t := r.RemoteUpdatedAt
			j.RemoteUpdatedAt = &t
		}
	}
	return j
}

func toEntryJSON(e Entry) entryJSON {
	j := entryJSON{ID: e.ID, CreatedAt: e.CreatedAt, Deliveries: []deliveryJSON{}}
	if e.Err != nil {
		j.Error = e.Err.Error()
	}
	if t := e.Ticket; t != nil {
		j.Summary, j.Priority, j.Category = t.Summary, string(t.Priority), t.Category
		u := t.User
		j.Requester = &u
	}
	for _, d := range e.Deliveries {
		var r *RemoteView
		if v, ok := e.Remote[d.ID]; ok {
			r = &v
		}
		j.Deliveries = append(j.Deliveries, toDeliveryJSON(d, r))
	}
	return j
}

func (c *cli) queueList(state string, mineOnly, asJSON bool) error {
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	entries, err := svc.List(c.ctx, state)
	if err != nil {
		return err
	}
	if mineOnly {
		entries = Mine(entries, DefaultUser())
	}
	// What the storage check found (a rebuilt index, unreadable tickets, a
	// full disk) goes to stderr in both forms, for the help desk to see.
	problems, _ := svc.Store.Check(c.ctx)
	for _, p := range problems {
		fmt.Fprintf(c.env.Stderr, "ticketray: storage problem: %s\n", ts(p))
	}
	if asJSON {
		out := make([]entryJSON, 0, len(entries))
		for _, e := range entries {
			out = append(out, toEntryJSON(e))
		}
		return writeJSON(c.env.Stdout, out)
	}
	if len(entries) == 0 {
		if state != "" {
			fmt.Fprintf(c.env.Stderr, "No %s tickets.\n", strings.ReplaceAll(state, "_", "-"))
			return nil
		}
		fmt.Fprintln(c.env.Stderr, "The queue is empty.")
		return nil
	}
	health, now := healthOf(c, svc), time.Now()
	tw := tabwriter.NewWriter(c.env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tPRIORITY\tSUMMARY\tREQUESTER\tDELIVERIES")
	for _, e := range entries {
		summary, prio, who := "(unreadable: "+errText(e.Err)+")", "-", "-"
		if t := e.Ticket; t != nil {
			summary, prio, who = clip(t.Summary, 40), string(t.Priority), or(t.User.Email, or(t.User.Name, t.User.ID))
		}
		// Every field may hold what a user, a vendor or a damaged file put
		// there: nothing reaches the terminal unescaped.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ts(e.ID), e.CreatedAt.Local().Format("2006-01-02 15:04"), ts(prio), ts(summary), ts(clip(who, 30)), ts(deliverySummaryAt(e.Deliveries, e.Held, health, now)))
	}
	return tw.Flush()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "failed authentication"
}

// deliverySummary is the one-line state per connection used in lists.
func deliverySummary(ds []queue.Delivery) string {
	return deliverySummaryAt(ds, nil, nil, time.Now())
}

// deliverySummaryAt is deliverySummary with what holds deliveries back
// (the config: Entry.Held; the connections' health): a waiting delivery
// says why it waits.
func deliverySummaryAt(ds []queue.Delivery, held map[string]string, health map[string]queue.Health, now time.Time) string {
	if len(ds) == 0 {
		return "no connection configured"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		s := d.Connection + ": " + d.State
		switch d.State {
		case queue.StateDelivered:
			s += " " + d.RemoteNumber
		case queue.StateRetry:
			if d.NextAttemptAt.After(now) {
				s += fmt.Sprintf(" at %s (after %s)", d.NextAttemptAt.Local().Format("15:04:05"), Plural(d.Attempts, "attempt"))
			} else {
				s += fmt.Sprintf(" now (after %s)", Plural(d.Attempts, "attempt"))
			}
		case queue.StateDead:
			s += " (" + clip(d.LastError, 40) + ")"
		}
		if why := whyWaiting(held, d.Connection, d.State, d.NextAttemptAt, d.LastError, health, now); why != "" {
			s += ": " + why
		}
		parts[i] = s
	}
	return strings.Join(parts, "; ")
}

// healthOf is the recorded health of every connection, by name; nil when
// it cannot be read (the lists then say less, not fail).
func healthOf(c *cli, svc *Service) map[string]queue.Health { return svc.healthMap(c.ctx) }

// whyWaiting is waitReason, with what the config holds back first: a
// delivery to a connection removed or disabled waits for the config, not
// for the network.
func whyWaiting(held map[string]string, conn, state string, next time.Time, lastError string, health map[string]queue.Health, now time.Time) string {
	if state == queue.StatePending || state == queue.StateRetry {
		if r := HeldReason(conn, held[conn]); r != "" {
			return r
		}
	}
	return waitReason(state, next, lastError, health[conn], now)
}

// waitReason says in words why a delivery that is not done yet waits:
// from its connection's recorded health and its own last error. "" when
// nothing holds it back.
func waitReason(state string, next time.Time, lastError string, h queue.Health, now time.Time) string {
	if state != queue.StatePending && state != queue.StateRetry && state != queue.StateInFlight {
		return ""
	}
	low := strings.ToLower(lastError)
	switch h.State {
	case "down":
		return "offline (connection down); it is sent when the connection is back"
	case "misconfigured":
		return "misconfigured: " + clip(or(strings.TrimPrefix(h.LastError, "connection misconfigured: "), "see 'ticketray connections list'"), 80)
	case "signin_required":
		return "sign-in required (run 'ticketray connections login " + h.Connection + "')"
	case "breaker_open":
		if next.After(now) {
			return "breaker resting until " + when(next, now)
		}
		return "breaker resting"
	case "failing":
		if strings.Contains(strings.ToLower(h.LastError), "credentials rejected") {
			return "credentials rejected"
		}
	}
	switch {
	case strings.Contains(low, "http 401") || strings.Contains(low, "http 403") || strings.Contains(low, "credentials rejected"):
		return "credentials rejected"
	case strings.Contains(low, "http 429") || strings.Contains(low, "rate limit") || strings.Contains(low, "request_limit_exceeded"):
		if next.After(now) {
			return "rate-limited until " + when(next, now)
		}
		return "rate-limited"
	case strings.Contains(low, "circuit breaker open"):
		if next.After(now) {
			return "breaker resting until " + when(next, now)
		}
		return "breaker resting"
	case strings.Contains(low, "misconfigured"):
		return "misconfigured"
	}
	return ""
}

// when is a time for people: date, time, zone and how far from now.
func when(t, now time.Time) string {
	return t.Local().Format("2006-01-02 15:04 MST") + " (" + relative(t, now) + ")"
}

// relative is "in 2 min", "3 h ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d < 5*time.Second:
		return "now"
	case d < time.Minute:
		s = fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h", int(d.Hours()))
	default:
		s = Plural(int(d.Hours()/24), "day")
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) queueShow(id string, asJSON bool) error {
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	e, err := svc.Get(c.ctx, id)
	if err != nil {
		return idError(err)
	}
	j, err := svc.showJSON(c.ctx, e)
	if err != nil {
		return err
	}
	if asJSON {
		j.Log = svc.TicketLog(e)
		if err := writeJSON(c.env.Stdout, j); err != nil {
			return err
		}
	} else {
		svc.explainWaits(c.ctx, e, &j)
		printEntry(c.env.Stdout, j)
	}
	if e.Err != nil {
		return e.Err
	}
	return nil
}

// printEntry prints a ticket for people. Every text field goes through
// TermSafe (only the description keeps its line breaks and tabs): a summary
// or a vendor's error must not be able to drive the help desk's terminal.
func printEntry(w io.Writer, j entryJSON) {
	fmt.Fprintf(w, "Ticket    %s\nCreated   %s\n", ts(j.ID), j.CreatedAt.Local().Format(time.RFC1123))
	if j.Error != "" {
		fmt.Fprintf(w, "Error     %s\n", ts(j.Error))
	}
	if t := j.Ticket; t != nil {
		fmt.Fprintf(w, "Summary   %s\nPriority  %s\n", ts(t.Summary), ts(string(t.Priority)))
		if t.Category != "" {
			fmt.Fprintf(w, "Category  %s\n", ts(t.Category))
		}
		fmt.Fprintf(w, "Requester %s\n", ts(strings.TrimSpace(fmt.Sprintf("%s <%s> (%s)", t.User.Name, t.User.Email, t.User.ID))))
		fmt.Fprintf(w, "Key       %s\n", ts(t.IdempotencyKey))
		if t.Description != "" {
			fmt.Fprintf(w, "\n%s\n", TermSafe(t.Description, true))
		}
		if si := t.SystemInfo; si != nil {
			fmt.Fprintf(w, "\nSystem    %s\n", ts(fmt.Sprintf("%s %s (%s), %s, device %s %s", si.OSName, si.OSVersion, si.OSBuild, si.Architecture, si.DeviceName, si.DeviceID)))
		}
		for _, s := range t.SkillResults {
			fmt.Fprintf(w, "Skill     %s: %s (%d ms)\n", ts(s.SkillName), ts(string(s.Status)), s.ExecutionTimeMs)
		}
		for _, a := range t.Attachments {
			fmt.Fprintf(w, "Attached  %s (%s, %s)\n", ts(a.Filename), ts(a.ContentType), humanSize(a.SizeBytes))
		}
	}
	fmt.Fprintln(w, "\nDeliveries")
	if len(j.Deliveries) == 0 {
		fmt.Fprintln(w, "  none: no connection was configured when it was queued")
	}
	for _, d := range j.Deliveries {
		fmt.Fprintf(w, "  %s %s: %s, %s", ts(d.Connection), ts(d.Action), ts(d.State), Plural(d.Attempts, "attempt"))
		if d.RemoteNumber != "" {
			fmt.Fprintf(w, ", %s %s", ts(d.RemoteNumber), ts(d.RemoteURL))
		}
		if d.NextAttemptAt != nil {
			// A time already past is never "next": the delivery is due.
			if now := time.Now(); d.NextAttemptAt.After(now) {
				fmt.Fprintf(w, ", next %s", when(*d.NextAttemptAt, now))
			} else if d.Waiting == "" {
				fmt.Fprint(w, ", due now")
			}
		}
		if d.Waiting != "" {
			fmt.Fprintf(w, "\n    waiting: %s", ts(d.Waiting))
		}
		if d.LastError != "" {
			fmt.Fprintf(w, "\n    last error: %s", ts(d.LastError))
		}
		if d.Status != "" {
			fmt.Fprintf(w, "\n    at the help desk: %s (%s)", ts(d.Status), ts(d.RemoteStatus))
			if d.Assignee != "" {
				fmt.Fprintf(w, ", assigned to %s", ts(d.Assignee))
			}
			if d.RemoteUpdatedAt != nil {
				fmt.Fprintf(w, ", updated %s", d.RemoteUpdatedAt.Local().Format(time.DateTime))
			}
		}
		fmt.Fprintln(w)
		for _, c := range d.Comments {
			fmt.Fprintf(w, "    %s  %s wrote:\n%s\n", c.CreatedAt.Local().Format(time.DateTime), ts(or(c.Author, "the help desk")), indent(TermSafe(c.Body, true), "      "))
		}
		for _, ev := range d.History {
			fmt.Fprintf(w, "    %s  %s (attempt %d) %s\n", ev.At.Local().Format(time.DateTime), ts(ev.State), ev.Attempt, ts(ev.Detail))
		}
	}
	for _, a := range j.Additions {
		fmt.Fprintf(w, "\nAdded %s (%s)\n", a.CreatedAt.Local().Format(time.DateTime), ts(a.ID))
		if a.Error != "" {
			fmt.Fprintf(w, "  %s\n", ts(a.Error))
		}
		if a.Text != "" {
			fmt.Fprintf(w, "%s\n", indent(TermSafe(a.Text, true), "  "))
		}
		for _, f := range a.Attachments {
			fmt.Fprintf(w, "  Attached  %s\n", ts(f))
		}
		for _, d := range a.Deliveries {
			fmt.Fprintf(w, "  %s: %s, %s", ts(d.Connection), ts(d.State), Plural(d.Attempts, "attempt"))
			if d.LastError != "" {
				fmt.Fprintf(w, ", last error: %s", ts(d.LastError))
			}
			fmt.Fprintln(w)
		}
	}
}

// recoverJSON is `queue recover --json`.
type recoverJSON struct {
	File              string   `json:"file"`
	Complete          bool     `json:"complete"`
	Recovered         int      `json:"recovered"`
	AlreadyPresent    int      `json:"alreadyPresent"`
	Unreadable        int      `json:"unreadable"`
	RecoveredIDs      []string `json:"recoveredIds"`
	AlreadyPresentIDs []string `json:"alreadyPresentIds"`
	UnreadableIDs     []string `json:"unreadableIds"`
	WithoutDeliveries []string `json:"withoutDeliveries"`
	Problems          []string `json:"problems"`
}

func (c *cli) queueRecover(file string, asJSON bool) error {
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	res, err := svc.Recover(c.ctx, file)
	if err != nil {
		return err
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	j := recoverJSON{File: file, Complete: res.Complete(), Recovered: len(res.Recovered), AlreadyPresent: len(res.Present), Unreadable: len(res.Unreadable),
		RecoveredIDs: nonNil(res.Recovered), AlreadyPresentIDs: nonNil(res.Present), UnreadableIDs: nonNil(res.Unreadable),
		WithoutDeliveries: nonNil(res.WithoutDeliveries), Problems: nonNil(res.Problems)}
	if asJSON {
		if err := writeJSON(c.env.Stdout, j); err != nil {
			return err
		}
	} else {
		w := c.env.Stdout
		fmt.Fprintf(w, "%s recovered from %s\n", Plural(j.Recovered, "ticket"), ts(file))
		if j.AlreadyPresent > 0 {
			fmt.Fprintf(w, "%d were already in the queue and were left as they are\n", j.AlreadyPresent)
		}
		if n := len(res.WithoutDeliveries); n > 0 {
			fmt.Fprintf(w, "%d came without their deliveries: they go to the configured connections, each first looked up by its key\n", n)
		}
		if j.Unreadable > 0 {
			fmt.Fprintf(w, "%d could not be read:\n", j.Unreadable)
			for _, id := range res.Unreadable {
				fmt.Fprintf(w, "  %s\n", ts(id))
			}
		}
		for _, p := range res.Problems {
			fmt.Fprintf(w, "could not read: %s\n", ts(p))
		}
	}
	if !res.Complete() {
		return fmt.Errorf("queue recover: part of %s could not be read (%d unreadable tickets, %d damaged stretches); everything readable was recovered", file, len(res.Unreadable), len(res.Problems))
	}
	return nil
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func (c *cli) queueComment(id, text string, attach []string, asJSON bool) error {
	var files []connectors.Attachment
	for _, path := range attach {
		a, err := readAttachment(path)
		if err != nil {
			return usagef("--attach: %v", err)
		}
		files = append(files, a)
	}
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	r, err := svc.Comment(c.ctx, id, text, files, DefaultUser())
	if err != nil {
		if errors.Is(err, queue.ErrNotFound) {
			return usageError{err.Error()}
		}
		return err
	}
	if asJSON {
		return writeJSON(c.env.Stdout, r)
	}
	fmt.Fprintln(c.env.Stdout, r.ID)
	fmt.Fprintf(c.env.Stderr, "Saved — added to the ticket at %s once it is created there.\n", strings.Join(r.Connections, ", "))
	return nil
}
