package app

// Sign-in for oauth2_user connections: `ticketray connections login NAME`
// and `logout NAME`, and their GUI twin, Settings' "Sign in" button,
// which calls Service.Login (and Service.Logout for "Sign out").

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/signin"
)

// errNoConnection: the name is not a configured connection.
var errNoConnection = errors.New("no such connection")

// loginBrowser opens the authorization URL; nil means the system browser
// (tests replace it).
var loginBrowser func(url string) error

// LoginOptions say where a sign-in talks to the person.
type LoginOptions struct {
	// Out receives the authorization URL (to open by hand if no browser
	// opens) and progress lines.
	Out io.Writer
	// Browser opens the URL; nil means the system browser.
	Browser func(url string) error
}

// Login runs the authorization-code sign-in of connection name (its
// credentials must be oauth2_user): the browser, the loopback redirect,
// the grant stored in the keyring. It returns when the browser came back,
// the five minutes ran out, or ctx is done.
func (s *Service) Login(ctx context.Context, name string, o LoginOptions) (*connectors.Grant, error) {
	conn, ok := s.connection(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errNoConnection, name)
	}
	if s.Loaded != nil {
		// The sign-in needs sound credentials; other problems (a missing
		// project key) do not stop it.
		var probs []string
		for _, p := range connectionProblems(s.Loaded, name) {
			if strings.Contains(p, ".credentials") {
				probs = append(probs, p)
			}
		}
		if len(probs) > 0 {
			return nil, fmt.Errorf("connection %q cannot sign in: %s", name, strings.Join(probs, "; "))
		}
	}
	ring, err := s.keyring()
	if err != nil {
		return nil, fmt.Errorf("signing in keeps the tokens in the keyring: %w", err)
	}
	return signin.Login(ctx, conn, signin.Options{Keyring: ring, Getenv: s.getenv, Out: o.Out, Browser: o.Browser, UserAgent: "Ticketray/" + Version})
}

// Logout removes connection name's sign-in (its tokens) from the keyring.
// A connection no longer in the config may be signed out too.
func (s *Service) Logout(name string) error {
	ring, err := s.keyring()
	if err != nil {
		return err
	}
	return signin.Logout(ring, name)
}

func (s *Service) connection(name string) (connectors.Connection, bool) {
	for _, c := range s.Config.Connections {
		if c.Name == name {
			return c, true
		}
	}
	return connectors.Connection{}, false
}

// fillSignIn sets who is signed in to an oauth2_user connection and when
// the grant expires; nothing when nobody is, the grant was revoked, or it
// was issued for another client.
func (s *Service) fillSignIn(j *ConnectionStatus, conn connectors.Connection) {
	if conn.Credentials.Type != "oauth2_user" {
		return
	}
	ring, err := s.keyring()
	if err != nil {
		return
	}
	g, err := connectors.LoadGrant(ring, conn.Name)
	if err != nil || g == nil || g.Revoked || g.Client != connectors.ClientOf(conn) {
		return
	}
	j.SignedInAs = g.SignedInAs
	if j.SignedInAs == "" {
		j.SignedInAs = "(signed in)"
	}
	if !g.ExpiresAt.IsZero() {
		t := g.ExpiresAt
		j.GrantExpiresAt = &t
	}
}

// printSignIns adds to `connections list` a line per oauth2_user
// connection: who is signed in until when, or how to sign in.
func printSignIns(w io.Writer, s *Service, out []ConnectionStatus) {
	for i, conn := range s.Config.Connections {
		if conn.Credentials.Type != "oauth2_user" || i >= len(out) {
			continue
		}
		j := out[i]
		switch {
		case j.SignedInAs == "":
			fmt.Fprintf(w, "%s: not signed in: run 'ticketray connections login %s'\n", j.Name, j.Name)
		case j.GrantExpiresAt != nil:
			fmt.Fprintf(w, "%s: signed in as %s; the sign-in expires %s unless used\n", j.Name, j.SignedInAs, j.GrantExpiresAt.Local().Format(time.DateTime))
		default:
			fmt.Fprintf(w, "%s: signed in as %s\n", j.Name, j.SignedInAs)
		}
	}
}

// signInJSON is `connections login NAME --json`.
type signInJSON struct {
	Name           string     `json:"name"`
	SignedInAs     string     `json:"signedInAs"`
	GrantExpiresAt *time.Time `json:"grantExpiresAt,omitempty"`
	Site           string     `json:"site,omitempty"`
}
