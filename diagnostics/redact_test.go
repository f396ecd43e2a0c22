package diagnostics

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fullInfo has a distinctive value in every redactable field.
func fullInfo() SystemInfo {
	pct := 12.5
	return SystemInfo{
		OSName: "debian", OSVersion: "12", OSBuild: "build-6.1.0-secret", Architecture: "amd64",
		DeviceName: "alice-laptop", DeviceID: "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", DeviceIDSource: "host",
		CPUModel: "cpu-model-x", CPUCores: 8, CPULoad: &CPULoad{UsagePercent: &pct},
		MemoryTotalMB: 16384, MemoryUsedMB: 4096,
		Disks: []Disk{{Mount: "/home/alice", Device: "/dev/nvme0n1p3", FSType: "ext4", TotalMB: 1000, FreeMB: 500}},
		Network: &Network{
			Interfaces: []Interface{{Name: "wlp2s0", MAC: "f4:8c:50:aa:bb:cc", Addresses: []string{"192.168.1.23/24", "2001:db8::23/64"}, Up: true}},
			Gateways:   []string{"192.168.1.254"}, DNSServers: []string{"192.168.1.253"},
		},
		UptimeSeconds: 987654, BootTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Battery: []Battery{{Name: "BAT0", Percent: 64, Status: "charging"}},
		User:    "alice.smith", Timezone: "Europe/Paris", UTCOffset: "+01:00", Locale: "fr_FR.UTF-8",
		TopProcesses: &TopProcesses{ByCPU: []Process{{PID: 1, Name: "secret-project.exe", CPUPercent: 50}}, ByMemory: []Process{{PID: 1, Name: "secret-project.exe", MemoryMB: 900}}},
		Partial:      true, FailedProbes: []ProbeFailure{{Probe: "battery", Error: "probe-error-text"}},
	}
}

// sentinel is the value each path guards in fullInfo (as it appears in JSON).
var sentinel = map[string]string{
	"deviceName": "alice-laptop", "deviceId": "3d1219c7", "user": "alice.smith", "osBuild": "build-6.1.0-secret",
	"cpuModel": "cpu-model-x", "timezone": "Europe/Paris", "locale": "fr_FR", "network": "wlp2s0",
	"network.interfaces": "wlp2s0", "network.mac": "f4:8c:50", "network.addresses": "192.168.1.23",
	"network.gateways": "192.168.1.254", "network.dnsServers": "192.168.1.253", "disks": "nvme0n1p3",
	"disks.mount": "/home/alice", "disks.device": "nvme0n1p3", "battery": "BAT0", "bootTime": "2026-01-02",
	"uptimeSeconds": "987654", "topProcesses": "secret-project", "topProcesses.name": "secret-project",
	"failedProbes": "probe-error-text",
}

func TestEveryRedactionPathRemovesItsValue(t *testing.T) {
	if got, want := len(RedactionFields()), len(sentinel); got != want {
		t.Fatalf("%d redaction fields but %d sentinels: add the new field to the test", got, want)
	}
	dir := t.TempDir()
	for _, f := range RedactionFields() {
		want := sentinel[f.Path]
		modes := []Redaction{{Drop: []string{f.Path}}}
		if f.Hashable {
			modes = append(modes, Redaction{Hash: []string{f.Path}})
		}
		for _, r := range modes {
			t.Run(f.Path+"/"+strings.Join(append(r.Drop, r.Hash...), ""), func(t *testing.T) {
				before, _ := json.Marshal(fullInfo())
				if !strings.Contains(string(before), want) {
					t.Fatalf("sentinel %q not in the unredacted JSON", want)
				}
				si, err := r.Redact(fullInfo(), dir)
				if err != nil {
					t.Fatal(err)
				}
				after, _ := json.Marshal(si)
				if strings.Contains(string(after), want) {
					t.Errorf("%v left %q in %s", r, want, after)
				}
				if len(r.Hash) > 0 && !strings.Contains(string(after), `"sha256:`) {
					t.Errorf("hash left no hashed value: %s", after)
				}
				// Everything else survives: osName is never redactable.
				if si.OSName != "debian" {
					t.Errorf("osName changed to %q", si.OSName)
				}
			})
		}
	}
}

func TestHashIsStablePerInstallOnly(t *testing.T) {
	r := Redaction{Hash: []string{"deviceName", "user"}, Drop: []string{"network.mac"}}
	dirA, dirB := t.TempDir(), t.TempDir()
	a1, err := r.Redact(fullInfo(), dirA)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := r.Redact(fullInfo(), dirA)
	b, _ := r.Redact(fullInfo(), dirB)
	if a1.DeviceName != a2.DeviceName || a1.User != a2.User {
		t.Errorf("same install, different hashes: %q %q", a1.DeviceName, a2.DeviceName)
	}
	if a1.DeviceName == b.DeviceName {
		t.Errorf("two installs produced the same hash %q: the salt is not per install", a1.DeviceName)
	}
	if a1.DeviceName == a1.User {
		t.Errorf("different values, same hash")
	}
	if got := a1.DeviceName; !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+32 {
		t.Errorf("hash format = %q", got)
	}
	if a1.Network.Interfaces[0].MAC != "" || a1.Network.Interfaces[0].Name != "wlp2s0" {
		t.Errorf("drop network.mac: %+v", a1.Network.Interfaces[0])
	}
	// The input is not modified.
	if si := fullInfo(); si.DeviceName != "alice-laptop" {
		t.Error("fixture changed")
	}
}

func TestHashWithoutSaltFailsClosed(t *testing.T) {
	r := Redaction{Hash: []string{"user"}}
	si, err := r.Redact(fullInfo(), "")
	if err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Errorf("err = %v, want a note that hashed fields were dropped", err)
	}
	if si.User != "" {
		t.Errorf("user = %q, want it dropped when it cannot be hashed", si.User)
	}
}

func TestCollectAppliesRedaction(t *testing.T) {
	dir := t.TempDir()
	ps := []probe{{"fixture", func(context.Context, *Options) (func(*SystemInfo), error) {
		return func(si *SystemInfo) { *si = fullInfo() }, nil
	}}}
	o := Options{DataDir: dir, Redaction: Redaction{Drop: []string{"user", "network.mac"}, Hash: []string{"deviceName"}}}
	si := collect(t.Context(), o, ps)
	if si.User != "" {
		t.Errorf("user not dropped: %q", si.User)
	}
	if want := hashValue(mustSalt(t, dir), "alice-laptop"); si.DeviceName != want {
		t.Errorf("deviceName = %q, want %q", si.DeviceName, want)
	}
	if mac := si.Network.Interfaces[0].MAC; mac != "" {
		t.Errorf("MAC kept: %q", mac)
	}
	// And for real: the host name never appears.
	real := Collect(t.Context(), o)
	if !strings.HasPrefix(real.DeviceName, "sha256:") || real.User != "" {
		t.Errorf("Collect: deviceName %q, user %q", real.DeviceName, real.User)
	}
}

func mustSalt(t *testing.T, dir string) []byte {
	t.Helper()
	salt, err := loadSalt(dir)
	if err != nil {
		t.Fatal(err)
	}
	return salt
}

func TestRedactionProblems(t *testing.T) {
	tests := []struct {
		name string
		r    Redaction
		want []string // "field: message fragment"
	}{
		{"valid", Redaction{Drop: []string{"network.mac", "user"}, Hash: []string{"deviceName"}}, nil},
		{"unknown path", Redaction{Drop: []string{"network.macs"}}, []string{`drop[0]: unknown field "network.macs"; known: deviceName`}},
		{"hash of a drop-only field", Redaction{Hash: []string{"user", "battery"}}, []string{`hash[1]: "battery" is not text`}},
		{"both lists", Redaction{Drop: []string{"user"}, Hash: []string{"user"}}, []string{`hash[0]: "user" is also in drop`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := tt.r.Problems()
			if len(probs) != len(tt.want) {
				t.Fatalf("problems = %+v, want %d", probs, len(tt.want))
			}
			for i, w := range tt.want {
				if got := probs[i].Field + ": " + probs[i].Msg; !strings.HasPrefix(got, w) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, w)
				}
			}
		})
	}
}
