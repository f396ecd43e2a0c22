package gui

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Single instance: the first tray app for a queue listens on a Unix domain
// socket in the user's runtime directory; a second launch connects, asks
// it to show a window, and exits. A lock file held with flock decides who
// is first, so two launches at the same moment cannot both listen, and a
// socket left behind by a crash is recognised as stale (its lock is free).

// errRunning says another instance holds the queue and was asked to show
// itself.
var errRunning = errors.New("Ticketray is already running")

// handoffTimeout bounds a second instance's wait for the first to answer
// (the first may hold the lock but not yet listen).
const handoffTimeout = 3 * time.Second

// instance is this process's claim on being the one tray app.
type instance struct {
	ln   net.Listener
	lock io.Closer // nil where file locks are not supported
	done chan struct{}
}

// claimInstance makes this process the instance for sock, serving "show"
// requests by calling show(what) on the listener's goroutine. If another
// process holds it, that process is asked to show what, and errRunning
// is returned.
func claimInstance(sock, what string, show func(what string)) (*instance, error) {
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		return nil, fmt.Errorf("single instance: %w", err)
	}
	lock, held, err := lockFile(sock + ".lock")
	if err != nil && !errors.Is(err, errLockUnsupported) {
		return nil, fmt.Errorf("single instance: %w", err)
	}
	if errors.Is(err, errLockUnsupported) {
		// No file locks: whoever answers on the socket is first.
		if handoff(sock, what, 0) == nil {
			return nil, errRunning
		}
	} else if !held {
		if err := handoff(sock, what, handoffTimeout); err != nil {
			return nil, fmt.Errorf("another Ticketray holds %s but does not answer: %w", sock, err)
		}
		return nil, errRunning
	}
	// We are first: a socket file still there is a crashed instance's.
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, fmt.Errorf("single instance: %w", err)
	}
	os.Chmod(sock, 0o600)
	in := &instance{ln: ln, lock: lock, done: make(chan struct{})}
	go in.serve(show)
	return in, nil
}

// Close stops answering and releases the claim.
func (in *instance) Close() error {
	err := in.ln.Close() // also removes the socket file
	<-in.done
	if in.lock != nil {
		in.lock.Close()
	}
	return err
}

func (in *instance) serve(show func(string)) {
	defer close(in.done)
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return
		}
		in.answer(c, show)
	}
}

// answer reads one request line, "show WHAT", and acknowledges it.
func (in *instance) answer(c net.Conn, show func(string)) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 256)).ReadString('\n')
	if err != nil {
		return
	}
	cmd, what, _ := strings.Cut(strings.TrimSpace(line), " ")
	if cmd != "show" {
		io.WriteString(c, "error unknown request\n")
		return
	}
	show(what)
	io.WriteString(c, "ok\n")
}

// handoff asks the instance listening on sock to show what, retrying
// until wait has passed (the first instance may not be listening yet).
func handoff(sock, what string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := askShow(sock, what)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // a retry interval, not a wait for an event
	}
}

func askShow(sock, what string) error {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "show %s\n", what); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(reply) != "ok" {
		return fmt.Errorf("instance answered %q", strings.TrimSpace(reply))
	}
	return nil
}

// maxSocketPath is the portable limit on a Unix socket's path (sun_path
// is 104 bytes on macOS and the BSDs, 108 on Linux).
const maxSocketPath = 100

// socketPath is where the instance for the queue at dbPath listens: one
// instance per queue, in the user's runtime directory when there is one
// (private, cleared at logout), else next to the queue.
func socketPath(getenv func(string) string, dbPath string) string {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		abs = dbPath
	}
	sum := sha256.Sum256([]byte(abs))
	name := "ticketray-" + hex.EncodeToString(sum[:6]) + ".sock"
	dir := filepath.Dir(abs)
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && runtime.GOOS != "windows" {
		dir = rt
	}
	if p := filepath.Join(dir, name); len(p) <= maxSocketPath {
		return p
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ticketray-%d-%s", os.Getuid(), name))
}
