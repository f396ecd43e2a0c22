package diagnostics

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// sysEnv is where OS facts are read from: the OS whose conventions apply,
// a filesystem root for /proc, /etc and /sys (tests point it at fixtures),
// and the Runner for OSes that only tell through a command.
type sysEnv struct {
	goos   string
	root   string
	runner Runner
	getenv func(string) string
}

func (e sysEnv) readFile(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(e.root, filepath.FromSlash(path)))
}

// gateways returns the default gateways: Linux reads /proc/net/route and
// /proc/net/ipv6_route; macOS asks `route -n get default`; Windows parses
// `route print 0.0.0.0` (English output; best effort elsewhere).
func (e sysEnv) gateways(ctx context.Context) ([]string, error) {
	switch e.goos {
	case "linux":
		v4, err := e.readFile("/proc/net/route")
		if err != nil {
			return nil, fmt.Errorf("read routes: %w", err)
		}
		gws := parseProcRoute(v4)
		if v6, err := e.readFile("/proc/net/ipv6_route"); err == nil {
			gws = append(gws, parseIPv6Route(v6)...)
		}
		return dedupe(gws), nil
	case "darwin", "freebsd", "openbsd", "netbsd", "dragonfly":
		out, err := e.runner.Run(ctx, "route", "-n", "get", "default")
		if err != nil {
			return nil, fmt.Errorf("route get default: %w", err)
		}
		return parseRouteGet(out), nil
	case "windows":
		out, err := e.runner.Run(ctx, "route", "print", "0.0.0.0")
		if err != nil {
			return nil, fmt.Errorf("route print: %w", err)
		}
		return parseRoutePrint(out), nil
	}
	return nil, nil
}

// dnsServers returns the configured DNS servers: /etc/resolv.conf on Unix
// (with systemd-resolved's upstream list when only its stub is listed),
// `scutil --dns` on macOS, `ipconfig /all` on Windows (English output).
func (e sysEnv) dnsServers(ctx context.Context) ([]string, error) {
	switch e.goos {
	case "windows":
		out, err := e.runner.Run(ctx, "ipconfig", "/all")
		if err != nil {
			return nil, fmt.Errorf("ipconfig /all: %w", err)
		}
		return parseIPConfigDNS(out), nil
	case "darwin":
		if out, err := e.runner.Run(ctx, "scutil", "--dns"); err == nil {
			if s := parseScutilDNS(out); len(s) > 0 {
				return s, nil
			}
		}
	}
	data, err := e.readFile("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("read resolv.conf: %w", err)
	}
	servers := parseResolvConf(data)
	if len(servers) == 1 && servers[0] == "127.0.0.53" {
		if up, err := e.readFile("/run/systemd/resolve/resolv.conf"); err == nil {
			if s := parseResolvConf(up); len(s) > 0 {
				servers = append(servers, s...)
			}
		}
	}
	return servers, nil
}

// parseProcRoute reads /proc/net/route: the default route has destination
// 0 and the RTF_GATEWAY flag; addresses are little-endian hex.
func parseProcRoute(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		var flags uint32
		if _, err := fmt.Sscanf(f[3], "%x", &flags); err != nil || flags&0x2 == 0 {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 4 {
			continue
		}
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], binary.LittleEndian.Uint32(b))
		out = append(out, net.IP(ip[:]).String())
	}
	return out
}

// parseIPv6Route reads /proc/net/ipv6_route: a default route is ::/0 with
// a non-zero next hop.
func parseIPv6Route(data []byte) []string {
	var out []string
	zero := strings.Repeat("0", 32)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != zero || f[1] != "00" || f[4] == zero {
			continue
		}
		b, err := hex.DecodeString(f[4])
		if err != nil || len(b) != 16 {
			continue
		}
		out = append(out, net.IP(b).String())
	}
	return out
}

func parseResolvConf(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return dedupe(out)
}

var routeGetGateway = regexp.MustCompile(`(?m)^\s*gateway:\s*(\S+)`)

func parseRouteGet(out []byte) []string {
	if m := routeGetGateway.FindSubmatch(out); m != nil {
		return []string{string(m[1])}
	}
	return nil
}

var scutilNameserver = regexp.MustCompile(`(?m)^\s*nameserver\[\d+\]\s*:\s*(\S+)`)

func parseScutilDNS(out []byte) []string {
	var s []string
	for _, m := range scutilNameserver.FindAllSubmatch(out, -1) {
		s = append(s, string(m[1]))
	}
	return dedupe(s)
}

// parseRoutePrint finds "0.0.0.0 0.0.0.0 <gateway> <interface> <metric>"
// rows; on-link routes have no address in the gateway column.
func parseRoutePrint(out []byte) []string {
	var gws []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && f[0] == "0.0.0.0" && f[1] == "0.0.0.0" && net.ParseIP(f[2]) != nil {
			gws = append(gws, f[2])
		}
	}
	return dedupe(gws)
}

// parseIPConfigDNS reads "DNS Servers . . . : a" and the indented lines
// of further addresses that follow it.
func parseIPConfigDNS(out []byte) []string {
	var s []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, ":"); i >= 0 && strings.Contains(line[:i], "DNS Servers") {
			in = true
			if ip := strings.TrimSpace(line[i+1:]); net.ParseIP(stripZone(ip)) != nil {
				s = append(s, ip)
			}
			continue
		}
		if in {
			if ip := strings.TrimSpace(line); ip != "" && net.ParseIP(stripZone(ip)) != nil {
				s = append(s, ip)
				continue
			}
			in = false
		}
	}
	return dedupe(s)
}

func stripZone(ip string) string {
	if i := strings.IndexByte(ip, '%'); i >= 0 {
		return ip[:i]
	}
	return ip
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
