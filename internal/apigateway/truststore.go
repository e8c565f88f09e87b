package apigateway

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"edge/internal/certfmt"
)

// API Gateway's truststore quotas [doc: API Gateway quotas, "Truststore
// size 1 MB", "certificates in a truststore 1,000"]. edge reads 1 MB as
// 1,048,576 bytes.
const (
	MaxTruststoreBytes        = 1 << 20
	MaxTruststoreCertificates = 1000
	// MaxChainCAs is how many CA certificates may sit above the leaf
	// ("maximum chain length 4"; the leaf is not counted).
	MaxChainCAs = 4
)

// Truststore is a parsed API Gateway truststore: every certificate that
// parsed and passed the per-certificate checks. Invalid certificates are
// left out and reported as warnings, as API Gateway's truststoreWarnings.
type Truststore struct {
	certs []*x509.Certificate
	// bySubject indexes certs by their raw subject, for issuer lookup.
	bySubject map[string][]*x509.Certificate
	raw       map[string]bool
	// roots are the self-signed certificates, found once at parse time
	// (a signature check each) rather than per verification.
	roots map[*x509.Certificate]bool
}

// TruststoreError is a truststore API Gateway refuses as a whole
// (answered BadRequestException).
type TruststoreError struct{ Reason string }

func (e *TruststoreError) Error() string { return e.Reason }

// ParseTruststore reads a PEM truststore the way API Gateway does: every
// CERTIFICATE block counts (blank lines and comments between blocks are
// fine, unlike ALB's bundles); a truststore over MaxTruststoreBytes or
// MaxTruststoreCertificates, or with no usable certificate, is a
// *TruststoreError. Certificates that do not parse, have an unsupported key
// (RSA < 2048, curves other than P-256/P-384), an insecure signature
// algorithm (below SHA-256) or are outside their validity period at now
// are left out, each named in a warning ("certificate 2 (CN=x) …").
func ParseTruststore(data []byte, now time.Time) (*Truststore, []string, error) {
	if len(data) > MaxTruststoreBytes {
		return nil, nil, &TruststoreError{fmt.Sprintf("the truststore is %d bytes; API Gateway's limit is 1 MB (%d bytes)", len(data), MaxTruststoreBytes)}
	}
	ts := &Truststore{bySubject: map[string][]*x509.Certificate{}, raw: map[string]bool{}, roots: map[*x509.Certificate]bool{}}
	var warnings []string
	n := 0
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		n++
		if n > MaxTruststoreCertificates {
			return nil, nil, &TruststoreError{fmt.Sprintf("the truststore holds more than %d certificates, API Gateway's limit", MaxTruststoreCertificates)}
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("certificate %d in the truststore cannot be parsed (%v); it is ignored", n, err))
			continue
		}
		if w := certificateProblem(c, now); w != "" {
			warnings = append(warnings, fmt.Sprintf("certificate %d (%s) in the truststore %s; it is ignored", n, subjectName(c), w))
			continue
		}
		if ts.raw[string(c.Raw)] {
			continue
		}
		ts.raw[string(c.Raw)] = true
		ts.certs = append(ts.certs, c)
		if selfSigned(c) {
			ts.roots[c] = true
		}
		ts.bySubject[string(c.RawSubject)] = append(ts.bySubject[string(c.RawSubject)], c)
	}
	if n == 0 {
		return nil, nil, &TruststoreError{"the truststore holds no PEM certificate (-----BEGIN CERTIFICATE-----)"}
	}
	if len(ts.certs) == 0 {
		return nil, warnings, &TruststoreError{"no certificate of the truststore is usable: " + joinWarnings(warnings)}
	}
	return ts, warnings, nil
}

func joinWarnings(w []string) string {
	var b bytes.Buffer
	for i, s := range w {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// certificateProblem is why a truststore certificate is unusable, or "".
func certificateProblem(c *x509.Certificate, now time.Time) string {
	if k := keyProblem(c); k != "" {
		return k
	}
	if !selfSigned(c) && insecureSignature(c.SignatureAlgorithm) {
		return "uses an insecure signature algorithm (" + c.SignatureAlgorithm.String() + "; SHA-256 or stronger is required)"
	}
	if now.After(c.NotAfter) {
		return "expired on " + c.NotAfter.UTC().Format(time.RFC3339)
	}
	if now.Before(c.NotBefore) {
		return "is not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
	}
	return ""
}

// keyProblem checks API Gateway's key rule: RSA ≥ 2048 bits or ECDSA
// P-256/P-384.
func keyProblem(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Sprintf("has an RSA key of %d bits (2048 or more are required)", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return "has an ECDSA key on " + k.Curve.Params().Name + " (P-256 or P-384 is required)"
		}
	default:
		return fmt.Sprintf("has a %s key (RSA or ECDSA is required)", c.PublicKeyAlgorithm)
	}
	return ""
}

func insecureSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return false
	}
	return true
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

func subjectName(c *x509.Certificate) string {
	if s := certfmt.DN(c.RawSubject); s != "" {
		return s
	}
	return "serial " + certfmt.Serial(c)
}

// Len is the number of usable certificates.
func (t *Truststore) Len() int { return len(t.certs) }

// Execution-log reasons of API Gateway (CloudWatch execution logs, "Access
// denied. Reason: …"). The first three are AWS's documented texts
// (knowledge center "api-gateway-mutual-tls-403-errors"); the others are
// OpenSSL's verify-error strings, which those three are, chosen where AWS
// documents nothing (docs/api-gateway.md).
const (
	ReasonNoIssuer          = "Could not find issuer for certificate"
	ReasonInsecureSignature = "Client cert using an insecure Signature Algorithm"
	ReasonSelfSigned        = "self signed certificate"
	ReasonExpired           = "certificate has expired"
	ReasonNotYetValid       = "certificate is not yet valid"
	ReasonChainTooLong      = "certificate chain too long"
	ReasonInvalidCA         = "invalid CA certificate"
	ReasonPathLength        = "path length constraint exceeded"
	ReasonKeyTooWeak        = "EE certificate key too weak"
	ReasonNoCertificate     = "No client certificate presented"
)

// Verdict is the outcome of verifying a client certificate.
type Verdict struct {
	// OK reports success; Reason is the execution-log reason otherwise.
	OK     bool
	Reason string
	// Chain is the verified path, leaf first, root last (on success).
	Chain []*x509.Certificate
}

// ErrNoCertificate is returned by Verify for an empty chain.
var ErrNoCertificate = errors.New(ReasonNoCertificate)

// Verify checks a client certificate as API Gateway does: only the leaf
// the client sent is used (client-sent intermediates are ignored, so the
// truststore must hold the whole chain up to a self-signed root); at most
// MaxChainCAs CA certificates above the leaf; RSA ≥ 2048 or ECDSA
// P-256/P-384 keys; SHA-256 or stronger signatures; validity periods at
// now; no revocation checking. A leaf that is itself in the truststore is
// trusted as it is.
func (t *Truststore) Verify(presented []*x509.Certificate, now time.Time) Verdict {
	if len(presented) == 0 {
		return Verdict{Reason: ReasonNoCertificate}
	}
	leaf := presented[0]
	if keyProblem(leaf) != "" {
		return Verdict{Reason: ReasonKeyTooWeak}
	}
	if t.raw[string(leaf.Raw)] {
		return checkTimes([]*x509.Certificate{leaf}, now)
	}
	if insecureSignature(leaf.SignatureAlgorithm) {
		return Verdict{Reason: ReasonInsecureSignature}
	}
	if bytes.Equal(leaf.RawSubject, leaf.RawIssuer) && leaf.CheckSignatureFrom(leaf) == nil {
		return Verdict{Reason: ReasonSelfSigned}
	}
	best := Verdict{Reason: ReasonNoIssuer}
	var walk func(path []*x509.Certificate) bool
	walk = func(path []*x509.Certificate) bool {
		cur := path[len(path)-1]
		if len(path) > 1 && t.roots[cur] {
			v := t.checkPath(path, now)
			if v.OK || best.Reason == ReasonNoIssuer {
				best = v
			}
			return v.OK
		}
		if len(path)-1 > MaxChainCAs {
			if best.Reason == ReasonNoIssuer {
				best = Verdict{Reason: ReasonChainTooLong}
			}
			return false
		}
		for _, issuer := range t.bySubject[string(cur.RawIssuer)] {
			if containsCert(path, issuer) || cur.CheckSignatureFrom(issuer) != nil {
				continue
			}
			if walk(append(path[:len(path):len(path)], issuer)) {
				return true
			}
		}
		return false
	}
	walk([]*x509.Certificate{leaf})
	return best
}

// checkPath checks a complete path (leaf … self-signed root): chain
// length, CA flags and path lengths, signature algorithms, then validity
// from the root down, as OpenSSL's internal_verify does.
func (t *Truststore) checkPath(path []*x509.Certificate, now time.Time) Verdict {
	if len(path)-1 > MaxChainCAs {
		return Verdict{Reason: ReasonChainTooLong}
	}
	for i := 1; i < len(path); i++ {
		ca := path[i]
		if !ca.BasicConstraintsValid || !ca.IsCA {
			return Verdict{Reason: ReasonInvalidCA}
		}
		// i-1 CA certificates sit between this CA and the leaf.
		if ca.MaxPathLen >= 0 && (ca.MaxPathLen > 0 || ca.MaxPathLenZero) && i-1 > ca.MaxPathLen {
			return Verdict{Reason: ReasonPathLength}
		}
		if i < len(path)-1 && insecureSignature(ca.SignatureAlgorithm) {
			return Verdict{Reason: ReasonInsecureSignature}
		}
	}
	return checkTimes(path, now)
}

func checkTimes(path []*x509.Certificate, now time.Time) Verdict {
	for i := len(path) - 1; i >= 0; i-- {
		c := path[i]
		if now.Before(c.NotBefore) {
			return Verdict{Reason: ReasonNotYetValid}
		}
		if now.After(c.NotAfter) {
			return Verdict{Reason: ReasonExpired}
		}
	}
	return Verdict{OK: true, Chain: path}
}

func containsCert(path []*x509.Certificate, c *x509.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}
