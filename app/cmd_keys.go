package app

import (
	"fmt"

	"github.com/ticketray/ticketray/queue"
)

const keysUsage = `Usage: ticketray keys rotate [--kek keyring|passphrase] [--new-passphrase-env NAME]

Make a new data key and re-encrypt every stored ticket with it, in
batches. If an earlier rotation was interrupted, this finishes it.

With --kek, first re-wrap the data keys under a new key-encryption key:
  keyring      a new random key in the OS keyring (afterwards, unset
               OFFLINE_QUEUE_ENCRYPTION_KEY)
  passphrase   a key derived from the passphrase in the environment
               variable named by --new-passphrase-env (default
               OFFLINE_QUEUE_NEW_ENCRYPTION_KEY); afterwards set
               OFFLINE_QUEUE_ENCRYPTION_KEY to it
The passphrase is never taken on the command line, where other users
could read it.
`

func (c *cli) keys(args []string) error {
	fs := c.flags("keys", func() string { return keysUsage })
	kek := fs.String("kek", "", "")
	newEnv := fs.String("new-passphrase-env", "OFFLINE_QUEUE_NEW_ENCRYPTION_KEY", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "rotate" {
		return usagef("keys needs the subcommand rotate\n%s", keysUsage)
	}
	var next queue.KEKSource
	switch *kek {
	case "":
	case "keyring":
		ring, err := OpenKeyring(c.env.Getenv)
		if err != nil {
			return err
		}
		next = queue.KeyringKEK{Store: ring}
	case "passphrase":
		p := c.env.Getenv(*newEnv)
		if p == "" {
			return usagef("--kek passphrase: set the new passphrase in the environment variable %s", *newEnv)
		}
		k := kdfCost
		k.Passphrase = []byte(p)
		next = k
	default:
		return usagef("--kek must be keyring or passphrase")
	}
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	if next != nil {
		if err := svc.Store.RewrapKEK(c.ctx, next); err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stderr, "Data keys re-wrapped under a new %s key.\n", next.Kind())
	}
	res, err := svc.Store.RotateDEK(c.ctx)
	if err != nil {
		return fmt.Errorf("rotation interrupted (run 'ticketray keys rotate' again to finish it): %w", err)
	}
	verb := "Rotated"
	if res.Resumed {
		verb = "Finished an interrupted rotation"
	}
	fmt.Fprintf(c.env.Stdout, "%s: %s now under data key #%d\n", verb, Plural(res.Reencrypted, "encrypted value"), res.DEK)
	if len(res.Skipped) > 0 {
		fmt.Fprintf(c.env.Stderr, "%s failed authentication and %s left under their old key: %v\n", Plural(len(res.Skipped), "value"), map[bool]string{true: "was", false: "were"}[len(res.Skipped) == 1], res.Skipped)
		return fmt.Errorf("%s could not be re-encrypted", Plural(len(res.Skipped), "tampered value"))
	}
	return nil
}
