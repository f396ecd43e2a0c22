package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/secrets"
)

// rowProblem is a mapping row that breaks a rule.
type rowProblem struct{ key, msg string }

// checkRows holds the config's own rules for the rows of a mapping table,
// for validation and for `config mapping` alike: every row has a value,
// no two keys differ only in case, and category keys are among the
// config's categories (when it lists any: without a list any category may
// be reported). "default" is a row of every table. The rules for one row
// on its own (priority keys, the vendor's forms of values) are the
// connectors' (connectors.CheckMappingRow, through Connection.Validate);
// whether a table needs a default row is the caller's rule.
func checkRows(kind string, t map[string]string, categories []string) []rowProblem {
	var out []rowProblem
	seen := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		key := strings.TrimSpace(k)
		if kind == "category" && key != "" && !strings.EqualFold(key, connectors.DefaultRow) && len(categories) > 0 &&
			!slices.ContainsFunc(categories, func(c string) bool { return strings.EqualFold(c, key) }) {
			out = append(out, rowProblem{k, fmt.Sprintf("is not one of the config's categories (%s)", strings.Join(categories, ", "))})
		}
		if strings.TrimSpace(t[k]) == "" {
			out = append(out, rowProblem{k, "has no value"})
		}
		if prev, dup := seen[strings.ToLower(key)]; dup {
			out = append(out, rowProblem{k, fmt.Sprintf("is the same row as %q (keys differ only in case)", prev)})
		}
		seen[strings.ToLower(key)] = k
	}
	return out
}

// tableProblems are the problems of connection conn's table kind if it
// were t: the config's rules, then the connectors' for each row.
func tableProblems(conn Connection, kind string, t map[string]string, categories []string) []rowProblem {
	conn.Mappings = maps.Clone(conn.Mappings)
	if conn.Mappings == nil {
		conn.Mappings = map[string]map[string]string{}
	}
	conn.Mappings[kind] = t
	out := checkRows(kind, t, categories)
	prefix := "mappings." + kind + "."
	for _, fe := range conn.Validate() {
		if key, ok := strings.CutPrefix(fe.Field, prefix); ok {
			out = append(out, rowProblem{key, fe.Msg})
		}
	}
	return out
}

// secretRefs lists a connection's secret references with their paths
// relative to it: the credential secrets, and any other string field
// named like a secret (webhookSecret).
func secretRefs(conn *Connection) map[string]string {
	out := map[string]string{}
	cr := reflect.ValueOf(conn.Credentials)
	for i := range cr.NumField() {
		if name := jsonName(cr.Type().Field(i)); slices.Contains(SecretFields, name) && cr.Field(i).Kind() == reflect.String {
			out["credentials."+name] = cr.Field(i).String()
		}
	}
	cv := reflect.ValueOf(*conn)
	for i := range cv.NumField() {
		if name := jsonName(cv.Type().Field(i)); strings.HasSuffix(name, "Secret") && cv.Field(i).Kind() == reflect.String {
			out[name] = cv.Field(i).String()
		}
	}
	return out
}

// secretProblems checks that every env: and keyring: reference resolves
// (nothing is checked without resolve). Messages name the reference,
// never a value.
func (c *Config) secretProblems(file string, resolve func(ref string) error, severity string) []Problem {
	if resolve == nil {
		return nil
	}
	var probs []Problem
	for i := range c.Connections {
		conn := &c.Connections[i]
		refs := secretRefs(conn)
		for _, field := range slices.Sorted(maps.Keys(refs)) {
			ref := refs[field]
			if ref == "" || IsLiteral(ref) {
				continue
			}
			if err := resolve(ref); err != nil {
				p := Problem{File: file, Path: fmt.Sprintf("connections[%d].%s", i, field), Connection: conn.Name, Severity: severity,
					Msg: "does not resolve: " + err.Error()}
				if strings.HasPrefix(ref, "env:") {
					p.Hint = "set " + strings.TrimPrefix(ref, "env:") + " in the environment Ticketray runs in"
				} else {
					p.Hint = "store the secret in this machine's keyring as " + strings.TrimPrefix(ref, "keyring:")
				}
				probs = append(probs, p)
			}
		}
	}
	return probs
}

// SecretResolver is a LoadOptions.Resolve (and CheckOptions.Resolve) for
// this machine: env: references read getenv, keyring: references the
// keyring that ring opens, which is called at most once and only when a
// keyring: reference is checked. Errors name the reference, never a value.
func SecretResolver(getenv func(string) string, ring func() (secrets.Getter, error)) func(ref string) error {
	var (
		mu      sync.Mutex
		opened  bool
		getter  secrets.Getter
		ringErr error
	)
	return func(ref string) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(ref, "keyring:") && !opened {
			opened = true
			if ring == nil {
				ringErr = errors.New("no keyring is available")
			} else {
				getter, ringErr = ring()
			}
		}
		if strings.HasPrefix(ref, "keyring:") && ringErr != nil {
			return fmt.Errorf("secret %s: no keyring: %w", ref, ringErr)
		}
		_, err := secrets.Resolve(ref, getenv, getter)
		return err
	}
}

// literalWebhookSecrets flags a literal webhookSecret in file, like
// literalClientSecrets: an error in a managed file (whoever reads it can
// forge the help desk's status webhooks), a warning when a file is checked
// on its own. In the user's own file a literal works, for one desk.
func literalWebhookSecrets(file string, c *Config, severity string) []Problem {
	var probs []Problem
	for i, conn := range c.Connections {
		if !IsLiteral(conn.WebhookSecret) {
			continue
		}
		msg := "must not be a literal in a managed (pushed) config: whoever reads it could forge status webhooks"
		if severity == SeverityWarning {
			msg = "is a literal: refused in a managed (pushed) config"
		}
		probs = append(probs, Problem{File: file, Path: fmt.Sprintf("connections[%d].webhookSecret", i), Connection: conn.Name,
			Severity: severity, Msg: msg, Hint: "use env:NAME or keyring:NAME"})
	}
	return probs
}
