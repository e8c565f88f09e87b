// Package testutil holds helpers shared by edge's tests: the seed PKI of
// the trust-store experiment, access to ../shared conformance files, and a
// connection-log parser. Only tests import it.
package testutil

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/pki"
)

// Seed is the PKI of the trust-store experiment: root A with
// intermediates B and D, leaves C (under B) and E (under D); an unrelated
// root F with intermediate G and leaf H. The trust store holds A and B.
type Seed struct {
	A, B, D, F, G *pki.CA
	C, E, H       *pki.Issued
	// Dir holds bundle.pem (A then B).
	Dir        string
	BundlePath string
}

// NewSeed builds the seed PKI and writes its bundle into a temp dir.
func NewSeed(t testing.TB) *Seed {
	t.Helper()
	s := &Seed{Dir: t.TempDir()}
	s.A = Root(t, "A")
	s.B = Intermediate(t, s.A, "B")
	s.D = Intermediate(t, s.A, "D")
	s.C = Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "C"}})
	s.E = Client(t, s.D, pki.Options{Subject: pkix.Name{CommonName: "E"}})
	s.F = Root(t, "F")
	s.G = Intermediate(t, s.F, "G")
	s.H = Client(t, s.G, pki.Options{Subject: pkix.Name{CommonName: "H"}})
	s.BundlePath = filepath.Join(s.Dir, "bundle.pem")
	WriteFile(t, s.BundlePath, pki.CertPEM(s.A.Cert, s.B.Cert))
	return s
}

// Root creates a root CA named cn.
func Root(t testing.TB, cn string) *pki.CA {
	t.Helper()
	ca, err := pki.NewRoot(pki.Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"edge tests"}}})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// Intermediate creates an intermediate CA named cn under parent.
func Intermediate(t testing.TB, parent *pki.CA, cn string) *pki.CA {
	t.Helper()
	ca, err := parent.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"edge tests"}}})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// Client issues a client certificate under ca.
func Client(t testing.TB, ca *pki.CA, o pki.Options) *pki.Issued {
	t.Helper()
	is, err := ca.IssueClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// Expired returns options for a certificate that expired an hour ago.
func Expired(cn string) pki.Options {
	now := time.Now()
	return pki.Options{Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}
}

// NotYetValid returns options for a certificate valid from tomorrow.
func NotYetValid(cn string) pki.Options {
	now := time.Now()
	return pki.Options{Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)}
}

// ServerAuthOnly returns options for a leaf whose EKU is serverAuth only.
func ServerAuthOnly(cn string) pki.Options {
	return pki.Options{Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

// WriteFile writes data to path or fails the test.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// RepoRoot returns the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// SharedDir returns ../shared beside the repository, or skips the test
// with a clear message when it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("conformance files not available: %s is absent (it holds the Athena regexes and PKITS); skipping", dir)
	}
	return dir
}

// AthenaRegex is one of the Athena log regexes, anchored, with its column
// names.
type AthenaRegex struct {
	Re      *regexp.Regexp
	Columns []string
}

// Match returns the columns of line by name, or nil when it does not match.
func (a *AthenaRegex) Match(line string) map[string]string {
	m := a.Re.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(a.Columns))
	for i, c := range a.Columns {
		if i+1 < len(m) {
			out[c] = m[i+1]
		}
	}
	return out
}

// Athena loads ../shared/conformance/athena/<kind>-log.regex and its
// columns; kind is "connection" or "access". It skips the test when
// ../shared is absent.
func Athena(t testing.TB, kind string) *AthenaRegex {
	t.Helper()
	dir := filepath.Join(SharedDir(t), "conformance", "athena")
	re, err := os.ReadFile(filepath.Join(dir, kind+"-log.regex"))
	if err != nil {
		t.Fatal(err)
	}
	cols, err := os.ReadFile(filepath.Join(dir, kind+"-log.columns"))
	if err != nil {
		t.Fatal(err)
	}
	return &AthenaRegex{
		Re:      regexp.MustCompile("^" + strings.TrimSpace(string(re)) + "$"),
		Columns: strings.Fields(string(cols)),
	}
}

// ConnFieldNames are the 15 connection-log fields in ALB's order.
var ConnFieldNames = []string{
	"time", "client_ip", "client_port", "listener_port", "tls_protocol", "tls_cipher",
	"tls_handshake_latency", "leaf_client_cert_subject", "leaf_client_cert_validity",
	"leaf_client_cert_serial_number", "tls_verify_status", "conn_trace_id",
	"tls_keyexchange", "elb", "ip_address",
}

// ParseConnLine splits a connection-log line into its 15 named fields
// (the subject without its quotes), independently of the Athena regex, so
// tests can check values when ../shared is absent. It returns nil when the
// line does not have the 15-field shape.
func ParseConnLine(line string) map[string]string {
	open := strings.Index(line, ` "`)
	if open < 0 {
		return nil
	}
	closeQ := strings.Index(line[open+2:], `" `)
	if closeQ < 0 {
		return nil
	}
	head := strings.Split(line[:open], " ")
	subject := line[open+2 : open+2+closeQ]
	tail := strings.Split(line[open+2+closeQ+2:], " ")
	if len(head) != 7 || len(tail) != 7 {
		return nil
	}
	vals := append(append(head, subject), tail...)
	out := make(map[string]string, len(vals))
	for i, v := range vals {
		out[ConnFieldNames[i]] = v
	}
	return out
}

// OpenSSLCRL revokes certificates with `openssl ca` as the CRL tutorials
// do and writes ca's CRL into dir as name.pem and name.der (converted with
// `openssl crl -outform DER`). It skips the test when openssl is absent.
func OpenSSLCRL(t testing.TB, dir, name string, ca *pki.CA, revoke ...*x509.Certificate) (pemPath, derPath string) {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed (.ci/run installs it)")
	}
	work := filepath.Join(dir, name+".ca")
	WriteFile(t, filepath.Join(work, "index.txt"), nil)
	WriteFile(t, filepath.Join(work, "crlnumber"), []byte("01\n"))
	WriteFile(t, filepath.Join(work, "ca.pem"), pki.CertPEM(ca.Cert))
	key, err := pki.KeyPEM(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, filepath.Join(work, "ca.key"), key)
	cnf := fmt.Sprintf("[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 30\n",
		filepath.Join(work, "index.txt"), filepath.Join(work, "crlnumber"))
	WriteFile(t, filepath.Join(work, "ca.cnf"), []byte(cnf))
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	base := []string{"-config", filepath.Join(work, "ca.cnf"), "-keyfile", filepath.Join(work, "ca.key"), "-cert", filepath.Join(work, "ca.pem")}
	for i, c := range revoke {
		p := filepath.Join(work, fmt.Sprintf("revoke%d.pem", i))
		WriteFile(t, p, pki.CertPEM(c))
		run(append([]string{"ca", "-revoke", p}, base...)...)
	}
	pemPath, derPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".der")
	run(append([]string{"ca", "-gencrl", "-out", pemPath}, base...)...)
	run("crl", "-in", pemPath, "-outform", "DER", "-out", derPath)
	return pemPath, derPath
}
