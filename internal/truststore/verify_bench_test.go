package truststore_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// BenchmarkVerify measures Store.Verify in alb mode for the seed chain
// A-B-C: "cached" is a returning client (the verified-chain cache), "new"
// a different client every time (path building and signature checks).
// It isolates the handshake's verification CPU from TLS and scheduling.
//
//	go test -run '^$' -bench Verify -benchtime 2000x ./internal/truststore/
func BenchmarkVerify(b *testing.B) {
	s := testutil.NewSeed(b)
	store, err := truststore.New("bench", []*x509.Certificate{s.A.Cert, s.B.Cert}, nil, truststore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		chain := s.C.ChainWithoutRoot()
		store.Verify(chain, truststore.VerifyOptions{})
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if v := store.Verify(chain, truststore.VerifyOptions{}); v.Status != truststore.Success {
				b.Fatal(v.Detail)
			}
		}
	})
	b.Run("new", func(b *testing.B) {
		chains := make([][]*x509.Certificate, b.N)
		for i := range chains {
			chains[i] = testutil.Client(b, s.B, pki.Options{Subject: pkix.Name{CommonName: "bench"}}).ChainWithoutRoot()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if v := store.Verify(chains[i], truststore.VerifyOptions{}); v.Status != truststore.Success {
				b.Fatal(v.Detail)
			}
		}
	})
}
