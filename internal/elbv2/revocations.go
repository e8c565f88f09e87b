package elbv2

import (
	"context"
	"strconv"
)

func (ts *TrustStore) revocation(id int64) *Revocation {
	return find(ts.Revocations, func(r *Revocation) bool { return r.ID == id })
}

func revocationInfo(ts *TrustStore, r *Revocation) TrustStoreRevocation {
	return TrustStoreRevocation{TrustStoreArn: ts.Arn, RevocationId: r.ID, RevocationType: "CRL", NumberOfRevokedEntries: r.Entries}
}

// RevocationContent is the model's RevocationContent.
type RevocationContent struct {
	S3Bucket        string
	S3Key           string
	S3ObjectVersion string
	RevocationType  string
}

// AddTrustStoreRevocationsInput is the model's input.
type AddTrustStoreRevocationsInput struct {
	TrustStoreArn      string `aws:"required"`
	RevocationContents list[RevocationContent]
}

// TrustStoreRevocationsOutput is the output of AddTrustStoreRevocations
// and DescribeTrustStoreRevocations.
type TrustStoreRevocationsOutput struct {
	TrustStoreRevocations list[TrustStoreRevocation]
	NextMarker            *string `xml:",omitempty"`
}

func (s *Service) addTrustStoreRevocations(ctx context.Context, in *AddTrustStoreRevocationsInput) (*TrustStoreRevocationsOutput, error) {
	if len(in.RevocationContents) == 0 {
		return nil, validation(nil, "RevocationContents", "Member must not be empty")
	}
	for i, rc := range in.RevocationContents {
		m := "RevocationContents.member." + strconv.Itoa(i+1)
		switch {
		case rc.RevocationType != "" && rc.RevocationType != "CRL":
			return nil, validation(&rc.RevocationType, m+".RevocationType", "Member must satisfy enum value set: [CRL]")
		case rc.S3Bucket == "":
			return nil, validation(nil, m+".S3Bucket", "Member must not be null")
		case rc.S3Key == "":
			return nil, validation(nil, m+".S3Key", "Member must not be null")
		}
	}
	ts := s.view().trustStoreByARN(in.TrustStoreArn)
	if ts == nil {
		return nil, ErrTrustStoreNotFound
	}
	type loaded struct {
		blob    Blob
		entries int64
	}
	var crls []loaded
	for _, rc := range in.RevocationContents {
		b, n, err := s.loadCRL(ctx, ts, rc.S3Bucket, rc.S3Key, rc.S3ObjectVersion)
		if err != nil {
			return nil, err
		}
		crls = append(crls, loaded{b, n})
	}
	var revs []*Revocation
	for _, c := range crls {
		revs = append(revs, &Revocation{CRL: c.blob, Entries: c.entries})
	}
	return mutate(ctx, s, func(w *world) (*TrustStoreRevocationsOutput, error) {
		ts := w.trustStoreByARN(in.TrustStoreArn)
		if ts == nil {
			return nil, ErrTrustStoreNotFound
		}
		if err := w.addRevocations(ts, revs); err != nil {
			return nil, err
		}
		out := &TrustStoreRevocationsOutput{TrustStoreRevocations: list[TrustStoreRevocation]{}}
		for _, r := range revs {
			out.TrustStoreRevocations = append(out.TrustStoreRevocations, revocationInfo(ts, r))
		}
		return out, nil
	})
}

// addRevocations checks the quotas and adds revs to ts, each with the
// store's next id.
func (w *world) addRevocations(ts *TrustStore, revs []*Revocation) error {
	total := ts.info().TotalRevokedEntries
	for _, r := range revs {
		total += r.Entries
	}
	q := w.s.o.Quotas
	if n := len(ts.Revocations) + len(revs); n > q.RevocationListsPerTrustStore {
		return ErrTooManyTrustStoreRevocationEntries.With("Trust store %s would have %d revocation lists; the limit is %d.", ts.Name, n, q.RevocationListsPerTrustStore)
	}
	if total > int64(q.RevocationEntriesPerTrustStore) {
		return ErrTooManyTrustStoreRevocationEntries.With("Trust store %s would have %d revocation entries; the limit is %d.", ts.Name, total, q.RevocationEntriesPerTrustStore)
	}
	for _, r := range revs {
		w.addRevocation(ts, r)
	}
	return nil
}

// addRevocation gives r the store's next id (never reused) and adds it.
func (w *world) addRevocation(ts *TrustStore, r *Revocation) {
	if ts.file != nil {
		ov := w.overlay(ts)
		ov.NextRevocationID++
		r.ID = ov.NextRevocationID
		ov.Added = append(ov.Added, r)
		return
	}
	ts.NextRevocationID++
	r.ID = ts.NextRevocationID
	ts.Revocations = append(ts.Revocations, r)
}

// removeRevocation removes revocation id from the store.
func (w *world) removeRevocation(ts *TrustStore, id int64) {
	if ts.file != nil {
		ov := w.overlay(ts)
		n := len(ov.Added)
		ov.Added = deleteFrom(ov.Added, func(r *Revocation) bool { return r.ID == id })
		if len(ov.Added) == n {
			ov.Removed = append(ov.Removed, id)
		}
		return
	}
	ts.Revocations = deleteFrom(ts.Revocations, func(r *Revocation) bool { return r.ID == id })
}

// overlay returns the API changes to a file-layer store, creating them.
func (w *world) overlay(ts *TrustStore) *FileRevocations {
	if w.api.FileRevocations == nil {
		w.api.FileRevocations = map[string]*FileRevocations{}
	}
	ov := w.api.FileRevocations[ts.Name]
	if ov == nil {
		ov = &FileRevocations{}
		w.api.FileRevocations[ts.Name] = ov
	}
	if base := int64(len(w.file.trustStore(ts.Name).Revocations)); ov.NextRevocationID < base {
		ov.NextRevocationID = base
	}
	return ov
}

func (st *State) trustStore(name string) *TrustStore {
	return find(st.TrustStores, func(t *TrustStore) bool { return t.Name == name })
}

// DescribeTrustStoreRevocationsInput is the model's input.
type DescribeTrustStoreRevocationsInput struct {
	TrustStoreArn string `aws:"required"`
	RevocationIds list[int64]
	Marker        *string
	PageSize      *int32
}

func (s *Service) describeTrustStoreRevocations(_ context.Context, in *DescribeTrustStoreRevocationsInput) (*TrustStoreRevocationsOutput, error) {
	ts := s.view().trustStoreByARN(in.TrustStoreArn)
	if ts == nil {
		return nil, ErrTrustStoreNotFound
	}
	sel := ts.Revocations
	if len(in.RevocationIds) > 0 {
		sel = nil
		for _, id := range in.RevocationIds {
			r := ts.revocation(id)
			if r == nil {
				return nil, ErrRevocationIdNotFound.With("Trust store %s has no revocation %d.", ts.Name, id)
			}
			sel = append(sel, r)
		}
	}
	pg, next, err := page(sel, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &TrustStoreRevocationsOutput{TrustStoreRevocations: list[TrustStoreRevocation]{}, NextMarker: next}
	for _, r := range pg {
		out.TrustStoreRevocations = append(out.TrustStoreRevocations, revocationInfo(ts, r))
	}
	return out, nil
}

// RemoveTrustStoreRevocationsInput is the model's input.
type RemoveTrustStoreRevocationsInput struct {
	TrustStoreArn string      `aws:"required"`
	RevocationIds list[int64] `aws:"required"`
}

func (s *Service) removeTrustStoreRevocations(ctx context.Context, in *RemoveTrustStoreRevocationsInput) (*struct{}, error) {
	if len(in.RevocationIds) == 0 {
		return nil, validation(nil, "RevocationIds", "Member must not be empty")
	}
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		ts := w.trustStoreByARN(in.TrustStoreArn)
		if ts == nil {
			return nil, ErrTrustStoreNotFound
		}
		for _, id := range in.RevocationIds {
			if ts.revocation(id) == nil {
				return nil, ErrRevocationIdNotFound.With("Trust store %s has no revocation %d.", ts.Name, id)
			}
		}
		for _, id := range in.RevocationIds {
			w.removeRevocation(ts, id)
		}
		return nil, nil
	})
}
