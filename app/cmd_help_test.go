package app

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"
)

// TestHelpListsEveryFlag: each command's --help names every flag it takes.
func TestHelpListsEveryFlag(t *testing.T) {
	subs := map[string][]string{
		"queue":       {"list", "show", "retry", "purge", "delete", "recover", "comment"},
		"connections": {"list", "test", "login", "logout"},
		"config":      {"show", "validate", "schema", "keygen", "sign", "mapping"},
		"skills":      {"list", "run"},
		"keys":        {"rotate"},
	}
	for _, cmd := range commands {
		variants := [][]string{{cmd.name}}
		for _, sub := range subs[cmd.name] {
			variants = append(variants, []string{cmd.name, sub})
		}
		for _, v := range variants {
			var out bytes.Buffer
			c := &cli{ctx: context.Background(), env: Env{Stdout: &out, Stderr: &out, Getenv: os.Getenv}}
			c.fs = nil
			code := c.exit(c.run(append(v, "--help")))
			if code != ExitOK {
				t.Errorf("%v --help: exit %d\n%s", v, code, out.String())
				continue
			}
			if c.fs == nil || (len(v) == 1 && subs[cmd.name] != nil) {
				continue
			}
			text := out.String()
			c.fs.VisitAll(func(f *flag.Flag) {
				if f.Name == "config" || f.Name == "db" {
					return // global: in the main help
				}
				if !strings.Contains(text, "--"+f.Name) {
					t.Errorf("%v --help does not mention --%s", v, f.Name)
				}
			})
			// Flag descriptions in a block start in one column.
			col := -1
			for _, line := range strings.Split(text, "\n") {
				if !strings.HasPrefix(line, "  --") {
					continue
				}
				i := strings.Index(line[2:], "   ")
				if i < 0 {
					continue
				}
				start := 2 + i + len(line[2+i:]) - len(strings.TrimLeft(line[2+i:], " "))
				if col >= 0 && start != col {
					t.Errorf("%v --help: %q is not aligned (column %d, want %d)", v, line, start, col)
				}
				col = start
			}
		}
	}
}
