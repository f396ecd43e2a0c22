package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Skill statuses.
const (
	StatusSuccess = "success"
	StatusFailed  = "failed" // ran and failed, or a check found a problem
	StatusSkipped = "skipped"
	StatusTimeout = "timeout"
)

// MaxOutput caps a skill's output in a ticket, TruncatedMarker included.
const MaxOutput = 8 << 10

// DefaultSkillTimeout bounds a skill that declares no timeout.
const DefaultSkillTimeout = 30 * time.Second

// Needs is what a skill requires of the machine it runs on.
type Needs struct {
	Admin    bool     `json:"admin,omitempty"`    // root, or an elevated Windows process
	Binaries []string `json:"binaries,omitempty"` // programs that must be on PATH
	Network  bool     `json:"network,omitempty"`  // a network interface that is up
}

// Skill is a named troubleshooting action. Only built-in skills and
// skills declared in config exist: nothing else can be run.
type Skill struct {
	ID          string
	Name        string
	Description string
	OS          []string // GOOS values it runs on
	Timeout     time.Duration
	// Changes is set for skills that change the machine (flush, reset,
	// delete, restart, and every config skill not marked readOnly). They
	// never run in dry-run mode or from `diagnose`.
	Changes bool
	// Confirm is set for skills that run only when the caller confirmed.
	Confirm bool
	Source  string // "builtin" or "config"

	needs func(goos string) Needs
	run   func(ctx context.Context, x *execution) error
}

// Needs reports what the skill requires on goos.
func (s *Skill) Needs(goos string) Needs {
	if s.needs == nil {
		return Needs{}
	}
	return s.needs(goos)
}

// Host is the machine skills run on, and everything they touch; tests
// replace any part of it. NewHost fills in the real machine.
type Host struct {
	GOOS      string
	Runner    Runner
	LookPath  func(file string) (string, error)
	IsAdmin   func() bool
	NetworkUp func() bool
	// HelpDesk are the base URLs of the configured connections, which
	// network-check and time-sync-check reach.
	HelpDesk []string
	HTTP     *http.Client
	Resolver interface {
		LookupHost(ctx context.Context, host string) ([]string, error)
	}
	// Proxy says which proxy a request would use (default: the environment).
	Proxy  func(*http.Request) (*url.URL, error)
	Getenv func(string) string
	// TempDir is where clear-temp looks; TempAge is how old a file must be.
	TempDir string
	TempAge time.Duration
	Now     func() time.Time
	// Root prefixes /proc, /etc and /sys when skills read them (tests).
	Root string
	// DiskFree lists mounted disks for disk-space; nil means gopsutil.
	DiskFree func(ctx context.Context) ([]Disk, error)

	owns func(fs.FileInfo) bool
}

// DefaultTempAge is how old a temp file must be for clear-temp.
const DefaultTempAge = 7 * 24 * time.Hour

// NewHost describes this machine. helpDesk are the URLs skills check.
func NewHost(helpDesk []string) *Host {
	return &Host{
		GOOS:      runtime.GOOS,
		Runner:    ExecRunner{},
		LookPath:  exec.LookPath,
		IsAdmin:   isAdmin,
		NetworkUp: networkUp,
		HelpDesk:  helpDesk,
		HTTP:      &http.Client{Timeout: 10 * time.Second},
		Resolver:  net.DefaultResolver,
		Proxy:     http.ProxyFromEnvironment,
		Getenv:    os.Getenv,
		TempDir:   os.TempDir(),
		TempAge:   DefaultTempAge,
		Now:       time.Now,
	}
}

// fill supplies defaults for anything a test left out.
func (h *Host) fill() *Host {
	d := NewHost(nil)
	if h == nil {
		h = d
	}
	c := *h
	if c.GOOS == "" {
		c.GOOS = d.GOOS
	}
	if c.Runner == nil {
		c.Runner = d.Runner
	}
	if c.LookPath == nil {
		c.LookPath = d.LookPath
	}
	if c.IsAdmin == nil {
		c.IsAdmin = d.IsAdmin
	}
	if c.NetworkUp == nil {
		c.NetworkUp = d.NetworkUp
	}
	if c.HTTP == nil {
		c.HTTP = d.HTTP
	}
	if c.Resolver == nil {
		c.Resolver = d.Resolver
	}
	if c.Proxy == nil {
		c.Proxy = d.Proxy
	}
	if c.Getenv == nil {
		c.Getenv = d.Getenv
	}
	if c.TempDir == "" {
		c.TempDir = d.TempDir
	}
	if c.TempAge <= 0 {
		c.TempAge = d.TempAge
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.owns == nil {
		c.owns = ownedByMe
	}
	return &c
}

func (h *Host) sys() sysEnv {
	return sysEnv{goos: h.GOOS, root: h.Root, runner: h.Runner, getenv: h.Getenv}
}

// networkUp reports whether any non-loopback interface is up with an
// address.
func networkUp() bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return true // cannot tell: let the skill find out
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		if addrs, err := i.Addrs(); err == nil && len(addrs) > 0 {
			return true
		}
	}
	return false
}

// Availability says why a skill cannot run on h, or "" when it can. The
// checks are the OS, then the binaries, then admin rights, then the
// network.
func (s *Skill) Availability(h *Host) string {
	h = h.fill()
	if len(s.OS) > 0 && !slices.Contains(s.OS, h.GOOS) {
		return fmt.Sprintf("not available on %s (runs on %s)", h.GOOS, strings.Join(s.OS, ", "))
	}
	n := s.Needs(h.GOOS)
	for _, b := range n.Binaries {
		if _, err := h.LookPath(b); err != nil {
			return fmt.Sprintf("needs %s, which is not installed or not on PATH", b)
		}
	}
	if n.Admin && !h.IsAdmin() {
		if h.GOOS == "windows" {
			return "needs administrator rights (run from an elevated prompt)"
		}
		return "needs root (run with sudo)"
	}
	if n.Network && !h.NetworkUp() {
		return "needs a network connection, and no network interface is up"
	}
	return ""
}

// RunOptions control how skills run.
type RunOptions struct {
	// DryRun reports what would run and runs nothing that changes the
	// machine; read-only steps (checks, discovery) still run.
	DryRun bool
	// Confirmed is the caller's consent for skills that require
	// confirmation; without it they are skipped.
	Confirmed bool
	// Workers bounds how many read-only skills run at once (default 4).
	Workers int
	// OnResult, when set, is told each skill's result as soon as it ends
	// (index into the skills given to RunAll), from the goroutine that ran
	// it: a GUI shows live progress with it.
	OnResult func(i int, r SkillResult)
}

// skipError ends a skill as skipped, with a reason.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error { return skipError{fmt.Sprintf(format, args...)} }

// execution is one run of a skill: its host, its mode and its output.
type execution struct {
	h   *Host
	dry bool
	out strings.Builder
}

func (x *execution) printf(format string, args ...any) { fmt.Fprintf(&x.out, format, args...) }

// query runs a read-only command, also in dry-run mode, and records it
// and its output.
func (x *execution) query(ctx context.Context, program string, args ...string) (string, error) {
	x.printf("$ %s\n", commandLine(program, args))
	b, err := x.h.Runner.Run(ctx, program, args...)
	out := string(b)
	x.out.WriteString(out)
	if out != "" && !strings.HasSuffix(out, "\n") {
		x.out.WriteByte('\n')
	}
	return out, err
}

// change runs a command that changes the machine; in dry-run mode it
// only records that it would have.
func (x *execution) change(ctx context.Context, program string, args ...string) (string, error) {
	if x.dry {
		x.printf("would run: %s\n", commandLine(program, args))
		return "", nil
	}
	return x.query(ctx, program, args...)
}

// Run runs the skill on h and never panics or returns an error: every
// outcome is a SkillResult. Output is scrubbed of secrets and capped at
// MaxOutput.
func (s *Skill) Run(ctx context.Context, h *Host, o RunOptions) SkillResult {
	start := time.Now()
	res := SkillResult{SkillID: s.ID, SkillName: s.Name}
	finish := func(status, output string) SkillResult {
		res.Status = status
		res.Output = capText(Scrub(strings.TrimRight(output, "\n")), MaxOutput)
		res.ExecutionTimeMs = time.Since(start).Milliseconds()
		return res
	}
	h = h.fill()
	if reason := s.Availability(h); reason != "" {
		return finish(StatusSkipped, reason)
	}
	dry := o.DryRun && s.Changes
	if s.Confirm && !o.Confirmed && !dry {
		return finish(StatusSkipped, "needs confirmation: it "+confirmWhy(s)+"; confirm to run it (CLI: --yes)")
	}
	if ctx.Err() != nil {
		return finish(StatusSkipped, "cancelled before it started")
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSkillTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	x := &execution{h: h, dry: dry}
	if dry {
		x.printf("dry run: nothing that changes the machine was run\n")
	}
	err := s.run(sctx, x)
	out := x.out.String()
	var skip skipError
	switch {
	case errors.As(err, &skip):
		return finish(StatusSkipped, joinLines(out, skip.reason))
	case errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		return finish(StatusTimeout, joinLines(out, fmt.Sprintf("timed out after %v", timeout)))
	case ctx.Err() != nil:
		return finish(StatusFailed, joinLines(out, "cancelled"))
	case err != nil:
		return finish(StatusFailed, joinLines(out, "error: "+err.Error()))
	}
	return finish(StatusSuccess, out)
}

func confirmWhy(s *Skill) string {
	if s.Source == "config" {
		return "is an IT-defined action that asks for confirmation"
	}
	return "changes the machine (" + strings.ToLower(s.Description) + ")"
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return strings.TrimRight(a, "\n") + "\n" + b
}

// Session summarises a troubleshooting run.
type Session struct {
	StartTime       time.Time `json:"startTime"`
	EndTime         time.Time `json:"endTime"`
	DurationMs      int64     `json:"durationMs"`
	StepsAttempted  int       `json:"stepsAttempted"`  // skills that ran (not skipped)
	StepsSuccessful int       `json:"stepsSuccessful"` // of which succeeded
}

// DefaultWorkers bounds concurrent read-only skills.
const DefaultWorkers = 4

// RunAll runs skills and returns their results in the given order, and
// the session. Skills that change the machine run first, one at a time
// and in order, so a fix is never raced by another; the read-only
// checks then run concurrently in a pool of o.Workers. When ctx ends,
// skills not yet started are skipped and running ones are cancelled.
func RunAll(ctx context.Context, h *Host, skills []*Skill, o RunOptions) ([]SkillResult, Session) {
	sess := Session{StartTime: time.Now().UTC()}
	results := make([]SkillResult, len(skills))
	var checks []int
	done := func(i int) {
		if o.OnResult != nil {
			o.OnResult(i, results[i])
		}
	}
	for i, s := range skills {
		if s.Changes {
			results[i] = s.Run(ctx, h, o)
			done(i)
		} else {
			checks = append(checks, i)
		}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(checks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = skills[i].Run(ctx, h, o)
				done(i)
			}
		}()
	}
	for _, i := range checks {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	sess.EndTime = time.Now().UTC()
	sess.DurationMs = sess.EndTime.Sub(sess.StartTime).Milliseconds()
	for _, r := range results {
		if r.Status != StatusSkipped {
			sess.StepsAttempted++
		}
		if r.Status == StatusSuccess {
			sess.StepsSuccessful++
		}
	}
	return results, sess
}
