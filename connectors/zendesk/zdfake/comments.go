package zdfake

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// MaxCommentPage is the most comments a page of List Comments holds.
const MaxCommentPage = 100

// listComments handles GET /api/v2/tickets/{id}/comments with cursor
// pagination (page[size], page[after]; oldest first) or offset pagination
// (per_page, page). page[size] over 100 is 400 and a violation. The
// caller holds f.mu.
func (f *Fake) listComments(w http.ResponseWriter, r *http.Request, t *Ticket) {
	q := r.URL.Query()
	_, cursor := q["page[size]"]
	if _, after := q["page[after]"]; after {
		cursor = true
	}
	size, start := MaxCommentPage, 0
	if cursor {
		if v := q.Get("page[size]"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxCommentPage {
				f.validator.Record("GET %s: page[size]=%q, want 1 to %d", r.URL.Path, v, MaxCommentPage)
				writeJSON(w, http.StatusBadRequest, apiError{Error: "InvalidPaginationParameter", Description: "page[size] must be between 1 and 100"})
				return
			}
			size = n
		}
		if v := q.Get("page[after]"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > len(t.Comments) {
				writeJSON(w, http.StatusBadRequest, apiError{Error: "InvalidPaginationParameter", Description: "page[after] is not a valid cursor"})
				return
			}
			start = n
		}
	} else {
		if v := q.Get("per_page"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				size = min(n, MaxCommentPage)
			}
		}
		if v := q.Get("page"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 1 {
				start = (n - 1) * size
			}
		}
	}
	end := min(start+size, len(t.Comments))
	start = min(start, end)
	out := make([]any, 0, end-start)
	for _, c := range t.Comments[start:end] {
		out = append(out, f.renderComment(r, t, c))
	}
	more := end < len(t.Comments)
	base := fmt.Sprintf("%s/api/v2/tickets/%d/comments.json", f.base(r), t.ID)
	if cursor {
		var next any
		after := strconv.Itoa(end)
		if more {
			next = base + "?page%5Bafter%5D=" + after + "&page%5Bsize%5D=" + strconv.Itoa(size)
		}
		writeJSON(w, http.StatusOK, map[string]any{"comments": out,
			"meta":  map[string]any{"has_more": more, "after_cursor": after, "before_cursor": strconv.Itoa(start)},
			"links": map[string]any{"next": next, "prev": nil}})
		return
	}
	var next any
	if more {
		next = base + "?page=" + strconv.Itoa(end/size+1) + "&per_page=" + strconv.Itoa(size)
	}
	writeJSON(w, http.StatusOK, map[string]any{"comments": out, "next_page": next, "previous_page": nil, "count": len(t.Comments)})
}

// renderComment is a comment as List Comments answers it.
func (f *Fake) renderComment(r *http.Request, t *Ticket, c Comment) map[string]any {
	atts := make([]any, len(c.Attachments))
	for i, a := range c.Attachments {
		atts[i] = f.renderAttachment(r, a)
	}
	ev := commentEvent(c)
	return map[string]any{"id": c.ID, "type": "Comment", "author_id": c.AuthorID, "body": c.Body,
		"html_body": ev["html_body"], "plain_body": c.Body, "public": c.Public, "attachments": atts,
		"audit_id": auditOf(t, c.ID), "created_at": c.CreatedAt.Format(time.RFC3339),
		"via":      map[string]any{"channel": "api", "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
		"metadata": map[string]any{"system": map[string]any{}, "custom": map[string]any{}}}
}

// Comments returns the bodies of ticket id's comments, oldest first.
func (f *Fake) Comments(id int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticket(id)
	if t == nil {
		return nil
	}
	out := make([]string, len(t.Comments))
	for i, c := range t.Comments {
		out[i] = c.Body
	}
	return out
}

// Files counts the files attached to ticket id's comments.
func (f *Fake) Files(id int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticket(id)
	if t == nil {
		return 0
	}
	n := 0
	for _, c := range t.Comments {
		n += len(c.Attachments)
	}
	return n
}

// auditOf is the id of the audit whose events include comment id, or 0.
func auditOf(t *Ticket, id int64) int64 {
	for _, a := range t.Audits {
		for _, ev := range a.Events {
			if ev["type"] == "Comment" && ev["id"] == id {
				return a.ID
			}
		}
	}
	return 0
}
