package elbv2

import (
	"context"
	"crypto/tls"

	"edge/internal/tlsterm"
)

// DescribeSSLPoliciesInput is the model's input.
type DescribeSSLPoliciesInput struct {
	Names            list[string]
	Marker           *string
	PageSize         *int32
	LoadBalancerType string
}

// Cipher is the model's Cipher.
type Cipher struct {
	Name     string
	Priority int32
}

// SslPolicy is the model's SslPolicy.
type SslPolicy struct {
	SslProtocols               list[string]
	Ciphers                    list[Cipher]
	Name                       string
	SupportedLoadBalancerTypes list[string]
}

// DescribeSSLPoliciesOutput is the model's output.
type DescribeSSLPoliciesOutput struct {
	SslPolicies list[SslPolicy]
	NextMarker  *string `xml:",omitempty"`
}

// describeSSLPolicies lists edge's ELB security policies (internal/tlsterm)
// with their protocols and OpenSSL cipher names in policy order.
func (s *Service) describeSSLPolicies(_ context.Context, in *DescribeSSLPoliciesInput) (*DescribeSSLPoliciesOutput, error) {
	names := tlsterm.PolicyNames()
	if len(in.Names) > 0 {
		names = in.Names
	}
	var all []SslPolicy
	for _, n := range names {
		p, err := tlsterm.LookupPolicy(n)
		if err != nil {
			return nil, ErrSSLPolicyNotFound.With("%v", err)
		}
		sp := SslPolicy{Name: p.Name, SupportedLoadBalancerTypes: list[string]{"application", "network"}, SslProtocols: list[string]{}, Ciphers: list[Cipher]{}}
		for v := p.MinVersion; v <= p.MaxVersion && v != 0; v++ {
			sp.SslProtocols = append(sp.SslProtocols, map[uint16]string{tls.VersionTLS10: "TLSv1", tls.VersionTLS11: "TLSv1.1", tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}[v])
		}
		for i, c := range p.Ciphers {
			sp.Ciphers = append(sp.Ciphers, Cipher{Name: c, Priority: int32(i + 1)})
		}
		all = append(all, sp)
	}
	pg, next, err := page(all, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &DescribeSSLPoliciesOutput{SslPolicies: list[SslPolicy](append([]SslPolicy{}, pg...)), NextMarker: next}, nil
}

// DescribeAccountLimitsInput is the model's input.
type DescribeAccountLimitsInput struct {
	Marker   *string
	PageSize *int32
}

// DescribeAccountLimitsOutput is the model's output.
type DescribeAccountLimitsOutput struct {
	Limits     list[Limit]
	NextMarker *string `xml:",omitempty"`
}

func (s *Service) describeAccountLimits(_ context.Context, in *DescribeAccountLimitsInput) (*DescribeAccountLimitsOutput, error) {
	pg, next, err := page(s.o.Quotas.limits(), in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &DescribeAccountLimitsOutput{Limits: list[Limit](append([]Limit{}, pg...)), NextMarker: next}, nil
}
