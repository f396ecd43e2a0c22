package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

const diagnoseUsage = `Usage: ticketray diagnose [--json] [--processes N] [--log-lines N]

Show what a ticket would carry about this machine — system information,
with the config's redaction policy applied — and run the read-only
checks (disk-space, network-check, proxy-check, time-sync-check and any
config skill marked readOnly). Nothing is queued and nothing on the
machine is changed. The exit code is 0 even when a check finds a
problem; read the statuses.

With it come the last lines of Ticketray's log file (see 'ticketray
logs'), scrubbed of secrets, tokens and e-mail addresses; the log never
holds a ticket's text.

Flags:
  --json          print {"systemInfo", "skillResults", "troubleshootingSession", "log"}
  --processes N   also list the top N processes by CPU and by memory (default 0: none)
  --log-lines N   the log's last N lines (default 50; 0: none)
`

// diagnoseJSON is what `diagnose --json` prints.
type diagnoseJSON struct {
	SystemInfo             *diagnostics.SystemInfo            `json:"systemInfo"`
	SkillResults           []diagnostics.SkillResult          `json:"skillResults"`
	TroubleshootingSession *connectors.TroubleshootingSession `json:"troubleshootingSession"`
	// Log is the log file's last lines, scrubbed (absent with --log-lines 0).
	Log []string `json:"log,omitempty"`
}

func (c *cli) diagnose(args []string) error {
	fs := c.flags("diagnose", func() string { return diagnoseUsage })
	asJSON := fs.Bool("json", false, "")
	top := fs.Int("processes", 0, "")
	logLines := fs.Int("log-lines", DefaultLogLines, "")
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
	if *logLines < 0 || *logLines > 10000 {
		return usagef("--log-lines must be between 0 and 10000")
	}
	si, results, sess, err := Diagnose(c.ctx, c.configInForce(), c.env.Getenv, *top)
	if err != nil {
		return err
	}
	// A log that cannot be read is said so; the rest is still worth
	// printing.
	logs, logPath, logErr := LogTail(c.env.Getenv, *logLines)
	if logErr != nil {
		fmt.Fprintf(c.env.Stderr, "ticketray: %v\n", logErr)
	}
	if *asJSON {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(diagnoseJSON{si, results, sess, logs})
	}
	writeSystemInfo(c.env.Stdout, si)
	fmt.Fprintln(c.env.Stdout)
	fmt.Fprintln(c.env.Stdout, "Checks")
	writeResults(c.env.Stdout, results)
	if *logLines > 0 {
		writeLogTail(c.env.Stdout, logs, logPath)
	}
	return nil
}

// writeLogTail prints the log's last lines under a heading naming the
// file.
func writeLogTail(w io.Writer, lines []string, path string) {
	fmt.Fprintln(w)
	if len(lines) == 0 {
		fmt.Fprintf(w, "Log: nothing yet (%s)\n", path)
		return
	}
	fmt.Fprintf(w, "Log: the last %d lines of %s, scrubbed\n", len(lines), path)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", ts(l))
	}
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
