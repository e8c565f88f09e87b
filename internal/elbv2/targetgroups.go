package elbv2

import (
	"context"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"sync"
	"time"
)

var tgName = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

// defaultTargetGroupInfo is a target group with the ELBv2 API's health
// check defaults for an HTTP(S) target group of type ip.
func defaultTargetGroupInfo(protocol string) TargetGroupInfo {
	if protocol == "" {
		protocol = "HTTP"
	}
	port := int32(80)
	if protocol == "HTTPS" {
		port = 443
	}
	return TargetGroupInfo{
		Protocol: protocol, Port: &port, VpcId: "vpc-edge", HealthCheckProtocol: protocol, HealthCheckPort: "traffic-port",
		HealthCheckEnabled: true, HealthCheckIntervalSeconds: 30, HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 5,
		UnhealthyThresholdCount: 2, HealthCheckPath: "/", Matcher: &Matcher{HttpCode: "200"}, TargetType: "ip",
		ProtocolVersion: "HTTP1", IpAddressType: "ipv4",
	}
}

// HealthCheckSettings are the health check members of CreateTargetGroup
// and ModifyTargetGroup; edge stores and echoes them.
type HealthCheckSettings struct {
	HealthCheckProtocol        string
	HealthCheckPort            string
	HealthCheckEnabled         *bool
	HealthCheckPath            string
	HealthCheckIntervalSeconds *int32
	HealthCheckTimeoutSeconds  *int32
	HealthyThresholdCount      *int32
	UnhealthyThresholdCount    *int32
	Matcher                    *Matcher
}

func (h *HealthCheckSettings) apply(tg *TargetGroupInfo) error {
	for _, c := range []struct {
		v      *int32
		dst    *int32
		name   string
		lo, hi int32
	}{
		{h.HealthCheckIntervalSeconds, &tg.HealthCheckIntervalSeconds, "HealthCheckIntervalSeconds", 5, 300},
		{h.HealthCheckTimeoutSeconds, &tg.HealthCheckTimeoutSeconds, "HealthCheckTimeoutSeconds", 2, 120},
		{h.HealthyThresholdCount, &tg.HealthyThresholdCount, "HealthyThresholdCount", 2, 10},
		{h.UnhealthyThresholdCount, &tg.UnhealthyThresholdCount, "UnhealthyThresholdCount", 2, 10},
	} {
		if c.v == nil {
			continue
		}
		if *c.v < c.lo || *c.v > c.hi {
			v := strconv.Itoa(int(*c.v))
			return validation(&v, c.name, "Member must have value between "+strconv.Itoa(int(c.lo))+" and "+strconv.Itoa(int(c.hi)))
		}
		*c.dst = *c.v
	}
	if h.HealthCheckProtocol != "" {
		if h.HealthCheckProtocol != "HTTP" && h.HealthCheckProtocol != "HTTPS" {
			return ErrInvalidConfigurationRequest.With("Health check protocol %s is not HTTP or HTTPS.", h.HealthCheckProtocol)
		}
		tg.HealthCheckProtocol = h.HealthCheckProtocol
	}
	if h.HealthCheckPort != "" {
		tg.HealthCheckPort = h.HealthCheckPort
	}
	if h.HealthCheckEnabled != nil {
		tg.HealthCheckEnabled = *h.HealthCheckEnabled
	}
	if h.HealthCheckPath != "" {
		if len(h.HealthCheckPath) > 1024 || h.HealthCheckPath[0] != '/' {
			return validation(&h.HealthCheckPath, "HealthCheckPath", "Member must start with / and have length less than or equal to 1024")
		}
		tg.HealthCheckPath = h.HealthCheckPath
	}
	if h.Matcher != nil {
		tg.Matcher = h.Matcher
	}
	if tg.HealthCheckTimeoutSeconds >= tg.HealthCheckIntervalSeconds {
		return ErrInvalidConfigurationRequest.With("Health check timeout (%d) must be smaller than the interval (%d).", tg.HealthCheckTimeoutSeconds, tg.HealthCheckIntervalSeconds)
	}
	return nil
}

// CreateTargetGroupInput is the model's input.
type CreateTargetGroupInput struct {
	Name            string `aws:"required"`
	Protocol        string
	ProtocolVersion string
	Port            *int32
	VpcId           string
	TargetType      string
	IpAddressType   string
	Tags            list[Tag]
	HealthCheckSettings
}

// TargetGroupsOutput is the output of Create/Describe/ModifyTargetGroup(s).
type TargetGroupsOutput struct {
	TargetGroups list[TargetGroupInfo]
	NextMarker   *string `xml:",omitempty"`
}

func (w *world) targetGroupInfo(tg *TargetGroup) TargetGroupInfo {
	info := tg.TargetGroupInfo
	info.LoadBalancerArns = list[string](append([]string{}, w.loadBalancersOfTargetGroup(tg.TargetGroupArn)...))
	return info
}

func (s *Service) createTargetGroup(ctx context.Context, in *CreateTargetGroupInput) (*TargetGroupsOutput, error) {
	if !tgName.MatchString(in.Name) {
		return nil, validation(&in.Name, "Name", "Member must be 1-32 letters, digits or hyphens, not beginning or ending with a hyphen")
	}
	switch in.Protocol {
	case "", "HTTP", "HTTPS":
	default:
		return nil, ErrInvalidConfigurationRequest.With("edge emulates application load balancer target groups (HTTP or HTTPS), not %s.", in.Protocol)
	}
	switch in.TargetType {
	case "", "ip", "instance":
	default:
		return nil, ErrInvalidConfigurationRequest.With("edge forwards to ip (and instance) targets, not %s.", in.TargetType)
	}
	info := defaultTargetGroupInfo(in.Protocol)
	info.TargetGroupName = in.Name
	if in.Port != nil {
		if *in.Port < 1 || *in.Port > 65535 {
			v := strconv.Itoa(int(*in.Port))
			return nil, validation(&v, "Port", "Member must have value between 1 and 65535")
		}
		info.Port = in.Port
	}
	info.VpcId = orDefault(in.VpcId, info.VpcId)
	info.TargetType = orDefault(in.TargetType, "instance")
	info.ProtocolVersion = orDefault(in.ProtocolVersion, "HTTP1")
	info.IpAddressType = orDefault(in.IpAddressType, "ipv4")
	if in.HealthCheckProtocol == "" {
		info.HealthCheckProtocol = info.Protocol
	}
	if err := in.HealthCheckSettings.apply(&info); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	return mutate(ctx, s, func(w *world) (*TargetGroupsOutput, error) {
		if tg := find(w.targetGroups(), func(t *TargetGroup) bool { return t.TargetGroupName == in.Name }); tg != nil {
			cur := tg.TargetGroupInfo
			cur.TargetGroupArn, cur.LoadBalancerArns = "", nil
			if tg.file != nil || !equalTG(cur, info) {
				return nil, ErrDuplicateTargetGroupName
			}
			return &TargetGroupsOutput{TargetGroups: list[TargetGroupInfo]{w.targetGroupInfo(tg)}}, nil
		}
		if len(w.targetGroups()) >= s.o.Quotas.TargetGroups {
			return nil, ErrTooManyTargetGroups.With("The limit is %d.", s.o.Quotas.TargetGroups)
		}
		tg := &TargetGroup{TargetGroupInfo: info, Tags: append([]Tag(nil), in.Tags...)}
		tg.TargetGroupArn = s.arn.targetGroup(in.Name, randomID())
		w.api.TargetGroups = append(w.api.TargetGroups, tg)
		return &TargetGroupsOutput{TargetGroups: list[TargetGroupInfo]{w.targetGroupInfo(tg)}}, nil
	})
}

func equalTG(a, b TargetGroupInfo) bool {
	pa, pb := int32(0), int32(0)
	if a.Port != nil {
		pa = *a.Port
	}
	if b.Port != nil {
		pb = *b.Port
	}
	ma, mb := Matcher{}, Matcher{}
	if a.Matcher != nil {
		ma = *a.Matcher
	}
	if b.Matcher != nil {
		mb = *b.Matcher
	}
	a.Port, b.Port, a.Matcher, b.Matcher = nil, nil, nil, nil
	a.LoadBalancerArns, b.LoadBalancerArns = nil, nil
	return pa == pb && ma == mb && a.Protocol == b.Protocol && a.TargetType == b.TargetType && a.VpcId == b.VpcId &&
		a.HealthCheckPath == b.HealthCheckPath && a.HealthCheckIntervalSeconds == b.HealthCheckIntervalSeconds &&
		a.HealthCheckTimeoutSeconds == b.HealthCheckTimeoutSeconds && a.HealthyThresholdCount == b.HealthyThresholdCount &&
		a.UnhealthyThresholdCount == b.UnhealthyThresholdCount && a.HealthCheckProtocol == b.HealthCheckProtocol &&
		a.HealthCheckPort == b.HealthCheckPort && a.HealthCheckEnabled == b.HealthCheckEnabled && a.ProtocolVersion == b.ProtocolVersion
}

// DescribeTargetGroupsInput is the model's input.
type DescribeTargetGroupsInput struct {
	LoadBalancerArn string
	TargetGroupArns list[string]
	Names           list[string]
	Marker          *string
	PageSize        *int32
}

func (s *Service) describeTargetGroups(_ context.Context, in *DescribeTargetGroupsInput) (*TargetGroupsOutput, error) {
	w := s.view()
	sel := w.targetGroups()
	switch {
	case len(in.TargetGroupArns) > 0 || len(in.Names) > 0:
		sel = nil
		for _, arn := range in.TargetGroupArns {
			tg := w.targetGroupByARN(arn)
			if tg == nil {
				return nil, ErrTargetGroupNotFound.With("Target groups '[%s]' not found.", arn)
			}
			sel = append(sel, tg)
		}
		for _, n := range in.Names {
			tg := find(w.targetGroups(), func(t *TargetGroup) bool { return t.TargetGroupName == n })
			if tg == nil {
				return nil, ErrTargetGroupNotFound.With("One or more target groups not found: %s.", n)
			}
			sel = append(sel, tg)
		}
	case in.LoadBalancerArn != "":
		if w.loadBalancerByARN(in.LoadBalancerArn) == nil {
			return nil, ErrLoadBalancerNotFound
		}
		sel = nil
		for _, tg := range w.targetGroups() {
			for _, lb := range w.loadBalancersOfTargetGroup(tg.TargetGroupArn) {
				if lb == in.LoadBalancerArn {
					sel = append(sel, tg)
				}
			}
		}
	}
	pg, next, err := page(sel, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &TargetGroupsOutput{TargetGroups: list[TargetGroupInfo]{}, NextMarker: next}
	for _, tg := range pg {
		out.TargetGroups = append(out.TargetGroups, w.targetGroupInfo(tg))
	}
	return out, nil
}

// ModifyTargetGroupInput is the model's input.
type ModifyTargetGroupInput struct {
	TargetGroupArn string `aws:"required"`
	HealthCheckSettings
}

func (s *Service) modifyTargetGroup(ctx context.Context, in *ModifyTargetGroupInput) (*TargetGroupsOutput, error) {
	return mutate(ctx, s, func(w *world) (*TargetGroupsOutput, error) {
		tg := w.targetGroupByARN(in.TargetGroupArn)
		if tg == nil {
			return nil, ErrTargetGroupNotFound
		}
		if tg.file != nil {
			return nil, readOnly("target group", tg.TargetGroupName, tg.file)
		}
		if err := in.HealthCheckSettings.apply(&tg.TargetGroupInfo); err != nil {
			return nil, err
		}
		return &TargetGroupsOutput{TargetGroups: list[TargetGroupInfo]{w.targetGroupInfo(tg)}}, nil
	})
}

// TargetGroupArnInput names one target group.
type TargetGroupArnInput struct {
	TargetGroupArn string `aws:"required"`
}

// deleteTargetGroup deletes an unused target group; deleting one that
// does not exist succeeds (the model lists no NotFound error for it).
func (s *Service) deleteTargetGroup(ctx context.Context, in *TargetGroupArnInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		tg := w.targetGroupByARN(in.TargetGroupArn)
		if tg == nil {
			return nil, nil
		}
		if tg.file != nil {
			return nil, readOnly("target group", tg.TargetGroupName, tg.file)
		}
		if lbs := w.loadBalancersOfTargetGroup(tg.TargetGroupArn); len(lbs) > 0 {
			return nil, ErrResourceInUse.With("Target group %q is currently in use by a listener or a rule of %s.", in.TargetGroupArn, lbs[0])
		}
		w.api.TargetGroups = deleteFrom(w.api.TargetGroups, func(t *TargetGroup) bool { return t.TargetGroupArn == tg.TargetGroupArn })
		return nil, nil
	})
}

// TargetsInput is RegisterTargets' and DeregisterTargets' input.
type TargetsInput struct {
	TargetGroupArn string                  `aws:"required"`
	Targets        list[TargetDescription] `aws:"required"`
}

func (s *Service) registerTargets(ctx context.Context, in *TargetsInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		tg := w.targetGroupByARN(in.TargetGroupArn)
		if tg == nil {
			return nil, ErrTargetGroupNotFound
		}
		if tg.file != nil {
			return nil, readOnly("target group", tg.TargetGroupName, tg.file)
		}
		for _, t := range in.Targets {
			if t.Port == nil {
				t.Port = tg.Port
			}
			if tg.TargetType == "ip" {
				if _, err := netip.ParseAddr(t.Id); err != nil {
					return nil, ErrInvalidTarget.With("%q is not an IP address (the target group's type is ip).", t.Id)
				}
			}
			if t.Port == nil || *t.Port < 1 || *t.Port > 65535 {
				return nil, ErrInvalidTarget.With("Target %s needs a port from 1 to 65535.", t.Id)
			}
			if tg.target(t) < 0 {
				tg.Targets = append(tg.Targets, TargetDescription{Id: t.Id, Port: t.Port, AvailabilityZone: t.AvailabilityZone})
			}
		}
		if len(tg.Targets) > s.o.Quotas.TargetsPerLoadBalancer {
			return nil, ErrTooManyTargets.With("The limit is %d.", s.o.Quotas.TargetsPerLoadBalancer)
		}
		return nil, nil
	})
}

// target returns the index of the registered target t (port defaulting to
// the group's), or -1.
func (tg *TargetGroup) target(t TargetDescription) int {
	for i, r := range tg.Targets {
		if r.Id == t.Id && (t.Port == nil || r.Port != nil && *r.Port == *t.Port) {
			return i
		}
	}
	return -1
}

func (s *Service) deregisterTargets(ctx context.Context, in *TargetsInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		tg := w.targetGroupByARN(in.TargetGroupArn)
		if tg == nil {
			return nil, ErrTargetGroupNotFound
		}
		if tg.file != nil {
			return nil, readOnly("target group", tg.TargetGroupName, tg.file)
		}
		for _, t := range in.Targets {
			i := tg.target(t)
			if i < 0 {
				return nil, ErrInvalidTarget.With("Target %s is not registered in %s.", t.Id, tg.TargetGroupName)
			}
			tg.Targets = append(tg.Targets[:i], tg.Targets[i+1:]...)
		}
		return nil, nil
	})
}

// DescribeTargetHealthInput is the model's input.
type DescribeTargetHealthInput struct {
	TargetGroupArn string `aws:"required"`
	Targets        list[TargetDescription]
}

// TargetHealth is the model's TargetHealth.
type TargetHealth struct {
	State       string
	Reason      string `xml:",omitempty"`
	Description string `xml:",omitempty"`
}

// TargetHealthDescription is the model's TargetHealthDescription.
type TargetHealthDescription struct {
	Target          TargetDescription
	HealthCheckPort string
	TargetHealth    TargetHealth
}

// DescribeTargetHealthOutput is the model's output.
type DescribeTargetHealthOutput struct {
	TargetHealthDescriptions list[TargetHealthDescription]
}

// describeTargetHealth reports a registered target healthy when a TCP
// connection to it succeeds within the group's health check timeout
// (edge's stand-in for ALB's HTTP check, reference §7.3), unused when no
// load balancer forwards to the group, and unused/Target.NotRegistered for
// a named target that is not registered.
func (s *Service) describeTargetHealth(ctx context.Context, in *DescribeTargetHealthInput) (*DescribeTargetHealthOutput, error) {
	w := s.view()
	tg := w.targetGroupByARN(in.TargetGroupArn)
	if tg == nil {
		return nil, ErrTargetGroupNotFound
	}
	targets := tg.Targets
	if len(in.Targets) > 0 {
		targets = in.Targets
	}
	inUse := len(w.loadBalancersOfTargetGroup(tg.TargetGroupArn)) > 0
	out := make([]TargetHealthDescription, len(targets))
	timeout := min(time.Duration(tg.HealthCheckTimeoutSeconds)*time.Second, 5*time.Second)
	var wg sync.WaitGroup
	for i, t := range targets {
		d := TargetHealthDescription{Target: t, HealthCheckPort: tg.HealthCheckPort}
		j := tg.target(t)
		if j >= 0 {
			d.Target = tg.Targets[j]
		}
		if d.HealthCheckPort == "traffic-port" && d.Target.Port != nil {
			d.HealthCheckPort = strconv.Itoa(int(*d.Target.Port))
		}
		switch {
		case j < 0:
			d.TargetHealth = TargetHealth{State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group"}
		case !inUse:
			d.TargetHealth = TargetHealth{State: "unused", Reason: "Target.NotInUse", Description: "Target group is not configured to receive traffic from the load balancer"}
		default:
			out[i] = d
			wg.Add(1)
			go func(i int, addr string) {
				defer wg.Done()
				dl := net.Dialer{Timeout: timeout}
				c, err := dl.DialContext(ctx, "tcp", addr)
				if err != nil {
					out[i].TargetHealth = TargetHealth{State: "unhealthy", Reason: "Target.FailedHealthChecks", Description: "Health checks failed"}
					return
				}
				c.Close()
				out[i].TargetHealth = TargetHealth{State: "healthy"}
			}(i, net.JoinHostPort(d.Target.Id, strconv.Itoa(int(*d.Target.Port))))
			continue
		}
		out[i] = d
	}
	wg.Wait()
	return &DescribeTargetHealthOutput{TargetHealthDescriptions: list[TargetHealthDescription](out)}, nil
}
