package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/app/delivery"
	"github.com/ticketray/ticketray/connectors/webhooks"
)

const drainUsage = `Usage: ticketray drain [--timeout DURATION] [--json] [--verbose]

Deliver queued tickets to the configured connections until nothing is
left to do, then exit. Retries wait for their scheduled time; an offline
connection is probed and resumes as soon as it answers. Exit 0 only if
nothing is left pending and no delivery died during the run.

  --timeout DURATION   give up after this long (default 5m)
  --json               print the run's summary as JSON on stdout
  --verbose            log each connector call (no ticket data) to stderr
`

const serveUsage = `Usage: ticketray serve [--listen ADDR [--tls-cert FILE --tls-key FILE]] [--verbose]

Run headless: deliver queued tickets as they come and when connections
come back, and read their status back every policy.syncInterval, until
interrupted (SIGINT/SIGTERM).

  --listen ADDR        also accept the help desks' signed status webhooks
                       at POST /webhooks/<connection name> on ADDR
                       (host:port; port 0 picks one); each connection
                       needs a webhookSecret
  --tls-cert FILE      serve HTTPS with this certificate (PEM) and key;
  --tls-key FILE       without them plain HTTP is allowed only on a
                       loopback ADDR (127.0.0.1:8080, [::1]:8080)
  --verbose            log each connector call (no ticket data) to stderr
`

const connectionsUsage = `Usage:
  ticketray connections list [--json]
  ticketray connections test [NAME] [--json]
  ticketray connections login NAME [--json]
  ticketray connections logout NAME
  ticketray connections add NAME --type TYPE --base-url URL [--credential-type T]
      [--username U] [--client-id ID] [--token-url URL]
      [--secret-env VAR | --secret-stdin] [--option KEY=VALUE]... [--test [--force]] [--json]
  ticketray connections update NAME [the same flags: only those given change]
  ticketray connections remove NAME --yes [--pending keep|dead [--reason TEXT]] [--json]

list shows each configured connection with its health as last seen by the
process that delivers (healthy, degraded, down, breaker_open, failing:
the help desk refuses the tickets, misconfigured: the config or a secret
is wrong and its deliveries wait), its last success and error, how many
of its tickets died, and its queue depth.

test validates each connection's config, then checks DNS, TCP and TLS to
its baseUrl, the credentials and (where the API tells) the permission to
create tickets, with latencies. Exit 1 if any check fails.

login signs a person in to a connection whose credentials are of type
oauth2_user: it opens the browser on the help desk's sign-in page (and
prints the URL), receives the answer on http://127.0.0.1:PORT/callback
(credentials.redirectPort, default 47613; register that redirect URI with
the OAuth app) within 5 minutes, and keeps the tokens in the keyring.
Tickets are then created as that person; list shows who is signed in and
when the sign-in expires. logout removes the tokens from the keyring.

add, update and remove change the user's config file (--config FILE, else
the user's config.json; add creates it), as the Settings window does: in
place, checked by the same validator as 'config validate' (a missing
required option fails with its file, line and column, and nothing is
written), and atomically. A connection IT defines, or any connection while
IT locks "connections", cannot be changed here (exit 2).

  --type TYPE             servicenow, jira, jsm, zendesk, freshservice,
                          salesforce or bmc_helix
  --base-url URL          the help desk's address (https)
  --credential-type T     basic, api_token, bearer, oauth2 or oauth2_user
                          (default: the first the vendor accepts)
  --username U            the user or agent (email for Jira and Zendesk)
  --client-id ID          an OAuth client's id (oauth2, oauth2_user)
  --token-url URL         an OAuth token endpoint (oauth2)
  --secret-env VAR        the secret is in environment variable VAR: the
                          file gets env:VAR
  --secret-stdin          read the secret from standard input; it goes to
                          the OS keyring, the file gets its keyring: name
  --option KEY=VALUE      a vendor option (projectKey=IT); VALUE starting
                          with [ or { is JSON; KEY= removes it (update)
  --test                  test the connection as it would be saved (the
                          checks of 'connections test') before writing;
                          a failed test saves nothing (exit 1)
  --force                 with --test: save even when the test fails
  --yes                   confirm a removal
  --pending keep|dead     a removed connection's deliveries that wait:
                          keep them queued (they go out if a connection of
                          that name comes back), or mark them dead (shown
                          in 'queue list --state dead'; 'queue retry'
                          revives them); required when there are any
  --reason TEXT           with --pending dead: recorded on each delivery
  --json                  print what was done as JSON on stdout

A connection cannot be renamed: its queued deliveries are addressed by its
name. Remove it and add it under the new name.
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
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	ctx, cancel := context.WithTimeout(c.ctx, *timeout)
	defer cancel()
	logger, closeLog := c.startLogger(*verbose, slog.LevelError, "drain", svc.Store.Path())
	defer closeLog()
	sum, err := svc.Supervisor(DeliveryOptions{Logger: logger}).Drain(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		writeJSON(c.env.Stdout, sum)
	} else {
		for _, k := range delivery.SortedNames(sum.Left) {
			line := fmt.Sprintf("%s: %s left", k, Plural(sum.Left[k], "delivery"))
			if why, ok := sum.Misconfigured[k]; ok {
				line += " (misconfigured: " + why + ")"
			} else if why := HeldReason(k, svc.ConnectionHeld(k)); why != "" {
				line += ": " + why
			}
			fmt.Fprintln(c.env.Stderr, line)
		}
		for _, k := range delivery.SortedNames(sum.Misconfigured) {
			if sum.Left[k] == 0 {
				fmt.Fprintf(c.env.Stderr, "%s: misconfigured: %s\n", k, sum.Misconfigured[k])
			}
		}
		if sum.Died > 0 {
			fmt.Fprintf(c.env.Stderr, "%s died during this run\n", Plural(sum.Died, "delivery"))
		}
		for _, p := range sum.Storage {
			fmt.Fprintf(c.env.Stderr, "queue storage: %s\n", p)
		}
	}
	switch {
	case sum.LeftTotal > 0 && sum.Stopped:
		return fmt.Errorf("drain stopped after %v with %s left (see 'ticketray queue list --state pending')", *timeout, Plural(sum.LeftTotal, "delivery"))
	case sum.LeftTotal > 0 && len(sum.Misconfigured) > 0:
		return fmt.Errorf("%s wait for %s; every other connection was drained (see 'ticketray connections list')", Plural(sum.LeftTotal, "delivery"), Plural(len(sum.Misconfigured), "misconfigured connection"))
	case sum.LeftTotal > 0:
		return fmt.Errorf("%s left for connections that are not configured or not enabled", Plural(sum.LeftTotal, "delivery"))
	case sum.Died > 0:
		return fmt.Errorf("%s failed for good (see 'ticketray queue list --state dead')", Plural(sum.Died, "delivery"))
	}
	fmt.Fprintln(c.env.Stderr, "Queue drained: nothing left to send.")
	return nil
}

// logger writes to stderr: at level, or everything with --verbose. No
// ticket data is ever logged.
func (c *cli) logger(verbose bool, level slog.Level) *slog.Logger {
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: level}))
}

// startLogger is logger teed with the log file (see StartLogger).
func (c *cli) startLogger(verbose bool, level slog.Level, command, queuePath string) (*slog.Logger, func()) {
	if verbose {
		level = slog.LevelDebug
	}
	return StartLogger(c.env, level, command, queuePath)
}

func (c *cli) serve(args []string) error {
	fs := c.flags("serve", func() string { return serveUsage })
	var wo WebhookOptions
	fs.StringVar(&wo.Listen, "listen", "", "")
	fs.StringVar(&wo.TLSCert, "tls-cert", "", "")
	fs.StringVar(&wo.TLSKey, "tls-key", "", "")
	verbose := fs.Bool("verbose", false, "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("serve takes no arguments")
	}
	if err := wo.Check(); err != nil {
		return usagef("%v", err)
	}
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	fmt.Fprintf(c.env.Stderr, "ticketray: serving; queue %s\n", svc.Store.Path())
	watch := c.watch
	logger, closeLog := c.startLogger(*verbose, slog.LevelInfo, "serve", svc.Store.Path())
	defer closeLog()
	return svc.Serve(c.ctx, DeliveryOptions{Logger: logger, Watch: &watch}, wo, func(url string) {
		fmt.Fprintf(c.env.Stderr, "ticketray: webhooks at %s%s<connection name>\n", url, webhooks.Prefix)
	})
}

// connectionJSON is one element of `connections list --json`.
type connectionJSON = ConnectionStatus

func (c *cli) connections(args []string) error {
	if len(args) == 0 {
		return usagef("connections needs a subcommand: list, test, login, logout, add, update or remove\n%s", connectionsUsage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add", "update", "remove":
		return c.connectionsEdit(sub, args)
	}
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
	case "login", "logout":
		if len(pos) != 1 {
			return usagef("connections %s takes one connection name", sub)
		}
		if sub == "logout" {
			return c.connectionsLogout(pos[0])
		}
		return c.connectionsLogin(pos[0], *asJSON)
	case "--help", "-h", "help":
		return errHelp{func() string { return connectionsUsage }}
	}
	return usagef("unknown connections subcommand %q (list, test, login, logout, add, update, remove)", sub)
}

// signInService is a Service for login and logout: the config and the
// keyring, no queue.
func (c *cli) signInService() (*Service, error) {
	loaded, err := config.LoadLayers(c.options().LoadOptions(false))
	if err != nil {
		return nil, err
	}
	return &Service{Config: loaded.Config, Loaded: loaded, getenv: c.env.Getenv, ring: &lazyKeyring{}}, nil
}

func (c *cli) connectionsLogin(name string, asJSON bool) error {
	svc, err := c.signInService()
	if err != nil {
		return err
	}
	g, err := svc.Login(c.ctx, name, LoginOptions{Out: c.env.Stderr, Browser: loginBrowser})
	if errors.Is(err, errNoConnection) {
		return usagef("no connection named %q in the config", name)
	}
	if err != nil {
		return err
	}
	j := signInJSON{Name: name, SignedInAs: g.SignedInAs, Site: g.Site}
	if !g.ExpiresAt.IsZero() {
		j.GrantExpiresAt = &g.ExpiresAt
	}
	if asJSON {
		return writeJSON(c.env.Stdout, j)
	}
	msg := fmt.Sprintf("Signed in to %s", name)
	if g.SignedInAs != "" {
		msg += " as " + g.SignedInAs
	}
	if j.GrantExpiresAt != nil {
		msg += "; the sign-in expires " + g.ExpiresAt.Local().Format(time.DateTime) + " unless used"
	}
	fmt.Fprintln(c.env.Stderr, msg+".")
	return nil
}

func (c *cli) connectionsLogout(name string) error {
	svc, err := c.signInService()
	if err != nil {
		return err
	}
	if err := svc.Logout(name); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "Signed out of %s: its tokens are removed from this machine's keyring (to end the grant at the help desk too, remove Ticketray's access in your account settings there).\n", name)
	return nil
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
		problem := clip(j.LastError, 60)
		if j.Dead > 0 {
			problem = ConnectionStatus{LastError: problem, Dead: j.Dead}.Problem()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", j.Name, j.Type, j.State, j.QueueDepth, succ, problem)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printSignIns(c.env.Stdout, svc, out)
	printWebhooks(c.env.Stdout, svc, out)
	return nil
}

// testReport is `connections test --json`: one entry per connection.
type testReport = ConnectionTest

type testCheck = TestCheck

func (c *cli) connectionsTest(name string, asJSON bool) error {
	// The same validation as config validate and startup, secrets
	// resolved; connection-scoped problems fail that connection's test.
	lo := c.options().LoadOptions(false)
	lo.Resolve = c.secretResolver()
	loaded, err := config.LoadLayers(lo)
	if err != nil {
		return err
	}
	cfg := loaded.Config
	// No queue is opened: testing needs only the credentials (one
	// keyring, opened once for all connections).
	svc := &Service{Config: cfg, Loaded: loaded, getenv: c.env.Getenv, ring: &lazyKeyring{}}
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
	failed, misconfigured := 0, 0
	for _, r := range reports {
		if !r.OK {
			failed++
		}
		if len(r.Checks) > 0 && r.Checks[0].Name == "config" && !r.Checks[0].OK {
			misconfigured++
		}
	}
	if asJSON {
		writeJSON(c.env.Stdout, reports)
	} else {
		printTestReports(c.env.Stdout, reports)
	}
	if misconfigured > 0 {
		return usagef("%d of %s failed their test, %d of them for config problems (see 'ticketray config validate')", failed, Plural(len(reports), "connection"), misconfigured)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %s failed their test", failed, Plural(len(reports), "connection"))
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
			switch {
			case !ch.OK && ch.Label != "" && ch.Detail != "":
				line += "  " + ch.Label + ": " + ch.Detail
			case !ch.OK && ch.Label != "":
				line += "  " + ch.Label
			case ch.Detail != "":
				line += "  " + ch.Detail
			}
			fmt.Fprintln(w, line)
		}
	}
}

// connectionsEdit is `connections add|update|remove`, through the same
// core functions as the Settings window.
func (c *cli) connectionsEdit(sub string, args []string) error {
	fs := c.flags("connections "+sub, func() string { return connectionsUsage })
	var d ConnectionDraft
	var opts listFlag
	fs.StringVar(&d.Type, "type", "", "")
	fs.StringVar(&d.BaseURL, "base-url", "", "")
	fs.StringVar(&d.CredentialType, "credential-type", "", "")
	fs.StringVar(&d.Username, "username", "", "")
	fs.StringVar(&d.ClientID, "client-id", "", "")
	fs.StringVar(&d.TokenURL, "token-url", "", "")
	fs.StringVar(&d.SecretEnv, "secret-env", "", "")
	secretStdin := fs.Bool("secret-stdin", false, "")
	fs.Var(&opts, "option", "")
	test := fs.Bool("test", false, "")
	force := fs.Bool("force", false, "")
	yes := fs.Bool("yes", false, "")
	pending := fs.String("pending", "", "")
	reason := fs.String("reason", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("connections %s takes one connection name", sub)
	}
	d.Name = pos[0]
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if sub == "remove" {
		for _, f := range []string{"type", "base-url", "credential-type", "username", "client-id", "token-url", "secret-env", "secret-stdin", "option", "test", "force"} {
			if given[f] {
				return usagef("connections remove does not take --%s", f)
			}
		}
		return c.connectionsRemove(d.Name, *yes, RemoveOptions{Pending: *pending, Reason: *reason}, given["pending"], *asJSON)
	}
	for _, f := range []string{"yes", "pending", "reason"} {
		if given[f] {
			return usagef("connections %s does not take --%s (it is for remove)", sub, f)
		}
	}
	if *force && !*test {
		return usagef("--force goes with --test: it saves a connection whose test failed")
	}
	if sub == "add" {
		if d.Type == "" || d.BaseURL == "" {
			return usagef("connections add needs --type and --base-url")
		}
		if d.CredentialType == "" {
			d.CredentialType = firstOr(ConnectionFormFor(d.Type).CredentialTypes, "")
		}
	}
	d.Options = map[string]string{}
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return usagef("--option takes KEY=VALUE, not %q", o)
		}
		if sub == "add" && v == "" {
			return usagef("--option %s= removes an option, which is for update", k)
		}
		d.Options[k] = v
	}
	if *secretStdin {
		if d.SecretEnv != "" {
			return usagef("give the secret with --secret-env or --secret-stdin, not both")
		}
		if d.Secret, err = c.readSecret(); err != nil {
			return err
		}
	}
	svc := c.editService()
	save := svc.UpdateConnection
	if sub == "add" {
		save = svc.AddConnection
	}
	res, err := save(c.ctx, d, SaveOptions{Test: *test, Force: *force})
	if res != nil && res.Test != nil && !*asJSON {
		printTestReports(c.env.Stdout, []testReport{*res.Test})
	}
	if *asJSON && res != nil {
		if jerr := writeJSON(c.env.Stdout, res); jerr != nil {
			return jerr
		}
	}
	if errors.Is(err, ErrTestFailed) {
		return fmt.Errorf("%w (fix it and try again, or add --force to save it as it is)", err)
	}
	if err != nil {
		return editErr(err)
	}
	writeConnectionSaved(c.env.Stderr, sub, res)
	return nil
}

// editService is a Service for config edits: the config's options and
// the keyring, no queue.
func (c *cli) editService() *Service {
	return &Service{opts: c.options(), getenv: c.env.Getenv, ring: &lazyKeyring{}}
}

// readSecret reads the secret from standard input: all of it, less one
// line ending.
func (c *cli) readSecret() (string, error) {
	if c.env.Stdin == nil {
		return "", usagef("--secret-stdin: there is no standard input")
	}
	b, err := io.ReadAll(io.LimitReader(c.env.Stdin, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the secret from standard input: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", usagef("--secret-stdin: standard input is empty")
	}
	return s, nil
}

// editErr makes what the caller can fix a usage error (exit 2): a lock,
// an unknown or existing name, pending deliveries without a choice, and
// bad input; the validator's *config.Error is one already.
func editErr(err error) error {
	var pe *PendingError
	switch {
	case errors.As(err, &pe):
		return usagef("%v; run again with --pending keep or --pending dead [--reason TEXT]", err)
	case errors.Is(err, config.ErrLocked), errors.Is(err, config.ErrUnknownConnection), errors.Is(err, config.ErrConnectionExists):
		return usageError{err.Error()}
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		return usagef("not saved: %v", err)
	}
	if strings.Contains(err.Error(), "cannot be renamed") || strings.Contains(err.Error(), "reference, never as its value") ||
		strings.Contains(err.Error(), "is not valid JSON") || strings.Contains(err.Error(), "take no secret") {
		return usageError{err.Error()}
	}
	return err
}

func writeConnectionSaved(w io.Writer, sub string, res *ConnectionSaved) {
	ch := res.Change
	switch {
	case !ch.Changed:
		fmt.Fprintf(w, "No change: %q in %s already has these values.\n", ch.Connection, ch.File)
	case sub == "add" && ch.Created:
		fmt.Fprintf(w, "Added connection %q to %s (a new file).\n", ch.Connection, ch.File)
	case sub == "add":
		fmt.Fprintf(w, "Added connection %q to %s.\n", ch.Connection, ch.File)
	default:
		fmt.Fprintf(w, "Updated connection %q in %s.\n", ch.Connection, ch.File)
	}
	if res.Keyring != "" {
		fmt.Fprintf(w, "The secret is in the keyring as %s; the file names it, never holds it.\n", res.Keyring)
	}
	if res.Test != nil && !res.Test.OK {
		fmt.Fprintln(w, "Saved although its test failed (--force).")
	}
	if ch.Changed {
		fmt.Fprintln(w, "A running Ticketray picks the change up by itself.")
	}
}

func (c *cli) connectionsRemove(name string, yes bool, o RemoveOptions, pendingGiven, asJSON bool) error {
	if pendingGiven && o.Pending != PendingKeep && o.Pending != PendingDead {
		return usagef("--pending is keep or dead, not %q", o.Pending)
	}
	if o.Reason != "" && o.Pending != PendingDead {
		return usagef("--reason goes with --pending dead")
	}
	if !yes {
		return usagef("connections remove %s changes the config file: add --yes to confirm", name)
	}
	svc, err := c.open() // the queue: its deliveries must not be stranded
	if err != nil {
		return err
	}
	defer svc.Close()
	res, err := svc.RemoveConnection(c.ctx, name, o)
	if err != nil && res == nil {
		return editErr(err)
	}
	if asJSON {
		if jerr := writeJSON(c.env.Stdout, res); jerr != nil {
			return jerr
		}
	}
	if res.Change != nil {
		fmt.Fprintf(c.env.Stderr, "Removed connection %q from %s.\n", name, res.Change.File)
	} else {
		fmt.Fprintf(c.env.Stderr, "Connection %q is in no config file any more; the config is unchanged.\n", name)
	}
	switch {
	case res.Pending == 0:
		fmt.Fprintln(c.env.Stderr, "It had no delivery waiting.")
	case o.Pending == PendingDead && res.Abandoned.Dead > 0:
		fmt.Fprintf(c.env.Stderr, "%s marked dead: %s ('ticketray queue list --state dead'; 'queue retry' revives them).\n",
			Plural(res.Abandoned.Dead, "delivery"), res.Reason)
	}
	if res.Kept > 0 {
		verb := "still wait"
		if res.Kept == 1 {
			verb = "still waits"
		}
		fmt.Fprintf(c.env.Stderr, "%s %s for %q: sent if a connection of that name is configured again ('ticketray drain' counts them as left for a connection that is not configured).\n", Plural(res.Kept, "delivery"), verb, name)
	}
	if len(res.SecretsRemoved) > 0 {
		fmt.Fprintf(c.env.Stderr, "Removed its %s from the keyring.\n", Plural(len(res.SecretsRemoved), "secret"))
	}
	return err
}
