package sffake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// query is the subset of SOQL the fake answers:
//
//	SELECT f1, f2 FROM Case [WHERE f = 'v' [AND f = 'v']…] [ORDER BY f [ASC|DESC]] [LIMIT n]
//
// Anything else is MALFORMED_QUERY, as a real org answers a query it cannot
// parse; unknown fields are INVALID_FIELD.
type query struct {
	fields  []string
	object  string
	where   []cond
	orderBy string
	desc    bool
	limit   int // -1 for none
}

type cond struct{ field, value string }

type token struct {
	kind string // "word", "str", "num", "sym"
	text string
}

func lex(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == ',' || r == '=' || r == '(' || r == ')' || r == '<' || r == '>' || r == '!':
			out = append(out, token{"sym", string(r)})
			i++
		case r == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(rs) {
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
						return nil, fmt.Errorf("invalid escape sequence \\%c", n)
					}
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				b.WriteRune(c)
				i++
			}
			if !closed {
				return nil, errors.New("unterminated string literal")
			}
			out = append(out, token{"str", b.String()})
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && unicode.IsDigit(rs[j]) {
				j++
			}
			out = append(out, token{"num", string(rs[i:j])})
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

func parseQuery(s string) (*query, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q := &query{limit: -1}
	if !p.keyword("SELECT") {
		return nil, errors.New("unexpected token: expecting SELECT")
	}
	for {
		f, ok := p.word()
		if !ok || isKeyword(f) {
			return nil, errors.New("expecting a field name in the SELECT list")
		}
		q.fields = append(q.fields, f)
		if !p.sym(",") {
			break
		}
	}
	if !p.keyword("FROM") {
		return nil, errors.New("unexpected token: expecting FROM")
	}
	obj, ok := p.word()
	if !ok {
		return nil, errors.New("expecting an object after FROM")
	}
	q.object = obj
	if p.keyword("WHERE") {
		for {
			f, ok := p.word()
			if !ok || isKeyword(f) {
				return nil, errors.New("expecting a field name in WHERE")
			}
			if !p.sym("=") {
				return nil, errors.New("the fake supports only field = 'value' conditions")
			}
			v, ok := p.str()
			if !ok {
				return nil, errors.New("expecting a string literal after =")
			}
			q.where = append(q.where, cond{f, v})
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
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected token: %q", p.toks[p.i].text)
	}
	return q, nil
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
	case "SELECT", "FROM", "WHERE", "AND", "OR", "ORDER", "BY", "LIMIT", "ASC", "DESC":
		return true
	}
	return false
}
