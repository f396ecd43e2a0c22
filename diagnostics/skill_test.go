package diagnostics

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// machine is a host where every needed binary exists, the user is admin
// and the network is up: what is left to vary is the OS and the runner.
func machine(goos string, r Runner) *Host {
	return &Host{
		GOOS: goos, Runner: r, IsAdmin: yes, NetworkUp: yes,
		LookPath: func(b string) (string, error) { return "/bin/" + b, nil },
	}
}

const (
	nmcliDevices = "wlp2s0:wifi\nenp3s0:ethernet\nlo:loopback\n"
	darwinPorts  = "\nHardware Port: Ethernet\nDevice: en1\nEthernet Address: a8:20:66:00:00:01\n\nHardware Port: Wi-Fi\nDevice: en0\nEthernet Address: f4:8c:50:aa:bb:cc\n"
	netshWlan    = "\r\nThere is 1 interface on the system:\r\n\r\n    Name                   : Wi-Fi 2\r\n    Description            : Intel(R) Wi-Fi 6 AX201 160MHz\r\n    State                  : connected\r\n"
)

// TestFixesPerOS runs each skill that changes the machine on each OS
// through the fake runner: the commands it runs for real, and in a dry
// run only its read-only discovery.
func TestFixesPerOS(t *testing.T) {
	tests := []struct {
		skill, goos string
		script      map[string]reply
		want        []string // commands, in order
		wantDry     []string // commands a dry run may run (read-only)
	}{
		{"dns-flush", "linux", map[string]reply{"resolvectl flush-caches": {}},
			[]string{"resolvectl flush-caches"}, nil},
		{"dns-flush", "darwin", map[string]reply{"dscacheutil -flushcache": {}, "killall -HUP mDNSResponder": {}},
			[]string{"dscacheutil -flushcache", "killall -HUP mDNSResponder"}, nil},
		{"dns-flush", "windows", map[string]reply{"ipconfig /flushdns": {out: "Successfully flushed the DNS Resolver Cache.\r\n"}},
			[]string{"ipconfig /flushdns"}, nil},
		{"wifi-reset", "linux", map[string]reply{"nmcli -t -f DEVICE,TYPE device": {out: nmcliDevices}, "nmcli radio wifi off": {}, "nmcli radio wifi on": {}},
			[]string{"nmcli -t -f DEVICE,TYPE device", "nmcli radio wifi off", "nmcli radio wifi on"},
			[]string{"nmcli -t -f DEVICE,TYPE device"}},
		{"wifi-reset", "darwin", map[string]reply{"networksetup -listallhardwareports": {out: darwinPorts}, "networksetup -setairportpower en0 off": {}, "networksetup -setairportpower en0 on": {}},
			[]string{"networksetup -listallhardwareports", "networksetup -setairportpower en0 off", "networksetup -setairportpower en0 on"},
			[]string{"networksetup -listallhardwareports"}},
		{"wifi-reset", "windows", map[string]reply{"netsh wlan show interfaces": {out: netshWlan},
			"netsh interface set interface name=Wi-Fi 2 admin=disabled": {}, "netsh interface set interface name=Wi-Fi 2 admin=enabled": {}},
			[]string{"netsh wlan show interfaces", "netsh interface set interface name=Wi-Fi 2 admin=disabled", "netsh interface set interface name=Wi-Fi 2 admin=enabled"},
			[]string{"netsh wlan show interfaces"}},
		{"print-spooler-restart", "linux", map[string]reply{"systemctl restart cups": {}},
			[]string{"systemctl restart cups"}, nil},
		{"print-spooler-restart", "darwin", map[string]reply{"launchctl kickstart -k system/org.cups.cupsd": {}},
			[]string{"launchctl kickstart -k system/org.cups.cupsd"}, nil},
		{"print-spooler-restart", "windows", map[string]reply{"net stop spooler": {}, "net start spooler": {}},
			[]string{"net stop spooler", "net start spooler"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.skill+"/"+tt.goos, func(t *testing.T) {
			s := builtinByID(tt.skill)
			if !s.Changes {
				t.Fatalf("%s is not marked as changing the machine", tt.skill)
			}
			f := newFake(tt.script)
			r := s.Run(context.Background(), machine(tt.goos, f), RunOptions{Confirmed: true})
			if r.Status != StatusSuccess || !slices.Equal(f.Calls(), tt.want) {
				t.Errorf("status %s, output %q\ncalls %q\nwant  %q", r.Status, r.Output, f.Calls(), tt.want)
			}
			dry := newFake(tt.script)
			r = s.Run(context.Background(), machine(tt.goos, dry), RunOptions{DryRun: true})
			if !slices.Equal(dry.Calls(), tt.wantDry) {
				t.Errorf("dry run ran %q, want only %q", dry.Calls(), tt.wantDry)
			}
			for _, argv := range f.argv {
				line := commandLine(argv[0], argv[1:])
				if !slices.Contains(tt.wantDry, strings.Join(argv, " ")) && !strings.Contains(r.Output, "would run: "+line) {
					t.Errorf("dry-run output does not list %q:\n%s", line, r.Output)
				}
			}
			if r.Status != StatusSuccess {
				t.Errorf("dry run status %s: %s", r.Status, r.Output)
			}
		})
	}
}

func TestFixFailures(t *testing.T) {
	exit1 := errors.New("exit status 1")
	tests := []struct {
		name, skill, goos string
		script            map[string]reply
		wantStatus        string
		wantOut           []string
		wantCalls         []string
	}{
		{"the command fails", "dns-flush", "linux", map[string]reply{"resolvectl flush-caches": {out: "Failed to flush caches: Access denied\n", err: exit1}},
			StatusFailed, []string{"$ resolvectl flush-caches", "Access denied", "error: exit status 1"}, []string{"resolvectl flush-caches"}},
		{"a failed step stops the rest", "dns-flush", "darwin", map[string]reply{"dscacheutil -flushcache": {err: exit1}},
			StatusFailed, []string{"error: exit status 1"}, []string{"dscacheutil -flushcache"}},
		{"spooler already stopped still starts", "print-spooler-restart", "windows", map[string]reply{
			"net stop spooler":  {out: "The Print Spooler service is not started.\r\n", err: errors.New("exit status 2")},
			"net start spooler": {out: "The Print Spooler service was started successfully.\r\n"}},
			StatusSuccess, []string{"stop failed", "started successfully"}, []string{"net stop spooler", "net start spooler"}},
		{"no Wi-Fi adapter", "wifi-reset", "linux", map[string]reply{"nmcli -t -f DEVICE,TYPE device": {out: "enp3s0:ethernet\nlo:loopback\n"}},
			StatusSkipped, []string{"no Wi-Fi adapter found"}, []string{"nmcli -t -f DEVICE,TYPE device"}},
		{"no Wi-Fi on a Mac mini", "wifi-reset", "darwin", map[string]reply{"networksetup -listallhardwareports": {out: "Hardware Port: Ethernet\nDevice: en0\n"}},
			StatusSkipped, []string{"no Wi-Fi adapter found"}, []string{"networksetup -listallhardwareports"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(tt.script)
			r := builtinByID(tt.skill).Run(context.Background(), machine(tt.goos, f), RunOptions{Confirmed: true})
			if r.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s; output:\n%s", r.Status, tt.wantStatus, r.Output)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, r.Output)
				}
			}
			if !slices.Equal(f.Calls(), tt.wantCalls) {
				t.Errorf("calls = %q, want %q", f.Calls(), tt.wantCalls)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	itWindows, err := FromSpec(SkillSpec{ID: "fix-vpn", Program: `C:\IT\fixvpn.exe`, OS: []string{"windows"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		skill   *Skill
		host    *Host
		want    string // "" = can run
		wantRun bool   // Run reaches the runner
	}{
		{"dns-flush needs resolvectl", builtinByID("dns-flush"), &Host{GOOS: "linux", LookPath: lookPath("systemctl"), IsAdmin: yes}, "needs resolvectl", false},
		{"dns-flush needs root on linux", builtinByID("dns-flush"), &Host{GOOS: "linux", LookPath: lookPath("resolvectl"), IsAdmin: no}, "needs root", false},
		{"dns-flush needs admin on macOS", builtinByID("dns-flush"), &Host{GOOS: "darwin", LookPath: lookPath("dscacheutil", "killall"), IsAdmin: no}, "needs root", false},
		{"dns-flush needs no admin on windows", builtinByID("dns-flush"), &Host{GOOS: "windows", LookPath: lookPath("ipconfig"), IsAdmin: no}, "", true},
		{"wifi-reset needs elevation on windows", builtinByID("wifi-reset"), &Host{GOOS: "windows", LookPath: lookPath("netsh"), IsAdmin: no}, "needs administrator rights", false},
		{"print spooler needs systemctl", builtinByID("print-spooler-restart"), &Host{GOOS: "linux", LookPath: lookPath(), IsAdmin: yes}, "needs systemctl", false},
		{"network-check needs a network", builtinByID("network-check"), &Host{GOOS: "linux", NetworkUp: no}, "needs a network connection", false},
		{"config skill on the wrong OS", itWindows, &Host{GOOS: "linux", LookPath: lookPath(`C:\IT\fixvpn.exe`)}, "not available on linux (runs on windows)", false},
		{"config skill without its program", itWindows, &Host{GOOS: "windows", LookPath: lookPath()}, `needs C:\IT\fixvpn.exe`, false},
		{"freebsd is not supported", builtinByID("disk-space"), &Host{GOOS: "freebsd"}, "not available on freebsd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.skill.Availability(tt.host)
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Availability = %q, want %q", got, tt.want)
			}
			f := newFake(map[string]reply{"ipconfig /flushdns": {}})
			tt.host.Runner = f
			r := tt.skill.Run(context.Background(), tt.host, RunOptions{Confirmed: true})
			if ran := len(f.Calls()) > 0; ran != tt.wantRun {
				t.Errorf("runner called = %v, want %v (%q)", ran, tt.wantRun, f.Calls())
			}
			if tt.want != "" && (r.Status != StatusSkipped || !strings.Contains(r.Output, tt.want)) {
				t.Errorf("result %s %q, want skipped with the reason", r.Status, r.Output)
			}
		})
	}
}

func TestConfirmation(t *testing.T) {
	script := map[string]reply{"nmcli -t -f DEVICE,TYPE device": {out: nmcliDevices}, "nmcli radio wifi off": {}, "nmcli radio wifi on": {}}
	tests := []struct {
		name       string
		o          RunOptions
		wantStatus string
		wantCalls  int
	}{
		{"not confirmed", RunOptions{}, StatusSkipped, 0},
		{"confirmed", RunOptions{Confirmed: true}, StatusSuccess, 3},
		{"dry run needs no confirmation", RunOptions{DryRun: true}, StatusSuccess, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(script)
			r := builtinByID("wifi-reset").Run(context.Background(), machine("linux", f), tt.o)
			if r.Status != tt.wantStatus || len(f.Calls()) != tt.wantCalls {
				t.Errorf("status %s after %d commands, want %s after %d: %s", r.Status, len(f.Calls()), tt.wantStatus, tt.wantCalls, r.Output)
			}
			if tt.wantStatus == StatusSkipped && !strings.Contains(r.Output, "--yes") {
				t.Errorf("skip reason does not say how to confirm: %q", r.Output)
			}
		})
	}
}

func TestConfigSkills(t *testing.T) {
	hostile := []string{"--profile", "$(whoami)", "; rm -rf ~", "`id`", "%USERNAME%"}
	tests := []struct {
		name       string
		spec       SkillSpec
		o          RunOptions
		wantStatus string
		wantArgv   [][]string
	}{
		{"arguments pass verbatim", SkillSpec{ID: "fix-vpn", Program: "/opt/it/fix-vpn", Args: hostile}, RunOptions{},
			StatusSuccess, [][]string{append([]string{"/opt/it/fix-vpn"}, hostile...)}},
		{"a fix does not run in a dry run", SkillSpec{ID: "fix-vpn", Program: "/opt/it/fix-vpn"}, RunOptions{DryRun: true},
			StatusSuccess, nil},
		{"a readOnly skill runs in a dry run", SkillSpec{ID: "vpn-status", Program: "/opt/it/vpn-status", ReadOnly: true}, RunOptions{DryRun: true},
			StatusSuccess, [][]string{{"/opt/it/vpn-status"}}},
		{"requiresConfirmation unconfirmed", SkillSpec{ID: "reset-profile", Program: "/opt/it/reset", RequiresConfirmation: true}, RunOptions{},
			StatusSkipped, nil},
		{"requiresConfirmation confirmed", SkillSpec{ID: "reset-profile", Program: "/opt/it/reset", RequiresConfirmation: true}, RunOptions{Confirmed: true},
			StatusSuccess, [][]string{{"/opt/it/reset"}}},
		{"requiresAdmin without admin", SkillSpec{ID: "reset-profile", Program: "/opt/it/reset", RequiresAdmin: true}, RunOptions{},
			StatusSkipped, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			f := newFake(map[string]reply{
				"/opt/it/fix-vpn " + strings.Join(hostile, " "): {out: "reconnected\n"},
				"/opt/it/vpn-status":                            {out: "connected\n"}, "/opt/it/reset": {}, "/opt/it/fix-vpn": {},
			})
			h := &Host{GOOS: "linux", Runner: f, LookPath: lookPath(tt.spec.Program), IsAdmin: no}
			r := s.Run(context.Background(), h, tt.o)
			if r.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s: %s", r.Status, tt.wantStatus, r.Output)
			}
			if !slices.EqualFunc(f.argv, tt.wantArgv, slices.Equal) {
				t.Errorf("argv = %q, want %q", f.argv, tt.wantArgv)
			}
		})
	}
}

func TestSkillSpecProblems(t *testing.T) {
	tests := []struct {
		name string
		spec SkillSpec
		want []string
	}{
		{"valid unix", SkillSpec{ID: "vpn-status", Program: "/usr/local/bin/vpnctl", Args: []string{"status"}, TimeoutMs: 5000, OS: []string{"linux", "darwin"}}, nil},
		{"valid windows path", SkillSpec{ID: "fix.vpn_2", Program: `C:\Program Files\IT\fix.exe`, OS: []string{"windows"}}, nil},
		{"valid bare name", SkillSpec{ID: "gpupdate", Program: "gpupdate", Args: []string{"/force"}}, nil},
		{"missing", SkillSpec{}, []string{"id: is required", "program: is required"}},
		{"bad id", SkillSpec{ID: "Fix VPN", Program: "x"}, []string{"id: must be"}},
		{"built-in id", SkillSpec{ID: "dns-flush", Program: "x"}, []string{`id: "dns-flush" is a built-in skill`}},
		{"relative path", SkillSpec{ID: "a", Program: "./fix.sh"}, []string{"program: must be an absolute path"}},
		{"timeout", SkillSpec{ID: "a", Program: "x", TimeoutMs: 3600000}, []string{"timeoutMs: must be between"}},
		{"os", SkillSpec{ID: "a", Program: "x", OS: []string{"linux", "macos"}}, []string{"os[1]: must be one of linux, darwin, windows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.spec.Problems() {
				got = append(got, p.Field+": "+p.Msg)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSkillTimeout(t *testing.T) {
	s, err := FromSpec(SkillSpec{ID: "hang", Program: "/opt/it/hang", TimeoutMs: 50, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(nil)
	f.onStart = func(ctx context.Context, _ string) error { <-ctx.Done(); return ctx.Err() }
	r := s.Run(context.Background(), &Host{GOOS: "linux", Runner: f, LookPath: lookPath("/opt/it/hang")}, RunOptions{})
	if r.Status != StatusTimeout || !strings.Contains(r.Output, "timed out after 50ms") {
		t.Errorf("result = %s %q, want timeout", r.Status, r.Output)
	}
}

func TestOutputIsScrubbedAndCapped(t *testing.T) {
	s, _ := FromSpec(SkillSpec{ID: "dump", Program: "/opt/it/dump", ReadOnly: true})
	big := "Authorization: Bearer abcdefghijklmnop0123\npassword=hunter2\n" + strings.Repeat("0123456789abcdef\n", 2000)
	f := newFake(map[string]reply{"/opt/it/dump": {out: big}})
	r := s.Run(context.Background(), &Host{GOOS: "linux", Runner: f, LookPath: lookPath("/opt/it/dump")}, RunOptions{})
	if len(r.Output) > MaxOutput || !strings.HasSuffix(r.Output, TruncatedMarker) {
		t.Errorf("output is %d bytes, ends %q", len(r.Output), r.Output[max(0, len(r.Output)-20):])
	}
	for _, secret := range []string{"hunter2", "abcdefghijklmnop0123"} {
		if strings.Contains(r.Output, secret) {
			t.Errorf("secret %q in output", secret)
		}
	}
	if r.SkillID != "dump" || r.ExecutionTimeMs < 0 {
		t.Errorf("result = %+v", r)
	}
}

// readOnlySkill is a check whose command the fake runner answers.
func readOnlySkill(t *testing.T, id string) *Skill {
	t.Helper()
	s, err := FromSpec(SkillSpec{ID: id, Program: "/opt/it/" + id, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixSkill(t *testing.T, id string) *Skill {
	t.Helper()
	s, err := FromSpec(SkillSpec{ID: id, Program: "/opt/it/" + id})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunAllOrderAndSession(t *testing.T) {
	skills := []*Skill{readOnlySkill(t, "check-a"), fixSkill(t, "fix-1"), readOnlySkill(t, "check-b"), fixSkill(t, "fix-2"), readOnlySkill(t, "check-c")}
	f := newFake(map[string]reply{
		"/opt/it/check-a": {out: "ok"}, "/opt/it/fix-1": {}, "/opt/it/check-b": {err: errors.New("exit status 1")}, "/opt/it/fix-2": {},
	})
	h := &Host{GOOS: "linux", Runner: f, LookPath: func(p string) (string, error) {
		if p == "/opt/it/check-c" {
			return "", errors.New("not found")
		}
		return p, nil
	}}
	results, sess := RunAll(context.Background(), h, skills, RunOptions{Workers: 2})
	var got []string
	for _, r := range results {
		got = append(got, r.SkillID+"="+r.Status)
	}
	want := []string{"check-a=success", "fix-1=success", "check-b=failed", "fix-2=success", "check-c=skipped"}
	if !slices.Equal(got, want) {
		t.Errorf("results = %q, want %q", got, want)
	}
	// Fixes run first, in order, before any check.
	if calls := f.Calls(); len(calls) != 4 || calls[0] != "/opt/it/fix-1" || calls[1] != "/opt/it/fix-2" {
		t.Errorf("calls = %q, want the two fixes first", calls)
	}
	if sess.StepsAttempted != 4 || sess.StepsSuccessful != 3 {
		t.Errorf("session steps = %d attempted, %d successful; want 4, 3", sess.StepsAttempted, sess.StepsSuccessful)
	}
	if sess.StartTime.IsZero() || sess.EndTime.Before(sess.StartTime) || sess.DurationMs != sess.EndTime.Sub(sess.StartTime).Milliseconds() {
		t.Errorf("session times = %+v", sess)
	}
}

// TestRunAllPoolIsBounded: with 2 workers, two checks start and hold
// their slots; no third starts until they are released.
func TestRunAllPoolIsBounded(t *testing.T) {
	var skills []*Skill
	script := map[string]reply{}
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5", "c6"} {
		skills = append(skills, readOnlySkill(t, id))
		script["/opt/it/"+id] = reply{out: "ok"}
	}
	var mu sync.Mutex
	active, most := 0, 0
	started := make(chan struct{}, len(skills))
	gate := make(chan struct{})
	f := newFake(script)
	f.onStart = func(ctx context.Context, _ string) error {
		mu.Lock()
		active++
		most = max(most, active)
		mu.Unlock()
		started <- struct{}{}
		<-gate
		mu.Lock()
		active--
		mu.Unlock()
		return nil
	}
	done := make(chan []SkillResult)
	go func() {
		results, _ := RunAll(context.Background(), &Host{GOOS: "linux", Runner: f, LookPath: lookPath("/opt/it/c1", "/opt/it/c2", "/opt/it/c3", "/opt/it/c4", "/opt/it/c5", "/opt/it/c6")}, skills, RunOptions{Workers: 2})
		done <- results
	}()
	<-started
	<-started
	mu.Lock()
	if active != 2 {
		t.Errorf("%d checks running, want 2", active)
	}
	mu.Unlock()
	close(gate)
	results := <-done
	if most != 2 {
		t.Errorf("at most %d ran at once, want exactly the 2 workers", most)
	}
	for _, r := range results {
		if r.Status != StatusSuccess {
			t.Errorf("%s: %s", r.SkillID, r.Status)
		}
	}
}

func TestRunAllCancellation(t *testing.T) {
	skills := []*Skill{readOnlySkill(t, "c1"), readOnlySkill(t, "c2"), readOnlySkill(t, "c3")}
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake(nil)
	f.onStart = func(c context.Context, _ string) error {
		cancel() // the user gives up while the first check runs
		<-c.Done()
		return c.Err()
	}
	h := &Host{GOOS: "linux", Runner: f, LookPath: func(p string) (string, error) { return p, nil }}
	results, sess := RunAll(ctx, h, skills, RunOptions{Workers: 1})
	if got := results[0]; got.Status != StatusFailed || !strings.Contains(got.Output, "cancelled") {
		t.Errorf("running skill: %s %q, want failed: cancelled", got.Status, got.Output)
	}
	for _, r := range results[1:] {
		if r.Status != StatusSkipped || !strings.Contains(r.Output, "cancelled before it started") {
			t.Errorf("%s: %s %q, want skipped", r.SkillID, r.Status, r.Output)
		}
	}
	if len(f.Calls()) != 1 || sess.StepsAttempted != 1 || sess.StepsSuccessful != 0 {
		t.Errorf("calls %q, session %+v", f.Calls(), sess)
	}
}

func TestCatalog(t *testing.T) {
	cat, err := NewCatalog([]SkillSpec{{ID: "vpn-status", Program: "/opt/it/vpn", ReadOnly: true}, {ID: "fix-vpn", Program: "/opt/it/fix"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dns-flush", "network-check", "wifi-reset", "disk-space", "clear-temp", "proxy-check", "time-sync-check", "print-spooler-restart", "vpn-status", "fix-vpn"}
	if got := cat.IDs(); !slices.Equal(got, want) {
		t.Errorf("IDs = %q, want %q", got, want)
	}
	got, err := cat.Resolve([]string{"disk-space", " vpn-status", "disk-space", ""})
	if err != nil || len(got) != 2 || got[1].Source != "config" {
		t.Errorf("Resolve = %v, %v", got, err)
	}
	_, err = cat.Resolve([]string{"disk-space", "rm-rf"})
	var unknown *UnknownSkillError
	if !errors.As(err, &unknown) || unknown.ID != "rm-rf" || !strings.Contains(err.Error(), "dns-flush, network-check") {
		t.Errorf("unknown id: %v", err)
	}
	var ro []string
	for _, s := range cat.ReadOnly() {
		ro = append(ro, s.ID)
	}
	if want := []string{"network-check", "disk-space", "proxy-check", "time-sync-check", "vpn-status"}; !slices.Equal(ro, want) {
		t.Errorf("ReadOnly = %q, want %q", ro, want)
	}
	if _, err := NewCatalog([]SkillSpec{{ID: "dns-flush", Program: "x"}}); err == nil {
		t.Error("a config skill may not shadow a built-in")
	}
	// Every built-in declares its OSes, a timeout and a description.
	for _, s := range Builtins() {
		if len(s.OS) == 0 || s.Timeout <= 0 || s.Description == "" || s.Source != "builtin" {
			t.Errorf("%s is incompletely declared: %+v", s.ID, s)
		}
	}
}
