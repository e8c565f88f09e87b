package apigateway_test

import (
	"crypto/x509/pkix"
	"io"
	"net/http"
	"testing"
	"time"

	"edge/internal/apigateway"
	"edge/internal/pki"
	"edge/internal/testutil"
)

// BenchmarkTruststoreVerify measures one verification (once per
// connection) of a leaf under an intermediate against a 2-CA truststore.
func BenchmarkTruststoreVerify(b *testing.B) {
	root := testutil.Root(b, "R")
	inter := testutil.Intermediate(b, root, "I")
	leaf := testutil.Client(b, inter, pki.Options{Subject: pkix.Name{CommonName: "c"}})
	ts, _, err := apigateway.ParseTruststore(pki.CertPEM(root.Cert, inter.Cert), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if v := ts.Verify(leaf.ChainWithoutRoot(), now); !v.OK {
			b.Fatal(v.Reason)
		}
	}
}

// BenchmarkMTLSRequest measures a keep-alive request through an mTLS
// domain to an HTTP_PROXY target (verdict cached per connection).
func BenchmarkMTLSRequest(b *testing.B) {
	x := newH(b)
	w := setupWalkthrough(b, x, "api.test")
	c := x.client("api.test", tlsCert(w.client))
	c.Transport.(*http.Transport).DisableKeepAlives = false
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get("https://api.test/pets")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}
