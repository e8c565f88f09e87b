package server

import (
	"encoding/hex"
	"errors"
	"fmt"

	"edge/internal/truststore"
)

// ErrNotFound is returned for an unknown trust store or revocation id.
var ErrNotFound = errors.New("not found")

// AddRevocation adds a CRL to a running trust store, as
// AddTrustStoreRevocations does, and returns it with its revocation id.
// The CRL is read with the rules of a CRL file (truststore.ReadCRL: one
// PEM CRL of at most 50 MB); errors wrap
// truststore.ErrInvalidRevocationContent. The change is applied like a
// reload and survives later reloads.
func (s *Server) AddRevocation(store string, data []byte) (*truststore.CRL, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cur := s.current.Load()
	if cur.TrustStores[store] == nil {
		return nil, fmt.Errorf("trust store %q: %w", store, ErrNotFound)
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
		return fmt.Errorf("trust store %q: %w", store, ErrNotFound)
	}
	var src, key string
	for _, c := range st.CRLs {
		if c.ID == id {
			src, key = c.Source, c.Key()
		}
	}
	if src == "" {
		return fmt.Errorf("revocation %d in trust store %s: %w (RevocationIdNotFound)", id, store, ErrNotFound)
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
