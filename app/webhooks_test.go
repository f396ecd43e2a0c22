package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
	"github.com/ticketray/ticketray/connectors/webhooks"
)

const snWebhookSecret = "wh-s3cret-for-tests"

// webhookRig is a ServiceNow fake, a config whose connection takes
// webhooks, and `serve --listen` running on it.
type webhookRig struct {
	h    *harness
	sn   *snfake.Fake
	cfg  string
	base string // the webhook URL of the connection
	http *http.Client
	stop func() // stops serve and checks it exits 0
}

func newWebhookRig(t *testing.T) *webhookRig {
	sn := snfake.Start()
	t.Cleanup(sn.Close)
	h := newHarness(t)
	h.env["SN_PASSWORD"] = snfake.Password
	h.env["SN_WEBHOOK"] = snWebhookSecret
	cfg := h.writeConfig(fmt.Sprintf(`{"version":1,"connections":[{"name":"Service Now","type":"servicenow","baseUrl":%q,
		"credentials":{"type":"basic","username":%q,"password":"env:SN_PASSWORD"},"webhookSecret":"env:SN_WEBHOOK"}]}`, sn.URL(), snfake.Username))
	return &webhookRig{h: h, sn: sn, cfg: cfg, http: &http.Client{Timeout: 10 * time.Second}}
}

var webhooksAtRE = regexp.MustCompile(`webhooks at (\S+)` + regexp.QuoteMeta(webhooks.Prefix))

// serve starts `serve` with args after the config and waits for it to
// listen.
func (r *webhookRig) serve(t *testing.T, args ...string) {
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	c := &cli{ctx: ctx, env: Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return r.h.env[k] }}}
	done := make(chan int, 1)
	go func() { done <- c.exit(c.run(append([]string{"--config", r.cfg, "serve"}, args...))) }()
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != ExitOK {
				t.Errorf("serve exit %d\n%s", code, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
	t.Cleanup(r.stop)
	var m []string
	waitFor(t, "serve to listen", 10*time.Second, func() bool {
		m = webhooksAtRE.FindStringSubmatch(stderr.String())
		return m != nil
	})
	r.base = m[1] + webhooks.URLPath("Service Now")
	if strings.Contains(stderr.String(), snWebhookSecret) {
		t.Error("serve logged the webhook secret")
	}
}

// post sends a ServiceNow Business Rule delivery signed with secret
// (hex HMAC-SHA256 of the body) and returns the status.
func (r *webhookRig) post(t *testing.T, secret, deliveryID string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.base, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.HeaderServiceNowSignature, hex.EncodeToString(m.Sum(nil)))
	req.Header.Set(webhooks.HeaderTicketrayDelivery, deliveryID)
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (r *webhookRig) delivery(t *testing.T) deliveryJSON {
	t.Helper()
	got := r.h.list("--config", r.cfg)
	if len(got) != 1 || len(got[0].Deliveries) != 1 {
		t.Fatalf("queue list: %+v", got)
	}
	return got[0].Deliveries[0]
}

func (r *webhookRig) connection(t *testing.T) ConnectionStatus {
	t.Helper()
	var out []ConnectionStatus
	res := r.h.mustRun("--config", r.cfg, "connections", "list", "--json")
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("connections list --json: %v\n%s", err, res.stdout)
	}
	if !strings.Contains(res.stdout, `"lastWebhookAt"`) || !strings.Contains(res.stdout, `"webhooksRejected"`) {
		t.Errorf("connections list --json lacks the webhook fields:\n%s", res.stdout)
	}
	return out[0]
}

func snIncident(number, sysID, state string, updated time.Time) []byte {
	b, _ := json.Marshal(map[string]string{"number": number, "sys_id": sysID, "state": state,
		"sys_updated_on": updated.UTC().Format(time.DateTime), "assigned_to": "Beth Anglin"})
	return b
}

// Report → delivered to the ServiceNow fake → `serve --listen` on a
// loopback port takes the help desk's webhooks: a mis-signed one is 401
// and changes nothing but webhooksRejected; a signed one resolving the
// incident shows in queue list at once (Apply is done when the answer
// comes); its replay, an older update and an unknown incident change
// nothing; connections list shows the last webhook and the refusal.
func TestServeWebhooksEndToEnd(t *testing.T) {
	r := newWebhookRig(t)
	r.h.mustRun("--config", r.cfg, "report", "--summary", "Printer jams", "--user-email", snfake.AliceEmail, "--no-system-info")
	r.h.mustRun("--config", r.cfg, "drain", "--timeout", "30s")
	incs := r.sn.Incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	number, sysID := incs[0]["number"], incs[0]["sys_id"]
	r.serve(t, "--listen", "127.0.0.1:0")
	if c := r.connection(t); c.LastWebhookAt != nil || c.WebhooksRejected != 0 {
		t.Errorf("before any webhook: %+v", c)
	}

	now := time.Now().Truncate(time.Second)
	resolved := snIncident(number, sysID, "6", now)
	if code := r.post(t, "not the secret", "d1", resolved); code != http.StatusUnauthorized {
		t.Fatalf("mis-signed: %d, want 401", code)
	}
	if d := r.delivery(t); d.Status != "" || d.RemoteStatus != "" {
		t.Fatalf("a mis-signed webhook changed the ticket: %+v", d)
	}
	if c := r.connection(t); c.WebhooksRejected != 1 || c.LastWebhookAt != nil {
		t.Errorf("after the mis-signed one: %+v", c)
	}

	if code := r.post(t, snWebhookSecret, "d1", resolved); code != http.StatusNoContent {
		t.Fatalf("signed: %d, want 204", code)
	}
	d := r.delivery(t)
	if d.Status != "resolved" || d.RemoteStatus != "6" || d.Assignee != "Beth Anglin" || d.RemoteUpdatedAt == nil || !d.RemoteUpdatedAt.Equal(now) {
		t.Fatalf("after the signed webhook: %+v", d)
	}

	// The sender's retry of the same delivery: taken, nothing done.
	if code := r.post(t, snWebhookSecret, "d1", resolved); code != http.StatusOK {
		t.Errorf("replay: %d, want 200", code)
	}
	// An older update (a delivery replayed after a restart, under a new
	// id): accepted, ignored.
	if code := r.post(t, snWebhookSecret, "d0", snIncident(number, sysID, "2", now.Add(-time.Hour))); code != http.StatusNoContent {
		t.Errorf("older update: %d, want 204", code)
	}
	if got := r.delivery(t); got.Status != "resolved" || got.RemoteStatus != "6" {
		t.Errorf("a replay or an older update changed the ticket: %+v", got)
	}
	// An incident Ticketray did not create.
	if code := r.post(t, snWebhookSecret, "d2", snIncident("INC0099999", "ffff", "6", now)); code != http.StatusAccepted {
		t.Errorf("unknown incident: %d, want 202", code)
	}

	c := r.connection(t)
	if c.WebhooksRejected != 1 || c.LastWebhookAt == nil || time.Since(*c.LastWebhookAt) > time.Minute {
		t.Errorf("connections list: lastWebhookAt %v, webhooksRejected %d", c.LastWebhookAt, c.WebhooksRejected)
	}
	text := r.h.mustRun("--config", r.cfg, "connections", "list").stdout
	if !strings.Contains(text, "Service Now: last webhook ") || !strings.Contains(text, ", 1 rejected") {
		t.Errorf("connections list:\n%s", text)
	}
	// A name no connection has is 404 and counts for nobody.
	r.base = strings.TrimSuffix(r.base, webhooks.URLPath("Service Now")) + webhooks.URLPath("Nobody")
	if code := r.post(t, snWebhookSecret, "d3", resolved); code != http.StatusNotFound {
		t.Errorf("unknown connection: %d, want 404", code)
	}
	r.stop()
	if c := r.connection(t); c.WebhooksRejected != 1 {
		t.Errorf("after an unknown connection's webhook: webhooksRejected %d, want 1", c.WebhooksRejected)
	}
}

// Plain HTTP only on loopback: serve refuses --listen on an address other
// hosts reach without TLS (exit 2, nothing opened), and a lone --tls-cert.
func TestServeListenNeedsLoopbackOrTLS(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`{"version":1}`)
	for _, args := range [][]string{
		{"--listen", "0.0.0.0:0"},
		{"--listen", ":8443"},
		{"--listen", "192.0.2.10:8443"},
		{"--listen", "127.0.0.1:0", "--tls-cert", "cert.pem"},
		{"--tls-cert", "c.pem", "--tls-key", "k.pem"},
		{"--listen", "nonsense"},
	} {
		res := h.run(append([]string{"--config", cfg, "serve"}, args...)...)
		if res.code != ExitUsage {
			t.Errorf("serve %v: exit %d, want 2\n%s", args, res.code, res.stderr)
		}
		if strings.Contains(res.stderr, "serving") {
			t.Errorf("serve %v started:\n%s", args, res.stderr)
		}
	}
	res := h.run("--config", cfg, "serve", "--listen", "0.0.0.0:0")
	if !strings.Contains(res.stderr, "loopback") || !strings.Contains(res.stderr, "--tls-cert") {
		t.Errorf("the refusal does not say why:\n%s", res.stderr)
	}
	if _, err := os.Stat(h.env[EnvDBPath]); err == nil {
		t.Error("a refused serve opened the queue")
	}
}

// With --tls-cert/--tls-key serve speaks HTTPS, on any address.
func TestServeWebhooksTLS(t *testing.T) {
	r := newWebhookRig(t)
	certFile, keyFile, pool := selfSigned(t, r.h.dir)
	r.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	r.serve(t, "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(r.base, "https://") {
		t.Fatalf("webhook URL %s", r.base)
	}
	if code := r.post(t, snWebhookSecret, "d1", snIncident("INC0099999", "ffff", "6", time.Now())); code != http.StatusAccepted {
		t.Errorf("over TLS: %d, want 202", code)
	}
	r.stop()
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ticketray test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
