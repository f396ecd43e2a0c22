package jirafake

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The fake understands a small JQL subset: clauses joined by AND, each
// `field = value`, `field != value` or `field in (v1, v2)`, on labels,
// project, key/issuekey/issue and status, or a date comparison (=, >, >=,
// <, <=) on updated or created, with an optional ORDER BY created. Dates
// are read as Jira reads them: "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm",
// "yyyy/MM/dd" or "yyyy-MM-dd" in the account's time zone, a period
// relative to now ("-5m", "-1w 2d"), or an unquoted number of milliseconds
// since the epoch. Anything else is a 400, as Jira answers a query it
// cannot parse.

type clause struct {
	field  string
	negate bool
	values []string
	// A date comparison: op is one of = > >= < <=.
	op string
	at time.Time
}

type query struct {
	clauses []clause
	oldest  bool // ORDER BY created ASC
}

func (q query) match(is *Issue) bool {
	for _, c := range q.clauses {
		if c.matches(is) == c.negate {
			return false
		}
	}
	return true
}

func (c clause) matches(is *Issue) bool {
	if c.op != "" {
		t := is.Updated
		if c.field == "created" {
			t = is.Created
		}
		switch c.op {
		case ">":
			return t.After(c.at)
		case ">=":
			return !t.Before(c.at)
		case "<":
			return t.Before(c.at)
		case "<=":
			return !t.After(c.at)
		}
		return t.Equal(c.at)
	}
	for _, v := range c.values {
		switch c.field {
		case "labels":
			for _, l := range is.Labels {
				if l == v { // Jira labels compare exactly
					return true
				}
			}
		case "project":
			if strings.EqualFold(is.ProjectKey, v) || is.ProjectID == v {
				return true
			}
		case "key", "issuekey", "issue":
			if strings.EqualFold(is.Key, v) || is.ID == v {
				return true
			}
		case "status":
			if strings.EqualFold(is.Status, v) {
				return true
			}
		}
	}
	return false
}

// jqlError is a message in Jira's words for a query it rejects.
type jqlError string

func (e jqlError) Error() string { return string(e) }

// parseJQL parses s; loc is the account's time zone and now the site's
// clock, for dates.
func parseJQL(s string, loc *time.Location, now time.Time) (query, error) {
	toks, err := lexJQL(s)
	if err != nil {
		return query{}, err
	}
	var q query
	i := 0
	next := func() string {
		if i < len(toks) {
			i++
			return toks[i-1]
		}
		return ""
	}
	peek := func() string {
		if i < len(toks) {
			return toks[i]
		}
		return ""
	}
	for i < len(toks) {
		if strings.EqualFold(peek(), "order") {
			next()
			if !strings.EqualFold(next(), "by") || !strings.EqualFold(next(), "created") {
				return query{}, jqlError("Error in the JQL Query: jirafake supports only ORDER BY created.")
			}
			switch dir := strings.ToLower(next()); dir {
			case "", "asc":
				q.oldest = true
			case "desc":
			default:
				return query{}, jqlError(fmt.Sprintf("Error in the JQL Query: Expecting 'ASC' or 'DESC' but got '%s'.", dir))
			}
			if i < len(toks) {
				return query{}, jqlError("Error in the JQL Query: Expecting end of query after ORDER BY.")
			}
			break
		}
		field := strings.ToLower(next())
		switch field {
		case "labels", "project", "key", "issuekey", "issue", "status":
		case "updated", "created":
			c, err := dateClause(field, next(), next(), loc, now)
			if err != nil {
				return query{}, err
			}
			q.clauses = append(q.clauses, c)
			if t := peek(); t != "" && !strings.EqualFold(t, "order") && !strings.EqualFold(next(), "and") {
				return query{}, jqlError("Error in the JQL Query: only AND is supported by jirafake.")
			}
			continue
		default:
			return query{}, jqlError(fmt.Sprintf("Field '%s' does not exist or you do not have permission to view it.", field))
		}
		c := clause{field: field}
		switch op := strings.ToLower(next()); op {
		case "=", "!=":
			c.negate = op == "!="
			v := next()
			if v == "" || v == "(" || v == ")" || v == "," {
				return query{}, jqlError(fmt.Sprintf("Error in the JQL Query: Expecting either a value, list or function but got '%s'.", v))
			}
			c.values = []string{unquote(v)}
		case "in":
			if next() != "(" {
				return query{}, jqlError("Error in the JQL Query: Expecting '(' after 'in'.")
			}
			for {
				v := next()
				if v == "" || v == "(" || v == ")" || v == "," {
					return query{}, jqlError("Error in the JQL Query: Expecting a value in the list.")
				}
				c.values = append(c.values, unquote(v))
				sep := next()
				if sep == ")" {
					break
				}
				if sep != "," {
					return query{}, jqlError("Error in the JQL Query: Expecting ',' or ')' in the list.")
				}
			}
		default:
			return query{}, jqlError(fmt.Sprintf("Error in the JQL Query: Expecting operator but got '%s'.", op))
		}
		q.clauses = append(q.clauses, c)
		if t := peek(); t != "" && !strings.EqualFold(t, "order") {
			if !strings.EqualFold(next(), "and") {
				return query{}, jqlError("Error in the JQL Query: only AND is supported by jirafake.")
			}
		}
	}
	if len(q.clauses) == 0 {
		return query{}, jqlError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	}
	return q, nil
}

// lexJQL splits a query into words, operators, punctuation and quoted
// strings (kept with their quotes so a quoted "and" stays a value).
func lexJQL(s string) ([]string, error) {
	var toks []string
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')' || c == ',' || c == '=':
			toks = append(toks, string(c))
			i++
		case c == '>' || c == '<':
			if i+1 < len(r) && r[i+1] == '=' {
				toks = append(toks, string(c)+"=")
				i += 2
			} else {
				toks = append(toks, string(c))
				i++
			}
		case c == '!' && i+1 < len(r) && r[i+1] == '=':
			toks = append(toks, "!=")
			i += 2
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			b.WriteRune(c)
			for ; j < len(r) && r[j] != c; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, jqlError("Error in the JQL Query: The quoted string has not been completed.")
			}
			b.WriteRune(c)
			toks = append(toks, b.String())
			i = j + 1
		default:
			j := i
			for j < len(r) && !unicode.IsSpace(r[j]) && !strings.ContainsRune(`()=,!"'<>`, r[j]) {
				j++
			}
			if j == i {
				return nil, jqlError(fmt.Sprintf("Error in the JQL Query: The character '%c' is a reserved JQL character.", c))
			}
			toks = append(toks, string(r[i:j]))
			i = j
		}
	}
	return toks, nil
}

// dateClause reads `field op value` on a date field.
func dateClause(field, op, v string, loc *time.Location, now time.Time) (clause, error) {
	switch op {
	case "=", ">", ">=", "<", "<=":
	default:
		return clause{}, jqlError(fmt.Sprintf("Error in the JQL Query: Expecting operator but got '%s'.", op))
	}
	at, ok := jqlDate(v, loc, now)
	if !ok {
		return clause{}, jqlError(fmt.Sprintf("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", unquote(v), field))
	}
	return clause{field: field, op: op, at: at}, nil
}

var periodPart = regexp.MustCompile(`^(\d+)([wdhm]?)$`)

// jqlDate reads a JQL date value: an absolute date in loc, a period
// relative to now, or (unquoted) epoch milliseconds.
func jqlDate(v string, loc *time.Location, now time.Time) (time.Time, bool) {
	quoted := len(v) >= 2 && (v[0] == '"' || v[0] == '\'')
	s := unquote(v)
	if !quoted {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms), true
		}
	}
	for _, layout := range []string{"2006/01/02 15:04", "2006-01-02 15:04", "2006/01/02", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	sign := time.Duration(1)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		sign, s = -1, rest
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	var d time.Duration
	parts := strings.Fields(s)
	if len(parts) == 0 {
		return time.Time{}, false
	}
	for _, p := range parts {
		m := periodPart.FindStringSubmatch(p)
		if m == nil {
			return time.Time{}, false
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "": time.Minute}[m[2]]
		d += time.Duration(n) * unit
	}
	return now.Add(sign * d), true
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}
