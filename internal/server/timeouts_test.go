package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"edge/internal/config"
	"edge/internal/testutil"
)

// closedWithin reports whether c is closed by the server within d (a read
// returns EOF or an error other than our own deadline).
func closedWithin(c *tls.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if err == nil {
		return false
	}
	ne, ok := err.(interface{ Timeout() bool })
	return !ok || !ne.Timeout()
}

// keepAliveConn opens an mTLS connection and completes one request on it.
func keepAliveConn(t *testing.T, e *edge, cfg *tls.Config) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	c, err := tls.Dial("tcp", e.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c, br
}

// The idle timeout closes a keep-alive connection that sends nothing
// after its last response, not before the timeout.
func TestIdleTimeoutClosesKeepAliveConnection(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "idle_timeout_seconds: 1\nclient_header_timeout_seconds: 30\n"})
	c, _ := keepAliveConn(t, e, e.clientTLS(seed.C, nil))
	defer c.Close()
	start := time.Now()
	if closedWithin(c, 900*time.Millisecond) {
		t.Fatalf("closed after %v; the idle timeout is 1 s", time.Since(start))
	}
	if !closedWithin(c, 3*time.Second) {
		t.Fatalf("still open %v after the last response; the idle timeout is 1 s", time.Since(start))
	}
	t.Logf("closed %v after the last response (idle timeout 1 s)", time.Since(start).Round(time.Millisecond))
}

// The header timeout applies to every request of a keep-alive connection,
// not only the first: half a second request is cut off after the header
// timeout, long before the idle timeout.
func TestHeaderTimeoutOnSecondRequest(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "idle_timeout_seconds: 30\nclient_header_timeout_seconds: 1\n"})
	c, _ := keepAliveConn(t, e, e.clientTLS(seed.C, nil))
	defer c.Close()
	time.Sleep(1500 * time.Millisecond) // idle longer than the header timeout: allowed
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: loc")
	start := time.Now()
	if closedWithin(c, 900*time.Millisecond) {
		t.Fatalf("closed %v after the partial request; the header timeout is 1 s", time.Since(start))
	}
	if !closedWithin(c, 3*time.Second) {
		t.Fatalf("still open %v after a partial request; the header timeout is 1 s", time.Since(start))
	}
}

// A request that takes longer than the header timeout once its headers
// are in is served: the timeout covers the headers only.
func TestSlowResponseOutlivesHeaderTimeout(t *testing.T) {
	seed := testutil.NewSeed(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(w, "slow but fine")
	}))
	defer slow.Close()
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS,
		top:           "idle_timeout_seconds: 10\nclient_header_timeout_seconds: 1\ntarget_groups:\n" + tgYAML("slow", strings.TrimPrefix(slow.URL, "http://")),
		defaultAction: "{type: forward, target_group: slow}"})
	resp, body := e.request(t, e.clientTLS(seed.C, nil), "GET", "/", nil)
	if resp.StatusCode != 200 || body != "slow but fine" {
		t.Fatalf("%d %q; want 200 from the slow target", resp.StatusCode, body)
	}
}

// HTTP/2 connections are closed by the idle timeout too.
func TestIdleTimeoutClosesHTTP2Connection(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "idle_timeout_seconds: 1\n"})
	cfg := e.clientTLS(seed.C, nil)
	cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", e.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q; want h2", p)
	}
	// The client preface and an empty SETTINGS frame; then silence.
	io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	c.Write([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
	start := time.Now()
	deadline := start.Add(4 * time.Second)
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(deadline)
		if _, err := c.Read(buf); err != nil { // the server's frames, then EOF
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatalf("HTTP/2 connection still open %v after going idle; the idle timeout is 1 s", time.Since(start))
			}
			break
		}
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("HTTP/2 connection closed after %v; the idle timeout is 1 s", el)
	}
}

// A reload that shortens the idle timeout applies to connections already
// open on a listener whose socket stays.
func TestReloadAppliesIdleTimeoutToOpenConnections(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "idle_timeout_seconds: 60\n"})
	c, _ := keepAliveConn(t, e, e.clientTLS(seed.C, nil))
	defer c.Close()
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.IdleTimeoutSeconds = 1
	if err := e.srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(c, 4*time.Second) {
		t.Fatal("an open idle connection outlived the reloaded 1 s idle timeout")
	}
}

// A reload that shortens the handshake timeout applies to new connections
// on a listener whose socket stays.
func TestReloadAppliesHandshakeTimeout(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "client_handshake_timeout_seconds: 60\n"})
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientHandshakeTimeoutSeconds = 1
	if err := e.srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // the start of a ClientHello, then silence
	start := time.Now()
	c.SetReadDeadline(start.Add(4 * time.Second))
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a stalled handshake outlived the reloaded 1 s handshake timeout")
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("stalled handshake closed after %v; the timeout is 1 s", el)
	}
}
