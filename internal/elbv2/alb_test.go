package elbv2_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"edge/internal/elbv2"
)

// alb creates a trust store, a load balancer, a target group with one
// target and returns their ARNs.
func (x *h) alb() (ts, lb, tg string) {
	t := x.t
	x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root, x.inter))
	ts = *x.createStore("my-trust-store", "bundle.pem").TrustStoreArn
	l, err := x.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Subnets: []string{"subnet-8360a9e7", "subnet-b7d581c0"}, SecurityGroups: []string{"sg-5943793c"}})
	if err != nil {
		t.Fatal(err)
	}
	lb = *l.LoadBalancers[0].LoadBalancerArn
	g, err := x.c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("my-targets"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-3ac0fb5f"), TargetType: types.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	tg = *g.TargetGroups[0].TargetGroupArn
	return
}

func freePort(t *testing.T) int32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

const acmARN = "arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41-bd72-4774-9ad9-756919c40557"

// An application load balancer needs subnets in two Availability Zones:
// fewer than two distinct subnets (Subnets and SubnetMappings together) is
// AWS's ValidationError, and nothing is created. The ids are not checked.
func TestCreateLoadBalancerNeedsTwoSubnets(t *testing.T) {
	x := newH(t)
	mapping := func(ids ...string) []types.SubnetMapping {
		var out []types.SubnetMapping
		for _, id := range ids {
			out = append(out, types.SubnetMapping{SubnetId: aws.String(id)})
		}
		return out
	}
	for _, c := range []struct {
		name     string
		subnets  []string
		mappings []types.SubnetMapping
		ok       bool
	}{
		{"none", nil, nil, false},
		{"one subnet", []string{"subnet-8360a9e7"}, nil, false},
		{"one subnet twice", []string{"subnet-8360a9e7", "subnet-8360a9e7"}, nil, false},
		{"one subnet mapping", nil, mapping("subnet-8360a9e7"), false},
		{"two subnet mappings", nil, mapping("subnet-8360a9e7", "subnet-b7d581c0"), true},
		{"two made-up subnets", []string{"a", "b"}, nil, true},
	} {
		name := strings.ReplaceAll(c.name, " ", "-")
		out, err := x.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: c.subnets, SubnetMappings: c.mappings})
		var ae interface{ ErrorCode() string }
		switch {
		case c.ok && (err != nil || len(out.LoadBalancers[0].AvailabilityZones) != 2):
			t.Errorf("%s: %v; want a load balancer in two zones", c.name, err)
		case !c.ok && (!errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(err.Error(), "At least two subnets in two different Availability Zones must be specified")):
			t.Errorf("%s: %v; want ValidationError: At least two subnets in two different Availability Zones must be specified", c.name, err)
		case !c.ok:
			if _, err := x.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{name}}); err == nil {
				t.Errorf("%s: the refused load balancer exists", c.name)
			}
		}
	}
}

func TestLoadBalancerListenerLifecycle(t *testing.T) {
	x := newH(t)
	tsArn, lbArn, tgArn := x.alb()
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/[0-9a-f]{16}$`).MatchString(lbArn) {
		t.Errorf("load balancer ARN %s", lbArn)
	}
	d, err := x.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"my-alb"}})
	if err != nil {
		t.Fatal(err)
	}
	lb := d.LoadBalancers[0]
	if lb.State.Code != types.LoadBalancerStateEnumActive || len(lb.AvailabilityZones) != 2 || *lb.AvailabilityZones[1].SubnetId != "subnet-b7d581c0" || lb.SecurityGroups[0] != "sg-5943793c" || lb.CreatedTime == nil {
		t.Errorf("described %+v", lb)
	}
	// Idempotent create; different settings are a duplicate.
	again, err := x.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Subnets: []string{"subnet-8360a9e7", "subnet-b7d581c0"}, SecurityGroups: []string{"sg-5943793c"}})
	if err != nil || *again.LoadBalancers[0].LoadBalancerArn != lbArn {
		t.Errorf("same settings: %v", err)
	}
	_, err = x.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Subnets: []string{"subnet-1", "subnet-2"}})
	var dupLB *types.DuplicateLoadBalancerNameException
	if !errors.As(err, &dupLB) {
		t.Errorf("different settings: %v", err)
	}
	// Targets.
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	ep := int32(echo.Addr().(*net.TCPAddr).Port)
	if _, err := x.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: &tgArn, Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: &ep}}}); err != nil {
		t.Fatal(err)
	}
	// A listener in verify mode.
	port := freePort(t)
	cl, err := x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttps, Port: &port,
		SslPolicy: aws.String("ELBSecurityPolicy-TLS13-1-2-2021-06"), Certificates: []types.Certificate{{CertificateArn: aws.String(acmARN)}},
		DefaultActions:       []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgArn}},
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &tsArn, IgnoreClientCertificateExpiry: aws.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	l := cl.Listeners[0]
	if ma := l.MutualAuthentication; *ma.Mode != "verify" || *ma.TrustStoreArn != tsArn || ma.AdvertiseTrustStoreCaNames != "off" || ma.TrustStoreAssociationStatus != types.TrustStoreAssociationStatusEnumActive {
		t.Errorf("listener mTLS %+v", ma)
	}
	cfg := x.app.last()
	if len(cfg.Listeners) != 1 || *cfg.Listeners[0].Port != int(port) || cfg.Listeners[0].MutualAuthentication.TrustStore != "my-trust-store" ||
		cfg.Listeners[0].DefaultActions[0].TargetGroup != "my-targets" || cfg.TargetGroups[0].Targets[0] != "127.0.0.1:"+strconv.Itoa(int(ep)) ||
		len(cfg.LoadBalancers) != 1 || cfg.LoadBalancers[0].Name != "my-alb" || !strings.HasSuffix(lbArn, "/"+cfg.LoadBalancers[0].ID) ||
		cfg.Listeners[0].LoadBalancer != "my-alb" || len(cfg.Listeners[0].Certificates) != 1 || cfg.Listeners[0].Certificates[0].CertificateArn != acmARN {
		t.Errorf("derived config %+v", cfg)
	}
	h, err := x.c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: &tgArn})
	if err != nil || h.TargetHealthDescriptions[0].TargetHealth.State != types.TargetHealthStateEnumHealthy {
		t.Errorf("target health: %v %+v", err, h)
	}
	// modify-listener --mutual-authentication Mode=passthrough replaces the block.
	ml, err := x.c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough")}})
	if err != nil {
		t.Fatal(err)
	}
	if ma := ml.Listeners[0].MutualAuthentication; *ma.Mode != "passthrough" || ma.TrustStoreArn != nil || ma.IgnoreClientCertificateExpiry != nil {
		t.Errorf("passthrough kept the verify settings: %+v", ma)
	}
	if *ml.Listeners[0].SslPolicy != "ELBSecurityPolicy-TLS13-1-2-2021-06" || ml.Listeners[0].DefaultActions[0].TargetGroupArn == nil {
		t.Errorf("absent members changed: %+v", ml.Listeners[0])
	}
	// Back to verify with every member.
	ml, err = x.c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"),
		TrustStoreArn: &tsArn, IgnoreClientCertificateExpiry: aws.Bool(true), AdvertiseTrustStoreCaNames: types.AdvertiseTrustStoreCaNamesEnumOn}})
	if err != nil || *ml.Listeners[0].MutualAuthentication.IgnoreClientCertificateExpiry != true || x.app.last().Listeners[0].MutualAuthentication.AdvertiseTrustStoreCaNames != "on" {
		t.Fatalf("verify again: %v", err)
	}
	// The trust store is in use.
	_, err = x.c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: &tsArn})
	var inUse *types.TrustStoreInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("delete in use: %v", err)
	}
	as, err := x.c.DescribeTrustStoreAssociations(ctx, &elb.DescribeTrustStoreAssociationsInput{TrustStoreArn: &tsArn})
	if err != nil || len(as.TrustStoreAssociations) != 1 || *as.TrustStoreAssociations[0].ResourceArn != lbArn {
		t.Errorf("associations %v %+v", err, as)
	}
	// The port is taken.
	_, err = x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttp, Port: &port,
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgArn}}})
	var dupL *types.DuplicateListenerException
	if !errors.As(err, &dupL) {
		t.Errorf("same port: %v", err)
	}
	// A failed apply (a bind error) answers DuplicateListener and changes nothing.
	x.app.fail = &elbv2.BindError{Addr: "127.0.0.1:1", Err: syscall.EADDRINUSE}
	p2 := freePort(t)
	_, err = x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttp, Port: &p2,
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgArn}}})
	if !errors.As(err, &dupL) || len(x.svc.State().Listeners) != 1 {
		t.Errorf("bind failure: %v, %d listeners", err, len(x.svc.State().Listeners))
	}
	x.app.fail = &elbv2.BuildError{Err: errors.New("listeners[1]: boom")}
	_, err = x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttp, Port: &p2,
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgArn}}})
	var icr *types.InvalidConfigurationRequestException
	if !errors.As(err, &icr) || *icr.Message != "The requested configuration is not valid. listeners[1]: boom" {
		t.Errorf("build failure: %v", err)
	}
	x.app.fail = nil
	// Target group in use; then delete listener, target group, load balancer.
	_, err = x.c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: &tgArn})
	var riu *types.ResourceInUseException
	if !errors.As(err, &riu) {
		t.Errorf("delete target group in use: %v", err)
	}
	x.restart()
	if d, err := x.c.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{*l.ListenerArn}}); err != nil || *d.Listeners[0].Port != port {
		t.Fatalf("listener after restart: %v", err)
	}
	for _, f := range []func() error{
		func() error {
			_, err := x.c.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn})
			return err
		},
		func() error {
			_, err := x.c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: &tgArn})
			return err
		},
		func() error {
			_, err := x.c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: &lbArn})
			return err
		},
		func() error {
			_, err := x.c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: &tsArn})
			return err
		},
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	// The CLI waiter load-balancers-deleted: LoadBalancerNotFound.
	_, err = x.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbArn}})
	var lbnf *types.LoadBalancerNotFoundException
	if !errors.As(err, &lbnf) {
		t.Errorf("deleted load balancer: %v", err)
	}
	if cfg := x.app.last(); len(cfg.Listeners) != 0 || len(cfg.TargetGroups) != 0 || len(cfg.TrustStores) != 0 {
		t.Errorf("left over %+v", cfg)
	}
	// The empty-result responses decode (the SDK fails on a missing Result).
	all, err := x.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(all.LoadBalancers) != 0 || all.NextMarker != nil {
		t.Errorf("empty describe: %v %+v", err, all)
	}
}

func TestRulesAndAttributes(t *testing.T) {
	x := newH(t)
	_, lbArn, tgArn := x.alb()
	port := freePort(t)
	cl, err := x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttp, Port: &port,
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgArn, Order: aws.Int32(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	la := cl.Listeners[0].ListenerArn
	if *cl.Listeners[0].DefaultActions[0].Order != 1 {
		t.Errorf("Order not echoed")
	}
	fixed := []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String("api")}}}
	api := []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}
	r10, err := x.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: la, Priority: aws.Int32(10), Conditions: api, Actions: fixed})
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: la, Priority: aws.Int32(10), Conditions: api, Actions: fixed})
	var piu *types.PriorityInUseException
	if !errors.As(err, &piu) {
		t.Errorf("duplicate priority: %v", err)
	}
	r20, err := x.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: la, Priority: aws.Int32(20), Conditions: []types.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"a.example"}}}}, Actions: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: r10.Rules[0].RuleArn, Priority: aws.Int32(30)}}}); err != nil {
		t.Fatal(err)
	}
	rules, err := x.c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: la})
	if err != nil || len(rules.Rules) != 3 || *rules.Rules[0].Priority != "20" || *rules.Rules[1].Priority != "30" || *rules.Rules[2].Priority != "default" || !*rules.Rules[2].IsDefault {
		t.Fatalf("rules %v %+v", err, rules)
	}
	if cfg := x.app.last(); len(cfg.Listeners[0].Rules) != 2 || cfg.Listeners[0].Rules[1].Priority != 30 || cfg.Listeners[0].Rules[1].Actions[0].FixedResponseConfig.MessageBody != "api" {
		t.Errorf("derived rules %+v", cfg.Listeners[0].Rules)
	}
	_, err = x.c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: rules.Rules[2].RuleArn})
	var onp *types.OperationNotPermittedException
	if !errors.As(err, &onp) {
		t.Errorf("delete default rule: %v", err)
	}
	if _, err := x.c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: r20.Rules[0].RuleArn}); err != nil {
		t.Fatal(err)
	}
	// Attributes: every key with its default, set values validated.
	a, err := x.c.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: &lbArn})
	if err != nil || attr(a.Attributes, "idle_timeout.timeout_seconds") != "60" || attr(a.Attributes, "routing.http2.enabled") != "true" || len(a.Attributes) < 14 {
		t.Fatalf("load balancer attributes %v %+v", err, a)
	}
	m, err := x.c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: &lbArn, Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("120")}, {Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}})
	if err != nil || attr(m.Attributes, "idle_timeout.timeout_seconds") != "120" || x.app.last().LoadBalancers[0].Attributes["idle_timeout.timeout_seconds"] != "120" {
		t.Fatalf("modify: %v", err)
	}
	_, err = x.c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: &lbArn, Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("5000")}}})
	var icr *types.InvalidConfigurationRequestException
	if !errors.As(err, &icr) {
		t.Errorf("out of range: %v", err)
	}
	_, err = x.c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: &lbArn})
	if !errors.As(err, &onp) {
		t.Errorf("deletion protection: %v", err)
	}
	la2, err := x.c.DescribeListenerAttributes(ctx, &elb.DescribeListenerAttributesInput{ListenerArn: la})
	if err != nil || attr(la2.Attributes, "routing.http.request.x_amzn_mtls_clientcert_subject.header_name") != "X-Amzn-Mtls-Clientcert-Subject" {
		t.Errorf("listener attributes %v", err)
	}
	tga, err := x.c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgArn, Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("300")}}})
	if err != nil || attr(tga.Attributes, "stickiness.enabled") != "false" {
		t.Errorf("target group attributes %v", err)
	}
	// Listener certificates on an HTTPS listener.
	p2 := freePort(t)
	hl, err := x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttps, Port: &p2,
		Certificates: []types.Certificate{{CertificateArn: aws.String(acmARN)}}, DefaultActions: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if *hl.Listeners[0].SslPolicy != "ELBSecurityPolicy-2016-08" || *hl.Listeners[0].MutualAuthentication.Mode != "off" {
		t.Errorf("defaults %+v", hl.Listeners[0])
	}
	other := "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	if _, err := x.c.AddListenerCertificates(ctx, &elb.AddListenerCertificatesInput{ListenerArn: hl.Listeners[0].ListenerArn, Certificates: []types.Certificate{{CertificateArn: &other}}}); err != nil {
		t.Fatal(err)
	}
	lc, err := x.c.DescribeListenerCertificates(ctx, &elb.DescribeListenerCertificatesInput{ListenerArn: hl.Listeners[0].ListenerArn})
	if err != nil || len(lc.Certificates) != 2 || !*lc.Certificates[0].IsDefault || *lc.Certificates[1].IsDefault {
		t.Errorf("listener certificates %v %+v", err, lc)
	}
	_, err = x.c.RemoveListenerCertificates(ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: hl.Listeners[0].ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String(acmARN)}}})
	if !errors.As(err, &onp) {
		t.Errorf("removing the default certificate: %v", err)
	}
}

func attr[T interface {
	types.LoadBalancerAttribute | types.ListenerAttribute | types.TargetGroupAttribute
}](as []T, key string) string {
	for _, a := range as {
		var k, v *string
		switch x := any(a).(type) {
		case types.LoadBalancerAttribute:
			k, v = x.Key, x.Value
		case types.ListenerAttribute:
			k, v = x.Key, x.Value
		case types.TargetGroupAttribute:
			k, v = x.Key, x.Value
		}
		if *k == key {
			return *v
		}
	}
	return "<absent>"
}

var _ = context.Background
