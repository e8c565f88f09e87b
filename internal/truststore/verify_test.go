package truststore_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

func newStore(t *testing.T, name string, cas []*x509.Certificate, crls ...truststore.RevocationInput) *truststore.Store {
	t.Helper()
	s, err := truststore.New(name, cas, crls, truststore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func chain(is *pki.Issued) []*x509.Certificate { return is.ChainWithoutRoot() }

func TestVerifySeedAndFailureClasses(t *testing.T) {
	s := testutil.NewSeed(t)
	store := newStore(t, "seed", []*x509.Certificate{s.A.Cert, s.B.Cert})

	expired := testutil.Client(t, s.B, testutil.Expired("expired"))
	future := testutil.Client(t, s.B, testutil.NotYetValid("future"))
	serverOnly := testutil.Client(t, s.B, testutil.ServerAuthOnly("server-only"))
	noEKU := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "no-eku"}, NoExtKeyUsage: true})
	ed := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "ed25519"}, KeyType: pki.Ed25519})
	smallKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	small := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "rsa1024"}, Key: smallKey})

	// An intermediate under B that has expired, with a valid leaf.
	now := time.Now()
	oldCA, err := s.B.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "old-ca"}, NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	underOld := testutil.Client(t, oldCA, pki.Options{Subject: pkix.Name{CommonName: "under-old"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(48 * time.Hour)})

	// Depth 5 (five CAs above the leaf): A -> I1 -> I2 -> I3 -> I4 -> leaf,
	// client sends leaf, I4, I3, I2, I1.
	i1 := testutil.Intermediate(t, s.A, "I1")
	i2 := testutil.Intermediate(t, i1, "I2")
	i3 := testutil.Intermediate(t, i2, "I3")
	i4 := testutil.Intermediate(t, i3, "I4")
	deep := testutil.Client(t, i4, pki.Options{Subject: pkix.Name{CommonName: "deep"}})
	// Depth 4 is allowed: A -> I1 -> I2 -> I3 -> leaf.
	four := testutil.Client(t, i3, pki.Options{Subject: pkix.Name{CommonName: "four"}})

	big := bigChain(t, s.B)

	tests := []struct {
		name         string
		presented    []*x509.Certificate
		ignoreExpiry bool
		want         truststore.Status
		wantDepth    int
	}{
		{"A-B-C leaf only", []*x509.Certificate{s.C.Cert}, false, truststore.Success, 0},
		{"A-B-C with B", chain(s.C), false, truststore.Success, 0},
		{"A-D-E client sends D", chain(s.E), false, truststore.Success, 0},
		{"A-D-E without D", []*x509.Certificate{s.E.Cert}, false, truststore.ClientCertUntrusted, 0},
		{"F-G-H", chain(s.H), false, truststore.ClientCertUntrusted, 0},
		{"self-signed root F", []*x509.Certificate{s.F.Cert}, false, truststore.ClientCertUntrusted, 0},
		{"expired leaf", chain(expired), false, truststore.ClientCertExpired, 0},
		{"expired leaf, ignore expiry", chain(expired), true, truststore.Success, 0},
		{"not yet valid", chain(future), false, truststore.ClientCertNotYetValid, 0},
		{"not yet valid, ignore expiry (the leaf's dates play no part)", chain(future), true, truststore.Success, 0},
		{"expired intermediate", chain(underOld), false, truststore.ClientCertExpired, 1},
		{"expired intermediate, ignore expiry", chain(underOld), true, truststore.ClientCertExpired, 1},
		{"serverAuth only", chain(serverOnly), false, truststore.ClientCertPurposeInvalid, 0},
		{"no EKU allows client auth", chain(noEKU), false, truststore.Success, 0},
		{"depth 4", chain(four), false, truststore.Success, 0},
		{"depth 5", chain(deep), false, truststore.ClientCertMaxChainDepthExceeded, 0},
		{"six certificates sent", append(chain(deep), s.A.Cert), false, truststore.ClientCertMaxChainDepthExceeded, 0},
		{"five certificates sent, depth 4", append(chain(four), s.A.Cert), false, truststore.Success, 0},
		{"ed25519 key", chain(ed), false, truststore.ClientCertTypeUnsupported, 0},
		{"rsa 1024 key", chain(small), false, truststore.ClientCertTypeUnsupported, 0},
		{"chain over 64 KB", big, false, truststore.ClientCertMaxSizeExceeded, 0},
		{"no certificate", nil, false, truststore.UnmappedConnectionError, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := store.Verify(tc.presented, truststore.VerifyOptions{IgnoreExpiry: tc.ignoreExpiry})
			if v.Status != tc.want {
				t.Fatalf("status = %s (%s); want %s", v.Status, v.Detail, tc.want)
			}
			if tc.want != truststore.Success && v.Cert != nil && v.Depth != tc.wantDepth {
				t.Errorf("depth = %d; want %d (%s)", v.Depth, tc.wantDepth, v.Detail)
			}
			if v.Detail == "" {
				t.Error("verdict has no detail")
			}
		})
	}
}

// bigChain returns a leaf under ca followed by copies of ca's certificate
// padded past the 64 KB limit with a large subject.
func bigChain(t *testing.T, ca *pki.CA) []*x509.Certificate {
	t.Helper()
	leaf := testutil.Client(t, ca, pki.Options{Subject: pkix.Name{CommonName: "big", OrganizationalUnit: []string{strings.Repeat("x", 15000)}}})
	out := []*x509.Certificate{leaf.Cert}
	for i := 0; i < 4; i++ {
		out = append(out, leaf.Cert)
	}
	total := 0
	for _, c := range out {
		total += len(c.Raw)
	}
	if total <= truststore.MaxChainSize {
		t.Fatalf("test chain is only %d bytes", total)
	}
	return out
}

func TestVerifyCRL(t *testing.T) {
	s := testutil.NewSeed(t)
	revokedLeaf := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "revoked"}})
	crl := makeCRL(t, s.B, revokedLeaf.Cert.SerialNumber)
	// A CRL of A revoking intermediate D.
	crlA := makeCRL(t, s.A, s.D.Cert.SerialNumber)
	store := newStore(t, "crl", []*x509.Certificate{s.A.Cert, s.B.Cert},
		truststore.RevocationInput{Source: "b.crl", List: crl},
		truststore.RevocationInput{Source: "a.crl", List: crlA})

	if got := store.TotalRevokedEntries(); got != 2 {
		t.Errorf("TotalRevokedEntries = %d; want 2", got)
	}
	if store.CRLs[0].ID != 1 || store.CRLs[1].ID != 2 {
		t.Errorf("revocation ids = %d, %d; want 1, 2", store.CRLs[0].ID, store.CRLs[1].ID)
	}
	for _, tc := range []struct {
		name      string
		presented []*x509.Certificate
		want      truststore.Status
	}{
		{"revoked leaf", chain(revokedLeaf), truststore.ClientCertCrlHit},
		{"other leaf of B", chain(s.C), truststore.Success},
		{"leaf under revoked intermediate D", chain(s.E), truststore.ClientCertCrlHit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := store.Verify(tc.presented, truststore.VerifyOptions{})
			if v.Status != tc.want {
				t.Fatalf("status = %s (%s); want %s", v.Status, v.Detail, tc.want)
			}
		})
	}

	// A CRL signed by a CA outside the bundle is InvalidRevocationContent.
	foreign := makeCRL(t, s.F, big.NewInt(7))
	_, err := truststore.New("x", []*x509.Certificate{s.A.Cert}, []truststore.RevocationInput{{Source: "f.crl", List: foreign}}, truststore.Options{})
	if err == nil || !strings.Contains(err.Error(), "f.crl") {
		t.Fatalf("foreign CRL: err = %v; want InvalidRevocationContent naming f.crl", err)
	}
}

func makeCRL(t *testing.T, ca *pki.CA, serials ...*big.Int) *truststore.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour)}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := truststore.ParseCRLDER(der)
	if err != nil {
		t.Fatalf("ParseCRLDER: %v", err)
	}
	return l
}
