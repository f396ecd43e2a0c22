package diagnostics

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Step is one stage of a connectivity probe.
type Step struct {
	Name   string `json:"name"` // dns, tcp, tls, proxy
	OK     bool   `json:"ok"`
	Ms     int64  `json:"ms"`
	Detail string `json:"detail,omitempty"`
}

// Reachability is what a probe found.
type Reachability struct {
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Steps  []Step `json:"steps"`
}

// Probe checks that the host of rawURL can be reached: DNS, then TCP,
// then (for https) a TLS 1.2+ handshake with certificate verification. If
// the environment routes the URL through a proxy, the proxy is dialled
// instead. It sends no HTTP request, so it is cheap enough to run every
// few seconds while a connection is offline.
func Probe(ctx context.Context, rawURL string) Reachability {
	r := Reachability{Target: rawURL}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		r.Steps = append(r.Steps, Step{Name: "url", Detail: "not an absolute URL"})
		return r
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	useTLS := u.Scheme == "https"
	req := &http.Request{URL: u}
	if p, err := http.ProxyFromEnvironment(req); err == nil && p != nil {
		host, port, useTLS = p.Hostname(), p.Port(), false
		if port == "" {
			port = "80"
		}
		r.Steps = append(r.Steps, Step{Name: "proxy", OK: true, Detail: "via " + p.Host})
	}
	var detail string // a successful step's note
	step := func(name string, f func() error) bool {
		start := time.Now()
		detail = ""
		err := f()
		s := Step{Name: name, OK: err == nil, Ms: time.Since(start).Milliseconds(), Detail: detail}
		if err != nil {
			s.Detail = err.Error()
		}
		r.Steps = append(r.Steps, s)
		return err == nil
	}
	addrs := []string{host}
	if net.ParseIP(host) == nil {
		if !step("dns", func() error {
			var err error
			addrs, err = net.DefaultResolver.LookupHost(ctx, host)
			return err
		}) {
			return r
		}
	}
	var conn net.Conn
	if !step("tcp", func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(addrs[0], port))
		return err
	}) {
		return r
	}
	defer conn.Close()
	if useTLS && !step("tls", func() error {
		tc := tls.Client(conn, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		st := tc.ConnectionState()
		detail = fmt.Sprintf("%s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
		return nil
	}) {
		return r
	}
	r.OK = true
	return r
}
