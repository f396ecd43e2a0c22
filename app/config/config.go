// Package config loads Ticketray's JSON configuration (contract version 1).
// Unknown keys are errors: a typo pushed to a fleet must never be silent.
//
// One validation serves every caller (Check for one file, LoadLayers and
// ValidateLayers for the layered config): it reports every problem at
// once, each with its file, line and column. A problem inside one
// connection (Problem.Connection) misconfigures only that connection: the
// layered config still loads, and only that connection's deliveries wait
// (Loaded.ConnectionProblems). Any other error rejects the whole config.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
	_ "github.com/ticketray/ticketray/connectors/all" // the registry: Validate applies each vendor's rules
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
	// SyncInterval is how often delivered tickets' status is read back
	// while online, as a Go duration ("5m"); "off" never polls (webhooks
	// only). Empty: every 5 minutes.
	SyncInterval string `json:"syncInterval,omitempty"`
	// AllowScreenshots lets users attach a screenshot of their screen
	// (nil: allowed; IT sets false to forbid it).
	AllowScreenshots *bool `json:"allowScreenshots,omitempty"`
	// Autostart, when set, forces starting the tray at login on (true) or
	// off (false); nil leaves the choice to the user. Lock
	// "policy.autostart" so the user's file cannot override it.
	Autostart *bool `json:"autostart,omitempty"`
}

// ScreenshotsAllowed says whether users may attach a screenshot.
func (p Policy) ScreenshotsAllowed() bool { return p.AllowScreenshots == nil || *p.AllowScreenshots }

// DefaultSyncInterval is how often status is polled when the policy says
// nothing.
const DefaultSyncInterval = 5 * time.Minute

// SyncEvery is the poll interval, or 0 when polling is off.
func (p Policy) SyncEvery() time.Duration {
	switch p.SyncInterval {
	case "":
		return DefaultSyncInterval
	case "off":
		return 0
	}
	d, err := time.ParseDuration(p.SyncInterval)
	if err != nil {
		return DefaultSyncInterval // validation refused it; never poll in a loop
	}
	return d
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

// Severities of a Problem.
const (
	// SeverityError: the value cannot be used. A problem inside one
	// connection (Problem.Connection is set) stops only that connection;
	// any other rejects the whole config.
	SeverityError = "error"
	// SeverityWarning: the config works, perhaps not as meant.
	SeverityWarning = "warning"
)

// Problem is one error (or warning) in a config file, located by line and
// column (0 when the file cannot show it) and by JSON path.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Path   string `json:"path,omitempty"` // e.g. connections[0].baseUrl, the index in File
	// Connection names the connection the problem is inside: only that
	// connection is misconfigured, every other one keeps delivering.
	Connection string `json:"connection,omitempty"`
	Severity   string `json:"severity"` // SeverityError or SeverityWarning
	Msg        string `json:"message"`
	Hint       string `json:"hint,omitempty"`
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

// IsError reports whether p has error severity.
func (p Problem) IsError() bool { return p.Severity != SeverityWarning }

// HasErrors reports whether any problem has error severity.
func HasErrors(probs []Problem) bool { return slices.ContainsFunc(probs, Problem.IsError) }

// rejects reports whether a problem stops the whole config: an error
// outside any connection.
func (p Problem) rejects() bool { return p.IsError() && p.Connection == "" }

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
// errors. It fails with every error-severity problem (see Check), the
// connections' included: it is for files that must be right as a whole,
// such as one about to be signed.
func Parse(file string, data []byte) (*Config, error) {
	return strict(Check(file, data, CheckOptions{}))
}

// ParseFragment is Parse for a drop-in (a config.d file), which may leave
// out version; its values are validated as if it were the whole config.
func ParseFragment(file string, data []byte) (*Config, error) {
	return strict(Check(file, data, CheckOptions{Fragment: true}))
}

func strict(c *Config, probs []Problem) (*Config, error) {
	var errs []Problem
	for _, p := range probs {
		if p.IsError() {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{errs}
	}
	return c, nil
}

// CheckOptions tune Check.
type CheckOptions struct {
	// Fragment: the file is a drop-in (config.d) and may leave out version.
	Fragment bool
	// Resolve, when set, checks that an env: or keyring: secret reference
	// resolves on this machine. A file checked on its own may be meant for
	// another machine, so one that does not resolve is a warning.
	Resolve func(ref string) error
	// Locked maps the keys managed files lock to the file that locks each
	// (LoadOptions.LocksOver): the values the file sets for them get the
	// warning the layered config gives.
	Locked map[string]string
}

// Check validates one file on its own, the way every layer is validated,
// and returns every problem at once, located by line and column: the
// shape (unknown keys, duplicate keys, wrong types), then the values of
// everything that could be read. The config is nil only when the file is
// not a JSON object.
func Check(file string, data []byte, o CheckOptions) (*Config, []Problem) {
	p := parseLayer(file, data, o.Fragment)
	probs := p.probs
	if p.cfg != nil {
		sem := p.cfg.validate(file)
		sem = append(sem, p.cfg.secretProblems(file, o.Resolve, SeverityWarning)...)
		sem = append(sem, literalClientSecrets(file, p.cfg, SeverityWarning)...)
		sem = append(sem, literalWebhookSecrets(file, p.cfg, SeverityWarning)...)
		probs = append(probs, p.undropped(sem)...)
		if len(o.Locked) > 0 && len(p.clean) > 0 {
			var raw map[string]json.RawMessage
			if json.Unmarshal(p.clean, &raw) == nil {
				m := newMerger()
				m.locked = o.Locked
				probs = append(probs, m.apply(&layer{info: LayerInfo{Path: file, Kind: KindUser}, raw: raw})...)
			}
		}
	}
	p.locate(probs)
	return p.cfg, finish(probs)
}

// secretField reports whether a path names a credential secret.
func secretField(path string) bool {
	_, field, ok := strings.Cut(path, ".credentials.")
	return ok && strings.HasPrefix(path, "connections[") && slices.Contains(SecretFields, field)
}

// SecretFields are the credential fields that hold secret references.
var SecretFields = []string{"password", "apiToken", "token", "clientSecret", "refreshToken"}

// parsed is one file read for validation.
type parsed struct {
	file string
	text []byte  // the file (migrated to Version), which positions refer to
	cfg  *Config // nil when the file could not be decoded
	// clean is the document without the values that failed the shape
	// check, which cfg was decoded from.
	clean   []byte
	tree    *jval // nil on a syntax error
	spans   []span
	dropped map[string]bool
	probs   []Problem
}

// parseLayer checks one file's shape (every problem, located), migrates
// older versions, and decodes what fits. A fragment (a config.d drop-in)
// may leave out version. It also keeps the credential secret strings with
// their byte spans.
func parseLayer(file string, data []byte, fragment bool) *parsed {
	p := &parsed{file: file}
	data, probs := migrate(file, data)
	if len(probs) > 0 {
		p.probs = probs
		return p
	}
	p.text = data
	root, syn := parseTree(file, data)
	if syn != nil {
		p.probs = []Problem{*syn}
		return p
	}
	p.tree = root
	s := checkShape(file, data, root, reflect.TypeFor[Config](), secretField)
	p.probs, p.spans, p.dropped = s.probs, s.strings, s.dropped
	if s.out.Len() == 0 {
		return p // not an object
	}
	p.clean = s.out.Bytes()
	var c Config
	dec := json.NewDecoder(bytes.NewReader(p.clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// The walk found nothing, so this is a value the walk cannot see.
		p.probs = append(p.probs, Problem{File: file, Msg: err.Error()})
		return p
	}
	if c.Version == 0 && fragment {
		c.Version = Version
	}
	p.cfg = &c
	for i := range p.probs {
		p.probs[i].Connection = c.connectionAt(p.probs[i].Path)
	}
	return p
}

var connPathRE = regexp.MustCompile(`^connections\[(\d+)\]`)

// connectionAt names the connection a path is inside, or "" when it is
// in none, or in one without a name (which cannot be told apart).
func (c *Config) connectionAt(path string) string {
	m := connPathRE.FindStringSubmatch(path)
	if m == nil {
		return ""
	}
	i, _ := strconv.Atoi(m[1])
	if i < len(c.Connections) {
		return c.Connections[i].Name
	}
	return ""
}

// undropped leaves out the problems at or under a value the shape check
// dropped: they would repeat its problem.
func (p *parsed) undropped(probs []Problem) []Problem {
	out := probs[:0:0]
	for _, pr := range probs {
		if !p.droppedPath(pr.Path) {
			out = append(out, pr)
		}
	}
	return out
}

func (p *parsed) droppedPath(path string) bool {
	for d := range p.dropped {
		if path == d || strings.HasPrefix(path, d+".") || strings.HasPrefix(path, d+"[") {
			return true
		}
	}
	return false
}

// locate gives the problems in p's file without a line the line and
// column of their path (the innermost enclosing value that is there).
func (p *parsed) locate(probs []Problem) {
	if p == nil || p.tree == nil {
		return
	}
	for i := range probs {
		pr := &probs[i]
		if pr.File == p.file && pr.Line == 0 && pr.Path != "" {
			pr.Line, pr.Column = position(p.text, locate(p.tree, pr.Path))
		}
	}
}

// finish marks problems without a severity as errors and sorts them by
// file (in the order the files came) and position.
func finish(probs []Problem) []Problem {
	order := map[string]int{}
	for i := range probs {
		if probs[i].Severity == "" {
			probs[i].Severity = SeverityError
		}
		if _, ok := order[probs[i].File]; !ok {
			order[probs[i].File] = len(order)
		}
	}
	slices.SortStableFunc(probs, func(a, b Problem) int {
		if d := order[a.File] - order[b.File]; d != 0 {
			return d
		}
		if d := a.Line - b.Line; d != 0 {
			return d
		}
		return a.Column - b.Column
	})
	return probs
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

// duplicates reports connections and skills that repeat a name or id in
// one file; the merge keeps only the last of them, so they are errors of
// the whole config.
func (c *Config) duplicates(file string) []Problem {
	var probs []Problem
	seen := map[string]bool{}
	for i, conn := range c.Connections {
		if seen[conn.Name] && conn.Name != "" {
			probs = append(probs, Problem{File: file, Path: fmt.Sprintf("connections[%d].name", i), Msg: fmt.Sprintf("duplicates an earlier connection's name %q", conn.Name)})
		}
		seen[conn.Name] = true
	}
	ids := map[string]bool{}
	for i, s := range c.Skills {
		if s.ID != "" && ids[s.ID] {
			probs = append(probs, Problem{File: file, Path: fmt.Sprintf("skills[%d].id", i), Msg: fmt.Sprintf("duplicates an earlier skill id %q", s.ID)})
		}
		ids[s.ID] = true
	}
	return probs
}

// validate checks the values of a decoded config: the one semantic
// validation, for a file on its own and for the merged layers alike.
// MaxConnectionName is the longest connection name, in characters.
const MaxConnectionName = 100

func (c *Config) validate(file string) []Problem {
	probs := c.duplicates(file)
	add := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Version != Version {
		add("version", "must be %d (this Ticketray reads contract version %d)", Version, Version)
	}
	for i, cat := range c.Categories {
		if strings.TrimSpace(cat) == "" || len(cat) > connectors.MaxCategory {
			add(fmt.Sprintf("categories[%d]", i), "must be 1 to %d characters", connectors.MaxCategory)
		}
	}
	for i := range c.Connections {
		conn := &c.Connections[i]
		base := fmt.Sprintf("connections[%d]", i)
		// The connection's own problems stop only it.
		in := func(field, msg string) {
			probs = append(probs, Problem{File: file, Path: base + "." + field, Connection: conn.Name, Msg: msg})
		}
		for _, fe := range conn.Validate() {
			in(fe.Field, fe.Msg)
		}
		// The name is typed in commands, shown in every window and part of
		// keyring item names (which file keyrings make file names).
		if n := utf8.RuneCountInString(conn.Name); n > MaxConnectionName {
			in("name", fmt.Sprintf("is %d characters; at most %d", n, MaxConnectionName))
		}
		if strings.ContainsFunc(conn.Name, unicode.IsControl) {
			in("name", "must not hold control characters (tabs, line breaks, escapes)")
		}
		for _, kind := range []string{"priority", "category"} {
			for _, rp := range checkRows(kind, conn.Mappings[kind], c.Categories) {
				in("mappings."+kind+"."+rp.key, rp.msg)
			}
		}
	}
	for i, s := range c.Skills {
		base := fmt.Sprintf("skills[%d]", i)
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
	if v := c.Policy.SyncInterval; v != "" && v != "off" {
		if d, err := time.ParseDuration(v); err != nil || d < time.Minute || d > 24*time.Hour {
			add("policy.syncInterval", `must be a duration between 1m and 24h (such as "5m"), or "off"`)
		}
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
	return append(probs, lockProblems(file, c.Locked)...)
}

// lockProblems checks a file's "locked" list.
func lockProblems(file string, locked []string) []Problem {
	var probs []Problem
	for i, l := range locked {
		if !lockable(l) {
			probs = append(probs, Problem{File: file, Path: fmt.Sprintf("locked[%d]", i),
				Msg: fmt.Sprintf("%q is not a key that can be locked (lockable: %s)", l, strings.Join(Lockable(), ", "))})
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
