package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/jira/jirafake"
)

// agentStatus is a status of the fake's workflow that the built-in rows
// map to each local state.
var agentStatus = map[string]string{
	connectors.StateBacklog:      "To Do",
	connectors.StateInProgress:   "In Progress",
	connectors.StateWaitingOnYou: "Waiting for customer",
	connectors.StateResolved:     "Done",
	connectors.StateClosed:       "Closed",
}

func TestSyncConformance(t *testing.T) {
	conformance.RunSync(t, func(t *testing.T) conformance.SyncTarget {
		f := startFake(t)
		// An account west of UTC: a query's dates written in UTC would be
		// read eight hours late and miss every change.
		f.SetTimeZone(time.FixedZone("America/Los_Angeles", -8*60*60))
		tg := target(t, f)
		tg.Violations = f.Violations
		return conformance.SyncTarget{
			Target: tg,
			Act: func(t *testing.T, r connectors.Remote, want, assignee, body string) string {
				st := agentStatus[want]
				c := jirafake.Comment{Author: assignee, Body: jirafake.TextDoc(body), Public: true}
				if !f.SetStatus(r.ID, st) || !f.Assign(r.ID, assignee) {
					t.Fatalf("no issue %s on the fake", r.ID)
				}
				if _, ok := f.AddAgentComment(r.ID, c); !ok {
					t.Fatalf("no issue %s on the fake", r.ID)
				}
				return st
			},
			Requests: f.Requests,
		}
	})
}

// TestStatusRows: every built-in row maps to a local state, and a
// connection's mappings.status overrides them, by status or category.
func TestStatusRows(t *testing.T) {
	conformance.CheckStatuses(t, "jira", agentStatus)
	check := conformance.StatusCheck(t, "jira")
	check("Triage", nil, connectors.Update{Status: "Triage", Category: "new"}, connectors.StateBacklog)
	check("Under review", nil, connectors.Update{Status: "Under review", Category: "indeterminate"}, connectors.StateInProgress)
	check("Fixed", nil, connectors.Update{Status: "Fixed", Category: "done"}, connectors.StateResolved)
	check("Won't Do", nil, connectors.Update{Status: "Won't Do", Category: "done"}, connectors.StateClosed)
	check("Something", nil, connectors.Update{Status: "Something"}, connectors.StateBacklog) // the default row
	check("Fixed", map[string]string{"Fixed": "closed"}, connectors.Update{Status: "Fixed", Category: "done"}, connectors.StateClosed)
	check("Under review", map[string]string{"indeterminate": "waiting_on_you"}, connectors.Update{Status: "Under review", Category: "indeterminate"}, connectors.StateWaitingOnYou)
	check("Something", map[string]string{"default": "in_progress"}, connectors.Update{Status: "Something"}, connectors.StateInProgress)
	valid := connectors.Connection{Name: "j", Type: "jira", BaseURL: "https://example.atlassian.net",
		Credentials: connectors.Credentials{Type: "api_token", Username: "a@example.com", APIToken: "t"},
		Options:     map[string]json.RawMessage{"projectKey": json.RawMessage(`"IT"`), "issueType": json.RawMessage(`"Task"`)}}
	for k, v := range StatusRows {
		valid.Mappings = map[string]map[string]string{"status": {k: v, "default": connectors.StateBacklog}}
		if errs := valid.Validate(); len(errs) > 0 {
			t.Errorf("row %q → %q: %v", k, v, errs)
		}
	}
}

// TestSyncQuery: one search of the connection's project and label,
// updated since the cycle (less the search lag) in the account's time
// zone, with the four fields.
func TestSyncQuery(t *testing.T) {
	f := startFake(t)
	loc := time.FixedZone("America/Los_Angeles", -8*60*60)
	f.SetTimeZone(loc)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	r, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 12, 6, 16, 40, 30, 0, time.UTC)
	if _, err := c.Sync(ctx, since, []connectors.Remote{r}); err != nil {
		t.Fatal(err)
	}
	s := f.Searches()
	if len(s) != 1 {
		t.Fatalf("%d searches, want 1", len(s))
	}
	want := `project = "IT" AND labels = "ticketray" AND updated >= "2026/12/06 08:39" ORDER BY created ASC`
	if s[0].JQL != want {
		t.Errorf("jql = %v\nwant  %s", s[0].JQL, want)
	}
	if fmt.Sprint(s[0].Fields) != "[status assignee updated comment]" {
		t.Errorf("fields = %v", s[0].Fields)
	}
}

// TestSyncComments: restricted comments stay out; ADF becomes text; an
// untouched ticket of another user in the project is not reported; an
// issue with more comments than its comment field carries is read from
// the comments endpoint, so the newest comment is not lost.
func TestSyncComments(t *testing.T) {
	f := startFake(t)
	f.SetSearchComments(3)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	mine, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Create(ctx, conformance.Ticket())
	if err != nil {
		t.Fatal(err)
	}
	f.AddAgentComment(other.ID, jirafake.Comment{Author: "Agent Smith", Body: jirafake.TextDoc("for someone else"), Public: true})
	for i := 0; i < 4; i++ {
		f.AddAgentComment(mine.ID, jirafake.Comment{Author: "Agent Smith", Body: jirafake.TextDoc(fmt.Sprintf("old %d", i)), Public: true})
	}
	f.AddAgentComment(mine.ID, jirafake.Comment{Author: "Agent Smith", Body: jirafake.TextDoc("staff only"), Public: true, Visibility: "Administrators"})
	f.AddAgentComment(mine.ID, jirafake.Comment{Author: "Agent Smith", Body: jirafake.TextDoc("Line one\nLine two"), Public: true})

	ups, err := c.Sync(ctx, time.Now().Add(-time.Hour), []connectors.Remote{mine})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].ID != mine.ID {
		t.Fatalf("updates %+v, want one for %s", ups, mine.ID)
	}
	var bodies []string
	for _, cm := range ups[0].Comments {
		bodies = append(bodies, cm.Body)
		if cm.Author != "Agent Smith" || cm.CreatedAt.IsZero() || cm.ID == "" {
			t.Errorf("comment %+v", cm)
		}
	}
	if got := strings.Join(bodies, "|"); got != "old 0|old 1|old 2|old 3|Line one\nLine two" {
		t.Errorf("comments %q", got)
	}
	if ups[0].Status != "To Do" || ups[0].Category != "new" || ups[0].URL != mine.URL {
		t.Errorf("update %+v", ups[0])
	}
}

// TestSyncPages: a search answered in several pages is followed to the
// end.
func TestSyncPages(t *testing.T) {
	f := startFake(t)
	c := mustConnector(t, connection(f, nil))
	ctx := context.Background()
	var remotes []connectors.Remote
	for i := 0; i < syncPageSize+5; i++ {
		is, err := f.AddIssue(jirafake.Issue{ProjectKey: jirafake.ProjectKey, IssueType: "Task", Summary: "s", Labels: []string{Label}})
		if err != nil {
			t.Fatal(err)
		}
		remotes = append(remotes, connectors.Remote{ID: is.ID, Number: is.Key})
	}
	start := f.Requests()
	ups, err := c.Sync(ctx, time.Time{}, remotes)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != len(remotes) {
		t.Errorf("%d updates, want %d", len(ups), len(remotes))
	}
	if n := f.Requests() - start; n != 2 {
		t.Errorf("%d requests, want 2 pages", n)
	}
	for _, u := range ups {
		if u.URL == "" || u.Number == "" {
			t.Errorf("update %+v without a link", u)
		}
	}
}

func TestPlainText(t *testing.T) {
	doc := `{"type":"doc","version":1,"content":[
		{"type":"paragraph","content":[{"type":"text","text":"Hi "},{"type":"mention","attrs":{"id":"1","text":"@Alice"}},{"type":"hardBreak"},{"type":"text","text":"try this:"}]},
		{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"restart"}]}]}]},
		{"type":"codeBlock","content":[{"type":"text","text":"ipconfig /renew"}]}]}`
	if got, want := PlainText(json.RawMessage(doc)), "Hi @Alice\ntry this:\n- restart\nipconfig /renew"; got != want {
		t.Errorf("PlainText = %q, want %q", got, want)
	}
	if got := PlainText(json.RawMessage(`"plain"`)); got != "plain" {
		t.Errorf("PlainText(string) = %q", got)
	}
}

// TestSyncIssueNulls: Jira renders an unassigned issue's assignee (and a
// deleted user's comment author) as null.
func TestSyncIssueNulls(t *testing.T) {
	var is syncIssue
	raw := `{"id":"1","key":"IT-1","fields":{"status":{"name":"Open","statusCategory":{"key":"new"}},"assignee":null,
		"updated":"2026-12-06T16:40:00.000+0000","comment":{"comments":[{"id":"5","author":null,"body":"hi","created":"2026-12-06T16:40:00.000+0000"}],"total":1,"startAt":0,"maxResults":100}}}`
	if err := json.Unmarshal([]byte(raw), &is); err != nil {
		t.Fatal(err)
	}
	u, err := (&IssueSync{}).update(context.Background(), SyncScope{Browse: func(k string) string { return "b/" + k }}, connectors.Remote{ID: "1"}, is)
	if err != nil {
		t.Fatal(err)
	}
	if u.Assignee != "" || len(u.Comments) != 1 || u.Comments[0].Author != "" || u.URL != "b/IT-1" {
		t.Errorf("update %+v", u)
	}
}
