package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
)

// SecretStore is where literal secrets move to; *secrets.Keyring is one.
type SecretStore interface {
	Set(name string, value []byte) error
}

// IsLiteral reports whether a secret reference is a literal value.
func IsLiteral(ref string) bool {
	return ref != "" && !strings.HasPrefix(ref, "env:") && !strings.HasPrefix(ref, "keyring:")
}

func literalSpans(spans []span) []span {
	var out []span
	for _, s := range spans {
		if IsLiteral(s.value) {
			out = append(out, s)
		}
	}
	return out
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// KeyringName is the keyring item a connection's literal secret moves to,
// e.g. "config.servicenow.password" for a connection named servicenow, and
// "config.production-servicenow-1a2b3c4d.password" (a hash of the exact
// name) for one whose name the slug does not keep whole.
func KeyringName(connection, field string) string {
	slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(connection), "-"), "-")
	if slug != connection {
		// Names differing only in case, punctuation or script would share
		// an item (and one's secret would go to the other's help desk).
		sum := sha256.Sum256([]byte(connection))
		slug = strings.Trim(slug+"-"+hex.EncodeToString(sum[:4]), "-")
	}
	return "config." + slug + "." + field
}

var connIndexRE = regexp.MustCompile(`^connections\[(\d+)\]\.credentials\.(\w+)$`)

// migrateSecrets stores each literal secret in the store, then rewrites
// the file with keyring: references in place of the literals: only those
// string values change, every other byte stays as it was. The new file
// replaces the old atomically, with the same mode.
func migrateSecrets(path string, data []byte, c *Config, literal []span, open func() (SecretStore, error)) ([]string, error) {
	store, err := open()
	if err != nil {
		return nil, fmt.Errorf("no keyring to move them to: %w", err)
	}
	sort.Slice(literal, func(i, j int) bool { return literal[i].start > literal[j].start })
	out := append([]byte(nil), data...)
	var moved []string
	for _, s := range literal {
		m := connIndexRE.FindStringSubmatch(s.path)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		name := KeyringName(c.Connections[i].Name, m[2])
		if err := store.Set(name, []byte(s.value)); err != nil {
			return nil, fmt.Errorf("store %s: %w", s.path, err)
		}
		ref, _ := json.Marshal("keyring:" + name)
		out = append(out[:s.start:s.start], append(ref, out[s.end:]...)...)
		moved = append(moved, s.path)
	}
	sort.Strings(moved)
	if err := writeAtomic(path, out); err != nil {
		return nil, err
	}
	return moved, nil
}

// writeAtomic replaces path with data through a temporary file in the
// same directory, keeping the file's mode.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	return nil
}

// Redacted returns a copy of c with every literal secret replaced by
// "***"; env: and keyring: references are kept, as they reveal nothing.
func (c *Config) Redacted() *Config {
	out := *c
	out.Connections = make([]connectors.Connection, len(c.Connections))
	for i, conn := range c.Connections {
		cr := &conn.Credentials
		for _, f := range []*string{&cr.Password, &cr.APIToken, &cr.Token, &cr.ClientSecret, &cr.RefreshToken, &conn.WebhookSecret} {
			if IsLiteral(*f) {
				*f = "***"
			}
		}
		out.Connections[i] = conn
	}
	return &out
}
