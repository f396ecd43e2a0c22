// Package diagnostics collects what Ticketray knows about the machine and
// runs the troubleshooting skills whose results travel with a ticket.
package diagnostics

import (
	"context"
	"os"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/mem"
)

// SystemInfo is the machine context attached to a ticket. Field names are
// the standard ticket's camelCase names.
type SystemInfo struct {
	OSName        string `json:"osName,omitempty"`
	OSVersion     string `json:"osVersion"`
	OSBuild       string `json:"osBuild,omitempty"`
	Architecture  string `json:"architecture"`
	DeviceName    string `json:"deviceName"`
	DeviceID      string `json:"deviceId,omitempty"`
	CPUModel      string `json:"cpuModel,omitempty"`
	CPUCores      int    `json:"cpuCores,omitempty"`
	MemoryTotalMB uint64 `json:"memoryTotalMb,omitempty"`
	MemoryUsedMB  uint64 `json:"memoryUsedMb,omitempty"`
	UptimeSeconds uint64 `json:"uptimeSeconds,omitempty"`
	Timezone      string `json:"timezone,omitempty"`
	// Partial is set when a probe failed or timed out; the rest is still valid.
	Partial bool `json:"partial,omitempty"`
}

// SkillResult is the outcome of one troubleshooting skill.
type SkillResult struct {
	SkillID         string `json:"skillId"`
	SkillName       string `json:"skillName"`
	Status          string `json:"status"` // success, failed, skipped, timeout
	Output          string `json:"output,omitempty"`
	ExecutionTimeMs int64  `json:"executionTimeMs"`
}

// Collect gathers system information. Each probe is bounded by ctx; a probe
// that fails marks the result partial instead of failing the whole ticket.
func Collect(ctx context.Context) SystemInfo {
	si := SystemInfo{Architecture: runtime.GOARCH, OSName: runtime.GOOS}
	si.DeviceName, _ = os.Hostname()
	si.Timezone, _ = time.Now().Zone()

	if h, err := host.InfoWithContext(ctx); err == nil {
		si.OSName = h.Platform
		si.OSVersion = h.PlatformVersion
		si.OSBuild = h.KernelVersion
		if h.KernelArch != "" {
			si.Architecture = h.KernelArch
		}
		si.DeviceID = h.HostID
		si.UptimeSeconds = h.Uptime
		if h.Hostname != "" {
			si.DeviceName = h.Hostname
		}
	} else {
		si.Partial = true
	}
	if infos, err := cpu.InfoWithContext(ctx); err == nil && len(infos) > 0 {
		si.CPUModel = infos[0].ModelName
	} else {
		si.Partial = true
	}
	si.CPUCores = runtime.NumCPU()
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		si.MemoryTotalMB = vm.Total >> 20
		si.MemoryUsedMB = vm.Used >> 20
	} else {
		si.Partial = true
	}
	return si
}

// SkillSpec declares an IT-defined skill in config: a program run with
// fixed arguments (no shell, no user input interpolated).
type SkillSpec struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Description          string   `json:"description,omitempty"`
	Program              string   `json:"program"`
	Args                 []string `json:"args,omitempty"`
	TimeoutMs            int      `json:"timeoutMs,omitempty"`
	OS                   []string `json:"os,omitempty"`
	RequiresAdmin        bool     `json:"requiresAdmin,omitempty"`
	RequiresConfirmation bool     `json:"requiresConfirmation,omitempty"`
}
