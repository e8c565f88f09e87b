package truststore

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"time"

	"edge/internal/certfmt"
)

// Strict mode (revocation_check: strict) validates paths and revocation
// as RFC 5280 §6 does rather than as ALB does:
//   - names chain by RFC 5280 §7.1 comparison, not byte equality;
//   - self-issued certificates do not count toward pathLenConstraint;
//   - every certificate below the trust anchor needs a current CRL in
//     scope (distribution points, onlyContains*, onlySomeReasons,
//     indirect CRLs, delta CRLs); otherwise its status is unknown and the
//     chain is untrusted;
//   - a CRL may be signed by a key other than the certificate issuer's,
//     if that signer's own path validates;
//   - ALB's chain-depth limit does not apply.

// allReasons is every ReasonFlags bit from keyCompromise(1) to aACompromise(8).
const allReasons uint16 = 0x1FE

// maxSignerDepth bounds the recursion into CRL signers' own paths.
const maxSignerDepth = 2

var oidCRLDistributionPoints = asn1.ObjectIdentifier{2, 5, 29, 31}

// strictRun carries what one strict verification needs at every step.
type strictRun struct {
	s    *Store
	now  time.Time
	pool []*x509.Certificate // certificates the client presented
	// signing holds the CRL signers whose own paths are being validated:
	// a CRL that such a signer issued about itself is accepted rather
	// than recursed into (PKITS 4.14.30).
	signing []*x509.Certificate
}

func (s *Store) verifyStrict(leaf *x509.Certificate, presented []*x509.Certificate, now time.Time, ignoreExpiry bool) Verdict {
	r := &strictRun{s: s, now: now, pool: presented}
	paths := r.buildPaths(leaf, 0)
	if len(paths) == 0 {
		return fail(ClientCertUntrusted, leaf, 0, "no path from %q to a CA certificate of trust store %s (names compared as RFC 5280 §7.1 asks)", certfmt.DN(leaf.RawIssuer), s.Name)
	}
	var best Verdict
	for i, p := range paths {
		v := r.validate(p, ignoreExpiry, false, 0)
		v.Chain = p
		if v.Status == Success {
			return v
		}
		if i == 0 || best.Status == ClientCertUntrusted && v.Status != ClientCertUntrusted {
			best = v
		}
	}
	return best
}

// buildPaths finds paths from c to a store CA through the presented pool,
// chaining names by RFC 5280 comparison and checking signatures.
func (r *strictRun) buildPaths(c *x509.Certificate, depth int) [][]*x509.Certificate {
	var out [][]*x509.Certificate
	if r.s.isAnchor(c) {
		return [][]*x509.Certificate{{c}}
	}
	var walk func(path []*x509.Certificate)
	walk = func(path []*x509.Certificate) {
		cur := path[len(path)-1]
		if len(out) >= 8 || len(path) > 12 {
			return
		}
		issuer := CanonicalName(cur.RawIssuer)
		for _, a := range r.s.CAs {
			if CanonicalName(a.RawSubject) == issuer && signedBy(cur, a) {
				out = append(out, append(clone(path), a))
			}
		}
		for _, p := range r.pool {
			if contains(path, p) || r.s.isAnchor(p) || CanonicalName(p.RawSubject) != issuer || !signedBy(cur, p) {
				continue
			}
			walk(append(clone(path), p))
		}
	}
	walk([]*x509.Certificate{c})
	return out
}

// signedBy checks only the signature; what the signer may do is checked
// by validate.
func signedBy(c, parent *x509.Certificate) bool {
	return parent.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// validate checks one path (leaf first, trust anchor last). asSigner
// validates a CRL signer's certificate: no client-auth purpose check.
func (r *strictRun) validate(path []*x509.Certificate, ignoreExpiry, asSigner bool, depth int) Verdict {
	now := r.now
	last := len(path) - 1
	for i, c := range path {
		if i == 0 && ignoreExpiry {
			continue // ignore_client_certificate_expiry: the leaf's dates play no part
		}
		switch {
		case now.Before(c.NotBefore):
			return fail(ClientCertNotYetValid, c, i, "%q is not valid before %s", certfmt.DN(c.RawSubject), c.NotBefore.UTC().Format(time.RFC3339))
		case now.After(c.NotAfter):
			return fail(ClientCertExpired, c, i, "%q expired at %s", certfmt.DN(c.RawSubject), c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	for i, c := range path[:max(last, 0)] {
		if why := unsupportedType(c); why != "" {
			return fail(ClientCertTypeUnsupported, c, i, "%s", why)
		}
		if len(c.UnhandledCriticalExtensions) > 0 {
			return fail(ClientCertUntrusted, c, i, "%q has an unsupported critical extension %v", certfmt.DN(c.RawSubject), c.UnhandledCriticalExtensions[0])
		}
	}
	// CA checks and pathLenConstraint, from the anchor down (RFC 5280
	// §6.1.4): self-issued intermediates do not count.
	maxPath := -1
	if a := path[last]; a.MaxPathLen >= 0 && last > 0 {
		maxPath = a.MaxPathLen
	}
	for i := last - 1; i >= 1; i-- {
		c := path[i]
		if !c.BasicConstraintsValid || !c.IsCA {
			return fail(ClientCertUntrusted, c, i, "%q is not a CA certificate (basicConstraints cA is missing or false)", certfmt.DN(c.RawSubject))
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return fail(ClientCertUntrusted, c, i, "the key usage of %q does not allow keyCertSign", certfmt.DN(c.RawSubject))
		}
		if !selfIssued(c) {
			if maxPath == 0 {
				return fail(ClientCertUntrusted, c, i, "the path is longer than a pathLenConstraint above %q allows", certfmt.DN(c.RawSubject))
			}
			if maxPath > 0 {
				maxPath--
			}
		}
		if c.MaxPathLen >= 0 && (maxPath < 0 || c.MaxPathLen < maxPath) {
			maxPath = c.MaxPathLen
		}
	}
	if !asSigner {
		if v := purpose(path); v.Status != Success {
			return v
		}
	}
	for i := 0; i < last; i++ {
		if v := r.revocation(path, i, depth); v.Status != Success {
			return v
		}
	}
	return Verdict{Status: Success, Detail: "the chain is trusted (RFC 5280 validation)"}
}

func selfIssued(c *x509.Certificate) bool {
	return CanonicalName(c.RawIssuer) == CanonicalName(c.RawSubject)
}

// distPoint is one cRLDistributionPoints entry of a certificate.
type distPoint struct {
	names      []string // canonical directory names and "uri:" URIs
	relative   []byte   // nameRelativeToCRLIssuer, DER
	reasons    uint16
	hasReasons bool
	crlIssuers []string // canonical directory names
}

func (d distPoint) hasName() bool { return len(d.names) > 0 || d.relative != nil }

// distributionPoints parses c's cRLDistributionPoints; a certificate
// without one has a single implicit point with neither name nor issuer.
func distributionPoints(c *x509.Certificate) []distPoint {
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidCRLDistributionPoints) {
			continue
		}
		var raw []asn1.RawValue
		if _, err := asn1.Unmarshal(e.Value, &raw); err != nil {
			return []distPoint{{}}
		}
		var out []distPoint
		for _, dpRaw := range raw {
			var dp distPoint
			rest := dpRaw.Bytes
			for len(rest) > 0 {
				var f asn1.RawValue
				var err error
				if rest, err = asn1.Unmarshal(rest, &f); err != nil {
					break
				}
				switch f.Tag {
				case 0:
					var n asn1.RawValue
					if _, err := asn1.Unmarshal(f.Bytes, &n); err == nil {
						if n.Tag == 0 {
							dp.names, _ = generalNames(n.Bytes)
						} else if n.Tag == 1 {
							dp.relative = n.FullBytes
						}
					}
				case 1:
					dp.hasReasons, dp.reasons = true, reasonBits(f.Bytes)
				case 2:
					for _, n := range mustGeneralNames(f.Bytes) {
						dp.crlIssuers = append(dp.crlIssuers, n)
					}
				}
			}
			out = append(out, dp)
		}
		if len(out) > 0 {
			return out
		}
	}
	return []distPoint{{}}
}

func mustGeneralNames(der []byte) []string {
	n, _ := generalNames(der)
	return n
}

// revocation decides the status of path[i] (RFC 5280 §6.3, simplified to
// what edge's CRL inputs carry).
func (r *strictRun) revocation(path []*x509.Certificate, i, depth int) Verdict {
	c := path[i]
	certIssuer := CanonicalName(c.RawIssuer)
	key := certSerialKey(c)
	var mask uint16
	for _, dp := range distributionPoints(c) {
		for _, crl := range r.s.CRLs {
			l := crl.List
			if l.BaseNumber != nil {
				continue // delta CRLs are applied with their base
			}
			crlIssuer := CanonicalName(l.RawIssuer)
			if len(dp.crlIssuers) > 0 {
				if !containsString(dp.crlIssuers, crlIssuer) || l.IDP == nil || !l.IDP.IndirectCRL {
					continue
				}
			} else if crlIssuer != certIssuer {
				continue
			}
			if !r.usable(l) || !inScope(l.IDP, c, i) || !dpMatches(dp, l, crlIssuer) {
				continue
			}
			interim := allReasons
			if l.IDP != nil && l.IDP.HasReasons {
				interim &= l.IDP.OnlySomeReasons
			}
			if dp.hasReasons {
				interim &= dp.reasons
			}
			if interim&^mask == 0 {
				continue
			}
			if !r.signerValid(crl, path[i+1:], depth) {
				continue
			}
			direct := crlIssuer == certIssuer
			reason, hit := l.Lookup(certIssuer, direct, key)
			if d := r.delta(crl, crlIssuer, path[i+1:], depth); d != nil {
				if dr, dhit := d.List.Lookup(certIssuer, direct, key); dhit {
					reason, hit = dr, true
					if dr == ReasonRemoveFromCRL {
						hit = false
					}
				}
			}
			if hit && reason != ReasonRemoveFromCRL {
				return fail(ClientCertCrlHit, c, i, "serial %s of %q is revoked by CRL %d (%s)", certfmt.Serial(c), certfmt.DN(c.RawSubject), crl.ID, crl.Source)
			}
			mask |= interim
		}
	}
	if mask != allReasons {
		return fail(ClientCertUntrusted, c, i, "the revocation status of %q is unknown: no current, valid CRL in scope covers it (revocation_check: strict)", certfmt.DN(c.RawSubject))
	}
	return Verdict{Status: Success}
}

// usable: current, and no critical extension edge does not understand.
func (r *strictRun) usable(l *RevocationList) bool {
	return len(l.UnhandledCritical) == 0 && !l.ThisUpdate.After(r.now) && (l.NextUpdate.IsZero() || !r.now.After(l.NextUpdate))
}

// dpMatches applies RFC 5280 §6.3.3 (b)(2)(i): a CRL whose IDP names a
// distribution point covers only certificates that name it too.
func dpMatches(dp distPoint, l *RevocationList, crlIssuer string) bool {
	if l.IDP == nil || (len(l.IDP.FullNames) == 0 && l.IDP.RelativeName == nil) {
		return true
	}
	idpNames := l.IDP.FullNames
	if l.IDP.RelativeName != nil {
		idpNames = append(idpNames, relativeName(l.RawIssuer, l.IDP.RelativeName))
	}
	dpNames := dp.names
	switch {
	case dp.relative != nil:
		base := l.RawIssuer
		dpNames = append(dpNames, relativeName(base, dp.relative))
	case !dp.hasName():
		dpNames = dp.crlIssuers
	}
	for _, a := range idpNames {
		if containsString(dpNames, a) {
			return true
		}
	}
	return false
}

// relativeName appends an RDN (DER SET) to a DER name and returns the
// canonical form of the result.
func relativeName(rawName, rdn []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(rawName, &seq); err != nil {
		return ""
	}
	var set pkix.RelativeDistinguishedNameSET
	if _, err := asn1.UnmarshalWithParams(rdn, &set, "set"); err != nil {
		// nameRelativeToCRLIssuer is [1] IMPLICIT SET; retag it.
		var rv asn1.RawValue
		if _, err := asn1.Unmarshal(rdn, &rv); err != nil {
			return ""
		}
		retagged, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: rv.Bytes})
		if _, err := asn1.UnmarshalWithParams(retagged, &set, "set"); err != nil {
			return ""
		}
	}
	full, err := asn1.Marshal(append(seq, set))
	if err != nil {
		return ""
	}
	return CanonicalName(full)
}

// signerValid reports whether the CRL's signature comes from a key the
// path trusts: a trust-store CA, a certificate above the one being
// checked, or a certificate whose own path validates (RFC 5280 §6.3.3 (f)).
func (r *strictRun) signerValid(crl *CRL, above []*x509.Certificate, depth int) bool {
	if crl.Issuer != nil {
		return true
	}
	l := crl.List
	name := CanonicalName(l.RawIssuer)
	var candidates []*x509.Certificate
	for _, set := range [][]*x509.Certificate{above, r.s.CAs, r.pool} {
		for _, c := range set {
			if CanonicalName(c.RawSubject) == name && !contains(candidates, c) {
				candidates = append(candidates, c)
			}
		}
	}
	for _, c := range candidates {
		if l.CheckSignatureFrom(c) != nil {
			continue
		}
		if contains(above, c) || r.s.isAnchor(c) || contains(r.signing, c) {
			return true
		}
		if depth >= maxSignerDepth {
			continue
		}
		r.signing = append(r.signing, c)
		ok := false
		for _, p := range r.buildPaths(c, depth+1) {
			if r.validate(p, false, true, depth+1).Status == Success {
				ok = true
				break
			}
		}
		r.signing = r.signing[:len(r.signing)-1]
		if ok {
			return true
		}
	}
	return false
}

// delta returns a current delta CRL for base, if any.
func (r *strictRun) delta(base *CRL, issuer string, above []*x509.Certificate, depth int) *CRL {
	if base.List.Number == nil {
		return nil
	}
	for _, d := range r.s.CRLs {
		l := d.List
		if l.BaseNumber == nil || CanonicalName(l.RawIssuer) != issuer || l.BaseNumber.Cmp(base.List.Number) > 0 || !r.usable(l) {
			continue
		}
		if r.signerValid(d, above, depth) {
			return d
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
