package app

import (
	"encoding/json"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/diagnostics"
)

// About keeps each interface's reachable addresses, split by family, and
// leaves out loopback and IPv6 link-local ones.
func TestAboutInterfaces(t *testing.T) {
	tests := []struct {
		name  string
		in    diagnostics.Interface
		want  AboutInterface
		shown bool
	}{
		{"v4 and v6 in CIDR form", diagnostics.Interface{Name: "eth0", Addresses: []string{"192.168.1.23/24", "2001:db8::23/64", "fe80::1c2:3ff:fe04:506/64"}},
			AboutInterface{Name: "eth0", IPv4: []string{"192.168.1.23"}, IPv6: []string{"2001:db8::23"}}, true},
		{"bare addresses", diagnostics.Interface{Name: "wlan0", Addresses: []string{"10.0.0.5", "fd00::5"}},
			AboutInterface{Name: "wlan0", IPv4: []string{"10.0.0.5"}, IPv6: []string{"fd00::5"}}, true},
		{"DHCP failed: 169.254 stays", diagnostics.Interface{Name: "eth1", Addresses: []string{"169.254.10.20/16", "fe80::2/64"}},
			AboutInterface{Name: "eth1", IPv4: []string{"169.254.10.20"}}, true},
		{"loopback addresses on another interface", diagnostics.Interface{Name: "lo0", Addresses: []string{"127.0.0.1/8", "::1/128"}},
			AboutInterface{Name: "lo0"}, false},
		{"only link-local v6", diagnostics.Interface{Name: "docker0", Addresses: []string{"fe80::42:acff:fe11:2/64"}},
			AboutInterface{Name: "docker0"}, false},
		{"no address, or garbage", diagnostics.Interface{Name: "tun0", Addresses: []string{"", "not-an-ip"}},
			AboutInterface{Name: "tun0"}, false},
		{"v4-mapped v6 is v4", diagnostics.Interface{Name: "eth2", Addresses: []string{"::ffff:10.1.2.3/120"}},
			AboutInterface{Name: "eth2", IPv4: []string{"10.1.2.3"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, shown := aboutInterface(tt.in)
			if shown != tt.shown || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("aboutInterface = %+v, %v; want %+v, %v", got, shown, tt.want, tt.shown)
			}
		})
	}
}

func TestOSDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"ubuntu": "Ubuntu", "darwin": "macOS", "Microsoft Windows 11 Pro": "Microsoft Windows 11 Pro", "": "", "opensuse-leap": "Opensuse-leap",
	} {
		if got := osDisplayName(in); got != want {
			t.Errorf("osDisplayName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The text the Copy button puts on the clipboard: one fact a line,
// aligned, an interface a line, and what could not be read.
func TestAboutText(t *testing.T) {
	si := &diagnostics.SystemInfo{
		OSName: "ubuntu", OSVersion: "24.04", OSBuild: "6.8.0-45-generic", Architecture: "x86_64",
		DeviceName: "LAB-PC-7", User: "asmith", AppVersion: "1.4.0",
		Network: &diagnostics.Network{Interfaces: []diagnostics.Interface{
			{Name: "enp3s0", Addresses: []string{"192.168.1.23/24", "2001:db8::23/64", "fe80::1/64"}},
			{Name: "virbr0", Addresses: []string{"fe80::2/64"}},
			{Name: "wlp2s0", Addresses: []string{"10.0.0.5/24"}},
		}},
		FailedProbes: []diagnostics.ProbeFailure{{Probe: "battery", Error: "none"}, {Probe: "user", Error: "timed out"}},
	}
	a := aboutFrom(si, "Alice Smith")
	want := `Computer name:     LAB-PC-7
User:              asmith (Alice Smith)
Operating system:  Ubuntu 24.04 (x86_64, kernel 6.8.0-45-generic)
IP addresses:      enp3s0: 192.168.1.23, 2001:db8::23
                   wlp2s0: 10.0.0.5
Ticketray:         1.4.0
Could not read:    user: timed out
`
	if got := a.Text(); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}

	empty := aboutFrom(&diagnostics.SystemInfo{}, "")
	if got := empty.Text(); !strings.Contains(got, "Computer name:     unknown") || !strings.Contains(got, "IP addresses:      none (not connected to a network)") {
		t.Errorf("nothing known:\n%s", got)
	}
}

// `ticketray about --json` describes this machine as the OS does, and
// the plain form prints the same facts.
func TestAboutCLI(t *testing.T) {
	h := newHarness(t)
	var a About
	r := h.mustRun("about", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
		t.Fatalf("about --json: %v\n%s", err, r.stdout)
	}
	if host, err := os.Hostname(); err == nil && a.ComputerName != host {
		t.Errorf("computerName = %q, want %q", a.ComputerName, host)
	}
	if a.OS.Arch == "" || a.OS.Name == "" || a.AppVersion != Version {
		t.Errorf("os %+v, appVersion %q", a.OS, a.AppVersion)
	}
	// Every non-loopback, non-link-local address the OS reports is listed.
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses here: %v", err)
	}
	listed := map[string]bool{}
	for _, it := range a.Interfaces {
		for _, ip := range append(it.IPv4, it.IPv6...) {
			listed[ip] = true
		}
	}
	for _, ad := range addrs {
		ipn, ok := ad.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || (ipn.IP.To4() == nil && ipn.IP.IsLinkLocalUnicast()) {
			continue
		}
		if !listed[ipn.IP.String()] {
			t.Errorf("about --json lacks %s: %+v", ipn.IP, a.Interfaces)
		}
	}

	text := h.mustRun("about").stdout
	for _, want := range []string{"Computer name:", a.ComputerName, "User:", a.User, "Operating system:", a.OS.Arch} {
		if !strings.Contains(text, want) {
			t.Errorf("about lacks %q:\n%s", want, text)
		}
	}
	if r := h.run("about", "now"); r.code != ExitUsage {
		t.Errorf("about now: exit %d", r.code)
	}
}
