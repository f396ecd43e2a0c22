package fsfake

import (
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// APIAgentID is the agent whose API key is APIKey: the author of the
// notes added through the API.
const APIAgentID int64 = 14000000001

// Conversation sources (the spec's conversation.source).
const (
	sourceEmail = 0 // a reply, mailed to the requester
	sourceNote  = 2
)

// Agent is an agent of the account.
type Agent struct {
	ID                         int64
	FirstName, LastName, Email string
}

// Name is the agent's display name.
func (a Agent) Name() string { return strings.TrimSpace(a.FirstName + " " + a.LastName) }

// AgentUpdate is what an agent does to a ticket in one go.
type AgentUpdate struct {
	Status int    // 2 Open, 3 Pending, 4 Resolved, 5 Closed; 0 keeps it
	Agent  string // the agent to assign, by name (found or created); "" keeps it
	Reply  string // text of a reply to the requester (public); "" for none
	Note   string // text of a private note; "" for none
}

// Act changes a ticket as an agent would in the agent portal: the status,
// the assignee, a public reply and a private note, authored by the
// assignee. It reports whether the ticket exists.
func (f *Fake) Act(id int64, u AgentUpdate) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.find(id)
	if t == nil {
		return false
	}
	now := f.now().UTC().Truncate(time.Second)
	if u.Agent != "" {
		t.ResponderID = f.agentNamed(u.Agent).ID
	}
	author := t.ResponderID
	if author == 0 {
		author = APIAgentID
	}
	add := func(body string, private bool, source int) {
		f.nextNoteID++
		t.Notes = append(t.Notes, Note{ID: f.nextNoteID, UserID: author, Body: "<div>" + html.EscapeString(body) + "</div>",
			Private: private, Source: source, CreatedAt: now})
	}
	if u.Reply != "" {
		add(u.Reply, false, sourceEmail)
	}
	if u.Note != "" {
		add(u.Note, true, sourceNote)
	}
	if u.Status != 0 {
		t.Status = u.Status
	}
	t.UpdatedAt = now
	return true
}

// agentNamed returns the agent with the display name, created if there is
// none. The caller holds f.mu.
func (f *Fake) agentNamed(name string) Agent {
	for _, a := range f.agents {
		if a.Name() == name {
			return a
		}
	}
	first, last, _ := strings.Cut(name, " ")
	a := Agent{ID: APIAgentID + int64(len(f.agents)), FirstName: first, LastName: last,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@agents.example.com"}
	f.agents = append(f.agents, a)
	return a
}

// agent is GET /api/v2/agents/{id}.
func (f *Fake) agent(w http.ResponseWriter, idText string) {
	id, err := strconv.ParseInt(idText, 10, 64)
	f.mu.Lock()
	i := slices.IndexFunc(f.agents, func(a Agent) bool { return err == nil && a.ID == id })
	var a Agent
	if i >= 0 {
		a = f.agents[i]
	}
	f.mu.Unlock()
	if i < 0 {
		writeCode(w, http.StatusNotFound, "not_found", msgNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent": map[string]any{
		"id": a.ID, "first_name": a.FirstName, "last_name": a.LastName, "email": a.Email,
		"occasional": false, "active": true, "job_title": nil, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
	}})
}

// maxConversationPage is the most conversations one page holds.
const maxConversationPage = 100

// conversations is GET /api/v2/tickets/{id}/conversations: the ticket's
// replies and notes, oldest first, per_page (default 30, at most 100) a
// page, with meta.count.
func (f *Fake) conversations(w http.ResponseWriter, r *http.Request, idText string) {
	q := r.URL.Query()
	perPage, page := intParam(q.Get("per_page"), 30), intParam(q.Get("page"), 1)
	if perPage < 1 || perPage > maxConversationPage || page < 1 {
		f.violation("conversations: per_page %q, page %q", q.Get("per_page"), q.Get("page"))
		writeInvalid(w, FieldError{"per_page", "It should be a Positive Integer less than or equal to 100", "invalid_value"})
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	f.mu.Lock()
	var t *Ticket
	if err == nil {
		t = f.find(id)
	}
	var all []map[string]any
	if t != nil {
		for _, n := range t.Notes {
			all = append(all, renderConversation(t.ID, n))
		}
	}
	f.mu.Unlock()
	if t == nil {
		writeCode(w, http.StatusNotFound, "not_found", msgNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": pageOf(all, page, perPage), "meta": map[string]any{"count": len(all)}})
}

// renderConversation is a note as the conversations API answers it.
func renderConversation(ticketID int64, n Note) map[string]any {
	at := n.CreatedAt.Format(time.RFC3339)
	atts := []map[string]any{}
	for _, a := range n.Attachments {
		atts = append(atts, map[string]any{"id": a.ID, "name": a.Name, "content_type": a.ContentType, "size": len(a.Data)})
	}
	return map[string]any{
		"id": n.ID, "user_id": n.UserID, "body": n.Body, "body_text": html.UnescapeString(stripTags(n.Body)), "private": n.Private,
		"incoming": false, "source": n.Source, "ticket_id": ticketID, "to_emails": []string{}, "cc_emails": []string{},
		"attachments": atts, "created_at": at, "updated_at": at,
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
