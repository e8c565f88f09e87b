package truststore_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"edge/internal/pemfile"
	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

func crlDER(t testing.TB, ca *pki.CA, n int, extra ...x509.RevocationListEntry) []byte {
	t.Helper()
	now := time.Now()
	entries := make([]x509.RevocationListEntry, 0, n+len(extra))
	for i := 0; i < n; i++ {
		b := make([]byte, 16)
		rand.Read(b)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(b), RevocationTime: now})
	}
	entries = append(entries, extra...)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseCRLMatchesGo(t *testing.T) {
	ca := testutil.Root(t, "crl ca")
	serial := big.NewInt(0x1C0FFEE)
	der := crlDER(t, ca, 50, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: time.Now(), ReasonCode: 1})
	for _, form := range []struct {
		name  string
		parse func() (*truststore.RevocationList, error)
	}{
		{"DER", func() (*truststore.RevocationList, error) { return truststore.ParseCRLDER(der) }},
		{"PEM", func() (*truststore.RevocationList, error) {
			return truststore.ParseCRL(pemfile.File("ca.crl.pem"), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
		}},
	} {
		l, err := form.parse()
		if err != nil {
			t.Fatalf("%s: %v", form.name, err)
		}
		goL, _ := x509.ParseRevocationList(der)
		if l.Entries != 51 || string(l.RawIssuer) != string(goL.RawIssuer) || !l.ThisUpdate.Equal(goL.ThisUpdate) || !l.NextUpdate.Equal(goL.NextUpdate) || l.Number.Cmp(goL.Number) != 0 {
			t.Errorf("%s: header differs from Go's parse", form.name)
		}
		if l.SignatureAlgorithm != goL.SignatureAlgorithm {
			t.Errorf("%s: signature algorithm %v; want %v", form.name, l.SignatureAlgorithm, goL.SignatureAlgorithm)
		}
		if r, ok := l.Lookup("", true, serial.Bytes()); !ok || r != 1 {
			t.Errorf("%s: serial not found (reason %d, %v)", form.name, r, ok)
		}
		for _, e := range goL.RevokedCertificateEntries {
			if _, ok := l.Lookup("", true, e.SerialNumber.Bytes()); !ok {
				t.Fatalf("%s: serial %x missing", form.name, e.SerialNumber)
			}
		}
		if err := l.CheckSignatureFrom(ca.Cert); err != nil {
			t.Errorf("%s: signature: %v", form.name, err)
		}
		other := testutil.Root(t, "other")
		if err := l.CheckSignatureFrom(other.Cert); err == nil {
			t.Errorf("%s: signature verified with the wrong key", form.name)
		}
	}
}

func TestParseCRLErrors(t *testing.T) {
	ca := testutil.Root(t, "crl ca")
	der := crlDER(t, ca, 3)
	crlPEM := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"whitespace", []byte("\n \n"), "the file is empty"},
		{"garbage", []byte("this is not a CRL"), `no PEM "X509 CRL" block`},
		{"truncated PEM", crlPEM[:100], "broken PEM"},
		{"corrupt PEM body", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der[:len(der)/2]}), "not a DER CRL"},
		{"certificate PEM", pki.CertPEM(ca.Cert), `line 1: PEM block is "CERTIFICATE", want "X509 CRL"`},
		{"certificate DER", ca.Cert.Raw, "the file is a DER certificate, not a CRL in PEM form"},
		// Issue 12 item 4: ALB takes PEM CRLs only.
		{"DER CRL", der, "the file is a DER CRL; ALB takes PEM only: convert it with `openssl crl -inform DER -in ca.crl -out ca.crl.pem`"},
		{"truncated DER", der[:len(der)/2], "the file is binary DER; ALB takes PEM only"},
		{"byte-order mark", append([]byte("\xEF\xBB\xBF"), crlPEM...), "byte-order mark"},
		// Issue 11 item 9: several CRLs in one file.
		{"two CRLs", append(append([]byte{}, crlPEM...), crlPEM...), "the file holds 2 CRLs (PEM blocks at lines 1, " + strconv.Itoa(bytes.Count(crlPEM, []byte("\n"))+1) + "); ALB takes one CRL per revocation file"},
	} {
		_, err := truststore.ParseCRL(pemfile.File("ca.crl"), tc.data)
		if err == nil || !errors.Is(err, truststore.ErrInvalidRevocationContent) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want InvalidRevocationContent containing %q", tc.name, err, tc.want)
		}
	}
	var multi *truststore.MultipleCRLsError
	if _, err := truststore.ParseCRL(pemfile.File("all.pem"), bytes.Repeat(crlPEM, 3)); !errors.As(err, &multi) || len(multi.Lines) != 3 {
		t.Errorf("three CRLs: %v; want a *MultipleCRLsError with 3 lines", err)
	}
	// From S3: the split runs on a downloaded copy and the pieces go back
	// next to the object.
	_, err := truststore.ParseCRL(pemfile.Object("my-trust-bucket", "crl/all.pem"), bytes.Repeat(crlPEM, 2))
	if want := "split it with `aws s3 cp s3://my-trust-bucket/crl/all.pem all.pem && csplit -z -f crl- -b %02d.pem all.pem '/-----BEGIN X509 CRL-----/' '{*}' && for f in crl-*.pem; do aws s3 cp \"$f\" s3://my-trust-bucket/crl/\"$f\"; done` and add each object as its own revocation"; !errors.As(err, &multi) || !strings.Contains(err.Error(), want) {
		t.Errorf("two CRLs in an object: %v\nwant %s", err, want)
	}
	var pe *pemfile.Error
	if _, err := truststore.ParseCRL(pemfile.File("ca.der"), der); !errors.As(err, &pe) || pe.Kind != pemfile.DER {
		t.Errorf("DER CRL: %v; want a *pemfile.Error of kind DER", err)
	}
	// Text around the block (openssl crl -text output) is accepted, as
	// OpenSSL and Go read it.
	if _, err := truststore.ParseCRL(pemfile.File("ca.crl"), append([]byte("Certificate Revocation List (CRL):\n  Version 2 (0x1)\n"), crlPEM...)); err != nil {
		t.Errorf("CRL after its text dump: %v", err)
	}
}

func TestRevocationIDsNeverReused(t *testing.T) {
	ca := testutil.Root(t, "ca")
	mk := func(src string, n int) truststore.RevocationInput {
		l, err := truststore.ParseCRLDER(crlDER(t, ca, n))
		if err != nil {
			t.Fatal(err)
		}
		return truststore.RevocationInput{Source: src, List: l, Digest: [32]byte{byte(n)}}
	}
	ids := truststore.NewRevocationIDs()
	build := func(ins ...truststore.RevocationInput) []int64 {
		s, err := truststore.New("s", []*x509.Certificate{ca.Cert}, ins, truststore.Options{IDs: ids})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, c := range s.CRLs {
			out = append(out, c.ID)
		}
		return out
	}
	a, b, c := mk("a.crl", 1), mk("b.crl", 2), mk("c.crl", 3)
	if got := build(a, b, c); !equal(got, 1, 2, 3) {
		t.Fatalf("first load ids = %v; want 1 2 3", got)
	}
	if got := build(a, c); !equal(got, 1, 3) {
		t.Fatalf("after removing b: %v; want 1 3", got)
	}
	if got := build(a, b, c); !equal(got, 1, 4, 3) {
		t.Fatalf("b re-added: %v; want 1 4 3 (a removed id is never reused)", got)
	}
	changed := mk("a.crl", 5)
	if got := build(changed, b, c); !equal(got, 5, 4, 3) {
		t.Fatalf("a changed: %v; want 5 4 3", got)
	}
}

// Pinned ids (revocations[].revocation_id) are used as given; unpinned
// CRLs count on from the highest id before them, skip pinned ids, and
// never get an id the store had before.
func TestRevocationIDsPinned(t *testing.T) {
	ca := testutil.Root(t, "ca")
	mk := func(src string, n int, pin int64) truststore.RevocationInput {
		l, err := truststore.ParseCRLDER(crlDER(t, ca, n))
		if err != nil {
			t.Fatal(err)
		}
		return truststore.RevocationInput{Source: src, List: l, Digest: [32]byte{byte(n)}, ID: pin}
	}
	ids := truststore.NewRevocationIDs()
	build := func(ins ...truststore.RevocationInput) []int64 {
		s, err := truststore.New("s", []*x509.Certificate{ca.Cert}, ins, truststore.Options{IDs: ids})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, c := range s.CRLs {
			out = append(out, c.ID)
		}
		return out
	}
	a, b, c, d := mk("a.crl", 1, 0), mk("b.crl", 2, 7), mk("c.crl", 3, 0), mk("d.crl", 4, 0)
	if got := build(a, b, c); !equal(got, 1, 7, 8) {
		t.Fatalf("first load: %v; want 1 7 8 (one more than the highest id before each)", got)
	}
	if got := build(a, b, c, d); !equal(got, 1, 7, 8, 9) {
		t.Fatalf("d added: %v; want 1 7 8 9", got)
	}
	if got := build(a, c, d); !equal(got, 1, 8, 9) {
		t.Fatalf("pinned b removed: %v; want 1 8 9", got)
	}
	e := mk("e.crl", 5, 0)
	if got := build(e, a, c, d); !equal(got, 10, 1, 8, 9) {
		t.Fatalf("e added first: %v; want 10 1 8 9 (7 stays retired)", got)
	}
	// A pin on an id an unchanged CRL holds moves that CRL on.
	f := mk("f.crl", 6, 1)
	if got := build(f, a); !equal(got, 1, 11) {
		t.Fatalf("f pins a's id: %v; want 1 11", got)
	}
	// In a fresh numbering, an unpinned CRL before a pin skips the pinned id.
	ids = truststore.NewRevocationIDs()
	if got := build(mk("x.crl", 7, 0), mk("y.crl", 8, 1)); !equal(got, 2, 1) {
		t.Fatalf("unpinned before pinned 1: %v; want 2 1", got)
	}
}

func equal(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestRevocationQuotas(t *testing.T) {
	ca := testutil.Root(t, "ca")
	l, _ := truststore.ParseCRLDER(crlDER(t, ca, 10))
	var ins []truststore.RevocationInput
	for i := 0; i < 31; i++ {
		ins = append(ins, truststore.RevocationInput{Source: "x.crl", List: l, Digest: [32]byte{byte(i)}})
	}
	_, err := truststore.New("s", []*x509.Certificate{ca.Cert}, ins, truststore.Options{})
	if err == nil || !strings.Contains(err.Error(), "31 revocation lists; ALB allows at most 30") {
		t.Errorf("31 CRLs: %v", err)
	}
	_, err = truststore.New("s", []*x509.Certificate{ca.Cert}, ins[:2], truststore.Options{MaxRevocationEntries: 15})
	if err == nil || !strings.Contains(err.Error(), "TooManyTrustStoreRevocationEntries") {
		t.Errorf("entry limit: %v", err)
	}
}

func FuzzParseCRL(f *testing.F) {
	ca, _ := pki.NewRoot(pki.Options{})
	der := crlDER(f, ca, 3, x509.RevocationListEntry{SerialNumber: big.NewInt(1), RevocationTime: time.Now(), ReasonCode: 6})
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	f.Add([]byte{0x30, 0x00})
	f.Add(append(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := truststore.ParseCRL(pemfile.File("fuzz.pem"), data); err != nil && !errors.Is(err, truststore.ErrInvalidRevocationContent) {
			t.Fatalf("error without InvalidRevocationContent: %v", err)
		}
		l, err := truststore.ParseCRLDER(data)
		if err != nil {
			if !errors.Is(err, truststore.ErrInvalidRevocationContent) {
				t.Fatalf("error without InvalidRevocationContent: %v", err)
			}
			return
		}
		if l.Entries < 0 {
			t.Fatal("negative entries")
		}
		// Whatever Go's parser accepts must agree on the entry count.
		if goL, err := x509.ParseRevocationList(data); err == nil && len(goL.RevokedCertificateEntries) != l.Entries {
			t.Fatalf("entries %d; Go says %d", l.Entries, len(goL.RevokedCertificateEntries))
		}
	})
}

// BenchmarkLoadMillionEntryCRL reports the time and the extra live heap
// of loading a 1,000,000-entry CRL into a trust store.
//
//	go test -run '^$' -bench MillionEntryCRL -benchtime 3x ./internal/truststore/
func BenchmarkLoadMillionEntryCRL(b *testing.B) {
	ca := testutil.Root(b, "big ca")
	der := crlDER(b, ca, 1_000_000)
	b.ResetTimer()
	var heapMB float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		l, err := truststore.ParseCRLDER(der)
		if err != nil {
			b.Fatal(err)
		}
		s, err := truststore.New("big", []*x509.Certificate{ca.Cert}, []truststore.RevocationInput{{Source: "big.crl", List: l}}, truststore.Options{MaxRevocationEntries: 2_000_000})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heapMB = float64(m1.HeapAlloc-m0.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(heapMB, "heap-MB")
	b.ReportMetric(float64(len(der))/(1<<20), "file-MB")
}

// A CRL of the issuer that is not valid yet cannot be processed at
// handshake time (alb mode).
func TestCRLNotYetValidIsProcessingError(t *testing.T) {
	s := testutil.NewSeed(t)
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(24 * time.Hour), NextUpdate: now.Add(48 * time.Hour),
	}, s.B.Cert, s.B.Key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := truststore.ParseCRLDER(der)
	if err != nil {
		t.Fatal(err)
	}
	store := newStore(t, "future", []*x509.Certificate{s.A.Cert, s.B.Cert}, truststore.RevocationInput{Source: "future.crl", List: l})
	if v := store.Verify(s.C.ChainWithoutRoot(), truststore.VerifyOptions{}); v.Status != truststore.ClientCertCrlProcessingError {
		t.Fatalf("status = %s (%s); want Failed:ClientCertCrlProcessingError", v.Status, v.Detail)
	}
}

// In strict mode a certificate whose issuer has no CRL has an unknown
// status; in alb mode it is not revoked.
func TestStrictNeedsCRLs(t *testing.T) {
	s := testutil.NewSeed(t)
	crlA, _ := truststore.ParseCRLDER(crlDER(t, s.A, 0))
	crlB, _ := truststore.ParseCRLDER(crlDER(t, s.B, 0))
	for _, tc := range []struct {
		mode truststore.RevocationMode
		crls []truststore.RevocationInput
		want truststore.Status
	}{
		{truststore.RevocationALB, nil, truststore.Success},
		{truststore.RevocationStrict, nil, truststore.ClientCertUntrusted},
		{truststore.RevocationStrict, []truststore.RevocationInput{{Source: "a", List: crlA}}, truststore.ClientCertUntrusted},
		{truststore.RevocationStrict, []truststore.RevocationInput{{Source: "a", List: crlA}, {Source: "b", List: crlB}}, truststore.Success},
	} {
		store, err := truststore.New("s", []*x509.Certificate{s.A.Cert, s.B.Cert}, tc.crls, truststore.Options{Revocation: tc.mode})
		if err != nil {
			t.Fatal(err)
		}
		if v := store.Verify(s.C.ChainWithoutRoot(), truststore.VerifyOptions{}); v.Status != tc.want {
			t.Errorf("%s with %d CRLs: %s (%s); want %s", tc.mode, len(tc.crls), v.Status, v.Detail, tc.want)
		}
	}
}

// The verified-chain cache never outlives a certificate's validity.
func TestVerifiedChainCacheHonoursTime(t *testing.T) {
	s := testutil.NewSeed(t)
	store := newStore(t, "cache", []*x509.Certificate{s.A.Cert, s.B.Cert})
	chain := s.C.ChainWithoutRoot()
	if v := store.Verify(chain, truststore.VerifyOptions{}); v.Status != truststore.Success {
		t.Fatal(v.Detail)
	}
	later := s.C.Cert.NotAfter.Add(time.Hour)
	if v := store.Verify(chain, truststore.VerifyOptions{Now: later}); v.Status != truststore.ClientCertExpired {
		t.Errorf("after the leaf expired: %s; the cache must not answer Success", v.Status)
	}
	if v := store.Verify(chain, truststore.VerifyOptions{Now: later, IgnoreExpiry: true}); v.Status != truststore.Success {
		t.Errorf("expired leaf with IgnoreExpiry: %s", v.Status)
	}
	if v := store.Verify(chain, truststore.VerifyOptions{Now: s.C.Cert.NotBefore.Add(-time.Hour)}); v.Status != truststore.ClientCertNotYetValid {
		t.Errorf("before notBefore: %s", v.Status)
	}
}
