package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// The first pass over a file walks its JSON tokens against the Go types,
// so that every unknown key, duplicate key and wrong type is reported
// with its line and column in one run. encoding/json's strict decoder,
// the second pass, stops at the first.

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// span is the byte range of a string value in a file, with its path.
type span struct {
	path       string
	start, end int // data[start:end] is the quoted string
	value      string
}

type walker struct {
	file  string
	data  []byte
	dec   *json.Decoder
	probs []Problem
	// strings collects string values whose path passes keep.
	keep    func(path string) bool
	strings []span
}

// checkShape walks data against t and returns every shape problem. A
// syntax error ends the walk.
func checkShape(file string, data []byte, t reflect.Type, keep func(string) bool) ([]Problem, []span) {
	w := &walker{file: file, data: data, dec: json.NewDecoder(bytes.NewReader(data)), keep: keep}
	w.dec.UseNumber()
	if len(bytes.TrimSpace(data)) == 0 {
		return []Problem{{File: file, Line: 1, Column: 1, Msg: "the file is empty", Hint: `a config file is a JSON object, e.g. {"version": 1}`}}, nil
	}
	if err := w.value(t, ""); err != nil {
		return append(w.probs, w.syntax(err)), nil
	}
	if _, err := w.dec.Token(); err != io.EOF {
		line, col := position(data, w.next())
		w.probs = append(w.probs, Problem{File: file, Line: line, Column: col, Msg: "unexpected data after the top-level object", Hint: "a config file holds exactly one JSON object"})
	}
	return w.probs, w.strings
}

func (w *walker) syntax(err error) Problem {
	p := Problem{File: w.file, Msg: "syntax error: " + err.Error(), Hint: "check for a missing or extra comma, quote or bracket just before this point"}
	offset := int(w.dec.InputOffset())
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		offset = int(syn.Offset)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		p.Msg = "the file ends early"
		p.Hint = "an object or array is not closed"
		offset = len(w.data)
	}
	p.Line, p.Column = position(w.data, offset)
	return p
}

// next is the offset of the next value: after the decoder's position,
// skipping white space and the separators it has not consumed yet.
func (w *walker) next() int {
	i := int(w.dec.InputOffset())
	for i < len(w.data) {
		switch w.data[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
			i++
			continue
		}
		break
	}
	return i
}

func (w *walker) problem(offset int, path, hint, format string, args ...any) {
	line, col := position(w.data, offset)
	w.probs = append(w.probs, Problem{File: w.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// value consumes one JSON value, checking it against t.
func (w *walker) value(t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	start := w.next()
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // null leaves the Go value at its zero
		return nil
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return w.skip(tok)
	}
	want, got := kindName(t), tokenKind(tok)
	if want != got && !(want == "integer" && got == "number") {
		w.problem(start, path, "", "must be %s, not %s", want, got)
		return w.skip(tok)
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.object(path, func(key string) (reflect.Type, string, string) {
			f, ok := fieldByTag(t, key)
			if !ok {
				return nil, fmt.Sprintf("unknown key %q", key), suggest(key, jsonKeys(t))
			}
			return f.Type, "", ""
		})
	case reflect.Map:
		return w.object(path, func(string) (reflect.Type, string, string) { return t.Elem(), "", "" })
	case reflect.Slice:
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := w.dec.Token() // ]
		return err
	case reflect.Int, reflect.Int64, reflect.Int32:
		n := tok.(json.Number)
		if _, err := n.Int64(); err != nil {
			w.problem(start, path, "", "must be a whole number, not %s", n)
		}
	case reflect.String:
		if w.keep != nil && w.keep(path) {
			w.strings = append(w.strings, span{path: path, start: start, end: int(w.dec.InputOffset()), value: tok.(string)})
		}
	}
	return nil
}

// object walks the members of an object whose '{' was read; member says
// what type a key holds, or why it is not allowed.
func (w *walker) object(path string, member func(key string) (reflect.Type, string, string)) error {
	seen := map[string]bool{}
	for w.dec.More() {
		start := w.next()
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		if seen[key] {
			w.problem(start, sub, "remove one of the two; JSON parsers disagree about which wins", "duplicate key %q", key)
		}
		seen[key] = true
		t, msg, hint := member(key)
		if t == nil {
			w.problem(start, path, hint, "%s", msg)
			t = reflect.TypeFor[any]()
		}
		if err := w.value(t, sub); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

// skip consumes the rest of a value whose first token was read.
func (w *walker) skip(tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
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

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case bool:
		return "true or false"
	case json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", tok)
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
