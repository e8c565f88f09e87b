package elbv2

import "context"

// ListenerCertificatesInput is the input of Add/RemoveListenerCertificates.
type ListenerCertificatesInput struct {
	ListenerArn  string            `aws:"required"`
	Certificates list[Certificate] `aws:"required"`
}

// CertificatesOutput is AddListenerCertificates' and
// DescribeListenerCertificates' output.
type CertificatesOutput struct {
	Certificates list[Certificate]
	NextMarker   *string `xml:",omitempty"`
}

func (s *Service) addListenerCertificates(ctx context.Context, in *ListenerCertificatesInput) (*CertificatesOutput, error) {
	return mutate(ctx, s, func(w *world) (*CertificatesOutput, error) {
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		if l.file != nil {
			return nil, readOnly("listener", l.ListenerArn, l.file)
		}
		if l.Protocol != "HTTPS" {
			return nil, ErrIncompatibleProtocols.With("Certificates apply to HTTPS listeners.")
		}
		out := &CertificatesOutput{Certificates: list[Certificate]{}}
		for _, c := range in.Certificates {
			if !certificateArn.MatchString(c.CertificateArn) {
				return nil, ErrCertificateNotFound.With("Certificate %q is not an ACM or IAM server certificate ARN.", c.CertificateArn)
			}
			f := false
			cert := Certificate{CertificateArn: c.CertificateArn, IsDefault: &f}
			dup := l.Certificates[0].CertificateArn == c.CertificateArn
			for _, e := range l.ExtraCertificates {
				dup = dup || e.CertificateArn == c.CertificateArn
			}
			if !dup {
				l.ExtraCertificates = append(l.ExtraCertificates, cert)
			}
			out.Certificates = append(out.Certificates, cert)
		}
		n := 0
		for _, o := range w.listenersOf(l.LoadBalancerArn) {
			n += len(o.ExtraCertificates)
		}
		if n > s.o.Quotas.CertificatesPerLoadBalancer {
			return nil, ErrTooManyCertificates.With("The limit is %d certificates per load balancer besides the default ones.", s.o.Quotas.CertificatesPerLoadBalancer)
		}
		return out, nil
	})
}

// DescribeListenerCertificatesInput is the model's input.
type DescribeListenerCertificatesInput struct {
	ListenerArn string `aws:"required"`
	Marker      *string
	PageSize    *int32
}

func (s *Service) describeListenerCertificates(_ context.Context, in *DescribeListenerCertificatesInput) (*CertificatesOutput, error) {
	l := s.view().listenerByARN(in.ListenerArn)
	if l == nil {
		return nil, ErrListenerNotFound
	}
	var all []Certificate
	t := true
	for _, c := range l.Certificates {
		all = append(all, Certificate{CertificateArn: c.CertificateArn, IsDefault: &t})
	}
	all = append(all, l.ExtraCertificates...)
	pg, next, err := page(all, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &CertificatesOutput{Certificates: list[Certificate](append([]Certificate{}, pg...)), NextMarker: next}, nil
}

func (s *Service) removeListenerCertificates(ctx context.Context, in *ListenerCertificatesInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		if l.file != nil {
			return nil, readOnly("listener", l.ListenerArn, l.file)
		}
		for _, c := range in.Certificates {
			if len(l.Certificates) > 0 && l.Certificates[0].CertificateArn == c.CertificateArn {
				return nil, ErrOperationNotPermitted.With("The default certificate cannot be removed; replace it with ModifyListener.")
			}
			kept := l.ExtraCertificates[:0]
			for _, e := range l.ExtraCertificates {
				if e.CertificateArn != c.CertificateArn {
					kept = append(kept, e)
				}
			}
			l.ExtraCertificates = kept
		}
		return nil, nil
	})
}
