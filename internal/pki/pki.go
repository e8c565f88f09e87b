// Package pki is edge's small certificate authority: it creates the root and
// intermediate CAs, server and client certificates used by the quick start,
// by `edge pki` and by tests. Every certificate shape is a named profile here,
// so tests, the demo and the dev PKI agree on what a "client certificate" is.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// KeyType names a key algorithm and size.
type KeyType string

// Key types edge can generate. ECDSA P-256 is the default: it is what ALB
// accepts, and it signs ~30x faster than RSA-2048.
const (
	P256    KeyType = "p256"
	P384    KeyType = "p384"
	RSA2048 KeyType = "rsa2048"
	RSA4096 KeyType = "rsa4096"
	// Ed25519 exists for tests: ALB does not accept Ed25519 client certificates.
	Ed25519 KeyType = "ed25519"
)

// NewKey generates a private key of type t; the empty type means P256.
func NewKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unknown key type %q (want p256, p384, rsa2048 or rsa4096)", t)
}

// Options shape one certificate. The zero value of every field has a
// sensible default, noted on the field.
type Options struct {
	// Subject of the certificate. An empty CommonName is filled in by the
	// profile ("edge dev root CA", "localhost", "client").
	Subject pkix.Name
	// Key type; empty means P256. Ignored when Key is set.
	KeyType KeyType
	// Key to certify instead of a fresh one.
	Key crypto.Signer
	// NotBefore defaults to one hour ago (clock skew), NotAfter to
	// NotBefore plus the profile's lifetime. Expired and future
	// certificates are allowed on purpose: tests and demos need them.
	NotBefore, NotAfter time.Time
	// DNSNames and IPs become subjectAltName entries.
	DNSNames []string
	IPs      []net.IP
	// ExtKeyUsage overrides the profile's extended key usage; use
	// NoExtKeyUsage to omit the extension.
	ExtKeyUsage []x509.ExtKeyUsage
	// NoExtKeyUsage omits the extended key usage extension entirely.
	NoExtKeyUsage bool
	// MaxPathLen for CAs: 0 means unlimited (no pathLenConstraint).
	MaxPathLen int
	// Serial overrides the random 128-bit serial number.
	Serial *big.Int
}

// Issued is a certificate with its private key and the chain that leads to
// (but excludes) the root: issuer first.
type Issued struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// CA is an Issued certificate that can sign.
type CA struct{ Issued }

const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 825 * 24 * time.Hour // the longest lifetime browsers accept for server certs
	backdate     = time.Hour
)

// NewRoot creates a self-signed root CA.
func NewRoot(o Options) (*CA, error) {
	if o.Subject.CommonName == "" {
		o.Subject.CommonName = "edge dev root CA"
	}
	tmpl := caTemplate(o)
	is, err := sign(tmpl, o, nil)
	if err != nil {
		return nil, err
	}
	return &CA{*is}, nil
}

// NewIntermediate creates a CA certificate signed by ca.
func (ca *CA) NewIntermediate(o Options) (*CA, error) {
	if o.Subject.CommonName == "" {
		o.Subject.CommonName = "edge dev intermediate CA"
	}
	is, err := sign(caTemplate(o), o, ca)
	if err != nil {
		return nil, err
	}
	return &CA{*is}, nil
}

// IssueServer issues a TLS server certificate (serverAuth) for o.DNSNames
// and o.IPs; with neither it covers localhost and 127.0.0.1.
func (ca *CA) IssueServer(o Options) (*Issued, error) {
	if len(o.DNSNames) == 0 && len(o.IPs) == 0 {
		o.DNSNames = []string{"localhost"}
		o.IPs = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	if o.Subject.CommonName == "" {
		if len(o.DNSNames) > 0 {
			o.Subject.CommonName = o.DNSNames[0]
		} else {
			o.Subject.CommonName = o.IPs[0].String()
		}
	}
	return sign(leafTemplate(o, x509.ExtKeyUsageServerAuth), o, ca)
}

// IssueClient issues a TLS client certificate (clientAuth).
func (ca *CA) IssueClient(o Options) (*Issued, error) {
	if o.Subject.CommonName == "" {
		o.Subject.CommonName = "client"
	}
	return sign(leafTemplate(o, x509.ExtKeyUsageClientAuth), o, ca)
}

func caTemplate(o Options) *x509.Certificate {
	t := &x509.Certificate{
		Subject:               o.Subject,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            o.MaxPathLen,
		MaxPathLenZero:        false,
	}
	setValidity(t, o, caLifetime)
	if !o.NoExtKeyUsage && o.ExtKeyUsage != nil {
		t.ExtKeyUsage = o.ExtKeyUsage
	}
	return t
}

func leafTemplate(o Options, eku x509.ExtKeyUsage) *x509.Certificate {
	t := &x509.Certificate{
		Subject:               o.Subject,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{eku},
		BasicConstraintsValid: true,
		DNSNames:              o.DNSNames,
		IPAddresses:           o.IPs,
	}
	switch {
	case o.NoExtKeyUsage:
		t.ExtKeyUsage = nil
	case o.ExtKeyUsage != nil:
		t.ExtKeyUsage = o.ExtKeyUsage
	}
	setValidity(t, o, leafLifetime)
	return t
}

func setValidity(t *x509.Certificate, o Options, lifetime time.Duration) {
	t.NotBefore = o.NotBefore
	if t.NotBefore.IsZero() {
		t.NotBefore = time.Now().Add(-backdate)
	}
	t.NotAfter = o.NotAfter
	if t.NotAfter.IsZero() {
		t.NotAfter = t.NotBefore.Add(lifetime)
	}
	t.NotBefore, t.NotAfter = t.NotBefore.UTC().Truncate(time.Second), t.NotAfter.UTC().Truncate(time.Second)
}

// sign completes tmpl (key, serial, key identifiers) and signs it with
// parent, or self-signs when parent is nil.
func sign(tmpl *x509.Certificate, o Options, parent *CA) (*Issued, error) {
	if !tmpl.NotAfter.After(tmpl.NotBefore) {
		return nil, errors.New("notAfter must be later than notBefore")
	}
	key := o.Key
	if key == nil {
		var err error
		if key, err = NewKey(o.KeyType); err != nil {
			return nil, err
		}
	}
	tmpl.SerialNumber = o.Serial
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = randomSerial()
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(spki) // RFC 5280 §4.2.1.2 method (1) uses SHA-1 of the key.
	tmpl.SubjectKeyId = ski[:]

	issuerCert, issuerKey := tmpl, key
	var chain []*x509.Certificate
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
		chain = append([]*x509.Certificate{parent.Cert}, parent.Chain...)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Issued{Cert: cert, Key: key, Chain: chain}, nil
}

// randomSerial returns a positive 128-bit serial, as CAs/Browser Forum
// rules want at least 64 bits of entropy.
func randomSerial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f // keep it positive after DER encoding without a pad byte
	if b[0] == 0 {
		b[0] = 1
	}
	return new(big.Int).SetBytes(b)
}

// ChainWithoutRoot returns the certificate followed by its intermediates,
// leaving out a self-signed root: what a TLS peer sends.
func (is *Issued) ChainWithoutRoot() []*x509.Certificate {
	out := []*x509.Certificate{is.Cert}
	for _, c := range is.Chain {
		if isSelfSigned(c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// TLSCertificate returns the certificate, its intermediates (not the root)
// and key, ready for tls.Config.Certificates.
func (is *Issued) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{PrivateKey: is.Key, Leaf: is.Cert}
	for _, c := range is.ChainWithoutRoot() {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc
}

// Root returns the self-signed certificate at the top of the chain, or nil.
func (is *Issued) Root() *x509.Certificate {
	if len(is.Chain) == 0 {
		if isSelfSigned(is.Cert) {
			return is.Cert
		}
		return nil
	}
	last := is.Chain[len(is.Chain)-1]
	if isSelfSigned(last) {
		return last
	}
	return nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignatureFrom(c) == nil
}
