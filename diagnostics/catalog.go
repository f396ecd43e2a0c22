package diagnostics

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SkillSpec declares an IT-defined skill in config: a program run with
// fixed arguments — no shell, and nothing interpolated or expanded, so
// user input can never reach the command line.
type SkillSpec struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Description          string   `json:"description,omitempty"`
	Program              string   `json:"program"` // absolute path, or a name looked up on PATH
	Args                 []string `json:"args,omitempty"`
	TimeoutMs            int      `json:"timeoutMs,omitempty"`
	OS                   []string `json:"os,omitempty"` // linux, darwin, windows; empty means all
	RequiresAdmin        bool     `json:"requiresAdmin,omitempty"`
	RequiresConfirmation bool     `json:"requiresConfirmation,omitempty"`
	// ReadOnly declares that the program changes nothing, so it may run
	// in dry-run mode and from `diagnose`. Unset, a config skill is
	// treated as changing the machine.
	ReadOnly bool `json:"readOnly,omitempty"`
}

// SupportedOS are the OS names skills may list.
var SupportedOS = []string{"linux", "darwin", "windows"}

// MaxSkillTimeout bounds a config skill's timeout.
const MaxSkillTimeout = 10 * time.Minute

var skillIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

var windowsAbs = regexp.MustCompile(`^(?:[A-Za-z]:[\\/]|\\\\)`)

// Problems validates the spec; field names are relative to the spec.
func (s SkillSpec) Problems() []Problem {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	switch {
	case s.ID == "":
		add("id", "is required")
	case !skillIDRE.MatchString(s.ID):
		add("id", "must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	case builtinByID(s.ID) != nil:
		add("id", "%q is a built-in skill; choose another id", s.ID)
	}
	switch p := s.Program; {
	case p == "":
		add("program", "is required")
	case strings.ContainsAny(p, `/\`) && !strings.HasPrefix(p, "/") && !windowsAbs.MatchString(p):
		add("program", "must be an absolute path or a bare program name looked up on PATH")
	}
	if s.TimeoutMs < 0 || time.Duration(s.TimeoutMs)*time.Millisecond > MaxSkillTimeout {
		add("timeoutMs", "must be between 0 (the default, %v) and %d", DefaultSkillTimeout, MaxSkillTimeout.Milliseconds())
	}
	for i, goos := range s.OS {
		if !slices.Contains(SupportedOS, goos) {
			add(fmt.Sprintf("os[%d]", i), "must be one of %s", strings.Join(SupportedOS, ", "))
		}
	}
	return probs
}

// FromSpec makes the skill a SkillSpec declares.
func FromSpec(spec SkillSpec) (*Skill, error) {
	if probs := spec.Problems(); len(probs) > 0 {
		return nil, fmt.Errorf("skill %q: %s: %s", spec.ID, probs[0].Field, probs[0].Msg)
	}
	name := spec.Name
	if name == "" {
		name = spec.ID
	}
	args := slices.Clone(spec.Args)
	program := spec.Program
	readOnly := spec.ReadOnly
	return &Skill{
		ID:          spec.ID,
		Name:        name,
		Description: spec.Description,
		OS:          slices.Clone(spec.OS),
		Timeout:     time.Duration(spec.TimeoutMs) * time.Millisecond,
		Changes:     !readOnly,
		Confirm:     spec.RequiresConfirmation,
		Source:      "config",
		needs: func(string) Needs {
			return Needs{Admin: spec.RequiresAdmin, Binaries: []string{program}}
		},
		run: func(ctx context.Context, x *execution) error {
			var err error
			if readOnly {
				_, err = x.query(ctx, program, args...)
			} else {
				_, err = x.change(ctx, program, args...)
			}
			return err
		},
	}, nil
}

// Catalog is every skill that may run here: the built-ins and the
// skills declared in config. Nothing outside it can be run.
type Catalog struct {
	skills []*Skill
}

// NewCatalog builds the catalog from the config's skill specs.
func NewCatalog(specs []SkillSpec) (*Catalog, error) {
	c := &Catalog{skills: Builtins()}
	for _, spec := range specs {
		if c.Get(spec.ID) != nil {
			return nil, fmt.Errorf("skill %q is declared twice", spec.ID)
		}
		s, err := FromSpec(spec)
		if err != nil {
			return nil, err
		}
		c.skills = append(c.skills, s)
	}
	return c, nil
}

// All returns the skills, built-ins first.
func (c *Catalog) All() []*Skill { return slices.Clone(c.skills) }

// Get returns the skill with id, or nil.
func (c *Catalog) Get(id string) *Skill {
	for _, s := range c.skills {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// IDs lists every skill id.
func (c *Catalog) IDs() []string {
	ids := make([]string, len(c.skills))
	for i, s := range c.skills {
		ids[i] = s.ID
	}
	return ids
}

// UnknownSkillError names a skill id that is neither built in nor in
// config.
type UnknownSkillError struct {
	ID    string
	Known []string
}

func (e *UnknownSkillError) Error() string {
	return fmt.Sprintf("unknown skill %q; known skills: %s", e.ID, strings.Join(e.Known, ", "))
}

// Resolve looks up ids, in order, dropping repeats; an unknown id is an
// *UnknownSkillError.
func (c *Catalog) Resolve(ids []string) ([]*Skill, error) {
	var out []*Skill
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		s := c.Get(id)
		if s == nil {
			return nil, &UnknownSkillError{ID: id, Known: c.IDs()}
		}
		out = append(out, s)
	}
	return out, nil
}

// ReadOnly returns the skills that change nothing: what `diagnose` runs.
func (c *Catalog) ReadOnly() []*Skill {
	var out []*Skill
	for _, s := range c.skills {
		if !s.Changes {
			out = append(out, s)
		}
	}
	return out
}
