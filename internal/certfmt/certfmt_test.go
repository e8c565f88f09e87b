package certfmt_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"edge/internal/certfmt"
)

func TestSerial(t *testing.T) {
	for _, tc := range []struct {
		n    *big.Int
		want string
	}{
		{big.NewInt(2), "02"}, {big.NewInt(0x1C0FFEE), "01C0FFEE"}, {big.NewInt(0), "00"},
		{new(big.Int).SetUint64(0xFEF257372D5C14D4), "FEF257372D5C14D4"}, {big.NewInt(-5), "05"},
	} {
		if got := certfmt.Serial(&x509.Certificate{SerialNumber: tc.n}); got != tc.want {
			t.Errorf("Serial(%v) = %q; want %q", tc.n, got, tc.want)
		}
	}
}

func TestValidity(t *testing.T) {
	c := &x509.Certificate{
		NotBefore: time.Date(2023, 9, 21, 22, 43, 21, 0, time.UTC),
		NotAfter:  time.Date(2026, 6, 17, 22, 43, 21, 0, time.FixedZone("x", 3600)),
	}
	if got, want := certfmt.Validity(c), "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T21:43:21Z"; got != want {
		t.Errorf("Validity = %q; want %q", got, want)
	}
}

// DN keeps the encoded order (reversed, RFC 4514) and every attribute,
// which pkix.Name.String() would rebuild from parsed fields.
func TestDN(t *testing.T) {
	seq := pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "US"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 8}, Value: "Washington"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 7}, Value: "Seattle"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "endEntity"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "amazondomains.com"}},
	}
	raw, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := certfmt.DN(raw), "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US"; got != want {
		t.Errorf("DN = %q; want ALB's %q", got, want)
	}
	if got := certfmt.DN([]byte{0x30, 0x03, 0x01}); got != "" {
		t.Errorf("DN(garbage) = %q; want empty", got)
	}
}
