package fake

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// Restarter is a vendor fake that embeds Server and starts with StartAt.
type Restarter interface {
	StartAt(addr string) error
	URL() string
	Close()
}

// CheckRestart checks a fake's life on a reserved address, for the fake's
// own tests: refused before StartAt, served after, gone after Close, and
// back with its data after a second StartAt (a third one fails). write
// stores something through the fake; kept says whether it is still there.
func CheckRestart(t testing.TB, f Restarter, write func(), kept func() bool) {
	t.Helper()
	addr, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	if _, err := http.Get("http://" + addr + "/"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("before start: %v, want connection refused", err)
	}
	if err := f.StartAt(addr); err != nil {
		t.Fatal(err)
	}
	if f.URL() != "http://"+addr {
		t.Errorf("URL = %q, want http://%s", f.URL(), addr)
	}
	write()
	f.Close()
	if f.URL() != "" {
		t.Errorf("URL after Close = %q", f.URL())
	}
	if err := f.StartAt(addr); err != nil {
		t.Fatal(err)
	}
	if err := f.StartAt(addr); err == nil {
		t.Error("StartAt twice succeeded")
	}
	if !kept() {
		t.Error("the data did not survive a restart")
	}
}

// CheckHangEnds sends req, which a Hang fault holds, and checks that the
// hang ends when the client gives up, so f's Close returns: the fake must
// read the body before the fault injector sees the request.
func CheckHangEnds(t testing.TB, f interface{ Close() }, req *http.Request) {
	t.Helper()
	if _, err := (&http.Client{Timeout: 100 * time.Millisecond}).Do(req); err == nil {
		t.Fatal("the hung request answered")
	}
	closed := make(chan struct{})
	go func() { f.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close is still waiting for the hung handler")
	}
}

// Closing closes f when the test ends, so each vendor's startFake is one
// line.
func Closing[F interface{ Close() }](t testing.TB, f F) F {
	t.Cleanup(f.Close)
	return f
}
