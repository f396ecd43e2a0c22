package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketray/ticketray/diagnostics"
)

// About is what the help desk asks for on every call: the computer's
// name, who is signed in, its IP addresses and its OS. The tray's "About
// this computer" window shows it and `ticketray about` prints it.
type About struct {
	ComputerName string  `json:"computerName"`
	User         string  `json:"user"`                   // the OS account
	UserFullName string  `json:"userFullName,omitempty"` // as the OS knows it, when it does
	OS           AboutOS `json:"os"`
	// Interfaces are the network interfaces with at least one address
	// other than loopback, in the OS's order.
	Interfaces []AboutInterface `json:"interfaces"`
	AppVersion string           `json:"appVersion"`
	// Unavailable names what could not be read (e.g. "interfaces: …"):
	// the rest is still right.
	Unavailable []string `json:"unavailable,omitempty"`
}

// AboutOS names the operating system.
type AboutOS struct {
	Name    string `json:"name"`    // e.g. Ubuntu, macOS, Microsoft Windows 11 Pro
	Version string `json:"version"` // e.g. 24.04, 14.5, 10.0.22631
	Kernel  string `json:"kernel,omitempty"`
	Arch    string `json:"arch"` // e.g. x86_64, arm64
}

// AboutInterface is one network interface's addresses, without their
// prefix length.
type AboutInterface struct {
	Name string   `json:"name"`
	IPv4 []string `json:"ipv4,omitempty"`
	IPv6 []string `json:"ipv6,omitempty"`
}

// aboutTimeout bounds the collection: a window waits for it.
const aboutTimeout = 3 * time.Second

// AboutThisComputer reads what About holds from the same probes that
// describe the machine in a ticket (diagnostics.Collect), so the names
// the user reads out match the ticket's. IT's redaction policy is not
// applied: this is shown to the user on their own screen, and copied only
// when they choose to. A part that cannot be read is named in
// Unavailable; the error is returned only when nothing could be read.
func AboutThisComputer(ctx context.Context) (About, error) {
	ctx, cancel := context.WithTimeout(ctx, aboutTimeout)
	defer cancel()
	si := diagnostics.Collect(ctx, diagnostics.Options{AppVersion: Version})
	full := ""
	if u, err := user.Current(); err == nil && u.Name != u.Username {
		full = u.Name
	}
	a := aboutFrom(&si, full)
	if a.ComputerName == "" && a.User == "" && len(a.Interfaces) == 0 {
		return a, fmt.Errorf("about this computer: nothing could be read (%s)", strings.Join(a.Unavailable, "; "))
	}
	return a, nil
}

// aboutProbes are the diagnostics probes whose failure About reports.
var aboutProbes = map[string]bool{"host": true, "user": true, "interfaces": true}

// aboutFrom picks About's fields out of collected system information.
func aboutFrom(si *diagnostics.SystemInfo, fullName string) About {
	a := About{
		ComputerName: si.DeviceName,
		User:         si.User,
		UserFullName: strings.TrimSpace(fullName),
		OS:           AboutOS{Name: osDisplayName(si.OSName), Version: si.OSVersion, Kernel: si.OSBuild, Arch: si.Architecture},
		Interfaces:   []AboutInterface{},
		AppVersion:   si.AppVersion,
	}
	if si.Network != nil {
		for _, nif := range si.Network.Interfaces {
			if it, ok := aboutInterface(nif); ok {
				a.Interfaces = append(a.Interfaces, it)
			}
		}
	}
	for _, f := range si.FailedProbes {
		if aboutProbes[f.Probe] {
			a.Unavailable = append(a.Unavailable, f.Probe+": "+f.Error)
		}
	}
	return a
}

// aboutInterface sorts an interface's addresses into IPv4 and IPv6,
// dropping loopback and IPv6 link-local ones: every IPv6 interface has a
// fe80:: address, which reaches nobody beyond the cable and only crowds
// the window. An IPv4 link-local address (169.254.x.x) stays: it says
// that DHCP failed, which the help desk wants to hear.
func aboutInterface(nif diagnostics.Interface) (AboutInterface, bool) {
	it := AboutInterface{Name: nif.Name}
	for _, s := range nif.Addresses {
		ip, err := parseAddr(s)
		if err != nil || ip.IsLoopback() || ip.IsUnspecified() {
			continue
		}
		switch {
		case ip.Is4() || ip.Is4In6():
			it.IPv4 = append(it.IPv4, ip.Unmap().String())
		case !ip.IsLinkLocalUnicast():
			it.IPv6 = append(it.IPv6, ip.String())
		}
	}
	return it, len(it.IPv4)+len(it.IPv6) > 0
}

// parseAddr reads an address as gopsutil gives it: CIDR ("10.0.0.5/24")
// or bare.
func parseAddr(s string) (netip.Addr, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, errors.New("not an IP address")
	}
	return a.WithZone(""), nil
}

// osDisplayName turns gopsutil's platform into the name a user knows:
// "darwin" is macOS; Linux distributions come lower-case ("ubuntu").
func osDisplayName(platform string) string {
	switch platform {
	case "":
		return ""
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	}
	if strings.ToLower(platform) == platform {
		return strings.ToUpper(platform[:1]) + platform[1:]
	}
	return platform
}

// Rows are About as label/value pairs, in the order the window shows
// them and Text prints them. An interface's addresses make one row each.
func (a About) Rows() [][2]string {
	user := a.User
	if a.UserFullName != "" {
		user += " (" + a.UserFullName + ")"
	}
	osLine := strings.TrimSpace(a.OS.Name + " " + a.OS.Version)
	var detail []string
	for _, s := range []string{a.OS.Arch, kernelLabel(a.OS.Kernel)} {
		if s != "" {
			detail = append(detail, s)
		}
	}
	if len(detail) > 0 {
		osLine += " (" + strings.Join(detail, ", ") + ")"
	}
	rows := [][2]string{
		{"Computer name", orUnknown(a.ComputerName)},
		{"User", orUnknown(user)},
		{"Operating system", orUnknown(osLine)},
	}
	label := "IP addresses"
	for _, it := range a.Interfaces {
		addrs := append(append([]string(nil), it.IPv4...), it.IPv6...)
		rows = append(rows, [2]string{label, it.Name + ": " + strings.Join(addrs, ", ")})
		label = ""
	}
	if label != "" {
		rows = append(rows, [2]string{label, "none (not connected to a network)"})
	}
	rows = append(rows, [2]string{"Ticketray", orUnknown(a.AppVersion)})
	for _, u := range a.Unavailable {
		rows = append(rows, [2]string{"Could not read", u})
	}
	return rows
}

// Text is the plain-text block the Copy button puts on the clipboard and
// `ticketray about` prints: aligned, one fact per line.
func (a About) Text() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, r := range a.Rows() {
		label := r[0]
		if label != "" {
			label += ":"
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, r[1])
	}
	tw.Flush()
	return b.String()
}

func kernelLabel(k string) string {
	if k == "" {
		return ""
	}
	return "kernel " + k
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}
