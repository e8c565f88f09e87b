package elbv2

import (
	"context"
	"sort"
	"strconv"
)

// The attribute table: every key edge accepts per resource kind, its
// default (ELBv2 API reference, LoadBalancerAttribute /
// ListenerAttribute / TargetGroupAttribute) and its value check. Describe
// returns every key with its default unless set (Terraform plans a diff
// otherwise, reference §4.3). This is the one place to swap for the shared
// internal/attributes table.

type attrKind int

const (
	lbAttrs attrKind = iota
	listenerAttrs
	targetGroupAttrs
)

type attrSpec struct {
	def   string
	check func(string) bool
}

func anyValue(string) bool    { return true }
func boolValue(v string) bool { return v == "true" || v == "false" }
func intRange(lo, hi int) func(string) bool {
	return func(v string) bool { n, err := strconv.Atoi(v); return err == nil && n >= lo && n <= hi }
}
func oneOf(vals ...string) func(string) bool {
	return func(v string) bool {
		for _, x := range vals {
			if v == x {
				return true
			}
		}
		return false
	}
}

var attrTable = map[attrKind]map[string]attrSpec{
	lbAttrs: {
		"access_logs.s3.enabled":                                   {"false", boolValue},
		"access_logs.s3.bucket":                                    {"", anyValue},
		"access_logs.s3.prefix":                                    {"", anyValue},
		"connection_logs.s3.enabled":                               {"false", boolValue},
		"connection_logs.s3.bucket":                                {"", anyValue},
		"connection_logs.s3.prefix":                                {"", anyValue},
		"health_check_logs.s3.enabled":                             {"false", boolValue},
		"health_check_logs.s3.bucket":                              {"", anyValue},
		"health_check_logs.s3.prefix":                              {"", anyValue},
		"client_keep_alive.seconds":                                {"3600", intRange(60, 604800)},
		"deletion_protection.enabled":                              {"false", boolValue},
		"idle_timeout.timeout_seconds":                             {"60", intRange(1, 4000)},
		"ipv6.deny_all_igw_traffic":                                {"false", boolValue},
		"load_balancing.cross_zone.enabled":                        {"true", boolValue},
		"routing.http.desync_mitigation_mode":                      {"defensive", oneOf("monitor", "defensive", "strictest")},
		"routing.http.drop_invalid_header_fields.enabled":          {"false", boolValue},
		"routing.http.preserve_host_header.enabled":                {"false", boolValue},
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": {"false", boolValue},
		"routing.http.xff_client_port.enabled":                     {"false", boolValue},
		"routing.http.xff_header_processing.mode":                  {"append", oneOf("append", "preserve", "remove")},
		"routing.http2.enabled":                                    {"true", boolValue},
		"waf.fail_open.enabled":                                    {"false", boolValue},
		"zonal_shift.config.enabled":                               {"false", boolValue},
	},
	listenerAttrs: {
		"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name": {"X-Amzn-Mtls-Clientcert-Serial-Number", anyValue},
		"routing.http.request.x_amzn_mtls_clientcert_issuer.header_name":        {"X-Amzn-Mtls-Clientcert-Issuer", anyValue},
		"routing.http.request.x_amzn_mtls_clientcert_subject.header_name":       {"X-Amzn-Mtls-Clientcert-Subject", anyValue},
		"routing.http.request.x_amzn_mtls_clientcert_validity.header_name":      {"X-Amzn-Mtls-Clientcert-Validity", anyValue},
		"routing.http.request.x_amzn_mtls_clientcert_leaf.header_name":          {"X-Amzn-Mtls-Clientcert-Leaf", anyValue},
		"routing.http.request.x_amzn_mtls_clientcert.header_name":               {"X-Amzn-Mtls-Clientcert", anyValue},
		"routing.http.request.x_amzn_tls_version.header_name":                   {"X-Amzn-Tls-Version", anyValue},
		"routing.http.request.x_amzn_tls_cipher_suite.header_name":              {"X-Amzn-Tls-Cipher-Suite", anyValue},
		"routing.http.response.server.enabled":                                  {"true", boolValue},
		"routing.http.response.strict_transport_security.header_value":          {"", anyValue},
		"routing.http.response.access_control_allow_origin.header_value":        {"", anyValue},
		"routing.http.response.access_control_allow_methods.header_value":       {"", anyValue},
		"routing.http.response.access_control_allow_headers.header_value":       {"", anyValue},
		"routing.http.response.access_control_allow_credentials.header_value":   {"", anyValue},
		"routing.http.response.access_control_expose_headers.header_value":      {"", anyValue},
		"routing.http.response.access_control_max_age.header_value":             {"", anyValue},
		"routing.http.response.content_security_policy.header_value":            {"", anyValue},
		"routing.http.response.x_content_type_options.header_value":             {"", anyValue},
		"routing.http.response.x_frame_options.header_value":                    {"", anyValue},
	},
	targetGroupAttrs: {
		"deregistration_delay.timeout_seconds":                                           {"300", intRange(0, 3600)},
		"stickiness.enabled":                                                             {"false", boolValue},
		"stickiness.type":                                                                {"lb_cookie", oneOf("lb_cookie", "app_cookie")},
		"stickiness.lb_cookie.duration_seconds":                                          {"86400", intRange(1, 604800)},
		"stickiness.app_cookie.cookie_name":                                              {"", anyValue},
		"stickiness.app_cookie.duration_seconds":                                         {"86400", intRange(1, 604800)},
		"load_balancing.algorithm.type":                                                  {"round_robin", oneOf("round_robin", "least_outstanding_requests", "weighted_random")},
		"load_balancing.algorithm.anomaly_mitigation":                                    {"off", oneOf("on", "off")},
		"load_balancing.cross_zone.enabled":                                              {"use_load_balancer_configuration", oneOf("true", "false", "use_load_balancer_configuration")},
		"slow_start.duration_seconds":                                                    {"0", func(v string) bool { n, err := strconv.Atoi(v); return err == nil && (n == 0 || n >= 30 && n <= 900) }},
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 {"1", anyValue},
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            {"off", anyValue},
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      {"1", anyValue},
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": {"off", anyValue},
	},
}

// attributes returns every key of kind with its current value, by key.
func attributes(kind attrKind, set map[string]string) list[Attribute] {
	keys := make([]string, 0, len(attrTable[kind]))
	for k := range attrTable[kind] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(list[Attribute], 0, len(keys))
	for _, k := range keys {
		v, ok := set[k]
		if !ok {
			v = attrTable[kind][k].def
		}
		out = append(out, Attribute{Key: k, Value: v})
	}
	return out
}

// setAttributes checks and applies attrs to set (a copy is returned);
// errors are InvalidConfigurationRequest naming the key.
func setAttributes(kind attrKind, set map[string]string, attrs []Attribute) (map[string]string, error) {
	if len(attrs) == 0 {
		return nil, validation(nil, "Attributes", "Member must have length greater than or equal to 1")
	}
	out := map[string]string{}
	for k, v := range set {
		out[k] = v
	}
	for _, a := range attrs {
		spec, ok := attrTable[kind][a.Key]
		if !ok {
			return nil, ErrInvalidConfigurationRequest.With("Key %s is not a recognized attribute.", a.Key)
		}
		if !spec.check(a.Value) {
			return nil, ErrInvalidConfigurationRequest.With("%q is not a valid value for %s.", a.Value, a.Key)
		}
		out[a.Key] = a.Value
	}
	return out, nil
}

// AttributesOutput is the output of every Describe/Modify…Attributes.
type AttributesOutput struct {
	Attributes list[Attribute]
}

// LoadBalancerAttributesInput is the model's Describe/Modify input.
type LoadBalancerAttributesInput struct {
	LoadBalancerArn string `aws:"required"`
	Attributes      list[Attribute]
}

func (s *Service) describeLoadBalancerAttributes(_ context.Context, in *LoadBalancerAttributesInput) (*AttributesOutput, error) {
	lb := s.view().loadBalancerByARN(in.LoadBalancerArn)
	if lb == nil {
		return nil, ErrLoadBalancerNotFound
	}
	return &AttributesOutput{Attributes: attributes(lbAttrs, lb.Attributes)}, nil
}

func (s *Service) modifyLoadBalancerAttributes(ctx context.Context, in *LoadBalancerAttributesInput) (*AttributesOutput, error) {
	return mutate(ctx, s, func(w *world) (*AttributesOutput, error) {
		lb := w.loadBalancerByARN(in.LoadBalancerArn)
		if lb == nil {
			return nil, ErrLoadBalancerNotFound
		}
		if lb.file != nil {
			return nil, readOnly("load balancer", lb.LoadBalancerName, lb.file)
		}
		set, err := setAttributes(lbAttrs, lb.Attributes, in.Attributes)
		if err != nil {
			return nil, err
		}
		lb.Attributes = set
		return &AttributesOutput{Attributes: attributes(lbAttrs, set)}, nil
	})
}

// ListenerAttributesInput is the model's Describe/Modify input.
type ListenerAttributesInput struct {
	ListenerArn string `aws:"required"`
	Attributes  list[Attribute]
}

func (s *Service) describeListenerAttributes(_ context.Context, in *ListenerAttributesInput) (*AttributesOutput, error) {
	l := s.view().listenerByARN(in.ListenerArn)
	if l == nil {
		return nil, ErrListenerNotFound
	}
	return &AttributesOutput{Attributes: attributes(listenerAttrs, l.Attributes)}, nil
}

func (s *Service) modifyListenerAttributes(ctx context.Context, in *ListenerAttributesInput) (*AttributesOutput, error) {
	return mutate(ctx, s, func(w *world) (*AttributesOutput, error) {
		l := w.listenerByARN(in.ListenerArn)
		if l == nil {
			return nil, ErrListenerNotFound
		}
		if l.file != nil {
			return nil, readOnly("listener", l.ListenerArn, l.file)
		}
		set, err := setAttributes(listenerAttrs, l.Attributes, in.Attributes)
		if err != nil {
			return nil, err
		}
		l.Attributes = set
		return &AttributesOutput{Attributes: attributes(listenerAttrs, set)}, nil
	})
}

// TargetGroupAttributesInput is the model's Describe/Modify input.
type TargetGroupAttributesInput struct {
	TargetGroupArn string `aws:"required"`
	Attributes     list[Attribute]
}

func (s *Service) describeTargetGroupAttributes(_ context.Context, in *TargetGroupAttributesInput) (*AttributesOutput, error) {
	tg := s.view().targetGroupByARN(in.TargetGroupArn)
	if tg == nil {
		return nil, ErrTargetGroupNotFound
	}
	return &AttributesOutput{Attributes: attributes(targetGroupAttrs, tg.Attributes)}, nil
}

func (s *Service) modifyTargetGroupAttributes(ctx context.Context, in *TargetGroupAttributesInput) (*AttributesOutput, error) {
	return mutate(ctx, s, func(w *world) (*AttributesOutput, error) {
		tg := w.targetGroupByARN(in.TargetGroupArn)
		if tg == nil {
			return nil, ErrTargetGroupNotFound
		}
		if tg.file != nil {
			return nil, readOnly("target group", tg.TargetGroupName, tg.file)
		}
		set, err := setAttributes(targetGroupAttrs, tg.Attributes, in.Attributes)
		if err != nil {
			return nil, err
		}
		tg.Attributes = set
		return &AttributesOutput{Attributes: attributes(targetGroupAttrs, set)}, nil
	})
}
