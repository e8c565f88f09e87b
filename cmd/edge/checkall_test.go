package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// edge check reports every problem in one run, and configurations that
// cannot work: a server certificate whose chain stops below the root,
// without serverAuth, or without the names clients use; a log path it
// cannot write.
func TestCheckFindsEveryProblem(t *testing.T) {
	// leafOnly rewrites server.pem as the leaf alone (issued by the
	// intermediate B), or with opts as another certificate under B.
	reissue := func(t *testing.T, dir string, seed *testutil.Seed, o pki.Options, withChain bool) {
		t.Helper()
		is, err := seed.B.IssueServer(o)
		if err != nil {
			t.Fatal(err)
		}
		certs := []*x509.Certificate{is.Cert}
		if withChain {
			certs = is.ChainWithoutRoot()
		}
		testutil.WriteFile(t, filepath.Join(dir, "server.pem"), pki.CertPEM(certs...))
		key, _ := pki.KeyPEM(is.Key)
		testutil.WriteFile(t, filepath.Join(dir, "server.key"), key)
	}
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string, seed *testutil.Seed)
		want   []string // regexps, one per stderr line, in order
	}{
		{"unknown keys and a missing bundle together", func(t *testing.T, dir string, seed *testutil.Seed) {
			edit(t, dir, "    ssl_policy:", "    security_policy:")
			edit(t, dir, "name: my-alb", "name: my-alb\nidle_timeout: 30")
			os.Remove(filepath.Join(dir, "bundle.pem"))
		}, []string{`^edge\.yaml:2: unknown key "idle_timeout" at the top level`, `^edge\.yaml:10: unknown key "security_policy" in listeners\[0\]`,
			`bundle\.pem: cannot read the CA bundle: no such file or directory \(trust_stores\[0\]\.ca_certificates_bundle at edge\.yaml:7\)`}},
		{"a bad bundle hides no CRL problem in the same store", func(t *testing.T, dir string, seed *testutil.Seed) {
			os.Remove(filepath.Join(dir, "bundle.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "ca.crl"), []byte{0x30, 0x82, 0x01, 0x00, 0x30})
			edit(t, dir, "    ca_certificates_bundle: bundle.pem", "    ca_certificates_bundle: bundle.pem\n    revocations: [ca.crl]")
		}, []string{`bundle\.pem: cannot read the CA bundle: no such file or directory`, `ca\.crl: InvalidRevocationContent: .*DER; ALB takes PEM only: convert it with .openssl crl -inform DER -in ca\.crl -out ca\.crl\.pem.`}},
		{"unknown key hides no file problem", func(t *testing.T, dir string, seed *testutil.Seed) {
			edit(t, dir, "    ssl_policy:", "    security_policy:")
			edit(t, dir, "private_key: server.key", "private_key: other.key")
			edit(t, dir, "connection: file:logs/conn.log", "connection: file:edge.yaml/conn.log")
		}, []string{`^edge\.yaml:9: unknown key "security_policy" in listeners\[0\]`, `other\.key: the private key does not match`, `^edge\.yaml:3: logs\.connection: .* cannot be written`}},
		{"unknown key and a value problem", func(t *testing.T, dir string, seed *testutil.Seed) {
			edit(t, dir, "    ssl_policy:", "    security_policy:")
			edit(t, dir, "port: 18443", "port: 70000")
		}, []string{`^edge\.yaml:9: unknown key "security_policy"`, `^edge\.yaml:8: listeners\[0\]\.port: 70000 is not a port`}},
		{"intermediate-issued certificate without its chain", func(t *testing.T, dir string, seed *testutil.Seed) {
			reissue(t, dir, seed, pki.Options{}, false)
		}, []string{`^edge\.yaml:11: listeners\[0\]\.certificates\[0\]: the chain of "CN=localhost" stops below the root: its issuer "CN=B,O=edge tests" is an intermediate CA that is not sent .*certificate_chain`}},
		{"certificate_chain in the wrong order", func(t *testing.T, dir string, seed *testutil.Seed) {
			reissue(t, dir, seed, pki.Options{}, false)
			testutil.WriteFile(t, filepath.Join(dir, "chain.pem"), pki.CertPEM(seed.A.Cert, seed.B.Cert))
			edit(t, dir, "        private_key: server.key", "        private_key: server.key\n        certificate_chain: chain.pem")
		}, []string{`^edge\.yaml:13: listeners\[0\]\.certificates\[0\]\.certificate_chain: certificate #2 "CN=A,O=edge tests" did not issue #1 "CN=localhost"`}},
		{"client certificate as the server certificate", func(t *testing.T, dir string, seed *testutil.Seed) {
			reissue(t, dir, seed, pki.Options{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, true)
		}, []string{`^edge\.yaml:11: listeners\[0\]\.certificates\[0\]\.certificate: "CN=localhost" lacks the serverAuth extended key usage \(it has clientAuth\)`}},
		{"certificate without the names of the rules", func(t *testing.T, dir string, seed *testutil.Seed) {
			edit(t, dir, "    default_actions:", `    rules:
      - priority: 1
        conditions: [{field: host-header, values: [api.example.com, "*.example.org", localhost]}]
        actions: [{type: fixed-response, fixed_response_config: {status_code: "404"}}]
    default_actions:`)
		}, []string{`^edge\.yaml:18: listeners\[0\]\.rules\[0\]\.conditions\[0\]: no certificate of listeners\[0\] covers "api\.example\.com"`,
			`^edge\.yaml:18: listeners\[0\]\.rules\[0\]\.conditions\[0\]: no certificate of listeners\[0\] covers "\*\.example\.org"`}},
		{"certificate without the listener's host name", func(t *testing.T, dir string, seed *testutil.Seed) {
			edit(t, dir, "  - port: 18443", "  - port: 18443\n    address: edge.invalid")
		}, []string{`^edge\.yaml:9: listeners\[0\]\.address: no certificate of listeners\[0\] covers "edge\.invalid"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			seed := checkFixture(t, dir)
			tc.break_(t, dir, seed)
			out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
			if code != 1 {
				t.Fatalf("exit %d; want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d lines; want %d:\n%s", len(lines), len(tc.want), errOut)
			}
			for i, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(lines[i]) {
					t.Errorf("line %d = %q; want it to match %s", i, lines[i], w)
				}
			}
		})
	}
}

// What works passes: an edge pki server certificate with its chain, a
// certificate issued by the root itself, the dev PKI, a self-signed one.
func TestCheckAcceptsWorkingCertificates(t *testing.T) {
	work := t.TempDir()
	mustEdge(t, work, "pki", "init")
	mustEdge(t, work, "pki", "server", "--ca", "root", "--name", "direct")
	// A self-signed server certificate, as openssl req -x509 makes it.
	key, _ := pki.NewKey(pki.P256)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.KeyPEM(key)
	testutil.WriteFile(t, filepath.Join(work, "pki", "self.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	testutil.WriteFile(t, filepath.Join(work, "pki", "self.key"), keyPEM)
	for _, certs := range []string{
		"[{certificate: pki/server.pem, private_key: pki/server.key, certificate_chain: pki/server-chain.pem}]",
		"[{certificate: pki/server-fullchain.pem, private_key: pki/server.key}]",
		"[{certificate: pki/direct.pem, private_key: pki/direct.key}]",
		"[{certificate: pki/self.pem, private_key: pki/self.key}]",
		"[]",
	} {
		cfg := `logs: {connection: stdout, access: "off"}
trust_stores: [{name: s, ca_certificates_bundle: pki/bundle.pem}]
listeners:
  - port: 8443
    certificates: ` + certs + `
    mutual_authentication: {mode: verify, trust_store: s}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]
`
		testutil.WriteFile(t, filepath.Join(work, "edge.yaml"), []byte(cfg))
		if out, errOut, code := runEdge(t, work, "check", "-c", "edge.yaml"); code != 0 || strings.Contains(out, "note:") {
			t.Errorf("certificates %s: exit %d\n%s%s", certs, code, out, errOut)
		}
	}
}

// A chain whose issuer edge cannot see is a note, not a failure: the
// client may know it.
func TestCheckNotesUnknownIssuer(t *testing.T) {
	work := t.TempDir()
	seed := testutil.NewSeed(t)
	is, err := seed.G.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.KeyPEM(is.Key)
	testutil.WriteFile(t, filepath.Join(work, "srv", "s.pem"), pki.CertPEM(is.Cert))
	testutil.WriteFile(t, filepath.Join(work, "srv", "s.key"), key)
	testutil.WriteFile(t, filepath.Join(work, "edge.yaml"), []byte(`listeners:
  - certificates: [{certificate: srv/s.pem, private_key: srv/s.key}]
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]
`))
	out, errOut, code := runEdge(t, work, "check", "-c", "edge.yaml")
	if code != 0 || !strings.Contains(out, `note: srv/s.pem (listeners[0].certificates[0]): the chain ends at "CN=localhost", issued by "CN=G,O=edge tests", which edge cannot find`) {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
