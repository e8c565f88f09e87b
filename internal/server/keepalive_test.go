package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/config"
	"edge/internal/pki"
)

// client_keep_alive.seconds: once a connection is older than it, edge
// answers one more request and closes the connection, with
// Connection: close on HTTP/1.1 and GOAWAY on h2. ALB's minimum is 60 s;
// the test shortens the built snapshot's value to keep the run short.
func TestClientKeepAlive(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewRoot(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.Save(dir, "server", false); err != nil {
		t.Fatal(err)
	}
	yaml := `name: keepalive
logs: {connection: off, access: off}
attributes: {client_keep_alive.seconds: 60}
listeners:
  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: ok}}]}
  - port: 0
    certificates: [{certificate: ` + filepath.Join(dir, "server.pem") + `, private_key: ` + filepath.Join(dir, "server.key") + `}]
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: ok}}]
`
	cfg, err := config.Parse([]byte(yaml), filepath.Join(dir, "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.LoadBalancers[0].keepAlive != time.Minute {
		t.Fatalf("keepAlive %v; want the attribute's 60 s", snap.LoadBalancers[0].keepAlive)
	}
	const keepAlive = 300 * time.Millisecond
	snap.LoadBalancers[0].keepAlive = keepAlive
	s, err := Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	addrs := s.Addrs()

	// HTTP/1.1 on one raw connection.
	c, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func() *http.Response {
		t.Helper()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("the request after the keep-alive duration was not answered: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.Close {
		t.Fatal("the first request already got Connection: close")
	}
	time.Sleep(keepAlive + 100*time.Millisecond)
	if resp := get(); !resp.Close || resp.StatusCode != 200 {
		t.Fatalf("past the keep-alive duration: %d, Connection: close %t; want 200 and close", resp.StatusCode, resp.Close)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("the connection stayed open after Connection: close (%v)", err)
	}

	// h2: the late request is answered, then the connection goes away and
	// the next request needs a new one.
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	h2get := func() (reused bool) {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "https://"+addrs[1].String()+"/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Fatalf("%s %d; want HTTP/2 200", resp.Proto, resp.StatusCode)
		}
		return reused
	}
	h2get()
	if !h2get() {
		t.Fatal("h2: a second request within the keep-alive duration opened a new connection")
	}
	time.Sleep(keepAlive + 100*time.Millisecond)
	if !h2get() {
		t.Fatal("h2: the request past the keep-alive duration was not served on the old connection")
	}
	time.Sleep(100 * time.Millisecond) // let the client read the GOAWAY
	if h2get() {
		t.Error("h2: the connection was reused after the keep-alive duration; want GOAWAY and a new connection")
	}
}
