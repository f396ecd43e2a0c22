package app

// What the CLI prints and the tray GUI shows is built here once, so each
// GUI action shows exactly what its CLI twin prints:
//
//	GUI                                  CLI twin
//	queue viewer: details pane           ticketray queue show ID
//	queue viewer: Export JSON…           ticketray queue show ID --json
//	settings: connections and lights     ticketray connections list [--json]
//	settings: Test                       ticketray connections test NAME
//	Run diagnostics                      ticketray diagnose
//	                                     (SystemInfo and ReadOnlyChecks)
//	report window: attachments           ticketray report --attach FILE

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

// ConnectionStatus is one configured connection with its health as the
// delivering process last recorded it: an element of
// `connections list --json`.
type ConnectionStatus struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// BaseURL is the connection's endpoint.
	BaseURL string `json:"baseUrl"`
	Enabled bool   `json:"enabled"`
	// State is healthy, degraded, down, breaker_open, failing (the vendor
	// refuses), misconfigured (cannot be built: its deliveries wait),
	// unknown (never seen) or disabled.
	State       string     `json:"state"`
	LastSuccess *time.Time `json:"lastSuccess"`
	LastError   string     `json:"lastError"`
	LastErrorAt *time.Time `json:"lastErrorAt"`
	QueueDepth  int        `json:"queueDepth"`
	// Dead counts the connection's deliveries that died and wait for
	// staff (queue retry).
	Dead int `json:"dead"`
	// SignedInAs and GrantExpiresAt are an oauth2_user connection's
	// sign-in (connections login): who, and when the grant ends unless it
	// is used (absent: nobody signed in, or the vendor does not say).
	SignedInAs     string     `json:"signedInAs,omitempty"`
	GrantExpiresAt *time.Time `json:"grantExpiresAt,omitempty"`
	// LastWebhookAt is when serve last took a verified webhook of the
	// connection (null: never); WebhooksRejected counts those it refused
	// (bad or missing signature, stale, too large, malformed).
	LastWebhookAt    *time.Time `json:"lastWebhookAt"`
	WebhooksRejected int        `json:"webhooksRejected"`
}

// Problem is the status in words, as the help desk reads it next to the
// light: the last error and, when tickets died, how many.
func (c ConnectionStatus) Problem() string {
	p := c.LastError
	if c.Dead > 0 {
		if p != "" {
			p += " — "
		}
		p += Plural(c.Dead, "ticket") + " dead"
	}
	return p
}

// Connection states besides the courier's health states.
const (
	Unknown  = "unknown"  // never seen by a delivering process
	Disabled = "disabled" // enabled: false in the config
)

// Connections returns every configured connection, in config order, with
// its recorded health and queue depth.
func (s *Service) Connections(ctx context.Context) ([]ConnectionStatus, error) {
	names := make([]string, 0, len(s.Config.Connections))
	for _, conn := range s.Config.Connections {
		names = append(names, conn.Name)
	}
	health, err := s.Store.Health(ctx, names...)
	if err != nil {
		return nil, err
	}
	dead := map[string]int{}
	items, err := s.Store.List(ctx, queue.Filter{State: queue.StateDead})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		for _, d := range it.Deliveries {
			if d.State == queue.StateDead {
				dead[d.Connection]++
			}
		}
	}
	loaded := s.loadedOrDefault()
	out := make([]ConnectionStatus, len(names))
	for i, conn := range s.Config.Connections {
		h := health[i]
		j := ConnectionStatus{Name: conn.Name, Type: conn.Type, BaseURL: conn.BaseURL, Enabled: conn.IsEnabled(), State: h.State, LastError: h.LastError, QueueDepth: h.Depth, Dead: dead[conn.Name]}
		if j.State == "" {
			j.State = Unknown
		}
		// The validator's verdict on the config in force wins over what a
		// delivering process last recorded.
		if probs := connectionProblems(loaded, conn.Name); len(probs) > 0 {
			j.State, j.LastError = delivery.Misconfigured, strings.Join(probs, "; ")
		}
		if !j.Enabled {
			j.State = Disabled
		}
		if !h.LastSuccess.IsZero() {
			t := h.LastSuccess
			j.LastSuccess = &t
		}
		if !h.LastErrorAt.IsZero() {
			t := h.LastErrorAt
			j.LastErrorAt = &t
		}
		s.fillSignIn(&j, conn)
		s.fillWebhooks(ctx, &j)
		out[i] = j
	}
	return out, nil
}

// ConnectionTest is the result of testing one connection: an element of
// `connections test --json`.
type ConnectionTest struct {
	Name   string      `json:"name"`
	Type   string      `json:"type"`
	OK     bool        `json:"ok"`
	Checks []TestCheck `json:"checks"`
}

// TestCheck is one step of a connection test.
type TestCheck struct {
	Name   string `json:"name"` // config, dns, tcp, tls, proxy, auth
	OK     bool   `json:"ok"`
	Ms     int64  `json:"ms"`
	Detail string `json:"detail,omitempty"`
	// Label says in plain words what failed (a failed check only):
	// "server unavailable", "credentials rejected", "no answer", ...
	Label string `json:"label,omitempty"`
}

// TestConnection validates the connection's config, then checks DNS, TCP
// and TLS to its baseUrl and, once reachable, its credentials. It stops
// at the first failing stage. It needs no queue: s may be a Service with
// only its environment set.
func (s *Service) TestConnection(ctx context.Context, conn connectors.Connection) ConnectionTest {
	r := ConnectionTest{Name: conn.Name, Type: conn.Type}
	add := func(ch TestCheck) bool {
		r.Checks = append(r.Checks, ch)
		return ch.OK
	}
	// The config validator's located problems when the config came from
	// files, else the same rules on the connection alone.
	var problems []string
	if s.Loaded != nil {
		problems = connectionProblems(s.Loaded, conn.Name)
	} else {
		for _, fe := range conn.Validate() {
			problems = append(problems, fe.Error())
		}
	}
	if !add(TestCheck{Name: "config", OK: len(problems) == 0, Detail: strings.Join(problems, "; ")}) {
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	reach := diagnostics.Probe(ctx, conn.BaseURL)
	for _, st := range reach.Steps {
		add(TestCheck{Name: st.Name, OK: st.OK, Ms: st.Ms, Detail: st.Detail})
	}
	if !reach.OK {
		return r
	}
	vc, err := s.buildConnector(conn)
	if err != nil {
		add(TestCheck{Name: "auth", Label: "cannot set up the connector", Detail: err.Error()})
		return r
	}
	start := time.Now()
	detail := ""
	if rep, ok := vc.(connectors.Reporter); ok {
		detail, err = rep.Report(ctx)
	} else {
		err = vc.Check(ctx)
	}
	ch := TestCheck{Name: "auth", OK: err == nil, Ms: time.Since(start).Milliseconds(), Detail: "credentials accepted; permission to create confirmed where the API tells"}
	if detail != "" {
		ch.Detail += "; " + detail
	}
	if err != nil {
		ch.Label = failureLabel(err)
		ch.Detail = err.Error()
	}
	r.OK = add(ch)
	return r
}

// failureLabel says in plain words what a failed check ran into, from the
// HTTP status or the kind of transport error.
func failureLabel(err error) string {
	var e *connectors.Error
	status := 0
	if errors.As(err, &e) && e != nil {
		status = e.Status
	}
	var ne net.Error
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "credentials rejected"
	case status == http.StatusNotFound:
		return "not found (check baseUrl)"
	case status == http.StatusTooManyRequests || connectors.IsThrottled(err):
		return "rate-limited"
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return "no answer"
	case status >= 500:
		return "server unavailable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer"
	case status == 0 && connectors.ClassOf(err) == connectors.Offline:
		return "unreachable"
	case status != 0:
		return fmt.Sprintf("refused (HTTP %d)", status)
	}
	return "failed"
}

// WriteConnectionTests writes test reports as `connections test` prints
// them.
func WriteConnectionTests(w io.Writer, reports ...ConnectionTest) {
	printTestReports(w, reports)
}

// showJSON is `queue show --json` for an entry: its deliveries with their
// history, and the ticket with attachments by name and size only.
func (s *Service) showJSON(ctx context.Context, e Entry) (entryJSON, error) {
	j := toEntryJSON(e)
	for i, d := range e.Deliveries {
		if r, ok := e.Remote[d.ID]; ok {
			j.Deliveries[i].Comments = r.Comments
		}
		evs, err := s.Store.Events(ctx, d.ID)
		if err != nil {
			return entryJSON{}, err
		}
		for _, ev := range evs {
			j.Deliveries[i].History = append(j.Deliveries[i].History, eventJSON{At: ev.At, State: ev.State, Attempt: ev.Attempt, Detail: ev.Detail})
		}
	}
	adds, err := s.Store.Additions(ctx, e.ID)
	if err != nil {
		return entryJSON{}, err
	}
	for _, it := range adds {
		a := additionJSON{ID: it.ID, CreatedAt: it.CreatedAt, Deliveries: []deliveryJSON{}}
		var p delivery.AdditionPayload
		switch {
		case it.Err != nil:
			a.Error = "unreadable: " + it.Err.Error()
		case json.Unmarshal(it.Payload, &p) != nil:
			a.Error = "unreadable: not an addition"
		default:
			a.Text = p.Text
			for _, f := range p.Attachments {
				a.Attachments = append(a.Attachments, fmt.Sprintf("%s (%s, %d bytes)", f.Filename, f.ContentType, f.SizeBytes))
			}
		}
		for _, d := range it.Deliveries {
			a.Deliveries = append(a.Deliveries, toDeliveryJSON(d, nil))
		}
		j.Additions = append(j.Additions, a)
	}
	if e.Ticket != nil {
		t := *e.Ticket
		t.Attachments = append([]connectors.Attachment(nil), t.Attachments...)
		for i := range t.Attachments {
			t.Attachments[i].Data = nil // names and sizes only; the bytes stay in the queue
		}
		j.Ticket = &t
	}
	return j, nil
}

// WriteTicketJSON writes what `queue show ID --json` prints. When the
// ticket's payload is unreadable the JSON (with its error) is written and
// the error returned, as the CLI exits 1 after printing it.
func (s *Service) WriteTicketJSON(ctx context.Context, w io.Writer, id string) error {
	e, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	j, err := s.showJSON(ctx, e)
	if err != nil {
		return err
	}
	j.Log = s.TicketLog(e)
	if err := writeJSON(w, j); err != nil {
		return err
	}
	return e.Err
}

// DescribeTicket is what `queue show ID` prints: the decrypted ticket and
// each delivery with its history.
func (s *Service) DescribeTicket(ctx context.Context, id string) (string, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	j, err := s.showJSON(ctx, e)
	if err != nil {
		return "", err
	}
	s.explainWaits(ctx, e, &j)
	var b strings.Builder
	printEntry(&b, j)
	return b.String(), nil
}

// WriteSystemInfo writes system information as `diagnose` prints it.
func WriteSystemInfo(w io.Writer, si *diagnostics.SystemInfo) {
	if si == nil {
		fmt.Fprintln(w, "System information: not collected")
		return
	}
	writeSystemInfo(w, si)
}

// WriteSkillResults writes skill results as `diagnose` prints its checks.
func WriteSkillResults(w io.Writer, results []diagnostics.SkillResult) {
	writeResults(w, results)
}

// ReadOnlyChecks runs the checks `diagnose` runs: the built-in and
// configured skills that change nothing on the machine.
func (s *Service) ReadOnlyChecks(ctx context.Context) ([]diagnostics.SkillResult, error) {
	cat, err := catalog(s.Config)
	if err != nil {
		return nil, err
	}
	results, _ := diagnostics.RunAll(ctx, diagnostics.NewHost(helpDeskURLs(s.Config)), cat.ReadOnly(), diagnostics.RunOptions{})
	return results, nil
}

// ReadAttachment reads a file as `report --attach FILE` does: a regular
// file within the size limit, with its content type.
func ReadAttachment(path string) (connectors.Attachment, error) {
	return readAttachment(path)
}

// Mine keeps the tickets whose requester is user (by id): "My tickets" in
// the tray, `queue list --mine` in the CLI.
func Mine(entries []Entry, user connectors.User) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Ticket != nil && user.ID != "" && e.Ticket.User.ID == user.ID {
			out = append(out, e)
		}
	}
	return out
}
