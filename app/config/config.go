// Package config loads Ticketray's JSON configuration (contract version 1).
// Unknown keys are errors: a typo pushed to a fleet must never be silent.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

// Version is the config contract version this build reads.
const Version = 1

// Config is the whole configuration.
type Config struct {
	Version     int                     `json:"version"`
	Categories  []string                `json:"categories,omitempty"`
	Connections []connectors.Connection `json:"connections"`
	Skills      []diagnostics.SkillSpec `json:"skills"`
	// Redaction drops or hashes system-information fields before they
	// enter a ticket; diagnostics.RedactionFields lists the paths.
	Redaction diagnostics.Redaction `json:"redaction,omitzero"`
}

// Default is the configuration used when no file exists: a local queue
// with no connections, which tickets wait in until IT configures one.
func Default() *Config {
	return &Config{Version: Version, Categories: []string{"Network", "Hardware", "Software", "Access", "Other"}}
}

// Problem is one error in a config file, located by line and column or by
// JSON path.
type Problem struct {
	File   string
	Line   int // 0 when only Path is known
	Column int
	Path   string // e.g. connections[0].baseUrl
	Msg    string
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += fmt.Sprintf(":%d:%d", p.Line, p.Column)
	}
	if p.Path != "" {
		return loc + ": " + p.Path + ": " + p.Msg
	}
	return loc + ": " + p.Msg
}

// Error lists every problem found in a file.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid config:\n  " + strings.Join(lines, "\n  ")
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates data, naming it file in errors.
func Parse(file string, data []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, &Error{[]Problem{decodeProblem(file, data, dec, err)}}
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(data, int(dec.InputOffset()))
		return nil, &Error{[]Problem{{File: file, Line: line, Column: col, Msg: "unexpected data after the top-level object"}}}
	}
	if probs := c.validate(file); len(probs) > 0 {
		return nil, &Error{probs}
	}
	return &c, nil
}

func decodeProblem(file string, data []byte, dec *json.Decoder, err error) Problem {
	p := Problem{File: file, Msg: err.Error()}
	offset := int(dec.InputOffset())
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = int(syn.Offset)
		p.Msg = "syntax error: " + syn.Error()
	case errors.As(err, &typ):
		offset = int(typ.Offset)
		p.Path = typ.Field
		p.Msg = fmt.Sprintf("must be %s, not %s", typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key := strings.TrimPrefix(err.Error(), "json: unknown field ")
		p.Msg = "unknown key " + key + " (check its spelling against the contract)"
		// The decoder reports the end of the enclosing object; point at the
		// key itself, at its first occurrence at or before that.
		if i := bytes.LastIndex(data[:min(offset, len(data))], []byte(key)); i >= 0 {
			offset = i
		}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		p.Msg = "the file is empty or ends early"
	}
	p.Line, p.Column = position(data, offset)
	return p
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, offset int) (int, int) {
	if offset > len(data) {
		offset = len(data)
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

func (c *Config) validate(file string) []Problem {
	var probs []Problem
	add := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Version != Version {
		add("version", "must be %d (this Ticketray reads contract version %d)", Version, Version)
	}
	seen := map[string]bool{}
	for i, cat := range c.Categories {
		if strings.TrimSpace(cat) == "" || len(cat) > connectors.MaxCategory {
			add(fmt.Sprintf("categories[%d]", i), "must be 1 to %d characters", connectors.MaxCategory)
		}
	}
	for i := range c.Connections {
		conn := &c.Connections[i]
		base := fmt.Sprintf("connections[%d]", i)
		if seen[conn.Name] && conn.Name != "" {
			add(base+".name", "duplicates an earlier connection's name %q", conn.Name)
		}
		seen[conn.Name] = true
		for _, fe := range conn.Validate() {
			add(base+"."+fe.Field, "%s", fe.Msg)
		}
	}
	ids := map[string]bool{}
	for i, s := range c.Skills {
		base := fmt.Sprintf("skills[%d]", i)
		if s.ID != "" && ids[s.ID] {
			add(base+".id", "duplicates an earlier skill id %q", s.ID)
		}
		ids[s.ID] = true
		for _, p := range s.Problems() {
			add(base+"."+p.Field, "%s", p.Msg)
		}
	}
	for _, p := range c.Redaction.Problems() {
		add("redaction."+p.Field, "%s", p.Msg)
	}
	return probs
}

// Enabled returns the connections that take deliveries.
func (c *Config) Enabled() []connectors.Connection {
	var out []connectors.Connection
	for _, conn := range c.Connections {
		if conn.IsEnabled() {
			out = append(out, conn)
		}
	}
	return out
}
