package connectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/fake"
)

func TestStatusClass(t *testing.T) {
	tests := []struct {
		status int
		want   Class
	}{
		{200, Permanent}, // not an error status: never retried
		{201, Permanent},
		{301, Permanent},
		{304, Permanent},
		{400, Permanent},
		{401, Permanent},
		{403, Permanent},
		{404, Permanent},
		{405, Permanent},
		{408, Retryable},
		{409, Permanent},
		{410, Permanent},
		{413, Permanent},
		{422, Permanent},
		{425, Retryable},
		{429, Retryable},
		{499, Permanent},
		{500, Retryable},
		{501, Retryable}, // every 5xx is retryable, as documented
		{502, Retryable},
		{503, Retryable},
		{504, Retryable},
		{599, Retryable},
	}
	for _, tt := range tests {
		if got := StatusClass(tt.status); got != tt.want {
			t.Errorf("StatusClass(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestClassString(t *testing.T) {
	tests := []struct {
		c    Class
		want string
	}{
		{Permanent, "permanent"},
		{Retryable, "retryable"},
		{Offline, "offline"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Class(%d).String() = %q, want %q", int(tt.c), got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"no headers", hdr(), 0},
		{"retry-after seconds", hdr("Retry-After", "120"), 120 * time.Second},
		{"retry-after zero", hdr("Retry-After", "0"), 0},
		{"retry-after padded", hdr("Retry-After", " 15 "), 15 * time.Second},
		{"retry-after negative", hdr("Retry-After", "-5"), 0},
		{"retry-after http-date future", hdr("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{"retry-after http-date past", hdr("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"retry-after RFC 850 date", hdr("Retry-After", now.Add(time.Minute).Format(time.RFC850)), time.Minute},
		{"retry-after garbage", hdr("Retry-After", "soon"), 0},
		{"reset unix seconds (ServiceNow)", hdr("X-RateLimit-Reset", strconv.FormatInt(now.Add(300*time.Second).Unix(), 10)), 300 * time.Second},
		{"reset unix seconds past", hdr("X-RateLimit-Reset", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)), 0},
		{"reset unix milliseconds", hdr("X-RateLimit-Reset", strconv.FormatInt(now.Add(1500*time.Millisecond).UnixMilli(), 10)), 1500 * time.Millisecond},
		{"reset delta seconds", hdr("X-RateLimit-Reset", "30"), 30 * time.Second},
		{"reset ISO minutes Z (Jira)", hdr("X-RateLimit-Reset", "2026-11-23T10:05Z"), 5 * time.Minute},
		{"reset ISO minutes offset", hdr("X-RateLimit-Reset", "2026-11-23T11:05+01:00"), 5 * time.Minute},
		{"reset RFC 3339", hdr("X-RateLimit-Reset", "2026-11-23T10:02:30Z"), 150 * time.Second},
		{"reset RFC 3339 fractional", hdr("X-RateLimit-Reset", "2026-11-23T10:02:30.500Z"), 150*time.Second + 500*time.Millisecond},
		{"reset ISO past", hdr("X-RateLimit-Reset", "2026-11-23T09:55Z"), 0},
		{"reset garbage", hdr("X-RateLimit-Reset", "tomorrow"), 0},
		{"retry-after wins over reset", hdr("Retry-After", "10", "X-RateLimit-Reset", strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)), 10 * time.Second},
		{"retry-after date wins over reset", hdr("Retry-After", now.Add(20*time.Second).Format(http.TimeFormat), "X-RateLimit-Reset", "2026-11-23T10:05Z"), 20 * time.Second},
		{"garbage retry-after falls back to reset", hdr("Retry-After", "later", "X-RateLimit-Reset", "2026-11-23T10:05Z"), 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryAfter(tt.h, now); got != tt.want {
				t.Errorf("RetryAfter(%v) = %v, want %v", tt.h, got, tt.want)
			}
		})
	}
}

func TestRetryAfterHugeSecondsDoesNotWrap(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	h := http.Header{"Retry-After": {"10000000000"}}
	if got := RetryAfter(h, now); got <= 0 {
		t.Errorf("RetryAfter(Retry-After: 10000000000) = %v, want a positive wait", got)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		e    *Error
		want string
	}{
		{"status and message", &Error{Op: "create", Status: 422, Message: "Summary is required"}, "create: HTTP 422 Unprocessable Entity: Summary is required"},
		{"status message and cause", &Error{Op: "status", Status: 429, Message: "Rate limit exceeded", Err: io.EOF}, "status: HTTP 429 Too Many Requests: Rate limit exceeded: EOF"},
		{"transport only", &Error{Op: "find", Err: errors.New("connection refused")}, "find: connection refused"},
		{"op only", &Error{Op: "check"}, "check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	e := &Error{Op: "attach", Err: io.ErrUnexpectedEOF}
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = false, want true (Unwrap)", e)
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, Permanent},
		{"plain error", errors.New("bad config"), Permanent},
		{"ErrNotFound", ErrNotFound, Permanent},
		{"context canceled", context.Canceled, Permanent},
		{"retryable *Error", &Error{Class: Retryable}, Retryable},
		{"offline *Error", &Error{Class: Offline}, Offline},
		{"permanent *Error", &Error{Class: Permanent}, Permanent},
		{"wrapped retryable", fmt.Errorf("create: %w", &Error{Class: Retryable}), Retryable},
		{"wrapped offline", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &Error{Class: Offline})), Offline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.err); got != tt.want {
				t.Errorf("ClassOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// discardLog silences a test server's expected handshake errors.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// plainClient talks to loopback servers with no proxy, so the errors are
// the transport's own.
func plainClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: timeout}
}

func TestTransportErrorRealFailures(t *testing.T) {
	refused, err := fake.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = discardLog() // the handshake failure is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	closeSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the request arrived in full
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close() // FIN without a response
	}))
	defer closeSrv.Close()

	inj := &fake.Injector{}
	inj.Always("", "/", fake.Fault{Kind: fake.ResetAfter})
	resetSrv := httptest.NewServer(inj.Wrap(http.NotFoundHandler()))
	defer resetSrv.Close()

	blockSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer blockSrv.Close()

	tests := []struct {
		name     string
		url      string
		timeout  time.Duration
		want     Class
		wantSent bool
		check    func(error) bool
	}{
		{"connection refused", "http://" + refused + "/", 5 * time.Second, Offline, false,
			func(err error) bool { var op *net.OpError; return errors.As(err, &op) && op.Op == "dial" }},
		{"tls unknown authority", tlsSrv.URL + "/", 5 * time.Second, Offline, false,
			func(err error) bool { var u x509.UnknownAuthorityError; return errors.As(err, &u) }},
		{"closed after the request", closeSrv.URL + "/", 5 * time.Second, Retryable, true, nil},
		{"reset after the request", resetSrv.URL + "/", 5 * time.Second, Retryable, true, nil},
		{"client timeout", blockSrv.URL + "/", 100 * time.Millisecond, Retryable, true,
			func(err error) bool { var ne net.Error; return errors.As(err, &ne) && ne.Timeout() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := plainClient(tt.timeout).Post(tt.url, "application/json", nil)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("POST %s succeeded, want a transport error", tt.url)
			}
			if tt.check != nil && !tt.check(err) {
				t.Fatalf("POST %s: error %v (%T) is not the kind this case needs", tt.url, err, err)
			}
			e := TransportError("create", err)
			if got, want := e.Class, tt.want; got != want {
				t.Errorf("TransportError(%v).Class = %v, want %v", err, got, want)
			}
			if got, want := e.Sent, tt.wantSent; got != want {
				t.Errorf("TransportError(%v).Sent = %v, want %v", err, got, want)
			}
			if got, want := e.Op, "create"; got != want {
				t.Errorf("Op = %q, want %q", got, want)
			}
			if !errors.Is(e, err) {
				t.Errorf("TransportError does not wrap the original error %v", err)
			}
			if got, want := ClassOf(e), tt.want; got != want {
				t.Errorf("ClassOf = %v, want %v", got, want)
			}
		})
	}
}

// stubResolver is a DNS resolver that never leaves the process: every
// query goes to answer, over an in-memory stream (the framing Go's
// resolver uses for a connection that is not a PacketConn). queries
// counts the queries it was asked.
func stubResolver(queries *atomic.Int32, answer func(c net.Conn)) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		queries.Add(1)
		client, server := net.Pipe()
		go answer(server)
		return client, nil
	}}
}

// answerNXDOMAIN answers each query on c as a resolver does for a name
// that does not exist: the query echoed back as a response with RCODE 3.
func answerNXDOMAIN(c net.Conn) {
	defer c.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, msg); err != nil || len(msg) < 12 {
			return
		}
		msg[2] |= 0x80       // QR: a response (ID, opcode, RD and the question stay)
		msg[3] = 0x80 | 0x03 // RA, RCODE 3 NXDOMAIN
		if _, err := c.Write(append(size[:], msg...)); err != nil {
			return
		}
	}
}

// TestTransportErrorDNS: a name that does not resolve, or a resolver that
// cannot be reached, means offline with nothing sent. The resolver is a
// stub, so the test asks the same of every machine, with or without a
// network or a DNS server that answers for .invalid names.
func TestTransportErrorDNS(t *testing.T) {
	tests := []struct {
		name     string
		resolver func(queries *atomic.Int32) *net.Resolver
		notFound bool
	}{
		{"no such host", func(q *atomic.Int32) *net.Resolver { return stubResolver(q, answerNXDOMAIN) }, true},
		{"resolver unreachable", func(q *atomic.Int32) *net.Resolver {
			return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
				q.Add(1)
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var queries atomic.Int32
			dialer := &net.Dialer{Resolver: tt.resolver(&queries)}
			client := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext}, Timeout: 10 * time.Second}
			resp, err := client.Get("http://ticketray-test.invalid/")
			if err == nil {
				resp.Body.Close()
				t.Fatal("GET through the stub resolver succeeded")
			}
			if queries.Load() == 0 {
				t.Fatalf("the stub resolver was not asked (err %v)", err)
			}
			var dnsErr *net.DNSError
			if !errors.As(err, &dnsErr) || dnsErr.IsNotFound != tt.notFound {
				t.Fatalf("err = %v (%T), want a *net.DNSError with IsNotFound=%v", err, err, tt.notFound)
			}
			e := TransportError("check", err)
			if got, want := e.Class, Offline; got != want {
				t.Errorf("Class = %v, want %v (error %v)", got, want, err)
			}
			if e.Sent {
				t.Errorf("Sent = true, want false for a DNS failure")
			}
		})
	}
}

func TestTransportErrorContext(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"canceled", fmt.Errorf("Post: %w", context.Canceled)},
		{"deadline", fmt.Errorf("Post: %w", context.DeadlineExceeded)},
		{"unknown", errors.New("something odd")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := TransportError("create", tt.err)
			if e.Class != Retryable || !e.Sent {
				t.Errorf("TransportError(%v) = {Class %v, Sent %v}, want {retryable, true}", tt.err, e.Class, e.Sent)
			}
		})
	}
}

// blackholeAddr returns a loopback address whose accept queue is full, so
// a new connection is neither accepted nor refused: the SYN is dropped, as
// on a network that silently drops packets.
func blackholeAddr(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux dropping SYNs when the accept queue is full")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 4 { // fill the queue; stop at the first dial that hangs
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}

func TestTransportErrorNeverWritten(t *testing.T) {
	oldTLS := httptest.NewUnstartedServer(http.NotFoundHandler())
	oldTLS.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	oldTLS.Config.ErrorLog = discardLog()
	oldTLS.StartTLS()
	defer oldTLS.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()

	tests := []struct {
		name   string
		url    string
		client *http.Client
		want   Class
	}{
		// A connect into a full listen queue is not here: the kernel may
		// complete the handshake, so the request is written and its fate
		// unknown. rest.Do tells that case apart with httptrace.
		{"tls protocol version alert", oldTLS.URL + "/", oldTLS.Client(), Offline},
		{"http answer to https", "https://" + plain.Listener.Addr().String() + "/", plainClient(5 * time.Second), Offline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Post(tt.url, "application/json", nil)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("POST %s succeeded, want a transport error", tt.url)
			}
			e := TransportError("create", err)
			if e.Class != tt.want || e.Sent {
				t.Errorf("TransportError(%v) = {Class %v, Sent %v}, want {%v, false}: the request was never written", err, e.Class, e.Sent, tt.want)
			}
		})
	}
}
