package diagnostics

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// fsRoot writes files (path → content) under a fresh root directory.
func fsRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCollectThisMachine runs every probe for real.
func TestCollectThisMachine(t *testing.T) {
	dir := t.TempDir()
	si := Collect(context.Background(), Options{DataDir: dir, AppVersion: "9.9.9", TopProcesses: 3})
	for _, f := range si.FailedProbes {
		t.Logf("probe %s failed here: %s", f.Probe, f.Error)
	}
	if got, want := si.Partial, len(si.FailedProbes) > 0; got != want {
		t.Errorf("Partial = %v with %d failed probes", got, len(si.FailedProbes))
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"osName", si.OSName != ""},
		{"architecture", si.Architecture != ""},
		{"deviceName", si.DeviceName != ""},
		{"deviceId", si.DeviceID != "" && (si.DeviceIDSource == "host" || si.DeviceIDSource == "generated")},
		{"cpuCores", si.CPUCores == runtime.NumCPU()},
		{"cpuLoad", si.CPULoad != nil},
		{"memory", si.MemoryTotalMB > 0 && si.MemoryUsedMB <= si.MemoryTotalMB},
		{"disks", len(si.Disks) > 0 && si.Disks[0].TotalMB > 0 && si.Disks[0].FSType != ""},
		{"user", si.User != ""},
		{"timezone", si.Timezone != "" && len(si.UTCOffset) == 6},
		{"appVersion", si.AppVersion == "9.9.9"},
		{"uptime", si.UptimeSeconds > 0 && !si.BootTime.IsZero() && si.BootTime.Before(time.Now())},
		{"topProcesses", si.TopProcesses != nil && len(si.TopProcesses.ByCPU) > 0 && len(si.TopProcesses.ByCPU) <= 3 && len(si.TopProcesses.ByMemory) <= 3},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s missing or wrong: %+v", c.name, si)
		}
	}
	if runtime.GOOS == "linux" {
		for _, d := range si.Disks {
			if pseudoFS[d.FSType] {
				t.Errorf("pseudo filesystem listed: %+v", d)
			}
		}
	}
	// The JSON keeps the standard ticket's names.
	b, _ := json.Marshal(si)
	for _, k := range []string{`"osVersion"`, `"architecture"`, `"deviceName"`, `"deviceId"`, `"cpuCores"`, `"memoryTotalMb"`, `"disks"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
	// Processes are opt-in.
	if si := Collect(context.Background(), Options{DataDir: dir}); si.TopProcesses != nil {
		t.Errorf("top processes listed without being asked for")
	}
}

// TestSlowProbeNeverHoldsUpTheRest: a probe that never returns and one
// that fails mark the result partial; the others' findings are kept.
func TestSlowProbeNeverHoldsUpTheRest(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ps := []probe{
		{"fast", func(context.Context, *Options) (func(*SystemInfo), error) {
			return func(si *SystemInfo) { si.DeviceName = "fast" }, nil
		}},
		{"stuck", func(ctx context.Context, _ *Options) (func(*SystemInfo), error) {
			<-release // ignores its context, like a hung statfs
			return func(si *SystemInfo) { si.DeviceName = "late" }, nil
		}},
		{"broken", func(context.Context, *Options) (func(*SystemInfo), error) {
			return nil, errors.New("no such file")
		}},
		{"half", func(context.Context, *Options) (func(*SystemInfo), error) {
			return func(si *SystemInfo) { si.CPUModel = "half" }, errors.New("1 mount did not answer")
		}},
	}
	start := time.Now()
	si := collect(context.Background(), Options{ProbeTimeout: 100 * time.Millisecond}, ps)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("collect took %v with a 100ms probe timeout", took)
	}
	if si.DeviceName != "fast" || si.CPUModel != "half" {
		t.Errorf("kept findings: deviceName %q, cpuModel %q", si.DeviceName, si.CPUModel)
	}
	var got []string
	for _, f := range si.FailedProbes {
		got = append(got, f.Probe+": "+f.Error)
	}
	want := []string{"stuck: timed out after 100ms", "broken: no such file", "half: 1 mount did not answer"}
	if !si.Partial || !slices.Equal(got, want) {
		t.Errorf("partial %v, failed probes %q, want %q", si.Partial, got, want)
	}
}

// TestProbesRunConcurrently: two probes that each wait for the other can
// only both finish if they run at the same time.
func TestProbesRunConcurrently(t *testing.T) {
	a, b := make(chan struct{}), make(chan struct{})
	meet := func(mine, theirs chan struct{}, name string) probe {
		return probe{name, func(ctx context.Context, _ *Options) (func(*SystemInfo), error) {
			close(mine)
			select {
			case <-theirs:
				return nil, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}
	}
	si := collect(context.Background(), Options{ProbeTimeout: 10 * time.Second}, []probe{meet(a, b, "a"), meet(b, a, "b")})
	if si.Partial {
		t.Errorf("probes did not run concurrently: %+v", si.FailedProbes)
	}
}

func TestDeviceID(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantID   string // "" means a generated UUID
		wantFrom string
	}{
		{"machine-id", map[string]string{"etc/machine-id": "3d1219c7c4c5404aaa1f6d2a48adfda4\n", "sys/class/dmi/id/product_uuid": "AAAAAAAA-0000-0000-0000-000000000001\n"},
			"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", "host"},
		{"dmi uuid when there is no machine-id", map[string]string{"sys/class/dmi/id/product_uuid": "4C4C4544-0042-3510-8052-B4C04F4E4E32\n"},
			"4c4c4544-0042-3510-8052-b4c04f4e4e32", "host"},
		{"boot id is never used", map[string]string{"proc/sys/kernel/random/boot_id": "0b6b8f0e-7f7e-4b8e-9b1e-6c5f0a4f4d11\n"}, "", "generated"},
		{"empty machine-id", map[string]string{"etc/machine-id": "\n"}, "", "generated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Options{DataDir: filepath.Join(t.TempDir(), "data"), sys: sysEnv{goos: "linux", root: fsRoot(t, tt.files)}}
			get := func() SystemInfo {
				apply, err := probeDeviceID(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				var si SystemInfo
				apply(&si)
				return si
			}
			first, second := get(), get()
			if first.DeviceIDSource != tt.wantFrom {
				t.Errorf("source = %q, want %q", first.DeviceIDSource, tt.wantFrom)
			}
			if tt.wantID != "" && first.DeviceID != tt.wantID {
				t.Errorf("id = %q, want %q", first.DeviceID, tt.wantID)
			}
			if !validUUID(first.DeviceID) {
				t.Errorf("id %q is not a UUID", first.DeviceID)
			}
			if first.DeviceID != second.DeviceID {
				t.Errorf("id changed between calls: %q then %q", first.DeviceID, second.DeviceID)
			}
			_, err := os.Stat(filepath.Join(o.DataDir, deviceIDFile))
			if got, want := err == nil, tt.wantFrom == "generated"; got != want {
				t.Errorf("id file exists = %v, want %v", got, want)
			}
		})
	}
	t.Run("no host id and no data dir", func(t *testing.T) {
		o := &Options{sys: sysEnv{goos: "linux", root: t.TempDir()}}
		if _, err := probeDeviceID(context.Background(), o); err == nil {
			t.Error("want an error: nowhere to keep a generated id")
		}
	})
}

func TestReadOrCreateRacingProcessesAgree(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "device-id")
	results := make(chan string, 8)
	for range 8 {
		go func() {
			id, err := readOrCreate(file, newRandomID, validUUID)
			if err != nil {
				t.Error(err)
			}
			results <- id
		}()
	}
	first := <-results
	for range 7 {
		if got := <-results; got != first {
			t.Errorf("racing creators disagree: %q vs %q", got, first)
		}
	}
	// A truncated file is replaced, not trusted.
	if err := os.WriteFile(file, []byte("3d12"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readOrCreate(file, newRandomID, validUUID)
	if err != nil || !validUUID(got) || got == first {
		t.Errorf("after truncation: %q, %v", got, err)
	}
}

func TestGatewaysAndDNS(t *testing.T) {
	linuxRoot := fsRoot(t, map[string]string{
		"proc/net/route":      testdata(t, "proc_net_route"),
		"proc/net/ipv6_route": testdata(t, "proc_net_ipv6_route"),
		"etc/resolv.conf":     "# generated\nsearch corp.example.com\nnameserver 10.255.255.53\nnameserver 10.255.255.54\noptions edns0\n",
	})
	stubRoot := fsRoot(t, map[string]string{
		"proc/net/route":                  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nwlp2s0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n",
		"etc/resolv.conf":                 "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
		"run/systemd/resolve/resolv.conf": "nameserver 192.168.1.1\nnameserver 2001:db8::1\n",
	})
	tests := []struct {
		name         string
		env          sysEnv
		script       map[string]reply
		wantGateways []string
		wantDNS      []string
	}{
		{"linux", sysEnv{goos: "linux", root: linuxRoot}, nil,
			[]string{"192.0.2.1", "fd00::1"}, []string{"10.255.255.53", "10.255.255.54"}},
		{"linux with systemd-resolved", sysEnv{goos: "linux", root: stubRoot}, nil,
			[]string{"192.168.1.1"}, []string{"127.0.0.53", "192.168.1.1", "2001:db8::1"}},
		{"darwin", sysEnv{goos: "darwin", root: t.TempDir()}, map[string]reply{
			"route -n get default": {out: testdata(t, "darwin_route_get.txt")},
			"scutil --dns":         {out: testdata(t, "darwin_scutil_dns.txt")},
		}, []string{"192.168.1.254"}, []string{"192.168.1.254", "2001:db8::53"}},
		{"windows", sysEnv{goos: "windows", root: t.TempDir()}, map[string]reply{
			"route print 0.0.0.0": {out: testdata(t, "windows_route_print.txt")},
			"ipconfig /all":       {out: testdata(t, "windows_ipconfig_all.txt")},
		}, []string{"192.168.1.1"}, []string{"192.168.1.1", "9.9.9.9", "fe80::1%12", "10.0.0.53"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.runner = newFake(tt.script)
			gws, err := tt.env.gateways(context.Background())
			if err != nil || !slices.Equal(gws, tt.wantGateways) {
				t.Errorf("gateways = %q, %v; want %q", gws, err, tt.wantGateways)
			}
			dns, err := tt.env.dnsServers(context.Background())
			if err != nil || !slices.Equal(dns, tt.wantDNS) {
				t.Errorf("dns = %q, %v; want %q", dns, err, tt.wantDNS)
			}
		})
	}
	t.Run("command fails", func(t *testing.T) {
		env := sysEnv{goos: "windows", runner: newFake(nil)}
		if _, err := env.gateways(context.Background()); err == nil || !strings.Contains(err.Error(), "route print") {
			t.Errorf("err = %v, want it to name the command", err)
		}
	})
}

func TestBattery(t *testing.T) {
	linux := fsRoot(t, map[string]string{
		"sys/class/power_supply/AC/type":       "Mains\n",
		"sys/class/power_supply/AC/online":     "1\n",
		"sys/class/power_supply/BAT0/type":     "Battery\n",
		"sys/class/power_supply/BAT0/capacity": "64\n",
		"sys/class/power_supply/BAT0/status":   "Charging\n",
	})
	tests := []struct {
		name   string
		env    sysEnv
		script map[string]reply
		want   []Battery
	}{
		{"linux laptop", sysEnv{goos: "linux", root: linux}, nil, []Battery{{Name: "BAT0", Percent: 64, Status: "charging"}}},
		{"linux desktop", sysEnv{goos: "linux", root: t.TempDir()}, nil, nil},
		{"darwin", sysEnv{goos: "darwin"}, map[string]reply{"pmset -g batt": {out: testdata(t, "darwin_pmset.txt")}},
			[]Battery{{Name: "InternalBattery-0", Percent: 87, Status: "discharging"}}},
		{"windows is not collected", sysEnv{goos: "windows"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.runner = newFake(tt.script)
			apply, err := probeBattery(context.Background(), &Options{sys: tt.env})
			if err != nil {
				t.Fatal(err)
			}
			var si SystemInfo
			if apply != nil {
				apply(&si)
			}
			if !slices.Equal(si.Battery, tt.want) {
				t.Errorf("battery = %+v, want %+v", si.Battery, tt.want)
			}
		})
	}
}

func TestTimezoneAndLocale(t *testing.T) {
	link := t.TempDir()
	if err := os.MkdirAll(filepath.Join(link, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/share/zoneinfo/America/Sao_Paulo", filepath.Join(link, "etc", "localtime")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name             string
		env              sysEnv
		script           map[string]reply
		wantTZ, wantLang string
	}{
		{"TZ and LANG", sysEnv{goos: "linux", root: t.TempDir(), getenv: env("TZ", ":Europe/Paris", "LANG", "fr_FR.UTF-8")}, nil, "Europe/Paris", "fr_FR.UTF-8"},
		{"LC_ALL wins", sysEnv{goos: "linux", root: t.TempDir(), getenv: env("LC_ALL", "de_DE.UTF-8", "LANG", "C")}, nil, "", "de_DE.UTF-8"},
		{"etc/timezone", sysEnv{goos: "linux", root: fsRoot(t, map[string]string{"etc/timezone": "Asia/Tokyo\n"}), getenv: env()}, nil, "Asia/Tokyo", ""},
		{"localtime link", sysEnv{goos: "linux", root: link, getenv: env()}, nil, "America/Sao_Paulo", ""},
		{"darwin settings", sysEnv{goos: "darwin", root: link, getenv: env()}, map[string]reply{"defaults read -g AppleLocale": {out: "en_GB\n"}}, "America/Sao_Paulo", "en_GB"},
		{"windows registry", sysEnv{goos: "windows", getenv: env()}, map[string]reply{
			`reg query HKCU\Control Panel\International /v LocaleName`: {out: "\r\nHKEY_CURRENT_USER\\Control Panel\\International\r\n    LocaleName    REG_SZ    pt-BR\r\n\r\n"},
		}, "", "pt-BR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.runner = newFake(tt.script)
			if got := tt.env.timezoneName(); got != tt.wantTZ {
				t.Errorf("timezone = %q, want %q", got, tt.wantTZ)
			}
			if got := tt.env.locale(context.Background()); got != tt.wantLang {
				t.Errorf("locale = %q, want %q", got, tt.wantLang)
			}
		})
	}
}

func TestFormatOffset(t *testing.T) {
	for _, tt := range []struct {
		sec  int
		want string
	}{{0, "+00:00"}, {3600, "+01:00"}, {-3 * 3600, "-03:00"}, {5*3600 + 1800, "+05:30"}, {-(9*3600 + 1800), "-09:30"}} {
		if got := formatOffset(tt.sec); got != tt.want {
			t.Errorf("formatOffset(%d) = %q, want %q", tt.sec, got, tt.want)
		}
	}
}
