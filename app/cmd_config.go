package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ticketray/ticketray/app/config"
)

const configUsage = `Usage:
  ticketray config show [--json]
  ticketray config validate [FILE] [--json] [--fragment]
  ticketray config schema
  ticketray config keygen --out PREFIX
  ticketray config sign --key PRIVATE_KEY FILE

show prints the effective config (managed files over --config or the
user's file), with the file each value came from; literal secrets are
shown as ***, env: and keyring: references as they are.

validate checks FILE (or, without FILE, every layer and their merge) and
reports every problem with its file, line and column or path, and a hint.
Exit 0 when valid, 2 when not. A file in a config.d directory, or with
--fragment, is a drop-in and may leave out "version".

schema prints the JSON Schema of a config file (for editors).

keygen writes an ed25519 key pair: PREFIX.key (private, mode 0600; keep it
off the fleet) and PREFIX.pub (install it as config.pub in the managed
directory, or build it in with -ldflags -X ...app/config.PinnedPublicKey).

sign writes FILE.sig, the detached signature of FILE. Once a public key is
pinned, managed files without a valid signature are refused.
`

func (c *cli) configCmd(args []string) error {
	if len(args) == 0 {
		return usagef("config needs a subcommand: show, validate, schema, keygen or sign\n%s", configUsage)
	}
	sub, args := args[0], args[1:]
	fs := c.flags("config "+sub, func() string { return configUsage })
	asJSON := fs.Bool("json", false, "")
	fragment := fs.Bool("fragment", false, "")
	keyFile := fs.String("key", "", "")
	out := fs.String("out", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		if len(pos) > 0 {
			return usagef("config show takes no arguments")
		}
		l, err := LoadLayered(c.options(), false)
		if err != nil {
			return err
		}
		if *asJSON {
			return l.WriteJSON(c.env.Stdout)
		}
		return l.WriteText(c.env.Stdout)
	case "validate":
		if len(pos) > 1 {
			return usagef("config validate takes at most one FILE")
		}
		var probs []config.Problem
		var verr error
		if len(pos) == 0 {
			_, verr = LoadLayered(c.options(), false)
		} else {
			verr = validateFile(pos[0], *fragment)
		}
		var ce *config.Error
		if errors.As(verr, &ce) {
			probs = ce.Problems
		} else if verr != nil {
			return verr
		}
		if *asJSON {
			if probs == nil {
				probs = []config.Problem{}
			}
			if err := writeJSON(c.env.Stdout, map[string]any{"valid": len(probs) == 0, "problems": probs}); err != nil {
				return err
			}
		}
		if verr != nil {
			return verr
		}
		fmt.Fprintln(c.env.Stderr, "The config is valid.")
		return nil
	case "schema":
		if len(pos) > 0 {
			return usagef("config schema takes no arguments")
		}
		_, err := c.env.Stdout.Write(config.Schema)
		return err
	case "keygen":
		if *out == "" || len(pos) > 0 {
			return usagef("usage: ticketray config keygen --out PREFIX")
		}
		pub, priv, err := config.GenerateKey()
		if err != nil {
			return err
		}
		if err := writeNew(*out+".key", priv, 0o600); err != nil {
			return err
		}
		if err := writeNew(*out+".pub", pub, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stderr, "Wrote %s.key (private: keep it off the fleet) and %s.pub (install as %s in the managed directory).\n", *out, *out, config.PublicKeyFile)
		return nil
	case "sign":
		if *keyFile == "" || len(pos) != 1 {
			return usagef("usage: ticketray config sign --key PRIVATE_KEY FILE")
		}
		keyData, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("config sign: %w", err)
		}
		priv, err := config.ParsePrivateKey(keyData)
		if err != nil {
			return usagef("config sign: %s: %v", *keyFile, err)
		}
		file := pos[0]
		if err := validateFile(file, *fragment); err != nil {
			return err // never sign a file the fleet would reject
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config sign: %w", err)
		}
		if err := os.WriteFile(file+config.SigSuffix, config.Sign(priv, data), 0o644); err != nil {
			return fmt.Errorf("config sign: %w", err)
		}
		fmt.Fprintf(c.env.Stderr, "Wrote %s%s.\n", file, config.SigSuffix)
		return nil
	case "--help", "-h", "help":
		return errHelp{func() string { return configUsage }}
	}
	return usagef("unknown config subcommand %q (show, validate, schema, keygen, sign)", sub)
}

// options are the service options of this command line.
func (c *cli) options() Options {
	return Options{ConfigPath: c.config, DBPath: c.db, Getenv: c.env.Getenv}
}

// validateFile checks one file on its own; a file in a config.d directory
// is a drop-in.
func validateFile(path string, fragment bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usagef("config validate: %v", err)
	}
	if fragment || filepath.Base(filepath.Dir(path)) == "config.d" {
		_, err = config.ParseFragment(path, data)
	} else {
		_, err = config.Parse(path, data)
	}
	return err
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("config keygen: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("config keygen: %w", err)
	}
	return f.Close()
}
