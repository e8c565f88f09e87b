package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// gwPKI is the API Gateway tests' PKI: the walkthrough's root and
// intermediate, a server certificate for api.test with its chain, and
// clients that are trusted, untrusted (another root) and revoked (by a
// CRL that sits in the truststore, which API Gateway ignores).
type gwPKI struct {
	root, inter, other        *pki.CA
	trusted, untrusted, revok tls.Certificate
	client                    *pki.Issued // the trusted client
	roots                     *x509.CertPool
}

func newGWPKI(t *testing.T, dir string) *gwPKI {
	t.Helper()
	p := &gwPKI{}
	p.root = testutil.Root(t, "Walkthrough Root")
	p.inter = testutil.Intermediate(t, p.root, "Walkthrough Intermediate")
	p.other = testutil.Root(t, "Another Root")
	server, err := p.inter.IssueServer(pki.Options{DNSNames: []string{"api.test"}})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.KeyPEM(server.Key)
	testutil.WriteFile(t, filepath.Join(dir, "server.pem"), pki.CertPEM(server.Cert, p.inter.Cert))
	testutil.WriteFile(t, filepath.Join(dir, "server.key"), key)
	client := func(ca *pki.CA, cn string) *pki.Issued {
		return testutil.Client(t, ca, pki.Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"edge tests"}}})
	}
	trusted, revoked := client(p.inter, "trusted client"), client(p.inter, "revoked client")
	p.client, p.trusted, p.revok = trusted, trusted.TLSCertificate(), revoked.TLSCertificate()
	p.untrusted = client(p.other, "untrusted client").TLSCertificate()
	crl, _ := testutil.OpenSSLCRL(t, dir, "inter", p.inter, revoked.Cert)
	crlPEM, err := os.ReadFile(crl)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(dir, "truststore.pem"), append(pki.CertPEM(p.root.Cert, p.inter.Cert), crlPEM...))
	testutil.WriteFile(t, filepath.Join(dir, "other-root.pem"), pki.CertPEM(p.other.Cert))
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.root.Cert)
	return p
}

// echoTarget answers every request with what it received, as JSON.
func echoTarget(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "headers": r.Header})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// withListener puts an ALB listener beside the api_gateway block (a
// replacement for writeGWConfig).
var withListener = []string{"api_gateway:\n", `logs: {connection: "off", access: "off"}
listeners:
  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: alb}}]}
api_gateway:
`}

const gwYAML = `api_gateway:
  listen: 127.0.0.1:0
  access_log: file:access.log
  execution_log: file:exec.log
  domain_names:
    - domain_name: api.test
      certificate: {cert: server.pem, key: server.key}
      security_policy: TLS_1_2
      mutual_tls_authentication:
        truststore: truststore.pem
      base_path_mappings:
        - {base_path: "", rest_api: pets, stage: prod}
  rest_apis:
    - name: pets
      disable_execute_api_endpoint: true
      stages: [{name: prod}]
      routes:
        - path: /{proxy+}
          method: ANY
          integration:
            type: HTTP_PROXY
            uri: TARGET/{proxy}
            request_parameters:
              integration.request.path.proxy: method.request.path.proxy
              integration.request.header.X-Client-Subject: context.identity.clientCert.subjectDN
              integration.request.header.X-Client-Issuer: context.identity.clientCert.issuerDN
              integration.request.header.X-Client-Serial: context.identity.clientCert.serialNumber
`

// gwServed is an `edge serve` with an API Gateway under test.
type gwServed struct {
	cmd            *exec.Cmd
	dir            string
	stdout, stderr *syncBuffer
	gw             string // the API Gateway listener's host:port
	aws            string // the AWS endpoint's URL, when there is one
	exited         chan struct{}
}

// serveGW starts `edge serve -c edge.yaml --ready-file ready.json` in dir
// and waits for the ready file to name the API Gateway listener.
func serveGW(t *testing.T, dir string) *gwServed {
	t.Helper()
	s := &gwServed{dir: dir, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(edgeBin, "serve", "-c", "edge.yaml", "--ready-file", "ready.json")
	s.cmd.Dir, s.cmd.Stdout, s.cmd.Stderr = dir, s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d struct {
			URL *string `json:"api_gateway_url"`
		}
		if data, err := os.ReadFile(filepath.Join(dir, "ready.json")); err == nil && json.Unmarshal(data, &d) == nil && d.URL != nil {
			s.gw = strings.TrimSuffix(strings.TrimPrefix(*d.URL, "https://"), "/")
			break
		}
		select {
		case <-s.exited:
			t.Fatalf("edge serve exited before it was ready:\n%s", s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ready file never named api_gateway_url:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := regexp.MustCompile(`msg="AWS endpoint[^"]*" url=(http://\S+)`).FindStringSubmatch(s.stderr.String()); m != nil {
		s.aws = m[1]
	}
	return s
}

// stop sends SIGTERM and waits for the exit.
func (s *gwServed) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("edge did not exit within 15 s of SIGTERM")
	}
}

// waitLog waits until stderr contains want.
func (s *gwServed) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr never said %q:\n%s", want, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFile waits until the file in the served directory contains want.
func (s *gwServed) waitFile(t *testing.T, name, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(s.dir, name))
		if strings.Contains(string(data), want) {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never contained %q:\n%s", name, want, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gwAnswer is one request's outcome through the data plane.
type gwAnswer struct {
	status int
	body   string
	// headers are the ones the echo target received (nil for 403s).
	headers map[string][]string
	err     error
}

// get sends GET path to host over a new connection to the API Gateway
// listener, as curl --resolve does, presenting cert (nil: none) with at
// most TLS version maxVersion (0: Go's default).
func (s *gwServed) get(host, path string, cert *tls.Certificate, roots *x509.CertPool, maxVersion uint16) gwAnswer {
	cfg := &tls.Config{ServerName: host, RootCAs: roots, MaxVersion: maxVersion}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.gw)
		}}}
	resp, err := c.Get("https://" + host + path)
	if err != nil {
		return gwAnswer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := gwAnswer{status: resp.StatusCode, body: string(b)}
	var echo struct {
		Headers map[string][]string `json:"headers"`
	}
	if json.Unmarshal(b, &echo) == nil {
		a.headers = echo.Headers
	}
	return a
}

func (a gwAnswer) header(name string) string {
	if v := a.headers[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (a gwAnswer) String() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, a.body)
}

// writeGWConfig writes edge.yaml (gwYAML with the target's URL, edited by
// the replacements old, new, ...).
func writeGWConfig(t *testing.T, dir, target string, replace ...string) {
	t.Helper()
	y := strings.ReplaceAll(gwYAML, "TARGET", target)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(y, replace[i]) {
			t.Fatalf("the configuration has no %q", replace[i])
		}
		y = strings.ReplaceAll(y, replace[i], replace[i+1])
	}
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(y))
}

// TestServeAPIGatewayYAML: edge serve with an api_gateway block (files
// only, no AWS endpoint) serves the walkthrough's data plane: a trusted
// client reaches the target with the mapped client-certificate headers;
// no certificate fails the handshake; an untrusted one gets 403 with the
// reason in the execution log; a revoked one passes (no revocation
// checking). A changed truststore file is recompiled; a block that no
// longer compiles keeps the running one; SIGTERM stops everything.
func TestServeAPIGatewayYAML(t *testing.T) {
	dir := t.TempDir()
	p := newGWPKI(t, dir)
	target := echoTarget(t)
	writeGWConfig(t, dir, target.URL, withListener...)
	s := serveGW(t, dir)

	a := s.get("api.test", "/pets/7", &p.trusted, p.roots, 0)
	if a.status != 200 || a.header("X-Client-Subject") != "CN=trusted client,O=edge tests" ||
		a.header("X-Client-Issuer") != "CN=Walkthrough Intermediate,O=edge tests" || !regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2})+$`).MatchString(a.header("X-Client-Serial")) {
		t.Fatalf("trusted client: %v", a)
	}
	if !strings.Contains(a.body, `"path":"/pets/7"`) {
		t.Errorf("the target got another path: %s", a.body)
	}
	s.waitFile(t, "access.log", `"CN=trusted client,O=edge tests"`)

	if a := s.get("api.test", "/pets", nil, p.roots, tls.VersionTLS12); a.err == nil {
		t.Errorf("no client certificate: %v; want a failed handshake", a)
	}
	if a := s.get("api.test", "/pets", &p.untrusted, p.roots, 0); a.status != 403 || a.body != `{"message":"Forbidden"}` {
		t.Errorf("untrusted client: %v; want 403 Forbidden", a)
	}
	s.waitFile(t, "exec.log", "Access denied. Reason: Could not find issuer for certificate (domain api.test, client certificate \"CN=untrusted client,O=edge tests\"")
	if a := s.get("api.test", "/pets", &p.revok, p.roots, 0); a.status != 200 || a.header("X-Client-Subject") != "CN=revoked client,O=edge tests" {
		t.Errorf("revoked client: %v; want 200 (API Gateway checks no revocation)", a)
	}

	// The truststore file replaced by another root's: recompiled.
	other, _ := os.ReadFile(filepath.Join(dir, "other-root.pem"))
	os.WriteFile(filepath.Join(dir, "truststore.tmp"), other, 0o644)
	os.Rename(filepath.Join(dir, "truststore.tmp"), filepath.Join(dir, "truststore.pem"))
	s.waitLog(t, "API Gateway configuration reloaded")
	if a := s.get("api.test", "/pets", &p.trusted, p.roots, 0); a.status != 403 {
		t.Errorf("after the truststore file changed to another root: %v; want 403", a)
	}
	if a := s.get("api.test", "/pets", &p.untrusted, p.roots, 0); a.status != 200 {
		t.Errorf("after the truststore file changed to another root, its client: %v; want 200", a)
	}

	// A block naming a missing truststore: logged, the old one serves.
	writeGWConfig(t, dir, target.URL, append(withListener, "truststore: truststore.pem", "truststore: nosuch.pem")...)
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(t, "the api_gateway block was not applied; the previous API Gateway configuration keeps serving")
	if !strings.Contains(s.stderr.String(), "api_gateway.domain_names[0].mutual_tls_authentication.truststore: open ") {
		t.Errorf("the failed reload does not name the key and the file:\n%s", s.stderr)
	}
	if a := s.get("api.test", "/pets", &p.untrusted, p.roots, 0); a.status != 200 {
		t.Errorf("after a failed reload: %v; want the previous truststore (200)", a)
	}

	s.stop(t)
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM\n%s", code, s.stderr)
	}
	if _, err := net.DialTimeout("tcp", s.gw, time.Second); err == nil {
		t.Errorf("the API Gateway listener %s still accepts after SIGTERM", s.gw)
	}
	if _, err := os.Stat(filepath.Join(dir, "ready.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ready file left after exit: %v", err)
	}
}

// edge serve --ready-file names the API Gateway listener (null without
// one), and a reload that moves api_gateway.listen rewrites it.
func TestServeAPIGatewayReadyFileFollowsListen(t *testing.T) {
	dir := t.TempDir()
	newGWPKI(t, dir)
	target := echoTarget(t)
	writeGWConfig(t, dir, target.URL)
	s := serveGW(t, dir)
	first := s.gw
	// Another loopback address, port 0 again: a new socket either way.
	writeGWConfig(t, dir, target.URL, "listen: 127.0.0.1:0", "listen: 127.0.0.2:0")
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(dir, "ready.json"))
		if strings.Contains(string(data), `"api_gateway_url": "https://127.0.0.2:`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ready file never named the new address:\n%s\n%s", data, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := net.DialTimeout("tcp", first, time.Second); err == nil {
		t.Errorf("the old address %s still accepts", first)
	}
}
