package app

import (
	"fmt"
)

const aboutUsage = `Usage: ticketray about [--json]

Print what the help desk asks for on every call: this computer's name,
the signed-in user, its IP addresses (per network interface, IPv4 and
IPv6, loopback and IPv6 link-local left out) and the operating system
(name, version, architecture). The same as "About this computer" in the
tray menu. Nothing is queued or sent; IT's redaction policy does not
apply, as nothing leaves the machine.

Flags:
  --json   print {"computerName", "user", "os", "interfaces", …}
`

func (c *cli) about(args []string) error {
	fs := c.flags("about", func() string { return aboutUsage })
	asJSON := fs.Bool("json", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("about takes no arguments (got %q)", pos[0])
	}
	a, err := AboutThisComputer(c.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.env.Stdout, a)
	}
	_, err = fmt.Fprint(c.env.Stdout, a.Text())
	return err
}
