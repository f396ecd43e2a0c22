package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Runner runs one program with fixed arguments and returns what it wrote
// to stdout and stderr, interleaved as written. Implementations never use
// a shell and never expand or interpolate the arguments.
//
// A non-nil error means the program could not start, exited non-zero
// (the output is still returned), or ctx ended first; in the last case
// the error wraps ctx.Err().
type Runner interface {
	Run(ctx context.Context, program string, args ...string) ([]byte, error)
}

// RunnerOutputCap bounds what ExecRunner keeps of one command's output.
// Skill results are capped again, more tightly, at MaxOutput.
const RunnerOutputCap = 64 << 10

// TruncatedMarker ends output that was cut at a cap.
const TruncatedMarker = "\n[truncated]"

// ExecRunner is the real Runner: exec.CommandContext, with the whole
// process group killed when ctx ends (Unix; on Windows the process tree
// is ended with taskkill), and output capped at Cap bytes.
type ExecRunner struct {
	Cap int // 0 means RunnerOutputCap
}

var _ Runner = ExecRunner{}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, program string, args ...string) ([]byte, error) {
	limit := r.Cap
	if limit <= 0 {
		limit = RunnerOutputCap
	}
	cmd := exec.CommandContext(ctx, program, args...)
	out := &capWriter{max: limit}
	cmd.Stdout = out
	cmd.Stderr = out
	killTree(cmd)
	// A grandchild that keeps the pipes open must not hold Wait forever.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	b := out.bytes()
	if ctx.Err() != nil {
		return b, fmt.Errorf("%s: %w", program, ctx.Err())
	}
	if err != nil {
		return b, fmt.Errorf("%s: %w", program, err)
	}
	return b, nil
}

// capWriter keeps the first max bytes written to it and notes the rest.
type capWriter struct {
	mu        sync.Mutex
	buf       []byte
	max       int
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.max - len(w.buf)
	if room < len(p) {
		w.truncated = true
		if room > 0 {
			w.buf = append(w.buf, p[:room]...)
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *capWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.truncated {
		return []byte(truncateUTF8(string(w.buf), len(w.buf)) + TruncatedMarker)
	}
	return append([]byte(nil), w.buf...)
}

// capText cuts s to at most max bytes, marker included, on a rune
// boundary, and appends TruncatedMarker when it cut anything.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return truncateUTF8(s, max-len(TruncatedMarker)) + TruncatedMarker
}

func truncateUTF8(s string, n int) string {
	if n >= len(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "\uFFFD")
}

// commandLine renders a command for humans: arguments that contain
// spaces are quoted. It is only ever displayed, never executed.
func commandLine(program string, args []string) string {
	parts := []string{program}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// isTimeout reports whether err came from a deadline.
func isTimeout(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
