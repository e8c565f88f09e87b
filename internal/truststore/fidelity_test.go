package truststore_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/pemfile"
	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// crlWith returns ca's CRL revoking serials, with extra CRL extensions.
func crlWith(t *testing.T, ca *pki.CA, exts []pkix.Extension, serials ...*big.Int) *truststore.RevocationList {
	t.Helper()
	now := time.Now()
	tmpl := &x509.RevocationList{Number: big.NewInt(2), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour), ExtraExtensions: exts}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: now.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := truststore.ParseCRLDER(der)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var (
	// deltaCRLIndicator (RFC 5280 §5.2.4), base CRL number 1, critical.
	extDelta = pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{0x02, 0x01, 0x01}}
	// issuingDistributionPoint with indirectCRL TRUE (§5.2.5), critical.
	extIndirect = pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: []byte{0x30, 0x03, 0x84, 0x01, 0xFF}}
	// An extension edge does not know, critical.
	extUnknownCritical = pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00}}
)

// Issue 11 item 11: in alb mode a delta CRL, an indirect CRL and a CRL
// with an unknown critical extension are refused at load with
// InvalidRevocationContent saying why and what to do; strict mode loads
// them and says at load what it does with them.
func TestALBRefusesCRLsItCannotApply(t *testing.T) {
	s := testutil.NewSeed(t)
	cas := []*x509.Certificate{s.A.Cert, s.B.Cert}
	for _, tc := range []struct {
		name       string
		ext        pkix.Extension
		albErr     string
		strictNote string
	}{
		{"delta CRL", extDelta, "b.crl: is a delta CRL (deltaCRLIndicator, base CRL number 1); revocation_check: alb applies complete CRLs only: list the complete CRL (revocation_check: strict applies a delta CRL together with its base)",
			"b.crl is a delta CRL of base CRL number 1; strict mode applies it with a complete CRL of that issuer numbered 1 or later"},
		{"indirect CRL", extIndirect, "b.crl: is an indirect CRL (issuingDistributionPoint indirectCRL); revocation_check: alb applies a CRL to the certificates of the CA that signed it, so entries for other CAs' certificates would never apply: use a CRL signed by each issuing CA (revocation_check: strict applies indirect CRLs)",
			"b.crl is an indirect CRL; strict mode applies its entries to the certificates of the CAs they name"},
		{"unknown critical extension", extUnknownCritical, "b.crl: has an unsupported critical CRL extension 1.3.6.1.4.1.99999.1; RFC 5280 forbids using such a CRL",
			"b.crl has an unsupported critical CRL extension 1.3.6.1.4.1.99999.1; strict mode never uses it, so the certificates it covers have an unknown status (Failed:ClientCertUntrusted)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := truststore.RevocationInput{Source: "b.crl", List: crlWith(t, s.B, []pkix.Extension{tc.ext}, s.C.Cert.SerialNumber)}
			_, err := truststore.New("alb", cas, []truststore.RevocationInput{in}, truststore.Options{})
			if !errors.Is(err, truststore.ErrInvalidRevocationContent) || !strings.Contains(err.Error(), tc.albErr) {
				t.Errorf("alb: %v\nwant InvalidRevocationContent containing %q", err, tc.albErr)
			}
			st, err := truststore.New("strict", cas, []truststore.RevocationInput{in}, truststore.Options{Revocation: truststore.RevocationStrict})
			if err != nil {
				t.Fatalf("strict: %v", err)
			}
			if notes := strings.Join(st.Notes(), "\n"); !strings.Contains(notes, tc.strictNote) {
				t.Errorf("strict notes:\n%s\nwant %q", notes, tc.strictNote)
			}
		})
	}
}

// Issue 12 item 1: ignore_client_certificate_expiry waives the leaf's
// validity period completely: a leaf back-dated before its CA existed (no
// overlap with the issuer), or not yet valid, is Success. The CAs are
// still checked at the current time.
func TestIgnoreExpiryWaivesTheLeafsDates(t *testing.T) {
	s := testutil.NewSeed(t) // A and B valid from an hour ago
	now := time.Now()
	backdated := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "backdated"}, NotBefore: now.AddDate(-3, 0, 0), NotAfter: now.AddDate(-2, 0, 0)})
	future := testutil.Client(t, s.B, pki.Options{Subject: pkix.Name{CommonName: "future"}, NotBefore: now.AddDate(1, 0, 0), NotAfter: now.AddDate(2, 0, 0)})
	oldCA, err := s.B.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "old-ca"}, NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	underOld := testutil.Client(t, oldCA, pki.Options{Subject: pkix.Name{CommonName: "under-old"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-2 * time.Hour)})
	otherKey := testutil.Client(t, s.F, pki.Options{Subject: pkix.Name{CommonName: "forged"}, NotBefore: now.AddDate(-3, 0, 0), NotAfter: now.AddDate(-2, 0, 0)})
	for _, mode := range []truststore.RevocationMode{truststore.RevocationALB, truststore.RevocationStrict} {
		var crls []truststore.RevocationInput
		if mode == truststore.RevocationStrict {
			crls = []truststore.RevocationInput{
				{Source: "a.crl", List: crlWith(t, s.A, nil)}, {Source: "b.crl", List: crlWith(t, s.B, nil)},
			}
		}
		store, err := truststore.New("s", []*x509.Certificate{s.A.Cert, s.B.Cert}, crls, truststore.Options{Revocation: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			chain  []*x509.Certificate
			ignore bool
			want   truststore.Status
		}{
			{"back-dated leaf", backdated.ChainWithoutRoot(), false, truststore.ClientCertExpired},
			{"back-dated leaf, ignore expiry", backdated.ChainWithoutRoot(), true, truststore.Success},
			{"back-dated leaf, ignore expiry, again (cached)", backdated.ChainWithoutRoot(), true, truststore.Success},
			{"not-yet-valid leaf, ignore expiry", future.ChainWithoutRoot(), true, truststore.Success},
			{"expired intermediate, ignore expiry", underOld.ChainWithoutRoot(), true, truststore.ClientCertExpired},
			{"back-dated leaf of an unknown CA, ignore expiry", []*x509.Certificate{otherKey.Cert, s.B.Cert}, true, truststore.ClientCertUntrusted},
		} {
			v := store.Verify(tc.chain, truststore.VerifyOptions{IgnoreExpiry: tc.ignore})
			if v.Status != tc.want {
				t.Errorf("%s, %s: %s (%s); want %s", mode, tc.name, v.Status, v.Detail, tc.want)
			}
		}
	}
}

// Issue 12 item 2: ALB cannot revoke a certificate with a negative serial
// number (ALB guide, trust stores). In alb mode a CRL entry matching one
// has no effect: the chain is Success and the verdict and the store's
// notes say so. Strict mode follows RFC 5280 and revokes it. The inputs
// are NIST PKITS 4.4.15 (EE serial -1, listed on its CA's CRL).
func TestNegativeSerialsAreNeverRevoked(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t), "conformance", "pkits")
	read := func(sub, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, sub, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	anchor, _ := x509.ParseCertificate(read("certs", "TrustAnchorRootCertificate.crt"))
	ca, _ := x509.ParseCertificate(read("certs", "NegativeSerialNumberCACert.crt"))
	ee, err := x509.ParseCertificate(read("certs", "InvalidNegativeSerialNumberTest15EE.crt"))
	if err != nil || ee.SerialNumber.Sign() >= 0 {
		t.Fatalf("PKITS 4.4.15 EE: %v, serial %v", err, ee.SerialNumber)
	}
	anchorCRL, _ := truststore.ParseCRLDER(read("crls", "TrustAnchorRootCRL.crl"))
	caCRL, _ := truststore.ParseCRLDER(read("crls", "NegativeSerialNumberCACRL.crl"))
	crls := []truststore.RevocationInput{{Source: "root.crl", List: anchorCRL}, {Source: "negative.crl", List: caCRL}}
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	alb, err := truststore.New("alb", []*x509.Certificate{anchor, ca}, crls, truststore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := alb.Verify([]*x509.Certificate{ee, ca}, truststore.VerifyOptions{Now: at})
	if v.Status != truststore.Success || !strings.Contains(v.Detail, "is listed by CRL 2 (negative.crl), but ALB cannot revoke certificates with negative serial numbers: the entry has no effect") {
		t.Errorf("alb: %s (%s); want Success saying the entry has no effect", v.Status, v.Detail)
	}
	if notes := strings.Join(alb.Notes(), "\n"); !strings.Contains(notes, "negative.crl: 1 entry has a negative serial number; ALB cannot revoke certificates with negative serial numbers, so it has no effect") {
		t.Errorf("alb notes:\n%s", notes)
	}
	strict, err := truststore.New("strict", []*x509.Certificate{anchor}, crls, truststore.Options{Revocation: truststore.RevocationStrict})
	if err != nil {
		t.Fatal(err)
	}
	if v := strict.Verify([]*x509.Certificate{ee, ca}, truststore.VerifyOptions{Now: at}); v.Status != truststore.ClientCertCrlHit {
		t.Errorf("strict: %s (%s); want Failed:ClientCertCrlHit (RFC 5280)", v.Status, v.Detail)
	}
}

// caCert creates a CA certificate for cn with key, signed by parent (nil:
// self-signed) with algo (0: Go's default for the key).
func caCert(t *testing.T, cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, algo x509.SignatureAlgorithm) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SignatureAlgorithm: algo,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Issue 12 item 3: a bundle's CA certificates must meet ALB's certificate
// requirements (RSA 2048-8192 or ECDSA P-256/P-384/P-521 keys, X.509v3,
// SHA-256/384/512 with RSA, RSA-PSS or ECDSA); otherwise
// InvalidCaCertificatesBundle names the index, the subject and the rule.
// A self-signed root's own signature is never verified, so its algorithm
// gets a note, not an error; its key must still meet the rule.
func TestBundleCARequirements(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	root := caCert(t, "root", p256, nil, nil, 0)
	bundle := func(cs ...*x509.Certificate) []byte {
		var b []byte
		for _, c := range cs {
			b = append(b, pki.CertPEM(c)...)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		certs []*x509.Certificate
		want  string // "" means accepted
		note  string
	}{
		{"P-256 root", []*x509.Certificate{root}, "", ""},
		{"RSA 2048 intermediate, SHA-256", []*x509.Certificate{root, caCert(t, "rsa", rsa2048, root, p256, 0)}, "", ""},
		{"RSA-PSS intermediate", []*x509.Certificate{caCert(t, "pss root", rsa2048, nil, nil, x509.SHA256WithRSAPSS)}, "", ""},
		{"RSA 1024 intermediate", []*x509.Certificate{root, caCert(t, "small", rsa1024, root, p256, 0)},
			`certificate #2: "CN=small" has a 1024-bit RSA key; ALB requires RSA keys of 2048 to 8192 bits or ECDSA keys on P-256, P-384 or P-521`, ""},
		{"RSA 1024 self-signed root", []*x509.Certificate{caCert(t, "small root", rsa1024, nil, nil, 0)}, `certificate #1: "CN=small root" has a 1024-bit RSA key`, ""},
		{"P-224 intermediate", []*x509.Certificate{root, caCert(t, "p224", p224, root, p256, 0)}, `certificate #2: "CN=p224" has an ECDSA key on P-224; ALB requires`, ""},
		{"Ed25519 root", []*x509.Certificate{caCert(t, "ed", ed, nil, nil, 0)}, `certificate #1: "CN=ed" has an Ed25519 key; ALB requires`, ""},
		{"SHA-1 intermediate", []*x509.Certificate{caCert(t, "rsa root", rsa2048, nil, nil, 0), caCert(t, "sha1", rsa2048, caCert(t, "rsa root", rsa2048, nil, nil, 0), rsa2048, x509.SHA1WithRSA)},
			`certificate #2: "CN=sha1" is signed with SHA1-RSA; ALB requires SHA-256, SHA-384 or SHA-512 with RSA, RSASSA-PSS or ECDSA`, ""},
		{"SHA-1 self-signed root", []*x509.Certificate{caCert(t, "old root", rsa2048, nil, nil, x509.SHA1WithRSA)}, "",
			`CA #1 "CN=old root" signs itself with SHA1-RSA; a root's own signature is never verified, so edge accepts it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cas, err := truststore.ParseBundle(pemfile.File("bundle.pem"), bundle(tc.certs...))
			if tc.want != "" {
				var be *truststore.BundleError
				if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v; want an InvalidCaCertificatesBundle containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBundle: %v", err)
			}
			st, err := truststore.New("s", cas, nil, truststore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if notes := strings.Join(st.Notes(), "\n"); tc.note != "" && !strings.Contains(notes, tc.note) || tc.note == "" && notes != "" {
				t.Errorf("notes:\n%s\nwant %q", notes, tc.note)
			}
		})
	}
}

// Issue 12 item 7: chain depth is counted as AWS counts it: the CA
// certificates above the leaf (intermediates and the root), at most 4.
// Root + 3 intermediates + leaf is accepted; one intermediate more is
// Failed:ClientCertMaxChainDepthExceeded, whether the client sends the
// chain or the bundle holds it.
func TestChainDepthCountsCAsAboveTheLeaf(t *testing.T) {
	s := testutil.NewSeed(t)
	i1 := testutil.Intermediate(t, s.A, "I1")
	i2 := testutil.Intermediate(t, i1, "I2")
	i3 := testutil.Intermediate(t, i2, "I3")
	i4 := testutil.Intermediate(t, i3, "I4")
	four := testutil.Client(t, i3, pki.Options{Subject: pkix.Name{CommonName: "four CAs"}})
	five := testutil.Client(t, i4, pki.Options{Subject: pkix.Name{CommonName: "five CAs"}})
	rootOnly := newStore(t, "root", []*x509.Certificate{s.A.Cert})
	allInBundle := newStore(t, "all", []*x509.Certificate{s.A.Cert, i1.Cert, i2.Cert, i3.Cert, i4.Cert})
	for _, tc := range []struct {
		name      string
		store     *truststore.Store
		presented []*x509.Certificate
		want      truststore.Status
	}{
		{"root + 3 intermediates + leaf, client sends the intermediates", rootOnly, four.ChainWithoutRoot(), truststore.Success},
		{"root + 3 intermediates + leaf, client sends all 5", rootOnly, append(four.ChainWithoutRoot(), s.A.Cert), truststore.Success},
		{"root + 3 intermediates + leaf, bundle holds them", allInBundle, []*x509.Certificate{four.Cert}, truststore.Success},
		{"root + 4 intermediates + leaf, client sends the intermediates", rootOnly, five.ChainWithoutRoot(), truststore.ClientCertMaxChainDepthExceeded},
		{"root + 4 intermediates + leaf, client sends all 6", rootOnly, append(five.ChainWithoutRoot(), s.A.Cert), truststore.ClientCertMaxChainDepthExceeded},
		{"root + 4 intermediates + leaf, bundle holds them", allInBundle, []*x509.Certificate{five.Cert}, truststore.ClientCertMaxChainDepthExceeded},
	} {
		v := tc.store.Verify(tc.presented, truststore.VerifyOptions{})
		if v.Status != tc.want {
			t.Errorf("%s: %s (%s); want %s", tc.name, v.Status, v.Detail, tc.want)
		}
	}
}
