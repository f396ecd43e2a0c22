package config

import "fmt"

// literalClientSecrets flags the literal clientSecret of every oauth2_user
// connection in file. A managed file is pushed to every desk, so a secret
// written in it is readable on all of them (and the user's keyring never
// takes it: only the user's own file is migrated): there it is an error
// that misconfigures the connection. Checked on its own (`config validate
// FILE`, before pushing) the file may be either, so it is a warning.
func literalClientSecrets(file string, c *Config, severity string) []Problem {
	var probs []Problem
	for i, conn := range c.Connections {
		cr := conn.Credentials
		if cr.Type != "oauth2_user" || !IsLiteral(cr.ClientSecret) {
			continue
		}
		msg := "must not be a literal in a managed (pushed) config: every desk could read it"
		if severity == SeverityWarning {
			msg = "is a literal: allowed in a user's own file (it moves to the keyring), refused in a managed (pushed) config"
		}
		probs = append(probs, Problem{File: file, Path: fmt.Sprintf("connections[%d].credentials.clientSecret", i), Connection: conn.Name,
			Severity: severity, Msg: msg, Hint: "use env:NAME or keyring:NAME (or a public client with PKCE, where the vendor has one)"})
	}
	return probs
}
