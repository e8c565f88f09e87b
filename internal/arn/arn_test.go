package arn

import (
	"regexp"
	"testing"
)

func TestFormats(t *testing.T) {
	b := New("eu-west-1", "111122223333")
	lb := b.LoadBalancer("web", LoadBalancerID("web"))
	li := b.Listener(lb, "0123456789abcdef")
	for _, tc := range []struct{ got, want string }{
		{lb, "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/" + LoadBalancerID("web")},
		{li, "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/web/" + LoadBalancerID("web") + "/0123456789abcdef"},
		{b.Rule(li, "fedcba9876543210"), "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/web/" + LoadBalancerID("web") + "/0123456789abcdef/fedcba9876543210"},
		{b.TargetGroup("tg", "00000000000000aa"), "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/00000000000000aa"},
		{b.TrustStore("ts", "00000000000000bb"), "arn:aws:elasticloadbalancing:eu-west-1:111122223333:truststore/ts/00000000000000bb"},
		{b.Certificate("c"), "arn:aws:acm:eu-west-1:111122223333:certificate/c"},
		{APIGateway("eu-west-1", "/domainnames/x"), "arn:aws:apigateway:eu-west-1::/domainnames/x"},
		{ELB("web", "0123456789abcdef"), "app/web/0123456789abcdef"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s\nwant %s", tc.got, tc.want)
		}
	}
	if k := Kind(li); k != "listener" {
		t.Errorf("Kind(listener ARN) = %q", k)
	}
	if k := Kind("arn:aws:acm:r:a:certificate/x"); k != "" {
		t.Errorf("Kind(ACM ARN) = %q; want empty", k)
	}
	if id := LastID(lb); id != LoadBalancerID("web") {
		t.Errorf("LastID = %q", id)
	}
}

// The derived ids are what edge has always logged: changing them would
// change every elb field, target_group_arn and trust store ARN of an
// existing configuration.
func TestDerivedIDsAreStable(t *testing.T) {
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, id := range []string{LoadBalancerID("edge"), TargetGroupID("app"), TrustStoreID("ts"), RandomID()} {
		if !hex16.MatchString(id) {
			t.Errorf("id %q is not 16 lowercase hex digits", id)
		}
	}
	// sha256("edge")[:8], sha256("targetgroup/app")[:8], sha256("truststore/ts")[:8].
	for _, tc := range []struct{ got, want string }{
		{LoadBalancerID("edge"), DerivedID("edge")},
		{TargetGroupID("app"), DerivedID("targetgroup/app")},
		{TrustStoreID("ts"), DerivedID("truststore/ts")},
		{DerivedID("edge"), "a1cb100f57e971ca"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	if RandomID() == RandomID() {
		t.Error("two random ids are equal")
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if id := CertificateID([]byte("der")); !uuid.MatchString(id) {
		t.Errorf("CertificateID = %q; want UUID form", id)
	}
}
