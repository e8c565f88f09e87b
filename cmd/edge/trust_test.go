package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// checkOneLine runs edge check in dir and wants exit 1 with exactly one
// stderr line matching re.
func checkOneLine(t *testing.T, dir, re string) {
	t.Helper()
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if code != 1 || len(lines) != 1 || !regexp.MustCompile(re).MatchString(lines[0]) {
		t.Errorf("exit %d; want 1 and one stderr line matching %s\nstdout: %s\nstderr:\n%s", code, re, out, errOut)
	}
}

func opensslPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed (.ci/run installs it)")
	}
	return p
}

func runOpenSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(opensslPath(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Issue 13 item 5: the common mistakes in a bundle, a certificate or a
// CRL file get one error that says what the file is and how to fix it.
func TestCheckFileMistakes(t *testing.T) {
	opensslPath(t)
	bundleKey := "\\(trust_stores\\[0\\]\\.ca_certificates_bundle at edge\\.yaml:6\\)"
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   string
	}{
		{"DER bundle", func(t *testing.T, dir string) {
			runOpenSSL(t, dir, "x509", "-in", "bundle.pem", "-outform", "DER", "-out", "bundle.der")
			os.Rename(filepath.Join(dir, "bundle.der"), filepath.Join(dir, "bundle.pem"))
		}, "bundle\\.pem: InvalidCaCertificatesBundle: the file is a DER certificate; ALB takes PEM only: convert it with `openssl x509 -inform DER -in .*bundle\\.pem -out .*bundle\\.pem\\.pem` " + bundleKey},
		{"openssl text dump in bundle", func(t *testing.T, dir string) {
			dump := runOpenSSL(t, dir, "x509", "-in", "bundle.pem", "-text")
			b, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append([]byte(dump), b...))
		}, "bundle\\.pem:1: InvalidCaCertificatesBundle: lines 1-\\d+: text outside a PEM block \\(`openssl x509 -text` output\\); .*sed -n '/\\^-----BEGIN/,/\\^-----END/p' .*bundle\\.pem > .*bundle\\.pem\\.pem` " + bundleKey},
		{"byte-order mark in bundle", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append([]byte("\xEF\xBB\xBF"), b...))
		}, "bundle\\.pem:1: InvalidCaCertificatesBundle: the file starts with a UTF-8 byte-order mark.*sed -i '1s/\\^\\\\xEF\\\\xBB\\\\xBF//' .*bundle\\.pem` " + bundleKey},
		{"trailing spaces in bundle", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), bytes.ReplaceAll(b, []byte("\n"), []byte(" \n")))
		}, "bundle\\.pem:1: InvalidCaCertificatesBundle: lines 1-\\d+: trailing spaces or tabs on a PEM line; remove them with `sed -i 's/\\[\\[:space:\\]\\]\\*\\$//' .*bundle\\.pem` " + bundleKey},
		{"DER server certificate", func(t *testing.T, dir string) {
			runOpenSSL(t, dir, "x509", "-in", "server.pem", "-outform", "DER", "-out", "server.der")
			edit(t, dir, "certificate: server.pem", "certificate: server.der")
		}, "server\\.der: the file is a DER certificate; ALB takes PEM only: convert it with `openssl x509 -inform DER -in .*server\\.der -out .*server\\.der\\.pem` \\(listeners\\[0\\]\\.certificates\\[0\\]\\.certificate at edge\\.yaml:11\\)"},
		{"byte-order mark in server certificate", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "server.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "server.pem"), append([]byte("\xEF\xBB\xBF"), b...))
		}, "server\\.pem: the file starts with a UTF-8 byte-order mark"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			checkFixture(t, dir)
			tc.break_(t, dir)
			checkOneLine(t, dir, tc.want)
		})
	}
}

// Issue 12 item 4 and issue 11 item 9: edge check refuses a DER CRL (with
// the conversion command) and a file holding several CRLs (with how many
// and where), each as InvalidRevocationContent, and exits 1.
func TestCheckCRLFileRules(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	revoked := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "revoked"}})
	_, bDER := testutil.OpenSSLCRL(t, dir, "b", seed.B, revoked.Cert)
	aPEM, _ := testutil.OpenSSLCRL(t, dir, "a", seed.A, seed.D.Cert)
	bPEM := filepath.Join(dir, "b.pem")
	edit(t, dir, "    ca_certificates_bundle: bundle.pem", "    ca_certificates_bundle: bundle.pem\n    revocations: [b.der]")
	checkOneLine(t, dir, "^b\\.der: InvalidRevocationContent: the file is a DER CRL; ALB takes PEM only: convert it with `openssl crl -inform DER -in .*b\\.der -out .*b\\.der\\.pem` \\(trust_stores\\[0\\]\\.revocations\\[0\\] at edge\\.yaml:\\d+\\)$")
	if _, err := os.Stat(bDER); err != nil {
		t.Fatal(err)
	}

	// cat root.crl.pem intermediate.crl.pem > all.pem, the nginx habit.
	a, _ := os.ReadFile(aPEM)
	b, _ := os.ReadFile(bPEM)
	testutil.WriteFile(t, filepath.Join(dir, "all.pem"), append(append([]byte{}, a...), b...))
	edit(t, dir, "revocations: [b.der]", "revocations: [all.pem]")
	checkOneLine(t, dir, "^all\\.pem: InvalidRevocationContent: the file holds 2 CRLs \\(PEM blocks at lines 1, \\d+\\); ALB takes one CRL per revocation file: split it with `csplit .*all\\.pem.*` and list each file under revocations")

	// Split, both apply.
	edit(t, dir, "revocations: [all.pem]", "revocations: [a.pem, b.pem]")
	if out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml"); code != 0 || !strings.Contains(out, "TotalRevokedEntries=2") {
		t.Errorf("split CRLs: exit %d\n%s%s", code, out, errOut)
	}
}

// Issue 13 item 11: edge verify loads through the same loader as edge
// check: the same CRL rules and the 50 MB limit (checked before reading),
// and the same certificate-file errors.
func TestVerifyUsesTheLoader(t *testing.T) {
	dir := t.TempDir()
	seed := testutil.NewSeed(t)
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), pki.CertPEM(seed.A.Cert, seed.B.Cert))
	testutil.WriteFile(t, filepath.Join(dir, "c.pem"), pki.CertPEM(seed.C.ChainWithoutRoot()...))
	testutil.WriteFile(t, filepath.Join(dir, "c.der"), seed.C.Cert.Raw)
	aPEM, aDER := testutil.OpenSSLCRL(t, dir, "a", seed.A)
	bPEM, _ := testutil.OpenSSLCRL(t, dir, "b", seed.B)
	a, _ := os.ReadFile(aPEM)
	b, _ := os.ReadFile(bPEM)
	testutil.WriteFile(t, filepath.Join(dir, "all.pem"), append(append([]byte{}, a...), b...))
	big := filepath.Join(dir, "big.pem")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(50<<20 + 1) // sparse: no disk needed
	f.Close()
	verify := func(extra ...string) (string, int) {
		_, errOut, code := runEdge(t, dir, append([]string{"verify", "--trust-store-bundle", "bundle.pem", "--cert", "c.pem"}, extra...)...)
		return errOut, code
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--crl", "big.pem"}, "big.pem: InvalidRevocationContent: the CRL file is 52428801 bytes; ALB allows at most 50 MB"},
		{[]string{"--crl", aDER}, "InvalidRevocationContent: the file is a DER CRL; ALB takes PEM only: convert it with `openssl crl -inform DER"},
		{[]string{"--crl", "all.pem"}, "all.pem: InvalidRevocationContent: the file holds 2 CRLs"},
	} {
		if errOut, code := verify(tc.args...); code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("verify %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
	_, errOut, code := runEdge(t, dir, "verify", "--trust-store-bundle", "bundle.pem", "--cert", "c.der")
	if code != 1 || !strings.Contains(errOut, "c.der: the file is a DER certificate; ALB takes PEM only: convert it with `openssl x509 -inform DER -in c.der -out c.der.pem`") {
		t.Errorf("DER chain: exit %d, stderr %q", code, errOut)
	}
	if out, _, code := runEdge(t, dir, "verify", "--trust-store-bundle", "bundle.pem", "--cert", "c.pem", "--crl", aPEM, "--crl", bPEM); code != 0 {
		t.Errorf("PEM CRLs: exit %d\n%s", code, out)
	}
}

// opensslCRLExts writes ca's CRL made by `openssl ca -gencrl -crlexts`
// with the extension lines exts, as dir/name.pem.
func opensslCRLExts(t *testing.T, dir, name string, ca *pki.CA, exts string) string {
	t.Helper()
	opensslPath(t)
	work := filepath.Join(dir, name+".ca")
	testutil.WriteFile(t, filepath.Join(work, "index.txt"), nil)
	testutil.WriteFile(t, filepath.Join(work, "crlnumber"), []byte("02\n"))
	testutil.WriteFile(t, filepath.Join(work, "ca.pem"), pki.CertPEM(ca.Cert))
	key, _ := pki.KeyPEM(ca.Key)
	testutil.WriteFile(t, filepath.Join(work, "ca.key"), key)
	testutil.WriteFile(t, filepath.Join(work, "ca.cnf"), []byte("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n[exts]\n"+exts+"\n"))
	out := filepath.Join(dir, name+".pem")
	runOpenSSL(t, work, "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-gencrl", "-crlexts", "exts", "-out", out)
	return out
}

// Issue 11 item 11 with openssl-made CRLs: edge check refuses a delta CRL
// and an indirect CRL in alb mode, saying why, and notes in strict mode
// what it does with them.
func TestCheckDeltaAndIndirectCRLs(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	opensslCRLExts(t, dir, "delta", seed.B, "2.5.29.27 = critical,DER:02:01:01")
	opensslCRLExts(t, dir, "indirect", seed.B, "issuingDistributionPoint = critical, @idp\n[idp]\nindirectCRL = TRUE")
	edit(t, dir, "    ca_certificates_bundle: bundle.pem", "    ca_certificates_bundle: bundle.pem\n    revocations: [delta.pem]")
	checkOneLine(t, dir, `trust_stores\[0\]\.revocations: InvalidRevocationContent: .*delta\.pem: is a delta CRL \(deltaCRLIndicator, base CRL number 1\); revocation_check: alb applies complete CRLs only`)
	edit(t, dir, "revocations: [delta.pem]", "revocations: [indirect.pem]")
	checkOneLine(t, dir, `trust_stores\[0\]\.revocations: InvalidRevocationContent: .*indirect\.pem: is an indirect CRL \(issuingDistributionPoint indirectCRL\)`)
	edit(t, dir, "revocations: [indirect.pem]", "revocations: [delta.pem, indirect.pem]\n    revocation_check: strict")
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 0 || !strings.Contains(out, "delta.pem is a delta CRL of base CRL number 1; strict mode applies it") || !strings.Contains(out, "indirect.pem is an indirect CRL; strict mode applies") {
		t.Errorf("strict: exit %d\n%s%s", code, out, errOut)
	}
}

// opensslIssue issues a client certificate for cn under ca with `openssl
// ca` (as the CRL tutorials do), with its extensions section exts and any
// extra arguments (-startdate/-enddate), and returns the certificate file
// (openssl ca writes its text dump before the PEM block).
func opensslIssue(t *testing.T, dir, name string, ca *pki.CA, cn string, args ...string) string {
	t.Helper()
	opensslPath(t)
	work := filepath.Join(dir, name+".ca")
	testutil.WriteFile(t, filepath.Join(work, "index.txt"), nil)
	testutil.WriteFile(t, filepath.Join(work, "serial"), []byte("1000\n"))
	testutil.WriteFile(t, filepath.Join(work, "ca.pem"), pki.CertPEM(ca.Cert))
	key, _ := pki.KeyPEM(ca.Key)
	testutil.WriteFile(t, filepath.Join(work, "ca.key"), key)
	testutil.WriteFile(t, filepath.Join(work, "ca.cnf"), []byte(`[ca]
default_ca = d
[d]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
default_days = 30
policy = any
unique_subject = no
[any]
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
`))
	runOpenSSL(t, work, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-subj", "/CN="+cn, "-out", "leaf.csr")
	out := filepath.Join(dir, name+".pem")
	runOpenSSL(t, work, append([]string{"ca", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-in", "leaf.csr", "-extensions", "client", "-out", out}, args...)...)
	return out
}

// Issue 12 item 1 with an openssl-made leaf: a client certificate
// back-dated with `openssl ca -startdate -enddate` to before its CA
// existed is Failed:ClientCertExpired, and Success with --ignore-expiry
// (ignore_client_certificate_expiry): the leaf's dates play no part.
func TestVerifyIgnoreExpiryBackdatedLeaf(t *testing.T) {
	dir := t.TempDir()
	seed := testutil.NewSeed(t) // B is valid from an hour ago
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), pki.CertPEM(seed.A.Cert, seed.B.Cert))
	leaf := opensslIssue(t, dir, "backdated", seed.B, "backdated", "-startdate", "20200101000000Z", "-enddate", "20210101000000Z")
	args := []string{"verify", "--trust-store-bundle", "bundle.pem", "--cert", leaf}
	if out, errOut, code := runEdge(t, dir, args...); code != 1 || !strings.Contains(out, "tls_verify_status: Failed:ClientCertExpired") {
		t.Errorf("without --ignore-expiry: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runEdge(t, dir, append(args, "--ignore-expiry")...); code != 0 || !strings.Contains(out, "tls_verify_status: Success") {
		t.Errorf("--ignore-expiry: exit %d\n%s%s", code, out, errOut)
	}
	aCRL, _ := testutil.OpenSSLCRL(t, dir, "a", seed.A)
	bCRL, _ := testutil.OpenSSLCRL(t, dir, "b", seed.B)
	if out, errOut, code := runEdge(t, dir, append(args, "--ignore-expiry", "--revocation-check", "strict", "--crl", aCRL, "--crl", bCRL)...); code != 0 || !strings.Contains(out, "tls_verify_status: Success") {
		t.Errorf("--ignore-expiry, strict: exit %d\n%s%s", code, out, errOut)
	}
}

// opensslNegativeSerial issues a client certificate for cn under ca with
// serial -0x1234 (`openssl x509 -req -set_serial`), writing name.pem and
// name.key into dir.
func opensslNegativeSerial(t *testing.T, dir, name string, ca *pki.CA, cn string) (certPath, keyPath string) {
	t.Helper()
	opensslPath(t)
	work := filepath.Join(dir, name+".work")
	testutil.WriteFile(t, filepath.Join(work, "ca.pem"), pki.CertPEM(ca.Cert))
	key, _ := pki.KeyPEM(ca.Key)
	testutil.WriteFile(t, filepath.Join(work, "ca.key"), key)
	testutil.WriteFile(t, filepath.Join(work, "ext.cnf"), []byte("[client]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n"))
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	runOpenSSL(t, work, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-subj", "/CN="+cn, "-out", "leaf.csr")
	runOpenSSL(t, work, "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "-0x1234", "-days", "30", "-extfile", "ext.cnf", "-extensions", "client", "-out", certPath)
	return certPath, keyPath
}

// Issue 12 item 2 with openssl-made inputs: a CRL entry for a certificate
// with a negative serial has no effect (ALB cannot revoke such
// certificates); edge check and edge verify say so, and the verdict is
// Success.
func TestNegativeSerialCRLEntryHasNoEffect(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	neg, _ := opensslNegativeSerial(t, dir, "neg", seed.B, "negative")
	der, err := pemDER(neg)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := testutil.OpenSSLCRL(t, dir, "b", seed.B, &x509.Certificate{Raw: der})
	if out := runOpenSSL(t, dir, "crl", "-in", crl, "-noout", "-text"); !strings.Contains(out, "Serial Number: -1234") {
		t.Fatalf("openssl did not list the negative serial:\n%s", out)
	}
	edit(t, dir, "    ca_certificates_bundle: bundle.pem", "    ca_certificates_bundle: bundle.pem\n    revocations: [b.pem]")
	note := "b.pem: 1 entry has a negative serial number; ALB cannot revoke certificates with negative serial numbers, so it has no effect"
	if out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml"); code != 0 || !strings.Contains(out, "note: "+note) {
		t.Errorf("check: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := runEdge(t, dir, "verify", "--trust-store-bundle", "bundle.pem", "--crl", "b.pem", "--cert", neg)
	if code != 0 || !strings.Contains(out, "tls_verify_status: Success") || !strings.Contains(out, "serial -1234 of \"CN=negative\" is listed by CRL 1 (b.pem), but ALB cannot revoke certificates with negative serial numbers: the entry has no effect") || !strings.Contains(out, "note: "+note) {
		t.Errorf("verify: exit %d\n%s%s", code, out, errOut)
	}
}

func pemDER(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, os.ErrInvalid
	}
	return blk.Bytes, nil
}

// Issue 12 item 3 with openssl-made CA certificates: edge check refuses a
// bundle whose CA has a 1024-bit RSA key or is signed with SHA-1, naming
// the index, subject and rule; a root that signs itself with SHA-1 is
// accepted with a note.
func TestCheckBundleCARequirements(t *testing.T) {
	dir := t.TempDir()
	checkFixture(t, dir)
	bundle, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
	runOpenSSL(t, dir, "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", "weak.key", "-subj", "/CN=weak", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-out", "weak.pem")
	runOpenSSL(t, dir, "req", "-x509", "-sha1", "-newkey", "rsa:2048", "-nodes", "-keyout", "old.key", "-subj", "/CN=old root", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-out", "old.pem")
	testutil.WriteFile(t, filepath.Join(dir, "ca.cnf"), []byte("[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = keyCertSign, cRLSign\n"))
	runOpenSSL(t, dir, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "sha1.key", "-subj", "/CN=sha1 intermediate", "-out", "sha1.csr")
	runOpenSSL(t, dir, "x509", "-req", "-sha1", "-in", "sha1.csr", "-CA", "old.pem", "-CAkey", "old.key", "-set_serial", "7", "-days", "30", "-extfile", "ca.cnf", "-extensions", "ca", "-out", "sha1.pem")
	read := func(n string) []byte { b, _ := os.ReadFile(filepath.Join(dir, n)); return b }

	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append(append([]byte{}, bundle...), read("weak.pem")...))
	checkOneLine(t, dir, `^bundle\.pem:\d+: InvalidCaCertificatesBundle: certificate #3: "CN=weak" has a 1024-bit RSA key; ALB requires RSA keys of 2048 to 8192 bits or ECDSA keys on P-256, P-384 or P-521 \(trust_stores\[0\]\.ca_certificates_bundle at edge\.yaml:6\)$`)

	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append(append(append([]byte{}, bundle...), read("old.pem")...), read("sha1.pem")...))
	checkOneLine(t, dir, `^bundle\.pem:\d+: InvalidCaCertificatesBundle: certificate #4: "CN=sha1 intermediate" is signed with SHA1-RSA; ALB requires SHA-256, SHA-384 or SHA-512 with RSA, RSASSA-PSS or ECDSA`)

	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append(append([]byte{}, bundle...), read("old.pem")...))
	if out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml"); code != 0 || !strings.Contains(out, `note: CA #3 "CN=old root" signs itself with SHA1-RSA; a root's own signature is never verified, so edge accepts it`) {
		t.Errorf("SHA-1 self-signed root: exit %d\n%s%s", code, out, errOut)
	}
}

// Issue 12 item 3: edge pki bundle does not write a bundle edge or ALB
// would refuse (here 26 CAs; ALB allows 25).
func TestPKIBundleRefusesWhatALBRefuses(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := 1; i <= 26; i++ {
		n := "ca" + strconv.Itoa(i)
		mustEdge(t, dir, "pki", "ca", "--name", n)
		names = append(names, n)
	}
	if out := mustEdge(t, dir, append([]string{"pki", "bundle", "--out", "ok.pem"}, names[:25]...)...); !strings.Contains(out, "wrote ok.pem") {
		t.Errorf("25 CAs: %s", out)
	}
	_, errOut, code := runEdge(t, dir, append([]string{"pki", "bundle", "--out", "bad.pem"}, names...)...)
	if code != 1 || !strings.Contains(errOut, "not writing bad.pem, as edge and ALB would refuse it: InvalidCaCertificatesBundle: bundle has 26 certificates; ALB allows at most 25 per trust store") {
		t.Errorf("26 CAs: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.pem")); err == nil {
		t.Error("bad.pem was written")
	}
}

// Issue 12 item 7: edge verify counts depth as AWS does, on both sides of
// the limit, and says what it counted.
func TestVerifyChainDepth(t *testing.T) {
	dir := t.TempDir()
	seed := testutil.NewSeed(t)
	i1 := testutil.Intermediate(t, seed.A, "I1")
	i2 := testutil.Intermediate(t, i1, "I2")
	i3 := testutil.Intermediate(t, i2, "I3")
	i4 := testutil.Intermediate(t, i3, "I4")
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), pki.CertPEM(seed.A.Cert))
	testutil.WriteFile(t, filepath.Join(dir, "four.pem"), pki.CertPEM(testutil.Client(t, i3, pki.Options{}).ChainWithoutRoot()...))
	testutil.WriteFile(t, filepath.Join(dir, "five.pem"), pki.CertPEM(testutil.Client(t, i4, pki.Options{}).ChainWithoutRoot()...))
	if out, _, code := runEdge(t, dir, "verify", "--trust-store-bundle", "bundle.pem", "--cert", "four.pem"); code != 0 || !strings.Contains(out, "tls_verify_status: Success") {
		t.Errorf("root + 3 intermediates + leaf: exit %d\n%s", code, out)
	}
	if out, _, code := runEdge(t, dir, "verify", "--trust-store-bundle", "bundle.pem", "--cert", "five.pem"); code != 1 || !strings.Contains(out, "Failed:ClientCertMaxChainDepthExceeded") ||
		!strings.Contains(out, "the chain has 5 CA certificates above the leaf, up to the root; ALB's maximum chain depth is 4") {
		t.Errorf("root + 4 intermediates + leaf: exit %d\n%s", code, out)
	}
}
