package elbv2

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/awsquery"
	"edge/internal/config"
	"edge/internal/objects"
)

// Namespace and Version of ELBv2 responses.
const (
	Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	Version   = "2015-12-01"
)

// Applier makes a candidate state live before the call that produced it
// answers. Edge's implementation derives the complete configuration from
// the YAML layer and st (Derive), reloads the server with it (build, bind,
// swap) and only then returns; on error nothing may have changed. Return a
// *BindError when a listener could not bind (answered DuplicateListener), a
// *BuildError or any other error when the configuration does not build
// (answered InvalidConfigurationRequest with the error's text), or an
// *Error to answer that AWS error.
type Applier interface {
	Apply(ctx context.Context, st *State) error
}

// ApplierFunc adapts a function to Applier.
type ApplierFunc func(ctx context.Context, st *State) error

// Apply calls f.
func (f ApplierFunc) Apply(ctx context.Context, st *State) error { return f(ctx, st) }

// Options configure the service.
type Options struct {
	// Region and AccountID go into ARNs. Default: us-east-1,
	// 123456789012 (as edge's config).
	Region, AccountID string
	// Objects reads CA bundles and CRLs from S3. Required for trust stores.
	Objects objects.Source
	// Applier makes changes live; nil accepts every state (tests).
	Applier Applier
	// Store persists the state; required (OpenEphemeral for --ephemeral).
	Store *Store
	// FileLayer returns the current YAML configuration (validated, as
	// config.Load returns it), or nil when there is none. Its resources
	// appear in every Describe and are read-only, except revocations.
	FileLayer func() *config.Config
	// Quotas are the enforced limits; zero fields take AWS's defaults.
	Quotas Quotas
	// ListenAddress is the address API listeners bind, reported as the
	// load balancers' DNSName. Default: 127.0.0.1.
	ListenAddress string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the ELBv2 control plane.
type Service struct {
	o      Options
	arn    arns
	mu     sync.Mutex // serialises mutations (reads never take it)
	cur    atomic.Pointer[State]
	file   fileCache
	urlKey []byte // signs artefact URLs
}

// New loads the persisted state and returns the service. The state is not
// applied: the caller derives and builds the initial configuration from
// State() (and reports listeners that no longer bind).
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("elbv2: Options.Store is required")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.ListenAddress == "" {
		o.ListenAddress = "127.0.0.1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FileLayer == nil {
		o.FileLayer = func() *config.Config { return nil }
	}
	o.Quotas = o.Quotas.WithDefaults()
	st, err := o.Store.Load()
	if err != nil {
		return nil, err
	}
	s := &Service{o: o, arn: newARNs(o.Region, o.AccountID), urlKey: make([]byte, 32)}
	rand.Read(s.urlKey)
	s.cur.Store(st)
	return s, nil
}

// State returns the applied state. It must not be modified.
func (s *Service) State() *State { return s.cur.Load() }

// Handler returns the ELBv2 Query API handler (mount it as the
// endpoint's ELBv2 service).
func (s *Service) Handler() http.Handler {
	return &awsquery.Service{
		Namespace:     Namespace,
		Version:       Version,
		Ops:           s.ops(),
		OtherVersions: map[string]string{"2012-06-01": "edge does not emulate Classic Load Balancers (Elastic Load Balancing API version 2012-06-01); use elbv2 (2015-12-01)."},
	}
}

// world is the resources one call sees: the file layer (read-only) and
// the API state (the candidate, in a mutation).
type world struct {
	s    *Service
	api  *State
	file *State
}

func (s *Service) view() *world {
	return &world{s: s, api: s.cur.Load(), file: s.fileState()}
}

// mutate runs fn on a copy of the state, applies the result and persists
// it; on any error nothing changes. fn's AWS errors are answered as they
// are; the Applier's are mapped by applyError.
func mutate[Out any](ctx context.Context, s *Service, fn func(w *world) (*Out, error)) (*Out, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	w := &world{s: s, api: old.Clone(), file: s.fileState()}
	out, err := fn(w)
	if err != nil {
		return nil, err
	}
	if s.o.Applier != nil {
		if err := s.o.Applier.Apply(ctx, w.api); err != nil {
			return nil, applyError(err)
		}
	}
	if err := s.o.Store.Save(w.api); err != nil {
		// Put the running configuration back to what is persisted.
		if s.o.Applier != nil {
			s.o.Applier.Apply(ctx, old)
		}
		return nil, awsquery.ErrInternalFailure.With("saving the state: %v", err)
	}
	s.cur.Store(w.api)
	return out, nil
}

func (s *Service) now() Time { return Time{Time: s.o.Now().UTC().Truncate(time.Millisecond)} }

// Op registration: every implemented ELBv2 action.
func (s *Service) ops() map[string]awsquery.Op {
	op := func(o awsquery.Op) awsquery.Op { return o }
	return map[string]awsquery.Op{
		// Trust stores and revocations.
		"CreateTrustStore":                  op(awsquery.Operation(s.createTrustStore)),
		"DescribeTrustStores":               op(awsquery.Operation(s.describeTrustStores)),
		"ModifyTrustStore":                  op(awsquery.Operation(s.modifyTrustStore)),
		"DeleteTrustStore":                  op(awsquery.Operation(s.deleteTrustStore)),
		"AddTrustStoreRevocations":          op(awsquery.Operation(s.addTrustStoreRevocations)),
		"DescribeTrustStoreRevocations":     op(awsquery.Operation(s.describeTrustStoreRevocations)),
		"RemoveTrustStoreRevocations":       op(awsquery.Operation(s.removeTrustStoreRevocations)),
		"GetTrustStoreCaCertificatesBundle": op(awsquery.Operation(s.getTrustStoreCaCertificatesBundle)),
		"GetTrustStoreRevocationContent":    op(awsquery.Operation(s.getTrustStoreRevocationContent)),
		"DescribeTrustStoreAssociations":    op(awsquery.Operation(s.describeTrustStoreAssociations)),
		"DeleteSharedTrustStoreAssociation": op(awsquery.Operation(s.deleteSharedTrustStoreAssociation)),
		"GetResourcePolicy":                 op(awsquery.Operation(s.getResourcePolicy)),
		// Load balancers.
		"CreateLoadBalancer":             op(awsquery.Operation(s.createLoadBalancer)),
		"DescribeLoadBalancers":          op(awsquery.Operation(s.describeLoadBalancers)),
		"DeleteLoadBalancer":             op(awsquery.Operation(s.deleteLoadBalancer)),
		"DescribeLoadBalancerAttributes": op(awsquery.Operation(s.describeLoadBalancerAttributes)),
		"ModifyLoadBalancerAttributes":   op(awsquery.Operation(s.modifyLoadBalancerAttributes)),
		"DescribeCapacityReservation":    op(awsquery.Operation(s.describeCapacityReservation)),
		// Target groups and targets.
		"CreateTargetGroup":             op(awsquery.Operation(s.createTargetGroup)),
		"DescribeTargetGroups":          op(awsquery.Operation(s.describeTargetGroups)),
		"ModifyTargetGroup":             op(awsquery.Operation(s.modifyTargetGroup)),
		"DeleteTargetGroup":             op(awsquery.Operation(s.deleteTargetGroup)),
		"DescribeTargetGroupAttributes": op(awsquery.Operation(s.describeTargetGroupAttributes)),
		"ModifyTargetGroupAttributes":   op(awsquery.Operation(s.modifyTargetGroupAttributes)),
		"RegisterTargets":               op(awsquery.Operation(s.registerTargets)),
		"DeregisterTargets":             op(awsquery.Operation(s.deregisterTargets)),
		"DescribeTargetHealth":          op(awsquery.Operation(s.describeTargetHealth)),
		// Listeners, certificates, rules.
		"CreateListener":               op(awsquery.Operation(s.createListener)),
		"DescribeListeners":            op(awsquery.Operation(s.describeListeners)),
		"ModifyListener":               op(awsquery.Operation(s.modifyListener)),
		"DeleteListener":               op(awsquery.Operation(s.deleteListener)),
		"DescribeListenerAttributes":   op(awsquery.Operation(s.describeListenerAttributes)),
		"ModifyListenerAttributes":     op(awsquery.Operation(s.modifyListenerAttributes)),
		"AddListenerCertificates":      op(awsquery.Operation(s.addListenerCertificates)),
		"DescribeListenerCertificates": op(awsquery.Operation(s.describeListenerCertificates)),
		"RemoveListenerCertificates":   op(awsquery.Operation(s.removeListenerCertificates)),
		"CreateRule":                   op(awsquery.Operation(s.createRule)),
		"DescribeRules":                op(awsquery.Operation(s.describeRules)),
		"ModifyRule":                   op(awsquery.Operation(s.modifyRule)),
		"DeleteRule":                   op(awsquery.Operation(s.deleteRule)),
		"SetRulePriorities":            op(awsquery.Operation(s.setRulePriorities)),
		// Tags, policies, limits.
		"AddTags":               op(awsquery.Operation(s.addTags)),
		"RemoveTags":            op(awsquery.Operation(s.removeTags)),
		"DescribeTags":          op(awsquery.Operation(s.describeTags)),
		"DescribeSSLPolicies":   op(awsquery.Operation(s.describeSSLPolicies)),
		"DescribeAccountLimits": op(awsquery.Operation(s.describeAccountLimits)),
	}
}

// readOnly is the error for changing a file-layer resource.
func readOnly(what, name string, f *fileInfo) *Error {
	return ErrOperationNotPermitted.With("%s %s is defined in %s; edit the file and reload edge to change it.", what, name, f.where)
}
