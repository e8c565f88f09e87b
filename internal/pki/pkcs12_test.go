package pki_test

import (
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gopkcs12 "software.sslmate.com/src/go-pkcs12"

	"edge/internal/pki"
)

// Both encodings decode (go-pkcs12, an independent reader) to the key,
// the leaf and the chain without the root, with the friendly name on the
// leaf's and the key's bags, for EC and RSA keys, with a non-ASCII name
// and password.
func TestPKCS12RoundTrip(t *testing.T) {
	root, err := pki.NewRoot(pki.Options{Subject: pkix.Name{CommonName: "root"}})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "inter"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, kt := range []pki.KeyType{pki.P256, pki.RSA2048} {
		client, err := inter.IssueClient(pki.Options{Subject: pkix.Name{CommonName: "Jöhn Dœ"}, KeyType: kt})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []pki.PKCS12Options{
			{Password: "edge"},
			{Password: "pässwörd", Legacy: true},
			{Password: "", FriendlyName: "laptop (test)"},
		} {
			data, err := client.PKCS12(o)
			if err != nil {
				t.Fatalf("%s %+v: %v", kt, o, err)
			}
			key, cert, cas, err := gopkcs12.DecodeChain(data, o.Password)
			if err != nil || key == nil || !cert.Equal(client.Cert) || len(cas) != 1 || !cas[0].Equal(inter.Cert) {
				t.Fatalf("%s %+v: decode: %v (cas %d)", kt, o, err, len(cas))
			}
			blocks, err := gopkcs12.ToPEM(data, o.Password)
			if err != nil {
				t.Fatalf("%s %+v: ToPEM: %v", kt, o, err)
			}
			want := o.FriendlyName
			if want == "" {
				want = "Jöhn Dœ"
			}
			named := 0
			for _, b := range blocks {
				if b.Headers["friendlyName"] == want {
					named++
				}
			}
			if named != 2 {
				t.Errorf("%s %+v: friendlyName %q on %d bags; want the leaf's and the key's", kt, o, want, named)
			}
		}
	}
}

// A name or password PKCS#12 cannot carry is refused before anything is
// issued or written.
func TestPKCS12NotBMPRefusedFirst(t *testing.T) {
	d := &pki.Dir{Path: t.TempDir()}
	if _, err := d.NewCA("root", "", pki.Options{Subject: pkix.Name{CommonName: "root"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p12 pki.PKCS12Options
		cn  string
	}{
		{pki.PKCS12Options{Password: "edge", FriendlyName: "laptop 💻"}, "ok"},
		{pki.PKCS12Options{Password: "edge"}, "emoji 😀"},
		{pki.PKCS12Options{Password: "🔑"}, "ok"},
	} {
		_, err := d.Client("c", "root", c.p12, pki.Options{Subject: pkix.Name{CommonName: c.cn}})
		if !errors.Is(err, pki.ErrNotBMP) || !strings.Contains(err.Error(), "PKCS#12") {
			t.Errorf("%+v %q: %v; want ErrNotBMP", c.p12, c.cn, err)
		}
		if _, err := os.Stat(filepath.Join(d.Path, "c.pem")); err == nil {
			t.Fatalf("%+v: c.pem written before the refusal", c.p12)
		}
	}
}
