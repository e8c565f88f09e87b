package controlplane_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The acceptance scenario with the official Go SDK against edge's AWS
// endpoint and its real listeners: S3 with versioning, a trust store from
// S3, a load balancer, a target group with an echo target, an HTTPS verify
// listener that accepts TLS when CreateListener returns; a revocation from
// S3 refuses the revoked client (Failed:ClientCertCrlHit); the trust store
// in use cannot be deleted; passthrough lets the client through; and after
// a restart on the same state directory the ARNs, revocation ids and
// verdicts are the same.
func TestEndToEndWithTheGoSDK(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	dir, state := t.TempDir(), t.TempDir()
	e := startEdge(t, dir, state, baseYAML)

	a := e.alb(p, ec)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/my-trust-store/[0-9a-f]{16}$`).MatchString(a.ts) {
		t.Errorf("trust store ARN %s", a.ts)
	}
	// The listener accepts TLS as CreateListener returns: no waiting.
	code, body, err := get(a.port, e.devRoot(), p.good)
	if err != nil || code != 200 || body != "echo" {
		t.Fatalf("trusted client right after CreateListener: %d %q %v\n%s", code, body, err, e.log.String())
	}
	h := ec.last()
	if h.Get("X-Amzn-Mtls-Clientcert-Subject") == "" || !strings.Contains(h.Get("X-Amzn-Mtls-Clientcert-Subject"), "CN=good client") ||
		h.Get("X-Amzn-Mtls-Clientcert-Serial-Number") == "" || h.Get("X-Amzn-Mtls-Clientcert-Leaf") == "" {
		t.Errorf("the target's mTLS headers: %v", h)
	}
	e.waitConnLog(a.port, "Success", p.good)

	// The trust store is in use.
	_, err = e.elb.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: &a.ts})
	if !as[*types.TrustStoreInUseException](err) {
		t.Errorf("DeleteTrustStore in use: %v", err)
	}

	// A CRL from S3 revokes one client: refused at the handshake, logged.
	e.upload("edge-trust", "crl/intermediate.crl.pem", p.crl(t, 0, p.revoked.Cert))
	r, err := e.elb.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &a.ts,
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String("crl/intermediate.crl.pem"), RevocationType: types.RevocationTypeCrl}}})
	if err != nil || *r.TrustStoreRevocations[0].RevocationId != 1 || *r.TrustStoreRevocations[0].NumberOfRevokedEntries != 1 {
		t.Fatalf("AddTrustStoreRevocations: %v %+v", err, r)
	}
	if _, _, err := get(a.port, e.devRoot(), p.revoked); err == nil {
		t.Errorf("the revoked client got through after AddTrustStoreRevocations returned")
	}
	e.waitConnLog(a.port, "Failed:ClientCertCrlHit", p.revoked)
	if code, _, err := get(a.port, e.devRoot(), p.good); err != nil || code != 200 {
		t.Errorf("good client after the revocation: %d %v", code, err)
	}

	// Passthrough: the revoked client gets through with its certificate.
	if _, err := e.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &a.listener,
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough")}}); err != nil {
		t.Fatal(err)
	}
	if code, _, err := get(a.port, e.devRoot(), p.revoked); err != nil || code != 200 {
		t.Errorf("revoked client in passthrough mode: %d %v", code, err)
	}
	if h := ec.last(); !strings.Contains(h.Get("X-Amzn-Mtls-Clientcert"), "BEGIN%20CERTIFICATE") && !strings.Contains(h.Get("X-Amzn-Mtls-Clientcert"), "-----BEGIN") {
		t.Errorf("passthrough: the target saw no X-Amzn-Mtls-Clientcert: %v", h)
	}
	// Back to verify for the restart.
	if _, err := e.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &a.listener,
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &a.ts}}); err != nil {
		t.Fatal(err)
	}
	e.stop()
	if _, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(a.port)), time.Second); err == nil {
		t.Errorf("the listener still accepts after shutdown")
	}

	// Restart on the same state directory.
	e2 := startEdge(t, dir, state, baseYAML)
	d, err := e2.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: &a.lb})
	if err != nil || len(d.Listeners) != 1 || *d.Listeners[0].ListenerArn != a.listener || *d.Listeners[0].MutualAuthentication.TrustStoreArn != a.ts {
		t.Fatalf("after restart: %v %+v", err, d)
	}
	tgs, err := e2.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"my-targets"}})
	if err != nil || *tgs.TargetGroups[0].TargetGroupArn != a.tg {
		t.Errorf("target group after restart: %v", err)
	}
	rv, err := e2.elb.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: &a.ts})
	if err != nil || len(rv.TrustStoreRevocations) != 1 || *rv.TrustStoreRevocations[0].RevocationId != 1 {
		t.Errorf("revocations after restart: %v %+v", err, rv)
	}
	if code, _, err := get(a.port, e2.devRoot(), p.good); err != nil || code != 200 {
		t.Errorf("good client after restart: %d %v", code, err)
	}
	if _, _, err := get(a.port, e2.devRoot(), p.revoked); err == nil {
		t.Errorf("revoked client after restart got through")
	}
	e2.waitConnLog(a.port, "Failed:ClientCertCrlHit", p.revoked)
	// The next revocation id continues after a restart: ids are never reused.
	if _, err := e2.elb.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: &a.ts, RevocationIds: []int64{1}}); err != nil {
		t.Fatal(err)
	}
	r, err = e2.elb.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &a.ts,
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String("crl/intermediate.crl.pem")}}})
	if err != nil || *r.TrustStoreRevocations[0].RevocationId != 2 {
		t.Errorf("a revocation after remove and restart: %v %+v", err, r)
	}
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }

// The elb field of an API listener's log lines is its load balancer's
// ARN id (app/NAME/ID).
func TestAPILoadBalancerIdentityInLogs(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	e := startEdge(t, t.TempDir(), "", baseYAML)
	a := e.alb(p, ec)
	if _, _, err := get(a.port, e.devRoot(), p.good); err != nil {
		t.Fatal(err)
	}
	f := e.waitConnLog(a.port, "Success", p.good)
	want := "app/my-alb/" + a.lb[strings.LastIndexByte(a.lb, '/')+1:]
	if f["elb"] != want {
		t.Errorf("elb %s; want %s", f["elb"], want)
	}
}

// A port that is taken answers DuplicateListener and changes nothing: no
// listener in Describe, nothing in state.json, the running listeners the
// same.
func TestCreateListenerOnATakenPort(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	state := t.TempDir()
	e := startEdge(t, t.TempDir(), state, baseYAML)
	a := e.alb(p, ec)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	before, _ := os.ReadFile(filepath.Join(state, "state.json"))
	port := int32(taken.Addr().(*net.TCPAddr).Port)
	_, err = e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &a.lb, Protocol: types.ProtocolEnumHttp, Port: &port,
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &a.tg}}})
	if !as[*types.DuplicateListenerException](err) {
		t.Fatalf("CreateListener on a taken port: %v", err)
	}
	if !strings.Contains(err.Error(), itoa(port)) {
		t.Errorf("the error does not name the port: %v", err)
	}
	d, err := e.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: &a.lb})
	if err != nil || len(d.Listeners) != 1 {
		t.Errorf("listeners after the failed create: %v %+v", err, d)
	}
	after, _ := os.ReadFile(filepath.Join(state, "state.json"))
	if string(before) != string(after) {
		t.Errorf("state.json changed")
	}
	if n := len(e.srv.Snapshot().Listeners); n != 1 {
		t.Errorf("the running edge has %d listeners", n)
	}
	// A port of edge's own listener is named.
	_, err = e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &a.lb, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(a.port + 0),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &a.tg}}})
	if !as[*types.DuplicateListenerException](err) {
		t.Errorf("CreateListener on edge's own port: %v", err)
	}
}

// A port edge itself holds is answered DuplicateListener naming what holds
// it: the AWS endpoint, the admin API, a listener of another load balancer
// (by ARN). Nothing changes.
func TestCreateListenerOnEdgesOwnPorts(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	e := startEdge(t, t.TempDir(), "", baseYAML+`admin: {listen: "127.0.0.1:0"}
`)
	a := e.alb(p, ec)
	other, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("other-alb"), Subnets: []string{"subnet-1", "subnet-2"}})
	if err != nil {
		t.Fatal(err)
	}
	portOf := func(u string) int32 {
		t.Helper()
		_, p, err := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/"))
		n, _ := strconv.Atoi(p)
		if err != nil || n == 0 {
			t.Fatalf("no port in %q", u)
		}
		return int32(n)
	}
	adminURL := e.srv.ReadyDocument().AdminURL
	for _, c := range []struct {
		what string
		port int32
		want string
	}{
		{"the AWS endpoint's port", portOf(e.url), "(in use by edge's AWS endpoint " + e.url + ")"},
		{"the admin API's port", portOf(adminURL), "(in use by edge's admin API " + adminURL + ")"},
		{"a listener of another load balancer", a.port, "is used by listener " + a.listener},
	} {
		_, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: other.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(c.port),
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
		if !as[*types.DuplicateListenerException](err) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "another process") {
			t.Errorf("CreateListener on %s: %v; want DuplicateListener containing %q", c.what, err, c.want)
		}
	}
	d, err := e.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: other.LoadBalancers[0].LoadBalancerArn})
	if err != nil || len(d.Listeners) != 0 {
		t.Errorf("listeners of other-alb after the failed creates: %v %+v", err, d)
	}
}

// DeleteListener closes the port before it answers (or within a moment:
// in-flight requests drain).
func TestDeleteListenerClosesThePort(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	e := startEdge(t, t.TempDir(), "", baseYAML)
	a := e.alb(p, ec)
	if code, _, err := get(a.port, e.devRoot(), p.good); err != nil || code != 200 {
		t.Fatalf("before delete: %d %v", code, err)
	}
	if _, err := e.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: &a.listener}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(a.port)), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("port %d still accepts connections 5 s after DeleteListener", a.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The trust store is free again.
	if _, err := e.elb.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: &a.ts}); err != nil {
		t.Errorf("DeleteTrustStore after DeleteListener: %v", err)
	}
}

// A state whose listener no longer binds (its port taken while edge was
// stopped) starts edge without that listener, reported; a later call
// binds it once the port is free.
func TestStartWithATakenPort(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	dir, state := t.TempDir(), t.TempDir()
	e := startEdge(t, dir, state, baseYAML)
	a := e.alb(p, ec)
	e.stop()
	taken, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(a.port)))
	if err != nil {
		t.Skipf("port %d was taken by someone else meanwhile: %v", a.port, err)
	}
	e2 := startEdge(t, dir, state, baseYAML)
	if !strings.Contains(e2.log.String(), "cannot bind its address") || !strings.Contains(e2.log.String(), a.listener) {
		t.Errorf("the log does not report the listener:\n%s", e2.log.String())
	}
	d, err := e2.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{a.listener}})
	if err != nil || len(d.Listeners) != 1 {
		t.Errorf("the listener left the state: %v", err)
	}
	// An unrelated call succeeds while the port is still taken.
	if _, err := e2.elb.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{a.lb}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Errorf("a call while the listener cannot bind: %v", err)
	}
	taken.Close()
	if _, err := e2.elb.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{a.lb}, Tags: []types.Tag{{Key: aws.String("k2"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if code, _, err := get(a.port, e2.devRoot(), p.good); err != nil || code != 200 {
		t.Errorf("the listener after its port was freed and a call: %d %v", code, err)
	}
}
