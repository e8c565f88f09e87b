package elbv2

import (
	"context"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"edge/internal/tlsterm"
)

// certificateArn accepts the ARN forms ELBv2 takes: ACM certificates and
// IAM server certificates.
var certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+|iam::\d{12}:server-certificate/.+)$`)

var alpnPolicies = []string{"HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"}

// ListenerSpec is the members CreateListener and ModifyListener share;
// nil means "not given".
type ListenerSpec struct {
	Port                 *int32
	Protocol             *string
	SslPolicy            *string
	Certificates         list[Certificate]
	DefaultActions       list[Action]
	AlpnPolicy           list[string]
	MutualAuthentication *MutualAuthentication
}

// CreateListenerInput is the model's input.
type CreateListenerInput struct {
	LoadBalancerArn string `aws:"required"`
	ListenerSpec
	Tags list[Tag]
}

// ModifyListenerInput is the model's input.
type ModifyListenerInput struct {
	ListenerArn string `aws:"required"`
	ListenerSpec
}

// ListenersOutput is the output of Create/Modify/DescribeListener(s).
type ListenersOutput struct {
	Listeners  list[ListenerInfo]
	NextMarker *string `xml:",omitempty"`
}

// apply sets the given members on l (structures replace, absent members
// keep their value) and checks the result.
func (w *world) applyListenerSpec(l *Listener, in *ListenerSpec) error {
	if in.Port != nil {
		if *in.Port < 1 || *in.Port > 65535 {
			v := strconv.Itoa(int(*in.Port))
			return validation(&v, "Port", "Member must have value between 1 and 65535")
		}
		l.Port = *in.Port
	}
	if in.Protocol != nil {
		switch *in.Protocol {
		case "HTTP", "HTTPS":
		case "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC":
			return ErrIncompatibleProtocols.With("Application load balancer listeners use HTTP or HTTPS, not %s.", *in.Protocol)
		default:
			return validation(in.Protocol, "Protocol", "Member must satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC]")
		}
		l.Protocol = *in.Protocol
	}
	if in.SslPolicy != nil {
		l.SslPolicy = *in.SslPolicy
	}
	if in.Certificates != nil {
		for _, c := range in.Certificates {
			if !certificateArn.MatchString(c.CertificateArn) {
				return ErrCertificateNotFound.With("Certificate %q is not an ACM or IAM server certificate ARN.", c.CertificateArn)
			}
		}
		if len(in.Certificates) > 1 {
			return ErrTooManyCertificates.With("A listener has one default certificate; add others with AddListenerCertificates.")
		}
		l.Certificates = list[Certificate]{}
		for _, c := range in.Certificates {
			l.Certificates = append(l.Certificates, Certificate{CertificateArn: c.CertificateArn})
		}
	}
	if in.DefaultActions != nil {
		if err := w.checkActions(in.DefaultActions, "DefaultActions", l.LoadBalancerArn, l.Protocol); err != nil {
			return err
		}
		l.DefaultActions = normalizeActions(in.DefaultActions)
	}
	if in.AlpnPolicy != nil {
		for _, p := range in.AlpnPolicy {
			if !slices.Contains(alpnPolicies, p) {
				return ErrALPNPolicyNotFound.With("%q is not one of %v.", p, alpnPolicies)
			}
		}
		l.AlpnPolicy = in.AlpnPolicy
	}
	if in.MutualAuthentication != nil {
		// A present structure replaces the whole block (the CLI sends
		// only the members given: Mode=passthrough resets the rest).
		ma, err := w.normalizeMTLS(*in.MutualAuthentication)
		if err != nil {
			return err
		}
		l.MutualAuthentication = ma
	}
	switch l.Protocol {
	case "HTTP":
		if len(l.Certificates) > 0 || l.SslPolicy != "" || len(l.ExtraCertificates) > 0 {
			if in.Protocol != nil && (in.Certificates == nil && in.SslPolicy == nil) {
				// Switching to HTTP drops the TLS settings.
				l.Certificates, l.SslPolicy, l.ExtraCertificates = nil, "", nil
			} else {
				return ErrIncompatibleProtocols.With("An HTTP listener has no certificates or security policy.")
			}
		}
		if ma := l.MutualAuthentication; ma != nil && ma.Mode != "off" {
			if in.MutualAuthentication != nil {
				return ErrInvalidConfigurationRequest.With("Mutual authentication needs an HTTPS listener.")
			}
		}
		l.MutualAuthentication = nil
	case "HTTPS":
		if len(l.Certificates) == 0 {
			return validation(nil, "Certificates", "A certificate must be specified for HTTPS listeners")
		}
		if l.SslPolicy == "" {
			l.SslPolicy = tlsterm.DefaultPolicy
		}
		if _, err := tlsterm.LookupPolicy(l.SslPolicy); err != nil {
			return ErrSSLPolicyNotFound.With("%v", err)
		}
		if l.MutualAuthentication == nil {
			l.MutualAuthentication = &MutualAuthentication{Mode: "off"}
		}
	}
	return nil
}

// normalizeMTLS checks a MutualAuthentication structure and fills what
// ALB reports: Mode off by default; in verify mode the trust store, its
// association status, IgnoreClientCertificateExpiry and
// AdvertiseTrustStoreCaNames (off).
func (w *world) normalizeMTLS(in MutualAuthentication) (*MutualAuthentication, error) {
	ma := &MutualAuthentication{Mode: orDefault(in.Mode, "off")}
	switch ma.Mode {
	case "off", "passthrough":
		if in.TrustStoreArn != "" {
			return nil, ErrInvalidConfigurationRequest.With("A trust store is used only in verify mode (Mode is %s).", ma.Mode)
		}
		if in.AdvertiseTrustStoreCaNames == "on" {
			return nil, ErrInvalidConfigurationRequest.With("AdvertiseTrustStoreCaNames applies only in verify mode.")
		}
		if in.IgnoreClientCertificateExpiry != nil && *in.IgnoreClientCertificateExpiry {
			return nil, ErrInvalidConfigurationRequest.With("IgnoreClientCertificateExpiry applies only in verify mode.")
		}
	case "verify":
		if in.TrustStoreArn == "" {
			return nil, ErrInvalidConfigurationRequest.With("Verify mode needs a TrustStoreArn.")
		}
		if w.trustStoreByARN(in.TrustStoreArn) == nil {
			return nil, ErrTrustStoreNotFound.With("Trust store %q not found.", in.TrustStoreArn)
		}
		ignore := in.IgnoreClientCertificateExpiry != nil && *in.IgnoreClientCertificateExpiry
		ma.TrustStoreArn, ma.IgnoreClientCertificateExpiry, ma.TrustStoreAssociationStatus = in.TrustStoreArn, &ignore, "active"
		ma.AdvertiseTrustStoreCaNames = orDefault(in.AdvertiseTrustStoreCaNames, "off")
		if ma.AdvertiseTrustStoreCaNames != "on" && ma.AdvertiseTrustStoreCaNames != "off" {
			return nil, validation(&in.AdvertiseTrustStoreCaNames, "MutualAuthentication.AdvertiseTrustStoreCaNames", "Member must satisfy enum value set: [on, off]")
		}
	default:
		return nil, validation(&in.Mode, "MutualAuthentication.Mode", "Member must be one of off, passthrough, verify")
	}
	return ma, nil
}

// checkListenerQuotas checks the listener against its load balancer's
// other listeners: ports (edge binds every listener on one address, so a
// port is taken across load balancers too) and the listener quotas.
func (w *world) checkListenerQuotas(l *Listener) error {
	q := w.s.o.Quotas
	verify, count := 0, 0
	for _, o := range w.listeners() {
		if o.ListenerArn == l.ListenerArn {
			continue
		}
		if o.Port == l.Port {
			return ErrDuplicateListener.With("Port %d is used by listener %s.", l.Port, o.ListenerArn)
		}
		if o.LoadBalancerArn == l.LoadBalancerArn {
			count++
			if o.MutualAuthentication != nil && o.MutualAuthentication.Mode == "verify" {
				verify++
			}
		}
	}
	if count+1 > q.ListenersPerLoadBalancer {
		return ErrTooManyListeners.With("The limit is %d listeners per load balancer.", q.ListenersPerLoadBalancer)
	}
	if l.MutualAuthentication != nil && l.MutualAuthentication.Mode == "verify" && verify+1 > q.VerifyListenersPerLoadBalancer {
		return ErrTooManyListeners.With("The limit is %d listeners in mutual TLS verify mode per load balancer.", q.VerifyListenersPerLoadBalancer)
	}
	return nil
}

func (s *Service) createListener(ctx context.Context, in *CreateListenerInput) (*ListenersOutput, error) {
	if in.Port == nil {
		return nil, validation(nil, "Port", "Member must not be null for an application load balancer listener")
	}
	if in.DefaultActions == nil {
		return nil, validation(nil, "DefaultActions", "Member must not be null")
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	return mutate(ctx, s, func(w *world) (*ListenersOutput, error) {
		lb := w.loadBalancerByARN(in.LoadBalancerArn)
		if lb == nil {
			return nil, ErrLoadBalancerNotFound
		}
		if lb.file != nil {
			return nil, readOnly("load balancer", lb.LoadBalancerName, lb.file)
		}
		l := &Listener{ListenerInfo: ListenerInfo{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP"}}
		if in.Protocol == nil && len(in.Certificates) > 0 {
			l.Protocol = "HTTPS"
		}
		if err := w.applyListenerSpec(l, &in.ListenerSpec); err != nil {
			return nil, err
		}
		// Idempotent create: the same port with the same settings on the
		// same load balancer returns the existing listener.
		for _, o := range w.listenersOf(lb.LoadBalancerArn) {
			if o.Port == l.Port {
				same := *l
				same.ListenerArn = o.ListenerArn
				if reflect.DeepEqual(same.ListenerInfo, o.ListenerInfo) {
					return &ListenersOutput{Listeners: list[ListenerInfo]{o.ListenerInfo}}, nil
				}
			}
		}
		l.ListenerArn = s.arn.listener(lb.LoadBalancerArn, randomID())
		l.DefaultRuleArn = s.arn.rule(l.ListenerArn, randomID())
		l.Tags = append([]Tag(nil), in.Tags...)
		if err := w.checkListenerQuotas(l); err != nil {
			return nil, err
		}
		w.api.Listeners = append(w.api.Listeners, l)
		return &ListenersOutput{Listeners: list[ListenerInfo]{l.ListenerInfo}}, nil
	})
}

func (s *Service) modifyListener(ctx context.Context, in *ModifyListenerInput) (*ListenersOutput, error) {
	return mutate(ctx, s, func(w *world) (*ListenersOutput, error) {
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		if l.file != nil {
			return nil, readOnly("listener", l.ListenerArn, l.file)
		}
		if err := w.applyListenerSpec(l, &in.ListenerSpec); err != nil {
			return nil, err
		}
		if err := w.checkListenerQuotas(l); err != nil {
			return nil, err
		}
		return &ListenersOutput{Listeners: list[ListenerInfo]{l.ListenerInfo}}, nil
	})
}

// DescribeListenersInput is the model's input.
type DescribeListenersInput struct {
	LoadBalancerArn string
	ListenerArns    list[string]
	Marker          *string
	PageSize        *int32
}

func (s *Service) describeListeners(_ context.Context, in *DescribeListenersInput) (*ListenersOutput, error) {
	w := s.view()
	var sel []*Listener
	switch {
	case len(in.ListenerArns) > 0:
		for _, arn := range in.ListenerArns {
			l := w.listenerByARN(arn)
			if l == nil {
				return nil, ErrListenerNotFound.With("Listener %q not found.", arn)
			}
			sel = append(sel, l)
		}
	case in.LoadBalancerArn != "":
		if w.loadBalancerByARN(in.LoadBalancerArn) == nil {
			return nil, ErrLoadBalancerNotFound
		}
		sel = w.listenersOf(in.LoadBalancerArn)
	default:
		return nil, validation(nil, "LoadBalancerArn", "You must specify either listener ARNs or a load balancer ARN")
	}
	pg, next, err := page(sel, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &ListenersOutput{Listeners: list[ListenerInfo]{}, NextMarker: next}
	for _, l := range pg {
		out.Listeners = append(out.Listeners, l.ListenerInfo)
	}
	return out, nil
}

// ListenerArnInput names one listener.
type ListenerArnInput struct {
	ListenerArn string `aws:"required"`
}

func (s *Service) deleteListener(ctx context.Context, in *ListenerArnInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		if l.file != nil {
			return nil, readOnly("listener", l.ListenerArn, l.file)
		}
		w.api.Rules = deleteFrom(w.api.Rules, func(r *Rule) bool { return r.ListenerArn == l.ListenerArn })
		w.api.Listeners = deleteFrom(w.api.Listeners, func(o *Listener) bool { return o.ListenerArn == l.ListenerArn })
		return nil, nil
	})
}
