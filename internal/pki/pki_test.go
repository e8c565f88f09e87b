package pki_test

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	gopkcs12 "software.sslmate.com/src/go-pkcs12"

	"edge/internal/pki"
)

func TestDevPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".edge")
	d, err := pki.EnsureDev(dir)
	if err != nil || !d.Created {
		t.Fatalf("EnsureDev: %v created=%v", err, d != nil && d.Created)
	}
	again, err := pki.EnsureDev(dir)
	if err != nil || again.Created || !again.Root.Cert.Equal(d.Root.Cert) {
		t.Fatalf("second EnsureDev did not reuse the PKI: %v", err)
	}
	client, err := pki.Load(dir, "client")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(d.Root.Cert)
	inter := x509.NewCertPool()
	for _, c := range client.Chain {
		inter.AddCert(c)
	}
	if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client.pem does not verify to root.pem as a client certificate: %v", err)
	}
	p12, err := os.ReadFile(filepath.Join(dir, pki.DevClientP12File))
	if err != nil {
		t.Fatal(err)
	}
	key, cert, cas, err := gopkcs12.DecodeChain(p12, pki.DevClientP12Password)
	if err != nil || key == nil || !cert.Equal(client.Cert) || len(cas) != 1 {
		t.Fatalf("client.p12: %v (cas %d)", err, len(cas))
	}
	if openssl, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.Command(openssl, "pkcs12", "-in", filepath.Join(dir, pki.DevClientP12File), "-passin", "pass:"+pki.DevClientP12Password, "-noout").CombinedOutput()
		if err != nil {
			t.Errorf("openssl cannot read client.p12: %v\n%s", err, out)
		}
	}
	for _, f := range []string{"root.key", "intermediate.key", "server.key", "client.key", "client.p12"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
		}
	}
	if err := client.Save(dir, "client", false); err == nil {
		t.Error("Save overwrote an existing file without force")
	}
}
