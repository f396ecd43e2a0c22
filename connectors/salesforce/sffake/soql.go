package sffake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// query is the subset of SOQL the fake answers:
//
//	SELECT f1, Rel.f2, (SELECT g1, Rel.g2 FROM ChildRelationship [WHERE …] [ORDER BY …] [LIMIT n])
//	FROM Case [WHERE cond [AND cond]…] [ORDER BY f [ASC|DESC]] [LIMIT n]
//
// where cond is field op literal (op one of = != < <= > >=) or field IN
// ('a', 'b'), and a literal is a 'string', null, true, false, a number or
// a date-time (2026-12-06T16:00:00Z). Anything else is MALFORMED_QUERY, as
// a real org answers a query it cannot parse; unknown fields are
// INVALID_FIELD. OR, semi-joins and functions are not supported.
type query struct {
	fields  []string
	subs    []*query // child relationship subqueries; object is the relationship name
	object  string
	where   []cond
	orderBy string
	desc    bool
	limit   int // -1 for none
}

// cond is one WHERE condition.
type cond struct {
	field, op string
	value     string   // the literal's text
	kind      string   // str, null, bool, num, datetime
	values    []string // IN's strings
}

type token struct {
	kind string // "word", "str", "num", "datetime", "sym"
	text string
}

// datetimeLayouts are SOQL's date-time literal forms.
var datetimeLayouts = []string{"2006-01-02T15:04:05Z", "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05.000-07:00"}

func parseDatetime(s string) (time.Time, error) {
	for _, l := range datetimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("line 1: invalid date-time literal %s", s)
}

func lex(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case (r == '<' || r == '>' || r == '!') && i+1 < len(rs) && rs[i+1] == '=':
			out = append(out, token{"sym", string(rs[i : i+2])})
			i += 2
		case r == ',' || r == '=' || r == '(' || r == ')' || r == '<' || r == '>':
			out = append(out, token{"sym", string(r)})
			i++
		case r == '\'':
			str, n, err := lexString(rs[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, token{"str", str})
			i += n
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || strings.ContainsRune("-:.TZ+", rs[j])) {
				j++
			}
			text := string(rs[i:j])
			if _, err := strconv.Atoi(text); err == nil {
				out = append(out, token{"num", text})
			} else if _, err := parseDatetime(text); err == nil {
				out = append(out, token{"datetime", text})
			} else {
				return nil, err
			}
			i = j
		case unicode.IsLetter(r) || r == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '.') {
				j++
			}
			out = append(out, token{"word", string(rs[i:j])})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", r)
		}
	}
	return out, nil
}

// lexString reads a quoted literal at the start of rs, returning its value
// and the runes it spans.
func lexString(rs []rune) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(rs); {
		c := rs[i]
		if c == '\\' && i+1 < len(rs) {
			switch n := rs[i+1]; n {
			case 'n':
				b.WriteRune('\n')
			case 'r':
				b.WriteRune('\r')
			case 't':
				b.WriteRune('\t')
			case '\\', '\'', '"', '_', '%':
				if n == '_' || n == '%' {
					b.WriteRune('\\')
				}
				b.WriteRune(n)
			default:
				return "", 0, fmt.Errorf("invalid escape sequence \\%c", n)
			}
			i += 2
			continue
		}
		if c == '\'' {
			return b.String(), i + 1, nil
		}
		b.WriteRune(c)
		i++
	}
	return "", 0, errors.New("unterminated string literal")
}

func parseQuery(s string) (*query, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q, err := p.selectStmt(true)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected token: %q", p.toks[p.i].text)
	}
	return q, nil
}

func (p *parser) selectStmt(top bool) (*query, error) {
	q := &query{limit: -1}
	if !p.keyword("SELECT") {
		return nil, errors.New("unexpected token: expecting SELECT")
	}
	for {
		if p.sym("(") {
			if !top {
				return nil, errors.New("nested subqueries are not supported")
			}
			sub, err := p.selectStmt(false)
			if err != nil {
				return nil, err
			}
			if !p.sym(")") {
				return nil, errors.New("expecting ) after the subquery")
			}
			q.subs = append(q.subs, sub)
		} else {
			f, ok := p.word()
			if !ok || isKeyword(f) {
				return nil, errors.New("expecting a field name in the SELECT list")
			}
			q.fields = append(q.fields, f)
		}
		if !p.sym(",") {
			break
		}
	}
	if !p.keyword("FROM") {
		return nil, errors.New("unexpected token: expecting FROM")
	}
	obj, ok := p.word()
	if !ok || isKeyword(obj) {
		return nil, errors.New("expecting an object after FROM")
	}
	q.object = obj
	if p.keyword("WHERE") {
		for {
			c, err := p.condition()
			if err != nil {
				return nil, err
			}
			q.where = append(q.where, c)
			if !p.keyword("AND") {
				break
			}
		}
	}
	if p.keyword("ORDER") {
		if !p.keyword("BY") {
			return nil, errors.New("expecting BY after ORDER")
		}
		f, ok := p.word()
		if !ok {
			return nil, errors.New("expecting a field after ORDER BY")
		}
		q.orderBy = f
		if p.keyword("DESC") {
			q.desc = true
		} else {
			p.keyword("ASC")
		}
	}
	if p.keyword("LIMIT") {
		n, ok := p.num()
		if !ok {
			return nil, errors.New("expecting a number after LIMIT")
		}
		q.limit = n
	}
	return q, nil
}

func (p *parser) condition() (cond, error) {
	f, ok := p.word()
	if !ok || isKeyword(f) {
		return cond{}, errors.New("expecting a field name in WHERE")
	}
	c := cond{field: f}
	if p.keyword("IN") {
		c.op = "IN"
		if !p.sym("(") {
			return cond{}, errors.New("expecting ( after IN")
		}
		for {
			v, ok := p.str()
			if !ok {
				return cond{}, errors.New("the fake supports only string literals in IN (…)")
			}
			c.values = append(c.values, v)
			if !p.sym(",") {
				break
			}
		}
		if !p.sym(")") {
			return cond{}, errors.New("expecting ) after the IN list")
		}
		return c, nil
	}
	for _, op := range []string{"=", "!=", "<=", ">=", "<", ">"} {
		if p.sym(op) {
			c.op = op
			break
		}
	}
	if c.op == "" {
		return cond{}, errors.New("the fake supports only comparison and IN conditions")
	}
	t, ok := p.peek()
	switch {
	case !ok:
		return cond{}, errors.New("expecting a value")
	case t.kind == "str" || t.kind == "num" || t.kind == "datetime":
		c.kind, c.value = t.kind, t.text
	case t.kind == "word" && (strings.EqualFold(t.text, "null") || strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
		c.kind, c.value = "bool", strings.ToLower(t.text)
		if c.value == "null" {
			c.kind = "null"
		}
	default:
		return cond{}, fmt.Errorf("unexpected token: %q: expecting a literal", t.text)
	}
	p.i++
	return c, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *parser) keyword(k string) bool {
	if t, ok := p.peek(); ok && t.kind == "word" && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) word() (string, bool) {
	if t, ok := p.peek(); ok && t.kind == "word" {
		p.i++
		return t.text, true
	}
	return "", false
}

func (p *parser) sym(s string) bool {
	if t, ok := p.peek(); ok && t.kind == "sym" && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) str() (string, bool) {
	if t, ok := p.peek(); ok && t.kind == "str" {
		p.i++
		return t.text, true
	}
	return "", false
}

func (p *parser) num() (int, bool) {
	if t, ok := p.peek(); ok && t.kind == "num" {
		n, err := strconv.Atoi(t.text)
		if err != nil {
			return 0, false
		}
		p.i++
		return n, true
	}
	return 0, false
}

func isKeyword(w string) bool {
	switch strings.ToUpper(w) {
	case "SELECT", "FROM", "WHERE", "AND", "OR", "ORDER", "BY", "LIMIT", "ASC", "DESC", "IN", "NOT":
		return true
	}
	return false
}
