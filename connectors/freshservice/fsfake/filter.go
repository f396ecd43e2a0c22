package fsfake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The filter API (GET /api/v2/tickets/filter?query="…"), as Freshservice
// documents it: the query is enclosed in double quotes, at most 512
// characters; a condition is field:value, a string value in single
// quotes, a number bare, null for no agent or group; a tag condition
// matches a ticket carrying the tag. Filterable: workspace_id,
// requester_id, email, agent_id, group_id, priority, status, impact,
// urgency, tag, due_by, fr_due_by, created_at, and custom fields of type
// number, checkbox, dropdown and date, but not single-line text. Without a
// workspace_id condition only the primary workspace is searched;
// workspace_id 1 searches all. 30 tickets a page, with the total.
//
// The fake supports conditions joined by AND with equality only (what
// Ticketray sends); OR, parentheses, :> and :< and date fields are
// answered 400 as unsupported by the fake, and recorded as violations.

// numericFilterFields are the built-in number fields of the filter API.
var numericFilterFields = []string{"workspace_id", "requester_id", "agent_id", "group_id", "priority", "status", "impact", "urgency"}

// filterableCustom are the custom field types the filter API accepts.
var filterableCustom = []string{"custom_number", "custom_checkbox", "custom_dropdown", "custom_date"}

type condition struct {
	field string
	str   string
	num   int64
	null  bool
	isStr bool
}

func (f *Fake) filter(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("query")
	if len(raw) < 2 || !strings.HasPrefix(raw, `"`) || !strings.HasSuffix(raw, `"`) {
		f.violation("filter: the query is not enclosed in double quotes: %q", raw)
		writeInvalid(w, FieldError{"query", "Given query is invalid. The query must be enclosed in double quotes", "invalid_value"})
		return
	}
	inner := raw[1 : len(raw)-1]
	if len(inner) > 512 {
		writeInvalid(w, FieldError{"query", "The query can have up to 512 characters", "invalid_value"})
		return
	}
	conds, fe := f.parseQuery(inner)
	if fe != nil {
		// A text custom field is well-formed but not filterable: the
		// account's documented answer, not a malformed request.
		if fe.Code != "invalid_field" || !strings.HasPrefix(fe.Message, "Custom fields of type") {
			f.violation("filter %q: %s", inner, fe.Message)
		}
		writeInvalid(w, *fe)
		return
	}
	page := intParam(r.URL.Query().Get("page"), 1)
	if page < 1 {
		writeInvalid(w, FieldError{"page", "It should be a Positive Integer", "invalid_value"})
		return
	}
	f.mu.Lock()
	indexed := f.now().Add(-f.indexLag)
	var matched []map[string]any
	for i := len(f.tickets) - 1; i >= 0; i-- { // newest first
		if t := f.tickets[i]; f.matches(t, conds) && (f.indexLag == 0 || !t.CreatedAt.After(indexed)) {
			matched = append(matched, f.render(t, r, false))
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"tickets": pageOf(matched, page, 30), "total": len(matched)})
}

// parseQuery reads the inside of the quotes.
func (f *Fake) parseQuery(q string) ([]condition, *FieldError) {
	bad := func(msg string) *FieldError { return &FieldError{"query", msg, "invalid_value"} }
	if strings.ContainsAny(q, "()") || strings.Contains(q, " OR ") || strings.Contains(q, ":>") || strings.Contains(q, ":<") {
		return nil, bad("fsfake supports only equality conditions joined by AND")
	}
	var conds []condition
	for _, part := range strings.Split(q, " AND ") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, bad(fmt.Sprintf("Given query is invalid near %q", part))
		}
		c := condition{field: name}
		switch {
		case len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'':
			c.isStr, c.str = true, value[1:len(value)-1]
			if strings.Contains(c.str, "'") {
				return nil, bad("A string value cannot contain a single quote")
			}
		case value == "null":
			c.null = true
		default:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, bad(fmt.Sprintf("Given query is invalid: %s needs a string in single quotes or a number", name))
			}
			c.num = n
		}
		switch {
		case slices.Contains(numericFilterFields, name):
			if c.isStr {
				return nil, bad(name + " should be a number")
			}
			if c.null && name != "agent_id" && name != "group_id" {
				return nil, bad(name + " cannot be null")
			}
		case name == "tag" || name == "email":
			if !c.isStr {
				return nil, bad(name + " should be a string in single quotes")
			}
		default:
			typ, custom := f.fields[name]
			if !custom {
				return nil, &FieldError{name, "Unexpected/invalid field in query", "invalid_field"}
			}
			if !slices.Contains(filterableCustom, typ) && !(f.filterableText && typ == "custom_text") {
				return nil, &FieldError{name, "Custom fields of type " + typ + " cannot be filtered", "invalid_field"}
			}
			if typ == "custom_dropdown" && !c.isStr {
				return nil, bad(name + " should be a string in single quotes")
			}
		}
		conds = append(conds, c)
	}
	return conds, nil
}

// matches applies the conditions and the workspace default. The caller
// holds f.mu.
func (f *Fake) matches(t *Ticket, conds []condition) bool {
	workspace := false
	for _, c := range conds {
		var ok bool
		switch c.field {
		case "workspace_id":
			workspace = true
			ok = c.num == 1 || t.WorkspaceID == c.num
		case "group_id":
			ok = (c.null && t.GroupID == 0) || (!c.null && t.GroupID == c.num)
		case "agent_id":
			ok = c.null // the fake never assigns agents
		case "requester_id":
			ok = t.RequesterID == c.num
		case "priority":
			ok = int64(t.Priority) == c.num
		case "status":
			ok = int64(t.Status) == c.num
		case "impact":
			ok = int64(t.Impact) == c.num
		case "urgency":
			ok = int64(t.Urgency) == c.num
		case "tag":
			ok = slices.ContainsFunc(t.Tags, func(tag string) bool { return strings.EqualFold(tag, c.str) })
		case "email":
			ok = strings.EqualFold(t.Email, c.str)
		default:
			v := t.CustomFields[c.field]
			switch {
			case c.null:
				ok = v == nil
			case c.isStr:
				ok = v == c.str
			default:
				ok = fmt.Sprint(v) == strconv.FormatInt(c.num, 10)
			}
		}
		if !ok {
			return false
		}
	}
	return workspace || t.WorkspaceID == PrimaryWorkspaceID
}
