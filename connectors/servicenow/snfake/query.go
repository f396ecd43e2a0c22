package snfake

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// An encoded query (sysparm_query) as the fake understands it: conditions
// joined by ^ (AND) with the operators =, !=, LIKE, STARTSWITH, ENDSWITH,
// ISEMPTY, ISNOTEMPTY, IN (a comma-separated list) and, on date-times
// written as the Table API renders them (yyyy-MM-dd HH:mm:ss, UTC as a
// plain value in a query is), >, >=, < and <=; plus ORDERBY<field> and
// ORDERBYDESC<field>.
//
// As on an instance with default settings, a condition on a field the
// table does not have is dropped (the rest of the query still applies).
// What the fake cannot evaluate (^OR, ^NQ, dot-walking, other operators)
// is an error, so a test never passes on a query the fake silently
// misread.
type query struct {
	conds []cond
	order []order
}

type cond struct{ field, op, value string }

type order struct {
	field string
	desc  bool
}

// operators in the order they are tried: longer ones before their
// prefixes.
var operators = []string{"!=", ">=", "<=", "=", ">", "<", "LIKE", "STARTSWITH", "ENDSWITH", "ISNOTEMPTY", "ISEMPTY", "IN"}

func parseQuery(s string) (query, error) {
	var q query
	if s == "" {
		return q, nil
	}
	for _, part := range strings.Split(s, "^") {
		switch {
		case part == "":
			continue
		case strings.HasPrefix(part, "ORDERBYDESC"):
			q.order = append(q.order, order{field: strings.TrimPrefix(part, "ORDERBYDESC"), desc: true})
			continue
		case strings.HasPrefix(part, "ORDERBY"):
			q.order = append(q.order, order{field: strings.TrimPrefix(part, "ORDERBY")})
			continue
		case strings.HasPrefix(part, "OR"), strings.HasPrefix(part, "NQ"):
			return q, fmt.Errorf("snfake does not support ^OR or ^NQ")
		}
		// Field names are lower case letters, digits and underscores; the
		// operator starts at the first other character.
		i := strings.IndexFunc(part, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
		})
		if i <= 0 {
			return q, fmt.Errorf("snfake cannot parse the condition %q", part)
		}
		field, rest := part[:i], part[i:]
		if rest[0] == '.' {
			return q, fmt.Errorf("snfake does not support dot-walking (%s.…)", field)
		}
		if strings.HasPrefix(rest, "INSTANCEOF") {
			return q, fmt.Errorf("snfake does not support INSTANCEOF")
		}
		var c cond
		for _, op := range operators {
			if v, ok := strings.CutPrefix(rest, op); ok {
				c = cond{field: field, op: op, value: v}
				break
			}
		}
		if c.op == "" {
			return q, fmt.Errorf("snfake does not support the operator in %q", part)
		}
		if strings.ContainsAny(c.op, "<>") {
			if _, err := time.Parse(timeLayout, c.value); err != nil {
				return q, fmt.Errorf("snfake compares only date-times written yyyy-MM-dd HH:mm:ss, not %q", c.value)
			}
		}
		q.conds = append(q.conds, c)
	}
	return q, nil
}

// apply returns the matching rows in order. The caller holds f.mu.
func (q query) apply(t *table) []map[string]string {
	var out []map[string]string
	for _, row := range t.rows {
		if q.match(t, row) {
			out = append(out, row)
		}
	}
	for i := len(q.order) - 1; i >= 0; i-- {
		o := q.order[i]
		if _, known := t.defaults[o.field]; !known {
			continue
		}
		slices.SortStableFunc(out, func(a, b map[string]string) int {
			c := strings.Compare(a[o.field], b[o.field])
			if o.desc {
				return -c
			}
			return c
		})
	}
	return out
}

func (q query) match(t *table, row map[string]string) bool {
	for _, c := range q.conds {
		if _, known := t.defaults[c.field]; !known {
			continue // an invalid part of the query is ignored
		}
		v := row[c.field]
		var ok bool
		switch c.op {
		case "=":
			ok = v == c.value
		case "!=":
			ok = v != c.value
		case "LIKE":
			ok = strings.Contains(v, c.value)
		case "STARTSWITH":
			ok = strings.HasPrefix(v, c.value)
		case "ENDSWITH":
			ok = strings.HasSuffix(v, c.value)
		case "ISEMPTY":
			ok = v == ""
		case "ISNOTEMPTY":
			ok = v != ""
		case "IN":
			ok = slices.Contains(strings.Split(c.value, ","), v)
		case ">", ">=", "<", "<=":
			// Stored date-times share one layout, so they compare as text.
			cmp := strings.Compare(v, c.value)
			ok = v != "" && (c.op == ">" && cmp > 0 || c.op == ">=" && cmp >= 0 || c.op == "<" && cmp < 0 || c.op == "<=" && cmp <= 0)
		}
		if !ok {
			return false
		}
	}
	return true
}
