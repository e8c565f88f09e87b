package truststore

import (
	"crypto/sha256"
	"crypto/x509"
	"time"
)

// maxVerified bounds the verified-chain cache of one store.
const maxVerified = 10_000

// cachedVerdict is a Success verdict and the period in which it holds:
// every certificate of its chain is valid from From to Until.
type cachedVerdict struct {
	v           Verdict
	from, until time.Time
}

// A store never changes (a reload builds a new one), so a chain that
// verified against it keeps verifying for as long as its certificates are
// within their validity periods. The cache spares a returning client's
// handshake the signature checks; only Success is cached, only in alb
// mode (strict results also depend on CRL freshness).
func chainKey(presented []*x509.Certificate, ignoreExpiry bool) [32]byte {
	h := sha256.New()
	for _, c := range presented {
		var n [4]byte
		l := len(c.Raw)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write(c.Raw)
	}
	if ignoreExpiry {
		h.Write([]byte{1})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (s *Store) cached(key [32]byte, now time.Time) (Verdict, bool) {
	e, ok := s.verified.Load(key)
	if !ok {
		return Verdict{}, false
	}
	cv := e.(*cachedVerdict)
	if now.Before(cv.from) || now.After(cv.until) {
		return Verdict{}, false
	}
	return cv.v, true
}

func (s *Store) remember(key [32]byte, v Verdict, ignoreExpiry bool) {
	if v.Status != Success || s.Mode != RevocationALB || len(v.Chain) == 0 || s.nVerified.Load() >= maxVerified {
		return
	}
	cv := &cachedVerdict{v: v, from: v.Chain[0].NotBefore, until: v.Chain[0].NotAfter}
	if ignoreExpiry { // the leaf's dates play no part
		cv.from, cv.until = time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for _, c := range v.Chain[1:] {
		if c.NotBefore.After(cv.from) {
			cv.from = c.NotBefore
		}
		if c.NotAfter.Before(cv.until) {
			cv.until = c.NotAfter
		}
	}
	for _, crl := range s.CRLs {
		// A CRL not yet in force would change the verdict once it is.
		if crl.List.ThisUpdate.After(cv.from) {
			cv.from = crl.List.ThisUpdate
		}
	}
	if _, loaded := s.verified.LoadOrStore(key, cv); !loaded {
		s.nVerified.Add(1)
	}
}
