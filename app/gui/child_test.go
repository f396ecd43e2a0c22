package gui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeChild stands in for a windows process: it records the windows it is
// asked to show, and the test makes it report events.
type fakeChild struct {
	shows chan string
	out   *io.PipeWriter // its standard output: what the tray reads
	inR   *io.PipeReader
	ended chan struct{} // its input ended (it quits)
	crash func()        // ends it without being asked
}

func (c *fakeChild) send(t *testing.T, ev string) {
	t.Helper()
	if _, err := fmt.Fprintln(c.out, ev); err != nil {
		t.Fatalf("child says %q: %v", ev, err)
	}
}

func (c *fakeChild) nextShow(t *testing.T) string {
	t.Helper()
	select {
	case w := <-c.shows:
		return w
	case <-time.After(timeout):
		t.Fatal("no show request reached the windows process")
		return ""
	}
}

func (c *fakeChild) waitEnded(t *testing.T, what string) {
	t.Helper()
	select {
	case <-c.ended:
	case <-time.After(timeout):
		t.Fatalf("the windows process is still running: %s", what)
	}
}

// spawner starts fake children and hands them to the test.
type spawner struct {
	mu      sync.Mutex
	n       int
	started chan *fakeChild
	err     error
}

func newSpawner() *spawner { return &spawner{started: make(chan *fakeChild, 8)} }

func (s *spawner) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

func (s *spawner) start() (*child, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.n++
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	fc := &fakeChild{shows: make(chan string, 16), out: outW, inR: inR, ended: make(chan struct{})}
	var once sync.Once
	end := func() { once.Do(func() { close(fc.ended); outW.Close() }) }
	fc.crash = func() { inR.CloseWithError(errors.New("crashed")); end() }
	go func() {
		sc := bufio.NewScanner(inR)
		for sc.Scan() {
			fc.shows <- strings.TrimPrefix(sc.Text(), "show ")
		}
		end()
	}()
	s.started <- fc
	return &child{in: inW, out: outR, wait: func() error { <-fc.ended; return nil }, kill: fc.crash}, nil
}

func (s *spawner) next(t *testing.T) *fakeChild {
	t.Helper()
	select {
	case c := <-s.started:
		return c
	case <-time.After(timeout):
		t.Fatal("no windows process was started")
		return nil
	}
}

func newProc(s *spawner, linger time.Duration) (*windowsProc, chan string) {
	events := make(chan string, 16)
	p := &windowsProc{start: s.start, linger: linger, onEvent: func(ev string) { events <- ev }}
	return p, events
}

// One windows process serves every show until it is let go.
func TestWindowsProcReuses(t *testing.T) {
	s := newSpawner()
	p, _ := newProc(s, time.Hour)
	defer p.close()
	for _, w := range []string{winReport, winQueue, winSettings} {
		if err := p.show(w); err != nil {
			t.Fatal(err)
		}
	}
	c := s.next(t)
	for _, want := range []string{winReport, winQueue, winSettings} {
		if got := c.nextShow(t); got != want {
			t.Errorf("show %q reached the child as %q", want, got)
		}
	}
	if n := s.count(); n != 1 {
		t.Errorf("%d windows processes started, want 1", n)
	}
	p.close()
	c.waitEnded(t, "after close")
	if err := p.show(winMain); !errors.Is(err, errClosed) {
		t.Errorf("show after close = %v, want errClosed", err)
	}
}

// Hidden with nothing in flight, the child is let go after the linger
// time; the next show starts another.
func TestWindowsProcRetiresIdle(t *testing.T) {
	s := newSpawner()
	p, _ := newProc(s, time.Millisecond)
	defer p.close()
	if err := p.show(winReport); err != nil {
		t.Fatal(err)
	}
	c := s.next(t)
	c.nextShow(t)
	c.send(t, evVisible)
	c.send(t, evHidden)
	c.waitEnded(t, "hidden for longer than the linger time")
	if err := p.show(winMine); err != nil {
		t.Fatal(err)
	}
	c2 := s.next(t)
	if got := c2.nextShow(t); got != winMine {
		t.Errorf("second process showed %q", got)
	}
	if n := s.count(); n != 2 {
		t.Errorf("%d processes started, want 2", n)
	}
}

// A show that arrives while the child lingers keeps it: a linger timer
// firing after the show must not retire it.
func TestWindowsProcShowKeeps(t *testing.T) {
	s := newSpawner()
	p, _ := newProc(s, time.Hour)
	defer p.close()
	if err := p.show(winReport); err != nil {
		t.Fatal(err)
	}
	c := s.next(t)
	c.nextShow(t)
	c.send(t, evHidden)
	c.send(t, evHidden) // both read: the first took effect
	p.mu.Lock()
	cur := p.cur
	hidden := cur != nil && cur.hidden
	p.mu.Unlock()
	if !hidden {
		t.Fatal("the child's hidden report was not recorded")
	}
	if err := p.show(winQueue); err != nil {
		t.Fatal(err)
	}
	p.retire(cur) // as if the timer fired just after the show
	if !p.running() {
		t.Fatal("a child asked to show a window was retired")
	}
	if got := c.nextShow(t); got != winQueue {
		t.Errorf("show = %q", got)
	}
	select {
	case <-c.ended:
		t.Fatal("the child was let go")
	default:
	}
}

// A child that dies is replaced on the next show, whether it died before
// (its exit seen) or while the show was being written.
func TestWindowsProcRestartsAfterCrash(t *testing.T) {
	s := newSpawner()
	p, _ := newProc(s, time.Hour)
	defer p.close()
	if err := p.show(winReport); err != nil {
		t.Fatal(err)
	}
	c := s.next(t)
	c.nextShow(t)
	// It dies; the tray has not noticed yet when the next show comes.
	c.inR.CloseWithError(errors.New("crashed"))
	if err := p.show(winQueue); err != nil {
		t.Fatalf("show after a crash: %v", err)
	}
	c2 := s.next(t)
	if got := c2.nextShow(t); got != winQueue {
		t.Errorf("replacement showed %q", got)
	}
	// A start that fails is an error, not a hang.
	s.mu.Lock()
	s.err = errors.New("exec: no such file")
	s.mu.Unlock()
	p.mu.Lock()
	gone := p.cur.gone
	p.mu.Unlock()
	c2.crash()
	select { // the tray saw it exit
	case <-gone:
	case <-time.After(timeout):
		t.Fatal("the crash went unnoticed")
	}
	if p.running() {
		t.Fatal("a dead child is still current")
	}
	if err := p.show(winMain); err == nil || !strings.Contains(err.Error(), "start the windows process: exec: no such file") {
		t.Errorf("show with a failing start = %v", err)
	}
}

// The child's wake, quit and ready reach the tray; unknown lines do not.
func TestWindowsProcEvents(t *testing.T) {
	s := newSpawner()
	p, events := newProc(s, time.Hour)
	defer p.close()
	if err := p.show(winMain); err != nil {
		t.Fatal(err)
	}
	c := s.next(t)
	for _, ev := range []string{evReady, "gibberish", evWake, evVisible, evQuit} {
		c.send(t, ev)
	}
	var got []string
	for len(got) < 3 {
		select {
		case ev := <-events:
			got = append(got, ev)
		case <-time.After(timeout):
			t.Fatalf("events so far %v", got)
		}
	}
	if strings.Join(got, ",") != "ready,wake,quit" {
		t.Errorf("events = %v", got)
	}
}

func TestPNGToICO(t *testing.T) {
	png := icons["online"].Content()
	ico := pngToICO(png)
	if string(ico[:6]) != "\x00\x00\x01\x00\x01\x00" {
		t.Errorf("ICONDIR = % x", ico[:6])
	}
	size := int(ico[14]) | int(ico[15])<<8 | int(ico[16])<<16 | int(ico[17])<<24
	off := int(ico[18]) | int(ico[19])<<8
	if size != len(png) || off != 22 || string(ico[off:]) != string(png) {
		t.Errorf("entry: size %d (png %d), offset %d", size, len(png), off)
	}
	w := int(png[16])<<24 | int(png[17])<<16 | int(png[18])<<8 | int(png[19])
	if want := byte(w % 256); ico[6] != want {
		t.Errorf("width byte %d, png width %d", ico[6], w)
	}
}

// A status change reaches a running windows process as "changed"; with
// none running, nothing starts one.
func TestWindowsProcChanged(t *testing.T) {
	s := newSpawner()
	p, _ := newProc(s, time.Hour)
	defer p.close()
	p.changed()
	if n := s.count(); n != 0 {
		t.Fatalf("changed started %d windows processes, want none", n)
	}
	if err := p.show(winMine); err != nil {
		t.Fatal(err)
	}
	c := s.next(t)
	c.nextShow(t)
	p.changed()
	if got := c.nextShow(t); got != reqChanged {
		t.Errorf("the child was told %q, want %q", got, reqChanged)
	}
}
