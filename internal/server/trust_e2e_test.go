// ALB accepts client certificates with negative serial numbers (it only
// cannot revoke them), and so does the edge binary (cmd/edge/main.go).
//
//go:debug x509negativeserial=1

package server_test

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/testutil"
)

// adminClient starts the admin API of e with a token and returns a
// request helper.
func adminClient(t *testing.T, e *edge) func(method, path string, body []byte) (int, string) {
	t.Helper()
	e.srv.SetLoader(func() (*config.Config, error) { return config.Load(e.cfgPath) })
	adm := httptest.NewServer(admin.Handler(e.srv, "s3cret"))
	t.Cleanup(adm.Close)
	return func(method, path string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, adm.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
}

// Issue 12 item 4 and issue 11 item 9 through the admin API: a DER CRL
// and a body with two CRLs are refused as InvalidRevocationContent, with
// the conversion command and the count, and change nothing.
func TestAdminRevocationFileRules(t *testing.T) {
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	bPEM, bDER := testutil.OpenSSLCRL(t, dir, "b", seed.B, seed.C.Cert)
	aPEM, _ := testutil.OpenSSLCRL(t, dir, "a", seed.A)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	do := adminClient(t, e)
	der := readFile(t, bDER)
	if code, body := do("POST", "/trust-stores/seed/revocations", der); code != 400 || !strings.Contains(body, `"Code": "InvalidRevocationContent"`) ||
		!strings.Contains(body, "the file is a DER CRL; ALB takes PEM only: convert it with `openssl crl -inform DER -in FILE -out FILE.pem`") {
		t.Errorf("DER CRL: %d %s", code, body)
	}
	both := append(readFile(t, aPEM), readFile(t, bPEM)...)
	if code, body := do("POST", "/trust-stores/seed/revocations", both); code != 400 || !strings.Contains(body, `"Code": "InvalidRevocationContent"`) ||
		!strings.Contains(body, "the file holds 2 CRLs") {
		t.Errorf("two CRLs: %d %s", code, body)
	}
	if code, body := do("GET", "/trust-stores/seed/revocations", nil); code != 200 || strings.Contains(body, "RevocationId") {
		t.Errorf("refused uploads changed the trust store: %d %s", code, body)
	}
	if !handshake(e.addr, e.clientTLS(seed.C, nil)) {
		t.Error("C refused after refused uploads")
	}
	if code, body := do("POST", "/trust-stores/seed/revocations", readFile(t, bPEM)); code != 200 || !strings.Contains(body, `"RevocationId": 1`) {
		t.Errorf("PEM CRL: %d %s", code, body)
	}
	if handshake(e.addr, e.clientTLS(seed.C, nil)) {
		t.Error("C accepted after its CRL was added")
	}
}

// Issue 11 item 10: a file CRL removed through the admin API is removed
// by its content. When the file is rewritten (to revoke a compromised
// client) the new CRL applies at the next reload, with a new id.
func TestRemovedFileCRLAppliesWhenRewritten(t *testing.T) {
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	empty, _ := testutil.OpenSSLCRL(t, dir, "b-empty", seed.B)
	withC, _ := testutil.OpenSSLCRL(t, dir, "b-c", seed.B, seed.C.Cert)
	crlPath := filepath.Join(dir, "b.crl.pem")
	testutil.WriteFile(t, crlPath, readFile(t, empty))
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, crls: []string{crlPath}})
	do := adminClient(t, e)
	if code, body := do("DELETE", "/trust-stores/seed/revocations/1", nil); code != 200 {
		t.Fatalf("remove: %d %s", code, body)
	}
	if code, body := do("POST", "/reload", nil); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	if code, body := do("GET", "/trust-stores/seed/revocations", nil); code != 200 || strings.Contains(body, "RevocationId") {
		t.Fatalf("the removed CRL came back on reload: %d %s", code, body)
	}
	testutil.WriteFile(t, crlPath, readFile(t, withC))
	if code, body := do("POST", "/reload", nil); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	if handshake(e.addr, e.clientTLS(seed.C, nil)) {
		t.Error("C accepted after the removed CRL file was rewritten to revoke it")
	}
	if code, body := do("GET", "/trust-stores/seed/revocations", nil); code != 200 || !strings.Contains(body, `"RevocationId": 2`) || !strings.Contains(body, `"NumberOfRevokedEntries": 1`) {
		t.Errorf("rewritten CRL: %d %s; want revocation id 2 with 1 entry", code, body)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Issue 12 item 1 over a real handshake: with
// ignore_client_certificate_expiry a leaf back-dated before its CA existed
// logs Success and reaches the target; a leaf under an expired
// intermediate still fails.
func TestIgnoreExpiryBackdatedLeafHandshake(t *testing.T) {
	seed := testutil.NewSeed(t)
	now := time.Now()
	backdated := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "backdated"}, NotBefore: now.AddDate(-3, 0, 0), NotAfter: now.AddDate(-2, 0, 0)})
	oldCA, err := seed.B.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "old-ca"}, NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	underOld := testutil.Client(t, oldCA, pki.Options{Subject: pkix.Name{CommonName: "under-old"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(48 * time.Hour)})
	e := startEdge(t, seed, listenerYAML{mtls: "{mode: verify, trust_store: seed, ignore_client_certificate_expiry: true}"})
	code, _, port, err := e.get(e.clientTLS(backdated, nil))
	if err != nil || code != 200 {
		t.Fatalf("back-dated leaf: %d %v; want 200", code, err)
	}
	_, _, portOld, err := e.get(e.clientTLS(underOld, nil))
	if err == nil {
		t.Error("leaf under an expired intermediate: request succeeded")
	}
	lines := e.byPort()
	checkLine(t, lines[port], certFields(backdated, map[string]string{"tls_verify_status": "Success"}))
	checkLine(t, lines[portOld], certFields(underOld, map[string]string{"tls_verify_status": "Failed:ClientCertExpired"}))
}

// Issue 12 item 2 over a real handshake: a client whose certificate has a
// negative serial number (made by openssl; Go refuses to create one) and
// is listed on its issuer's CRL gets in: ALB cannot revoke such
// certificates.
func TestNegativeSerialClientIsNotRevoked(t *testing.T) {
	openssl := lookTool(t, "openssl")
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "ca.pem"), pki.CertPEM(seed.B.Cert))
	caKey, _ := pki.KeyPEM(seed.B.Key)
	testutil.WriteFile(t, filepath.Join(dir, "ca.key"), caKey)
	testutil.WriteFile(t, filepath.Join(dir, "ext.cnf"), []byte("[client]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n"))
	for _, args := range [][]string{
		{"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "neg.key", "-subj", "/CN=negative", "-out", "neg.csr"},
		{"x509", "-req", "-in", "neg.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "-0x1234", "-days", "30", "-extfile", "ext.cnf", "-extensions", "client", "-out", "neg.pem"},
	} {
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	certs, err := pki.ParseCertsPEM(readFile(t, filepath.Join(dir, "neg.pem")))
	if err != nil || certs[0].SerialNumber.Sign() >= 0 {
		t.Fatalf("negative-serial certificate: %v", err)
	}
	key, err := pki.ParseKeyPEM(readFile(t, filepath.Join(dir, "neg.key")))
	if err != nil {
		t.Fatal(err)
	}
	neg := &pki.Issued{Cert: certs[0], Key: key, Chain: []*x509.Certificate{seed.B.Cert}}
	crl, _ := testutil.OpenSSLCRL(t, dir, "b", seed.B, neg.Cert, seed.C.Cert)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, crls: []string{crl}})
	code, _, port, err := e.get(e.clientTLS(neg, nil))
	if err != nil || code != 200 {
		t.Fatalf("negative serial listed on the CRL: %d %v; want 200", code, err)
	}
	_, _, portC, err := e.get(e.clientTLS(seed.C, nil))
	if err == nil {
		t.Error("C (positive serial, on the same CRL) got in")
	}
	lines := e.byPort()
	checkLine(t, lines[port], certFields(neg, map[string]string{"tls_verify_status": "Success"}))
	checkLine(t, lines[portC], certFields(seed.C, map[string]string{"tls_verify_status": "Failed:ClientCertCrlHit"}))
}

// Issue 12 item 7 over a real handshake: root + 3 intermediates + leaf
// (the client sends the intermediates) gets in; one intermediate more is
// Failed:ClientCertMaxChainDepthExceeded.
func TestChainDepthLimitHandshake(t *testing.T) {
	seed := testutil.NewSeed(t)
	i1 := testutil.Intermediate(t, seed.A, "I1")
	i2 := testutil.Intermediate(t, i1, "I2")
	i3 := testutil.Intermediate(t, i2, "I3")
	i4 := testutil.Intermediate(t, i3, "I4")
	four := testutil.Client(t, i3, pki.Options{Subject: pkix.Name{CommonName: "four CAs"}})
	five := testutil.Client(t, i4, pki.Options{Subject: pkix.Name{CommonName: "five CAs"}})
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	code, _, portFour, err := e.get(e.clientTLS(four, nil))
	if err != nil || code != 200 {
		t.Errorf("root + 3 intermediates + leaf: %d %v; want 200", code, err)
	}
	_, _, portFive, err := e.get(e.clientTLS(five, nil))
	if err == nil {
		t.Error("root + 4 intermediates + leaf: request succeeded")
	}
	lines := e.byPort()
	checkLine(t, lines[portFour], certFields(four, map[string]string{"tls_verify_status": "Success"}))
	checkLine(t, lines[portFive], certFields(five, map[string]string{"tls_verify_status": "Failed:ClientCertMaxChainDepthExceeded"}))
}
