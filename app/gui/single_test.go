package gui

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// shortDir is a temp dir with a path short enough for a Unix socket
// (t.TempDir's can exceed the limit on macOS).
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "tr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// shows records the windows an instance was asked to show.
type shows struct {
	mu   sync.Mutex
	what []string
}

func (s *shows) show(w string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.what = append(s.what, w)
}

func (s *shows) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.what...)
}

func TestSingleInstanceHandoff(t *testing.T) {
	tests := []struct {
		name string
		asks []string // what each later launch asks the first to show
	}{
		{"one later launch", []string{"main"}},
		{"several, different windows", []string{"queue", "report", "settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(shortDir(t), "t.sock")
			var first shows
			in, err := claimInstance(sock, "main", first.show)
			if err != nil {
				t.Fatalf("first claim: %v", err)
			}
			defer in.Close()
			for _, what := range tt.asks {
				var second shows
				in2, err := claimInstance(sock, what, second.show)
				if !errors.Is(err, errRunning) {
					if in2 != nil {
						in2.Close()
					}
					t.Fatalf("second claim asking for %q: %v, want errRunning", what, err)
				}
				if got := second.got(); len(got) != 0 {
					t.Errorf("the second launch was asked to show %v", got)
				}
			}
			// Each request is acknowledged only after show ran.
			if got := first.got(); strings.Join(got, ",") != strings.Join(tt.asks, ",") {
				t.Errorf("first instance showed %v, want %v", got, tt.asks)
			}
			if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("socket: %v, mode %v; want 0600", err, fi.Mode().Perm())
			}
		})
	}
}

// A socket file left by a crashed instance does not stop the next launch,
// and a closed instance leaves the way free.
func TestSingleInstanceStaleAndReleased(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("flock is Unix")
	}
	dir := shortDir(t)
	sock := filepath.Join(dir, "t.sock")

	// A crashed instance: its socket file is there, nothing listens.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}

	var s shows
	in, err := claimInstance(sock, "main", s.show)
	if err != nil {
		t.Fatalf("claim over a stale socket: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after Close: %v", err)
	}
	in, err = claimInstance(sock, "main", s.show)
	if err != nil {
		t.Fatalf("claim after Close: %v", err)
	}
	in.Close()
	if got := s.got(); len(got) != 0 {
		t.Errorf("show called %v without a second launch", got)
	}
}

// Launches at the same moment: exactly one becomes the instance, and
// every other hands over to it.
func TestSingleInstanceRace(t *testing.T) {
	sock := filepath.Join(shortDir(t), "t.sock")
	const n = 8
	var s shows
	var wg sync.WaitGroup
	results := make(chan *instance, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, err := claimInstance(sock, "queue", s.show)
			if err != nil {
				errs <- err
				return
			}
			results <- in
		}()
	}
	wg.Wait()
	close(results)
	close(errs)
	var won []*instance
	for in := range results {
		won = append(won, in)
	}
	for _, in := range won {
		defer in.Close()
	}
	if len(won) != 1 {
		t.Fatalf("%d instances claimed the socket, want 1", len(won))
	}
	for err := range errs {
		if !errors.Is(err, errRunning) {
			t.Errorf("a losing launch got %v, want errRunning", err)
		}
	}
	if got := len(s.got()); got != n-1 {
		t.Errorf("the instance was asked to show %d times, want %d", got, n-1)
	}
}

func TestSocketPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	long := "/" + strings.Repeat("d", 120)
	tests := []struct {
		name    string
		getenv  func(string) string
		db      string
		wantDir string
	}{
		{"runtime dir", env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}), "/home/a/.local/share/ticketray/queue.db", "/run/user/1000"},
		{"next to the queue", env(nil), "/home/a/.local/share/ticketray/queue.db", "/home/a/.local/share/ticketray"},
		{"too long: temp dir", env(map[string]string{"XDG_RUNTIME_DIR": long}), "/q/queue.db", os.TempDir()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := socketPath(tt.getenv, tt.db)
			if filepath.Dir(p) != tt.wantDir {
				t.Errorf("socketPath = %s, want it in %s", p, tt.wantDir)
			}
			if len(p) > maxSocketPath {
				t.Errorf("socketPath is %d bytes, over the %d limit", len(p), maxSocketPath)
			}
		})
	}
	// One instance per queue: another queue gets another socket.
	g := env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"})
	if a, b := socketPath(g, "/a/queue.db"), socketPath(g, "/b/queue.db"); a == b {
		t.Errorf("two queues share the socket %s", a)
	}
	if a, b := socketPath(g, "/a/queue.db"), socketPath(g, "/a/queue.db"); a != b {
		t.Errorf("the same queue got sockets %s and %s", a, b)
	}
}

func TestOpenRequest(t *testing.T) {
	for _, tt := range []struct{ env, want string }{
		{"", "main"}, {"queue", "queue"}, {"settings", "settings"}, {"report", "report"}, {"mine", "mine"},
		{"diagnostics", "diagnostics"}, {"bogus", "main"},
	} {
		if got := openRequest(func(string) string { return tt.env }); got != tt.want {
			t.Errorf("%s=%q: openRequest = %q, want %q", EnvOpen, tt.env, got, tt.want)
		}
	}
}
