package truststore_test

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"edge/internal/pemfile"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// The same CRL bytes read twice (the ELBv2 service's check, then the
// build that applies them) give equal, independent lists: building a
// store from one (which releases its signed bytes) leaves the other able
// to check its signature against any CA, as a fresh parse would.
func TestParseCRLTwiceGivesIndependentLists(t *testing.T) {
	ca := testutil.Root(t, "cache ca")
	other := testutil.Root(t, "other ca")
	data := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER(t, ca, 3)})
	a, err := truststore.ParseCRL(pemfile.File("a.pem"), data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := truststore.New("s", []*x509.Certificate{ca.Cert}, []truststore.RevocationInput{{Source: "a.pem", List: a}}, truststore.Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := truststore.ReadCRL("b.pem", data)
	if err != nil {
		t.Fatal(err)
	}
	if b.List == a || b.List.Entries != 3 || b.List.Entries != a.Entries || !b.List.ThisUpdate.Equal(a.ThisUpdate) {
		t.Fatalf("second read: %+v", b.List)
	}
	if err := b.List.CheckSignatureFrom(ca.Cert); err != nil {
		t.Errorf("the second list lost its signed bytes: %v", err)
	}
	if err := b.List.CheckSignatureFrom(other.Cert); err == nil {
		t.Errorf("a foreign CA's signature check passed")
	}
	if _, err := truststore.ParseCRL(pemfile.File("c.pem"), append([]byte("junk"), data...)); err == nil {
		t.Errorf("other bytes were answered from the cache")
	}
}

// Reading the same CRL bytes again does not parse them again: the second
// read of a 10,000-entry CRL allocates a copy of the list, not an index.
func TestReadCRLAgainDoesNotParse(t *testing.T) {
	ca := testutil.Root(t, "again ca")
	data := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER(t, ca, 10_000)})
	if _, err := truststore.ReadCRL("x.pem", data); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := truststore.ReadCRL("x.pem", data); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 50 {
		t.Errorf("reading the same CRL again made %.0f allocations; a parse makes thousands", allocs)
	}
}

// A CRL read again is not parsed again: the second read of a large CRL
// costs a hash, not a parse.
func BenchmarkReadCRLAgain(b *testing.B) {
	ca := testutil.Root(b, "big ca")
	data := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER(b, ca, 1_000_000)})
	if _, err := truststore.ReadCRL("big.pem", data); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := truststore.ReadCRL("big.pem", data); err != nil {
			b.Fatal(err)
		}
	}
}
