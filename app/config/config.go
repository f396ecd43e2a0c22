// Package config loads Ticketray's JSON configuration (contract version 1).
// Unknown keys are errors: a typo pushed to a fleet must never be silent.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

// Connection is one configured endpoint (connectors.Connection).
type Connection = connectors.Connection

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
	// Policy is the drain policy.
	Policy Policy `json:"policy,omitzero"`
	// Branding is what the tray shows of the organisation.
	Branding Branding `json:"branding,omitzero"`
	// Locked lists the keys a managed file fixes: the user's file and
	// --config cannot change them. Only managed files may set it.
	Locked []string `json:"locked,omitempty"`
}

// Policy is the drain policy.
type Policy struct {
	// MaxAttempts caps the attempts of a delivery for connections that
	// set no maxRetries of their own (0: the built-in default).
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// RetentionDays is how long delivered tickets are kept (0: 30 days).
	RetentionDays int `json:"retentionDays,omitempty"`
}

// Retention is RetentionDays as a duration, or def when unset.
func (p Policy) Retention(def time.Duration) time.Duration {
	if p.RetentionDays <= 0 {
		return def
	}
	return time.Duration(p.RetentionDays) * 24 * time.Hour
}

// Branding is the organisation's name for the app and its help desk.
type Branding struct {
	AppName        string `json:"appName,omitempty"`
	SupportContact string `json:"supportContact,omitempty"`
	SupportURL     string `json:"supportUrl,omitempty"`
	// Icon is an absolute path to a PNG or SVG file.
	Icon string `json:"icon,omitempty"`
}

// Default is the configuration used when no file exists: a local queue
// with no connections, which tickets wait in until IT configures one.
func Default() *Config {
	return &Config{Version: Version, Categories: []string{"Network", "Hardware", "Software", "Access", "Other"}}
}

// Problem is one error (or warning) in a config file, located by line and
// column or by JSON path.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"` // 0 when only Path is known
	Column int    `json:"column,omitempty"`
	Path   string `json:"path,omitempty"` // e.g. connections[0].baseUrl
	Msg    string `json:"message"`
	Hint   string `json:"hint,omitempty"`
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += fmt.Sprintf(":%d:%d", p.Line, p.Column)
	}
	s := loc + ": " + p.Msg
	if p.Path != "" {
		s = loc + ": " + p.Path + ": " + p.Msg
	}
	if p.Hint != "" {
		s += " (hint: " + p.Hint + ")"
	}
	return s
}

// Error lists every problem found.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid config:\n  " + strings.Join(lines, "\n  ")
}

// Load reads and validates one whole config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates one whole config file, naming it file in
// errors. Every unknown key, wrong type and invalid value is reported.
func Parse(file string, data []byte) (*Config, error) {
	c, _, probs := parseLayer(file, data, false)
	if len(probs) > 0 {
		return nil, &Error{probs}
	}
	if probs := c.validate(file); len(probs) > 0 {
		return nil, &Error{probs}
	}
	return c, nil
}

// ParseFragment checks a drop-in (a config.d file), which may leave out
// version; its values are validated as if it were the whole config.
func ParseFragment(file string, data []byte) (*Config, error) {
	c, _, probs := parseLayer(file, data, true)
	if len(probs) > 0 {
		return nil, &Error{probs}
	}
	if probs := c.validate(file); len(probs) > 0 {
		return nil, &Error{probs}
	}
	return c, nil
}

// secretField reports whether a path names a credential secret.
func secretField(path string) bool {
	_, field, ok := strings.Cut(path, ".credentials.")
	return ok && strings.HasPrefix(path, "connections[") && slices.Contains(SecretFields, field)
}

// SecretFields are the credential fields that hold secret references.
var SecretFields = []string{"password", "apiToken", "token", "clientSecret", "refreshToken"}

// parseLayer checks one file's shape (every problem, located), migrates
// older versions, and decodes it strictly. A fragment (a config.d
// drop-in) may leave out version. It also returns the credential secret
// strings with their byte spans.
func parseLayer(file string, data []byte, fragment bool) (*Config, []span, []Problem) {
	data, probs := migrate(file, data)
	if len(probs) > 0 {
		return nil, nil, probs
	}
	probs, spans := checkShape(file, data, reflect.TypeFor[Config](), secretField)
	if len(probs) > 0 {
		return nil, nil, probs
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// The walk found nothing, so this is a value the walk cannot see
		// (e.g. a number out of range).
		line, col := position(data, int(dec.InputOffset()))
		return nil, nil, []Problem{{File: file, Line: line, Column: col, Msg: err.Error()}}
	}
	if c.Version == 0 && fragment {
		c.Version = Version
	}
	return &c, spans, nil
}

// migrations[n] rewrites a version-n document (its top-level members) into
// version n+1. Version 1 is the first contract, so there are none yet; a
// later contract adds its step here and the loader runs the chain.
var migrations = map[int]func(doc map[string]json.RawMessage) error{}

// migrate brings an older document up to Version. Positions in problems
// refer to the migrated text for migrated files.
func migrate(file string, data []byte) ([]byte, []Problem) {
	var head struct {
		Version json.RawMessage `json:"version"`
	}
	if json.Unmarshal(data, &head) != nil {
		return data, nil // the shape check reports it
	}
	var v int
	if json.Unmarshal(head.Version, &v) != nil || v == Version || v == 0 {
		return data, nil
	}
	if v > Version {
		return nil, []Problem{{File: file, Path: "version", Msg: fmt.Sprintf("must be %d: this file is for a newer Ticketray (contract version %d)", Version, v), Hint: "upgrade Ticketray, or write the file for contract version 1"}}
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return data, nil
	}
	for ; v < Version; v++ {
		step, ok := migrations[v]
		if !ok {
			return nil, []Problem{{File: file, Path: "version", Msg: fmt.Sprintf("must be %d (this Ticketray reads contract version %d and cannot migrate version %d)", Version, Version, v)}}
		}
		if err := step(doc); err != nil {
			return nil, []Problem{{File: file, Path: "version", Msg: fmt.Sprintf("migrating from version %d: %v", v, err)}}
		}
	}
	doc["version"] = json.RawMessage(strconv.Itoa(Version))
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, []Problem{{File: file, Msg: fmt.Sprintf("migrating: %v", err)}}
	}
	return out, nil
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
	if c.Policy.MaxAttempts < 0 || c.Policy.MaxAttempts > 100 {
		add("policy.maxAttempts", "must be between 1 and 100 (0 or absent: the built-in default)")
	}
	if c.Policy.RetentionDays < 0 || c.Policy.RetentionDays > 3650 {
		add("policy.retentionDays", "must be between 1 and 3650 (0 or absent: 30 days)")
	}
	b := c.Branding
	if len(b.AppName) > 64 || (b.AppName != "" && strings.TrimSpace(b.AppName) == "") {
		add("branding.appName", "must be 1 to 64 characters")
	}
	if len(b.SupportContact) > 200 {
		add("branding.supportContact", "must be at most 200 characters")
	}
	if b.SupportURL != "" {
		if u, err := url.Parse(b.SupportURL); err != nil || (u.Scheme != "https" && u.Scheme != "mailto") || (u.Scheme == "https" && u.Host == "") {
			add("branding.supportUrl", "must be an https: or mailto: URL")
		}
	}
	if b.Icon != "" {
		ext := strings.ToLower(filepath.Ext(b.Icon))
		if !filepath.IsAbs(b.Icon) && !windowsAbs(b.Icon) || (ext != ".png" && ext != ".svg") {
			add("branding.icon", "must be an absolute path to a .png or .svg file")
		}
	}
	for i, l := range c.Locked {
		if !lockable(l) {
			add(fmt.Sprintf("locked[%d]", i), "%q is not a key that can be locked (lockable: %s)", l, strings.Join(Lockable(), ", "))
		}
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
