package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"edge/internal/pki"
	"edge/internal/testutil"
)

var ctx = context.Background()

// gwAWSYAML is an edge with the AWS endpoint and an API Gateway listener,
// nothing in the file: everything comes through the API.
const gwAWSYAML = `aws: {listen: "127.0.0.1:0"}
api_gateway:
  listen: 127.0.0.1:0
  execution_log: file:exec.log
`

// devRoots is the pool of the dev PKI's root beside edge.yaml, which
// issues the certificates of domains whose ACM certificate edge does not
// hold.
func devRoots(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ".edge", pki.DevRootFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("no certificate in .edge/%s", pki.DevRootFile)
	}
	return pool
}

// TestServeAPIGatewayAWSEndpoint: the API Gateway service on edge serve's
// AWS endpoint, driven by aws-sdk-go-v2 (S3 and API Gateway clients): a
// truststore uploaded to the embedded S3 store, the walkthrough's proxy
// API, a domain pinned to the first version; a new object version changes
// nothing until update-domain-name; what the API created serves again
// after a restart on the same state directory.
func TestServeAPIGatewayAWSEndpoint(t *testing.T) {
	dir := t.TempDir()
	p := newGWPKI(t, dir)
	target := echoTarget(t)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(gwAWSYAML))
	s := serveGW(t, dir)
	if s.aws == "" {
		t.Fatalf("edge serve did not log its AWS endpoint:\n%s", s.stderr)
	}
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), UsePathStyle: true, Credentials: creds})
	gc := apigw.New(apigw.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), Credentials: creds, Retryer: aws.NopRetryer{}})

	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trust")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("trust"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put := func(file string) string {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trust"), Key: aws.String("truststore.pem"), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	v1 := put("truststore.pem")

	api, err := gc.CreateRestApi(ctx, &apigw.CreateRestApiInput{Name: aws.String("pets"), DisableExecuteApiEndpoint: true,
		EndpointConfiguration: &apitypes.EndpointConfiguration{Types: []apitypes.EndpointType{apitypes.EndpointTypeRegional}}})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := gc.CreateResource(ctx, &apigw.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gc.PutMethod(ctx, &apigw.PutMethodInput{RestApiId: api.Id, ResourceId: proxy.Id, HttpMethod: aws.String("ANY"),
		AuthorizationType: aws.String("NONE"), RequestParameters: map[string]bool{"method.request.path.proxy": true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.PutIntegration(ctx, &apigw.PutIntegrationInput{RestApiId: api.Id, ResourceId: proxy.Id, HttpMethod: aws.String("ANY"),
		Type: apitypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(target.URL + "/{proxy}"),
		RequestParameters: map[string]string{
			"integration.request.path.proxy":              "method.request.path.proxy",
			"integration.request.header.X-Client-Subject": "context.identity.clientCert.subjectDN",
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.CreateDeployment(ctx, &apigw.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.CreateDomainName(ctx, &apigw.CreateDomainNameInput{
		DomainName: aws.String("api.test"), RegionalCertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41"),
		EndpointConfiguration: &apitypes.EndpointConfiguration{Types: []apitypes.EndpointType{apitypes.EndpointTypeRegional}},
		SecurityPolicy:        apitypes.SecurityPolicyTls12,
		MutualTlsAuthentication: &apitypes.MutualTlsAuthenticationInput{
			TruststoreUri: aws.String("s3://trust/truststore.pem"), TruststoreVersion: aws.String(v1)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.CreateBasePathMapping(ctx, &apigw.CreateBasePathMappingInput{DomainName: aws.String("api.test"), RestApiId: api.Id, Stage: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}

	roots := devRoots(t, dir)
	if a := s.get("api.test", "/pets", &p.trusted, roots, 0); a.status != 200 || a.header("X-Client-Subject") != "CN=trusted client,O=edge tests" {
		t.Fatalf("trusted client on v1: %v", a)
	}
	if a := s.get("api.test", "/pets", nil, roots, 0x0303); a.err == nil {
		t.Errorf("no client certificate: %v; want a failed handshake", a)
	}
	v2 := put("other-root.pem")
	if v2 == v1 || v2 == "" {
		t.Fatalf("versions %q, %q", v1, v2)
	}
	if a := s.get("api.test", "/pets", &p.trusted, roots, 0); a.status != 200 {
		t.Fatalf("after uploading v2, before update-domain-name: %v; want 200 (pinned to v1)", a)
	}
	if _, err := gc.UpdateDomainName(ctx, &apigw.UpdateDomainNameInput{DomainName: aws.String("api.test"), PatchOperations: []apitypes.PatchOperation{
		{Op: apitypes.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreVersion"), Value: aws.String(v2)}}}); err != nil {
		t.Fatal(err)
	}
	if a := s.get("api.test", "/pets", &p.trusted, roots, 0); a.status != 403 {
		t.Errorf("after update-domain-name to v2: %v; want 403", a)
	}
	s.waitFile(t, "exec.log", "Access denied. Reason: Could not find issuer for certificate (domain api.test")
	if a := s.get("api.test", "/pets", &p.untrusted, roots, 0); a.status != 200 {
		t.Errorf("v2's client after update-domain-name: %v; want 200", a)
	}

	// An ELBv2 call reloads the load balancer side only: the api_gateway
	// block did not change, so it is not recompiled (nor logged).
	before := strings.Count(s.stderr.String(), "API Gateway configuration reloaded")
	ec := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), Credentials: creds, Retryer: aws.NopRetryer{}})
	if _, err := ec.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp}); err != nil {
		t.Fatal(err)
	}
	if after := strings.Count(s.stderr.String(), "API Gateway configuration reloaded"); after != before {
		t.Errorf("an ELBv2 call recompiled the unchanged api_gateway block:\n%s", s.stderr)
	}

	// A restart on the same state directory serves the same domain,
	// still pinned to v2.
	s.stop(t)
	s = serveGW(t, dir)
	if a := s.get("api.test", "/pets", &p.untrusted, roots, 0); a.status != 200 {
		t.Errorf("after a restart: %v; want 200 (the domain and its pinned truststore persist)", a)
	}
	if _, err := os.Stat(filepath.Join(dir, ".edge", "state", "apigateway.json")); err != nil {
		t.Errorf("no apigateway.json in the state directory: %v", err)
	}
}

// TestServeAPIGatewayAWSCLIWalkthrough runs the walkthrough of
// docs/api-gateway.md with the installed aws CLI and curl against a
// running edge serve: the truststore goes to the embedded S3 store
// (s3 mb, put-bucket-versioning, put-object), the proxy API and the mTLS
// domain through aws apigateway; curl with the client certificate gets
// 200 and the mapped header at the echo target, curl without one fails
// the handshake, and a new truststore version takes effect only after
// update-domain-name.
func TestServeAPIGatewayAWSCLIWalkthrough(t *testing.T) {
	for _, tool := range []string{"aws", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("SKIP %s: %s is not installed; install it to run the walkthrough's commands", t.Name(), tool)
			fmt.Fprintln(os.Stderr, msg)
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	p := newGWPKI(t, dir)
	target := echoTarget(t)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(gwAWSYAML))
	key, _ := pki.KeyPEM(p.client.Key)
	testutil.WriteFile(t, filepath.Join(dir, "client.pem"), pki.CertPEM(p.client.ChainWithoutRoot()...))
	testutil.WriteFile(t, filepath.Join(dir, "client.key"), key)
	s := serveGW(t, dir)
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	awsCLI := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", s.aws}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, o.String(), e.String())
		}
		return strings.TrimSpace(o.String())
	}
	awsCLI("s3", "mb", "s3://demo-trust")
	awsCLI("s3api", "put-bucket-versioning", "--bucket", "demo-trust", "--versioning-configuration", "Status=Enabled")
	v1 := awsCLI("s3api", "put-object", "--bucket", "demo-trust", "--key", "truststore.pem", "--body", "truststore.pem", "--query", "VersionId", "--output", "text")
	apiID := awsCLI("apigateway", "create-rest-api", "--name", "pets", "--endpoint-configuration", "types=REGIONAL",
		"--disable-execute-api-endpoint", "--query", "id", "--output", "text")
	rootID := awsCLI("apigateway", "get-resources", "--rest-api-id", apiID, "--query", "items[0].id", "--output", "text")
	resID := awsCLI("apigateway", "create-resource", "--rest-api-id", apiID, "--parent-id", rootID, "--path-part", "{proxy+}", "--query", "id", "--output", "text")
	awsCLI("apigateway", "put-method", "--rest-api-id", apiID, "--resource-id", resID, "--http-method", "ANY",
		"--authorization-type", "NONE", "--request-parameters", "method.request.path.proxy=true")
	awsCLI("apigateway", "put-integration", "--rest-api-id", apiID, "--resource-id", resID, "--http-method", "ANY",
		"--type", "HTTP_PROXY", "--integration-http-method", "ANY", "--uri", target.URL+"/{proxy}",
		"--request-parameters", `{"integration.request.path.proxy":"method.request.path.proxy","integration.request.header.X-Client-Subject":"context.identity.clientCert.subjectDN"}`)
	awsCLI("apigateway", "create-deployment", "--rest-api-id", apiID, "--stage-name", "prod")
	awsCLI("apigateway", "create-domain-name", "--domain-name", "api.example.test",
		"--regional-certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/x",
		"--endpoint-configuration", "types=REGIONAL", "--security-policy", "TLS_1_2",
		"--mutual-tls-authentication", "truststoreUri=s3://demo-trust/truststore.pem,truststoreVersion="+v1)
	awsCLI("apigateway", "create-base-path-mapping", "--domain-name", "api.example.test", "--rest-api-id", apiID, "--stage", "prod")

	_, port, _ := strings.Cut(s.gw, ":")
	curl := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "10", "--resolve", "api.example.test:" + port + ":127.0.0.1",
			"--cacert", filepath.Join(".edge", pki.DevRootFile)}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	url := "https://api.example.test:" + port + "/pets"
	out, code := curl("--key", "client.key", "--cert", "client.pem", url)
	var echo struct {
		Path    string              `json:"path"`
		Headers map[string][]string `json:"headers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &echo) != nil || echo.Path != "/pets" || strings.Join(echo.Headers["X-Client-Subject"], "") != "CN=trusted client,O=edge tests" {
		t.Fatalf("curl with the client certificate: exit %d\n%s", code, out)
	}
	if out, code := curl("--tls-max", "1.2", url); code != 35 || !strings.Contains(out, "SSL_ERROR_SYSCALL") {
		t.Errorf("curl without a certificate: exit %d %q; want 35 and SSL_ERROR_SYSCALL", code, out)
	}
	v2 := awsCLI("s3api", "put-object", "--bucket", "demo-trust", "--key", "truststore.pem", "--body", "other-root.pem", "--query", "VersionId", "--output", "text")
	if out, code := curl("--key", "client.key", "--cert", "client.pem", "-o", "/dev/null", "-w", "%{http_code}", url); code != 0 || out != "200" {
		t.Errorf("after uploading v2: exit %d %q; want 200 (pinned to v1)", code, out)
	}
	awsCLI("apigateway", "update-domain-name", "--domain-name", "api.example.test",
		"--patch-operations", "op=replace,path=/mutualTlsAuthentication/truststoreVersion,value="+v2)
	if out, code := curl("--key", "client.key", "--cert", "client.pem", url); code != 0 || out != `{"message":"Forbidden"}` {
		t.Errorf("after update-domain-name to v2: exit %d %q; want 403 Forbidden", code, out)
	}
}

// Truststore objects the embedded S3 store cannot serve say why, through
// the API and in the YAML form alike: a truststore version on a bucket
// without versioning names the bucket and what to do, and an object that
// does not exist says so (with the nearest key) even when a version is
// pinned, rather than that it "has no version".
func TestAPIGatewayTruststoreObjectMessages(t *testing.T) {
	dir := t.TempDir()
	newGWPKI(t, dir)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(gwAWSYAML))
	s := serveGW(t, dir)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), UsePathStyle: true, Credentials: creds})
	gc := apigw.New(apigw.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), Credentials: creds, Retryer: aws.NopRetryer{}})
	data, err := os.ReadFile(filepath.Join(dir, "truststore.pem"))
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	for _, b := range []string{"plain-trust", "demo-trust"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		if b == "demo-trust" {
			if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
		}
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("truststore.pem"), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		versions[b] = aws.ToString(out.VersionId)
	}
	v1 := versions["demo-trust"]
	if _, err := gc.CreateDomainName(ctx, &apigw.CreateDomainNameInput{
		DomainName: aws.String("api.example.test"), RegionalCertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x"),
		EndpointConfiguration: &apitypes.EndpointConfiguration{Types: []apitypes.EndpointType{apitypes.EndpointTypeRegional}},
		SecurityPolicy:        apitypes.SecurityPolicyTls12,
		MutualTlsAuthentication: &apitypes.MutualTlsAuthenticationInput{
			TruststoreUri: aws.String("s3://demo-trust/truststore.pem"), TruststoreVersion: aws.String(v1)},
	}); err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]string{
		"s3://demo-trust/missing.pem":    "Unable to load the truststore s3://demo-trust/missing.pem: s3://demo-trust/missing.pem does not exist (did you mean \"truststore.pem\"?).",
		"s3://demo-trust/truststore.pen": "s3://demo-trust/truststore.pen does not exist (did you mean \"truststore.pem\"?)",
	} {
		_, err := gc.UpdateDomainName(ctx, &apigw.UpdateDomainNameInput{DomainName: aws.String("api.example.test"), PatchOperations: []apitypes.PatchOperation{
			{Op: apitypes.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreUri"), Value: aws.String(uri)}}})
		var bre *apitypes.BadRequestException
		if !errors.As(err, &bre) || !strings.Contains(aws.ToString(bre.Message), want) || strings.Contains(err.Error(), "has no version") {
			t.Errorf("update-domain-name truststoreUri=%s: %v; want BadRequestException %q", uri, err, want)
		}
	}
	_, err = gc.CreateDomainName(ctx, &apigw.CreateDomainNameInput{
		DomainName: aws.String("plain.example.test"), RegionalCertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x"),
		EndpointConfiguration: &apitypes.EndpointConfiguration{Types: []apitypes.EndpointType{apitypes.EndpointTypeRegional}},
		SecurityPolicy:        apitypes.SecurityPolicyTls12,
		MutualTlsAuthentication: &apitypes.MutualTlsAuthenticationInput{
			TruststoreUri: aws.String("s3://plain-trust/truststore.pem"), TruststoreVersion: aws.String(v1)},
	})
	if want := "bucket plain-trust is not versioned; enable versioning on the bucket or omit truststoreVersion"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("create-domain-name on the unversioned bucket: %v; want %q", err, want)
	}
	s.stop(t)

	// The YAML form, checked against the same embedded store.
	for _, tc := range []struct{ mtls, want string }{
		{"{truststore_uri: s3://plain-trust/truststore.pem, truststore_version: " + v1 + "}",
			`edge.yaml:8: api_gateway.domain_names[0].mutual_tls_authentication.truststore_version: truststore_version "` + v1 + `" was given but bucket plain-trust is not versioned; enable versioning on the bucket or omit truststore_version`},
		{"{truststore_uri: s3://demo-trust/truststore.pen, truststore_version: " + v1 + "}",
			`edge.yaml:8: api_gateway.domain_names[0].mutual_tls_authentication.truststore_uri: s3://demo-trust/truststore.pen does not exist (did you mean "truststore.pem"?)`},
	} {
		testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(`aws: {listen: "127.0.0.1:0"}
api_gateway:
  listen: 127.0.0.1:0
  domain_names:
    - domain_name: api.example.test
      base_path_mappings: [{base_path: "", rest_api: pets, stage: prod}]
      mutual_tls_authentication:
        `+tc.mtls+`
  rest_apis:
    - {name: pets, stages: [{name: prod}], routes: [{path: /, method: GET, integration: {type: MOCK}}]}
`))
		out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
		if code != 1 || strings.TrimSpace(errOut) != tc.want {
			t.Errorf("edge check with %s: exit %d\n%s%s\nwant exit 1 and %s", tc.mtls, code, out, errOut, tc.want)
		}
	}
}
