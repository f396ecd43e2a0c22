package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/signin/oauthfake"
)

// signInHarness is a harness with a file keyring (the sign-in keeps its
// tokens there) and a browser that consents at the fake at once.
func signInHarness(t *testing.T, fake *oauthfake.Server) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	h.env[EnvKeyringBackend] = "file"
	h.env[EnvKeyringPassword] = "keyring password"
	old := loginBrowser
	loginBrowser = func(u string) error {
		resp, err := http.Get(u) // the fake redirects to the callback
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	t.Cleanup(func() { loginBrowser = old })
	cfg := h.writeConfig(fmt.Sprintf(`{"version":1,"connections":[{"name":"ServiceNow","type":"servicenow","baseUrl":%q,"timeoutMs":3000,
		"credentials":{"type":"oauth2_user","clientId":%q,"redirectPort":%d}}]}`, fake.URL(), oauthfake.ClientID, freePort(t)))
	return h, cfg
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestConnectionsLoginLogout(t *testing.T) {
	fake := oauthfake.Start()
	t.Cleanup(fake.Close)
	h, cfg := signInHarness(t, fake)
	list := func() ConnectionStatus {
		t.Helper()
		var out []ConnectionStatus
		r := h.mustRun("--config", cfg, "connections", "list", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
			t.Fatalf("list --json: %v\n%s", err, r.stdout)
		}
		return out[0]
	}
	if c := list(); c.SignedInAs != "" || c.GrantExpiresAt != nil {
		t.Errorf("before login: %+v", c)
	}
	if r := h.mustRun("--config", cfg, "connections", "list"); !strings.Contains(r.stdout, "not signed in: run 'ticketray connections login ServiceNow'") {
		t.Errorf("list before login:\n%s", r.stdout)
	}
	r := h.mustRun("--config", cfg, "connections", "login", "ServiceNow")
	if !strings.Contains(r.stderr, "Signed in to ServiceNow as "+oauthfake.UserName) || !strings.Contains(r.stderr, "/oauth_auth.do?") {
		t.Errorf("login stderr: %s", r.stderr)
	}
	c := list()
	if c.SignedInAs != oauthfake.UserName+" <ada.lovelace>" || c.GrantExpiresAt == nil {
		t.Errorf("after login: %+v", c)
	}
	if r := h.mustRun("--config", cfg, "connections", "list"); !strings.Contains(r.stdout, "ServiceNow: signed in as "+oauthfake.UserName) {
		t.Errorf("list after login:\n%s", r.stdout)
	}
	h.mustRun("--config", cfg, "connections", "logout", "ServiceNow")
	if c := list(); c.SignedInAs != "" {
		t.Errorf("after logout: %+v", c)
	}
	if r := h.run("--config", cfg, "connections", "login", "Nope"); r.code != ExitUsage {
		t.Errorf("login of an unknown connection: exit %d, %s", r.code, r.stderr)
	}
	if r := h.run("--config", cfg, "connections", "login"); r.code != ExitUsage {
		t.Errorf("login without a name: exit %d", r.code)
	}
}

// TestLoginRevokedGrantTicketWaits: the help desk revokes the grant; the
// ticket is not refused for good: it waits (pending, no attempt spent)
// with "sign-in required" until someone signs in again.
func TestLoginRevokedGrantTicketWaits(t *testing.T) {
	fake := oauthfake.Start()
	t.Cleanup(fake.Close)
	fake.ExpiresIn = 1 // the first delivery refreshes
	h, cfg := signInHarness(t, fake)
	h.mustRun("--config", cfg, "connections", "login", "ServiceNow")
	fake.RevokeAll()
	h.mustRun("--config", cfg, "report", "--summary", "VPN drops", "--no-system-info")
	if r := h.run("--config", cfg, "drain", "--timeout", "1s"); r.code != ExitFailure {
		t.Errorf("drain: exit %d, %s", r.code, r.stderr)
	}
	entries := h.list("--config", cfg)
	if len(entries) != 1 {
		t.Fatalf("%d tickets", len(entries))
	}
	d := entries[0].Deliveries[0]
	if d.State != "pending" || d.Attempts != 0 || !strings.Contains(d.LastError, "sign-in required") {
		t.Errorf("delivery after the revocation: %+v", d)
	}
	if c := h.mustRun("--config", cfg, "connections", "list"); !strings.Contains(c.stdout, "not signed in") {
		t.Errorf("list after the revocation:\n%s", c.stdout)
	}
}
