package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// One JSON tree with the byte span of every value serves both reading
// and editing: the shape check walks it against the Go types (every
// unknown key, duplicate key and wrong type, located, in one run), the
// problems of the semantic validation find their line and column in it
// by JSON path, and spliceMapping edits a file in place through it.

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// movedKeys are hints for keys that belong elsewhere, by the type they
// were found in.
var movedKeys = map[reflect.Type]map[string]string{
	reflect.TypeFor[Connection](): {"rateLimitPerSecond": `it is an option: "options": {"rateLimitPerSecond": 5}`},
}

// jval is a JSON value with its byte span: data[start:end] is the value.
type jval struct {
	start, end int
	delim      byte       // '{' or '[' for containers, 0 for scalars
	tok        json.Token // a scalar's token: string, json.Number, bool or nil
	str        string     // a string scalar's value
	isStr      bool
	members    []jmember
	items      []*jval
}

type jmember struct {
	key              string
	keyStart, keyEnd int
	val              *jval
}

// member is the last member named key (the one a decoder keeps).
func (v *jval) member(key string) *jmember {
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].key == key {
			return &v.members[i]
		}
	}
	return nil
}

func (v *jval) null() bool { return v.delim == 0 && v.tok == nil }

// kind names the value's JSON type as messages do.
func (v *jval) kind() string {
	switch v.delim {
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	switch v.tok.(type) {
	case string:
		return "a string"
	case bool:
		return "true or false"
	case json.Number:
		return "number"
	}
	return "null"
}

type spanParser struct {
	data []byte
	dec  *json.Decoder
}

// parseSpans reads the first JSON value of data into a tree.
func parseSpans(data []byte) (*jval, error) {
	p := &spanParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	return p.value()
}

// parseTree reads a whole config file: one JSON object and nothing after
// it. A syntax error is returned as a located problem.
func parseTree(file string, data []byte) (*jval, *Problem) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Problem{File: file, Line: 1, Column: 1, Msg: "the file is empty", Hint: `a config file is a JSON object, e.g. {"version": 1}`}
	}
	p := &spanParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	root, err := p.value()
	if err != nil {
		pr := Problem{File: file, Msg: "syntax error: " + err.Error(), Hint: "check for a missing or extra comma, quote or bracket just before this point"}
		offset := int(p.dec.InputOffset())
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			offset = int(syn.Offset)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			pr.Msg, pr.Hint = "the file ends early", "an object or array is not closed"
			offset = len(data)
		}
		pr.Line, pr.Column = position(data, offset)
		return nil, &pr
	}
	if _, err := p.dec.Token(); err != io.EOF {
		line, col := position(data, p.next())
		return nil, &Problem{File: file, Line: line, Column: col, Msg: "unexpected data after the top-level object", Hint: "a config file holds exactly one JSON object"}
	}
	return root, nil
}

// next skips white space and the separators the decoder has not consumed.
func (p *spanParser) next() int {
	i := int(p.dec.InputOffset())
	for i < len(p.data) && bytes.IndexByte([]byte(" \t\r\n:,"), p.data[i]) >= 0 {
		i++
	}
	return i
}

func (p *spanParser) value() (*jval, error) {
	v := &jval{start: p.next()}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '}' || t == ']' {
			return nil, &json.SyntaxError{Offset: int64(v.start)}
		}
		v.delim = byte(t)
		for p.dec.More() {
			if t == '[' {
				it, err := p.value()
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, it)
				continue
			}
			m := jmember{keyStart: p.next()}
			kt, err := p.dec.Token()
			if err != nil {
				return nil, err
			}
			m.key, _ = kt.(string)
			m.keyEnd = int(p.dec.InputOffset())
			if m.val, err = p.value(); err != nil {
				return nil, err
			}
			v.members = append(v.members, m)
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
	case string:
		v.tok, v.str, v.isStr = t, t, true
	default:
		v.tok = t
	}
	v.end = int(p.dec.InputOffset())
	return v, nil
}

// span is the byte range of a string value in a file, with its path.
type span struct {
	path       string
	start, end int // data[start:end] is the quoted string
	value      string
}

// shaper checks a tree against a Go type and writes the document again
// without the members that failed, so that the rest can be decoded and
// validated: one run reports every problem.
type shaper struct {
	file  string
	data  []byte
	probs []Problem
	out   bytes.Buffer
	// dropped holds the paths of values left out (wrong types): the
	// semantic problems at or under them repeat the shape problem.
	dropped map[string]bool
	// keep selects the string values collected in strings.
	keep    func(path string) bool
	strings []span
}

// checkShape walks root against t. It returns the document without the
// values that do not fit (an array item that does not fit becomes null,
// so indices stay those of the file), every shape problem, and the
// string values keep selects. The document is nil when the root itself
// does not fit.
func checkShape(file string, data []byte, root *jval, t reflect.Type, keep func(string) bool) *shaper {
	s := &shaper{file: file, data: data, keep: keep, dropped: map[string]bool{}}
	if msg := s.mismatch(root, t); msg != "" {
		s.problem(root.start, "", "", "%s", msg)
		return s
	}
	s.value(root, t, "")
	return s
}

func (s *shaper) problem(offset int, path, hint, format string, args ...any) {
	line, col := position(s.data, offset)
	s.probs = append(s.probs, Problem{File: s.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// mismatch says why v cannot be decoded into t, or "".
func (s *shaper) mismatch(v *jval, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v.null() || t == rawMessageType || t.Kind() == reflect.Interface {
		return ""
	}
	want, got := kindName(t), v.kind()
	if want != got && !(want == "integer" && got == "number") {
		return fmt.Sprintf("must be %s, not %s", want, got)
	}
	if want == "integer" {
		n := v.tok.(json.Number)
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return fmt.Sprintf("must be a whole number, not %s", n)
		}
	}
	return ""
}

// value writes v, which fits t.
func (s *shaper) value(v *jval, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v.null() || t == rawMessageType || t.Kind() == reflect.Interface {
		s.out.Write(s.data[v.start:v.end])
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		s.object(v, path, func(key string) (reflect.Type, string, string) {
			f, ok := fieldByTag(t, key)
			if !ok {
				if hint, moved := movedKeys[t][key]; moved {
					return nil, fmt.Sprintf("unknown key %q", key), hint
				}
				return nil, fmt.Sprintf("unknown key %q", key), suggest(key, jsonKeys(t))
			}
			return f.Type, "", ""
		})
	case reflect.Map:
		s.object(v, path, func(string) (reflect.Type, string, string) { return t.Elem(), "", "" })
	case reflect.Slice:
		s.out.WriteByte('[')
		for i, it := range v.items {
			if i > 0 {
				s.out.WriteByte(',')
			}
			sub := fmt.Sprintf("%s[%d]", path, i)
			if msg := s.mismatch(it, t.Elem()); msg != "" {
				s.problem(it.start, sub, "", "%s", msg)
				s.dropped[sub] = true
				s.out.WriteString("null")
				continue
			}
			s.value(it, t.Elem(), sub)
		}
		s.out.WriteByte(']')
	case reflect.String:
		if s.keep != nil && s.keep(path) {
			s.strings = append(s.strings, span{path: path, start: v.start, end: v.end, value: v.str})
		}
		s.out.Write(s.data[v.start:v.end])
	default:
		s.out.Write(s.data[v.start:v.end])
	}
}

// object writes the members of v that are allowed and fit; member says
// what type a key holds, or why it is not allowed.
func (s *shaper) object(v *jval, path string, member func(key string) (reflect.Type, string, string)) {
	seen := map[string]bool{}
	s.out.WriteByte('{')
	n := 0
	for _, m := range v.members {
		sub := m.key
		if path != "" {
			sub = path + "." + m.key
		}
		if seen[m.key] {
			s.problem(m.keyStart, sub, "remove one of the two; JSON parsers disagree about which wins", "duplicate key %q", m.key)
		}
		seen[m.key] = true
		t, msg, hint := member(m.key)
		if t == nil {
			s.problem(m.keyStart, path, hint, "%s", msg)
			continue
		}
		if msg := s.mismatch(m.val, t); msg != "" {
			s.problem(m.val.start, sub, "", "%s", msg)
			s.dropped[sub] = true
			continue
		}
		if n > 0 {
			s.out.WriteByte(',')
		}
		n++
		s.out.Write(s.data[m.keyStart:m.keyEnd])
		s.out.WriteByte(':')
		s.value(m.val, t, sub)
	}
	s.out.WriteByte('}')
}

// locate is the offset of the value at a JSON path (as problems write
// it: connections[1].options.projectKey); for a value that is not in
// the file, the offset of the innermost object or array that is.
func locate(v *jval, path string) int {
	for path != "" {
		switch {
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:max(end, 1)])
			if end < 0 || err != nil || v.delim != '[' || i < 0 || i >= len(v.items) {
				return v.start
			}
			v, path = v.items[i], path[end+1:]
		case path[0] == '.':
			path = path[1:]
		default:
			if v.delim != '{' {
				return v.start
			}
			// Keys may hold dots (a category "I.T."): the longest key
			// that the path continues from wins.
			var best *jmember
			for i := range v.members {
				m := &v.members[i]
				rest, ok := strings.CutPrefix(path, m.key)
				if ok && (rest == "" || rest[0] == '.' || rest[0] == '[') && (best == nil || len(m.key) >= len(best.key)) {
					best = m
				}
			}
			if best == nil {
				return v.start
			}
			v, path = best.val, path[len(best.key):]
		}
	}
	return v.start
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	}
	return t.String()
}

// fieldByTag finds the struct field whose JSON name is exactly key (the
// decoder also accepts other cases; the contract does not).
func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name := jsonName(f); name != "" && name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// jsonKeys lists the JSON names of t's fields, sorted.
func jsonKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n != "" {
			keys = append(keys, n)
		}
	}
	sort.Strings(keys)
	return keys
}

// suggest names the closest known key, for a hint.
func suggest(key string, known []string) string {
	best, bestD := "", 4
	for _, k := range known {
		if d := distance(strings.ToLower(key), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q? (known keys: %s)", best, strings.Join(known, ", "))
	}
	return "known keys: " + strings.Join(known, ", ")
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
