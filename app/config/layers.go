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
	Sources  map[string]string
	Layers   []LayerInfo
	Warnings []Problem
}

// BuiltIn names the source of values no file set.
const BuiltIn = "(built-in default)"

// LoadLayers reads, verifies, merges and validates every layer, and
// reports every problem of every file at once.
func LoadLayers(o LoadOptions) (*Loaded, error) {
	// Taken before reading: a file that changes during the load makes the
	// watcher load again, rather than the change going unseen.
	before := o.Fingerprint()
	files, err := o.files()
	if err != nil {
		return nil, err
	}
	out := &Loaded{Sources: map[string]string{}, Fingerprint: before}
	defer func() {
		if len(out.Warnings) > 0 && strings.Contains(fmt.Sprint(out.Warnings), "rewrote the file") {
			out.Fingerprint = o.Fingerprint() // our own rewrite is not a change
		}
	}()
	if len(files) == 0 {
		out.Config = Default()
		out.Sources["/"] = BuiltIn
		return out, nil
	}
	pub, err := o.publicKey()
	if err != nil {
		return nil, err
	}
	var probs []Problem
	var layers []*layer
	for _, f := range files {
		l, p := readLayer(f, pub, o.Secrets, &out.Warnings)
		probs = append(probs, p...)
		if l != nil {
			layers = append(layers, l)
			out.Layers = append(out.Layers, l.info)
		}
	}
	if len(probs) > 0 {
		return nil, &Error{probs}
	}
	m := newMerger()
	for _, l := range layers { // locks first: they bind the user layer
		if l.info.Kind == KindManaged {
			for _, k := range l.cfg.Locked {
				if _, ok := m.locked[k]; !ok {
					m.locked[k] = l.info.Path
				}
			}
		}
	}
	for _, l := range layers {
		out.Warnings = append(out.Warnings, m.apply(l)...)
	}
	cfg, probs := m.result()
	if len(probs) > 0 {
		return nil, &Error{probs}
	}
	out.Config = cfg
	out.Sources = m.src
	return out, nil
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
	cfg  *Config
	raw  map[string]json.RawMessage
}

// readLayer reads, verifies and checks one file.
func readLayer(f layerFile, pub ed25519.PublicKey, secrets func() (SecretStore, error), warnings *[]Problem) (*layer, []Problem) {
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
	c, spans, probs := parseLayer(f.path, data, f.fragment)
	if len(probs) > 0 {
		return nil, probs
	}
	if !f.fragment && c.Version != Version {
		return nil, []Problem{{File: f.path, Path: "version", Msg: fmt.Sprintf("must be %d (this Ticketray reads contract version %d)", Version, Version)}}
	}
	if f.kind != KindManaged && len(c.Locked) > 0 {
		*warnings = append(*warnings, Problem{File: f.path, Path: "locked", Msg: "ignored: only managed files can lock keys"})
		c.Locked = nil
	}
	literal := literalSpans(spans)
	if len(literal) > 0 && f.migrate && secrets != nil {
		moved, err := migrateSecrets(f.path, data, c, literal, secrets)
		if err != nil {
			*warnings = append(*warnings, Problem{File: f.path, Msg: "literal secrets stay in the file: " + err.Error(), Hint: "use env: or keyring: references"})
		} else {
			*warnings = append(*warnings, Problem{File: f.path, Msg: fmt.Sprintf("moved %d literal secret(s) into the keyring and rewrote the file with keyring: references (%s)", len(moved), strings.Join(moved, ", "))})
			if data, err = os.ReadFile(f.path); err == nil {
				if c2, spans2, p := parseLayer(f.path, data, f.fragment); len(p) == 0 {
					c, literal = c2, literalSpans(spans2)
				}
			}
		}
	}
	if len(literal) > 0 {
		if w := worldReadable(f.path); w != "" {
			*warnings = append(*warnings, Problem{File: f.path, Msg: w, Hint: "chmod 600 the file, or replace literal secrets with env: or keyring: references"})
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, []Problem{{File: f.path, Msg: err.Error()}}
	}
	delete(raw, "version")
	return &layer{info: info, cfg: c, raw: raw}, nil
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
			warns = append(warns, Problem{File: l.info.Path, Path: key, Msg: "ignored: this key is locked by " + by, Hint: "ask IT to change it there, or remove it from your file"})
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

// result decodes and validates the merged document; problems name the
// file each offending value came from.
func (m *merger) result() (*Config, []Problem) {
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
	probs := c.validate("")
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
		member, _, _ = strings.Cut(member, "[")
		if s := m.src[pointer(top, member)]; s != "" {
			p.File = s
		} else if s := m.src[pointer(top)]; s != "" {
			p.File = s
		}
	}
	return &c, probs
}
