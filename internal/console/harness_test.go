package console_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/config"
	"edge/internal/console"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// fixture is a real edge server with two verify-mode listeners and the
// admin API with the console in front of it:
//
//	listener #0 verifies against trust store "seed" (CAs A and B, and a
//	CRL of B that revokes Revoked);
//	listener #1 verifies against trust store "other" (CAs F and G).
//
// Listener #1 binds "localhost": two listeners of one protocol on
// 127.0.0.1 port 0 share a listener key today, and the server binds only
// one of them.
type fixture struct {
	t       testing.TB
	seed    *testutil.Seed
	revoked *pki.Issued
	srv     *server.Server
	con     *console.Console
	adm     *httptest.Server
	roots   *x509.CertPool
	addrs   []string
	token   string
}

type fixtureOptions struct {
	token string
	aws   console.AWSResources
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, seed: testutil.NewSeed(t), token: o.token, roots: x509.NewCertPool()}
	f.revoked = testutil.Client(t, f.seed.B, pki.Options{Subject: pkix.Name{CommonName: "revoked"}})
	serverCA := testutil.Root(t, "server root")
	f.roots.AddCert(serverCA.Cert)
	srvCert, err := serverCA.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srvCert.Save(dir, "server", false); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(dir, "other.pem"), pki.CertPEM(f.seed.F.Cert, f.seed.G.Cert))
	testutil.WriteFile(t, filepath.Join(dir, "b.crl.pem"), crlPEM(t, f.seed.B, 7, f.revoked.Cert))
	yaml := fmt.Sprintf(`name: console
logs: {connection: off, access: off}
trust_stores:
  - name: seed
    ca_certificates_bundle: %s
    revocations: [b.crl.pem]
  - name: other
    ca_certificates_bundle: other.pem
listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server.pem, private_key: server.key}]
    mutual_authentication: {mode: verify, trust_store: seed}
    default_actions:
      - type: fixed-response
        fixed_response_config: {status_code: "200", content_type: text/plain, message_body: "hello"}
  - port: 0
    address: localhost
    protocol: HTTPS
    certificates: [{certificate: server.pem, private_key: server.key}]
    mutual_authentication: {mode: verify, trust_store: other, ignore_client_certificate_expiry: true}
    default_actions:
      - type: fixed-response
        fixed_response_config: {status_code: "200", content_type: text/plain, message_body: "hello"}
`, f.seed.BundlePath)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(yaml))
	cfg, err := config.Load(filepath.Join(dir, "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = server.Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range f.srv.Addrs() {
		f.addrs = append(f.addrs, a.String())
	}
	var tok func() string
	if o.token != "" {
		tok = func() string { return f.token }
	}
	f.con = console.Attach(f.srv, admin.Handler(f.srv, o.token), console.Options{Token: tok, AWS: o.aws})
	f.adm = httptest.NewServer(f.con)
	t.Cleanup(func() {
		f.con.Close()
		f.adm.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.srv.Shutdown(ctx)
	})
	return f
}

// crlPEM is a PEM CRL of ca, numbered n, revoking certs.
func crlPEM(t testing.TB, ca *pki.CA, n int64, certs ...*x509.Certificate) []byte {
	t.Helper()
	now := time.Now()
	var entries []x509.RevocationListEntry
	for _, c := range certs {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: now.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(n), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: entries}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// connect makes one HTTPS request to listener i presenting is's chain
// (nil: no certificate) and returns the handshake's or request's error.
func (f *fixture) connect(i int, is *pki.Issued) error {
	cfg := &tls.Config{RootCAs: f.roots, ServerName: "localhost"}
	if is != nil {
		cfg.Certificates = []tls.Certificate{is.TLSCertificate()}
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + f.addrs[i] + "/hello?from=test")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// request sends a request to the admin listener; hdr is "Key: value"
// pairs.
func (f *fixture) request(method, path string, body io.Reader, hdr ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.adm.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// bearer is the admin API's header for the fixture's token.
func (f *fixture) bearer() string { return "Authorization: Bearer " + f.token }

// waitConns waits until the console's history holds n connections, by
// reading the feed page's newest sequence number.
func (f *fixture) waitRecent(n int) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if len(f.srv.RecentVerdicts()) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("only %d connections logged, want %d", len(f.srv.RecentVerdicts()), n)
}
