package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
	"github.com/ticketray/ticketray/connectors/jsm/jsmfake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
	"github.com/ticketray/ticketray/queue"
)

// vendorFake is what the end-to-end tests need of any vendor fake. Fakes
// that validate against a vendor spec also have Violations() []string.
type vendorFake interface {
	StartAt(addr string) error
	Close()
	Count(idempotencyKey string) int
}

// e2eRig is a service on a real queue file whose connections point at
// vendor fakes on reserved loopback addresses, through the real registry,
// HTTP clients and credentials.
type e2eRig struct {
	svc   *Service
	fakes map[string]vendorFake
	addrs map[string]string
	jira  *jirafake.Fake
	jsm   *jsmfake.Fake
	sn    *snfake.Fake
}

func newE2ERig(t testing.TB) *e2eRig {
	t.Helper()
	rig := &e2eRig{fakes: map[string]vendorFake{}, addrs: map[string]string{}}
	rig.jira, rig.jsm, rig.sn = jirafake.New(), jsmfake.New(), snfake.New()
	rig.fakes["Jira"], rig.fakes["JSM"], rig.fakes["ServiceNow"] = rig.jira, rig.jsm, rig.sn
	for name := range rig.fakes {
		a, err := fake.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		rig.addrs[name] = a
	}
	t.Cleanup(func() {
		for _, f := range rig.fakes {
			f.Close()
		}
	})
	cfg := config.Default()
	opt := func(kv ...string) map[string]json.RawMessage {
		m := map[string]json.RawMessage{"rateLimitPerSecond": json.RawMessage("1000")}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = json.RawMessage(kv[i+1])
		}
		return m
	}
	off := false
	cfg.Connections = []connectors.Connection{
		{Name: "Jira", Type: "jira", BaseURL: "http://" + rig.addrs["Jira"], TimeoutMs: 2000,
			Credentials: connectors.Credentials{Type: "api_token", Username: jirafake.Email, APIToken: "env:JIRA_TOKEN"},
			Options:     opt("projectKey", `"`+jirafake.ProjectKey+`"`, "issueType", `"Task"`)},
		{Name: "JSM", Type: "jsm", BaseURL: "http://" + rig.addrs["JSM"], TimeoutMs: 2000,
			Credentials: connectors.Credentials{Type: "api_token", Username: jsmfake.Email, APIToken: jsmfake.APIToken},
			Options:     opt("serviceDeskId", `"`+jsmfake.ServiceDeskID+`"`, "requestTypeId", `"`+jsmfake.RequestTypeID+`"`, "raiseOnBehalfOf", "true")},
		{Name: "ServiceNow", Type: "servicenow", BaseURL: "http://" + rig.addrs["ServiceNow"], TimeoutMs: 2000,
			Credentials: connectors.Credentials{Type: "basic", Username: snfake.Username, Password: "env:SN_PASSWORD"},
			Options:     opt("assignmentGroup", `"`+snfake.ServiceDeskName+`"`)},
		{Name: "Off", Type: "jira", BaseURL: "https://off.example.com", Enabled: &off,
			Credentials: connectors.Credentials{Type: "bearer", Token: "t"}},
	}
	st, err := queue.Open(context.Background(), t.TempDir()+"/q.db", queue.Options{KEK: queue.PassphraseKEK{Passphrase: []byte("p"), Time: 1, MemoryKiB: 8 << 10, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := map[string]string{"JIRA_TOKEN": jirafake.APIToken, "SN_PASSWORD": snfake.Password}
	rig.svc = &Service{Config: cfg, Store: st, sessionID: "e2e", getenv: func(k string) string { return env[k] }}
	return rig
}

func (r *e2eRig) start(t testing.TB) {
	t.Helper()
	for name, f := range r.fakes {
		if err := f.StartAt(r.addrs[name]); err != nil {
			t.Fatalf("start %s fake: %v", name, err)
		}
	}
}

func (r *e2eRig) checkExactlyOnce(t *testing.T, keys []string) {
	t.Helper()
	for name, f := range r.fakes {
		for _, k := range keys {
			if n := f.Count(connectors.DeliveryKey(k, name)); n != 1 {
				t.Errorf("%s holds %d tickets with key %s, want exactly 1", name, n, k)
			}
		}
		if vf, ok := f.(interface{ Violations() []string }); ok {
			if v := vf.Violations(); len(v) > 0 {
				t.Errorf("%s saw %d requests that break its spec, e.g. %s", name, len(v), v[0])
			}
		}
	}
}

var priorities = []string{"low", "medium", "high", "critical"}

func (r *e2eRig) report(t testing.TB, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		rc, err := r.svc.Submit(context.Background(), Draft{
			Summary: fmt.Sprintf("Printer %d jams", i), Description: "Tray 2 jams on every page.", Category: "Hardware",
			Priority: priorities[i%4], User: connectors.User{ID: "alice", Name: "Alice", Email: jsmfake.CustomerEmail},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rc.Connections) != len(r.svc.Config.Enabled()) {
			t.Fatalf("ticket queued for %v, want every enabled connection", rc.Connections)
		}
		keys[i] = rc.IdempotencyKey
	}
	return keys
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not standing in for one
	}
}

// TestEndToEndOfflineThenOnline: 200 tickets are reported while the help
// desk is unreachable, the servers come up, and the drain delivers every
// ticket exactly once to each enabled connection, fields mapped.
func TestEndToEndOfflineThenOnline(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 40
	}
	rig := newE2ERig(t)
	keys := rig.report(t, n)
	co, err := delivery.NewCourier(rig.svc.Store, rig.svc.Config, delivery.CourierOptions{Build: rig.svc.buildConnector, Concurrency: 8, ProbeEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- co.Drain(ctx) }()

	// Both connections find the servers down and pause, spending nothing.
	waitFor(t, "every connection to be down with nothing in flight", 10*time.Second, func() bool {
		hs, _ := rig.svc.Store.Health(ctx, "Jira", "JSM", "ServiceNow")
		inFlight, _ := rig.svc.Store.List(ctx, queue.Filter{State: queue.StateInFlight})
		return hs[0].State == delivery.Down && hs[1].State == delivery.Down && hs[2].State == delivery.Down && len(inFlight) == 0
	})
	items, _ := rig.svc.List(ctx, queue.StatePending)
	for _, it := range items {
		for _, d := range it.Deliveries {
			if d.Attempts != 0 {
				t.Fatalf("delivery %d spent %d attempts while offline", d.ID, d.Attempts)
			}
		}
	}
	started := time.Now()
	rig.start(t)
	if err := <-done; err != nil {
		t.Fatalf("drain: %v", err)
	}
	t.Logf("%d tickets × 3 connections delivered %v after the servers came up", n, time.Since(started).Round(time.Millisecond))

	// Resumed within 5 s: the first ticket reached Jira that soon.
	first := time.Time{}
	for _, is := range rig.jira.Issues() {
		if first.IsZero() || is.Created.Before(first) {
			first = is.Created
		}
	}
	if wait := first.Sub(started); wait > 5*time.Second {
		t.Errorf("draining resumed %v after the network returned, want within 5 s", wait)
	}
	rig.checkExactlyOnce(t, keys)

	// Fields are mapped.
	for i, is := range rig.jira.Issues() {
		var num int
		fmt.Sscanf(is.Summary, "Printer %d jams", &num)
		want := map[string]string{"low": "Low", "medium": "Medium", "high": "High", "critical": "Highest"}[priorities[num%4]]
		if is.Priority != want || is.ProjectKey != jirafake.ProjectKey || !strings.Contains(string(is.Description), "Tray 2 jams") {
			t.Errorf("Jira issue %d: summary %q priority %q project %q", i, is.Summary, is.Priority, is.ProjectKey)
			break
		}
	}
	for _, rq := range rig.jsm.Requests() {
		if rq.RaiseOnBehalfOf != jsmfake.CustomerAccountID || !strings.Contains(string(rq.FieldValues["summary"]), "Printer") {
			t.Errorf("JSM request %s: onBehalf %q fields %s", rq.IssueKey, rq.RaiseOnBehalfOf, rq.FieldValues["summary"])
			break
		}
	}
	for _, inc := range rig.sn.Incidents() {
		var num int
		fmt.Sscanf(inc["short_description"], "Printer %d jams", &num)
		want := map[string]string{"low": "2,3", "medium": "2,2", "high": "1,2", "critical": "1,1"}[priorities[num%4]]
		if got := inc["urgency"] + "," + inc["impact"]; got != want || inc["caller_id"] != snfake.AliceSysID ||
			inc["assignment_group"] != snfake.ServiceDeskSysID || inc["correlation_display"] != "Ticketray" || inc["category"] != "Hardware" {
			t.Errorf("ServiceNow incident %s: urgency,impact %s (want %s) caller %q group %q category %q",
				inc["number"], got, want, inc["caller_id"], inc["assignment_group"], inc["category"])
			break
		}
	}
	delivered, _ := rig.svc.List(ctx, queue.StateDelivered)
	if len(delivered) != n {
		t.Errorf("%d tickets delivered, want %d", len(delivered), n)
	}
	for _, e := range delivered {
		for _, d := range e.Deliveries {
			if d.State != queue.StateDelivered || d.RemoteNumber == "" || d.RemoteURL == "" {
				t.Fatalf("delivery %+v", d)
			}
		}
	}
	hs, _ := rig.svc.Store.Health(ctx, "Jira", "JSM", "ServiceNow")
	for _, h := range hs {
		if h.State != delivery.Healthy || h.Depth != 0 || h.LastSuccess.IsZero() {
			t.Errorf("health %+v", h)
		}
	}
}

// TestEndToEndFaults: the servers fail on a schedule (500, 503 and 429
// with Retry-After, timeouts, resets before and after the request was
// processed). Nothing is lost or duplicated, and each retry happened no
// sooner than its backoff or the vendor's Retry-After allowed.
func TestEndToEndFaults(t *testing.T) {
	rig := newE2ERig(t)
	rig.start(t)
	keys := rig.report(t, 24)
	retryAfter := http.Header{"Retry-After": {"1"}}
	for _, f := range []struct {
		in   *fake.Injector
		body string // each vendor's own error format
	}{
		{rig.jira.Faults, `{"errorMessages":["Internal server error"],"errors":{}}`},
		{rig.jsm.Faults, `{"errorMessage":"Internal server error","i18nErrorMessage":{"i18nKey":"sd.error.internal","parameters":[]}}`},
		{rig.sn.Faults, `{"error":{"message":"Internal server error","detail":""},"status":"failure"}`},
	} {
		serverErr := f.body
		f.in.Add("POST", "", // the next POSTs: creates, and ServiceNow's attachment uploads after a create
			fake.Fault{Kind: fake.Respond, Code: 500, Body: serverErr},
			fake.Fault{Kind: fake.Respond, Code: 503, Header: retryAfter, Body: serverErr},
			fake.Fault{Kind: fake.Respond, Code: 429, Header: retryAfter, Body: serverErr},
			fake.Fault{Kind: fake.Hang},
			fake.Fault{Kind: fake.ResetAfter},
			fake.Fault{Kind: fake.ResetBefore},
			fake.Fault{Kind: fake.Respond, Code: 502, Body: "<html>Bad gateway</html>"},
			fake.Fault{Kind: fake.ResetAfter},
		)
	}
	for i := range rig.svc.Config.Connections {
		rig.svc.Config.Connections[i].TimeoutMs = 400 // so a hang times out quickly
		rig.svc.Config.Connections[i].MaxRetries = new(int)
		*rig.svc.Config.Connections[i].MaxRetries = 8
	}
	backoff := connectors.Backoff{Base: 100 * time.Millisecond, Max: 400 * time.Millisecond, Rand: func(n int64) int64 { return n - 1 }}
	co, err := delivery.NewCourier(rig.svc.Store, rig.svc.Config, delivery.CourierOptions{Build: rig.svc.buildConnector, Concurrency: 4, Backoff: backoff, Guard: connectors.GuardOptions{FailuresToTrip: 100}})
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := co.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	rig.checkExactlyOnce(t, keys)
	if hits := len(rig.jira.Faults.Hits()) + len(rig.jsm.Faults.Hits()) + len(rig.sn.Faults.Hits()); hits != 24 {
		t.Errorf("%d faults were served, want all 24", hits)
	}

	// Each retry started no sooner than scheduled: the backoff for its
	// attempt, or the vendor's Retry-After. History records when each
	// attempt started (in_flight) and how it ended.
	entries, _ := rig.svc.List(ctx, "")
	retries := 0
	for _, e := range entries {
		for _, d := range e.Deliveries {
			if d.State != queue.StateDelivered {
				t.Errorf("delivery %s/%s ended %s: %s", e.ID, d.Connection, d.State, d.LastError)
			}
			evs, err := rig.svc.Store.Events(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(evs); i++ {
				ev := evs[i]
				if ev.State != queue.StateRetry {
					continue
				}
				retries++
				min := backoff.Delay(ev.Attempt, 0)
				if strings.Contains(ev.Detail, "HTTP 429") || strings.Contains(ev.Detail, "HTTP 503") {
					min = time.Second
				}
				next := evs[i+1]
				if next.State != queue.StateInFlight || next.Attempt != ev.Attempt+1 {
					t.Fatalf("after retry of attempt %d comes %+v, want the start of attempt %d", ev.Attempt, next, ev.Attempt+1)
				}
				// 2 ms: the retry time is taken just before the outcome is recorded.
				if gap := next.At.Sub(ev.At); gap < min-2*time.Millisecond {
					t.Errorf("%s attempt %d (%s) retried after %v, want at least %v", d.Connection, ev.Attempt, ev.Detail, gap, min)
				}
			}
		}
	}
	if retries < 21 {
		t.Errorf("only %d retries were recorded; the schedule has 21 retryable faults", retries)
	}
}
