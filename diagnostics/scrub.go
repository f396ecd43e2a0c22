package diagnostics

import (
	"regexp"
	"strings"
)

// Redacted replaces a secret in scrubbed output.
const Redacted = "[REDACTED]"

// secretKey matches the names under which secrets are usually written:
// password=…, "api_key": "…", client-secret: …, psk: …
const secretKey = `(?:[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|authorization|psk|session[_-]?id|cookie))`

var scrubbers = []struct {
	re   *regexp.Regexp
	repl func(m []string) string
}{
	// PEM private keys, whole blocks.
	{regexp.MustCompile(`(?s)-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(?:-----END[A-Z ]*PRIVATE KEY-----|$)`),
		func([]string) string { return "[REDACTED PRIVATE KEY]" }},
	// Header lines, as curl -v and HTTP dumps print them.
	{regexp.MustCompile(`(?im)^([ \t]*[<>*]?[ \t]*(?:proxy-)?(?:authorization|cookie|set-cookie|x-api-key|x-auth-token|api-key)[ \t]*:[ \t]*)\S.*$`),
		func(m []string) string { return m[1] + Redacted }},
	// Bearer and Basic credentials anywhere.
	{regexp.MustCompile(`(?i)\b(bearer|basic)([ \t]+)[A-Za-z0-9._~+/=-]{8,}`),
		func(m []string) string { return m[1] + m[2] + Redacted }},
	// user:password@ in URLs (proxy settings, git remotes, DSNs).
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@`),
		func(m []string) string { return m[1] + Redacted + "@" }},
	// Secrets in query strings.
	{regexp.MustCompile(`(?i)([?&](?:access_token|refresh_token|id_token|token|api_key|apikey|key|sig|signature|password|client_secret|code)=)[^&\s"'<>]+`),
		func(m []string) string { return m[1] + Redacted }},
	// Windows `netsh wlan show profile key=clear`.
	{regexp.MustCompile(`(?im)^([ \t]*Key Content[ \t]*:[ \t]*)\S.*$`),
		func(m []string) string { return m[1] + Redacted }},
	// key=value, key: value, "key": "value", with the key naming a secret.
	{regexp.MustCompile(`(?i)((?:["']?)` + secretKey + `s?["']?[ \t]*(?::|=|:=)[ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s,;&]+)`),
		func(m []string) string {
			if strings.HasPrefix(m[2], `"`) {
				return m[1] + `"` + Redacted + `"`
			}
			if strings.HasPrefix(m[2], `'`) {
				return m[1] + `'` + Redacted + `'`
			}
			if strings.HasPrefix(m[2], Redacted) {
				return m[0] // already scrubbed (e.g. user:[REDACTED]@host)
			}
			return m[1] + Redacted
		}},
	// Well-known token formats, wherever they appear.
	{regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), func([]string) string { return Redacted }},
	{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}\b`), func([]string) string { return Redacted }},
	{regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), func([]string) string { return Redacted }},
	{regexp.MustCompile(`\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|\bsk-[A-Za-z0-9_-]{20,}`), func([]string) string { return Redacted }},
	{regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), func([]string) string { return Redacted }},
	{regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`), func([]string) string { return Redacted }},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}`), func([]string) string { return Redacted }},
}

// Scrub removes secrets from command output before it can enter a ticket:
// private keys, Authorization and Cookie headers, Bearer and Basic
// credentials, passwords in URLs and query strings, key=value pairs whose
// key names a secret (password, token, api_key, client_secret, psk, …)
// and well-known token formats (AWS, GitHub, GitLab, Slack, Stripe,
// Google, JWTs). It errs towards removing too much.
func Scrub(s string) string {
	for _, sc := range scrubbers {
		s = sc.re.ReplaceAllStringFunc(s, func(match string) string {
			return sc.repl(sc.re.FindStringSubmatch(match))
		})
	}
	return s
}
