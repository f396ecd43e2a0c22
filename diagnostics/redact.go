package diagnostics

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Redaction is IT's policy for system-information fields that must not
// leave the machine as they are: Drop removes a field; Hash replaces each
// value with "sha256:" and 32 hex digits of HMAC-SHA-256 keyed with a
// random per-install salt kept in the data dir, so values stay
// correlatable across one machine's tickets but cannot be reversed or
// matched across machines. Paths are listed by RedactionFields.
//
// In config: {"redaction": {"drop": ["network.mac", "user"], "hash": ["deviceName"]}}.
type Redaction struct {
	Drop []string `json:"drop,omitempty"`
	Hash []string `json:"hash,omitempty"`
}

// RedactionField is one path a Redaction may name.
type RedactionField struct {
	Path     string
	Doc      string
	Hashable bool // string values; other fields can only be dropped
}

type redactable struct {
	RedactionField
	strs func(si *SystemInfo) []*string // the values Hash rewrites
	drop func(si *SystemInfo)
}

func each[T any](s []T, f func(*T) []*string) []*string {
	var out []*string
	for i := range s {
		out = append(out, f(&s[i])...)
	}
	return out
}

func ifaces(si *SystemInfo) []Interface {
	if si.Network == nil {
		return nil
	}
	return si.Network.Interfaces
}

func str(p *string) []*string { return []*string{p} }

func strsOf(s []string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// hashable makes a field whose values are strings: Drop clears them.
func hashable(path, doc string, strs func(si *SystemInfo) []*string) redactable {
	return redactable{RedactionField{path, doc, true}, strs, func(si *SystemInfo) {
		for _, p := range strs(si) {
			*p = ""
		}
	}}
}

func dropOnly(path, doc string, drop func(si *SystemInfo)) redactable {
	return redactable{RedactionField{path, doc, false}, nil, drop}
}

var redactables = []redactable{
	hashable("deviceName", "the host name", func(si *SystemInfo) []*string { return str(&si.DeviceName) }),
	{RedactionField{"deviceId", "the device id (and its source)", true}, func(si *SystemInfo) []*string { return str(&si.DeviceID) },
		func(si *SystemInfo) { si.DeviceID, si.DeviceIDSource = "", "" }},
	hashable("user", "the logged-in OS account", func(si *SystemInfo) []*string { return str(&si.User) }),
	hashable("osBuild", "the kernel version or OS build", func(si *SystemInfo) []*string { return str(&si.OSBuild) }),
	hashable("cpuModel", "the CPU model", func(si *SystemInfo) []*string { return str(&si.CPUModel) }),
	{RedactionField{"timezone", "the time zone (dropping also drops utcOffset)", true}, func(si *SystemInfo) []*string { return str(&si.Timezone) },
		func(si *SystemInfo) { si.Timezone, si.UTCOffset = "", "" }},
	hashable("locale", "the locale", func(si *SystemInfo) []*string { return str(&si.Locale) }),
	dropOnly("network", "interfaces, gateways and DNS servers", func(si *SystemInfo) { si.Network = nil }),
	dropOnly("network.interfaces", "every network interface", func(si *SystemInfo) {
		if si.Network != nil {
			si.Network.Interfaces = nil
		}
	}),
	hashable("network.mac", "each interface's MAC address", func(si *SystemInfo) []*string {
		return each(ifaces(si), func(i *Interface) []*string { return str(&i.MAC) })
	}),
	{RedactionField{"network.addresses", "each interface's IP addresses", true}, func(si *SystemInfo) []*string {
		return each(ifaces(si), func(i *Interface) []*string { return strsOf(i.Addresses) })
	}, func(si *SystemInfo) {
		for i := range ifaces(si) {
			si.Network.Interfaces[i].Addresses = nil
		}
	}},
	{RedactionField{"network.gateways", "the default gateways", true}, func(si *SystemInfo) []*string {
		if si.Network == nil {
			return nil
		}
		return strsOf(si.Network.Gateways)
	}, func(si *SystemInfo) {
		if si.Network != nil {
			si.Network.Gateways = nil
		}
	}},
	{RedactionField{"network.dnsServers", "the DNS servers", true}, func(si *SystemInfo) []*string {
		if si.Network == nil {
			return nil
		}
		return strsOf(si.Network.DNSServers)
	}, func(si *SystemInfo) {
		if si.Network != nil {
			si.Network.DNSServers = nil
		}
	}},
	dropOnly("disks", "every disk", func(si *SystemInfo) { si.Disks = nil }),
	hashable("disks.mount", "each disk's mount point", func(si *SystemInfo) []*string {
		return each(si.Disks, func(d *Disk) []*string { return str(&d.Mount) })
	}),
	hashable("disks.device", "each disk's device name", func(si *SystemInfo) []*string {
		return each(si.Disks, func(d *Disk) []*string { return str(&d.Device) })
	}),
	dropOnly("battery", "battery charge", func(si *SystemInfo) { si.Battery = nil }),
	dropOnly("bootTime", "the boot time", func(si *SystemInfo) { si.BootTime = time.Time{} }),
	dropOnly("uptimeSeconds", "the uptime", func(si *SystemInfo) { si.UptimeSeconds = 0 }),
	dropOnly("topProcesses", "the top-processes lists", func(si *SystemInfo) { si.TopProcesses = nil }),
	{RedactionField{"topProcesses.name", "each listed process's name", true}, func(si *SystemInfo) []*string {
		if si.TopProcesses == nil {
			return nil
		}
		return append(each(si.TopProcesses.ByCPU, func(p *Process) []*string { return str(&p.Name) }),
			each(si.TopProcesses.ByMemory, func(p *Process) []*string { return str(&p.Name) })...)
	}, func(si *SystemInfo) {
		if tp := si.TopProcesses; tp != nil {
			for i := range tp.ByCPU {
				tp.ByCPU[i].Name = ""
			}
			for i := range tp.ByMemory {
				tp.ByMemory[i].Name = ""
			}
		}
	}},
	dropOnly("failedProbes", "the names and errors of failed probes (partial stays)", func(si *SystemInfo) { si.FailedProbes = nil }),
}

// RedactionFields lists the paths a Redaction may name.
func RedactionFields() []RedactionField {
	out := make([]RedactionField, len(redactables))
	for i, r := range redactables {
		out[i] = r.RedactionField
	}
	return out
}

func lookupRedactable(path string) (redactable, bool) {
	for _, r := range redactables {
		if r.Path == path {
			return r, true
		}
	}
	return redactable{}, false
}

// Problem is one invalid field of a config entry.
type Problem struct {
	Field string // relative to the entry, e.g. "hash[1]"
	Msg   string
}

// Problems validates the policy: every path known, hashed paths hashable,
// no path both dropped and hashed.
func (r Redaction) Problems() []Problem {
	var probs []Problem
	dropped := map[string]bool{}
	check := func(list string, i int, p string) (redactable, bool) {
		f, ok := lookupRedactable(p)
		if !ok {
			probs = append(probs, Problem{fmt.Sprintf("%s[%d]", list, i), fmt.Sprintf("unknown field %q; known: %s", p, strings.Join(redactionPaths(), ", "))})
		}
		return f, ok
	}
	for i, p := range r.Drop {
		check("drop", i, p)
		dropped[p] = true
	}
	for i, p := range r.Hash {
		f, ok := check("hash", i, p)
		switch {
		case !ok:
		case !f.Hashable:
			probs = append(probs, Problem{fmt.Sprintf("hash[%d]", i), fmt.Sprintf("%q is not text and can only be dropped", p)})
		case dropped[p]:
			probs = append(probs, Problem{fmt.Sprintf("hash[%d]", i), fmt.Sprintf("%q is also in drop; name it in one list", p)})
		}
	}
	return probs
}

func redactionPaths() []string {
	out := make([]string, len(redactables))
	for i, r := range redactables {
		out[i] = r.Path
	}
	return out
}

// IsZero reports whether the policy changes nothing.
func (r Redaction) IsZero() bool { return len(r.Drop) == 0 && len(r.Hash) == 0 }

// apply redacts si in place. Hashing needs the install's salt from
// dataDir; without it the hashed fields are dropped instead (failing
// closed) and the error says so. Unknown paths are dropped-nothing but
// reported: config validation rejects them before this.
func (r Redaction) apply(si *SystemInfo, dataDir string) error {
	if r.IsZero() {
		return nil
	}
	var unknown []string
	for _, p := range r.Drop {
		if f, ok := lookupRedactable(p); ok {
			f.drop(si)
		} else {
			unknown = append(unknown, p)
		}
	}
	var salt []byte
	var saltErr error
	if len(r.Hash) > 0 {
		salt, saltErr = loadSalt(dataDir)
	}
	for _, p := range r.Hash {
		f, ok := lookupRedactable(p)
		switch {
		case !ok:
			unknown = append(unknown, p)
		case salt == nil || f.strs == nil:
			f.drop(si)
		default:
			for _, v := range f.strs(si) {
				if *v != "" {
					*v = hashValue(salt, *v)
				}
			}
		}
	}
	switch {
	case saltErr != nil:
		return fmt.Errorf("no redaction salt, so fields to hash were dropped: %w", saltErr)
	case len(unknown) > 0:
		return fmt.Errorf("unknown redaction fields ignored: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// Redact applies the policy to a copy of si. dataDir holds the salt.
func (r Redaction) Redact(si SystemInfo, dataDir string) (SystemInfo, error) {
	c := cloneInfo(si)
	err := r.apply(&c, dataDir)
	return c, err
}

func cloneInfo(si SystemInfo) SystemInfo {
	c := si
	c.Disks = append([]Disk(nil), si.Disks...)
	c.Battery = append([]Battery(nil), si.Battery...)
	c.FailedProbes = append([]ProbeFailure(nil), si.FailedProbes...)
	if si.Network != nil {
		n := *si.Network
		n.Gateways = append([]string(nil), n.Gateways...)
		n.DNSServers = append([]string(nil), n.DNSServers...)
		n.Interfaces = append([]Interface(nil), n.Interfaces...)
		for i := range n.Interfaces {
			n.Interfaces[i].Addresses = append([]string(nil), n.Interfaces[i].Addresses...)
		}
		c.Network = &n
	}
	if si.TopProcesses != nil {
		tp := TopProcesses{ByCPU: append([]Process(nil), si.TopProcesses.ByCPU...), ByMemory: append([]Process(nil), si.TopProcesses.ByMemory...)}
		c.TopProcesses = &tp
	}
	if si.CPULoad != nil {
		l := *si.CPULoad
		c.CPULoad = &l
	}
	return c
}

func hashValue(salt []byte, v string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(v))
	return "sha256:" + hex.EncodeToString(m.Sum(nil))[:32]
}

// loadSalt reads the install's 256-bit salt, creating it on first use.
func loadSalt(dataDir string) ([]byte, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("no data dir")
	}
	h, err := readOrCreate(filepath.Join(dataDir, saltFile), func() (string, error) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		return hex.EncodeToString(b[:]), nil
	}, func(s string) bool { return len(s) == 64 && isHex(s) })
	if err != nil {
		return nil, fmt.Errorf("redaction salt: %w", err)
	}
	return hex.DecodeString(h)
}
