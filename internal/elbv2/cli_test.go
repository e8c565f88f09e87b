package elbv2_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// need skips the test when a client is not installed, saying so on
// stderr so the skip is visible without -v.
func need(t *testing.T, what string, cmd ...string) {
	t.Helper()
	if err := exec.Command(cmd[0], cmd[1:]...).Run(); err != nil {
		msg := fmt.Sprintf("SKIP %s: %s is not installed (%v); install it to run this test", t.Name(), what, err)
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
}

func (x *h) cli(args ...string) (stdout, stderr string, code int) {
	x.t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", x.srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		x.t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestAWSCLI drives the endpoint with the installed AWS CLI v1.
func TestAWSCLI(t *testing.T) {
	need(t, "the aws CLI", "aws", "--version")
	x := newH(t)
	_, stderr, code := x.cli("elbv2", "describe-trust-stores", "--names", "missing")
	want := "\nAn error occurred (TrustStoreNotFound) when calling the DescribeTrustStores operation: The specified trust store does not exist.\n"
	if code != 255 || stderr != want {
		t.Errorf("missing store: exit %d, stderr %q; want 255, %q", code, stderr, want)
	}
	x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root, x.inter))
	out, stderr, code := x.cli("elbv2", "create-trust-store", "--name", "my-trust-store", "--ca-certificates-bundle-s3-bucket", "edge-trust", "--ca-certificates-bundle-s3-key", "bundle.pem")
	if code != 0 || !strings.Contains(out, `"NumberOfCaCertificates": 2`) || !strings.Contains(out, `"Status": "ACTIVE"`) {
		t.Fatalf("create: %d %s %s", code, out, stderr)
	}
	for _, n := range []string{"b", "c"} {
		if _, stderr, code := x.cli("elbv2", "create-trust-store", "--name", n, "--ca-certificates-bundle-s3-bucket", "edge-trust", "--ca-certificates-bundle-s3-key", "bundle.pem"); code != 0 {
			t.Fatal(stderr)
		}
	}
	// --page-size 1: the CLI v1 here prints NextMarker (it did not
	// auto-paginate in this run); --marker gets the next page.
	out, stderr, code = x.cli("elbv2", "describe-trust-stores", "--page-size", "1", "--query", "[TrustStores[].Name, NextMarker]", "--output", "text")
	f := strings.Fields(out)
	if code != 0 || len(f) != 2 || (f[0] != "my-trust-store" && f[1] != "my-trust-store") {
		t.Fatalf("page 1: %d %q %s", code, out, stderr)
	}
	if f[1] == "my-trust-store" {
		f[1] = f[0]
	}
	out, stderr, code = x.cli("elbv2", "describe-trust-stores", "--page-size", "1", "--marker", f[1], "--query", "TrustStores[].Name", "--output", "text")
	if code != 0 || strings.TrimSpace(out) != "b" {
		t.Errorf("page 2: %d %q %s", code, out, stderr)
	}
	arn := x.svc.State().TrustStores[0].Arn
	x.s3.put("edge-trust", "crl/intermediate.crl.pem", crl(t, x.inter, 7))
	out, stderr, code = x.cli("elbv2", "add-trust-store-revocations", "--trust-store-arn", arn, "--revocation-contents", "S3Bucket=edge-trust,S3Key=crl/intermediate.crl.pem,RevocationType=CRL")
	if code != 0 || !strings.Contains(out, `"NumberOfRevokedEntries": 7`) || !strings.Contains(out, `"RevocationId": 1`) {
		t.Errorf("add revocations: %d %s %s", code, out, stderr)
	}
	// The CRL article's S3Key=/crl/… gets edge's hint.
	_, stderr, code = x.cli("elbv2", "add-trust-store-revocations", "--trust-store-arn", arn, "--revocation-contents", "S3Bucket=edge-trust,S3Key=/crl/intermediate.crl.pem,RevocationType=CRL")
	if code != 255 || !strings.Contains(stderr, "(RevocationContentNotFound)") || !strings.Contains(stderr, `did you mean "crl/intermediate.crl.pem"?`) {
		t.Errorf("leading slash: %d %s", code, stderr)
	}
	out, stderr, code = x.cli("elbv2", "delete-trust-store", "--trust-store-arn", arn)
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("delete (an empty result must parse): %d %q %s", code, out, stderr)
	}
	if _, _, code := x.cli("elbv2", "wait", "load-balancers-deleted", "--names", "nope"); code != 0 {
		t.Errorf("wait load-balancers-deleted: exit %d", code)
	}
	if _, err := x.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Type: types.LoadBalancerTypeEnumApplication, Subnets: []string{"subnet-1", "subnet-2"}}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := x.cli("elbv2", "wait", "load-balancer-available", "--names", "my-alb"); code != 0 {
		t.Errorf("wait load-balancer-available: exit %d %s", code, stderr)
	}
	out, stderr, code = x.cli("sts", "get-caller-identity")
	if code != 0 || !strings.Contains(out, `"Account": "123456789012"`) {
		t.Errorf("sts: %d %s %s", code, out, stderr)
	}
}

// TestBoto3 checks boto3 raises the modelled exception class.
func TestBoto3(t *testing.T) {
	need(t, "python3 with boto3", "python3", "-c", "import boto3")
	x := newH(t)
	script := `
import sys, boto3
c = boto3.client("elbv2", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
try:
    c.describe_trust_stores(Names=["missing"])
except c.exceptions.TrustStoreNotFoundException as e:
    print("raised", e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
c.delete_load_balancer(LoadBalancerArn="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/0123456789abcdef")
print("empty result ok")
`
	out, err := exec.Command("python3", "-c", script, x.srv.URL).CombinedOutput()
	if err != nil || string(out) != "raised TrustStoreNotFound 400\nempty result ok\n" {
		t.Errorf("boto3: %v %s", err, out)
	}
}
