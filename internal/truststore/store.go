package truststore

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/certfmt"
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

	// Mode is the revocation_check setting.
	Mode RevocationMode

	pool      *x509.CertPool
	bySubject map[string][]*x509.Certificate
	// bySigner maps a signing CA (name and key) to its CRLs; each CRL
	// indexes its serials at load, so a lookup costs the same for 10 or
	// 10^6 entries.
	bySigner map[string][]*CRL

	// verified caches Success verdicts by presented chain (see cache.go).
	verified  sync.Map
	nVerified atomic.Int64
}

// CRL is one certificate revocation list of a trust store.
type CRL struct {
	// ID is the revocation id: 1, 2, 3... in load order, never reused
	// while edge runs (see RevocationIDs).
	ID int64
	// Source names where the CRL came from (a file path), for messages.
	Source string
	List   *RevocationList
	// Digest is the SHA-256 of the CRL file.
	Digest [32]byte
	// Issuer is the trust-store CA that signed the list; nil in strict
	// mode for a CRL signed by a CA outside the bundle, which is then
	// verified against the client's chain at handshake time.
	Issuer *x509.Certificate
}

// Key identifies the CRL by source and content (RevocationInput.Key).
func (c *CRL) Key() string { return RevocationInput{Source: c.Source, Digest: c.Digest}.Key() }

// NumberOfRevokedEntries is the entry count ALB reports for the CRL.
func (c *CRL) NumberOfRevokedEntries() int { return c.List.Entries }

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
	List   *RevocationList
	// Digest identifies the CRL's content, so an unchanged CRL keeps its
	// revocation id across reloads.
	Digest [32]byte
	// ID pins the CRL's revocation id (revocations[].revocation_id, or the
	// id the AWS endpoint gave it); 0 lets RevocationIDs number it.
	ID int64
}

// Key identifies the CRL by source and content: the same file rewritten
// with other content is another CRL (a new revocation id; an admin-API
// removal of the old content does not remove it).
func (in RevocationInput) Key() string { return in.Source + "\x00" + string(in.Digest[:]) }

// RevocationMode chooses how revocation is checked.
type RevocationMode uint8

const (
	// RevocationALB checks, as ALB does, the leaf and every intermediate
	// against the CRLs their issuer signed, when there are any.
	RevocationALB RevocationMode = iota
	// RevocationStrict follows RFC 5280: every certificate of the path
	// needs a current CRL in scope, and CRL scope, indirect CRLs and
	// delta CRLs are honoured.
	RevocationStrict
)

func (m RevocationMode) String() string {
	if m == RevocationStrict {
		return "strict"
	}
	return "alb"
}

// ParseRevocationMode parses "alb" or "strict"; empty means alb.
func ParseRevocationMode(s string) (RevocationMode, error) {
	switch s {
	case "", "alb":
		return RevocationALB, nil
	case "strict":
		return RevocationStrict, nil
	}
	return RevocationALB, fmt.Errorf("unknown revocation check %q (want alb or strict)", s)
}

// ALB's trust-store revocation quotas.
const (
	MaxRevocationLists       = 30
	MaxRevocationEntries     = 500_000
	MaxRevocationFileSize    = 50 << 20
	ErrTooManyEntriesCode    = "TooManyTrustStoreRevocationEntries"
	errInvalidRevocationCode = "InvalidRevocationContent"
)

// Options adjust how a store is built.
type Options struct {
	Revocation RevocationMode
	// MaxRevocationEntries caps the store's total CRL entries; 0 means
	// ALB's 500,000. Scale tests lift it.
	MaxRevocationEntries int
	// IDs numbers revocations across reloads; nil numbers from 1.
	IDs *RevocationIDs
}

// ErrInvalidRevocationContent is ALB's error for a CRL it cannot use.
var ErrInvalidRevocationContent = errors.New(errInvalidRevocationCode)

// ErrTooManyRevocationEntries is ALB's error for a trust store past its
// revocation quotas (MaxRevocationLists lists, MaxRevocationEntries
// entries or Options.MaxRevocationEntries): New's error wraps it.
var ErrTooManyRevocationEntries = errors.New(ErrTooManyEntriesCode)

// New builds a Store from bundle certificates and CRLs. In alb mode each
// CRL must be signed by a CA of the bundle; otherwise the error wraps
// ErrInvalidRevocationContent and names the CRL's Source. ALB's quotas on
// CRL count and entries are enforced (the error wraps
// ErrTooManyRevocationEntries). Several problems are joined (errors.Join).
func New(name string, cas []*x509.Certificate, crls []RevocationInput, o Options) (*Store, error) {
	s := &Store{
		Name:      name,
		CAs:       cas,
		Mode:      o.Revocation,
		pool:      x509.NewCertPool(),
		bySubject: make(map[string][]*x509.Certificate, len(cas)),
		bySigner:  make(map[string][]*CRL),
	}
	for _, c := range cas {
		s.pool.AddCert(c)
		s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
	}
	var errs []error
	if len(crls) > MaxRevocationLists {
		errs = append(errs, fmt.Errorf("%w: trust store %s has %d revocation lists; ALB allows at most %d", ErrTooManyRevocationEntries, name, len(crls), MaxRevocationLists))
	}
	limit := o.MaxRevocationEntries
	if limit == 0 {
		limit = MaxRevocationEntries
	}
	total := 0
	for _, in := range crls {
		total += in.List.Entries
	}
	if total > limit {
		errs = append(errs, fmt.Errorf("%w: trust store %s has %d revocation entries; the limit is %d (ALB's quota; max_revocation_entries lifts it)", ErrTooManyRevocationEntries, name, total, limit))
	}
	ids := o.IDs
	if ids == nil {
		ids = NewRevocationIDs()
	}
	keys := make([]string, len(crls))
	pinned := make([]int64, len(crls))
	for i, in := range crls {
		keys[i], pinned[i] = in.Key(), in.ID
	}
	assigned := ids.assign(name, keys, pinned)
	for i, in := range crls {
		issuer := s.crlIssuer(in.List)
		if issuer == nil && s.Mode == RevocationALB {
			errs = append(errs, fmt.Errorf("%w: %s: the CRL issued by %q is not signed by a CA certificate of trust store %s",
				ErrInvalidRevocationContent, in.Source, certfmt.DN(in.List.RawIssuer), name))
			continue
		}
		if s.Mode == RevocationALB {
			if why := albRefuses(in.List); why != "" {
				errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidRevocationContent, in.Source, why))
				continue
			}
		}
		crl := &CRL{ID: assigned[i], Source: in.Source, List: in.List, Digest: in.Digest, Issuer: issuer}
		if issuer != nil && s.Mode == RevocationALB {
			in.List.release(issuer)
			key := issuerKey(issuer)
			s.bySigner[key] = append(s.bySigner[key], crl)
		}
		s.CRLs = append(s.CRLs, crl)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// albRefuses says why alb mode cannot apply l, or "". ALB documents
// neither delta nor indirect CRLs, and a trust store keeps no CRL
// history to relate a delta to its base; loading them as complete, direct
// CRLs would apply them wrongly and silently (docs/behaviour.md, Fidelity
// decisions).
func albRefuses(l *RevocationList) string {
	switch {
	case len(l.UnhandledCritical) > 0:
		return fmt.Sprintf("has an unsupported critical %s; RFC 5280 forbids using such a CRL", strings.Join(l.UnhandledCritical, ", "))
	case l.BaseNumber != nil:
		return fmt.Sprintf("is a delta CRL (deltaCRLIndicator, base CRL number %s); revocation_check: alb applies complete CRLs only: list the complete CRL (revocation_check: strict applies a delta CRL together with its base)", l.BaseNumber)
	case l.IDP != nil && l.IDP.IndirectCRL, l.indirectEntries():
		return "is an indirect CRL (issuingDistributionPoint indirectCRL); revocation_check: alb applies a CRL to the certificates of the CA that signed it, so entries for other CAs' certificates would never apply: use a CRL signed by each issuing CA (revocation_check: strict applies indirect CRLs)"
	}
	return ""
}

// Notes are what `edge check` and `edge verify` say about the store
// beyond its summary: a root that signs itself with an algorithm ALB
// lists as unsupported, CRL entries without effect, and how strict mode
// uses delta, indirect and unusable CRLs. Nil when there is nothing to
// say.
func (s *Store) Notes() []string {
	var out []string
	for i, c := range s.CAs {
		if why := signatureRule(c); why != "" && selfSigned(c) {
			out = append(out, fmt.Sprintf("CA #%d %q signs itself with %s; a root's own signature is never verified, so edge accepts it (ALB's certificate requirements list SHA-256/384/512 only: if CreateTrustStore refuses the bundle, re-issue the root)", i+1, certfmt.DN(c.RawSubject), c.SignatureAlgorithm))
		}
	}
	for _, c := range s.CRLs {
		l := c.List
		if n := l.NegativeSerials; n > 0 && s.Mode == RevocationALB {
			what, effect := "entries have", "they have"
			if n == 1 {
				what, effect = "entry has", "it has"
			}
			out = append(out, fmt.Sprintf("%s: %d %s a negative serial number; ALB cannot revoke certificates with negative serial numbers, so %s no effect", c.Source, n, what, effect))
		}
		if s.Mode == RevocationStrict {
			switch {
			case len(l.UnhandledCritical) > 0:
				out = append(out, fmt.Sprintf("%s has an unsupported critical %s; strict mode never uses it, so the certificates it covers have an unknown status (Failed:ClientCertUntrusted)", c.Source, strings.Join(l.UnhandledCritical, ", ")))
			case l.BaseNumber != nil:
				out = append(out, fmt.Sprintf("%s is a delta CRL of base CRL number %s; strict mode applies it with a complete CRL of that issuer numbered %s or later", c.Source, l.BaseNumber, l.BaseNumber))
			case l.IDP != nil && l.IDP.IndirectCRL:
				out = append(out, fmt.Sprintf("%s is an indirect CRL; strict mode applies its entries to the certificates of the CAs they name", c.Source))
			}
		}
	}
	return out
}

func (s *Store) crlIssuer(l *RevocationList) *x509.Certificate {
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

// Stale reports whether the CRL is past its nextUpdate at now. ALB keeps
// applying such CRLs (it has no CRL refresh); edge warns about them.
func (c *CRL) Stale(now time.Time) bool {
	return !c.List.NextUpdate.IsZero() && now.After(c.List.NextUpdate)
}

// RevocationIDs hands out revocation ids that are never reused while edge
// runs. A pinned id (RevocationInput.ID) is used as given. Otherwise an
// unchanged CRL (same store, source and content) keeps its id across
// reloads; a new, changed or re-added CRL gets one more than the highest
// id before it in the store's list and than every id the store ever had
// (so on a first load the CRLs count 1, 2, 3... in list order, and a CRL
// added later gets the highest id plus one), skipping ids pinned in the
// same list. It is safe for concurrent use.
type RevocationIDs struct {
	mu   sync.Mutex
	next map[string]int64            // store → highest id handed out or pinned
	live map[string]map[string]int64 // store → key → id of the last build
}

// NewRevocationIDs returns an allocator that starts every store at 1.
func NewRevocationIDs() *RevocationIDs {
	return &RevocationIDs{next: map[string]int64{}, live: map[string]map[string]int64{}}
}

// FirstIDs returns the revocation ids a store's first load gives its CRLs,
// pinned[i] being CRL i's pinned id (0: unpinned): the numbering of
// RevocationIDs, for callers that show ids before edge loads the store
// (the AWS endpoint's view of edge.yaml).
func FirstIDs(pinned []int64) []int64 {
	return NewRevocationIDs().assign("", make([]string, len(pinned)), pinned)
}

// assign numbers a build's CRLs (keys[i], pinned[i] > 0 when pinned).
func (r *RevocationIDs) assign(store string, keys []string, pinned []int64) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.live[store]
	hist := r.next[store]
	taken := make(map[int64]bool, len(keys))
	for _, p := range pinned {
		if p > 0 {
			taken[p] = true
		}
	}
	used := make(map[int64]bool, len(keys))
	cur := make(map[string]int64, len(keys))
	out := make([]int64, len(keys))
	var before int64 // the highest id so far in this list
	for i, k := range keys {
		id := pinned[i]
		if id <= 0 {
			if old, ok := prev[k]; ok && !taken[old] && !used[old] {
				id = old // unchanged: keeps its id
			} else {
				id = max(before, hist) + 1
				for taken[id] || used[id] {
					id++
				}
				hist = id
			}
		}
		used[id] = true
		before = max(before, id)
		if _, dup := cur[k]; !dup {
			cur[k] = id
		}
		out[i] = id
	}
	r.next[store] = max(hist, before)
	r.live[store] = cur
	return out
}
