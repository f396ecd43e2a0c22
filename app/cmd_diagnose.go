package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

// collectTimeout bounds system-information collection, so a slow probe
// never holds up a ticket: whatever arrived in time is attached, marked
// partial.
const collectTimeout = 3 * time.Second

// sysInfoOptions are the collection options the config and environment
// imply: the data dir (generated device id, redaction salt), the app
// version and IT's redaction policy.
func sysInfoOptions(cfg *config.Config, getenv func(string) string) diagnostics.Options {
	dir, err := DataDir(getenv)
	if err != nil {
		dir = ""
	}
	return diagnostics.Options{DataDir: dir, AppVersion: Version, Redaction: cfg.Redaction}
}

func collectSystemInfo(ctx context.Context, o diagnostics.Options) *diagnostics.SystemInfo {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	si := diagnostics.Collect(ctx, o)
	return &si
}

// SystemInfo collects this machine's information as it would be attached
// to a ticket, with the config's redaction policy applied.
func (s *Service) SystemInfo(ctx context.Context) *diagnostics.SystemInfo {
	return collectSystemInfo(ctx, sysInfoOptions(s.Config, s.getenv))
}

// helpDeskURLs are the base URLs of the enabled connections: what
// network-check and time-sync-check reach.
func helpDeskURLs(cfg *config.Config) []string {
	var urls []string
	seen := map[string]bool{}
	for _, c := range cfg.Enabled() {
		if c.BaseURL != "" && !seen[c.BaseURL] {
			seen[c.BaseURL] = true
			urls = append(urls, c.BaseURL)
		}
	}
	return urls
}

// catalog is every skill that may run: the built-ins and the config's.
func catalog(cfg *config.Config) (*diagnostics.Catalog, error) {
	cat, err := diagnostics.NewCatalog(cfg.Skills)
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Path: "skills", Msg: err.Error()}}}
	}
	return cat, nil
}

// ticketSession converts a skills session into the ticket's form.
func ticketSession(s diagnostics.Session) *connectors.TroubleshootingSession {
	return &connectors.TroubleshootingSession{
		StartTime:       s.StartTime,
		EndTime:         s.EndTime,
		DurationMs:      s.DurationMs,
		StepsAttempted:  s.StepsAttempted,
		StepsSuccessful: s.StepsSuccessful,
	}
}

const diagnoseUsage = `Usage: ticketray diagnose [--json] [--processes N]

Show what a ticket would carry about this machine — system information,
with the config's redaction policy applied — and run the read-only
checks (disk-space, network-check, proxy-check, time-sync-check and any
config skill marked readOnly). Nothing is queued and nothing on the
machine is changed. The exit code is 0 even when a check finds a
problem; read the statuses.

Flags:
  --json          print {"systemInfo", "skillResults", "troubleshootingSession"}
  --processes N   also list the top N processes by CPU and by memory (default 0: none)
`

// diagnoseJSON is what `diagnose --json` prints.
type diagnoseJSON struct {
	SystemInfo             *diagnostics.SystemInfo            `json:"systemInfo"`
	SkillResults           []diagnostics.SkillResult          `json:"skillResults"`
	TroubleshootingSession *connectors.TroubleshootingSession `json:"troubleshootingSession"`
}

func (c *cli) diagnose(args []string) error {
	fs := c.flags("diagnose", func() string { return diagnoseUsage })
	asJSON := fs.Bool("json", false, "")
	top := fs.Int("processes", 0, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("diagnose takes no arguments (got %q)", pos[0])
	}
	if *top < 0 || *top > 100 {
		return usagef("--processes must be between 0 and 100")
	}
	cfg, err := LoadConfig(c.config)
	if err != nil {
		return err
	}
	cat, err := catalog(cfg)
	if err != nil {
		return err
	}
	o := sysInfoOptions(cfg, c.env.Getenv)
	o.TopProcesses = *top
	// System information and the checks are independent: run them at once.
	infoc := make(chan *diagnostics.SystemInfo, 1)
	go func() { infoc <- collectSystemInfo(c.ctx, o) }()
	results, sess := diagnostics.RunAll(c.ctx, diagnostics.NewHost(helpDeskURLs(cfg)), cat.ReadOnly(), diagnostics.RunOptions{})
	si := <-infoc
	if *asJSON {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(diagnoseJSON{si, results, ticketSession(sess)})
	}
	writeSystemInfo(c.env.Stdout, si)
	fmt.Fprintln(c.env.Stdout)
	fmt.Fprintln(c.env.Stdout, "Checks")
	writeResults(c.env.Stdout, results)
	return nil
}

func writeSystemInfo(w io.Writer, si *diagnostics.SystemInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		if v := fmt.Sprintf(format, args...); strings.TrimSpace(v) != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	fmt.Fprintln(tw, "System")
	row("OS", "%s %s (%s, %s)", si.OSName, si.OSVersion, si.OSBuild, si.Architecture)
	row("Device", "%s", si.DeviceName)
	if si.DeviceID != "" {
		row("Device id", "%s (%s)", si.DeviceID, si.DeviceIDSource)
	}
	cpu := fmt.Sprintf("%s, %d cores", si.CPUModel, si.CPUCores)
	if l := si.CPULoad; l != nil {
		if l.UsagePercent != nil {
			cpu += fmt.Sprintf(", %.0f%% busy", *l.UsagePercent)
		} else {
			cpu += fmt.Sprintf(", load %.2f %.2f %.2f", l.Load1, l.Load5, l.Load15)
		}
	}
	row("CPU", "%s", cpu)
	if si.MemoryTotalMB > 0 {
		row("Memory", "%s used of %s", mib(si.MemoryUsedMB), mib(si.MemoryTotalMB))
	}
	if si.UptimeSeconds > 0 {
		row("Uptime", "%v (since %s)", (time.Duration(si.UptimeSeconds) * time.Second).String(), si.BootTime.Local().Format(time.DateTime))
	}
	row("User", "%s", si.User)
	row("Time zone", "%s %s", si.Timezone, si.UTCOffset)
	row("Locale", "%s", si.Locale)
	row("Ticketray", "%s", si.AppVersion)
	for _, d := range si.Disks {
		row("Disk "+d.Mount, "%s, %s free of %s", d.FSType, mib(d.FreeMB), mib(d.TotalMB))
	}
	if n := si.Network; n != nil {
		for _, i := range n.Interfaces {
			state := "down"
			if i.Up {
				state = "up"
			}
			row("Net "+i.Name, "%s %s %s", state, i.MAC, strings.Join(i.Addresses, ", "))
		}
		row("Gateway", "%s", strings.Join(n.Gateways, ", "))
		row("DNS", "%s", strings.Join(n.DNSServers, ", "))
	}
	for _, b := range si.Battery {
		row("Battery "+b.Name, "%d%% %s", b.Percent, b.Status)
	}
	if tp := si.TopProcesses; tp != nil {
		for _, p := range tp.ByCPU {
			row("Top CPU", "%5.1f%%  %s (%d)", p.CPUPercent, p.Name, p.PID)
		}
		for _, p := range tp.ByMemory {
			row("Top memory", "%8s  %s (%d)", mib(p.MemoryMB), p.Name, p.PID)
		}
	}
	for _, f := range si.FailedProbes {
		row("Partial", "%s: %s", f.Probe, f.Error)
	}
	tw.Flush()
}

func mib(mb uint64) string {
	if mb >= 1<<10 {
		return fmt.Sprintf("%.1f GiB", float64(mb)/(1<<10))
	}
	return fmt.Sprintf("%d MiB", mb)
}

// writeResults prints each result's status line and its indented output.
func writeResults(w io.Writer, results []diagnostics.SkillResult) {
	for _, r := range results {
		fmt.Fprintf(w, "  %-8s %s — %s (%d ms)\n", strings.ToUpper(r.Status), r.SkillID, r.SkillName, r.ExecutionTimeMs)
		if r.Output != "" {
			for _, line := range strings.Split(r.Output, "\n") {
				fmt.Fprintf(w, "           %s\n", line)
			}
		}
	}
}

// SuggestedSkills are the skills the report window offers to run before a
// ticket is sent: the read-only checks, which change nothing and ask for
// no confirmation.
func (s *Service) SuggestedSkills() ([]*diagnostics.Skill, error) {
	cat, err := catalog(s.Config)
	if err != nil {
		return nil, err
	}
	return cat.ReadOnly(), nil
}

// RunSkills runs skills with the config's help desk URLs, telling onResult
// (if set) each result as it ends, and returns the results with the
// troubleshooting session to attach to a ticket.
func (s *Service) RunSkills(ctx context.Context, skills []*diagnostics.Skill, onResult func(i int, r diagnostics.SkillResult)) ([]diagnostics.SkillResult, *connectors.TroubleshootingSession) {
	host := diagnostics.NewHost(helpDeskURLs(s.Config))
	results, sess := diagnostics.RunAll(ctx, host, skills, diagnostics.RunOptions{OnResult: onResult})
	return results, ticketSession(sess)
}
