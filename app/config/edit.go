package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ticketray/ticketray/connectors"
)

// Editing mapping tables. The user's layer is the only one Ticketray
// writes; a table may change there only when the merge would let the
// change take effect: the connection must be the user file's own entry
// (a managed layer's entry of the same name replaces it whole, so an edit
// under it would be silently ignored) and no managed file may lock the
// key or any prefix of it. Hence a missing user file is never created:
// it cannot hold the connection, and no layer lets a user override a
// managed entry's member.

var (
	// ErrLocked is matched by a *LockedError.
	ErrLocked = errors.New("locked by IT")
	// ErrUnknownConnection means no layer defines the connection.
	ErrUnknownConnection = errors.New("no such connection")
	// ErrInvalidMapping is a table that cannot be written: no default
	// row, an empty key or value, an unknown priority, a duplicate row.
	ErrInvalidMapping = errors.New("invalid mapping table")
)

// LockedError says why the user cannot change a key.
type LockedError struct {
	Key  string `json:"key"`  // the locked key, e.g. "connections"
	File string `json:"file"` // the managed file that locks it or defines the connection
	// Managed is set when nothing is locked but the connection is a
	// managed file's entry, which replaces the user's whole.
	Managed bool `json:"managed,omitempty"`
}

func (e *LockedError) Error() string {
	if e.Managed {
		return fmt.Sprintf("connection %q is defined by the managed file %s, whose entry replaces yours whole; ask IT to change it there",
			strings.TrimPrefix(e.Key, "connections."), e.File)
	}
	return fmt.Sprintf("%q is locked by IT in %s", e.Key, e.File)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// MappingState is a connection's mapping table as the layered config has
// it, where it comes from, and whether the user may change it.
type MappingState struct {
	Connection string `json:"connection"`
	Kind       string `json:"kind"`
	// Table is the configured table; empty when the config has none (the
	// vendor's rows, or pass-through for categories, apply).
	Table    map[string]string `json:"table"`
	Source   string            `json:"source"` // the file that defines the connection
	Layer    string            `json:"layer"`  // KindUser or KindManaged
	Editable bool              `json:"editable"`
	Lock     *LockedError      `json:"lock,omitempty"`
}

// MappingChange is what an edit did.
type MappingChange struct {
	MappingState                   // after the edit
	Before       map[string]string `json:"before"`
	Changed      bool              `json:"changed"` // false: the file already held the table
}

// MappingLockKeys are the keys whose lock fixes connection conn's table
// kind, outermost first.
func MappingLockKeys(conn, kind string) []string {
	c := "connections." + conn
	return []string{"connections", c, c + ".mappings", c + ".mappings." + kind}
}

// Mapping reports connection conn's table kind. It fails for a
// connection no layer defines, with a *LockedError when IT's lock on
// "connections" hides the user's.
func (l *Loaded) Mapping(conn, kind string) (*MappingState, error) {
	i := slices.IndexFunc(l.Config.Connections, func(c Connection) bool { return c.Name == conn })
	if i < 0 {
		if key, file, ok := l.lockedBy(conn, kind); ok && key == "connections" {
			return nil, &LockedError{Key: key, File: file} // it hides the user's connections
		}
		return nil, fmt.Errorf("%w %q", ErrUnknownConnection, conn)
	}
	src := l.Sources[pointer("connections", conn)]
	st := &MappingState{Connection: conn, Kind: kind, Table: maps.Clone(l.Config.Connections[i].Mappings[kind]), Source: src, Layer: l.layerKind(src)}
	if st.Table == nil {
		st.Table = map[string]string{}
	}
	if key, file, ok := l.lockedBy(conn, kind); ok {
		st.Lock = &LockedError{Key: key, File: file}
	} else if st.Layer != KindUser {
		st.Lock = &LockedError{Key: "connections." + conn, File: src, Managed: true}
	}
	st.Editable = st.Lock == nil
	return st, nil
}

func (l *Loaded) layerKind(path string) string {
	for _, li := range l.Layers {
		if li.Path == path {
			return li.Kind
		}
	}
	return KindManaged // not a file at all: nothing the user owns
}

// lockedBy finds the outermost locked key over the table and the first
// managed file that locks it (the one the merger credits).
func (l *Loaded) lockedBy(conn, kind string) (key, file string, ok bool) {
	for _, k := range MappingLockKeys(conn, kind) {
		if !slices.Contains(l.Config.Locked, k) {
			continue
		}
		for _, li := range l.Layers {
			if li.Kind != KindManaged {
				continue
			}
			var d struct{ Locked []string }
			if data, err := os.ReadFile(li.Path); err == nil && json.Unmarshal(data, &d) == nil && slices.Contains(d.Locked, k) {
				return k, li.Path, true
			}
		}
		return k, l.Sources[pointer("locked")], true
	}
	return "", "", false
}

// SetMapping replaces connection conn's table kind in the user's layer
// (o.ConfigFile, else o.UserFile) with table; see EditMapping.
func SetMapping(o LoadOptions, conn, kind string, table map[string]string) (*MappingChange, error) {
	return EditMapping(o, conn, kind, func(map[string]string) (map[string]string, error) { return table, nil })
}

// EditMapping rewrites connection conn's table kind in the user's layer:
// edit gets a copy of the current table and returns the new one. The new
// table needs a default row. Only that table's bytes change in the file;
// the edited layers are loaded and validated before the file is replaced
// (atomically, keeping its mode), so a refused edit writes nothing. Edits
// are serialised within the process and, where the OS has flock, across
// processes, so concurrent read-modify-writes do not lose each other.
func EditMapping(o LoadOptions, conn, kind string, edit func(cur map[string]string) (map[string]string, error)) (ch *MappingChange, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("config: set mapping %s.%s: %w", conn, kind, err)
		}
	}()
	path := o.ConfigFile
	if path == "" {
		path = o.UserFile
	}
	if path == "" {
		return nil, errors.New("there is no user config file to write")
	}
	if kind == "" {
		return nil, fmt.Errorf("%w: no table kind given", ErrInvalidMapping)
	}
	o.Secrets = nil // this edit is the only writer; secrets stay as they are
	unlock := lockEdits(path)
	defer unlock()

	cur, err := LoadLayers(o)
	if err != nil {
		return nil, err
	}
	st, err := cur.Mapping(conn, kind)
	if err != nil {
		return nil, err
	}
	if st.Lock != nil {
		return nil, st.Lock
	}
	if f := cur.managedFile(path); f != "" { // --config naming IT's file
		return nil, &LockedError{Key: "connections", File: f}
	}
	if st.Source != path { // Mapping said user layer, so this is a bug
		return nil, fmt.Errorf("connection %q comes from %s, not %s", conn, st.Source, path)
	}
	after, err := edit(maps.Clone(st.Table))
	if err != nil {
		return nil, err
	}
	entry := cur.Config.Connections[slices.IndexFunc(cur.Config.Connections, func(c Connection) bool { return c.Name == conn })]
	if after, err = normalizeTable(entry, kind, after, cur.Config.Categories); err != nil {
		return nil, err
	}
	ch = &MappingChange{MappingState: *st, Before: st.Table}
	ch.Table = after
	if maps.Equal(st.Table, after) {
		return ch, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := spliceMapping(data, conn, kind, after)
	if err != nil {
		return nil, err
	}
	check := func(tmp string) error { return checkEdited(o, tmp, path, conn, kind, after) }
	if err := replaceFile(path, out, check); err != nil {
		return nil, err
	}
	ch.Changed = true
	return ch, nil
}

// normalizeTable checks connection conn's table kind by the rules
// validation applies (tableProblems) and that it has a default row, and returns it with trimmed
// keys and values, "default" and priorities in lower case.
func normalizeTable(conn Connection, kind string, t map[string]string, categories []string) (map[string]string, error) {
	if probs := tableProblems(conn, kind, t, categories); len(probs) > 0 {
		return nil, fmt.Errorf("%w: row %q: %s", ErrInvalidMapping, probs[0].key, probs[0].msg)
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		key := strings.TrimSpace(k)
		switch {
		case strings.EqualFold(key, connectors.DefaultRow):
			key = connectors.DefaultRow
		case kind == "priority":
			key = strings.ToLower(key)
		}
		out[key] = strings.TrimSpace(v)
	}
	if _, ok := out[connectors.DefaultRow]; !ok {
		if kind != "status" {
			return nil, fmt.Errorf("%w: the table needs a %q row (the value for anything without a row of its own)", ErrInvalidMapping, connectors.DefaultRow)
		}
		// A status table always has its default row: backlog unless set.
		out[connectors.DefaultRow] = connectors.StateBacklog
	}
	return out, nil
}

// checkEdited loads the layers with tmp in place of the user's file: the
// loader's own validation decides, and the new table must be in force.
func checkEdited(o LoadOptions, tmp, path, conn, kind string, want map[string]string) error {
	l, err := LoadLayers(LoadOptions{ConfigFile: tmp, ManagedDir: o.ManagedDir, PublicKey: o.PublicKey})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			for i := range ce.Problems {
				if ce.Problems[i].File == tmp {
					ce.Problems[i].File = path
				}
			}
		}
		return err
	}
	// The connection's other problems (a secret this machine lacks) are
	// not the edit's; a problem in the table is.
	var probs []Problem
	for _, p := range l.ConnectionProblems(conn) {
		if strings.Contains(p.Path, ".mappings."+kind+".") || strings.HasSuffix(p.Path, ".mappings."+kind) {
			if p.File == tmp {
				p.File = path
			}
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return &Error{probs}
	}
	i := slices.IndexFunc(l.Config.Connections, func(c Connection) bool { return c.Name == conn })
	if i < 0 || !maps.Equal(l.Config.Connections[i].Mappings[kind], want) {
		return errors.New("the rewritten file does not hold the new table; nothing was written")
	}
	return nil
}

// editMu serialises edits within the process; lockDir does across them.
var editMu sync.Mutex

func lockEdits(path string) (unlock func()) {
	editMu.Lock()
	release := lockDir(filepath.Dir(path))
	return func() {
		release()
		editMu.Unlock()
	}
}

// replaceFile replaces path with data: a temporary file in the same
// directory is written, synced and checked, then renamed over path, and
// the directory is synced so the rename survives a crash. The mode is
// kept (0600 for a new file).
func replaceFile(path string, data []byte, check func(tmp string) error) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // replace the link's target, keep the link (dotfiles)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".config-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(tmp.Name()); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// splicer renders new JSON in the style of the file around it.
type splicer struct {
	data     []byte
	kv, sep  string // between a key and its value; between members on one line
	unit     string // one level of indentation
	nl       string // the file's line ending
	replaced [2]int
	text     string
}

func (s *splicer) multiline(v *jval) bool {
	return bytes.IndexByte(s.data[v.start:v.end], '\n') >= 0
}

// indent is the white space that starts the line holding offset.
func (s *splicer) indent(offset int) string {
	ls := bytes.LastIndexByte(s.data[:offset], '\n') + 1
	e := ls
	for e < len(s.data) && (s.data[e] == ' ' || s.data[e] == '\t') {
		e++
	}
	return string(s.data[ls:e])
}

// learn takes the file's separators and indentation from obj.
func (s *splicer) learn(obj *jval) {
	if len(obj.members) > 0 {
		m := obj.members[0]
		if kv := string(s.data[m.keyEnd:m.val.start]); !strings.Contains(kv, "\n") {
			s.kv = kv
		}
		if s.multiline(obj) {
			outer, inner := s.indent(obj.start), s.indent(m.keyStart)
			if u, ok := strings.CutPrefix(inner, outer); ok && u != "" {
				s.unit = u
			}
		}
	}
	for i := 1; i < len(obj.members); i++ {
		if sep := string(s.data[obj.members[i-1].val.end:obj.members[i].keyStart]); !strings.Contains(sep, "\n") {
			s.sep = strings.TrimPrefix(sep, ",")
			break
		}
	}
}

func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

type outMember struct {
	key string
	val func(multi bool, base string) string
}

// object renders members on one line, or one per line under base.
func (s *splicer) object(members []outMember, multi bool, base string) string {
	var b strings.Builder
	if !multi {
		b.WriteString("{")
		for i, m := range members {
			if i > 0 {
				b.WriteString("," + s.sep)
			}
			b.WriteString(quote(m.key) + s.kv + m.val(false, ""))
		}
		b.WriteString("}")
		return b.String()
	}
	inner := base + s.unit
	b.WriteString("{" + s.nl)
	for i, m := range members {
		b.WriteString(inner + quote(m.key) + s.kv + m.val(true, inner))
		if i < len(members)-1 {
			b.WriteString(",")
		}
		b.WriteString(s.nl)
	}
	b.WriteString(base + "}")
	return b.String()
}

// insert adds a member at the end of obj.
func (s *splicer) insert(obj *jval, m outMember) {
	multi := s.multiline(obj)
	if len(obj.members) == 0 {
		s.replaced = [2]int{obj.start, obj.end}
		s.text = s.object([]outMember{m}, multi, s.indent(obj.start))
		return
	}
	last := obj.members[len(obj.members)-1]
	s.replaced = [2]int{last.val.end, last.val.end}
	if multi {
		base := s.indent(last.keyStart)
		s.text = "," + s.nl + base + quote(m.key) + s.kv + m.val(true, base)
	} else {
		s.text = "," + s.sep + quote(m.key) + s.kv + m.val(false, "")
	}
}

// spliceMapping returns data with connection conn's mappings.kind set to
// table; every byte outside that one value (or the member it adds) stays.
func spliceMapping(data []byte, conn, kind string, table map[string]string) ([]byte, error) {
	root, err := parseSpans(data)
	if err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	var entry *jval
	if conns := root.member("connections"); conns != nil && conns.val.delim == '[' {
		for _, it := range conns.val.items {
			if n := it.member("name"); it.delim == '{' && n != nil && n.val.isStr && n.val.str == conn {
				entry = it // the last entry of a name is the one the merge keeps
			}
		}
	}
	if entry == nil {
		return nil, fmt.Errorf("%w %q in the user's file", ErrUnknownConnection, conn)
	}
	s := &splicer{data: data, kv: ": ", sep: " ", unit: "  ", nl: "\n"}
	if bytes.Contains(data, []byte("\r\n")) {
		s.nl = "\r\n"
	}
	mappings := entry.member("mappings")
	var old *jmember
	if mappings != nil && mappings.val.delim == '{' {
		old = mappings.val.member(kind)
	}
	s.learn(root)
	s.learn(entry)
	if mappings != nil && mappings.val.delim == '{' {
		s.learn(mappings.val)
		if old != nil && old.val.delim == '{' {
			s.learn(old.val)
		}
	}
	if s.kv == ":" && s.sep == " " {
		s.sep = "" // a compact file stays compact
	}
	var prev []string
	if old != nil {
		for _, m := range old.val.members {
			prev = append(prev, m.key)
		}
	}
	rows := orderRows(kind, prev, table)
	tableVal := func(multi bool, base string) string {
		ms := make([]outMember, len(rows))
		for i, k := range rows {
			v := table[k]
			ms[i] = outMember{k, func(bool, string) string { return quote(v) }}
		}
		return s.object(ms, multi, base)
	}
	switch {
	case old != nil: // replace the table's value
		s.replaced = [2]int{old.val.start, old.val.end}
		s.text = tableVal(s.multiline(old.val), s.indent(old.keyStart))
	case mappings != nil && mappings.val.delim == '{':
		s.insert(mappings.val, outMember{kind, tableVal})
	default:
		inner := outMember{"mappings", func(multi bool, base string) string {
			return s.object([]outMember{{kind, tableVal}}, multi, base)
		}}
		if mappings != nil { // null: nothing set
			multi := s.multiline(entry)
			s.replaced = [2]int{mappings.val.start, mappings.val.end}
			s.text = inner.val(multi, s.indent(mappings.keyStart))
		} else {
			s.insert(entry, inner)
		}
	}
	out := make([]byte, 0, len(data)+len(s.text))
	out = append(out, data[:s.replaced[0]]...)
	out = append(out, s.text...)
	return append(out, data[s.replaced[1]:]...), nil
}

// orderRows keeps the rows the file had in its order, adds new rows
// (priorities highest first, others alphabetically), and ends with the
// default row.
func orderRows(kind string, prev []string, table map[string]string) []string {
	var out []string
	placed := map[string]bool{}
	for _, p := range prev {
		for k := range table {
			if strings.EqualFold(k, p) && !placed[k] && k != connectors.DefaultRow {
				out = append(out, k)
				placed[k] = true
			}
		}
	}
	var added []string
	for k := range table {
		if !placed[k] && k != connectors.DefaultRow {
			added = append(added, k)
		}
	}
	SortRows(kind, added)
	out = append(out, added...)
	if _, ok := table[connectors.DefaultRow]; ok {
		out = append(out, connectors.DefaultRow)
	}
	return out
}

// SortRows orders a table's keys for people: priorities highest first,
// others alphabetically, the default row last.
func SortRows(kind string, keys []string) {
	rank := func(k string) int {
		if strings.EqualFold(k, connectors.DefaultRow) {
			return 1 << 20
		}
		if kind != "priority" {
			return 0
		}
		return -slices.Index(connectors.Priorities, connectors.Priority(strings.ToLower(k)))
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
}

// Editing connections. The same rules as for tables hold: only the user's
// layer is written, in place (every byte outside the entry, or the members
// that change, stays), validated by the loader before it replaces the file
// atomically; a connection a managed file defines, or any connection while
// IT locks "connections", is refused with the lock. Secrets are never
// written as literals: a secret member takes an env: or keyring:
// reference.

// ErrConnectionExists means an add named a connection the user's file
// already has.
var ErrConnectionExists = errors.New("connection already exists")

// FieldChange sets (or, with a nil Value, deletes) one member of a
// connection entry: Path is relative to the entry, e.g. ["baseUrl"],
// ["credentials", "username"], ["options", "projectKey"].
type FieldChange struct {
	Path  []string
	Value json.RawMessage
}

// SetField is a FieldChange to v, encoded as JSON.
func SetField(v any, path ...string) FieldChange {
	raw, _ := json.Marshal(v) // strings, numbers and raw JSON always encode
	return FieldChange{Path: path, Value: raw}
}

// ConnectionEdit is one add, update or remove of connection Name.
type ConnectionEdit struct {
	Name    string
	Add     *connectors.Connection // add this entry (its Name is Name)
	Changes []FieldChange          // update: change these members
	Remove  bool                   // remove every entry of that name
	// DryRun checks the edit as a real one would (locks, validation of
	// the edited file) and writes nothing.
	DryRun bool
}

// ConnectionChange is what a connection edit did.
type ConnectionChange struct {
	Connection string                 `json:"connection"`
	File       string                 `json:"file"`
	Before     *connectors.Connection `json:"before,omitempty"` // nil for an add
	After      *connectors.Connection `json:"after,omitempty"`  // nil for a remove
	Changed    bool                   `json:"changed"`          // false: nothing to change, or a dry run
	Created    bool                   `json:"created,omitempty"`
}

// ConnectionLock says why the user cannot add, change or remove
// connection name (a *LockedError), or nil when they can. A name no layer
// defines is checked as an add.
func (l *Loaded) ConnectionLock(name string) error {
	for _, k := range []string{"connections", "connections." + name} {
		if slices.Contains(l.Config.Locked, k) {
			return &LockedError{Key: k, File: l.lockFile(k)}
		}
	}
	if !slices.ContainsFunc(l.Config.Connections, func(c Connection) bool { return c.Name == name }) {
		return nil
	}
	if src := l.Sources[pointer("connections", name)]; l.layerKind(src) != KindUser {
		return &LockedError{Key: "connections." + name, File: src, Managed: true}
	}
	return nil
}

// lockFile is the first managed file that locks key.
func (l *Loaded) lockFile(key string) string {
	for _, li := range l.Layers {
		if li.Kind != KindManaged {
			continue
		}
		var d struct{ Locked []string }
		if data, err := os.ReadFile(li.Path); err == nil && json.Unmarshal(data, &d) == nil && slices.Contains(d.Locked, key) {
			return li.Path
		}
	}
	return l.Sources[pointer("locked")]
}

// EditConnection adds, updates or removes a connection in the user's
// layer (o.ConfigFile, else o.UserFile; an add creates a missing user
// file). The edited connection must then have no error: a refused edit
// fails with the loader's located problems and leaves the file as it
// was. Edits are serialised as EditMapping's are.
func EditConnection(o LoadOptions, e ConnectionEdit) (ch *ConnectionChange, err error) {
	op := "update"
	switch {
	case e.Add != nil:
		op = "add"
	case e.Remove:
		op = "remove"
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("config: %s connection %q: %w", op, e.Name, err)
		}
	}()
	path := o.ConfigFile
	if path == "" {
		path = o.UserFile
	}
	if path == "" {
		return nil, errors.New("there is no user config file to write")
	}
	if strings.TrimSpace(e.Name) == "" {
		return nil, errors.New("the connection needs a name")
	}
	if e.Add != nil && e.Add.Name != e.Name {
		return nil, fmt.Errorf("the entry is named %q, not %q", e.Add.Name, e.Name)
	}
	if err := literalSecret(e); err != nil {
		return nil, err
	}
	o.Secrets = nil // this edit is the only writer; secrets stay as they are
	// An add makes a missing file (the user's, or --config's): a first
	// connection needs no hand-written file.
	create := false
	cur0 := o
	missing := false
	if _, serr := os.Stat(path); errors.Is(serr, os.ErrNotExist) {
		missing = true
		create = e.Add != nil
		cur0.ConfigFile, cur0.UserFile = "", "" // the managed layers alone
		if create && !e.DryRun {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, err
			}
		}
	}
	if !e.DryRun || !create {
		unlock := lockEdits(path)
		defer unlock()
	}
	cur, err := LoadLayers(cur0)
	if err != nil {
		return nil, err
	}
	if lock := cur.ConnectionLock(e.Name); lock != nil {
		return nil, lock
	}
	if f := cur.managedFile(path); f != "" {
		return nil, &LockedError{Key: "connections", File: f}
	}
	if missing && !create {
		return nil, fmt.Errorf("%w %q: there is no config file %s", ErrUnknownConnection, e.Name, path)
	}
	ch = &ConnectionChange{Connection: e.Name, File: path, Created: create}
	if i := slices.IndexFunc(cur.Config.Connections, func(c Connection) bool { return c.Name == e.Name }); i >= 0 {
		before := cur.Config.Connections[i]
		ch.Before = &before
	}
	var data []byte
	if !create {
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	var out []byte
	switch {
	case e.Add != nil:
		if ch.Before != nil {
			return nil, fmt.Errorf("%w: %q is in %s; change it with update", ErrConnectionExists, e.Name, path)
		}
		out, err = spliceAddConnection(data, *e.Add)
	case ch.Before == nil:
		return nil, fmt.Errorf("%w %q", ErrUnknownConnection, e.Name)
	case e.Remove:
		out, err = spliceRemoveConnection(data, e.Name)
	default:
		out = data
		for _, fc := range e.Changes {
			if out, err = spliceField(out, e.Name, fc); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	var after *Loaded
	check := func(tmp string) error {
		var cerr error
		after, cerr = checkConnectionEdit(o, tmp, path, e.Name, !e.Remove)
		return cerr
	}
	if e.DryRun || bytes.Equal(out, data) && !create {
		tmp, err := os.CreateTemp(os.TempDir(), "ticketray-config-check-*.json")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		_, err = tmp.Write(out)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = check(tmp.Name())
		}
		if err != nil {
			return nil, err
		}
	} else {
		if err := replaceFile(path, out, check); err != nil {
			return nil, err
		}
		ch.Changed = true
	}
	if i := slices.IndexFunc(after.Config.Connections, func(c Connection) bool { return c.Name == e.Name }); i >= 0 && !e.Remove {
		a := after.Config.Connections[i]
		ch.After = &a
	}
	return ch, nil
}

// literalSecret refuses a secret member set to a literal value: the file
// holds only env: and keyring: references.
func literalSecret(e ConnectionEdit) error {
	isSecret := func(name string) bool {
		return slices.Contains(SecretFields, name) || strings.HasSuffix(name, "Secret")
	}
	if e.Add != nil {
		for field, ref := range secretRefs(e.Add) {
			if IsLiteral(ref) {
				return fmt.Errorf("%s: a secret is written only as an env: or keyring: reference, never as its value", field)
			}
		}
	}
	for _, fc := range e.Changes {
		if len(fc.Path) == 0 || fc.Value == nil || !isSecret(fc.Path[len(fc.Path)-1]) {
			continue
		}
		var ref string
		if json.Unmarshal(fc.Value, &ref) != nil || IsLiteral(ref) {
			return fmt.Errorf("%s: a secret is written only as an env: or keyring: reference, never as its value", strings.Join(fc.Path, "."))
		}
	}
	return nil
}

// checkConnectionEdit loads the layers with tmp in place of the user's
// file: the loader's own validation decides. The edited connection (when
// it should exist) must be the user file's and have no error; after a
// remove it must be gone.
func checkConnectionEdit(o LoadOptions, tmp, path, conn string, exists bool) (*Loaded, error) {
	relocate := func(p *Problem) {
		if p.File == tmp {
			p.File = path
		}
	}
	l, err := LoadLayers(LoadOptions{ConfigFile: tmp, ManagedDir: o.ManagedDir, PublicKey: o.PublicKey})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			for i := range ce.Problems {
				relocate(&ce.Problems[i])
			}
		}
		return nil, err
	}
	i := slices.IndexFunc(l.Config.Connections, func(c Connection) bool { return c.Name == conn })
	switch {
	case !exists && i >= 0:
		return nil, errors.New("the rewritten file still holds the connection; nothing was written")
	case !exists:
		return l, nil
	case i < 0 || l.Sources[pointer("connections", conn)] != tmp:
		return nil, errors.New("the rewritten file does not hold the connection; nothing was written")
	}
	probs := l.ConnectionProblems(conn)
	for i := range probs {
		relocate(&probs[i])
	}
	if len(probs) > 0 {
		return nil, &Error{probs}
	}
	return l, nil
}

// connectionEntries returns the root and the entries named conn in the
// connections array (the merge keeps the last).
func connectionEntries(data []byte, conn string) (root *jval, conns *jmember, idx []int, err error) {
	root, err = parseSpans(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the file: %w", err)
	}
	if root.delim != '{' {
		return nil, nil, nil, errors.New("reading the file: it is not a JSON object")
	}
	if conns = root.member("connections"); conns != nil && conns.val.delim == '[' {
		for i, it := range conns.val.items {
			if n := it.member("name"); it.delim == '{' && n != nil && n.val.isStr && n.val.str == conn {
				idx = append(idx, i)
			}
		}
	}
	return root, conns, idx, nil
}

func newSplicer(data []byte) *splicer {
	s := &splicer{data: data, kv: ": ", sep: " ", unit: "  ", nl: "\n"}
	if bytes.Contains(data, []byte("\r\n")) {
		s.nl = "\r\n"
	}
	return s
}

func (s *splicer) apply() []byte {
	out := make([]byte, 0, len(s.data)+len(s.text))
	out = append(out, s.data[:s.replaced[0]]...)
	out = append(out, s.text...)
	return append(out, s.data[s.replaced[1]:]...)
}

// compact keeps a compact file compact.
func (s *splicer) compact() {
	if s.kv == ":" && s.sep == " " {
		s.sep = ""
	}
}

// render writes the JSON value v of src in the file's style: objects one
// member per line when multi, arrays and scalars as they are.
func (s *splicer) render(src []byte, v *jval, multi bool, base string) string {
	switch v.delim {
	case '{':
		ms := make([]outMember, len(v.members))
		for i, m := range v.members {
			ms[i] = outMember{m.key, func(multi bool, base string) string { return s.render(src, m.val, multi, base) }}
		}
		if len(ms) == 0 {
			return "{}"
		}
		return s.object(ms, multi, base)
	case '[':
		parts := make([]string, len(v.items))
		for i, it := range v.items {
			parts[i] = s.render(src, it, false, "")
		}
		return "[" + strings.Join(parts, ","+s.sep) + "]"
	}
	return string(src[v.start:v.end])
}

// spliceAddConnection appends c to the connections array of data, made
// when missing; with no data it is a new file holding only c.
func spliceAddConnection(data []byte, c connectors.Connection) ([]byte, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	entry, err := parseSpans(raw)
	if err != nil {
		return nil, err
	}
	if data == nil {
		s := newSplicer(nil)
		return []byte(fmt.Sprintf("{\n  \"version\": %d,\n  \"connections\": [\n    %s\n  ]\n}\n", Version, s.render(raw, entry, true, "    "))), nil
	}
	root, conns, _, err := connectionEntries(data, c.Name)
	if err != nil {
		return nil, err
	}
	s := newSplicer(data)
	s.learn(root)
	// One member per line when the file writes any entry so (or, with
	// none, the whole file), learning from that entry.
	multi := s.multiline(root)
	if conns != nil && conns.val.delim == '[' && len(conns.val.items) > 0 {
		multi = false
		for _, it := range conns.val.items {
			if it.delim == '{' && s.multiline(it) {
				s.learn(it)
				multi = true
				break
			}
		}
	}
	s.compact()
	switch {
	case conns != nil && conns.val.delim == '[' && len(conns.val.items) > 0:
		last := conns.val.items[len(conns.val.items)-1]
		s.replaced = [2]int{last.end, last.end}
		if s.multiline(conns.val) {
			base := s.indent(last.start)
			s.text = "," + s.nl + base + s.render(raw, entry, multi, base)
		} else {
			s.text = "," + s.sep + s.render(raw, entry, multi, s.indent(conns.keyStart))
		}
	case conns != nil && (conns.val.delim == '[' || conns.val.null()): // [] or null
		base := s.indent(conns.keyStart)
		inner := base + s.unit
		s.replaced = [2]int{conns.val.start, conns.val.end}
		if multi {
			s.text = "[" + s.nl + inner + s.render(raw, entry, true, inner) + s.nl + base + "]"
		} else {
			s.text = "[" + s.render(raw, entry, false, "") + "]"
		}
	case conns != nil:
		return nil, errors.New(`"connections" is not a list`)
	default:
		s.insert(root, outMember{"connections", func(multi bool, base string) string {
			if !multi {
				return "[" + s.render(raw, entry, false, "") + "]"
			}
			inner := base + s.unit
			return "[" + s.nl + inner + s.render(raw, entry, true, inner) + s.nl + base + "]"
		}})
	}
	return s.apply(), nil
}

// removeSpan is the bytes to cut to remove item i of n siblings that
// start and end where starts and ends say, with the comma around it.
func removeSpan(i, n int, starts, ends []int) [2]int {
	switch {
	case i > 0: // from the end of the one before: ",\n    item"
		return [2]int{ends[i-1], ends[i]}
	case n > 1: // the first: up to the next one
		return [2]int{starts[0], starts[1]}
	}
	return [2]int{starts[0], ends[0]}
}

// spliceRemoveConnection removes every entry named conn.
func spliceRemoveConnection(data []byte, conn string) ([]byte, error) {
	for {
		_, conns, idx, err := connectionEntries(data, conn)
		if err != nil {
			return nil, err
		}
		if len(idx) == 0 {
			return data, nil
		}
		items := conns.val.items
		starts, ends := make([]int, len(items)), make([]int, len(items))
		for i, it := range items {
			starts[i], ends[i] = it.start, it.end
		}
		i := idx[len(idx)-1]
		s := newSplicer(data)
		s.replaced = removeSpan(i, len(items), starts, ends)
		if len(items) == 1 {
			s.replaced = [2]int{conns.val.start, conns.val.end}
			s.text = "[]"
		}
		data = s.apply()
	}
}

// spliceField applies one change to the last entry named conn: it
// replaces the member's value, adds the member (and the objects on its
// path) at the end, or deletes it.
func spliceField(data []byte, conn string, fc FieldChange) ([]byte, error) {
	if len(fc.Path) == 0 {
		return nil, errors.New("a change names no member")
	}
	if len(fc.Path) == 1 && fc.Path[0] == "name" {
		return nil, errors.New("a connection cannot be renamed: its queued deliveries are addressed by name")
	}
	root, conns, idx, err := connectionEntries(data, conn)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%w %q in the user's file", ErrUnknownConnection, conn)
	}
	var value *jval
	if fc.Value != nil {
		if value, err = parseSpans(fc.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(fc.Path, "."), err)
		}
	}
	s := newSplicer(data)
	s.learn(root)
	obj := conns.val.items[idx[len(idx)-1]]
	s.learn(obj)
	for i, key := range fc.Path {
		m := obj.member(key)
		last := i == len(fc.Path)-1
		if last && fc.Value == nil { // delete
			if m == nil {
				return data, nil
			}
			var starts, ends []int
			at := 0
			for j, mm := range obj.members {
				starts, ends = append(starts, mm.keyStart), append(ends, mm.val.end)
				if mm.keyStart == m.keyStart {
					at = j
				}
			}
			s.replaced = removeSpan(at, len(obj.members), starts, ends)
			if len(obj.members) == 1 {
				s.replaced = [2]int{obj.start, obj.end}
				s.text = "{}"
			}
			return s.apply(), nil
		}
		if m != nil && !last && m.val.delim == '{' {
			obj = m.val
			s.learn(obj)
			continue
		}
		// The value to write at this level: the rest of the path wrapped
		// around the new value.
		rest := fc.Path[i+1:]
		var val func(multi bool, base string) string
		val = func(multi bool, base string) string { return s.render(fc.Value, value, multi, base) }
		for j := len(rest) - 1; j >= 0; j-- {
			inner, k := val, rest[j]
			val = func(multi bool, base string) string {
				return s.object([]outMember{{k, inner}}, multi, base)
			}
		}
		s.compact()
		if m != nil { // replace the value (a scalar or null on the way is replaced too)
			s.replaced = [2]int{m.val.start, m.val.end}
			s.text = val(s.multiline(m.val) || (m.val.delim == 0 && s.multiline(obj) && len(rest) > 0), s.indent(m.keyStart))
			return s.apply(), nil
		}
		s.insert(obj, outMember{key, val})
		return s.apply(), nil
	}
	return data, nil
}

// managedFile is the managed layer that path is (--config naming IT's
// file), or "".
func (l *Loaded) managedFile(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	for _, li := range l.Layers {
		if li.Kind != KindManaged {
			continue
		}
		if mt, err := os.Stat(li.Path); err == nil && os.SameFile(st, mt) {
			return li.Path
		}
	}
	return ""
}
