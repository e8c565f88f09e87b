package certfmt_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/url"
	"strings"
	"testing"

	"edge/internal/certfmt"
)

// FuzzDN: any bytes as a DER name give a string, and HeaderSafe of it is
// a valid header value.
func FuzzDN(f *testing.F) {
	for _, n := range []pkix.Name{{CommonName: "C", Organization: []string{"edge tests"}}, {CommonName: "a,b+c\"d\\e\nf", Country: []string{"US"}}} {
		der, _ := asn1.Marshal(n.ToRDNSequence())
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		dn := certfmt.DN(der)
		if h := certfmt.HeaderSafe(dn); strings.ContainsFunc(h, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("HeaderSafe(%q) = %q keeps a control character", dn, h)
		}
	})
}

// FuzzHeaderEncoding: the X-Amzn-Mtls-Clientcert encoding uses only
// ALB's safe characters and %XX, and decodes back without loss.
func FuzzHeaderEncoding(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB+/==\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0, 0xff, ' ', '%', '+'})
	f.Fuzz(func(t *testing.T, in []byte) {
		enc := certfmt.URLEncode(in)
		for i := 0; i < len(enc); i++ {
			c := enc[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~+/%", c) >= 0) {
				t.Fatalf("encoded value has %q", c)
			}
		}
		dec, err := url.PathUnescape(enc)
		if err != nil || dec != string(in) {
			t.Fatalf("round trip: %q -> %q -> %q (%v)", in, enc, dec, err)
		}
	})
}
