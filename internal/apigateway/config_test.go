package apigateway_test

import (
	"crypto/x509/pkix"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"edge/internal/apigateway"
	"edge/internal/awsapi"
	"edge/internal/pki"
	"edge/internal/testutil"

	"net/http/httptest"
)

func TestConfigValidateNamesEveryProblem(t *testing.T) {
	c, err := apigateway.ParseConfig([]byte(`
listen: ""
access_log: dir:logs
access_log_format: "$context.requestID"
domain_names:
  - domain_name: "not a domain"
    endpoint_type: EDGE
    mutual_tls_authentication: {truststore: a.pem, truststore_uri: s3://b/k}
    base_path_mappings:
      - {base_path: "", rest_api: nope}
rest_apis:
  - name: pets
    stages: [{name: "bad stage"}]
    routes:
      - {path: pets, method: FETCH, integration: {type: HTTP_PROXY, uri: "ftp://x"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Validate() {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"api_gateway.listen: is required",
		"api_gateway.access_log: dir: destinations are ALB's",
		"api_gateway.access_log_format: unknown variable $context.requestID (did you mean $context.requestId?)",
		`api_gateway.domain_names[0].domain_name: "not a domain" is not a domain name`,
		"api_gateway.domain_names[0]: Mutual TLS is only supported on REGIONAL",
		"api_gateway.domain_names[0].mutual_tls_authentication: truststore and truststore_uri are exclusive",
		`api_gateway.domain_names[0].base_path_mappings[0].rest_api: "nope" is not a rest_apis name`,
		`api_gateway.rest_apis[0].stages[0].name: "bad stage"`,
		`api_gateway.rest_apis[0].routes[0].path: "pets" must start with /`,
		`api_gateway.rest_apis[0].routes[0].method: "FETCH"`,
		"api_gateway.rest_apis[0].routes[0].integration: Invalid HTTP endpoint",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if _, err := apigateway.ParseConfig([]byte("listen: x\ndomain_name: [a]\n")); err == nil || !strings.Contains(err.Error(), "domain_name not found") {
		t.Errorf("unknown key: %v", err)
	}
}

// TestConfigFileLayer serves a YAML-only configuration: a domain with a
// truststore file and a server certificate file, mapped to a YAML REST
// API; the API shows it read-only.
func TestConfigFileLayer(t *testing.T) {
	dir := t.TempDir()
	root := testutil.Root(t, "YAML Root")
	inter := testutil.Intermediate(t, root, "YAML Intermediate")
	client := testutil.Client(t, inter, pki.Options{Subject: pkix.Name{CommonName: "yaml client"}})
	testutil.WriteFile(t, filepath.Join(dir, "truststore.pem"), pki.CertPEM(root.Cert, inter.Cert))
	server, err := inter.IssueServer(pki.Options{DNSNames: []string{"yaml.test"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := pemFiles(t, dir, "server", server)
	target := httptest.NewServer(httpEcho())
	defer target.Close()
	c, err := apigateway.ParseConfig([]byte(fmt.Sprintf(`
listen: 127.0.0.1:0
domain_names:
  - domain_name: yaml.test
    certificate: {cert: %s, key: %s}
    mutual_tls_authentication: {truststore: truststore.pem}
    base_path_mappings: [{base_path: "", rest_api: pets, stage: prod}]
rest_apis:
  - name: pets
    disable_execute_api_endpoint: true
    stages: [{name: prod}]
    routes:
      - path: /{proxy+}
        method: ANY
        integration:
          type: HTTP_PROXY
          uri: %s/{proxy}
          request_parameters:
            integration.request.header.X-Client-Subject: context.identity.clientCert.subjectDN
`, filepath.Base(certFile), filepath.Base(keyFile), target.URL)))
	if err != nil {
		t.Fatal(err)
	}
	file, ps := c.Compile(ctx, dir, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	x := &h{t: t, access: &sink{}, exec: &sink{}, devRoot: root}
	x.srv, err = apigateway.NewServer(apigateway.ServerOptions{FileLayer: func() *apigateway.State { return file }, ExecutionLog: x.exec})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.srv.Listen(c.Listen); err != nil {
		t.Fatal(err)
	}
	defer x.srv.Close()
	x.addr = x.srv.Addr().String()
	code, body, _ := x.get(x.client("yaml.test", tlsCert(client)), "https://yaml.test/pets")
	if code != 200 || header(body, "X-Client-Subject") != "CN=yaml client" {
		t.Fatalf("YAML domain: %d %v", code, body)
	}
	if code, _, _ := x.get(x.client("yaml.test", tlsCert(testutil.Client(t, testutil.Root(t, "other"), pki.Options{}))), "https://yaml.test/pets"); code != 403 {
		t.Errorf("untrusted client on the YAML domain = %d", code)
	}

	store, _ := apigateway.OpenEphemeral()
	defer store.Close()
	svc, err := apigateway.New(apigateway.Options{Store: store, FileLayer: func() *apigateway.State { return file }})
	if err != nil {
		t.Fatal(err)
	}
	ep := httptest.NewServer(awsapi.New(awsapi.Services{APIGateway: svc.Handler()}, awsapi.Options{}))
	defer ep.Close()
	cl := apigw.New(apigw.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep.URL), Retryer: aws.NopRetryer{}})
	d, err := cl.GetDomainName(ctx, &apigw.GetDomainNameInput{DomainName: aws.String("yaml.test")})
	if err != nil || d.MutualTlsAuthentication == nil {
		t.Fatalf("GetDomainName of the YAML domain: %+v %v", d, err)
	}
	_, err = cl.DeleteDomainName(ctx, &apigw.DeleteDomainNameInput{DomainName: aws.String("yaml.test")})
	wantErr[*types.BadRequestException](t, err, "defined in edge.yaml (api_gateway.domain_names[0])")
	_, err = cl.CreateDomainName(ctx, &apigw.CreateDomainNameInput{DomainName: aws.String("yaml.test")})
	wantErr[*types.ConflictException](t, err, "already exists")
	apis, err := cl.GetRestApis(ctx, &apigw.GetRestApisInput{})
	if err != nil || len(apis.Items) != 1 || !apis.Items[0].DisableExecuteApiEndpoint {
		t.Fatalf("GetRestApis: %+v %v", apis, err)
	}
}

func TestConfigOpenLogs(t *testing.T) {
	dir := t.TempDir()
	c := &apigateway.Config{AccessLog: "file:" + filepath.Join(dir, "access.log")}
	var stderr strings.Builder
	access, exec, err := c.OpenLogs("", nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	access.Write([]byte("line\n"))
	exec.Write([]byte("reason\n"))
	access.Close()
	exec.Close()
	if b, _ := readFile(filepath.Join(dir, "access.log")); string(b) != "line\n" {
		t.Errorf("access log file holds %q", b)
	}
	if stderr.String() != "reason\n" {
		t.Errorf("execution log (default stderr) got %q", stderr.String())
	}
	if _, _, err := (&apigateway.Config{ExecutionLog: "syslog"}).OpenLogs("", nil, nil); err == nil || !strings.Contains(err.Error(), "api_gateway.execution_log") {
		t.Errorf("bad destination: %v", err)
	}
}

// A truststore_uri the S3 store cannot serve is a problem that says why,
// as the API's BadRequestException does: truststore_version on a bucket
// without versioning, an object that does not exist (with or without a
// version), a missing bucket.
func TestConfigTruststoreURIProblems(t *testing.T) {
	objs := newFakeS3()
	root := testutil.Root(t, "Root")
	v1 := objs.put("trust", "truststore.pem", pki.CertPEM(root.Cert))
	objs.bucket("plain-trust", false)
	objs.put("plain-trust", "truststore.pem", pki.CertPEM(root.Cert))
	domain := func(name, uri, version string) string {
		return fmt.Sprintf(`
  - domain_name: %s
    mutual_tls_authentication: {truststore_uri: %s, truststore_version: "%s"}
    base_path_mappings: [{base_path: "", rest_api: pets, stage: prod}]`, name, uri, version)
	}
	c, err := apigateway.ParseConfig([]byte("listen: 127.0.0.1:0\ndomain_names:" +
		domain("a.test", "s3://plain-trust/truststore.pem", "abc") +
		domain("b.test", "s3://trust/missing.pem", v1) +
		domain("c.test", "s3://trust/missing.pem", "") +
		domain("d.test", "s3://nobucket/truststore.pem", v1) +
		domain("e.test", "s3://trust/truststore.pem", v1) + `
rest_apis:
  - name: pets
    stages: [{name: prod}]
    routes: [{path: /, method: GET, integration: {type: MOCK}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, ps := c.Compile(ctx, t.TempDir(), objs)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		`api_gateway.domain_names[0].mutual_tls_authentication.truststore_version: truststore_version "abc" was given but bucket plain-trust is not versioned; enable versioning on the bucket or omit truststore_version`,
		`api_gateway.domain_names[1].mutual_tls_authentication.truststore_uri: s3://trust/missing.pem does not exist`,
		`api_gateway.domain_names[2].mutual_tls_authentication.truststore_uri: s3://trust/missing.pem does not exist`,
		`api_gateway.domain_names[3].mutual_tls_authentication.truststore_uri: bucket "nobucket" does not exist`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
