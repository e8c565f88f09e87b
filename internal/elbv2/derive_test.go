package elbv2_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/testutil"
)

// The derived configuration carries the API's identities in the
// control-plane schema: each API load balancer is a load_balancers entry
// with its ARN's id and attributes, listeners name theirs, revocations keep
// their ids after a removal, certificates are named by ARN.
func TestDeriveEmitsTheControlPlaneSchema(t *testing.T) {
	x := newH(t)
	tsArn, lbArn, tgArn := x.alb()
	port := freePort(t)
	_, err := x.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &lbArn, Protocol: types.ProtocolEnumHttps, Port: &port,
		Certificates:         []types.Certificate{{CertificateArn: aws.String(acmARN)}},
		DefaultActions:       []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgArn}},
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &tsArn}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: &lbArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("30")}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"a.pem", "b.pem"} {
		x.s3.put("edge-trust", key, crl(t, x.inter, i+1))
		if _, err := x.c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &tsArn,
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String(key)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.c.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: &tsArn, RevocationIds: []int64{1}}); err != nil {
		t.Fatal(err)
	}
	cfg := x.app.last()
	if len(cfg.LoadBalancers) != 1 || cfg.LoadBalancers[0].Name != "my-alb" || lbArn != strings.TrimSuffix(lbArn, cfg.LoadBalancers[0].ID)+cfg.LoadBalancers[0].ID ||
		cfg.LoadBalancers[0].Attributes["idle_timeout.timeout_seconds"] != "30" {
		t.Errorf("load balancers %+v", cfg.LoadBalancers)
	}
	if l := cfg.Listeners[0]; l.LoadBalancer != "my-alb" || len(l.Certificates) != 1 || l.Certificates[0].CertificateArn != acmARN || l.Certificates[0].Certificate != "" {
		t.Errorf("listener %+v", l)
	}
	if r := cfg.TrustStores[0].Revocations; len(r) != 1 || r[0].RevocationID != 2 {
		t.Errorf("revocations %+v", r)
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		t.Errorf("the derived configuration does not validate: %v", ps)
	}
}

// An API load balancer may take the name of the file layer's default
// load balancer when no file listener uses it: the derived default is
// renamed so names stay unique. A file listener on it makes the name the
// file's (DuplicateLoadBalancerName through the API).
func TestDeriveRenamesAnUnusedDefaultLoadBalancer(t *testing.T) {
	x := newH(t)
	dir := t.TempDir()
	file, err := config.Parse([]byte("aws: {}\n"), filepath.Join(dir, "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	x.app.file = file
	d, err := x.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(d.LoadBalancers) != 0 {
		t.Fatalf("a file without name or listeners shows load balancers: %v %+v", err, d)
	}
	if _, err := x.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("edge"), Subnets: []string{"subnet-1", "subnet-2"}}); err != nil {
		t.Fatal(err)
	}
	cfg := x.app.last()
	if cfg.Name != elbv2.DefaultLoadBalancerName || cfg.LoadBalancers[0].Name != "edge" {
		t.Errorf("names: top-level %q, load balancers %+v", cfg.Name, cfg.LoadBalancers)
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		t.Errorf("the derived configuration does not validate: %v", ps)
	}
}

// File-layer load_balancers appear in DescribeLoadBalancers with the id
// the file pins (or one derived from the name), and their listeners
// under them.
func TestFileLayerLoadBalancers(t *testing.T) {
	x := newH(t)
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), nil)
	file, err := config.Parse([]byte(`name: front
load_balancers:
  - {name: back, id: 0123456789abcdef, attributes: {idle_timeout.timeout_seconds: 20}}
listeners:
  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]}
  - {port: 0, address: 127.0.0.2, protocol: HTTP, load_balancer: back, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]}
`), filepath.Join(dir, "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	x.app.file = file
	d, err := x.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"back"}})
	if err != nil || !strings.HasSuffix(*d.LoadBalancers[0].LoadBalancerArn, ":loadbalancer/app/back/0123456789abcdef") {
		t.Fatalf("file load balancer: %v %+v", err, d)
	}
	ls, err := x.c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: d.LoadBalancers[0].LoadBalancerArn})
	if err != nil || len(ls.Listeners) != 1 {
		t.Fatalf("its listeners: %v %+v", err, ls)
	}
	a, err := x.c.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: d.LoadBalancers[0].LoadBalancerArn})
	if err != nil || attr(a.Attributes, "idle_timeout.timeout_seconds") != "20" {
		t.Errorf("its attributes: %v %+v", err, a)
	}
}
