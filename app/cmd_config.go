package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/secrets"
)

const configUsage = `Usage:
  ticketray config show [--json]
  ticketray config validate [FILE] [--json] [--fragment]
  ticketray config schema
  ticketray config keygen --out PREFIX
  ticketray config sign --key PRIVATE_KEY FILE
  ticketray config mapping CONNECTION priority|category|status [--set KEY=VALUE]... [--delete KEY]... [--json]

show prints the effective config (managed files over --config or the
user's file), with the file each value came from; literal secrets are
shown as ***, env: and keyring: references as they are.

validate checks FILE (or, without FILE, every layer and their merge, as
Ticketray does at start and on every change) and reports every problem at
once: its severity, file, line and column, JSON path, connection and a
hint. An error inside a connection misconfigures only that connection
(its deliveries wait, the others deliver); any other error makes the whole
config invalid. env: and keyring: secrets must resolve on this machine:
without FILE that is an error, with FILE a warning (the file may be for
another machine). Keys IT locks that the file sets are warnings. --json
prints the problems as a JSON array. Exit 2 when there is an error, else
0. A file in a config.d directory, or with --fragment, is a drop-in and
may leave out "version".

schema prints the JSON Schema of a config file (for editors).

keygen writes an ed25519 key pair: PREFIX.key (private, mode 0600; keep it
off the fleet) and PREFIX.pub (install it as config.pub in the managed
directory, or build it in with -ldflags -X ...app/config.PinnedPublicKey).

sign writes FILE.sig, the detached signature of FILE. Once a public key is
pinned, managed files without a valid signature are refused.

mapping prints a connection's priority, category or status mapping table
(status: the vendor's status → backlog, in_progress, waiting_on_you,
resolved or closed, over the vendor's built-in rows), the
file it comes from and any lock; --set and --delete change rows in the
user's file (--config FILE, else the user's config.json), as the Settings
window's Save does. The table keeps a "default" row, which cannot be
deleted. A table IT locks, or a connection a managed file defines, cannot
be changed there (exit 2).
`

func (c *cli) configCmd(args []string) error {
	if len(args) == 0 {
		return usagef("config needs a subcommand: show, validate, schema, keygen, sign or mapping\n%s", configUsage)
	}
	sub, args := args[0], args[1:]
	fs := c.flags("config "+sub, func() string { return configUsage })
	asJSON := fs.Bool("json", false, "")
	fragment := fs.Bool("fragment", false, "")
	keyFile := fs.String("key", "", "")
	out := fs.String("out", "", "")
	var sets, dels listFlag
	fs.Var(&sets, "set", "")
	fs.Var(&dels, "delete", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		if len(pos) > 0 {
			return usagef("config show takes no arguments")
		}
		l, err := LoadLayered(c.options(), false)
		if err != nil {
			return err
		}
		if *asJSON {
			return l.WriteJSON(c.env.Stdout)
		}
		return l.WriteText(c.env.Stdout)
	case "validate":
		if len(pos) > 1 {
			return usagef("config validate takes at most one FILE")
		}
		probs, err := c.validateConfig(pos, *fragment)
		if err != nil {
			return err
		}
		if *asJSON {
			if probs == nil {
				probs = []config.Problem{}
			}
			if err := writeJSON(c.env.Stdout, probs); err != nil {
				return err
			}
		}
		return reportProblems(c.env.Stderr, probs, len(pos) == 0)
	case "schema":
		if len(pos) > 0 {
			return usagef("config schema takes no arguments")
		}
		_, err := c.env.Stdout.Write(config.Schema)
		return err
	case "keygen":
		if *out == "" || len(pos) > 0 {
			return usagef("usage: ticketray config keygen --out PREFIX")
		}
		pub, priv, err := config.GenerateKey()
		if err != nil {
			return err
		}
		if err := writeNew(*out+".key", priv, 0o600); err != nil {
			return err
		}
		if err := writeNew(*out+".pub", pub, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stderr, "Wrote %s.key (private: keep it off the fleet) and %s.pub (install as %s in the managed directory).\n", *out, *out, config.PublicKeyFile)
		return nil
	case "sign":
		if *keyFile == "" || len(pos) != 1 {
			return usagef("usage: ticketray config sign --key PRIVATE_KEY FILE")
		}
		keyData, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("config sign: %w", err)
		}
		priv, err := config.ParsePrivateKey(keyData)
		if err != nil {
			if _, perr := config.ParsePublicKey(keyData); perr == nil {
				prefix := strings.TrimSuffix(*keyFile, ".pub")
				return usagef("config sign: %s: this is a public key; sign with the private one (%s.key)", *keyFile, prefix)
			}
			return usagef("config sign: %s: %v", *keyFile, err)
		}
		file := pos[0]
		if err := validateFile(file, *fragment); err != nil {
			return err // never sign a file the fleet would reject
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config sign: %w", err)
		}
		if err := os.WriteFile(file+config.SigSuffix, config.Sign(priv, data), 0o644); err != nil {
			return fmt.Errorf("config sign: %w", err)
		}
		fmt.Fprintf(c.env.Stderr, "Wrote %s%s.\n", file, config.SigSuffix)
		return nil
	case "mapping":
		return c.configMapping(pos, sets, dels, *asJSON)
	case "--help", "-h", "help":
		return errHelp{func() string { return configUsage }}
	}
	return usagef("unknown config subcommand %q (show, validate, schema, keygen, sign, mapping)", sub)
}

// options are the service options of this command line.
func (c *cli) options() Options {
	return Options{ConfigPath: c.config, DBPath: c.db, Getenv: c.env.Getenv}
}

// secretResolver checks that env: and keyring: references resolve here.
func (c *cli) secretResolver() func(string) error {
	return config.SecretResolver(c.env.Getenv, func() (secrets.Getter, error) {
		ring, err := OpenKeyring(c.env.Getenv)
		if err != nil {
			return nil, err
		}
		return ring, nil
	})
}

// validateConfig is `config validate`: FILE on its own (secrets that do
// not resolve here, and keys IT locks here, are warnings: the file may be
// for another machine), or without FILE every layer this machine reads,
// as startup and reload validate them.
func (c *cli) validateConfig(pos []string, fragment bool) ([]config.Problem, error) {
	lo := c.options().LoadOptions(false)
	resolve := c.secretResolver()
	if len(pos) == 0 {
		lo.Resolve = resolve
		return config.ValidateLayers(lo)
	}
	path := pos[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("config validate: %v", err)
	}
	o := config.CheckOptions{Fragment: fragment || isDropIn(path), Resolve: resolve}
	if !o.Fragment {
		o.Locked = lo.LocksOver(path)
	}
	_, probs := config.Check(path, data, o)
	return probs, nil
}

// reportProblems prints each problem with its severity, then what they
// mean; the result is a usage error (exit 2) when one is an error.
func reportProblems(w io.Writer, probs []config.Problem, layered bool) error {
	var errs, warns int
	var rejects bool
	var misconfigured []string
	for _, p := range probs {
		line := p.Severity + ": " + p.String()
		if p.Connection != "" {
			line += fmt.Sprintf(" [connection %q]", p.Connection)
		}
		fmt.Fprintln(w, line)
		switch {
		case !p.IsError():
			warns++
		case p.Connection == "":
			errs++
			rejects = true
		default:
			errs++
			if !slices.Contains(misconfigured, p.Connection) {
				misconfigured = append(misconfigured, p.Connection)
			}
		}
	}
	count := Plural(errs, "error") + ", " + Plural(warns, "warning")
	switch {
	case rejects && layered:
		return usagef("the config is invalid (%s): Ticketray refuses it and keeps the last good config in force", count)
	case rejects:
		return usagef("the config is invalid (%s)", count)
	case errs > 0:
		return usagef("%s misconfigured (%s): their deliveries wait, every other connection delivers: %s",
			Plural(len(misconfigured), "connection"), count, strings.Join(misconfigured, ", "))
	case warns > 0:
		fmt.Fprintf(w, "The config is valid, with %s.\n", Plural(warns, "warning"))
	default:
		fmt.Fprintln(w, "The config is valid.")
	}
	return nil
}

// Plural is a count and its noun: "1 delivery", "2 deliveries", "3 tickets".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if stem, ok := strings.CutSuffix(what, "y"); ok && !strings.HasSuffix(stem, "a") && !strings.HasSuffix(stem, "e") && !strings.HasSuffix(stem, "o") {
		return fmt.Sprintf("%d %sies", n, stem) // delivery, deliveries
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func isDropIn(path string) bool { return filepath.Base(filepath.Dir(path)) == "config.d" }

// validateFile checks one file on its own, strictly (any error fails);
// a file in a config.d directory is a drop-in.
func validateFile(path string, fragment bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usagef("config validate: %v", err)
	}
	if fragment || isDropIn(path) {
		_, err = config.ParseFragment(path, data)
	} else {
		_, err = config.Parse(path, data)
	}
	return err
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("config keygen: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("config keygen: %w", err)
	}
	return f.Close()
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const mappingUsage = "usage: ticketray config mapping CONNECTION priority|category|status [--set KEY=VALUE]... [--delete KEY]... [--json]"

// configMapping is `config mapping`: print a table, or change rows of it
// through config.EditMapping, the writer the Settings window uses.
func (c *cli) configMapping(pos, sets, dels []string, asJSON bool) error {
	if len(pos) != 2 {
		return usagef("%s", mappingUsage)
	}
	conn, kind := pos[0], pos[1]
	if kind != "priority" && kind != "category" && kind != "status" {
		return usagef("config mapping: the table is priority, category or status, not %q", kind)
	}
	type row struct{ key, value string }
	var set []row
	seen := map[string]string{} // lower-case key → flag, to refuse contradictions
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return usagef("config mapping: --set takes KEY=VALUE, not %q", s)
		}
		if prev, dup := seen[strings.ToLower(k)]; dup {
			return usagef("config mapping: %q is given twice (%s and --set %s)", k, prev, s)
		}
		seen[strings.ToLower(k)] = "--set " + s
		set = append(set, row{k, v})
	}
	for _, d := range dels {
		d = strings.TrimSpace(d)
		if strings.EqualFold(d, connectors.DefaultRow) {
			return usagef("config mapping: the default row cannot be deleted")
		}
		if prev, dup := seen[strings.ToLower(d)]; dup {
			return usagef("config mapping: %q is given twice (%s and --delete %s)", d, prev, d)
		}
		seen[strings.ToLower(d)] = "--delete " + d
	}
	lo := c.options().LoadOptions(false)
	if len(set)+len(dels) == 0 {
		l, err := config.LoadLayers(lo)
		if err != nil {
			return err
		}
		st, err := l.Mapping(conn, kind)
		if err != nil {
			return mappingErr(err)
		}
		if asJSON {
			return writeJSON(c.env.Stdout, st)
		}
		i := slices.IndexFunc(l.Config.Connections, func(x connectors.Connection) bool { return x.Name == conn })
		return writeMapping(c.env.Stdout, st, l.Config.Connections[i])
	}
	ch, err := config.EditMapping(lo, conn, kind, func(cur map[string]string) (map[string]string, error) {
		for _, d := range dels {
			k, ok := findRow(cur, d)
			if !ok {
				return nil, usagef("there is no row %q to delete", strings.TrimSpace(d))
			}
			delete(cur, k)
		}
		for _, r := range set {
			if k, ok := findRow(cur, r.key); ok {
				delete(cur, k)
			}
			cur[r.key] = r.value
		}
		return cur, nil
	})
	if err != nil {
		return mappingErr(err)
	}
	if asJSON {
		if err := writeJSON(c.env.Stdout, ch); err != nil {
			return err
		}
	}
	writeMappingChange(c.env.Stderr, ch)
	return nil
}

// mappingErr makes what the caller can fix a usage error (exit 2).
func mappingErr(err error) error {
	if errors.Is(err, config.ErrLocked) || errors.Is(err, config.ErrUnknownConnection) || errors.Is(err, config.ErrInvalidMapping) {
		return usageError{err.Error()}
	}
	return err
}

func findValue(t map[string]string, key string) (string, bool) {
	k, ok := findRow(t, key)
	return t[k], ok
}

func findRow(t map[string]string, key string) (string, bool) {
	for k := range t {
		if strings.EqualFold(k, strings.TrimSpace(key)) {
			return k, true
		}
	}
	return "", false
}

// writeMapping prints a table as aligned KEY → VALUE lines, the default
// row last, then where it comes from and whether it can be changed.
func writeMapping(w io.Writer, st *config.MappingState, conn connectors.Connection) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s mapping of %q:\n", st.Kind, st.Connection)
	keys := make([]string, 0, len(st.Table)+1)
	for k := range st.Table {
		keys = append(keys, k)
	}
	config.SortRows(st.Kind, keys)
	width := len(connectors.DefaultRow)
	for _, k := range keys {
		width = max(width, len(k))
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-*s → %s\n", width, k, st.Table[k])
	}
	if _, ok := st.Table[connectors.DefaultRow]; !ok {
		fmt.Fprintf(&b, "  %-*s → %s\n", width, connectors.DefaultRow, impliedDefault(st, conn))
	}
	if st.Kind == "status" {
		// The config's rows lie over the vendor's: show what else applies.
		var builtIn []string
		for k, v := range conn.StatusTable() {
			if _, ok := findRow(st.Table, k); !ok && k != connectors.DefaultRow {
				builtIn = append(builtIn, fmt.Sprintf("  %s → %s", k, v))
			}
		}
		sort.Strings(builtIn)
		if len(builtIn) > 0 {
			fmt.Fprintf(&b, "Built-in rows of %s (a row above wins):\n%s\n", conn.Type, strings.Join(builtIn, "\n"))
		}
	}
	fmt.Fprintf(&b, "From: %s (%s layer)\n", st.Source, st.Layer)
	if st.Lock != nil {
		fmt.Fprintf(&b, "Read-only: %v\n", st.Lock)
	} else {
		b.WriteString("Editable: change rows with --set KEY=VALUE and --delete KEY.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// impliedDefault says what applies where the config has no default row
// (see connectors.Connection.PriorityTable and MapCategory).
func impliedDefault(st *config.MappingState, conn connectors.Connection) string {
	switch {
	case st.Kind == "status":
		return connectors.StateBacklog + " (the default row: anything without a row of its own)"
	case st.Kind == "priority" && len(st.Table) == 0:
		return "(no table: the vendor's built-in rows apply)"
	case st.Kind == "priority":
		p := conn.DefaultPriority
		if p == "" {
			p = string(connectors.PriorityMedium)
		}
		return fmt.Sprintf("(not set: the %s row, else the vendor's value for %s)", p, p)
	case len(st.Table) == 0:
		return "(no table: categories are sent as they are)"
	case conn.DefaultCategory != "":
		return fmt.Sprintf("(not set: defaultCategory %q)", conn.DefaultCategory)
	}
	return "(not set: no category)"
}

// writeMappingChange tells people what an edit changed.
func writeMappingChange(w io.Writer, ch *config.MappingChange) {
	if !ch.Changed {
		fmt.Fprintf(w, "No change: the %s mapping of %q in %s already has these rows.\n", ch.Kind, ch.Connection, ch.Source)
		return
	}
	fmt.Fprintf(w, "Saved the %s mapping of %q in %s:\n", ch.Kind, ch.Connection, ch.Source)
	// Keys compare in any case: the writer lower-cases priorities and
	// "default".
	old := map[string]string{}
	for k, v := range ch.Before {
		old[strings.ToLower(k)] = v
	}
	var keys []string
	for k := range ch.Table {
		keys = append(keys, k)
	}
	for k := range ch.Before {
		if _, ok := findRow(ch.Table, k); !ok {
			keys = append(keys, k)
		}
	}
	config.SortRows(ch.Kind, keys)
	for _, k := range keys {
		before, had := old[strings.ToLower(k)]
		after, has := findValue(ch.Table, k)
		switch {
		case !had:
			fmt.Fprintf(w, "  added   %s → %s\n", k, after)
		case !has:
			fmt.Fprintf(w, "  deleted %s (was %s)\n", k, before)
		case before != after:
			fmt.Fprintf(w, "  changed %s → %s (was %s)\n", k, after, before)
		}
	}
}
