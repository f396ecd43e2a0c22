package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// Status sync, shared with the jsm connector: one JQL search per poll
// cycle over the issues the connection creates (its project and the
// ticketray label) updated since the last cycle, with the fields status,
// assignee, updated and comment.

// StatusRows are Jira's built-in status rows. Every workflow status
// belongs to one of three status categories (new, indeterminate, done),
// which is what the rows map first; the few common status names whose
// category does not say enough (a done status that is closed rather than
// resolved, a waiting-for-the-reporter status in progress) have their own
// rows. A connection's mappings.status is laid over them.
var StatusRows = map[string]string{
	// Status categories (statusCategory.key).
	"new":           connectors.StateBacklog,
	"indeterminate": connectors.StateInProgress,
	"done":          connectors.StateResolved,
	// Status names.
	"to do":                connectors.StateBacklog,
	"open":                 connectors.StateBacklog,
	"backlog":              connectors.StateBacklog,
	"in progress":          connectors.StateInProgress,
	"reopened":             connectors.StateInProgress,
	"waiting for customer": connectors.StateWaitingOnYou,
	"waiting for reporter": connectors.StateWaitingOnYou,
	"resolved":             connectors.StateResolved,
	"closed":               connectors.StateClosed,
	"canceled":             connectors.StateClosed,
	"cancelled":            connectors.StateClosed,
	"won't do":             connectors.StateClosed,
}

// Sync tuning.
const (
	// syncPageSize is the page size asked of the search. Jira may return
	// fewer issues per page when comments are requested, so pages are
	// followed by nextPageToken whatever their size.
	syncPageSize = 100
	// maxSyncPages bounds one sync (10,000 changed issues at full pages);
	// a sync that needs more fails rather than loop.
	maxSyncPages = 100
	// searchLag widens the window backwards: search is eventually
	// consistent ("recent updates might not be immediately visible"), so an
	// issue changed just before the last cycle may only now be indexed.
	searchLag = time.Minute
	// commentPage is how many comments the fallback read takes, newest
	// first, when an issue's comment field did not carry all of them.
	commentPage = 100
)

// SyncScope says where a connection's issues are and which comments its
// users may see.
type SyncScope struct {
	// Project is the project the connection creates in (a key or an id).
	Project string
	// PortalOnly keeps only the comments a service desk customer sees on
	// the portal (jsdPublic true): internal comments are for agents. Jira
	// Software comments are public unless restricted to a role or group.
	PortalOnly bool
	// Browse makes a browser link from an issue key.
	Browse func(key string) string
}

// IssueSync reads the state of a connection's issues with one batched,
// incremental JQL search. It remembers the account's time zone, in which
// Jira reads the dates of a query. Safe for concurrent use.
type IssueSync struct {
	API *rest.Client

	mu  sync.Mutex
	loc *time.Location
}

type syncIssue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Status struct {
			Name           string `json:"name"`
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
		Assignee *struct {
			DisplayName string `json:"displayName"`
		} `json:"assignee"`
		Updated string      `json:"updated"`
		Comment commentList `json:"comment"`
	} `json:"fields"`
}

type commentList struct {
	Comments []commentDTO `json:"comments"`
	StartAt  int          `json:"startAt"`
	Total    int          `json:"total"`
}

type commentDTO struct {
	ID     string `json:"id"`
	Author *struct {
		DisplayName string `json:"displayName"`
	} `json:"author"`
	Body       json.RawMessage `json:"body"`
	Created    string          `json:"created"`
	JSDPublic  *bool           `json:"jsdPublic"`
	Visibility json.RawMessage `json:"visibility"`
}

// public reports whether the reporter may see the comment: not restricted
// to a role or group, and (on a service desk) shown on the portal.
func (c commentDTO) public(portalOnly bool) bool {
	if len(c.Visibility) > 0 && string(c.Visibility) != "null" {
		return false
	}
	if portalOnly {
		return c.JSDPublic != nil && *c.JSDPublic
	}
	return c.JSDPublic == nil || *c.JSDPublic
}

// Sync returns an Update for each of remotes that changed at or after
// since (all of them for a zero since): one search of the scope's project
// and label, paged, and for an issue whose comment field did not carry
// all its comments one read of its newest comments. Issues the search
// finds that are not among remotes (other users' tickets) are dropped.
func (s *IssueSync) Sync(ctx context.Context, scope SyncScope, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	if len(remotes) == 0 {
		return nil, nil
	}
	if scope.Project == "" {
		return nil, &connectors.Error{Op: "sync", Class: connectors.Permanent, Err: errors.New("no project to search in")}
	}
	jql := fmt.Sprintf("project = %s AND labels = %s", jqlString(scope.Project), jqlString(Label))
	if !since.IsZero() {
		loc, err := s.location(ctx)
		if err != nil {
			return nil, err
		}
		jql += " AND updated >= " + jqlString(JQLTime(since.Add(-searchLag), loc))
	}
	jql += " ORDER BY created ASC"

	want := map[string]connectors.Remote{}
	for _, r := range remotes {
		want[r.ID] = r
		if r.Number != "" {
			want[r.Number] = r
		}
	}
	var ups []connectors.Update
	token := ""
	for page := 0; ; page++ {
		if page == maxSyncPages {
			return nil, &connectors.Error{Op: "sync", Class: connectors.Retryable, Err: fmt.Errorf("more than %d pages of changed issues", maxSyncPages)}
		}
		req := map[string]any{"jql": jql, "fields": []string{"status", "assignee", "updated", "comment"}, "maxResults": syncPageSize}
		if token != "" {
			req["nextPageToken"] = token
		}
		var out struct {
			Issues        []syncIssue `json:"issues"`
			NextPageToken string      `json:"nextPageToken"`
		}
		if _, err := s.API.Do(ctx, rest.Request{Op: "sync", Method: http.MethodPost, Path: "/rest/api/3/search/jql", JSON: req}, &out); err != nil {
			return nil, err
		}
		for _, is := range out.Issues {
			r, ok := want[is.ID]
			if !ok {
				if r, ok = want[is.Key]; !ok {
					continue
				}
			}
			u, err := s.update(ctx, scope, r, is)
			if err != nil {
				return nil, err
			}
			ups = append(ups, u)
		}
		if out.NextPageToken == "" || out.NextPageToken == token {
			return ups, nil
		}
		token = out.NextPageToken
	}
}

func (s *IssueSync) update(ctx context.Context, scope SyncScope, r connectors.Remote, is syncIssue) (connectors.Update, error) {
	u := connectors.Update{
		Remote:    connectors.Remote{ID: is.ID, Number: is.Key, URL: r.URL},
		Status:    is.Fields.Status.Name,
		Category:  is.Fields.Status.StatusCategory.Key,
		UpdatedAt: ParseTime(is.Fields.Updated),
	}
	if (u.URL == "" || is.Key != r.Number) && scope.Browse != nil {
		u.URL = scope.Browse(is.Key) // a moved issue has a new key
	}
	if a := is.Fields.Assignee; a != nil {
		u.Assignee = a.DisplayName
	}
	cs := is.Fields.Comment
	if cs.StartAt != 0 || len(cs.Comments) < cs.Total {
		// The field carried a page of a long conversation: read its
		// newest comments instead.
		var err error
		if cs, err = s.newestComments(ctx, is.ID); err != nil {
			return connectors.Update{}, err
		}
	}
	for _, c := range cs.Comments {
		if !c.public(scope.PortalOnly) {
			continue
		}
		rc := connectors.RemoteComment{ID: c.ID, Body: PlainText(c.Body), CreatedAt: ParseTime(c.Created)}
		if c.Author != nil {
			rc.Author = c.Author.DisplayName
		}
		u.Comments = append(u.Comments, rc)
	}
	slices.SortStableFunc(u.Comments, func(a, b connectors.RemoteComment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return u, nil
}

// newestComments reads an issue's newest comments (one page).
func (s *IssueSync) newestComments(ctx context.Context, id string) (commentList, error) {
	var out commentList
	path, err := IssuePath("/rest/api/3/issue/", id, "/comment")
	if err != nil {
		return out, &connectors.Error{Op: "sync", Class: connectors.Permanent, Err: err}
	}
	q := url.Values{"orderBy": {"-created"}, "maxResults": {fmt.Sprint(commentPage)}}
	_, err = s.API.Do(ctx, rest.Request{Op: "sync", Method: http.MethodGet, Path: path, Query: q}, &out)
	slices.Reverse(out.Comments) // oldest first
	return out, err
}

// location returns the account's time zone, read from myself once. A zone
// this build cannot load is replaced by a window wide enough for any.
func (s *IssueSync) location(ctx context.Context) (*time.Location, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loc != nil {
		return s.loc, nil
	}
	var me struct {
		TimeZone string `json:"timeZone"`
	}
	if _, err := s.API.Do(ctx, rest.Request{Op: "sync", Method: http.MethodGet, Path: "/rest/api/3/myself"}, &me); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(me.TimeZone)
	if me.TimeZone == "" || err != nil {
		// UTC−12 is the westernmost offset: a date read there is the
		// latest instant it can name, so shift by it.
		loc = time.FixedZone("UTC-12", -12*60*60)
	}
	s.loc = loc
	return loc, nil
}

// JQLTime formats t as a JQL date in loc, the time zone Jira reads a
// query's dates in (the account's), truncated to the minute.
func JQLTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006/01/02 15:04")
}

// PlainText reads a Jira comment body as plain text: an Atlassian Document
// Format document (REST v3) reduced to its text, one line per paragraph,
// or a string (REST v2, servicedeskapi, admin webhooks). Sync and the
// webhooks package both use it, so a comment reads the same either way.
func PlainText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var doc adfText
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	var b strings.Builder
	doc.write(&b)
	return strings.TrimRight(b.String(), "\n")
}

type adfText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Attrs struct {
		Text string `json:"text"`
		URL  string `json:"url"`
	} `json:"attrs"`
	Content []adfText `json:"content"`
}

func (n *adfText) write(b *strings.Builder) {
	switch n.Type {
	case "text":
		b.WriteString(n.Text)
	case "hardBreak":
		b.WriteByte('\n')
	case "mention", "emoji", "status", "date":
		b.WriteString(n.Attrs.Text)
	case "inlineCard", "blockCard":
		b.WriteString(n.Attrs.URL)
	case "listItem":
		b.WriteString("- ")
	}
	for i := range n.Content {
		n.Content[i].write(b)
	}
	switch n.Type {
	case "paragraph", "heading", "codeBlock", "rule", "blockCard":
		b.WriteByte('\n')
	}
}
