package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Layers, lowest precedence first:
//
//  1. the user layer: --config FILE if given, else the user's file
//     (os.UserConfigDir()/ticketray/config.json) if it exists;
//  2. the managed layers: ManagedDir/config.json, then every
//     ManagedDir/config.d/*.json in lexical order (drop-ins, which may
//     leave out "version").
//
// --config stands in for the user's file rather than adding a layer above
// it, so a scripted or test run does not depend on a personal file; the
// managed layers still apply, so --config cannot get around IT's locks.
//
// Merging, layer by layer, a later layer over an earlier one:
//   - objects (redaction, policy, branding) merge by key: a layer replaces
//     only the members it sets;
//   - connections merge by name and skills by id: an entry replaces the
//     earlier entry of the same name whole, a new name is appended;
//   - everything else (categories, arrays inside objects) is replaced.
//
// Managed layers apply after the user layer, so they win for every key
// they set. "locked" (managed files only) lists top-level keys, or
// object members as "policy.retentionDays": the user layer's value for a
// locked key is ignored, with a warning naming the file that locked it.
// A locked key the managed files do not set keeps its built-in value.

// Layer kinds.
const (
	KindManaged = "managed"
	KindUser    = "user"
)

// EnvManagedDir overrides the managed directory. It is for tests and
// packaging checks; fleets use the platform's directory.
const EnvManagedDir = "TICKETRAY_MANAGED_DIR"

// DefaultManagedDir is the platform's directory for files IT manages.
func DefaultManagedDir(goos string, getenv func(string) string) string {
	switch goos {
	case "windows":
		base := getenv("ProgramData")
		if base == "" {
			base = `C:\ProgramData`
		}
		return filepath.Join(base, "Ticketray")
	case "darwin":
		return "/Library/Application Support/Ticketray"
	}
	return "/etc/ticketray"
}

// UserFile is the user's config file, whether or not it exists.
func UserFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: user config dir: %w", err)
	}
	return filepath.Join(dir, "ticketray", "config.json"), nil
}

// LoadOptions say where the layers are.
type LoadOptions struct {
	ManagedDir string // "" means no managed layers
	UserFile   string // the user's file; a missing one is skipped
	ConfigFile string // --config: replaces UserFile, and must exist
	// PublicKey pins the key managed files must be signed with. Nil means
	// PinnedPublicKey (build time), then ManagedDir/config.pub, then none.
	PublicKey ed25519.PublicKey
	// Secrets, when set, is where literal secrets found in UserFile move
	// (the file is rewritten with keyring: references). It is called only
	// when there is something to move. ConfigFile is never rewritten.
	Secrets func() (SecretStore, error)
	// Resolve, when set, checks that an env: or keyring: secret reference
	// resolves (SecretResolver is one). This machine runs the layered
	// config, so a reference that does not resolve misconfigures its
	// connection (an error in Loaded.Problems).
	Resolve func(ref string) error
}

// LayerInfo describes one file that went into the effective config.
type LayerInfo struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Signed bool   `json:"signed,omitempty"` // its signature was verified
}

// Loaded is the effective config with where each part came from.
type Loaded struct {
	Config *Config
	// Fingerprint identifies the files this config was read from (see
	// LoadOptions.Fingerprint): Watch starts from it, so a change made
	// between loading and watching is not missed.
	Fingerprint [32]byte
	// Sources maps a JSON pointer (/categories, /connections/NAME,
	// /skills/ID, /policy/retentionDays, ...) to the file that set it.
	Sources map[string]string
	Layers  []LayerInfo
	// Problems are the errors inside connections (each names its
	// Connection): those connections are misconfigured and their
	// deliveries wait; every other connection works.
	Problems []Problem
	Warnings []Problem
}

// ConnectionProblems are the errors that misconfigure connection name.
func (l *Loaded) ConnectionProblems(name string) []Problem {
	var out []Problem
	for _, p := range l.Problems {
		if p.Connection == name {
			out = append(out, p)
		}
	}
	return out
}

// Misconfigured lists the connections with problems, in config order.
func (l *Loaded) Misconfigured() []string {
	var out []string
	for _, c := range l.Config.Connections {
		if len(l.ConnectionProblems(c.Name)) > 0 {
			out = append(out, c.Name)
		}
	}
	return out
}

// BuiltIn names the source of values no file set.
const BuiltIn = "(built-in default)"

// LoadLayers reads, verifies, merges and validates every layer. It fails
// with a *Error listing every error when one of them rejects the whole
// config (syntax, an unsigned file under a pinned key, a bad global value,
// ...); errors inside connections leave those connections in the config,
// listed in Loaded.Problems.
func LoadLayers(o LoadOptions) (*Loaded, error) {
	l, probs, err := load(o)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(probs, Problem.rejects) {
		return nil, &Error{slices.DeleteFunc(probs, func(p Problem) bool { return !p.IsError() })}
	}
	return l, nil
}

// ValidateLayers is LoadLayers for `config validate`: every problem of
// every layer, errors and warnings, located and sorted. Its error is for
// what is not a problem of a file (an unreadable pinned key). Leave
// o.Secrets nil: validating rewrites nothing.
func ValidateLayers(o LoadOptions) ([]Problem, error) {
	_, probs, err := load(o)
	return probs, err
}

// load reads and validates every layer and merges what it can.
func load(o LoadOptions) (*Loaded, []Problem, error) {
	// Taken before reading: a file that changes during the load makes the
	// watcher load again, rather than the change going unseen.
	before := o.Fingerprint()
	files, err := o.files()
	if err != nil {
		return nil, nil, err
	}
	out := &Loaded{Sources: map[string]string{}, Fingerprint: before}
	if len(files) == 0 {
		out.Config = Default()
		out.Sources["/"] = BuiltIn
		return out, nil, nil
	}
	pub, err := o.publicKey()
	if err != nil {
		return nil, nil, err
	}
	layers, read, probs := readLayers(files, pub, o.Secrets)
	for _, l := range layers {
		out.Layers = append(out.Layers, l.info)
	}
	if slices.ContainsFunc(probs, func(p Problem) bool { return strings.Contains(p.Msg, "rewrote the file") }) {
		out.Fingerprint = o.Fingerprint() // our own rewrite is not a change
	}
	m := newMerger()
	cfg, merged := m.merge(layers, read, o.Resolve)
	probs = append(probs, merged...)
	// A problem in a connection entry the merge does not keep (another
	// layer's entry of that name replaces it, or IT locks connections)
	// misconfigures nothing.
	for i := range probs {
		p := &probs[i]
		if p.Connection != "" && p.IsError() {
			if src := m.src[pointer("connections", p.Connection)]; src != p.File && read[p.File] != nil {
				p.Severity = SeverityWarning
				p.Msg += " (not in force: the entry that applies is " + entryOwner(m, src) + ")"
			}
		}
	}
	for _, r := range read {
		r.locate(probs)
	}
	probs = finish(probs)
	out.Config = cfg
	out.Sources = m.src
	for _, p := range probs {
		switch {
		case !p.IsError():
			out.Warnings = append(out.Warnings, p)
		case p.Connection != "":
			out.Problems = append(out.Problems, p)
		}
	}
	return out, probs, nil
}

// readLayers reads every file: the layers that could be decoded, every
// file that could be parsed (by path), and the files' own problems.
func readLayers(files []layerFile, pub ed25519.PublicKey, secrets func() (SecretStore, error)) ([]*layer, map[string]*parsed, []Problem) {
	var probs []Problem
	var layers []*layer
	read := map[string]*parsed{}
	for _, f := range files {
		l, p := readLayer(f, pub, secrets)
		probs = append(probs, p...)
		if l != nil {
			read[f.path] = l.parsed
			if l.cfg != nil {
				layers = append(layers, l)
			}
		}
	}
	return layers, read, probs
}

// merge applies the layers, locks first, and validates the result; its
// problems are the lock warnings and the merged config's own, less those
// that repeat a shape problem of a value left out.
func (m *merger) merge(layers []*layer, read map[string]*parsed, resolve func(string) error) (*Config, []Problem) {
	for _, l := range layers { // locks first: they bind the user layer
		if l.info.Kind == KindManaged {
			for _, k := range l.cfg.Locked {
				if _, ok := m.locked[k]; !ok {
					m.locked[k] = l.info.Path
				}
			}
		}
	}
	var probs []Problem
	for _, l := range layers {
		probs = append(probs, m.apply(l)...)
	}
	cfg, merged := m.result(resolve)
	for _, p := range merged {
		if r := read[p.File]; r == nil || !r.droppedPath(p.Path) {
			probs = append(probs, p)
		}
	}
	return cfg, probs
}

// entryOwner names where the connection entry in force comes from.
func entryOwner(m *merger, src string) string {
	if src == "" {
		return "none: connections are locked by " + m.locked["connections"]
	}
	return "in " + src
}

// LocksOver maps each key the managed layers lock to the file that locks
// it, for checking file as a user's file (CheckOptions.Locked); nil when
// file is itself one of the managed layers. A managed file that cannot be
// read adds no lock: reporting it is ValidateLayers' business.
func (o LoadOptions) LocksOver(file string) map[string]string {
	files, err := o.files()
	if err != nil {
		return nil
	}
	abs, _ := filepath.Abs(file)
	locks := map[string]string{}
	for _, f := range files {
		if f.kind != KindManaged {
			continue
		}
		if p, _ := filepath.Abs(f.path); p == abs {
			return nil
		}
		var d struct{ Locked []string }
		if data, err := os.ReadFile(f.path); err == nil && json.Unmarshal(data, &d) == nil {
			for _, k := range d.Locked {
				if _, ok := locks[k]; !ok {
					locks[k] = f.path
				}
			}
		}
	}
	return locks
}

// files lists the layers in the order they apply.
func (o LoadOptions) files() ([]layerFile, error) {
	var out []layerFile
	switch {
	case o.ConfigFile != "":
		out = append(out, layerFile{path: o.ConfigFile, kind: KindUser})
	case o.UserFile != "":
		if _, err := os.Stat(o.UserFile); err == nil {
			out = append(out, layerFile{path: o.UserFile, kind: KindUser, migrate: true})
		}
	}
	if o.ManagedDir == "" {
		return out, nil
	}
	main := filepath.Join(o.ManagedDir, "config.json")
	if _, err := os.Stat(main); err == nil {
		out = append(out, layerFile{path: main, kind: KindManaged})
	}
	drop, err := filepath.Glob(filepath.Join(o.ManagedDir, "config.d", "*.json"))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	sort.Strings(drop)
	for _, p := range drop {
		out = append(out, layerFile{path: p, kind: KindManaged, fragment: true})
	}
	return out, nil
}

type layerFile struct {
	path     string
	kind     string
	fragment bool
	migrate  bool // literal secrets may move to the keyring
}

type layer struct {
	info LayerInfo
	*parsed
	raw map[string]json.RawMessage // the members that passed the shape check
}

// readLayer reads, verifies and checks one file: its problems are the
// file's own (shape, duplicates, version) and warnings. The layer is nil
// when the file cannot be read or is refused, and its config nil when it
// is not a JSON object.
func readLayer(f layerFile, pub ed25519.PublicKey, secrets func() (SecretStore, error)) (*layer, []Problem) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, []Problem{{File: f.path, Msg: "cannot read: " + errText(err)}}
	}
	info := LayerInfo{Path: f.path, Kind: f.kind}
	if f.kind == KindManaged && pub != nil {
		if err := VerifyFile(pub, f.path, data); err != nil {
			return nil, []Problem{{File: f.path, Msg: "refused: " + err.Error(),
				Hint: "a public key is pinned, so every managed file needs a valid detached signature: ticketray config sign --key PRIVATE_KEY " + f.path}}
		}
		info.Signed = true
	}
	p := parseLayer(f.path, data, f.fragment)
	l := &layer{info: info, parsed: p}
	probs := slices.Clone(p.probs)
	c := p.cfg
	if c == nil {
		return l, probs
	}
	probs = append(probs, c.duplicates(f.path)...)
	if !f.fragment && c.Version != Version {
		probs = append(probs, Problem{File: f.path, Path: "version", Msg: fmt.Sprintf("must be %d (this Ticketray reads contract version %d)", Version, Version)})
	}
	warn := func(p Problem) {
		p.Severity = SeverityWarning
		probs = append(probs, p)
	}
	if f.kind == KindManaged {
		probs = append(probs, lockProblems(f.path, c.Locked)...)
		probs = append(probs, literalClientSecrets(f.path, c, SeverityError)...)
		probs = append(probs, literalWebhookSecrets(f.path, c, SeverityError)...)
	}
	if f.kind != KindManaged && len(c.Locked) > 0 {
		warn(Problem{File: f.path, Path: "locked", Msg: "ignored: only managed files can lock keys"})
		c.Locked = nil
	}
	if f.migrate && secrets != nil && !HasErrors(p.probs) {
		probs = append(probs, l.moveLiterals(f, data, secrets)...)
	}
	if len(literalSpans(l.spans)) > 0 {
		if w := worldReadable(f.path); w != "" {
			warn(Problem{File: f.path, Msg: w, Hint: "chmod 600 the file, or replace literal secrets with env: or keyring: references"})
		}
	}
	if err := json.Unmarshal(l.clean, &l.raw); err != nil {
		return nil, append(probs, Problem{File: f.path, Msg: err.Error()})
	}
	delete(l.raw, "version")
	return l, probs
}

// moveLiterals moves the layer's literal secrets into the keyring and
// rewrites its file with keyring: references, then reads it again.
func (l *layer) moveLiterals(f layerFile, data []byte, secrets func() (SecretStore, error)) []Problem {
	literal := literalSpans(l.spans)
	if len(literal) == 0 {
		return nil
	}
	moved, err := migrateSecrets(f.path, data, l.cfg, literal, secrets)
	if err != nil {
		return []Problem{{File: f.path, Severity: SeverityWarning, Msg: "literal secrets stay in the file: " + err.Error(), Hint: "use env: or keyring: references"}}
	}
	if data, err := os.ReadFile(f.path); err == nil {
		if p := parseLayer(f.path, data, f.fragment); len(p.probs) == 0 && p.cfg != nil {
			p.cfg.Locked = l.cfg.Locked
			l.parsed = p
		}
	}
	return []Problem{{File: f.path, Severity: SeverityWarning,
		Msg: fmt.Sprintf("moved %d literal secret(s) into the keyring and rewrote the file with keyring: references (%s)", len(moved), strings.Join(moved, ", "))}}
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func worldReadable(path string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o004 == 0 {
		return ""
	}
	return fmt.Sprintf("holds literal secrets and is readable by everyone (mode %04o)", st.Mode().Perm())
}

// Object-valued keys merge by member; list keys merge by an identity.
var listIdentity = map[string]string{"connections": "name", "skills": "id"}

func objectKeys() []string {
	var keys []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if t.Field(i).Type.Kind() == reflect.Struct {
			keys = append(keys, jsonName(t.Field(i)))
		}
	}
	return keys
}

// Lockable lists what "locked" may name.
func Lockable() []string {
	var out []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "version" || name == "locked" {
			continue
		}
		out = append(out, name)
		if f.Type.Kind() == reflect.Struct {
			for _, k := range jsonKeys(f.Type) {
				out = append(out, name+"."+k)
			}
		}
	}
	return out
}

func lockable(k string) bool { return slices.Contains(Lockable(), k) }

var windowsAbsRE = regexp.MustCompile(`^(?:[A-Za-z]:[\\/]|\\\\)`)

func windowsAbs(p string) bool { return windowsAbsRE.MatchString(p) }

type named struct {
	id  string
	raw json.RawMessage
	src string
	idx int // its index in its file's list
}

type merger struct {
	top    map[string]json.RawMessage
	objs   map[string]map[string]json.RawMessage
	lists  map[string][]named
	src    map[string]string
	locked map[string]string // key → the managed file that locked it
}

func newMerger() *merger {
	return &merger{top: map[string]json.RawMessage{}, objs: map[string]map[string]json.RawMessage{},
		lists: map[string][]named{}, src: map[string]string{}, locked: map[string]string{}}
}

func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// apply merges one layer and returns warnings for locked keys it tried to
// change.
func (m *merger) apply(l *layer) []Problem {
	var warns []Problem
	user := l.info.Kind != KindManaged
	blocked := func(key string) bool {
		by, ok := m.locked[key]
		if ok && user {
			warns = append(warns, Problem{File: l.info.Path, Path: key, Severity: SeverityWarning, Msg: "ignored: this key is locked by " + by, Hint: "ask IT to change it there, or remove it from your file"})
		}
		return ok && user
	}
	keys := make([]string, 0, len(l.raw))
	for k := range l.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := l.raw[k]
		if k == "locked" {
			if !user {
				m.src[pointer(k)] = l.info.Path
			}
			continue
		}
		if blocked(k) {
			continue
		}
		switch {
		case slices.Contains(objectKeys(), k):
			var members map[string]json.RawMessage
			if json.Unmarshal(v, &members) != nil {
				continue // null: nothing set
			}
			if m.objs[k] == nil {
				m.objs[k] = map[string]json.RawMessage{}
			}
			for mk, mv := range members {
				if blocked(k + "." + mk) {
					continue
				}
				m.objs[k][mk] = mv
				m.src[pointer(k, mk)] = l.info.Path
			}
		case listIdentity[k] != "":
			var items []json.RawMessage
			if json.Unmarshal(v, &items) != nil {
				continue
			}
			for idx, it := range items {
				var id map[string]json.RawMessage
				_ = json.Unmarshal(it, &id)
				var name string
				_ = json.Unmarshal(id[listIdentity[k]], &name)
				n := named{id: name, raw: it, src: l.info.Path, idx: idx}
				if i := slices.IndexFunc(m.lists[k], func(e named) bool { return e.id == name }); i >= 0 {
					m.lists[k][i] = n
				} else {
					m.lists[k] = append(m.lists[k], n)
				}
				m.src[pointer(k, name)] = l.info.Path
			}
		default:
			m.top[k] = v
			m.src[pointer(k)] = l.info.Path
		}
	}
	return warns
}

var indexRE = regexp.MustCompile(`^(connections|skills)\[(\d+)\]`)

// result decodes and validates the merged document, and checks that its
// secret references resolve (with resolve set); problems name the file
// each offending value came from, and their paths are in that file.
func (m *merger) result(resolve func(ref string) error) (*Config, []Problem) {
	doc := map[string]any{"version": Version}
	for k, v := range m.top {
		doc[k] = v
	}
	for k, members := range m.objs {
		doc[k] = members
	}
	for k, items := range m.lists {
		raws := make([]json.RawMessage, len(items))
		for i, it := range items {
			raws[i] = it.raw
		}
		doc[k] = raws
	}
	locked := make([]string, 0, len(m.locked))
	for k := range m.locked {
		locked = append(locked, k)
	}
	sort.Strings(locked)
	if len(locked) > 0 {
		doc["locked"] = locked
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, []Problem{{File: "(merged)", Msg: err.Error()}}
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, []Problem{{File: "(merged)", Msg: err.Error()}}
	}
	// The merged "locked" is every managed file's: each file's own list
	// is checked where it is read (readLayer).
	probs := slices.DeleteFunc(c.validate(""), func(p Problem) bool { return strings.HasPrefix(p.Path, "locked[") })
	probs = append(probs, c.secretProblems("", resolve, SeverityError)...)
	for i := range probs {
		p := &probs[i]
		if sm := indexRE.FindStringSubmatch(p.Path); sm != nil {
			n, _ := strconv.Atoi(sm[2])
			if items := m.lists[sm[1]]; n < len(items) {
				p.File = items[n].src
				p.Path = fmt.Sprintf("%s[%d]", sm[1], items[n].idx) + strings.TrimPrefix(p.Path, sm[0])
			}
			continue
		}
		top, member, _ := strings.Cut(p.Path, ".")
		top, _, _ = strings.Cut(top, "[")
		member, _, _ = strings.Cut(member, "[")
		if s := m.src[pointer(top, member)]; s != "" {
			p.File = s
		} else if s := m.src[pointer(top)]; s != "" {
			p.File = s
		}
	}
	return &c, probs
}
