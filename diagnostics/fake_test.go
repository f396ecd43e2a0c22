package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// reply is a scripted answer of fakeRunner.
type reply struct {
	out string
	err error
}

// fakeRunner records every command and answers from a script keyed by the
// command line. Unscripted commands fail, so a test notices any command it
// did not expect.
type fakeRunner struct {
	mu      sync.Mutex
	script  map[string]reply
	calls   []string
	argv    [][]string
	onStart func(ctx context.Context, cmd string) error // optional: runs before the reply
}

func newFake(script map[string]reply) *fakeRunner { return &fakeRunner{script: script} }

func (f *fakeRunner) Run(ctx context.Context, program string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{program}, args...), " ")
	f.mu.Lock()
	f.calls = append(f.calls, cmd)
	f.argv = append(f.argv, append([]string{program}, args...))
	f.mu.Unlock()
	if f.onStart != nil {
		if err := f.onStart(ctx, cmd); err != nil {
			return nil, fmt.Errorf("%s: %w", program, err)
		}
	}
	r, ok := f.script[cmd]
	if !ok {
		return nil, errors.New("fake: unscripted command " + cmd)
	}
	return []byte(r.out), r.err
}

func (f *fakeRunner) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// lookPath finds exactly the named binaries.
func lookPath(bins ...string) func(string) (string, error) {
	return func(b string) (string, error) {
		for _, x := range bins {
			if x == b {
				return "/usr/bin/" + b, nil
			}
		}
		return "", errors.New("not found")
	}
}

func yes() bool { return true }
func no() bool  { return false }
