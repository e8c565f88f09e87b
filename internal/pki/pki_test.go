package pki_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	if len(client.Chain) != 0 {
		t.Errorf("client.pem holds %d certificates besides the leaf; the naming rule wants it alone", len(client.Chain))
	}
	chainPEM, err := os.ReadFile(filepath.Join(dir, pki.ChainFile("client")))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := pki.ParseCertsPEM(chainPEM)
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	for _, c := range chain {
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

// A dev server certificate for an unspecified address covers the
// machine's addresses and host name, so clients elsewhere can verify it.
func TestDevServerNames(t *testing.T) {
	dns, ips := pki.DevServerNames("0.0.0.0")
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	has := func(ip net.IP) bool {
		for _, have := range ips {
			if have.Equal(ip) {
				return true
			}
		}
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsMulticast() && !has(n.IP) {
			t.Errorf("0.0.0.0: the dev certificate lacks the interface address %s (has %v)", n.IP, ips)
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		found := false
		for _, n := range dns {
			found = found || n == h
		}
		if !found {
			t.Errorf("0.0.0.0: the dev certificate lacks the host name %q (has %v)", h, dns)
		}
	}
	if dns, ips := pki.DevServerNames("127.0.0.1"); len(dns) != 1 || len(ips) != 2 {
		t.Errorf("127.0.0.1: %v %v; want localhost, 127.0.0.1 and ::1 only", dns, ips)
	}
	if dns, _ := pki.DevServerNames("edge.test"); len(dns) != 2 || dns[1] != "edge.test" {
		t.Errorf("edge.test: %v", dns)
	}
}

// An encrypted private key says so and how to decrypt it.
func TestParseKeyPEMEncrypted(t *testing.T) {
	for _, b := range []*pem.Block{
		{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x00}},
		{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{0x30, 0x00}},
	} {
		_, err := pki.ParseKeyPEM(pem.EncodeToMemory(b))
		if !errors.Is(err, pki.ErrEncryptedKey) || !strings.Contains(err.Error(), "openssl pkey -in key.pem -out key-decrypted.pem") {
			t.Errorf("%s: %v", b.Type, err)
		}
	}
	c := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}})
	if _, err := pki.ParseKeyPEM(c); err == nil || !strings.Contains(err.Error(), `holds "CERTIFICATE"`) {
		t.Errorf("a certificate as the key: %v", err)
	}
}
