package app

import (
	"fmt"
	"log/slog"

	"github.com/ticketray/ticketray/app/delivery"
)

const syncUsage = `Usage: ticketray sync [--json] [--verbose]

Run one status-sync cycle now: ask each connection, in one batched query,
what became of the delivered tickets the help desk has not closed, and
record their state (backlog, in_progress, waiting_on_you, resolved,
closed), the vendor's status, the assignee and the help desk's comments
(see 'ticketray queue list --json' and 'queue show ID'). serve and the tray
app do this every policy.syncInterval (default 5m) while online.
Exit 1 if a connection's sync failed.

  --json      print [{connection, open, updated, error, skipped}] and the changes
  --verbose   log each connector call (no ticket data) to stderr
`

// syncJSON is what `sync --json` prints.
type syncJSON struct {
	Connections []delivery.SyncReport `json:"connections"`
	Changes     []delivery.Change     `json:"changes"`
}

func (c *cli) syncCmd(args []string) error {
	fs := c.flags("sync", func() string { return syncUsage })
	asJSON := fs.Bool("json", false, "")
	verbose := fs.Bool("verbose", false, "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("sync takes no arguments")
	}
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	reports, changes, err := svc.Supervisor(DeliveryOptions{Logger: c.logger(*verbose, slog.LevelError)}).Sync(c.ctx)
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []delivery.Change{}
	}
	if *asJSON {
		writeJSON(c.env.Stdout, syncJSON{Connections: reports, Changes: changes})
	} else {
		for _, ch := range changes {
			fmt.Fprintf(c.env.Stdout, "%s %s: %s → %s\n", ts(ch.Connection), ts(ch.RemoteNumber), ts(or(ch.Before, "(new)")), ts(ch.After))
		}
		fmt.Fprintln(c.env.Stderr, ts(delivery.SyncSummary(reports)))
	}
	failed := 0
	for _, r := range reports {
		if r.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("the status sync failed for %s", Plural(failed, "connection"))
	}
	return nil
}
