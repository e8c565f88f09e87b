package elbv2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"edge/internal/pemfile"
)

// Revocations by trust store name, for edge's admin API (internal/admin
// POST/DELETE /trust-stores/NAME/revocations), which names trust stores
// and uploads a CRL in the request body. They share everything with
// AddTrustStoreRevocations and RemoveTrustStoreRevocations: the checks,
// the quotas, the id counter (ids are never reused) and the persistence,
// so a revocation added either way is the same model object.

// RevocationInfo describes one revocation of a trust store.
type RevocationInfo struct {
	TrustStoreArn string
	RevocationID  int64
	Entries       int64
	// Source is where the CRL came from: s3://BUCKET/KEY (with
	// ?versionId=V when pinned), "admin upload sha256:HEX" or, for a CRL
	// file of edge.yaml, its path.
	Source string
}

func revocationSource(r *Revocation) string {
	switch {
	case r.Path != "":
		return r.Path
	case r.CRL.Bucket == "":
		return "admin upload sha256:" + r.CRL.SHA256
	case r.CRL.VersionID != "":
		return "s3://" + r.CRL.Bucket + "/" + r.CRL.Key + "?versionId=" + r.CRL.VersionID
	}
	return "s3://" + r.CRL.Bucket + "/" + r.CRL.Key
}

// TrustStoreARN returns the ARN of the trust store named name (of either
// layer); ok is false when there is none.
func (s *Service) TrustStoreARN(name string) (arn string, ok bool) {
	ts := s.view().trustStoreByName(name)
	if ts == nil {
		return "", false
	}
	return ts.Arn, true
}

// Revocations lists the revocations of the trust store named name, in id
// order of addition; ok is false when there is no such store.
func (s *Service) Revocations(name string) (out []RevocationInfo, ok bool) {
	ts := s.view().trustStoreByName(name)
	if ts == nil {
		return nil, false
	}
	for _, r := range ts.Revocations {
		out = append(out, RevocationInfo{TrustStoreArn: ts.Arn, RevocationID: r.ID, Entries: r.Entries, Source: revocationSource(r)})
	}
	return out, true
}

// AddRevocation adds the PEM CRL data to the trust store named name, as
// AddTrustStoreRevocations does with an S3 object, and applies it before
// returning. Errors are *Error values with AddTrustStoreRevocations' codes
// (TrustStoreNotFound, InvalidRevocationContent,
// TooManyTrustStoreRevocationEntries) or the Applier's.
func (s *Service) AddRevocation(ctx context.Context, name string, data []byte) (RevocationInfo, error) {
	ts := s.view().trustStoreByName(name)
	if ts == nil {
		return RevocationInfo{}, ErrTrustStoreNotFound.With("No trust store is named %q.", name)
	}
	sum := sha256.Sum256(data)
	sha, n, err := s.checkCRL(ts, pemfile.Source{}, data)
	if err != nil {
		return RevocationInfo{}, err
	}
	r := &Revocation{CRL: Blob{SHA256: sha, Size: int64(len(data))}, Entries: n}
	for _, old := range ts.Revocations {
		if old.CRL.SHA256 == hex.EncodeToString(sum[:]) {
			return RevocationInfo{}, ErrInvalidRevocationContent.With("This CRL is already revocation %d of trust store %s.", old.ID, name)
		}
	}
	out, err := mutate(ctx, s, func(w *world) (*RevocationInfo, error) {
		ts := w.trustStoreByName(name)
		if ts == nil {
			return nil, ErrTrustStoreNotFound.With("No trust store is named %q.", name)
		}
		if err := w.addRevocations(ts, []*Revocation{r}); err != nil {
			return nil, err
		}
		return &RevocationInfo{TrustStoreArn: ts.Arn, RevocationID: r.ID, Entries: r.Entries, Source: revocationSource(r)}, nil
	})
	if err != nil {
		return RevocationInfo{}, err
	}
	return *out, nil
}

// RemoveRevocation removes revocation id from the trust store named name,
// as RemoveTrustStoreRevocations does; the id is never handed out again.
// Errors: TrustStoreNotFound, RevocationIdNotFound, or the Applier's.
func (s *Service) RemoveRevocation(ctx context.Context, name string, id int64) error {
	_, err := mutate(ctx, s, func(w *world) (*struct{}, error) {
		ts := w.trustStoreByName(name)
		if ts == nil {
			return nil, ErrTrustStoreNotFound.With("No trust store is named %q.", name)
		}
		if ts.revocation(id) == nil {
			return nil, ErrRevocationIdNotFound.With("Trust store %s has no revocation %d.", name, id)
		}
		w.removeRevocation(ts, id)
		return nil, nil
	})
	return err
}
