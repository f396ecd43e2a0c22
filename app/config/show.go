package config

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Shown is `config show --json`: the effective config with secrets
// redacted, where each value came from, the files read, the problems of
// misconfigured connections, and warnings.
type Shown struct {
	Config   *Config           `json:"config"`
	Sources  map[string]string `json:"sources"`
	Layers   []LayerInfo       `json:"layers"`
	Problems []Problem         `json:"problems"`
	Warnings []Problem         `json:"warnings"`
}

// Show is the redacted view of l.
func (l *Loaded) Show() Shown {
	s := Shown{Config: l.Config.Redacted(), Sources: l.Sources, Layers: l.Layers, Problems: l.Problems, Warnings: l.Warnings}
	if s.Layers == nil {
		s.Layers = []LayerInfo{}
	}
	if s.Problems == nil {
		s.Problems = []Problem{}
	}
	if s.Warnings == nil {
		s.Warnings = []Problem{}
	}
	return s
}

// WriteJSON writes the redacted view as indented JSON.
func (l *Loaded) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l.Show()); err != nil {
		return fmt.Errorf("config show: %w", err)
	}
	return nil
}

// WriteText writes the redacted view for people: the files, the config,
// then the source of each value.
func (l *Loaded) WriteText(w io.Writer) error {
	s := l.Show()
	var b strings.Builder
	b.WriteString("# Effective configuration; literal secrets are shown as ***.\n")
	if len(s.Layers) == 0 {
		b.WriteString("# No config file exists: built-in defaults.\n")
	} else {
		b.WriteString("# Files, lowest precedence first:\n")
		for _, f := range s.Layers {
			signed := ""
			if f.Signed {
				signed = " (signature verified)"
			}
			fmt.Fprintf(&b, "#   %-8s %s%s\n", f.Kind, f.Path, signed)
		}
	}
	data, err := json.MarshalIndent(s.Config, "", "  ")
	if err != nil {
		return fmt.Errorf("config show: %w", err)
	}
	b.Write(data)
	b.WriteString("\n\nSources:\n")
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	keys := make([]string, 0, len(s.Sources))
	for k := range s.Sources {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k, s.Sources[k])
	}
	tw.Flush()
	if len(s.Problems) > 0 {
		b.WriteString("\nMisconfigured connections (their deliveries wait; the others deliver):\n")
		for _, p := range s.Problems {
			b.WriteString("  " + p.String() + "\n")
		}
	}
	if len(s.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, p := range s.Warnings {
			b.WriteString("  " + p.String() + "\n")
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}
