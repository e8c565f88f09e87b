package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"edge/internal/testutil"
)

// startAWSEdge runs `edge serve --aws 127.0.0.1:0` with a dev PKI in a
// fresh directory and returns the directory, the process and the endpoint.
func startAWSEdge(t *testing.T, args ...string) (string, *process, string) {
	t.Helper()
	dir := t.TempDir()
	mustEdge(t, dir, "pki", "init")
	e := startEdgeProcess(t, dir, append([]string{"serve", "--aws", "127.0.0.1:0", "--state-dir", "state"}, args...)...)
	if e.ready.AWSEndpointURL == nil {
		t.Fatalf("the ready file has no aws_endpoint_url:\n%s", e.stderr.String())
	}
	return dir, e, *e.ready.AWSEndpointURL
}

// awsShell runs a shell command line as a user who exported the
// endpoint, credentials and region would.
func awsShell(t *testing.T, dir, url, line string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+url, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// fixCommand is the command line in backquotes after "convert it with" and
// the object to use afterwards.
var fixCommand = regexp.MustCompile("convert it with `([^`]+)`, then use s3://([^/ ]+)/(\\S+)")

// A DER bundle or CRL read from S3 is refused with commands that run as
// printed: they download the object, convert it with openssl and upload
// the PEM copy, which the same call then accepts.
func TestAWSCLIS3FixCommandsRun(t *testing.T) {
	needTool(t, "the aws CLI", "aws", "--version")
	needTool(t, "openssl", "openssl", "version")
	dir, _, url := startAWSEdge(t)
	out := mustEdge(t, dir, "pki", "client", "--ca", "intermediate", "--cn", "Jane Doe")
	m := serialLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no serial in %q", out)
	}
	mustEdge(t, dir, "pki", "revoke", "--ca", "intermediate", "--serial", m[1])
	if out, err := exec.Command("openssl", "x509", "-in", filepath.Join(dir, "pki", "root.pem"), "-outform", "DER", "-out", filepath.Join(dir, "root.der")).CombinedOutput(); err != nil {
		t.Fatalf("openssl x509 -outform DER: %v\n%s", err, out)
	}
	aws := func(args ...string) string { return mustAWS(t, dir, url, args...) }
	aws("s3", "mb", "s3://my-trust-bucket")
	aws("s3", "cp", "root.der", "s3://my-trust-bucket/ca/root.der")
	aws("s3", "cp", "pki/bundle.pem", "s3://my-trust-bucket/bundle.pem")
	aws("s3", "cp", "pki/intermediate.crl.der", "s3://my-trust-bucket/crl/intermediate.crl.der")

	// fix runs the command of a refusal in a scratch directory and
	// returns the key to use instead.
	fix := func(what, errOut string) string {
		t.Helper()
		m := fixCommand.FindStringSubmatch(errOut)
		if m == nil {
			t.Fatalf("%s: no runnable command in %s", what, errOut)
		}
		if strings.Contains(m[1], "-in s3://") {
			t.Errorf("%s: openssl is given an s3:// URI: %s", what, m[1])
		}
		scratch := filepath.Join(dir, what)
		os.Mkdir(scratch, 0o755)
		if out, err := awsShell(t, scratch, url, m[1]); err != nil {
			t.Fatalf("%s: `%s` failed: %v\n%s", what, m[1], err, out)
		}
		if m[2] != "my-trust-bucket" {
			t.Errorf("%s: use bucket %q", what, m[2])
		}
		return m[3]
	}

	_, errOut, code := awsCLI(t, dir, url, "elbv2", "create-trust-store", "--name", "from-der",
		"--ca-certificates-bundle-s3-bucket", "my-trust-bucket", "--ca-certificates-bundle-s3-key", "ca/root.der")
	if code != 255 || !strings.Contains(errOut, "(InvalidCaCertificatesBundle)") {
		t.Fatalf("DER bundle: exit %d %s", code, errOut)
	}
	key := fix("bundle", errOut)
	if n := aws("elbv2", "create-trust-store", "--name", "from-der", "--ca-certificates-bundle-s3-bucket", "my-trust-bucket",
		"--ca-certificates-bundle-s3-key", key, "--query", "TrustStores[0].NumberOfCaCertificates", "--output", "text"); n != "1" {
		t.Errorf("the converted bundle %s has %s CA certificates; want 1", key, n)
	}

	ts := aws("elbv2", "create-trust-store", "--name", "my-trust-store", "--ca-certificates-bundle-s3-bucket", "my-trust-bucket",
		"--ca-certificates-bundle-s3-key", "bundle.pem", "--query", "TrustStores[0].TrustStoreArn", "--output", "text")
	_, errOut, code = awsCLI(t, dir, url, "elbv2", "add-trust-store-revocations", "--trust-store-arn", ts,
		"--revocation-contents", "S3Bucket=my-trust-bucket,S3Key=crl/intermediate.crl.der,RevocationType=CRL")
	if code != 255 || !strings.Contains(errOut, "(InvalidRevocationContent)") {
		t.Fatalf("DER CRL: exit %d %s", code, errOut)
	}
	key = fix("crl", errOut)
	if n := aws("elbv2", "add-trust-store-revocations", "--trust-store-arn", ts,
		"--revocation-contents", "S3Bucket=my-trust-bucket,S3Key="+key+",RevocationType=CRL",
		"--query", "TrustStoreRevocations[0].NumberOfRevokedEntries", "--output", "text"); n != "1" {
		t.Errorf("the converted CRL %s has %s entries; want 1", key, n)
	}
}

// A service edge does not emulate gets an error the CLI parses (code and
// message, never the raw body), naming only the services edge serves.
func TestAWSCLIUnknownServices(t *testing.T) {
	needTool(t, "the aws CLI", "aws", "--version")
	dir, _, url := startAWSEdge(t)
	for _, c := range []struct {
		args        []string
		codes       []string
		op, service string
	}{
		{[]string{"iam", "list-users"}, []string{"InvalidAction"}, "ListUsers", "iam"}, // Query
		// RPC v2 CBOR in recent CLIs, Query in older ones.
		{[]string{"cloudwatch", "list-metrics"}, []string{"UnknownOperationException", "InvalidAction"}, "ListMetrics", "monitoring (aws cloudwatch)"},
		{[]string{"lambda", "list-functions"}, []string{"UnknownOperationException"}, "ListFunctions", "lambda"}, // REST-JSON
	} {
		_, errOut, code := awsCLI(t, dir, url, c.args...)
		var wants []string
		for _, k := range c.codes {
			want := "An error occurred (" + k + ") when calling the " + c.op + ` operation: edge does not emulate the "` + c.service + `" service; it serves s3, elasticloadbalancing (ELBv2), sts and apigateway.`
			wants = append(wants, want)
		}
		if code != 255 || !slices.Contains(wants, strings.TrimSpace(errOut)) {
			t.Errorf("aws %s: exit %d\n%s\nwant\n%s", strings.Join(c.args, " "), code, errOut, strings.Join(wants, "\nor\n"))
		}
	}
}

// ELBv2 calls log one INFO line each ("applied" with the operation), not
// a "configuration reloaded" of a file that is not there nor an API
// Gateway reload when there is no api_gateway block.
func TestAWSEndpointLogsOneLinePerChange(t *testing.T) {
	_, e, url := startAWSEdge(t)
	c := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: aws.NopRetryer{}})
	ctx := context.Background()
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Subnets: []string{"subnet-1", "subnet-2"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(freePortNumber(t))),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.Listeners[0].ListenerArn}); err != nil {
		t.Fatal(err)
	}
	var applied []string
	for _, line := range strings.Split(e.stderr.String(), "\n") {
		switch {
		case strings.Contains(line, "configuration reloaded"):
			t.Errorf("an ELBv2 call logged %q", line)
		case strings.Contains(line, `msg=applied `):
			m := regexp.MustCompile(`operation=(\w+)`).FindStringSubmatch(line)
			if m == nil || !strings.Contains(line, "level=INFO") {
				t.Errorf("applied line %q; want INFO with operation=", line)
				continue
			}
			applied = append(applied, m[1])
		}
	}
	if want := []string{"CreateLoadBalancer", "CreateListener", "DeleteListener"}; !slices.Equal(applied, want) {
		t.Errorf("applied lines for %v; want one per change: %v\n%s", applied, want, e.stderr.String())
	}
}

// The ready file names an API listener's ARN: a file reload that adds a
// listener shifts the API listener's index, not its ARN or port.
func TestReadyFileListenerArn(t *testing.T) {
	dir := t.TempDir()
	const yaml = "logs: {connection: \"off\", access: \"off\"}\nlisteners:\n" +
		"  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\", message_body: file}}]}\n"
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(yaml))
	e := startEdgeProcess(t, dir, "serve", "-c", "edge.yaml", "--aws", "127.0.0.1:0", "--state-dir", "state")
	readyPath := e.cmd.Args[len(e.cmd.Args)-1]
	c := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: e.ready.AWSEndpointURL, Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: aws.NopRetryer{}})
	ctx := context.Background()
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Subnets: []string{"subnet-1", "subnet-2"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(freePortNumber(t))),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *l.Listeners[0].ListenerArn
	d := waitReady(t, readyPath, func(d *readyDoc) bool { return len(d.Listeners) == 2 })
	if d.Listeners[0].ListenerArn != "" || d.Listeners[1].ListenerArn != arn || d.Listeners[1].Port != int(*l.Listeners[0].Port) {
		t.Errorf("ready listeners %+v; want the file's without listener_arn, then %s on port %d", d.Listeners, arn, *l.Listeners[0].Port)
	}
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(yaml+
		"  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\", message_body: second}}]}\n"))
	e.cmd.Process.Signal(syscall.SIGHUP)
	d = waitReady(t, readyPath, func(d *readyDoc) bool { return len(d.Listeners) == 3 })
	for _, rl := range d.Listeners {
		if rl.ListenerArn == arn && (rl.Index != 2 || rl.Port != int(*l.Listeners[0].Port)) {
			t.Errorf("after the reload the API listener is %+v; want index 2 (shifted), the same port", rl)
		}
	}
	if d.Listeners[2].ListenerArn != arn {
		t.Errorf("after the reload: %+v; want %s last", d.Listeners, arn)
	}
}
