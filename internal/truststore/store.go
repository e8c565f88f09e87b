package truststore

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Store is a loaded, immutable trust store: the CA certificates of its
// bundle and the CRLs that revoke certificates they issued. It is safe for
// concurrent use; a reload builds a new Store.
type Store struct {
	Name string
	// CAs are the bundle's certificates in bundle order.
	CAs []*x509.Certificate
	// CRLs in load order; CRLs[i].ID is its revocation id.
	CRLs []*CRL

	pool      *x509.CertPool
	bySubject map[string][]*x509.Certificate
	// revoked maps an issuer (name and key) to the serials its CRLs revoke,
	// built once at load so a lookup costs the same for 10 or 10^6 entries.
	revoked map[string]map[string]*CRL
}

// CRL is one certificate revocation list of a trust store.
type CRL struct {
	// ID is the revocation id: 1, 2, 3... in load order.
	ID int64
	// Source names where the CRL came from (a file path), for messages.
	Source string
	List   *x509.RevocationList
	// Issuer is the trust-store CA that signed the list.
	Issuer *x509.Certificate
}

// NumberOfRevokedEntries is the entry count ALB reports for the CRL.
func (c *CRL) NumberOfRevokedEntries() int { return len(c.List.RevokedCertificateEntries) }

// TotalRevokedEntries sums the entries of every CRL, as DescribeTrustStores does.
func (s *Store) TotalRevokedEntries() int {
	n := 0
	for _, c := range s.CRLs {
		n += c.NumberOfRevokedEntries()
	}
	return n
}

// Pool returns the CA certificates as a pool; its subjects are what
// advertise_trust_store_ca_names sends in the CertificateRequest.
func (s *Store) Pool() *x509.CertPool { return s.pool }

// RevocationInput is a parsed CRL waiting to be added to a store.
type RevocationInput struct {
	Source string
	List   *x509.RevocationList
}

// ErrInvalidRevocationContent is ALB's error for a CRL it cannot use.
var ErrInvalidRevocationContent = errors.New("InvalidRevocationContent")

// New builds a Store from bundle certificates and CRLs. Each CRL must be
// signed by a CA of the bundle; otherwise the error wraps
// ErrInvalidRevocationContent and names the CRL's Source.
func New(name string, cas []*x509.Certificate, crls []RevocationInput) (*Store, error) {
	s := &Store{
		Name:      name,
		CAs:       cas,
		pool:      x509.NewCertPool(),
		bySubject: make(map[string][]*x509.Certificate, len(cas)),
		revoked:   make(map[string]map[string]*CRL),
	}
	for _, c := range cas {
		s.pool.AddCert(c)
		s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
	}
	var errs []error
	for i, in := range crls {
		issuer := s.crlIssuer(in.List)
		if issuer == nil {
			errs = append(errs, fmt.Errorf("%w: %s: CRL issued by %q is not signed by a CA certificate of trust store %s",
				ErrInvalidRevocationContent, in.Source, dnOf(in.List.RawIssuer), name))
			continue
		}
		crl := &CRL{ID: int64(i + 1), Source: in.Source, List: in.List, Issuer: issuer}
		s.CRLs = append(s.CRLs, crl)
		key := issuerKey(issuer)
		m := s.revoked[key]
		if m == nil {
			m = make(map[string]*CRL, len(in.List.RevokedCertificateEntries))
			s.revoked[key] = m
		}
		for _, e := range in.List.RevokedCertificateEntries {
			m[string(e.SerialNumber.Bytes())] = crl
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func (s *Store) crlIssuer(l *x509.RevocationList) *x509.Certificate {
	for _, ca := range s.bySubject[string(l.RawIssuer)] {
		if l.CheckSignatureFrom(ca) == nil {
			return ca
		}
	}
	return nil
}

// issuerKey identifies an issuing CA by name and key, so two CAs that share
// a name but not a key never share revocations.
func issuerKey(c *x509.Certificate) string {
	return string(c.RawSubject) + "\x00" + string(c.RawSubjectPublicKeyInfo)
}

// revokedBy returns the CRL that revokes c, issued by issuer, or nil.
func (s *Store) revokedBy(c, issuer *x509.Certificate) *CRL {
	if len(s.revoked) == 0 {
		return nil
	}
	m := s.revoked[issuerKey(issuer)]
	if m == nil {
		return nil
	}
	return m[string(c.SerialNumber.Bytes())]
}

// ParseCRL reads a CRL in PEM ("X509 CRL") or DER form. isPEM reports which
// it was: ALB itself accepts only PEM.
func ParseCRL(data []byte) (l *x509.RevocationList, isPEM bool, err error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, true, fmt.Errorf("%w: PEM block is %q, want \"X509 CRL\"", ErrInvalidRevocationContent, b.Type)
		}
		der, isPEM = b.Bytes, true
	}
	l, err = x509.ParseRevocationList(der)
	if err != nil {
		return nil, isPEM, fmt.Errorf("%w: %v", ErrInvalidRevocationContent, err)
	}
	return l, isPEM, nil
}

// Stale reports whether the CRL is past its nextUpdate at now. ALB keeps
// applying such CRLs (it has no CRL refresh); edge warns about them.
func (c *CRL) Stale(now time.Time) bool {
	return !c.List.NextUpdate.IsZero() && now.After(c.List.NextUpdate)
}
