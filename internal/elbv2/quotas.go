package elbv2

import "strconv"

// Quotas are the limits the service enforces. The defaults are AWS's
// (Elastic Load Balancing quotas, "Quotas for your Application Load
// Balancers" and "trust stores"); every one can be raised, as an edge
// quotas: block does.
type Quotas struct {
	LoadBalancers                  int // per Region: 50
	ListenersPerLoadBalancer       int // 50
	VerifyListenersPerLoadBalancer int // listeners in mTLS verify mode per ALB: 2
	CertificatesPerLoadBalancer    int // excluding default certificates: 25
	TargetGroups                   int // per Region: 3000
	TargetGroupsPerLoadBalancer    int // 100
	TargetGroupsPerAction          int // 5
	TargetsPerLoadBalancer         int // 1000
	RulesPerLoadBalancer           int // excluding defaults: 100
	TrustStores                    int // per account: 20
	RevocationListsPerTrustStore   int // 30
	RevocationEntriesPerTrustStore int // 500,000
	RevocationFileSize             int // bytes: 50 MB
	TagsPerResource                int // 50
}

// DefaultQuotas returns AWS's default quotas.
func DefaultQuotas() Quotas {
	return Quotas{
		LoadBalancers:                  50,
		ListenersPerLoadBalancer:       50,
		VerifyListenersPerLoadBalancer: 2,
		CertificatesPerLoadBalancer:    25,
		TargetGroups:                   3000,
		TargetGroupsPerLoadBalancer:    100,
		TargetGroupsPerAction:          5,
		TargetsPerLoadBalancer:         1000,
		RulesPerLoadBalancer:           100,
		TrustStores:                    20,
		RevocationListsPerTrustStore:   30,
		RevocationEntriesPerTrustStore: 500_000,
		RevocationFileSize:             50 << 20,
		TagsPerResource:                50,
	}
}

// WithDefaults returns q with every zero quota set to AWS's default.
func (q Quotas) WithDefaults() Quotas {
	d := DefaultQuotas()
	for _, p := range []struct{ v, d *int }{
		{&q.LoadBalancers, &d.LoadBalancers}, {&q.ListenersPerLoadBalancer, &d.ListenersPerLoadBalancer},
		{&q.VerifyListenersPerLoadBalancer, &d.VerifyListenersPerLoadBalancer}, {&q.CertificatesPerLoadBalancer, &d.CertificatesPerLoadBalancer},
		{&q.TargetGroups, &d.TargetGroups}, {&q.TargetGroupsPerLoadBalancer, &d.TargetGroupsPerLoadBalancer},
		{&q.TargetGroupsPerAction, &d.TargetGroupsPerAction}, {&q.TargetsPerLoadBalancer, &d.TargetsPerLoadBalancer},
		{&q.RulesPerLoadBalancer, &d.RulesPerLoadBalancer}, {&q.TrustStores, &d.TrustStores},
		{&q.RevocationListsPerTrustStore, &d.RevocationListsPerTrustStore}, {&q.RevocationEntriesPerTrustStore, &d.RevocationEntriesPerTrustStore},
		{&q.RevocationFileSize, &d.RevocationFileSize}, {&q.TagsPerResource, &d.TagsPerResource},
	} {
		if *p.v <= 0 {
			*p.v = *p.d
		}
	}
	return q
}

// limits is DescribeAccountLimits' list: the ALB limit names of the
// ELBv2 API reference, then the trust store quotas under edge's names.
func (q Quotas) limits() []Limit {
	n := func(name string, v int) Limit { return Limit{Name: name, Max: strconv.Itoa(v)} }
	return []Limit{
		n("application-load-balancers", q.LoadBalancers),
		n("condition-values-per-alb-rule", 5),
		n("condition-wildcards-per-alb-rule", 5),
		n("listeners-per-application-load-balancer", q.ListenersPerLoadBalancer),
		n("rules-per-application-load-balancer", q.RulesPerLoadBalancer),
		n("target-groups", q.TargetGroups),
		n("target-groups-per-action-on-application-load-balancer", q.TargetGroupsPerAction),
		n("target-groups-per-application-load-balancer", q.TargetGroupsPerLoadBalancer),
		n("targets-per-application-load-balancer", q.TargetsPerLoadBalancer),
		n("certificates-per-application-load-balancer", q.CertificatesPerLoadBalancer),
		n("mtls-verify-listeners-per-application-load-balancer", q.VerifyListenersPerLoadBalancer),
		n("trust-stores", q.TrustStores),
		n("revocation-lists-per-trust-store", q.RevocationListsPerTrustStore),
		n("revocation-entries-per-trust-store", q.RevocationEntriesPerTrustStore),
	}
}

// Limit is the model's Limit.
type Limit struct {
	Name string
	Max  string
}
