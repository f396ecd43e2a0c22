package bmcfake

import (
	"errors"
	"strings"
)

// A qualification (q=) as the fake understands it: 'Field' = "value" or
// 'Field' != "value" terms joined by AND, a double quote inside a value
// written twice. Anything else is an error (400, ARERR 1587), so a test
// never passes on a query the fake misread.
type cond struct {
	field, value string
	not          bool
}

func parseQual(q string) ([]cond, error) {
	var out []cond
	s := strings.TrimSpace(q)
	if s == "" {
		return nil, nil
	}
	for {
		if !strings.HasPrefix(s, "'") {
			return nil, errors.New("expected 'Field' near: " + head(s))
		}
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return nil, errors.New("unterminated field name")
		}
		c := cond{field: s[1 : end+1]}
		s = strings.TrimSpace(s[end+2:])
		switch {
		case strings.HasPrefix(s, "!="):
			c.not, s = true, s[2:]
		case strings.HasPrefix(s, "="):
			s = s[1:]
		default:
			return nil, errors.New("only = and != are modelled, near: " + head(s))
		}
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, `"`) {
			return nil, errors.New("expected a quoted value near: " + head(s))
		}
		var v strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					v.WriteByte('"')
					i++
					continue
				}
				break
			}
			v.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, errors.New("unterminated value")
		}
		c.value = v.String()
		out = append(out, c)
		s = strings.TrimSpace(s[i+1:])
		if s == "" {
			return out, nil
		}
		rest, ok := strings.CutPrefix(s, "AND ")
		if !ok {
			return nil, errors.New("only AND is modelled, near: " + head(s))
		}
		s = strings.TrimSpace(rest)
	}
}

func head(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}

func matchAll(row map[string]any, conds []cond) bool {
	for _, c := range conds {
		v, _ := row[c.field].(string)
		if (v == c.value) == c.not {
			return false
		}
	}
	return true
}
