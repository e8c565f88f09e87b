package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"edge/internal/testutil"
)

// needTool skips the test when a client is not installed, saying so on
// stderr so that the skip shows without -v.
func needTool(t *testing.T, what string, cmd ...string) {
	t.Helper()
	if err := exec.Command(cmd[0], cmd[1:]...).Run(); err != nil {
		msg := fmt.Sprintf("SKIP %s: %s is not installed (%v); install it to run this test", t.Name(), what, err)
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
}

// process is an edge started by a test, with its output collected.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	ready          *readyDoc
}

// startEdgeProcess runs edge with args in dir, waits for its ready file
// and returns it; it is stopped (SIGTERM) at the end of the test.
func startEdgeProcess(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	ready := filepath.Join(dir, fmt.Sprintf("ready-%d.json", time.Now().UnixNano()))
	p := &process{cmd: exec.Command(edgeBin, append(args, "--ready-file", ready)...)}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if data, err := os.ReadFile(ready); err == nil {
			var d readyDoc
			if json.Unmarshal(data, &d) == nil {
				p.ready = &d
				return p
			}
		}
		if p.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("edge %s did not get ready:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	}
}

func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("edge exited with %v after SIGTERM:\n%s", err, p.stderr.String())
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-done
		t.Errorf("edge did not exit within 20 s of SIGTERM")
	}
}

// connStatus waits for a connection-log line on port for the subject CN
// and returns its tls_verify_status.
func (p *process) connStatus(t *testing.T, port, cn string, from int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		lines := strings.Split(p.stdout.String(), "\n")
		for _, l := range lines[min(from, len(lines)):] {
			if f := testutil.ParseConnLine(l); f != nil && f["listener_port"] == port && strings.Contains(f["leaf_client_cert_subject"], "CN="+cn) {
				return f["tls_verify_status"]
			}
		}
	}
	t.Fatalf("no connection-log line for %s on port %s:\n%s", cn, port, p.stdout.String())
	return ""
}

func (p *process) lines() int { return strings.Count(p.stdout.String(), "\n") }

// awsCLI runs the aws CLI against url with throwaway credentials.
func awsCLI(t *testing.T, dir, url string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", url, "--region", "us-east-1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(o.String()), e.String(), code
}

func mustAWS(t *testing.T, dir, url string, args ...string) string {
	t.Helper()
	out, errOut, code := awsCLI(t, dir, url, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// curlGet runs curl with a client certificate (trusting the dev CA in
// devDir) and returns the body, or "" and curl's exit code when it failed.
func curlGet(t *testing.T, dir, devDir, port, cert, key string) (string, int) {
	t.Helper()
	cmd := exec.Command("curl", "-sS", "--max-time", "10", "--cert", cert, "--key", key, "--cacert", filepath.Join(devDir, "root.pem"), "https://localhost:"+port+"/")
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return "", ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// headerTarget is an HTTP target that answers "echo" and keeps the last
// request's headers.
type headerTarget struct {
	srv  *httptest.Server
	mu   sync.Mutex
	last http.Header
}

func newHeaderTarget(t *testing.T) *headerTarget {
	h := &headerTarget{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.last = r.Header.Clone()
		h.mu.Unlock()
		io.WriteString(w, "echo")
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *headerTarget) header(k string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last.Get(k)
}

func (h *headerTarget) port() string {
	_, p, _ := net.SplitHostPort(h.srv.Listener.Addr().String())
	return p
}

var serialLine = regexp.MustCompile(`serial ([0-9A-F]{16,40})`)

// The acceptance scenario with the installed aws CLI (v1), curl and
// boto3 against `edge serve --aws 127.0.0.1:0`: S3 bucket with versioning,
// trust store from S3, load balancer, target group with an echo target,
// HTTPS verify listener; curl with a trusted client gets 200 and the target
// sees the X-Amzn-Mtls-Clientcert-* headers; add-trust-store-revocations
// from S3 makes the revoked client fail with Failed:ClientCertCrlHit;
// delete-trust-store in use fails with TrustStoreInUse; passthrough lets
// the client through; after a restart on the same state directory the same
// ARNs and verdicts hold; edge export serves the same verdicts without the
// endpoint.
func TestAWSCLIEndToEnd(t *testing.T) {
	needTool(t, "the aws CLI", "aws", "--version")
	needTool(t, "curl", "curl", "--version")
	dir := t.TempDir()
	mustEdge(t, dir, "pki", "init")
	out := mustEdge(t, dir, "pki", "client", "--ca", "intermediate", "--cn", "Revoked One")
	m := serialLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no serial in %q", out)
	}
	mustEdge(t, dir, "pki", "revoke", "--ca", "intermediate", "--serial", m[1])
	target := newHeaderTarget(t)

	e := startEdgeProcess(t, dir, "serve", "--aws", "127.0.0.1:0", "--state-dir", "state")
	if e.ready.AWSEndpointURL == nil {
		t.Fatalf("the ready file has no aws_endpoint_url:\n%s", e.stderr.String())
	}
	url := *e.ready.AWSEndpointURL
	aws := func(args ...string) string { return mustAWS(t, dir, url, args...) }

	// S3 with versioning; the bundle and the CRL uploaded.
	aws("s3", "mb", "s3://edge-trust")
	aws("s3api", "put-bucket-versioning", "--bucket", "edge-trust", "--versioning-configuration", "Status=Enabled")
	aws("s3", "cp", "pki/bundle.pem", "s3://edge-trust/bundle.pem")
	if v := aws("s3api", "list-object-versions", "--bucket", "edge-trust", "--query", "Versions[0].VersionId", "--output", "text"); len(v) != 32 {
		t.Errorf("version id %q", v)
	}
	ts := aws("elbv2", "create-trust-store", "--name", "my-trust-store", "--ca-certificates-bundle-s3-bucket", "edge-trust",
		"--ca-certificates-bundle-s3-key", "bundle.pem", "--query", "TrustStores[0].TrustStoreArn", "--output", "text")
	lb := aws("elbv2", "create-load-balancer", "--name", "my-alb", "--subnets", "subnet-1", "subnet-2", "--query", "LoadBalancers[0].LoadBalancerArn", "--output", "text")
	tg := aws("elbv2", "create-target-group", "--name", "my-targets", "--protocol", "HTTP", "--port", "80", "--vpc-id", "vpc-1", "--target-type", "ip",
		"--query", "TargetGroups[0].TargetGroupArn", "--output", "text")
	aws("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id=127.0.0.1,Port="+target.port())
	port := fmt.Sprint(freePortNumber(t))
	listener := aws("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", port,
		"--certificates", "CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41-bd72-4774-9ad9-756919c40557",
		"--default-actions", "Type=forward,TargetGroupArn="+tg, "--mutual-authentication", "Mode=verify,TrustStoreArn="+ts,
		"--query", "Listeners[0].ListenerArn", "--output", "text")

	// curl with the trusted client, right after create-listener.
	from := e.lines()
	if body, code := curlGet(t, dir, ".edge", port, "pki/client-fullchain.pem", "pki/client.key"); body != "echo" {
		t.Fatalf("trusted client: curl exit %d\n%s", code, e.stderr.String())
	}
	if s := target.header("X-Amzn-Mtls-Clientcert-Subject"); !strings.Contains(s, "CN=client") {
		t.Errorf("the target saw X-Amzn-Mtls-Clientcert-Subject %q", s)
	}
	if st := e.connStatus(t, port, "client", from); st != "Success" {
		t.Errorf("trusted client: %s", st)
	}

	// The CRL article's key with a leading slash is not there; edge names
	// the key that is.
	aws("s3", "cp", "pki/intermediate.crl.pem", "s3://edge-trust/crl/intermediate.crl.pem")
	_, errOut, code := awsCLI(t, dir, url, "elbv2", "add-trust-store-revocations", "--trust-store-arn", ts,
		"--revocation-contents", "S3Bucket=edge-trust,S3Key=/crl/intermediate.crl.pem,RevocationType=CRL")
	if code != 255 || !strings.Contains(errOut, "RevocationContentNotFound") || !strings.Contains(errOut, `"crl/intermediate.crl.pem"`) {
		t.Errorf("leading-slash key: exit %d %s", code, errOut)
	}
	if id := aws("elbv2", "add-trust-store-revocations", "--trust-store-arn", ts,
		"--revocation-contents", "S3Bucket=edge-trust,S3Key=crl/intermediate.crl.pem,RevocationType=CRL",
		"--query", "TrustStoreRevocations[0].RevocationId", "--output", "text"); id != "1" {
		t.Errorf("revocation id %q", id)
	}
	if n := aws("elbv2", "describe-trust-store-revocations", "--trust-store-arn", ts, "--query", "TrustStoreRevocations[0].NumberOfRevokedEntries", "--output", "text"); n != "1" {
		t.Errorf("NumberOfRevokedEntries %q", n)
	}
	from = e.lines()
	if body, code := curlGet(t, dir, ".edge", port, "pki/revoked-one-fullchain.pem", "pki/revoked-one.key"); body != "" || code == 0 {
		t.Errorf("revoked client got %q", body)
	}
	if st := e.connStatus(t, port, "Revoked One", from); st != "Failed:ClientCertCrlHit" {
		t.Errorf("revoked client: %s", st)
	}
	_, errOut, code = awsCLI(t, dir, url, "elbv2", "delete-trust-store", "--trust-store-arn", ts)
	if code != 255 || !strings.Contains(errOut, "(TrustStoreInUse)") {
		t.Errorf("delete-trust-store in use: exit %d %s", code, errOut)
	}

	// Passthrough lets the revoked client through with its certificate.
	aws("elbv2", "modify-listener", "--listener-arn", listener, "--mutual-authentication", "Mode=passthrough")
	if body, code := curlGet(t, dir, ".edge", port, "pki/revoked-one-fullchain.pem", "pki/revoked-one.key"); body != "echo" {
		t.Errorf("passthrough: curl exit %d", code)
	}
	if c := target.header("X-Amzn-Mtls-Clientcert"); !strings.Contains(c, "BEGIN%20CERTIFICATE") {
		t.Errorf("passthrough: X-Amzn-Mtls-Clientcert %q", c)
	}
	aws("elbv2", "modify-listener", "--listener-arn", listener, "--mutual-authentication", "Mode=verify,TrustStoreArn="+ts)

	// boto3, for a few calls.
	if exec.Command("python3", "-c", "import boto3").Run() != nil {
		fmt.Fprintf(os.Stderr, "SKIP part of %s: boto3 is not installed (python3 -c 'import boto3')\n", t.Name())
	} else {
		script := `
import sys, boto3
c = boto3.client("elbv2", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
ts = c.describe_trust_stores(Names=["my-trust-store"])["TrustStores"][0]
print(ts["TrustStoreArn"], ts["TotalRevokedEntries"])
try:
    c.describe_trust_stores(Names=["missing"])
except c.exceptions.TrustStoreNotFoundException as e:
    print("TrustStoreNotFoundException")
print(len(c.describe_listeners(LoadBalancerArn=sys.argv[2])["Listeners"]))
`
		cmd := exec.Command("python3", "-c", script, url, lb)
		got, err := cmd.CombinedOutput()
		if want := ts + " 1\nTrustStoreNotFoundException\n1\n"; err != nil || string(got) != want {
			t.Errorf("boto3: %v\n%s\nwant\n%s", err, got, want)
		}
	}

	// Restart on the same state directory: same ARNs and verdicts.
	e.stop(t)
	e = startEdgeProcess(t, dir, "serve", "--aws", "127.0.0.1:0", "--state-dir", "state")
	url = *e.ready.AWSEndpointURL
	if got := mustAWS(t, dir, url, "elbv2", "describe-listeners", "--load-balancer-arn", lb, "--query", "Listeners[0].[ListenerArn,MutualAuthentication.TrustStoreArn]", "--output", "text"); got != listener+"\t"+ts {
		t.Errorf("after restart: %q", got)
	}
	from = e.lines()
	if body, _ := curlGet(t, dir, ".edge", port, "pki/client-fullchain.pem", "pki/client.key"); body != "echo" {
		t.Errorf("trusted client after restart")
	}
	curlGet(t, dir, ".edge", port, "pki/revoked-one-fullchain.pem", "pki/revoked-one.key")
	good, revoked := e.connStatus(t, port, "client", from), e.connStatus(t, port, "Revoked One", from)
	if good != "Success" || revoked != "Failed:ClientCertCrlHit" {
		t.Errorf("after restart: %s, %s", good, revoked)
	}

	// edge export, then serve the export alone: the same verdicts.
	e.stop(t)
	out = mustEdge(t, dir, "export", "--state-dir", "state", "--out", "exported")
	if !strings.Contains(out, "wrote exported/edge.yaml") {
		t.Errorf("edge export said %q", out)
	}
	mustEdge(t, dir, "check", "-c", "exported/edge.yaml")
	x := startEdgeProcess(t, dir, "serve", "-c", "exported/edge.yaml")
	if x.ready.AWSEndpointURL != nil {
		t.Errorf("the exported configuration serves the AWS endpoint")
	}
	from = x.lines()
	curlGet(t, dir, "exported/.edge", port, "pki/client-fullchain.pem", "pki/client.key")
	curlGet(t, dir, "exported/.edge", port, "pki/revoked-one-fullchain.pem", "pki/revoked-one.key")
	if g, r := x.connStatus(t, port, "client", from), x.connStatus(t, port, "Revoked One", from); g != good || r != revoked {
		t.Errorf("exported configuration: %s, %s; the API's: %s, %s", g, r, good, revoked)
	}
}
