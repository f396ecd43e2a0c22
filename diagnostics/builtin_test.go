package diagnostics

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// netRoot is a Linux filesystem with a default route and DNS servers.
func netRoot(t *testing.T) string {
	return fsRoot(t, map[string]string{
		"proc/net/route":  testdata(t, "proc_net_route"),
		"etc/resolv.conf": "nameserver 10.255.255.53\n",
	})
}

func TestDiskSpaceThisMachine(t *testing.T) {
	r := builtinByID("disk-space").Run(context.Background(), &Host{}, RunOptions{})
	if r.Status != StatusSuccess && r.Status != StatusFailed {
		t.Fatalf("status %s: %s", r.Status, r.Output)
	}
	if !strings.Contains(r.Output, " free of ") {
		t.Errorf("output lists no disk:\n%s", r.Output)
	}
	if runtime.GOOS == "linux" && !strings.Contains(r.Output, "/ ") {
		t.Errorf("the root filesystem is not listed:\n%s", r.Output)
	}
}

func TestDiskSpaceVerdict(t *testing.T) {
	tests := []struct {
		name    string
		d       Disk
		wantLow bool
	}{
		{"half free", Disk{TotalMB: 500 << 10, FreeMB: 250 << 10}, false},
		{"under 10%", Disk{TotalMB: 100 << 10, FreeMB: 9 << 10}, true},
		{"big disk, 1 GiB free is 0.1%", Disk{TotalMB: 1000 << 10, FreeMB: 1 << 10}, true},
		{"1.5 GiB free of 60 GiB", Disk{TotalMB: 60 << 10, FreeMB: 1536}, true},
		{"small EFI partition mostly free", Disk{TotalMB: 512, FreeMB: 480}, false},
		{"unknown size", Disk{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, low := diskVerdict(tt.d); low != tt.wantLow {
				t.Errorf("low = %v, want %v", low, tt.wantLow)
			}
		})
	}
	h := &Host{DiskFree: func(context.Context) ([]Disk, error) {
		return []Disk{{Mount: "/", FSType: "ext4", TotalMB: 100 << 10, FreeMB: 50 << 10}, {Mount: "/home", FSType: "xfs", TotalMB: 100 << 10, FreeMB: 2 << 10}}, nil
	}}
	r := builtinByID("disk-space").Run(context.Background(), h, RunOptions{})
	if r.Status != StatusFailed || !strings.Contains(r.Output, "low disk space on /home") || strings.Contains(r.Output, "on /,") {
		t.Errorf("%s:\n%s", r.Status, r.Output)
	}
}

func TestNetworkCheck(t *testing.T) {
	desk := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // any HTTP answer proves reachability
	}))
	defer desk.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(plain.URL, "http://"))

	tests := []struct {
		name       string
		root       string
		helpDesk   []string
		wantStatus string
		want       []string
	}{
		{"all good", netRoot(t), []string{desk.URL, "http://localhost:" + port},
			StatusSuccess, []string{"gateway: 192.0.2.1", "dns servers: 10.255.255.53", "HTTPS " + strings.TrimPrefix(desk.URL, "https://") + ": HTTP 401", "dns localhost:", "HTTP localhost:" + port + ": HTTP 404"}},
		{"help desk down", netRoot(t), []string{goneURL},
			StatusFailed, []string{"FAILED", "HTTP to " + strings.TrimPrefix(goneURL, "http://") + " failed"}},
		{"no name", netRoot(t), []string{"https://ticketray-test.invalid"},
			StatusFailed, []string{"dns ticketray-test.invalid: FAILED", "DNS lookup of ticketray-test.invalid failed"}},
		{"no default route", fsRoot(t, map[string]string{"proc/net/route": "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n", "etc/resolv.conf": "nameserver 1.1.1.1\n"}), nil,
			StatusFailed, []string{"gateway: none", "there is no default gateway", "no connection is configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Host{GOOS: "linux", Root: tt.root, HelpDesk: tt.helpDesk, HTTP: desk.Client(), NetworkUp: yes, LookPath: lookPath()}
			r := builtinByID("network-check").Run(context.Background(), h, RunOptions{})
			if r.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s:\n%s", r.Status, tt.wantStatus, r.Output)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, r.Output)
				}
			}
		})
	}
}

func TestNetworkCheckPingsTheGateway(t *testing.T) {
	tests := []struct {
		goos, ping string
		reply      reply
		want       string
	}{
		{"linux", "ping -c 1 -W 2 192.0.2.1", reply{out: "1 packets transmitted, 1 received\n"}, "gateway ping: ok"},
		{"linux", "ping -c 1 -W 2 192.0.2.1", reply{err: context.DeadlineExceeded}, "gateway ping: no reply"},
		{"darwin", "ping -c 1 -t 2 192.168.1.254", reply{out: "1 packets received\n"}, "gateway ping: ok"},
		{"windows", "ping -n 1 -w 2000 192.168.1.1", reply{out: "Reply from 192.168.1.1: bytes=32 time=2ms TTL=64\r\n"}, "gateway ping: ok"},
	}
	for _, tt := range tests {
		t.Run(tt.goos+"/"+tt.want, func(t *testing.T) {
			f := newFake(map[string]reply{
				tt.ping:                {out: tt.reply.out, err: tt.reply.err},
				"route -n get default": {out: testdata(t, "darwin_route_get.txt")},
				"scutil --dns":         {out: testdata(t, "darwin_scutil_dns.txt")},
				"route print 0.0.0.0":  {out: testdata(t, "windows_route_print.txt")},
				"ipconfig /all":        {out: testdata(t, "windows_ipconfig_all.txt")},
			})
			h := &Host{GOOS: tt.goos, Root: netRoot(t), Runner: f, NetworkUp: yes, LookPath: lookPath("ping")}
			r := builtinByID("network-check").Run(context.Background(), h, RunOptions{})
			if !strings.Contains(r.Output, tt.want) || !slices.Contains(f.Calls(), tt.ping) {
				t.Errorf("calls %q\noutput:\n%s", f.Calls(), r.Output)
			}
			// An unanswered ping alone does not fail the check.
			if r.Status != StatusSuccess {
				t.Errorf("status = %s:\n%s", r.Status, r.Output)
			}
		})
	}
}

func TestProxyCheck(t *testing.T) {
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	go func() {
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	via := func(addr string) func(*http.Request) (*url.URL, error) {
		return func(*http.Request) (*url.URL, error) { return &url.URL{Scheme: "http", Host: addr}, nil }
	}
	direct := func(*http.Request) (*url.URL, error) { return nil, nil }
	env := map[string]string{"HTTPS_PROXY": "http://bob:Hunter2@" + proxy.Addr().String(), "no_proxy": "localhost"}
	tests := []struct {
		name       string
		proxy      func(*http.Request) (*url.URL, error)
		getenv     func(string) string
		wantStatus string
		want       []string
	}{
		{"proxy answers", via(proxy.Addr().String()), func(k string) string { return env[k] }, StatusSuccess,
			[]string{"HTTPS_PROXY=http://bob:[REDACTED]@", "no_proxy=localhost", "acme.service-now.com: via proxy " + proxy.Addr().String() + " (answers)"}},
		{"proxy down", via(deadAddr), func(string) string { return "" }, StatusFailed,
			[]string{"no proxy environment variables are set", "which does not answer", "proxy " + deadAddr + " does not answer"}},
		{"direct", direct, func(string) string { return "" }, StatusSuccess, []string{"acme.service-now.com: direct (no proxy)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Host{GOOS: "linux", HelpDesk: []string{"https://acme.service-now.com"}, Proxy: tt.proxy, Getenv: tt.getenv, LookPath: lookPath()}
			r := builtinByID("proxy-check").Run(context.Background(), h, RunOptions{})
			if r.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s:\n%s", r.Status, tt.wantStatus, r.Output)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, r.Output)
				}
			}
			if strings.Contains(r.Output, "Hunter2") {
				t.Errorf("proxy password in the output:\n%s", r.Output)
			}
		})
	}
}

// TestProxyCheckOSSettings: each OS's read-only proxy queries.
func TestProxyCheckOSSettings(t *testing.T) {
	tests := []struct {
		goos  string
		bins  []string
		reply map[string]reply
		want  []string
	}{
		{"linux", []string{"gsettings"}, map[string]reply{
			"gsettings get org.gnome.system.proxy mode":       {out: "'manual'\n"},
			"gsettings get org.gnome.system.proxy.https host": {out: "'proxy.corp.example.com'\n"},
			"gsettings get org.gnome.system.proxy.https port": {out: "3128\n"},
			"gsettings get org.gnome.system.proxy.http host":  {out: "''\n"},
			"gsettings get org.gnome.system.proxy.http port":  {out: "0\n"},
		}, []string{"gsettings get org.gnome.system.proxy mode", "gsettings get org.gnome.system.proxy.https host", "gsettings get org.gnome.system.proxy.https port", "gsettings get org.gnome.system.proxy.http host", "gsettings get org.gnome.system.proxy.http port"}},
		{"linux", nil, nil, nil},
		{"darwin", []string{"scutil"}, map[string]reply{"scutil --proxy": {out: "<dictionary> {\n  HTTPEnable : 0\n}\n"}}, []string{"scutil --proxy"}},
		{"windows", []string{"netsh", "reg"}, map[string]reply{
			"netsh winhttp show proxy": {out: "Current WinHTTP proxy settings:\r\n    Direct access (no proxy server).\r\n"},
			`reg query HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings /v ProxyEnable`: {out: "    ProxyEnable    REG_DWORD    0x0\r\n"},
		}, []string{"netsh winhttp show proxy",
			`reg query HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings /v ProxyEnable`,
			`reg query HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings /v ProxyServer`,
			`reg query HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings /v AutoConfigURL`}},
	}
	for _, tt := range tests {
		t.Run(tt.goos+"/"+strings.Join(tt.bins, ","), func(t *testing.T) {
			f := newFake(tt.reply)
			h := &Host{GOOS: tt.goos, Runner: f, LookPath: lookPath(tt.bins...), Getenv: func(string) string { return "" }}
			r := builtinByID("proxy-check").Run(context.Background(), h, RunOptions{})
			if r.Status != StatusSuccess || !slices.Equal(f.Calls(), tt.want) {
				t.Errorf("status %s, calls %q, want %q\n%s", r.Status, f.Calls(), tt.want, r.Output)
			}
		})
	}
}

func TestTimeSyncCheck(t *testing.T) {
	server := func(offset time.Duration) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if offset != 0 {
				w.Header().Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))
			}
		}))
		t.Cleanup(s.Close)
		return s
	}
	inSync, ahead := server(0), server(10*time.Minute)
	tests := []struct {
		name       string
		goos       string
		bins       []string
		script     map[string]reply
		helpDesk   []string
		wantStatus string
		want       []string
	}{
		{"clock agrees with the help desk", "linux", nil, nil, []string{inSync.URL}, StatusSuccess, []string{"s from the server's", "the clock is in sync"}},
		{"clock is 10 minutes behind", "linux", nil, nil, []string{ahead.URL}, StatusFailed, []string{"this clock is -", "error: the clock is -", " off " + strings.TrimPrefix(ahead.URL, "http://")}},
		{"nothing to compare with", "linux", nil, nil, nil, StatusSkipped, []string{"nothing to compare the clock with"}},
		{"linux NTP synchronised", "linux", []string{"timedatectl"}, map[string]reply{"timedatectl show -p NTPSynchronized --value": {out: "yes\n"}}, nil, StatusSuccess, []string{"yes"}},
		{"linux NTP not synchronised", "linux", []string{"timedatectl"}, map[string]reply{"timedatectl show -p NTPSynchronized --value": {out: "no\n"}}, nil, StatusFailed, []string{"not synchronised (NTP)"}},
		{"linux without systemd", "linux", []string{"timedatectl"}, map[string]reply{"timedatectl show -p NTPSynchronized --value": {out: "Failed to connect to bus\n", err: context.Canceled}}, []string{inSync.URL}, StatusSuccess, []string{"Failed to connect to bus", "the clock is in sync"}},
		{"darwin sntp", "darwin", []string{"sntp"}, map[string]reply{"sntp -t 5 time.apple.com": {out: "+0.012345 +/- 0.008 time.apple.com 17.253.1.1\n"}}, nil, StatusSuccess, []string{"+0.012345"}},
		{"darwin sntp far off", "darwin", []string{"sntp"}, map[string]reply{"sntp -t 5 time.apple.com": {out: "-400.5 +/- 0.008 time.apple.com 17.253.1.1\n"}}, nil, StatusFailed, []string{"-400 s off time.apple.com"}},
		{"windows synced", "windows", []string{"w32tm"}, map[string]reply{"w32tm /query /status": {out: "Leap Indicator: 0(no warning)\r\nSource: time.windows.com,0x8\r\nLast Successful Sync Time: 1/2/2026 3:04:05 AM\r\n"}}, nil, StatusSuccess, []string{"time.windows.com"}},
		{"windows never synced", "windows", []string{"w32tm"}, map[string]reply{"w32tm /query /status": {out: "Source: Local CMOS Clock\r\nLast Successful Sync Time: unspecified\r\n"}}, nil, StatusFailed, []string{"never synchronised"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Host{GOOS: tt.goos, Runner: newFake(tt.script), LookPath: lookPath(tt.bins...), HelpDesk: tt.helpDesk}
			r := builtinByID("time-sync-check").Run(context.Background(), h, RunOptions{})
			if r.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s:\n%s", r.Status, tt.wantStatus, r.Output)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, r.Output)
				}
			}
		})
	}
}

func TestClearTemp(t *testing.T) {
	now := time.Now()
	old := now.Add(-10 * 24 * time.Hour)
	setup := func(t *testing.T) (dir, outside string) {
		dir = t.TempDir()
		outside = filepath.Join(t.TempDir(), "precious.txt")
		files := map[string]time.Time{
			"old.log": old, "new.log": now, "sub/old.tmp": old, "sub/deeper/old.bin": old,
			"sub/new.tmp": now.Add(-time.Hour), "theirs/old.dat": old,
		}
		for name, mtime := range files {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("data "+name), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, mtime, mtime)
		}
		os.WriteFile(outside, []byte("keep"), 0o600)
		os.Chtimes(outside, old, old)
		if err := os.Symlink(outside, filepath.Join(dir, "link-to-precious")); err != nil {
			t.Log("no symlinks here:", err)
		}
		return dir, outside
	}
	// "theirs" plays another user's directory.
	owns := func(fi fs.FileInfo) bool { return fi.Name() != "theirs" }
	remaining := func(dir string) []string {
		var names []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				names = append(names, filepath.ToSlash(rel))
			}
			return nil
		})
		slices.Sort(names)
		return names
	}

	t.Run("dry run lists and removes nothing", func(t *testing.T) {
		dir, _ := setup(t)
		before := remaining(dir)
		h := &Host{TempDir: dir, owns: owns, Now: func() time.Time { return now }}
		r := builtinByID("clear-temp").Run(context.Background(), h, RunOptions{DryRun: true})
		if r.Status != StatusSuccess || !slices.Equal(remaining(dir), before) {
			t.Errorf("status %s; files %q, want %q untouched", r.Status, remaining(dir), before)
		}
		for _, w := range []string{"3 of your files", "older than 7 days", "would remove: " + filepath.Join(dir, "old.log"), "would remove: " + filepath.Join(dir, "sub", "deeper", "old.bin")} {
			if !strings.Contains(r.Output, w) {
				t.Errorf("output lacks %q:\n%s", w, r.Output)
			}
		}
	})
	t.Run("run removes only own old regular files", func(t *testing.T) {
		dir, outside := setup(t)
		h := &Host{TempDir: dir, owns: owns, Now: func() time.Time { return now }}
		r := builtinByID("clear-temp").Run(context.Background(), h, RunOptions{Confirmed: true})
		if r.Status != StatusSuccess || !strings.Contains(r.Output, "removed 3 files") {
			t.Errorf("%s:\n%s", r.Status, r.Output)
		}
		want := []string{"link-to-precious", "new.log", "sub/new.tmp", "theirs/old.dat"}
		if got := remaining(dir); !slices.Equal(got, want) && !slices.Equal(got, want[1:]) {
			t.Errorf("left %q, want %q", got, want)
		}
		if _, err := os.Stat(outside); err != nil {
			t.Errorf("the symlink's target was touched: %v", err)
		}
	})
	t.Run("refuses a directory that is not a temp dir", func(t *testing.T) {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skip(err)
		}
		for _, dir := range []string{home, string(filepath.Separator), "relative/tmp"} {
			r := builtinByID("clear-temp").Run(context.Background(), &Host{TempDir: dir}, RunOptions{Confirmed: true})
			if r.Status != StatusSkipped || !strings.Contains(r.Output, "nothing was touched") {
				t.Errorf("%s: %s %q", dir, r.Status, r.Output)
			}
		}
	})
}
