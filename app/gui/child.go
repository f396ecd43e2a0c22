package gui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The windows process is the tray process's child: the same binary, the
// same global flags, with EnvWindowsProcess set. They talk over the
// child's standard input and output, a line per message:
//
//	tray → windows: "show WHAT" opens a window; "changed" (a status sync
//	changed a ticket's state) reloads the open ticket lists; end of
//	input quits.
//	windows → tray: "ready" (up, first window shown), "visible" and
//	"hidden" (whether any window is shown or has work in flight), "wake"
//	(a ticket was saved or retried), "quit" (Quit was chosen).
//
// The tray decides when the child goes: lingerFor after it reported
// "hidden", by closing its input. A "show" in between keeps it. Deciding
// on one side means a request can never reach a child that is leaving.

// EnvWindowsProcess marks the windows process (set by the tray process).
const EnvWindowsProcess = "TICKETRAY_WINDOWS_PROCESS"

const (
	evReady   = "ready"
	evVisible = "visible"
	evHidden  = "hidden"
	evWake    = "wake"
	evQuit    = "quit"

	reqChanged = "changed"
)

// lingerFor is how long an idle windows process is kept: reopening a
// window within it is instant, and after it the memory (~150 MB of GL
// and fonts) goes back to the system.
const lingerFor = time.Minute

var errClosed = errors.New("the tray app is quitting")

// child is a running windows process.
type child struct {
	in     io.WriteCloser // its standard input
	out    io.Reader      // its standard output
	wait   func() error   // reaps it once out is at EOF
	kill   func()
	hidden bool // reported hidden with nothing in flight
	linger *time.Timer
	gone   chan struct{} // closed once it has exited
}

// windowsProc starts, feeds and retires the windows process.
type windowsProc struct {
	start   func() (*child, error)
	linger  time.Duration
	onEvent func(ev string) // wake, quit, ready; set before the first show
	logf    func(format string, args ...any)

	mu     sync.Mutex
	cur    *child
	closed bool
	wg     sync.WaitGroup
}

// show asks the windows process to show a window, starting one if none
// is running.
func (p *windowsProc) show(what string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	for attempt := 0; ; attempt++ {
		if p.cur == nil {
			c, err := p.start()
			if err != nil {
				return fmt.Errorf("start the windows process: %w", err)
			}
			c.gone = make(chan struct{})
			p.cur = c
			p.wg.Add(1)
			go p.follow(c)
		}
		c := p.cur
		c.hidden = false
		if c.linger != nil {
			c.linger.Stop()
		}
		_, err := fmt.Fprintf(c.in, "show %s\n", what)
		if err == nil {
			return nil
		}
		// It exited under us (a crash): start another, once.
		p.cur = nil
		c.in.Close()
		if attempt > 0 {
			return fmt.Errorf("the windows process: %w", err)
		}
	}
}

// changed tells a running windows process that tickets changed where its
// queue watch does not look (a status sync); it never starts one.
func (p *windowsProc) changed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && !p.closed {
		fmt.Fprintln(p.cur.in, reqChanged) // a child gone meanwhile is found at the next show
	}
}

// follow reads a child's messages until it exits.
func (p *windowsProc) follow(c *child) {
	defer p.wg.Done()
	sc := bufio.NewScanner(c.out)
	for sc.Scan() {
		ev := strings.TrimSpace(sc.Text())
		switch ev {
		case evHidden:
			p.mu.Lock()
			if p.cur == c {
				c.hidden = true
				if c.linger != nil {
					c.linger.Stop()
				}
				c.linger = time.AfterFunc(p.linger, func() { p.retire(c) })
			}
			p.mu.Unlock()
		case evVisible:
			p.mu.Lock()
			c.hidden = false
			if c.linger != nil {
				c.linger.Stop()
			}
			p.mu.Unlock()
		case evReady, evWake, evQuit:
			if p.onEvent != nil {
				p.onEvent(ev)
			}
		}
	}
	io.Copy(io.Discard, c.out)
	err := c.wait()
	p.mu.Lock()
	if p.cur == c {
		p.cur = nil
	}
	if c.linger != nil {
		c.linger.Stop()
	}
	closed := p.closed
	p.mu.Unlock()
	close(c.gone)
	if err != nil && !closed && p.logf != nil {
		p.logf("ticketray: the windows process ended: %v", err)
	}
}

// retire lets an idle child go, unless a show came in since.
func (p *windowsProc) retire(c *child) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == c && c.hidden {
		p.cur = nil
		c.in.Close() // it quits at the end of its input
	}
}

// close makes the child quit and waits for it (killing it after 10 s).
func (p *windowsProc) close() {
	p.mu.Lock()
	p.closed = true
	c := p.cur
	p.cur = nil
	p.mu.Unlock()
	if c != nil {
		c.in.Close()
		select {
		case <-c.gone:
		case <-time.After(10 * time.Second):
			c.kill()
		}
	}
	p.wg.Wait()
}

// running reports whether a windows process is up (for tests and status).
func (p *windowsProc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur != nil
}

// startExec starts this executable as the windows process, with the same
// arguments (the global flags) and environment, and stderr shared.
func startExec(stderr io.Writer) func() (*child, error) {
	return func() (*child, error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(exe, os.Args[1:]...)
		cmd.Env = append(os.Environ(), EnvWindowsProcess+"=1")
		cmd.Stderr = stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return &child{in: in, out: out, wait: cmd.Wait, kill: func() { cmd.Process.Kill() }}, nil
	}
}
