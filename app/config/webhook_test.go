package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func webhookConn(name, secret string) string {
	return fmt.Sprintf(`{"name":%q,"type":"servicenow","baseUrl":"https://acme.service-now.com",
		"credentials":{"type":"basic","username":"svc","password":"env:SN_PASSWORD"},"webhookSecret":%q}`, name, secret)
}

// TestWebhookSecret: a literal webhookSecret misconfigures its connection
// in a managed file and is a warning in a file checked on its own; a
// reference must name something; config show hides a literal.
func TestWebhookSecret(t *testing.T) {
	managed := `{"version":1,"connections":[` + webhookConn("Literal", "hunter2") + `,` + webhookConn("Env", "env:SN_WEBHOOK") + `,` +
		webhookConn("Empty", "keyring:") + `]}`
	dir := tree(t, map[string]string{"managed/config.json": managed})
	l, err := LoadLayers(opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	probs := l.ConnectionProblems("Literal")
	if len(probs) != 1 || probs[0].Path != "connections[0].webhookSecret" || !probs[0].IsError() || !strings.Contains(probs[0].Msg, "managed") {
		t.Errorf("Literal's problems: %v", probs)
	}
	if strings.Contains(fmt.Sprint(probs), "hunter2") {
		t.Error("the secret appears in a problem")
	}
	if p := l.ConnectionProblems("Env"); len(p) != 0 {
		t.Errorf("Env's problems: %v", p)
	}
	if p := l.ConnectionProblems("Empty"); len(p) != 1 || p[0].Path != "connections[2].webhookSecret" {
		t.Errorf("Empty's problems: %v", p)
	}
	_, got := Check(filepath.Join(dir, "managed", "config.json"), []byte(managed), CheckOptions{})
	var literal []Problem
	for _, p := range got {
		if p.Connection == "Literal" {
			literal = append(literal, p)
		}
	}
	if len(literal) != 1 || literal[0].IsError() {
		t.Errorf("checked on its own: %v", got)
	}
	if r := l.Config.Redacted(); r.Connections[0].WebhookSecret != "***" || r.Connections[1].WebhookSecret != "env:SN_WEBHOOK" {
		t.Errorf("redacted: %q %q", r.Connections[0].WebhookSecret, r.Connections[1].WebhookSecret)
	}
}
