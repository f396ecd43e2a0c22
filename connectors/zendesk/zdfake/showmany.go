package zdfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const showManyPath = "/api/v2/tickets/show_many"

// MaxShowMany is how many ids GET /api/v2/tickets/show_many takes ("This
// endpoint will return up to 100 tickets records", Support API).
const MaxShowMany = 100

// sideloads are the tickets sideloads the fake renders; Zendesk ignores
// names it does not know, and so does the fake.
var sideloads = []string{"users", "last_audits"}

// showMany handles GET /api/v2/tickets/show_many?ids=…[&include=…]: the
// tickets that exist among ids (unknown ids are left out), with the
// users sideload (requesters, submitters, assignees and the authors of
// the sideloaded audits) and last_audits (each ticket's latest audit).
// More than MaxShowMany ids is refused, and recorded as a violation: a
// client must page its ids. The caller holds f.mu.
func (f *Fake) showMany(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw := q.Get("ids")
	if strings.TrimSpace(raw) == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "ParameterMissing", Description: "Parameter ids is required"})
		return
	}
	parts := strings.Split(raw, ",")
	if len(parts) > MaxShowMany {
		f.validator.Record("GET %s: %d ids, more than the %d the endpoint takes", showManyPath, len(parts), MaxShowMany)
		writeJSON(w, http.StatusBadRequest, apiError{Error: "InvalidValue", Description: "Too many ids (the limit is 100)"})
		return
	}
	include := map[string]bool{}
	for _, s := range strings.Split(q.Get("include"), ",") {
		if s = strings.TrimSpace(s); slices.Contains(sideloads, s) {
			include[s] = true
		}
	}
	tickets, audits := []any{}, []any{}
	var userIDs []int64
	addUser := func(id int64) {
		if id != 0 && !slices.Contains(userIDs, id) {
			userIDs = append(userIDs, id)
		}
	}
	seen := map[int64]bool{}
	for _, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "InvalidValue", Description: "ids must be a comma-separated list of ticket ids"})
			return
		}
		t := f.ticket(id)
		if t == nil || seen[id] {
			continue
		}
		seen[id] = true
		tickets = append(tickets, f.render(r, t))
		addUser(t.RequesterID)
		addUser(t.SubmitterID)
		addUser(t.AssigneeID)
		if include["last_audits"] && len(t.Audits) > 0 {
			a := t.Audits[len(t.Audits)-1]
			addUser(a.AuthorID)
			audits = append(audits, map[string]any{"id": a.ID, "ticket_id": t.ID, "author_id": a.AuthorID,
				"created_at": a.CreatedAt.Format(time.RFC3339), "events": a.Events,
				"metadata": map[string]any{"system": map[string]any{}, "custom": map[string]any{}},
				"via":      map[string]any{"channel": "web", "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}}})
		}
	}
	out := map[string]any{"tickets": tickets, "next_page": nil, "previous_page": nil, "count": len(tickets)}
	if include["users"] {
		users := []any{}
		for _, id := range userIDs {
			if u := f.user(id); u != nil {
				users = append(users, f.renderUser(r, u))
			}
		}
		out["users"] = users
	}
	if include["last_audits"] {
		out["audits"] = audits
	}
	writeJSON(w, http.StatusOK, out)
}

// show handles GET /api/v2/tickets/{id}[?include=users]: the users
// sideload holds the requester, submitter and assignee. The caller holds
// f.mu.
func (f *Fake) show(w http.ResponseWriter, r *http.Request, t *Ticket) {
	out := map[string]any{"ticket": f.render(r, t)}
	if slices.Contains(strings.Split(r.URL.Query().Get("include"), ","), "users") {
		users := []any{}
		var seen []int64
		for _, id := range []int64{t.RequesterID, t.SubmitterID, t.AssigneeID} {
			if u := f.user(id); u != nil && !slices.Contains(seen, id) {
				seen = append(seen, id)
				users = append(users, f.renderUser(r, u))
			}
		}
		out["users"] = users
	}
	writeJSON(w, http.StatusOK, out)
}
