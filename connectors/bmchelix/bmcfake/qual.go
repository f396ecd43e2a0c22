package bmcfake

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// A qualification (q=) as the fake understands it: terms 'Field' = "value"
// and 'Field' != "value" (a double quote inside a value written twice),
// and on date/time fields 'Field' op N with op one of < <= > >= and N the
// seconds since 1970, as AR qualifications take a date/time; joined by AND
// and OR (AND binds tighter) and grouped with parentheses. Anything else
// is an error (400, ARERR 1587), so a test never passes on a query the
// fake misread.
type cond struct {
	field, op, value string
	seconds          int64 // the value of a date/time comparison
}

// qual is a parsed qualification: a condition, or AND/OR of two.
type qual struct {
	op          string // "AND", "OR", or "" for a condition
	left, right *qual
	c           cond
}

// dateFields are the date/time fields the fake compares with < <= > >=.
var dateFields = map[string]bool{"Submit Date": true, "Last Modified Date": true}

func parseQual(q string) (*qual, error) {
	s := strings.TrimSpace(q)
	if s == "" {
		return nil, nil
	}
	p := &qualParser{s: s}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.rest() != "" {
		return nil, errors.New("unexpected text near: " + head(p.rest()))
	}
	return n, nil
}

type qualParser struct {
	s string
	i int
}

func (p *qualParser) rest() string { return strings.TrimSpace(p.s[p.i:]) }

// keyword consumes kw (AND, OR) followed by a space or "(".
func (p *qualParser) keyword(kw string) bool {
	r := p.rest()
	if len(r) > len(kw) && strings.HasPrefix(r, kw) && (r[len(kw)] == ' ' || r[len(kw)] == '(') {
		p.i = len(p.s) - len(r) + len(kw)
		return true
	}
	return false
}

func (p *qualParser) or() (*qual, error) {
	left, err := p.and()
	for err == nil && p.keyword("OR") {
		var right *qual
		if right, err = p.and(); err == nil {
			left = &qual{op: "OR", left: left, right: right}
		}
	}
	return left, err
}

func (p *qualParser) and() (*qual, error) {
	left, err := p.primary()
	for err == nil && p.keyword("AND") {
		var right *qual
		if right, err = p.primary(); err == nil {
			left = &qual{op: "AND", left: left, right: right}
		}
	}
	return left, err
}

func (p *qualParser) primary() (*qual, error) {
	r := p.rest()
	p.i = len(p.s) - len(r)
	if strings.HasPrefix(r, "(") {
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(p.rest(), ")") {
			return nil, errors.New("unbalanced parentheses near: " + head(p.rest()))
		}
		p.i = len(p.s) - len(p.rest()) + 1
		return n, nil
	}
	c, n, err := parseCond(r)
	if err != nil {
		return nil, err
	}
	p.i += n
	return &qual{c: c}, nil
}

// parseCond reads one term at the start of s and returns it with the
// bytes it took.
func parseCond(s string) (cond, int, error) {
	if !strings.HasPrefix(s, "'") {
		return cond{}, 0, errors.New("expected 'Field' near: " + head(s))
	}
	end := strings.IndexByte(s[1:], '\'')
	if end < 0 {
		return cond{}, 0, errors.New("unterminated field name")
	}
	c := cond{field: s[1 : end+1]}
	i := end + 2
	for i < len(s) && s[i] == ' ' {
		i++
	}
	for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(s[i:], op) {
			c.op = op
			i += len(op)
			break
		}
	}
	if c.op == "" {
		return cond{}, 0, errors.New("only = != < <= > >= are modelled, near: " + head(s[i:]))
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if c.op != "=" && c.op != "!=" {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil || !dateFields[c.field] {
			return cond{}, 0, errors.New("< <= > >= are modelled only on a date/time field against seconds since 1970, near: " + head(s))
		}
		c.seconds = n
		return c, j, nil
	}
	if i >= len(s) || s[i] != '"' {
		return cond{}, 0, errors.New("expected a quoted value near: " + head(s[i:]))
	}
	var v strings.Builder
	for i++; i < len(s); i++ {
		if s[i] == '"' {
			if i+1 < len(s) && s[i+1] == '"' {
				v.WriteByte('"')
				i++
				continue
			}
			c.value = v.String()
			return c, i + 1, nil
		}
		v.WriteByte(s[i])
	}
	return cond{}, 0, errors.New("unterminated value")
}

func head(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}

// conds lists the qualification's terms.
func (q *qual) conds() []cond {
	switch {
	case q == nil:
		return nil
	case q.op == "":
		return []cond{q.c}
	}
	return append(q.left.conds(), q.right.conds()...)
}

// match reports whether row satisfies q (a nil q matches every row).
func (q *qual) match(row map[string]any) bool {
	switch {
	case q == nil:
		return true
	case q.op == "AND":
		return q.left.match(row) && q.right.match(row)
	case q.op == "OR":
		return q.left.match(row) || q.right.match(row)
	}
	v, _ := row[q.c.field].(string)
	switch q.c.op {
	case "=":
		return v == q.c.value
	case "!=":
		return v != q.c.value
	}
	ts, err := time.Parse(TimeLayout, v)
	if err != nil {
		return false
	}
	d := ts.Unix() - q.c.seconds
	switch q.c.op {
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	}
	return d >= 0
}
