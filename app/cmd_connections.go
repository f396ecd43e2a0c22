package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ticketray/ticketray/app/config"
)

const drainUsage = `Usage: ticketray drain [--timeout DURATION] [--json]

Deliver queued tickets to the configured connections until nothing is
left to do, then exit. Retries wait for their scheduled time; an offline
connection is probed and resumes as soon as it answers. Exit 0 only if
nothing is left pending and no delivery died during the run.

  --timeout DURATION   give up after this long (default 5m)
  --verbose            log each connector call (no ticket data) to stderr
`

const serveUsage = `Usage: ticketray serve [--listen ADDR]

Run headless: deliver queued tickets as they come and when connections
come back, until interrupted (SIGINT/SIGTERM). Webhook endpoints arrive
with status sync; --listen is reserved for them.
`

const connectionsUsage = `Usage:
  ticketray connections list [--json]
  ticketray connections test [NAME] [--json]

list shows each configured connection with its health as last seen by the
process that delivers (healthy, degraded, down, breaker_open), its last
success and error, and its queue depth.

test validates each connection's config, then checks DNS, TCP and TLS to
its baseUrl, the credentials and (where the API tells) the permission to
create tickets, with latencies. Exit 1 if any check fails.
`

func (c *cli) drain(args []string) error {
	fs := c.flags("drain", func() string { return drainUsage })
	timeout := fs.Duration("timeout", 5*time.Minute, "")
	asJSON := fs.Bool("json", false, "")
	verbose := fs.Bool("verbose", false, "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("drain takes no arguments")
	}
	svc, co, err := c.openCourier(*verbose)
	if err != nil {
		return err
	}
	defer svc.Close()
	defer co.Close()
	ctx, cancel := context.WithTimeout(c.ctx, *timeout)
	defer cancel()
	runErr := co.Drain(ctx)
	if runErr != nil && !errors.Is(runErr, context.DeadlineExceeded) && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	// Count with a fresh context: the drain's may have expired.
	left, err := svc.Store.Left(context.WithoutCancel(c.ctx))
	if err != nil {
		return err
	}
	total := 0
	for _, n := range left {
		total += n
	}
	if *asJSON {
		writeJSON(c.env.Stdout, map[string]any{"left": left, "leftTotal": total, "died": co.Died()})
	} else {
		for _, k := range sortedKeys(left) {
			fmt.Fprintf(c.env.Stderr, "%s: %d deliveries left\n", k, left[k])
		}
	}
	switch {
	case total > 0 && runErr != nil:
		return fmt.Errorf("drain stopped after %v with %d deliveries left (see 'ticketray queue list --state pending')", *timeout, total)
	case total > 0:
		return fmt.Errorf("%d deliveries left for connections that are not configured or not enabled", total)
	case co.Died() > 0:
		return fmt.Errorf("%d deliveries failed for good (see 'ticketray queue list --state dead')", co.Died())
	}
	fmt.Fprintln(c.env.Stderr, "Queue drained: nothing left to send.")
	return nil
}

// openCourier opens the queue and a courier for its enabled connections.
func (c *cli) openCourier(verbose bool) (*Service, *Courier, error) {
	svc, err := c.open()
	if err != nil {
		return nil, nil, err
	}
	co, err := svc.NewCourier(CourierOptions{Logger: c.logger(verbose)})
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return svc, co, nil
}

func (c *cli) logger(verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (c *cli) serve(args []string) error {
	fs := c.flags("serve", func() string { return serveUsage })
	fs.String("listen", "", "")
	verbose := fs.Bool("verbose", false, "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("serve takes no arguments")
	}
	svc, co, err := c.openCourier(*verbose)
	if err != nil {
		return err
	}
	defer svc.Close()
	fmt.Fprintf(c.env.Stderr, "ticketray: serving; queue %s\n", svc.Store.Path())
	var cur atomic.Pointer[Service] // the service with the config in force
	cur.Store(svc)
	go func() {
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			if _, err := cur.Load().PurgeExpired(c.ctx, time.Now()); err != nil {
				fmt.Fprintf(c.env.Stderr, "ticketray: purge: %v\n", err)
			}
			select {
			case <-c.ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	// Live reload: a changed config file replaces the courier. Stopping it
	// cancels in-flight calls; their deliveries are recorded as retries
	// (or uncertain, found by idempotency key next time), so nothing is
	// lost or sent twice. An invalid change is refused and the last good
	// config stays in force.
	changes := make(chan *config.Loaded, 1)
	watch := c.watch
	if svc.Loaded != nil && watch.Since == ([32]byte{}) {
		watch.Since = svc.Loaded.Fingerprint // a change since Open is not missed
	}
	go config.Watch(c.ctx, c.options().LoadOptions(true), watch, func(l *config.Loaded, err error) {
		if err != nil {
			fmt.Fprintf(c.env.Stderr, "ticketray: config change refused; the last good config stays in force: %v\n", err)
			return
		}
		for _, p := range l.Warnings {
			fmt.Fprintf(c.env.Stderr, "ticketray: warning: %s\n", p)
		}
		select { // keep only the newest
		case <-changes:
		default:
		}
		changes <- l
	})
	for {
		ctx, stop := context.WithCancel(c.ctx)
		done := make(chan error, 1)
		go func() { done <- co.Serve(ctx) }()
		select {
		case err := <-done:
			stop()
			co.Close()
			return err
		case l := <-changes:
			stop()
			err := <-done
			co.Close()
			if err != nil {
				return err
			}
			next := *cur.Load()
			next.Config, next.Loaded = l.Config, l
			nco, err := next.NewCourier(CourierOptions{Logger: c.logger(*verbose)})
			if err != nil {
				fmt.Fprintf(c.env.Stderr, "ticketray: config change refused; the last good config stays in force: %v\n", err)
				if co, err = cur.Load().NewCourier(CourierOptions{Logger: c.logger(*verbose)}); err != nil {
					return err
				}
				continue
			}
			cur.Store(&next)
			co = nco
			fmt.Fprintf(c.env.Stderr, "ticketray: config reloaded; %d connection(s) enabled\n", len(l.Config.Enabled()))
		}
	}
}

// connectionJSON is one element of `connections list --json`.
type connectionJSON = ConnectionStatus

func (c *cli) connections(args []string) error {
	if len(args) == 0 {
		return usagef("connections needs a subcommand: list or test\n%s", connectionsUsage)
	}
	sub, args := args[0], args[1:]
	fs := c.flags("connections "+sub, func() string { return connectionsUsage })
	asJSON := fs.Bool("json", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if len(pos) > 0 {
			return usagef("connections list takes no arguments")
		}
		return c.connectionsList(*asJSON)
	case "test":
		if len(pos) > 1 {
			return usagef("connections test takes at most one connection name")
		}
		name := ""
		if len(pos) == 1 {
			name = pos[0]
		}
		return c.connectionsTest(name, *asJSON)
	case "--help", "-h", "help":
		return errHelp{func() string { return connectionsUsage }}
	}
	return usagef("unknown connections subcommand %q (list, test)", sub)
}

func (c *cli) connectionsList(asJSON bool) error {
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	out, err := svc.Connections(c.ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.env.Stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(c.env.Stderr, "No connection is configured.")
		return nil
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tSTATE\tQUEUED\tLAST SUCCESS\tLAST ERROR")
	for _, j := range out {
		succ := "never"
		if j.LastSuccess != nil {
			succ = j.LastSuccess.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", j.Name, j.Type, j.State, j.QueueDepth, succ, clip(j.LastError, 60))
	}
	return tw.Flush()
}

// testReport is `connections test --json`: one entry per connection.
type testReport = ConnectionTest

type testCheck = TestCheck

func (c *cli) connectionsTest(name string, asJSON bool) error {
	cfg, err := LoadConfig(c.config)
	if err != nil {
		return err
	}
	// No queue is opened: testing needs only the credentials (one
	// keyring, opened once for all connections).
	svc := &Service{getenv: c.env.Getenv, ring: &lazyKeyring{}}
	var reports []testReport
	for _, conn := range cfg.Connections {
		if name != "" && conn.Name != name {
			continue
		}
		reports = append(reports, svc.TestConnection(c.ctx, conn))
	}
	if name != "" && len(reports) == 0 {
		return usagef("no connection named %q in the config", name)
	}
	failed := 0
	for _, r := range reports {
		if !r.OK {
			failed++
		}
	}
	if asJSON {
		writeJSON(c.env.Stdout, reports)
	} else {
		printTestReports(c.env.Stdout, reports)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d connections failed their test", failed, len(reports))
	}
	return nil
}

func printTestReports(w io.Writer, reports []testReport) {
	for _, r := range reports {
		verdict := "OK"
		if !r.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "%s (%s): %s\n", r.Name, r.Type, verdict)
		for _, ch := range r.Checks {
			mark := "ok  "
			if !ch.OK {
				mark = "FAIL"
			}
			line := fmt.Sprintf("  %s %-6s", mark, ch.Name)
			if ch.Ms > 0 || ch.Name == "tcp" || ch.Name == "auth" {
				line += fmt.Sprintf(" %5d ms", ch.Ms)
			}
			if ch.Detail != "" {
				line += "  " + ch.Detail
			}
			fmt.Fprintln(w, line)
		}
	}
}
