package elbv2

import (
	"context"
	"regexp"
)

// Trust store names: 1-32 characters, ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$ (model).
var trustStoreName = regexp.MustCompile(`^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`)

func (ts *TrustStore) info() TrustStoreInfo {
	var total int64
	for _, r := range ts.Revocations {
		total += r.Entries
	}
	return TrustStoreInfo{Name: ts.Name, TrustStoreArn: ts.Arn, Status: "ACTIVE", NumberOfCaCertificates: ts.NumberOfCaCertificates, TotalRevokedEntries: total}
}

// CreateTrustStoreInput is the model's CreateTrustStoreInput.
type CreateTrustStoreInput struct {
	Name                                string `aws:"required"`
	CaCertificatesBundleS3Bucket        string `aws:"required"`
	CaCertificatesBundleS3Key           string `aws:"required"`
	CaCertificatesBundleS3ObjectVersion string
	Tags                                list[Tag]
}

// TrustStoresOutput is the output of CreateTrustStore, ModifyTrustStore
// and DescribeTrustStores.
type TrustStoresOutput struct {
	TrustStores list[TrustStoreInfo]
	NextMarker  *string `xml:",omitempty"`
}

func (s *Service) createTrustStore(ctx context.Context, in *CreateTrustStoreInput) (*TrustStoresOutput, error) {
	if len(in.Name) > 32 || !trustStoreName.MatchString(in.Name) {
		return nil, validation(&in.Name, "Name", "Member must have length between 1 and 32 and satisfy regular expression pattern: ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$")
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	if len(in.Tags) > s.o.Quotas.TagsPerResource {
		return nil, ErrTooManyTags
	}
	if w := s.view(); w.trustStoreByName(in.Name) != nil {
		return nil, ErrDuplicateTrustStoreName
	} else if len(w.trustStores()) >= s.o.Quotas.TrustStores {
		return nil, ErrTooManyTrustStores.With("The limit is %d.", s.o.Quotas.TrustStores)
	}
	// Reading S3 happens outside the mutation lock: a 50 MB object must
	// not hold up other calls.
	blob, n, err := s.loadBundle(ctx, in.CaCertificatesBundleS3Bucket, in.CaCertificatesBundleS3Key, in.CaCertificatesBundleS3ObjectVersion)
	if err != nil {
		return nil, err
	}
	return mutate(ctx, s, func(w *world) (*TrustStoresOutput, error) {
		if w.trustStoreByName(in.Name) != nil {
			return nil, ErrDuplicateTrustStoreName
		}
		if len(w.trustStores()) >= s.o.Quotas.TrustStores {
			return nil, ErrTooManyTrustStores.With("The limit is %d.", s.o.Quotas.TrustStores)
		}
		ts := &TrustStore{Name: in.Name, Arn: s.arn.trustStore(in.Name, randomID()), Bundle: blob, NumberOfCaCertificates: n,
			Tags: append([]Tag(nil), in.Tags...), Created: s.now().Time}
		w.api.TrustStores = append(w.api.TrustStores, ts)
		return &TrustStoresOutput{TrustStores: list[TrustStoreInfo]{ts.info()}}, nil
	})
}

// DescribeTrustStoresInput is the model's DescribeTrustStoresInput.
type DescribeTrustStoresInput struct {
	TrustStoreArns list[string]
	Names          list[string]
	Marker         *string
	PageSize       *int32
}

func (s *Service) describeTrustStores(_ context.Context, in *DescribeTrustStoresInput) (*TrustStoresOutput, error) {
	w := s.view()
	var sel []*TrustStore
	switch {
	case len(in.TrustStoreArns) > 0 || len(in.Names) > 0:
		for _, arn := range in.TrustStoreArns {
			ts := w.trustStoreByARN(arn)
			if ts == nil {
				return nil, ErrTrustStoreNotFound
			}
			sel = append(sel, ts)
		}
		for _, n := range in.Names {
			ts := w.trustStoreByName(n)
			if ts == nil {
				return nil, ErrTrustStoreNotFound
			}
			sel = append(sel, ts)
		}
	default:
		sel = w.trustStores()
	}
	pg, next, err := page(sel, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &TrustStoresOutput{TrustStores: list[TrustStoreInfo]{}, NextMarker: next}
	for _, ts := range pg {
		out.TrustStores = append(out.TrustStores, ts.info())
	}
	return out, nil
}

// ModifyTrustStoreInput is the model's ModifyTrustStoreInput.
type ModifyTrustStoreInput struct {
	TrustStoreArn                       string `aws:"required"`
	CaCertificatesBundleS3Bucket        string `aws:"required"`
	CaCertificatesBundleS3Key           string `aws:"required"`
	CaCertificatesBundleS3ObjectVersion string
}

func (s *Service) modifyTrustStore(ctx context.Context, in *ModifyTrustStoreInput) (*TrustStoresOutput, error) {
	ts := s.view().trustStoreByARN(in.TrustStoreArn)
	if ts == nil {
		return nil, ErrTrustStoreNotFound
	}
	if ts.file != nil {
		return nil, readOnly("trust store", ts.Name, ts.file)
	}
	blob, n, err := s.loadBundle(ctx, in.CaCertificatesBundleS3Bucket, in.CaCertificatesBundleS3Key, in.CaCertificatesBundleS3ObjectVersion)
	if err != nil {
		return nil, err
	}
	return mutate(ctx, s, func(w *world) (*TrustStoresOutput, error) {
		ts := w.trustStoreByARN(in.TrustStoreArn)
		if ts == nil {
			return nil, ErrTrustStoreNotFound
		}
		ts.Bundle, ts.NumberOfCaCertificates = blob, n
		return &TrustStoresOutput{TrustStores: list[TrustStoreInfo]{ts.info()}}, nil
	})
}

// TrustStoreArnInput names one trust store.
type TrustStoreArnInput struct {
	TrustStoreArn string `aws:"required"`
}

func (s *Service) deleteTrustStore(ctx context.Context, in *TrustStoreArnInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		ts := w.trustStoreByARN(in.TrustStoreArn)
		if ts == nil {
			return nil, ErrTrustStoreNotFound
		}
		if ts.file != nil {
			return nil, readOnly("trust store", ts.Name, ts.file)
		}
		if users := w.trustStoreUsers(ts.Arn); len(users) > 0 {
			return nil, ErrTrustStoreInUse.With("Listener %s uses it.", users[0].ListenerArn)
		}
		w.api.TrustStores = deleteFrom(w.api.TrustStores, func(t *TrustStore) bool { return t.Arn == ts.Arn })
		return nil, nil
	})
}

// trustStoreUsers lists the listeners whose mutual authentication names the
// trust store.
func (w *world) trustStoreUsers(arn string) []*Listener {
	var out []*Listener
	for _, l := range w.listeners() {
		if ma := l.MutualAuthentication; ma != nil && ma.TrustStoreArn == arn {
			out = append(out, l)
		}
	}
	return out
}

// DescribeTrustStoreAssociationsInput is the model's input.
type DescribeTrustStoreAssociationsInput struct {
	TrustStoreArn string `aws:"required"`
	Marker        *string
	PageSize      *int32
}

// TrustStoreAssociation is the model's TrustStoreAssociation.
type TrustStoreAssociation struct {
	ResourceArn string
}

// DescribeTrustStoreAssociationsOutput is the model's output.
type DescribeTrustStoreAssociationsOutput struct {
	TrustStoreAssociations list[TrustStoreAssociation]
	NextMarker             *string `xml:",omitempty"`
}

// describeTrustStoreAssociations lists each load balancer with a listener
// using the trust store, once (reference §7.3: AWS's choice between load
// balancer and listener ARNs is unverified; Terraform only needs the list
// to empty after DeleteListener).
func (s *Service) describeTrustStoreAssociations(_ context.Context, in *DescribeTrustStoreAssociationsInput) (*DescribeTrustStoreAssociationsOutput, error) {
	w := s.view()
	if w.trustStoreByARN(in.TrustStoreArn) == nil {
		return nil, ErrTrustStoreNotFound
	}
	var assoc []TrustStoreAssociation
	seen := map[string]bool{}
	for _, l := range w.trustStoreUsers(in.TrustStoreArn) {
		if !seen[l.LoadBalancerArn] {
			seen[l.LoadBalancerArn] = true
			assoc = append(assoc, TrustStoreAssociation{ResourceArn: l.LoadBalancerArn})
		}
	}
	pg, next, err := page(assoc, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &DescribeTrustStoreAssociationsOutput{TrustStoreAssociations: list[TrustStoreAssociation](append([]TrustStoreAssociation{}, pg...)), NextMarker: next}, nil
}

// DeleteSharedTrustStoreAssociationInput is the model's input.
type DeleteSharedTrustStoreAssociationInput struct {
	TrustStoreArn string `aws:"required"`
	ResourceArn   string `aws:"required"`
}

// deleteSharedTrustStoreAssociation: edge has one account, so nothing is
// shared (AWS: DeleteAssociationSameAccount for an own resource).
func (s *Service) deleteSharedTrustStoreAssociation(_ context.Context, in *DeleteSharedTrustStoreAssociationInput) (*struct{}, error) {
	w := s.view()
	if w.trustStoreByARN(in.TrustStoreArn) == nil {
		return nil, ErrTrustStoreNotFound
	}
	for _, l := range w.trustStoreUsers(in.TrustStoreArn) {
		if l.LoadBalancerArn == in.ResourceArn {
			return nil, ErrDeleteAssociationSameAccount
		}
	}
	return nil, ErrTrustStoreAssociationNotFound
}

// GetResourcePolicyInput is the model's input.
type GetResourcePolicyInput struct {
	ResourceArn string `aws:"required"`
}

// GetResourcePolicyOutput is the model's output.
type GetResourcePolicyOutput struct {
	Policy string
}

// getResourcePolicy: edge shares nothing through RAM, so no resource has
// a policy.
func (s *Service) getResourcePolicy(_ context.Context, in *GetResourcePolicyInput) (*GetResourcePolicyOutput, error) {
	return nil, ErrResourceNotFound.With("edge does not emulate RAM sharing; %s has no resource policy.", in.ResourceArn)
}
