package elbv2

import (
	"context"
	"regexp"
	"slices"

	"edge/internal/awsquery"
)

// ALB names: at most 32 letters, digits and hyphens, not starting or
// ending with a hyphen, not starting with "internal-".
var lbName = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

// hostedZone is the ALB canonical hosted zone of region (AWS endpoints
// documentation); us-east-1's for regions not listed.
func hostedZone(region string) string {
	zones := map[string]string{
		"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-1": "Z368ELLRRE2KJ0", "us-west-2": "Z1H1FL5HABSF5",
		"eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5", "ap-southeast-1": "Z1LMS91P8CMLE5", "ap-northeast-1": "Z14GRHDCWA56QT",
	}
	if z, ok := zones[region]; ok {
		return z
	}
	return zones["us-east-1"]
}

// CreateLoadBalancerInput is the model's input.
type CreateLoadBalancerInput struct {
	Name           string `aws:"required"`
	Subnets        list[string]
	SubnetMappings list[SubnetMapping]
	SecurityGroups list[string]
	Scheme         string
	Tags           list[Tag]
	Type           string
	IpAddressType  string
}

// LoadBalancersOutput is the output of CreateLoadBalancer and
// DescribeLoadBalancers.
type LoadBalancersOutput struct {
	LoadBalancers list[LoadBalancerInfo]
	NextMarker    *string `xml:",omitempty"`
}

func (s *Service) createLoadBalancer(ctx context.Context, in *CreateLoadBalancerInput) (*LoadBalancersOutput, error) {
	switch {
	case !lbName.MatchString(in.Name) || len(in.Name) >= 9 && in.Name[:9] == "internal-":
		return nil, validation(&in.Name, "Name", "Member must be 1-32 letters, digits or hyphens, not beginning or ending with a hyphen nor beginning with internal-")
	case in.Type != "" && in.Type != "application":
		return nil, ErrInvalidConfigurationRequest.With("edge emulates application load balancers only (Type=application), not %s.", in.Type)
	case in.Scheme != "" && in.Scheme != "internet-facing" && in.Scheme != "internal":
		return nil, ErrInvalidScheme.With("%q is not internet-facing or internal.", in.Scheme)
	case in.IpAddressType != "" && in.IpAddressType != "ipv4" && in.IpAddressType != "dualstack" && in.IpAddressType != "dualstack-without-public-ipv4":
		return nil, validation(&in.IpAddressType, "IpAddressType", "Member must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]")
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	mappings := append([]SubnetMapping(nil), in.SubnetMappings...)
	for _, sn := range in.Subnets {
		mappings = append(mappings, SubnetMapping{SubnetId: sn})
	}
	// An application load balancer spans subnets of at least two
	// Availability Zones; AWS refuses fewer (none included) with this
	// ValidationError. edge knows no VPC: it counts distinct ids (one id
	// twice is one subnet, in one zone) and records them unchecked.
	distinct := map[string]bool{}
	for _, m := range mappings {
		if m.SubnetId != "" {
			distinct[m.SubnetId] = true
		}
	}
	if len(distinct) < 2 {
		return nil, awsquery.Errorf(awsquery.ErrValidation.Code, "At least two subnets in two different Availability Zones must be specified (edge records subnet ids without checking them: any two distinct ids do; got %d).", len(distinct))
	}
	azs := list[AvailabilityZone]{}
	for i, m := range mappings {
		azs = append(azs, AvailabilityZone{ZoneName: s.o.Region + string(rune('a'+i%26)), SubnetId: m.SubnetId})
	}
	info := LoadBalancerInfo{
		DNSName: s.o.ListenAddress, CanonicalHostedZoneId: hostedZone(s.o.Region), LoadBalancerName: in.Name,
		Scheme: orDefault(in.Scheme, "internet-facing"), VpcId: "vpc-edge", State: LoadBalancerState{Code: "active"}, Type: "application",
		AvailabilityZones: azs, SecurityGroups: list[string](append([]string{}, in.SecurityGroups...)), IpAddressType: orDefault(in.IpAddressType, "ipv4"),
	}
	return mutate(ctx, s, func(w *world) (*LoadBalancersOutput, error) {
		if lb := find(w.loadBalancers(), func(l *LoadBalancer) bool { return l.LoadBalancerName == in.Name }); lb != nil {
			// Idempotent create: the same settings return the existing one.
			same := lb.file == nil && lb.Scheme == info.Scheme && lb.IpAddressType == info.IpAddressType &&
				slices.Equal(lb.SecurityGroups, info.SecurityGroups) && slices.Equal(lb.AvailabilityZones, info.AvailabilityZones)
			if !same {
				return nil, ErrDuplicateLoadBalancerName
			}
			return &LoadBalancersOutput{LoadBalancers: list[LoadBalancerInfo]{lb.LoadBalancerInfo}}, nil
		}
		if len(w.loadBalancers()) >= s.o.Quotas.LoadBalancers {
			return nil, ErrTooManyLoadBalancers.With("The limit is %d.", s.o.Quotas.LoadBalancers)
		}
		lb := &LoadBalancer{LoadBalancerInfo: info, SubnetMappings: mappings, Tags: append([]Tag(nil), in.Tags...)}
		lb.LoadBalancerArn = s.arn.loadBalancer(in.Name, randomID())
		lb.CreatedTime = s.now()
		w.api.LoadBalancers = append(w.api.LoadBalancers, lb)
		return &LoadBalancersOutput{LoadBalancers: list[LoadBalancerInfo]{lb.LoadBalancerInfo}}, nil
	})
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// DescribeLoadBalancersInput is the model's input.
type DescribeLoadBalancersInput struct {
	LoadBalancerArns list[string]
	Names            list[string]
	Marker           *string
	PageSize         *int32
}

func (s *Service) describeLoadBalancers(_ context.Context, in *DescribeLoadBalancersInput) (*LoadBalancersOutput, error) {
	w := s.view()
	sel := w.loadBalancers()
	if len(in.LoadBalancerArns) > 0 || len(in.Names) > 0 {
		sel = nil
		for _, arn := range in.LoadBalancerArns {
			lb := w.loadBalancerByARN(arn)
			if lb == nil {
				return nil, ErrLoadBalancerNotFound.With("Load balancer %q not found.", arn)
			}
			sel = append(sel, lb)
		}
		for _, n := range in.Names {
			lb := find(w.loadBalancers(), func(l *LoadBalancer) bool { return l.LoadBalancerName == n })
			if lb == nil {
				return nil, ErrLoadBalancerNotFound.With("Load balancers '[%s]' not found.", n)
			}
			sel = append(sel, lb)
		}
	}
	pg, next, err := page(sel, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &LoadBalancersOutput{LoadBalancers: list[LoadBalancerInfo]{}, NextMarker: next}
	for _, lb := range pg {
		out.LoadBalancers = append(out.LoadBalancers, lb.LoadBalancerInfo)
	}
	return out, nil
}

// LoadBalancerArnInput names one load balancer.
type LoadBalancerArnInput struct {
	LoadBalancerArn string `aws:"required"`
}

// deleteLoadBalancer deletes the load balancer with its listeners and
// rules. As the model documents, deleting one that does not exist
// succeeds.
func (s *Service) deleteLoadBalancer(ctx context.Context, in *LoadBalancerArnInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		lb := w.loadBalancerByARN(in.LoadBalancerArn)
		if lb == nil {
			return nil, nil
		}
		if lb.file != nil {
			return nil, readOnly("load balancer", lb.LoadBalancerName, lb.file)
		}
		if lb.Attributes["deletion_protection.enabled"] == "true" {
			return nil, ErrOperationNotPermitted.With("Load balancer %q cannot be deleted because deletion protection is enabled.", in.LoadBalancerArn)
		}
		for _, l := range w.listenersOf(lb.LoadBalancerArn) {
			w.api.Rules = deleteFrom(w.api.Rules, func(r *Rule) bool { return r.ListenerArn == l.ListenerArn })
		}
		w.api.Listeners = deleteFrom(w.api.Listeners, func(l *Listener) bool { return l.LoadBalancerArn == lb.LoadBalancerArn })
		w.api.LoadBalancers = deleteFrom(w.api.LoadBalancers, func(l *LoadBalancer) bool { return l.LoadBalancerArn == lb.LoadBalancerArn })
		return nil, nil
	})
}

// CapacityReservationOutput is DescribeCapacityReservation's output:
// edge has no capacity units to reserve, so it is empty.
type CapacityReservationOutput struct {
	CapacityReservationState list[struct{}] `xml:",omitempty"`
}

func (s *Service) describeCapacityReservation(_ context.Context, in *LoadBalancerArnInput) (*CapacityReservationOutput, error) {
	if s.view().loadBalancerByARN(in.LoadBalancerArn) == nil {
		return nil, ErrLoadBalancerNotFound
	}
	return &CapacityReservationOutput{}, nil
}
