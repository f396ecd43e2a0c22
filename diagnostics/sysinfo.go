// Package diagnostics collects what Ticketray knows about the machine and
// runs the troubleshooting skills whose results travel with a ticket.
package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
	psnet "github.com/shirou/gopsutil/v3/net"
	"github.com/shirou/gopsutil/v3/process"
)

// SystemInfo is the machine context attached to a ticket. Field names are
// the standard ticket's camelCase names; every field is best effort.
type SystemInfo struct {
	OSName       string `json:"osName,omitempty"`
	OSVersion    string `json:"osVersion"`
	OSBuild      string `json:"osBuild,omitempty"` // the kernel version (Windows: version and build)
	Architecture string `json:"architecture"`
	DeviceName   string `json:"deviceName"`
	DeviceID     string `json:"deviceId,omitempty"`
	// DeviceIDSource is "host" (the OS's machine id) or "generated" (a
	// random id kept in the data dir because the OS offers none).
	DeviceIDSource string        `json:"deviceIdSource,omitempty"`
	CPUModel       string        `json:"cpuModel,omitempty"`
	CPUCores       int           `json:"cpuCores,omitempty"` // logical cores
	CPULoad        *CPULoad      `json:"cpuLoad,omitempty"`
	MemoryTotalMB  uint64        `json:"memoryTotalMb,omitempty"`
	MemoryUsedMB   uint64        `json:"memoryUsedMb,omitempty"`
	Disks          []Disk        `json:"disks,omitempty"`
	Network        *Network      `json:"network,omitempty"`
	UptimeSeconds  uint64        `json:"uptimeSeconds,omitempty"`
	BootTime       time.Time     `json:"bootTime,omitzero"`
	Battery        []Battery     `json:"battery,omitempty"`
	User           string        `json:"user,omitempty"`     // the logged-in OS account
	Timezone       string        `json:"timezone,omitempty"` // IANA name when known, else the abbreviation
	UTCOffset      string        `json:"utcOffset,omitempty"`
	Locale         string        `json:"locale,omitempty"`
	AppVersion     string        `json:"appVersion,omitempty"`
	TopProcesses   *TopProcesses `json:"topProcesses,omitempty"`
	// Partial is set when a probe failed or timed out; the rest is still valid.
	Partial      bool           `json:"partial,omitempty"`
	FailedProbes []ProbeFailure `json:"failedProbes,omitempty"`
}

// CPULoad is the load average where the OS keeps one (Unix), or the
// CPU usage over a short sample (Windows).
type CPULoad struct {
	Load1        float64  `json:"load1,omitempty"`
	Load5        float64  `json:"load5,omitempty"`
	Load15       float64  `json:"load15,omitempty"`
	UsagePercent *float64 `json:"usagePercent,omitempty"`
}

// Disk is one mounted filesystem.
type Disk struct {
	Mount   string `json:"mount"`
	Device  string `json:"device,omitempty"`
	FSType  string `json:"fsType"`
	TotalMB uint64 `json:"totalMb"`
	FreeMB  uint64 `json:"freeMb"`
}

// Network is the machine's interfaces and name resolution.
type Network struct {
	Interfaces []Interface `json:"interfaces,omitempty"`
	Gateways   []string    `json:"gateways,omitempty"`
	DNSServers []string    `json:"dnsServers,omitempty"`
}

// Interface is one network interface (loopback excluded).
type Interface struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	Up        bool     `json:"up"`
}

// Battery is one battery's charge.
type Battery struct {
	Name    string `json:"name,omitempty"`
	Percent int    `json:"percent"`
	Status  string `json:"status,omitempty"` // charging, discharging, full, …
}

// TopProcesses lists the busiest processes (opt-in).
type TopProcesses struct {
	ByCPU    []Process `json:"byCpu"`
	ByMemory []Process `json:"byMemory"`
}

// Process is one process. CPUPercent is its average since it started.
type Process struct {
	PID        int32   `json:"pid"`
	Name       string  `json:"name"`
	CPUPercent float64 `json:"cpuPercent"`
	MemoryMB   uint64  `json:"memoryMb"`
}

// ProbeFailure names a probe that failed or timed out.
type ProbeFailure struct {
	Probe string `json:"probe"`
	Error string `json:"error"`
}

// SkillResult is the outcome of one troubleshooting skill.
type SkillResult struct {
	SkillID         string `json:"skillId"`
	SkillName       string `json:"skillName"`
	Status          string `json:"status"` // success, failed, skipped, timeout
	Output          string `json:"output,omitempty"`
	ExecutionTimeMs int64  `json:"executionTimeMs"`
}

// Options control Collect.
type Options struct {
	// DataDir keeps the generated device id and the redaction salt; ""
	// means neither persists (no generated id; hashed fields are dropped).
	DataDir    string
	AppVersion string
	// TopProcesses is how many processes to list by CPU and by memory;
	// 0 (the default) lists none.
	TopProcesses int
	// ProbeTimeout bounds each probe; 0 means DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// Redaction drops or hashes fields before the result is returned.
	Redaction Redaction
	// Runner runs the commands some OSes need (gateway, DNS, locale,
	// battery on macOS and Windows); nil means ExecRunner.
	Runner Runner

	sys sysEnv // tests: another OS's conventions, fixture root
}

// DefaultProbeTimeout bounds one probe.
const DefaultProbeTimeout = 2 * time.Second

// probe gathers one part of SystemInfo. It returns a function that copies
// its findings into the result (run only if the probe finished in time),
// and an error that marks the result partial. A probe may return both.
type probe struct {
	name string
	run  func(ctx context.Context, o *Options) (func(*SystemInfo), error)
}

// probes are the system-information probes, run concurrently by Collect.
var probes = []probe{
	{"host", probeHost},
	{"deviceId", probeDeviceID},
	{"cpu", probeCPU},
	{"load", probeLoad},
	{"memory", probeMemory},
	{"disks", probeDisks},
	{"interfaces", probeInterfaces},
	{"gateway", probeGateway},
	{"dns", probeDNS},
	{"battery", probeBattery},
	{"user", probeUser},
	{"locale", probeLocale},
	{"processes", probeProcesses},
}

// Collect gathers system information. Every probe runs concurrently with
// its own timeout; one that fails or is too slow is named in FailedProbes
// and marks the result Partial, and never delays the rest beyond its
// timeout. The redaction policy is applied before Collect returns.
func Collect(ctx context.Context, o Options) SystemInfo {
	return collect(ctx, o, probes)
}

func (o *Options) defaults() {
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	if o.Runner == nil {
		o.Runner = ExecRunner{}
	}
	if o.sys.goos == "" {
		o.sys.goos = runtime.GOOS
	}
	if o.sys.runner == nil {
		o.sys.runner = o.Runner
	}
	if o.sys.getenv == nil {
		o.sys.getenv = os.Getenv
	}
}

// base is what is known without asking the OS anything.
func base(o *Options) SystemInfo {
	now := time.Now()
	name, offset := now.Zone()
	return SystemInfo{
		OSName:       runtime.GOOS,
		Architecture: runtime.GOARCH,
		CPUCores:     runtime.NumCPU(),
		Timezone:     name,
		UTCOffset:    formatOffset(offset),
		AppVersion:   o.AppVersion,
	}
}

type outcome struct {
	i     int
	apply func(*SystemInfo)
	err   error
}

func collect(ctx context.Context, o Options, ps []probe) SystemInfo {
	o.defaults()
	si := base(&o)
	results := make(chan outcome, len(ps))
	for i, p := range ps {
		go func() { results <- runProbe(ctx, &o, i, p) }()
	}
	got := make([]outcome, len(ps))
	for range ps {
		r := <-results
		got[r.i] = r
	}
	// Apply in probe order, so the result does not depend on timing.
	for i, r := range got {
		if r.apply != nil {
			r.apply(&si)
		}
		if r.err != nil {
			si.Partial = true
			si.FailedProbes = append(si.FailedProbes, ProbeFailure{Probe: ps[i].name, Error: r.err.Error()})
		}
	}
	if err := o.Redaction.apply(&si, o.DataDir); err != nil {
		si.Partial = true
		si.FailedProbes = append(si.FailedProbes, ProbeFailure{Probe: "redaction", Error: err.Error()})
	}
	return si
}

// runProbe runs p in its own goroutine and returns when it finishes or its
// timeout passes, whichever is first. A probe that overruns is abandoned:
// its findings are discarded, so it can never race with the result.
func runProbe(ctx context.Context, o *Options, i int, p probe) outcome {
	pctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		apply, err := p.run(pctx, o)
		done <- outcome{i, apply, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && pctx.Err() != nil {
			r.err = fmt.Errorf("%w (%v)", r.err, timeoutNote(pctx, o.ProbeTimeout))
		}
		return r
	case <-pctx.Done():
		return outcome{i: i, err: errors.New(timeoutNote(pctx, o.ProbeTimeout))}
	}
}

func timeoutNote(ctx context.Context, d time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("timed out after %v", d)
	}
	return "cancelled"
}

// collectSerial runs the same probes one after another in this goroutine.
// It is the baseline the benchmark compares Collect with.
func collectSerial(ctx context.Context, o Options) SystemInfo {
	o.defaults()
	si := base(&o)
	for _, p := range probes {
		apply, err := p.run(ctx, &o)
		if apply != nil {
			apply(&si)
		}
		if err != nil {
			si.Partial = true
			si.FailedProbes = append(si.FailedProbes, ProbeFailure{Probe: p.name, Error: err.Error()})
		}
	}
	if err := o.Redaction.apply(&si, o.DataDir); err != nil {
		si.Partial = true
	}
	return si
}

func probeHost(ctx context.Context, _ *Options) (func(*SystemInfo), error) {
	h, err := host.InfoWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("host info: %w", err)
	}
	return func(si *SystemInfo) {
		if h.Platform != "" {
			si.OSName = h.Platform
		}
		si.OSVersion = h.PlatformVersion
		si.OSBuild = h.KernelVersion
		if h.KernelArch != "" {
			si.Architecture = h.KernelArch
		}
		si.DeviceName = h.Hostname
		si.UptimeSeconds = h.Uptime
		if h.BootTime > 0 {
			si.BootTime = time.Unix(int64(h.BootTime), 0).UTC()
		}
	}, nil
}

func probeCPU(ctx context.Context, _ *Options) (func(*SystemInfo), error) {
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("cpu info: %w", err)
	}
	if len(infos) == 0 {
		return nil, errors.New("cpu info: no processors listed")
	}
	model := infos[0].ModelName
	return func(si *SystemInfo) { si.CPUModel = model }, nil
}

// windowsCPUSample is how long the CPU is sampled on Windows, which keeps
// no load average.
const windowsCPUSample = 200 * time.Millisecond

func probeLoad(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	var l CPULoad
	if o.sys.goos == "windows" {
		pct, err := cpu.PercentWithContext(ctx, windowsCPUSample, false)
		if err != nil || len(pct) == 0 {
			return nil, fmt.Errorf("cpu usage: %w", orNone(err))
		}
		l.UsagePercent = &pct[0]
	} else {
		avg, err := load.AvgWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("load average: %w", err)
		}
		l.Load1, l.Load5, l.Load15 = avg.Load1, avg.Load5, avg.Load15
	}
	return func(si *SystemInfo) { si.CPULoad = &l }, nil
}

func probeMemory(ctx context.Context, _ *Options) (func(*SystemInfo), error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	return func(si *SystemInfo) {
		si.MemoryTotalMB = vm.Total >> 20
		si.MemoryUsedMB = vm.Used >> 20
	}, nil
}

// pseudoFS are filesystems that hold no user data.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "tmpfs": true, "ramfs": true,
	"cgroup": true, "cgroup2": true, "securityfs": true, "pstore": true, "debugfs": true,
	"tracefs": true, "configfs": true, "fusectl": true, "mqueue": true, "hugetlbfs": true,
	"bpf": true, "autofs": true, "binfmt_misc": true, "rpc_pipefs": true, "nsfs": true,
	"squashfs": true, "devfs": true, "efivarfs": true, "selinuxfs": true, "nullfs": true, "fdescfs": true, "linprocfs": true, "map": true,
}

func probeDisks(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	disks, err := listDisks(ctx)
	if disks == nil && err != nil {
		return nil, err
	}
	return func(si *SystemInfo) { si.Disks = disks }, err
}

// listDisks lists mounted filesystems, pseudo filesystems excluded. A
// stale network mount can block statfs for minutes, so every mount is
// asked at once and those that answer before ctx's deadline (less a
// margin to return in) are kept; the error counts the others.
func listDisks(ctx context.Context) ([]Disk, error) {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil && len(parts) == 0 {
		return nil, fmt.Errorf("partitions: %w", err)
	}
	seen := map[string]bool{}
	var mounts []disk.PartitionStat
	for _, p := range parts {
		if pseudoFS[p.Fstype] || seen[p.Mountpoint] {
			continue
		}
		seen[p.Mountpoint] = true
		mounts = append(mounts, p)
	}
	type usage struct {
		i int
		u *disk.UsageStat
	}
	ch := make(chan usage, len(mounts))
	for i, p := range mounts {
		go func() {
			u, err := disk.UsageWithContext(ctx, p.Mountpoint)
			if err != nil {
				u = nil
			}
			ch <- usage{i, u}
		}()
	}
	soft := time.NewTimer(softDeadline(ctx))
	defer soft.Stop()
	got := make([]*disk.UsageStat, len(mounts))
	answered := 0
wait:
	for range mounts {
		select {
		case r := <-ch:
			got[r.i] = r.u
			answered++
		case <-soft.C:
			break wait
		}
	}
	disks := []Disk{}
	for i, p := range mounts {
		if u := got[i]; u != nil && u.Total > 0 {
			disks = append(disks, Disk{Mount: p.Mountpoint, Device: p.Device, FSType: p.Fstype, TotalMB: u.Total >> 20, FreeMB: u.Free >> 20})
		}
	}
	if slow := len(mounts) - answered; slow > 0 {
		return disks, fmt.Errorf("%d mounts did not answer in time", slow)
	}
	return disks, nil
}

// softDeadline leaves a fifth of a probe's remaining time to return what
// it has.
func softDeadline(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return DefaultProbeTimeout
	}
	return time.Until(dl) * 4 / 5
}

func probeInterfaces(ctx context.Context, _ *Options) (func(*SystemInfo), error) {
	ifs, err := psnet.InterfacesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("interfaces: %w", err)
	}
	var list []Interface
	for _, nif := range ifs {
		up, loop := false, false
		for _, f := range nif.Flags {
			up = up || f == "up"
			loop = loop || f == "loopback"
		}
		if loop {
			continue
		}
		it := Interface{Name: nif.Name, MAC: nif.HardwareAddr, Up: up}
		for _, a := range nif.Addrs {
			it.Addresses = append(it.Addresses, a.Addr)
		}
		list = append(list, it)
	}
	return func(si *SystemInfo) { network(si).Interfaces = list }, nil
}

func network(si *SystemInfo) *Network {
	if si.Network == nil {
		si.Network = &Network{}
	}
	return si.Network
}

func probeGateway(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	gws, err := o.sys.gateways(ctx)
	if err != nil {
		return nil, err
	}
	if len(gws) == 0 {
		return nil, nil
	}
	return func(si *SystemInfo) { network(si).Gateways = gws }, nil
}

func probeDNS(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	servers, err := o.sys.dnsServers(ctx)
	if err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		return nil, nil
	}
	return func(si *SystemInfo) { network(si).DNSServers = servers }, nil
}

func probeProcesses(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	n := o.TopProcesses
	if n <= 0 {
		return nil, nil
	}
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("processes: %w", err)
	}
	var all []Process
	for _, p := range procs {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("processes: %w", ctx.Err())
		}
		name, err := p.NameWithContext(ctx)
		if err != nil {
			continue // gone, or not ours to read
		}
		pr := Process{PID: p.Pid, Name: name}
		if c, err := p.CPUPercentWithContext(ctx); err == nil {
			pr.CPUPercent = float64(int(c*10)) / 10
		}
		if m, err := p.MemoryInfoWithContext(ctx); err == nil {
			pr.MemoryMB = m.RSS >> 20
		}
		all = append(all, pr)
	}
	top := func(less func(a, b Process) bool) []Process {
		s := append([]Process(nil), all...)
		sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
		return s[:min(n, len(s))]
	}
	tp := &TopProcesses{
		ByCPU:    top(func(a, b Process) bool { return a.CPUPercent > b.CPUPercent }),
		ByMemory: top(func(a, b Process) bool { return a.MemoryMB > b.MemoryMB }),
	}
	return func(si *SystemInfo) { si.TopProcesses = tp }, nil
}

func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d:%02d", sign, sec/3600, sec%3600/60)
}

func orNone(err error) error {
	if err == nil {
		return errors.New("no value")
	}
	return err
}
