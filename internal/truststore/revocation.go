package truststore

import (
	"crypto/x509"
	"fmt"
	"time"

	"edge/internal/certfmt"
)

// checkRevocation is alb mode's revocation check: the leaf and every
// intermediate of chain are looked up in the CRLs signed by their issuer
// itself (matched by name and key); a certificate whose issuer has no CRL
// is not revoked. Strict mode has its own RFC 5280 path (strict.go).
//
// A certificate with a negative serial number is never revoked: the ALB
// guide says ALB cannot revoke such certificates. The Success verdict's
// Detail then says which CRL lists it to no effect.
func (s *Store) checkRevocation(chain []*x509.Certificate, now time.Time) Verdict {
	if len(s.bySigner) == 0 {
		return Verdict{Status: Success}
	}
	var note string
	for i := 0; i+1 < len(chain); i++ {
		c, issuer := chain[i], chain[i+1]
		for _, crl := range s.bySigner[issuerKey(issuer)] {
			l := crl.List
			if l.ThisUpdate.After(now) {
				return fail(ClientCertCrlProcessingError, c, i, "CRL %d (%s) of %q is not valid before %s", crl.ID, crl.Source, certfmt.DN(issuer.RawSubject), l.ThisUpdate.UTC().Format(time.RFC3339))
			}
			if !inScope(l.IDP, c, i) {
				continue
			}
			r, hit := l.Lookup("", true, certSerialKey(c))
			if !hit || r == ReasonRemoveFromCRL {
				continue
			}
			if c.SerialNumber.Sign() < 0 {
				note = fmt.Sprintf("serial -%s of %q is listed by CRL %d (%s), but ALB cannot revoke certificates with negative serial numbers: the entry has no effect", certfmt.Serial(c), certfmt.DN(c.RawSubject), crl.ID, crl.Source)
				continue
			}
			return fail(ClientCertCrlHit, c, i, "serial %s of %q is revoked by CRL %d (%s)", certfmt.Serial(c), certfmt.DN(c.RawSubject), crl.ID, crl.Source)
		}
	}
	return Verdict{Status: Success, Detail: note}
}

// inScope applies an issuingDistributionPoint's onlyContains* limits to
// the certificate at depth (0 = leaf).
func inScope(idp *IssuingDistributionPoint, c *x509.Certificate, depth int) bool {
	if idp == nil {
		return true
	}
	isCA := c.BasicConstraintsValid && c.IsCA
	switch {
	case idp.OnlyContainsAttributeCerts:
		return false
	case idp.OnlyContainsUserCerts && isCA:
		return false
	case idp.OnlyContainsCACerts && !isCA:
		return false
	}
	return true
}
