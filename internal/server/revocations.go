package server

import (
	"encoding/hex"
	"errors"
	"fmt"

	"edge/internal/truststore"
)

// ErrNotFound is returned for an unknown trust store or revocation id;
// the error is a *NotFoundError saying which.
var ErrNotFound = errors.New("not found")

// NotFoundError is an unknown trust store (RevocationID 0) or an unknown
// revocation id of a trust store; errors.Is(err, ErrNotFound) holds.
type NotFoundError struct {
	TrustStore   string
	RevocationID int64
}

func (e *NotFoundError) Error() string {
	if e.RevocationID != 0 {
		return fmt.Sprintf("revocation %d in trust store %s: not found (RevocationIdNotFound)", e.RevocationID, e.TrustStore)
	}
	return fmt.Sprintf("trust store %q: not found (TrustStoreNotFound)", e.TrustStore)
}

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AddRevocation adds a CRL to a running trust store, as
// AddTrustStoreRevocations does, and returns it with its revocation id.
// The CRL is read with the rules of a CRL file (truststore.ReadCRL: one
// PEM CRL of at most 50 MB). Errors: a *NotFoundError for an unknown
// store; one wrapping truststore.ErrInvalidRevocationContent for a CRL
// edge cannot use; a config.Problems wrapping
// truststore.ErrTooManyRevocationEntries past the store's quotas (or the
// cause of any other problem of the rebuilt configuration); ErrStopped or
// ErrFileChanging when nothing could be applied now. The change is
// applied like a reload and survives later reloads.
func (s *Server) AddRevocation(store string, data []byte) (*truststore.CRL, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cur := s.current.Load()
	if cur.TrustStores[store] == nil {
		return nil, &NotFoundError{TrustStore: store}
	}
	in, err := truststore.ReadCRL("", data)
	if err != nil {
		return nil, err
	}
	src := "admin:" + hex.EncodeToString(in.Digest[:8])
	in.Source = src
	for _, in := range s.extraCRLs[store] {
		if in.Source == src {
			return nil, fmt.Errorf("%w: this CRL is already in trust store %s", truststore.ErrInvalidRevocationContent, store)
		}
	}
	prev := s.extraCRLs[store]
	s.extraCRLs[store] = append(append([]truststore.RevocationInput(nil), prev...), in)
	if err := s.reloadLocked(cur.Config); err != nil {
		s.extraCRLs[store] = prev
		return nil, err
	}
	for _, c := range s.current.Load().TrustStores[store].CRLs {
		if c.Source == src {
			return c, nil
		}
	}
	return nil, errors.New("the added CRL is missing after the reload")
}

// RemoveRevocation removes revocation id from a running trust store, as
// RemoveTrustStoreRevocations does. The id is never handed out again. A
// CRL file is removed by its content: when the file is rewritten later,
// the new CRL applies (with a new id).
func (s *Server) RemoveRevocation(store string, id int64) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cur := s.current.Load()
	st := cur.TrustStores[store]
	if st == nil {
		return &NotFoundError{TrustStore: store}
	}
	var src, key string
	for _, c := range st.CRLs {
		if c.ID == id {
			src, key = c.Source, c.Key()
		}
	}
	if src == "" {
		return &NotFoundError{TrustStore: store, RevocationID: id}
	}
	prevExtra, prevRemoved := s.extraCRLs[store], s.removedCRLs[store]
	var kept []truststore.RevocationInput
	found := false
	for _, in := range prevExtra {
		if in.Source == src {
			found = true
			continue
		}
		kept = append(kept, in)
	}
	if found {
		s.extraCRLs[store] = kept
	} else {
		removed := map[string]bool{key: true}
		for k := range prevRemoved {
			removed[k] = true
		}
		s.removedCRLs[store] = removed
	}
	if err := s.reloadLocked(cur.Config); err != nil {
		s.extraCRLs[store], s.removedCRLs[store] = prevExtra, prevRemoved
		return err
	}
	return nil
}
