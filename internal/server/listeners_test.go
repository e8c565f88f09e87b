package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// multi is a running edge whose configuration the test rewrites: the seed
// trust store, one server certificate and the listeners given.
type multi struct {
	*edge
	dir string
}

// lst is one listener of a multi configuration.
type lst struct {
	port     int
	protocol string // default HTTPS
	mode     string // off (default), passthrough, verify
	body     string // the fixed response; default "ok"
}

func (l lst) yaml() string {
	if l.protocol == "" {
		l.protocol = "HTTPS"
	}
	if l.body == "" {
		l.body = "ok"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  - {port: %d, protocol: %s, ", l.port, l.protocol)
	if l.protocol == "HTTPS" {
		b.WriteString("certificates: [{certificate: server.pem, private_key: server.key}], ")
		switch l.mode {
		case "", "off":
		case "verify":
			b.WriteString("mutual_authentication: {mode: verify, trust_store: seed}, ")
		default:
			fmt.Fprintf(&b, "mutual_authentication: {mode: %s}, ", l.mode)
		}
	}
	fmt.Fprintf(&b, "default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\", content_type: text/plain, message_body: %q}}]}\n", l.body)
	return b.String()
}

// startMulti starts edge on ls; top is extra top-level YAML.
func startMulti(t testing.TB, seed *testutil.Seed, top string, ls ...lst) *multi {
	t.Helper()
	dir := t.TempDir()
	serverCA := testutil.Root(t, "server root")
	srvCert, err := serverCA.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srvCert.Save(dir, "server", false); err != nil {
		t.Fatal(err)
	}
	m := &multi{dir: dir, edge: &edge{t: t, connLog: filepath.Join(dir, "conn.log"), accessLog: filepath.Join(dir, "access.log"),
		cfgPath: filepath.Join(dir, "edge.yaml"), roots: x509.NewCertPool()}}
	m.roots.AddCert(serverCA.Cert)
	m.serverRootPEM = pki.CertPEM(serverCA.Cert)
	m.write(t, seed, top, ls...)
	cfg, err := config.Load(m.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	m.srv, err = server.Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	m.srv.SetLoader(func() (*config.Config, error) { return config.Load(m.cfgPath) })
	m.addr = m.srv.Addrs()[0].String()
	t.Cleanup(func() { m.stop() })
	return m
}

// write replaces the configuration file.
func (m *multi) write(t testing.TB, seed *testutil.Seed, top string, ls ...lst) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "name: multi\nlogs: {connection: file:conn.log, access: file:access.log}\n%s", top)
	fmt.Fprintf(&b, "trust_stores:\n  - name: seed\n    ca_certificates_bundle: %s\nlisteners:\n", seed.BundlePath)
	for _, l := range ls {
		b.WriteString(l.yaml())
	}
	tmp := m.cfgPath + ".tmp"
	testutil.WriteFile(t, tmp, []byte(b.String()))
	if err := os.Rename(tmp, m.cfgPath); err != nil {
		t.Fatal(err)
	}
}

// reload rewrites the configuration and reloads it.
func (m *multi) reload(t testing.TB, seed *testutil.Seed, top string, ls ...lst) {
	t.Helper()
	m.write(t, seed, top, ls...)
	if err := m.srv.ReloadFromSource(); err != nil {
		t.Fatal(err)
	}
}

// status makes one HTTPS request to addr with cfg: the response code, or
// 0 when the handshake or request failed.
func status(addr string, cfg *tls.Config) int {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return 0
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	var code int
	fmt.Sscanf(string(b), "HTTP/1.1 %d", &code)
	return code
}

// Two port-0 listeners, the first off and the second verify: each socket
// keeps its own mode (the verify one demands a client certificate),
// Shutdown returns, and a reload that adds a port-0 listener in front of
// the verify one does not switch that socket's mode.
func TestPortZeroListenersAreDistinct(t *testing.T) {
	seed := testutil.NewSeed(t)
	m := startMulti(t, seed, "", lst{mode: "off", body: "off"}, lst{mode: "verify", body: "verify"})
	addrs := m.srv.Addrs()
	if len(addrs) != 2 || addrs[0].String() == addrs[1].String() {
		t.Fatalf("two port-0 listeners bound %v; want two different sockets", addrs)
	}
	noCert := m.clientTLS(nil, nil)
	if code := status(addrs[0].String(), noCert); code != 200 {
		t.Errorf("off listener without a certificate: %d; want 200", code)
	}
	if code := status(addrs[1].String(), noCert); code != 0 {
		t.Errorf("verify listener answered %d to a client without a certificate; want the handshake refused", code)
	}
	if code := status(addrs[1].String(), m.clientTLS(seed.C, nil)); code != 200 {
		t.Errorf("verify listener with a good certificate: %d; want 200", code)
	}

	// A reload that puts another port-0 listener first. Listeners of one
	// kind pair with sockets in configuration order: the new off listener
	// takes the off socket, the old off listener gets a new port, and
	// the verify socket stays verify.
	verifyAddr := addrs[1].String()
	m.reload(t, seed, "", lst{mode: "off", body: "new"}, lst{mode: "off", body: "off"}, lst{mode: "verify", body: "verify"})
	if code := status(verifyAddr, noCert); code != 0 {
		t.Errorf("after the reload the verify socket %s answered %d without a certificate; want the handshake refused", verifyAddr, code)
	}
	after := m.srv.Addrs()
	if len(after) != 3 || after[2].String() != verifyAddr || after[0].String() != addrs[0].String() {
		t.Errorf("after the reload listeners are on %v; want the first off listener and the verify listener kept on %v", after, addrs)
	}
	if code := status(after[1].String(), noCert); code != 200 {
		t.Errorf("the added off listener: %d; want 200", code)
	}

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- m.srv.Shutdown(ctx)
	}()
	select {
	case <-done:
		m.stopped = true
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return with two port-0 listeners")
	}
}

// Reloads move, remove and add HTTPS listeners while clients keep
// connecting to every address edge has listened on: edge never crashes,
// every connection that completes its handshake is answered by the
// listener it arrived on (its mode and its fixed response), and the
// listener that never changes refuses no client.
func TestReloadMovesListenersUnderLoad(t *testing.T) {
	seed := testutil.NewSeed(t)
	stable := freePort(t)
	m := startMulti(t, seed, "", lst{port: stable, mode: "verify", body: "stable"}, lst{mode: "verify", body: "moving"})
	good := m.clientTLS(seed.C, nil)

	var mu sync.Mutex
	targets := []string{m.srv.Addrs()[1].String()}
	var stableOK, stableBad, wrongBody, answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w == 0 {
					if status(fmt.Sprintf("127.0.0.1:%d", stable), good) == 200 {
						stableOK.Add(1)
					} else {
						stableBad.Add(1)
					}
					continue
				}
				mu.Lock()
				addr := targets[(i+w)%len(targets)]
				mu.Unlock()
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, good)
				if err != nil {
					continue // a removed listener: refused, as intended
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
				b, _ := io.ReadAll(c)
				c.Close()
				if len(b) == 0 {
					continue // closed by the removal before the request
				}
				answered.Add(1)
				if !strings.HasPrefix(string(b), "HTTP/1.1 200") || !strings.HasSuffix(string(b), "moving") {
					wrongBody.Add(1)
				}
			}
		}(w)
	}
	for i := 0; i < 30; i++ {
		var ls []lst
		switch i % 3 {
		case 0: // move the moving listener to a fixed port
			ls = []lst{{port: stable, mode: "verify", body: "stable"}, {port: freePort(t), mode: "verify", body: "moving"}}
		case 1: // back to port 0, plus an HTTP listener
			ls = []lst{{port: stable, mode: "verify", body: "stable"}, {mode: "verify", body: "moving"}, {protocol: "HTTP", body: "moving"}}
		case 2: // the moving listener alone on port 0 again
			ls = []lst{{port: stable, mode: "verify", body: "stable"}, {mode: "verify", body: "moving"}}
		}
		m.reload(t, seed, "", ls...)
		mu.Lock()
		targets = append(targets, m.srv.Addrs()[1].String())
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("stable listener: %d served, %d refused; moving listeners: %d answered", stableOK.Load(), stableBad.Load(), answered.Load())
	if stableBad.Load() != 0 {
		t.Errorf("%d clients of the unchanged listener were refused during reloads", stableBad.Load())
	}
	if wrongBody.Load() != 0 {
		t.Errorf("%d connections were answered by a listener other than the one they arrived on", wrongBody.Load())
	}
	if stableOK.Load() == 0 || answered.Load() == 0 {
		t.Error("the client loops made no request")
	}
}

// GET /listeners while reloads add and remove listeners: no data race
// (run with -race), and every answer lists a consistent set.
func TestAdminListenersDuringReloads(t *testing.T) {
	seed := testutil.NewSeed(t)
	m := startMulti(t, seed, "", lst{mode: "verify"})
	adm := httptest.NewServer(admin.Handler(m.srv, ""))
	defer adm.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(adm.URL + "/listeners")
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || strings.Contains(string(b), ":0\"") {
					t.Errorf("GET /listeners: %d %s", resp.StatusCode, b)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 0; i < 40; i++ {
		ls := []lst{{mode: "verify"}}
		for j := 0; j < i%4; j++ {
			ls = append(ls, lst{protocol: "HTTP"})
		}
		m.reload(t, seed, "", ls...)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d GET /listeners during 40 reloads", reads.Load())
}

// A listener with a fixed port is its address and port: a reload that
// changes its protocol or mode keeps the socket (no "address in use"),
// and new connections get the new settings.
func TestReloadKeepsFixedPortAcrossChanges(t *testing.T) {
	seed := testutil.NewSeed(t)
	port := freePort(t)
	m := startMulti(t, seed, "", lst{port: port, mode: "off"})
	addr := m.srv.Addrs()[0].String()
	if code := status(addr, m.clientTLS(nil, nil)); code != 200 {
		t.Fatalf("off listener: %d", code)
	}
	m.reload(t, seed, "", lst{port: port, mode: "verify"})
	if code := status(addr, m.clientTLS(nil, nil)); code != 0 {
		t.Errorf("after switching to verify, a client without a certificate got %d", code)
	}
	m.reload(t, seed, "", lst{port: port, protocol: "HTTP", body: "plain"})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("after switching to HTTP: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain" {
		t.Errorf("HTTP on the kept socket: %q", b)
	}
}
