package truststore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"edge/internal/certfmt"
)

// ALB limits on client chains.
const (
	// MaxChainDepth is ALB's "maximum certificate chain depth" quota,
	// counted as AWS counts it: the CA certificates above the leaf, up to
	// and including the trust store's self-signed root. Root + 3
	// intermediates + leaf is the deepest chain accepted (API Gateway was
	// observed to accept exactly that; docs/behaviour.md, Fidelity
	// decisions). A client may send the leaf and as many CAs.
	MaxChainDepth = 4
	// MaxChainSize bounds the DER bytes of the presented chain. ALB's quota
	// is a 64 KB TLS message; the Certificate message adds a few bytes of
	// framing per certificate, so the DER total is the practical limit.
	MaxChainSize = 64 * 1024
)

// VerifyOptions are the listener settings that change a verdict.
type VerifyOptions struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// IgnoreExpiry is ALB's ignore_client_certificate_expiry: the leaf's
	// validity period plays no part (expired, not yet valid, or valid at
	// no moment its CAs are). Intermediates and the root are still
	// checked at Now.
	IgnoreExpiry bool
}

// Verdict is the outcome of verifying one presented chain.
type Verdict struct {
	Status Status
	// Chain is the path that was built, leaf first, ending at the trust
	// anchor's root when the store holds it; nil when none was found.
	Chain []*x509.Certificate
	// Cert is the certificate the failure concerns and Depth its position
	// (0 = leaf); nil on Success or when no single certificate is at fault.
	Cert  *x509.Certificate
	Depth int
	// Detail explains the verdict for people (edge verify, debug logs).
	Detail string
}

func fail(st Status, c *x509.Certificate, depth int, format string, args ...any) Verdict {
	return Verdict{Status: st, Cert: c, Depth: depth, Detail: fmt.Sprintf(format, args...)}
}

// Verify decides the tls_verify_status ALB logs for a client that presented
// chain (leaf first) to a verify-mode listener using this store. The checks
// run in this order, the first failure deciding: size, chain depth, key and
// signature types, path to a CA of the store, validity period, purpose,
// revocation of the leaf and every intermediate.
func (s *Store) Verify(presented []*x509.Certificate, o VerifyOptions) Verdict {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if len(presented) == 0 {
		return fail(UnmappedConnectionError, nil, 0, "the client sent no certificate")
	}
	total := 0
	for _, c := range presented {
		total += len(c.Raw)
	}
	if total > MaxChainSize {
		return fail(ClientCertMaxSizeExceeded, nil, 0, "the client chain is %d bytes; the limit is %d", total, MaxChainSize)
	}
	if len(presented)-1 > MaxChainDepth && s.Mode != RevocationStrict {
		return fail(ClientCertMaxChainDepthExceeded, nil, 0, "the client sent %d certificates, %d CA certificates above the leaf; ALB's maximum chain depth is %d", len(presented), len(presented)-1, MaxChainDepth)
	}
	leaf := presented[0]
	if why := unsupportedType(leaf); why != "" {
		return fail(ClientCertTypeUnsupported, leaf, 0, "%s", why)
	}
	if s.Mode == RevocationStrict {
		return s.verifyStrict(leaf, presented[1:], now, o.IgnoreExpiry)
	}
	key := chainKey(presented, o.IgnoreExpiry)
	if v, ok := s.cached(key, now); ok {
		return v
	}
	v := s.verifyALB(leaf, presented, now, o)
	s.remember(key, v, o.IgnoreExpiry)
	return v
}

// verifyALB is Verify's alb-mode path without the cache.
func (s *Store) verifyALB(leaf *x509.Certificate, presented []*x509.Certificate, now time.Time, o VerifyOptions) Verdict {

	// Fast path: Go builds and checks a path valid now. Anything it
	// rejects is classified below by edge's own path building, because
	// Go's errors are coarser than ALB's statuses (x509.Expired covers
	// both ends of the validity period, and an expired intermediate
	// surfaces as an UnknownAuthorityError).
	inter := x509.NewCertPool()
	for _, c := range presented[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         s.pool,
		Intermediates: inter,
		CurrentTime:   now,
		// Purpose is edge's own check (finish), so it can be reported
		// as ClientCertPurposeInvalid rather than as untrusted.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		return s.finish(s.toRoot(shortest(chains)), now)
	}

	paths := s.buildPaths(leaf, presented[1:])
	if len(paths) == 0 {
		return fail(ClientCertUntrusted, leaf, 0, "no path from %q to a CA certificate of trust store %s: %v", certfmt.DN(leaf.RawIssuer), s.Name, err)
	}
	var first Verdict
	for i, p := range paths {
		v := s.evaluate(p, now, o.IgnoreExpiry)
		if v.Status == Success {
			return v
		}
		if i == 0 {
			first = v
		}
	}
	return first
}

// evaluate checks one candidate path that chains by name and signature.
func (s *Store) evaluate(path []*x509.Certificate, now time.Time, ignoreExpiry bool) Verdict {
	path = s.toRoot(path)
	if len(path)-1 > MaxChainDepth {
		v := fail(ClientCertMaxChainDepthExceeded, nil, 0, depthDetail, len(path)-1, MaxChainDepth)
		v.Chain = path
		return v
	}
	for i, c := range path {
		if i == 0 && ignoreExpiry {
			continue // ignore_client_certificate_expiry: the leaf's dates play no part
		}
		switch {
		case now.Before(c.NotBefore):
			v := fail(ClientCertNotYetValid, c, i, "%q is not valid before %s", certfmt.DN(c.RawSubject), c.NotBefore.UTC().Format(time.RFC3339))
			v.Chain = path
			return v
		case now.After(c.NotAfter):
			v := fail(ClientCertExpired, c, i, "%q expired at %s", certfmt.DN(c.RawSubject), c.NotAfter.UTC().Format(time.RFC3339))
			v.Chain = path
			return v
		}
	}
	if len(path) == 1 {
		return s.finish(path, now)
	}
	// The validity periods are fine (or waived); let Go check everything
	// else about the path (CA flags, path length, name constraints,
	// policies, critical extensions) at a moment when every certificate
	// is within its validity period.
	checked := path
	if ignoreExpiry {
		checked = path[1:]
	}
	at, ok := commonTime(checked, now)
	if !ok {
		v := fail(ClientCertUntrusted, path[0], 0, "the validity periods of the chain do not overlap")
		v.Chain = path
		return v
	}
	cas := path[1:]
	if leaf := path[0]; ignoreExpiry && (at.Before(leaf.NotBefore) || at.After(leaf.NotAfter)) {
		// A waived leaf valid at no moment the CAs are (back-dated before
		// its CA existed): Go verifies at a moment inside the leaf's
		// period, against copies of the CAs whose periods are stretched
		// to cover it. Their real periods were checked above, at now.
		at = clampTime(at, leaf.NotBefore, leaf.NotAfter)
		cas = stretched(cas, at)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(cas[len(cas)-1])
	for _, c := range cas[:len(cas)-1] {
		inter.AddCert(c)
	}
	if _, err := path[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		v := fail(ClientCertUntrusted, path[0], 0, "%v", err)
		v.Chain = path
		return v
	}
	return s.finish(path, now)
}

const depthDetail = "the chain has %d CA certificates above the leaf, up to the root; ALB's maximum chain depth is %d"

// finish applies the checks that follow a valid path: depth, types of the
// intermediates, purpose and revocation.
func (s *Store) finish(chain []*x509.Certificate, now time.Time) Verdict {
	v := s.finishChecks(chain, now)
	v.Chain = chain
	return v
}

func (s *Store) finishChecks(chain []*x509.Certificate, now time.Time) Verdict {
	if len(chain)-1 > MaxChainDepth {
		return fail(ClientCertMaxChainDepthExceeded, nil, 0, depthDetail, len(chain)-1, MaxChainDepth)
	}
	last := len(chain) - 1
	for i, c := range chain[:last] {
		if why := unsupportedType(c); why != "" {
			return fail(ClientCertTypeUnsupported, c, i, "%s", why)
		}
	}
	if v := purpose(chain); v.Status != Success {
		return v
	}
	v := s.checkRevocation(chain, now)
	switch {
	case v.Status != Success:
		return v
	case v.Detail != "":
		v.Detail = "the chain is trusted; " + v.Detail
		return v
	}
	return Verdict{Status: Success, Detail: "the chain is trusted"}
}

// allowsClientAuth: an absent EKU extension allows every purpose.
func allowsClientAuth(ekus []x509.ExtKeyUsage) bool {
	if len(ekus) == 0 {
		return true
	}
	for _, u := range ekus {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// unsupportedType returns why ALB would refuse c's key or signature, or "".
// ALB accepts X.509v3 certificates with RSA 2048-8192 or ECDSA
// P-256/P-384/P-521 keys, signed with SHA-256/384/512 RSA, RSA-PSS or
// ECDSA (ALB guide, mutual authentication: certificate requirements).
func unsupportedType(c *x509.Certificate) string {
	why := versionRule(c)
	if why == "" {
		why = keyRule(c)
	}
	if why == "" {
		why = signatureRule(c)
	}
	if why == "" {
		return ""
	}
	return fmt.Sprintf("%q %s", certfmt.DN(c.RawSubject), why)
}

func versionRule(c *x509.Certificate) string {
	if c.Version != 3 {
		return fmt.Sprintf("is an X.509v%d certificate; ALB accepts only v3", c.Version)
	}
	return ""
}

const keyRequirement = "ALB requires RSA keys of 2048 to 8192 bits or ECDSA keys on P-256, P-384 or P-521"

// keyRule says how c's public key breaks ALB's requirement, or "".
func keyRule(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 || n > 8192 {
			return fmt.Sprintf("has a %d-bit RSA key; %s", n, keyRequirement)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Sprintf("has an ECDSA key on %s; %s", k.Curve.Params().Name, keyRequirement)
		}
	default:
		name := c.PublicKeyAlgorithm.String()
		article := "a"
		if strings.ContainsRune("AEIOU", rune(name[0])) {
			article = "an"
		}
		return fmt.Sprintf("has %s %s key; %s", article, name, keyRequirement)
	}
	return ""
}

// signatureRule says how c's signature algorithm breaks ALB's
// requirement, or "".
func signatureRule(c *x509.Certificate) string {
	switch c.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return ""
	}
	return fmt.Sprintf("is signed with %s; ALB requires SHA-256, SHA-384 or SHA-512 with RSA, RSASSA-PSS or ECDSA", c.SignatureAlgorithm)
}

// selfSigned reports whether c names itself as issuer and, when it says
// which key signed it, names its own key: a root whose signature no path
// validation ever checks.
func selfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && (len(c.AuthorityKeyId) == 0 || string(c.AuthorityKeyId) == string(c.SubjectKeyId))
}

// buildPaths finds every path from leaf to a CA of the store through the
// presented intermediates, matching names and signatures but ignoring time.
func (s *Store) buildPaths(leaf *x509.Certificate, inter []*x509.Certificate) [][]*x509.Certificate {
	var out [][]*x509.Certificate
	var walk func(path []*x509.Certificate)
	walk = func(path []*x509.Certificate) {
		c := path[len(path)-1]
		if len(out) >= 8 || len(path) > 2*MaxChainDepth+2 {
			return // enough to classify; bounds hostile chains
		}
		for _, a := range s.bySubject[string(c.RawIssuer)] {
			if a.Equal(c) {
				out = append(out, clone(path))
				continue
			}
			if c.CheckSignatureFrom(a) == nil {
				out = append(out, append(clone(path), a))
			}
		}
		for _, p := range inter {
			if string(p.RawSubject) != string(c.RawIssuer) || contains(path, p) {
				continue
			}
			if c.CheckSignatureFrom(p) == nil {
				walk(append(clone(path), p))
			}
		}
	}
	if s.isAnchor(leaf) {
		out = append(out, []*x509.Certificate{leaf})
	}
	walk([]*x509.Certificate{leaf})
	return out
}

func (s *Store) isAnchor(c *x509.Certificate) bool {
	for _, a := range s.bySubject[string(c.RawSubject)] {
		if a.Equal(c) {
			return true
		}
	}
	return false
}

// toRoot extends a path that ends at a store CA which is not self-signed
// (an intermediate in the bundle) up through the store to its root, so
// chain depth counts every certificate up to the root, as ALB does.
func (s *Store) toRoot(path []*x509.Certificate) []*x509.Certificate {
	for len(path) <= 2*MaxChainDepth {
		top := path[len(path)-1]
		if string(top.RawIssuer) == string(top.RawSubject) {
			return path
		}
		var next *x509.Certificate
		for _, a := range s.bySubject[string(top.RawIssuer)] {
			if !contains(path, a) && top.CheckSignatureFrom(a) == nil {
				next = a
				break
			}
		}
		if next == nil {
			return path
		}
		path = append(path, next)
	}
	return path
}

// commonTime picks the moment closest to now at which every certificate of
// path is valid.
func commonTime(path []*x509.Certificate, now time.Time) (time.Time, bool) {
	lo, hi := path[0].NotBefore, path[0].NotAfter
	for _, c := range path[1:] {
		if c.NotBefore.After(lo) {
			lo = c.NotBefore
		}
		if c.NotAfter.Before(hi) {
			hi = c.NotAfter
		}
	}
	switch {
	case lo.After(hi):
		return time.Time{}, false
	case now.Before(lo):
		return lo, true
	case now.After(hi):
		return hi, true
	}
	return now, true
}

func clampTime(t, lo, hi time.Time) time.Time {
	switch {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}

// stretched returns copies of cas whose validity periods include at. The
// copies share the certificates' bytes, so signatures and equality hold.
func stretched(cas []*x509.Certificate, at time.Time) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cas))
	for i, c := range cas {
		cp := *c
		if at.Before(cp.NotBefore) {
			cp.NotBefore = at
		}
		if at.After(cp.NotAfter) {
			cp.NotAfter = at
		}
		out[i] = &cp
	}
	return out
}

func shortest(chains [][]*x509.Certificate) []*x509.Certificate {
	best := chains[0]
	for _, c := range chains[1:] {
		if len(c) < len(best) {
			best = c
		}
	}
	return clone(best)
}

func clone(p []*x509.Certificate) []*x509.Certificate {
	return append(make([]*x509.Certificate, 0, len(p)+2), p...)
}

func contains(path []*x509.Certificate, c *x509.Certificate) bool {
	for _, p := range path {
		if p.Equal(c) {
			return true
		}
	}
	return false
}

// purpose checks that the chain may be used for client authentication:
// the leaf's EKU and key usage, and the EKU of intermediates. Both
// revocation modes share it.
func purpose(chain []*x509.Certificate) Verdict {
	leaf := chain[0]
	if !allowsClientAuth(leaf.ExtKeyUsage) {
		return fail(ClientCertPurposeInvalid, leaf, 0, "the extended key usage of %q does not include clientAuth", certfmt.DN(leaf.RawSubject))
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fail(ClientCertPurposeInvalid, leaf, 0, "the key usage of %q does not include digitalSignature", certfmt.DN(leaf.RawSubject))
	}
	for i, c := range chain[1:max(len(chain)-1, 1)] {
		if !allowsClientAuth(c.ExtKeyUsage) {
			return fail(ClientCertPurposeInvalid, c, i+1, "the extended key usage of CA %q does not include clientAuth", certfmt.DN(c.RawSubject))
		}
	}
	return Verdict{Status: Success}
}
