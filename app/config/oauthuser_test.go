package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func oauthUserConn(name, secret string) string {
	return fmt.Sprintf(`{"name":%q,"type":"jira","baseUrl":"https://acme.atlassian.net",
		"credentials":{"type":"oauth2_user","clientId":"abc","clientSecret":%q},
		"options":{"projectKey":"IT","issueType":"Task"}}`, name, secret)
}

// TestOAuthUserLiteralSecret: a literal client secret of an oauth2_user
// connection misconfigures it in a managed file, and is only a warning in
// a file checked on its own or in the user's file.
func TestOAuthUserLiteralSecret(t *testing.T) {
	managed := `{"version":1,"connections":[` + oauthUserConn("Literal", "hunter2") + `,` + oauthUserConn("Env", "env:JIRA_CLIENT_SECRET") + `]}`
	dir := tree(t, map[string]string{"managed/config.json": managed})
	l, err := LoadLayers(opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	probs := l.ConnectionProblems("Literal")
	if len(probs) != 1 || probs[0].Path != "connections[0].credentials.clientSecret" || !probs[0].IsError() || !strings.Contains(probs[0].Msg, "managed") {
		t.Errorf("Literal's problems: %v", probs)
	}
	if strings.Contains(fmt.Sprint(probs), "hunter2") {
		t.Error("the secret appears in a problem")
	}
	if p := l.ConnectionProblems("Env"); len(p) != 0 {
		t.Errorf("Env's problems: %v", p)
	}
	_, got := Check(filepath.Join(dir, "managed", "config.json"), []byte(managed), CheckOptions{})
	if len(got) != 1 || got[0].IsError() || got[0].Connection != "Literal" {
		t.Errorf("checked on its own: %v", got)
	}
}
