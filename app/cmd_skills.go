package app

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/ticketray/ticketray/diagnostics"
)

const skillsUsage = `Usage:
  ticketray skills list [--json]
  ticketray skills run ID [--json] [--dry-run] [--yes]

Troubleshooting skills are the built-in fixes and checks, plus the skills
IT declares in config ("skills"); nothing else can run.

list   every skill: the OSes it runs on, what it needs here (root or
       administrator rights, programs on PATH, a network), whether it
       changes the machine, and whether it can run here — and if not, why.
run    run one skill and print its (secret-scrubbed) output.
       --dry-run  report what would run; run nothing that changes the
                  machine (read-only checks and discovery still run)
       --yes      confirm a skill that asks for confirmation (wifi-reset,
                  clear-temp, print-spooler-restart, and config skills with
                  "requiresConfirmation"); without it they are not run
       --json     print the result as JSON

In a dry run a fix reports success with the commands it would have run.

Exit codes of run: 0 success, 1 failed, timed out or skipped (the reason
is printed), 2 unknown skill or confirmation missing.
`

func (c *cli) skillsCmd(args []string) error {
	fs := c.flags("skills", func() string { return skillsUsage })
	asJSON := fs.Bool("json", false, "")
	dry := fs.Bool("dry-run", false, "")
	yes := fs.Bool("yes", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("skills needs a subcommand: list or run ID\nRun 'ticketray skills --help' for usage.")
	}
	switch pos[0] {
	case "list":
		if len(pos) > 1 {
			return usagef("skills list takes no arguments (got %q)", pos[1])
		}
		if *dry || *yes {
			return usagef("--dry-run and --yes apply to 'skills run'")
		}
		return c.skillsList(*asJSON)
	case "run":
		if len(pos) != 2 {
			return usagef("skills run needs exactly one skill id (see 'ticketray skills list')")
		}
		return c.skillsRun(pos[1], *asJSON, *dry, *yes)
	}
	return usagef("unknown skills subcommand %q: use list or run", pos[0])
}

// skillJSON is one entry of `skills list --json`.
type skillJSON struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	Description          string            `json:"description,omitempty"`
	OS                   []string          `json:"os"`
	Needs                diagnostics.Needs `json:"needs"` // on this OS
	ChangesMachine       bool              `json:"changesMachine"`
	RequiresConfirmation bool              `json:"requiresConfirmation"`
	Source               string            `json:"source"`
	TimeoutMs            int64             `json:"timeoutMs"`
	CanRun               bool              `json:"canRun"`
	Reason               string            `json:"reason,omitempty"`
}

func (c *cli) skillsList(asJSON bool) error {
	cfg := c.configInForce()
	cat, err := catalog(cfg)
	if err != nil {
		return err
	}
	host := diagnostics.NewHost(helpDeskURLs(cfg))
	var list []skillJSON
	for _, s := range cat.All() {
		timeout := s.Timeout
		if timeout <= 0 {
			timeout = diagnostics.DefaultSkillTimeout
		}
		reason := s.Availability(host)
		os := s.OS
		if len(os) == 0 {
			os = diagnostics.SupportedOS
		}
		list = append(list, skillJSON{
			ID: s.ID, Name: s.Name, Description: s.Description, OS: os, Needs: s.Needs(runtime.GOOS),
			ChangesMachine: s.Changes, RequiresConfirmation: s.Confirm, Source: s.Source,
			TimeoutMs: timeout.Milliseconds(), CanRun: reason == "", Reason: reason,
		})
	}
	if asJSON {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tOS\tNEEDS HERE\tKIND\tRUNS HERE")
	for _, s := range list {
		kind := "check"
		if s.ChangesMachine {
			kind = "fix"
		}
		if s.RequiresConfirmation {
			kind += ", asks"
		}
		if s.Source == "config" {
			kind += ", IT"
		}
		here := "yes"
		if !s.CanRun {
			here = "no: " + s.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, strings.Join(s.OS, ","), needsText(s.Needs, runtime.GOOS), kind, here)
	}
	tw.Flush()
	fmt.Fprintln(c.env.Stderr, "fix = changes the machine; asks = runs only with --yes. Run one: ticketray skills run ID [--dry-run] [--yes]")
	return nil
}

func needsText(n diagnostics.Needs, goos string) string {
	var parts []string
	if n.Admin {
		if goos == "windows" {
			parts = append(parts, "admin")
		} else {
			parts = append(parts, "root")
		}
	}
	parts = append(parts, n.Binaries...)
	if n.Network {
		parts = append(parts, "network")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func (c *cli) skillsRun(id string, asJSON, dry, yes bool) error {
	cfg := c.configInForce()
	cat, err := catalog(cfg)
	if err != nil {
		return err
	}
	s := cat.Get(id)
	if s == nil {
		return usagef("unknown skill %q; known skills: %s", id, strings.Join(cat.IDs(), ", "))
	}
	host := diagnostics.NewHost(helpDeskURLs(cfg))
	if s.Confirm && !yes && !dry && s.Availability(host) == "" {
		return usagef("%s asks for confirmation: run 'ticketray skills run %s --yes' (or --dry-run to see what it would do)", id, id)
	}
	r := s.Run(c.ctx, host, diagnostics.RunOptions{DryRun: dry, Confirmed: yes})
	if asJSON {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else if r.Output != "" && r.Status != diagnostics.StatusSkipped {
		fmt.Fprintln(c.env.Stdout, r.Output)
	}
	switch {
	case r.Status == diagnostics.StatusSuccess:
		fmt.Fprintf(c.env.Stderr, "%s: success in %d ms\n", id, r.ExecutionTimeMs)
		return nil
	case r.Status == diagnostics.StatusSkipped:
		return fmt.Errorf("%s skipped: %s", id, r.Output)
	}
	return fmt.Errorf("%s %s after %d ms", id, r.Status, r.ExecutionTimeMs)
}
