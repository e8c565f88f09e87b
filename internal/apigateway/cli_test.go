package apigateway_test

import (
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// needCLI skips the test when the aws CLI is absent, saying so on stderr
// so the skip is visible without -v.
func needCLI(t *testing.T) {
	t.Helper()
	if err := exec.Command("aws", "--version").Run(); err != nil {
		msg := fmt.Sprintf("SKIP %s: the aws CLI is not installed (%v); install awscli to run the walkthrough's aws apigateway commands", t.Name(), err)
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
}

func (x *h) aws(args ...string) (map[string]any, string, int) {
	x.t.Helper()
	cmd := exec.Command("aws", append([]string{"apigateway", "--endpoint-url", x.ep.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		x.t.Fatal(err)
	}
	var out map[string]any
	if o.Len() > 0 {
		if err := json.Unmarshal([]byte(o.String()), &out); err != nil {
			x.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, o.String())
		}
	}
	return out, e.String(), code
}

func (x *h) mustAWS(args ...string) map[string]any {
	x.t.Helper()
	out, stderr, code := x.aws(args...)
	if code != 0 {
		x.t.Fatalf("aws apigateway %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// TestAWSCLIWalkthrough runs the walkthrough's aws apigateway commands
// (the truststore upload goes to the fake S3 directly: the embedded S3
// store is another package's) and checks the data plane after each step.
func TestAWSCLIWalkthrough(t *testing.T) {
	needCLI(t)
	x := newH(t)
	root := testutil.Root(t, "CLI Root")
	inter := testutil.Intermediate(t, root, "CLI Intermediate")
	client := testutil.Client(t, inter, pki.Options{Subject: pkix.Name{CommonName: "cli client"}})
	v1 := x.s3.put("trust", "truststore.pem", pki.CertPEM(root.Cert, inter.Cert))

	api := x.mustAWS("create-rest-api", "--name", "pets", "--endpoint-configuration", "types=REGIONAL", "--disable-execute-api-endpoint")
	apiID := api["id"].(string)
	if api["disableExecuteApiEndpoint"] != true {
		t.Errorf("create-rest-api: %v", api)
	}
	res := x.mustAWS("get-resources", "--rest-api-id", apiID)
	items := res["items"].([]any)
	rootID := items[0].(map[string]any)["id"].(string)
	proxy := x.mustAWS("create-resource", "--rest-api-id", apiID, "--parent-id", rootID, "--path-part", "{proxy+}")
	proxyID := proxy["id"].(string)
	x.mustAWS("put-method", "--rest-api-id", apiID, "--resource-id", proxyID, "--http-method", "ANY", "--authorization-type", "NONE",
		"--request-parameters", "method.request.path.proxy=true")
	it := x.mustAWS("put-integration", "--rest-api-id", apiID, "--resource-id", proxyID, "--http-method", "ANY", "--type", "HTTP_PROXY",
		"--integration-http-method", "ANY", "--uri", x.target.URL+"/{proxy}",
		"--request-parameters", `{"integration.request.path.proxy":"method.request.path.proxy","integration.request.header.X-Client-Subject":"context.identity.clientCert.subjectDN"}`)
	if it["httpMethod"] != "ANY" || it["type"] != "HTTP_PROXY" {
		t.Errorf("put-integration: %v", it)
	}
	dep := x.mustAWS("create-deployment", "--rest-api-id", apiID, "--stage-name", "prod")
	if len(dep["id"].(string)) != 6 {
		t.Errorf("create-deployment: %v", dep)
	}
	d := x.mustAWS("create-domain-name", "--domain-name", "api.test", "--regional-certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41",
		"--endpoint-configuration", "types=REGIONAL", "--security-policy", "TLS_1_2",
		"--mutual-tls-authentication", "truststoreUri=s3://trust/truststore.pem,truststoreVersion="+v1)
	if d["domainNameStatus"] != "AVAILABLE" || d["mutualTlsAuthentication"].(map[string]any)["truststoreVersion"] != v1 {
		t.Errorf("create-domain-name: %v", d)
	}
	bp := x.mustAWS("create-base-path-mapping", "--domain-name", "api.test", "--rest-api-id", apiID, "--stage", "prod")
	if bp["basePath"] != "(none)" {
		t.Errorf("create-base-path-mapping: %v", bp)
	}
	list := x.mustAWS("get-domain-names")
	if len(list["items"].([]any)) != 1 {
		t.Errorf("get-domain-names (the CLI shows item as items): %v", list)
	}

	c := x.client("api.test", tlsCert(client))
	if code, body, _ := x.get(c, "https://api.test/pets"); code != 200 || header(body, "X-Client-Subject") != "CN=cli client" {
		t.Fatalf("curl step: %d %v", code, body)
	}
	// A new truststore version without the client's CA: nothing changes
	// until update-domain-name.
	v2 := x.s3.put("trust", "truststore.pem", pki.CertPEM(testutil.Root(t, "Another Root").Cert))
	if code, _, _ := x.get(c, "https://api.test/pets"); code != 200 {
		t.Fatalf("after uploading v2: %d", code)
	}
	up := x.mustAWS("update-domain-name", "--domain-name", "api.test", "--patch-operations", "op=replace,path=/mutualTlsAuthentication/truststoreVersion,value="+v2)
	if up["mutualTlsAuthentication"].(map[string]any)["truststoreVersion"] != v2 {
		t.Errorf("update-domain-name: %v", up)
	}
	if code, _, _ := x.get(c, "https://api.test/pets"); code != 403 {
		t.Fatalf("after update-domain-name to v2: %d, want 403", code)
	}

	_, stderr, code := x.aws("get-domain-name", "--domain-name", "nosuch.example.com")
	want := "\nAn error occurred (NotFoundException) when calling the GetDomainName operation: Invalid domain name identifier specified\n"
	if code != 255 || stderr != want {
		t.Errorf("get-domain-name nosuch: exit %d stderr %q, want 255 %q", code, stderr, want)
	}
	_, stderr, code = x.aws("create-domain-name", "--domain-name", "bad.test", "--endpoint-configuration", "types=REGIONAL", "--security-policy", "TLS_1_2",
		"--mutual-tls-authentication", "truststoreUri=s3://trust/truststore.pem,truststoreVersion=nope")
	if code != 255 || !strings.Contains(stderr, "An error occurred (BadRequestException) when calling the CreateDomainName operation") {
		t.Errorf("create-domain-name with a missing version: exit %d %s", code, stderr)
	}
	x.mustAWS("delete-base-path-mapping", "--domain-name", "api.test", "--base-path", "(none)")
	x.mustAWS("delete-domain-name", "--domain-name", "api.test")
	x.mustAWS("delete-rest-api", "--rest-api-id", apiID)
	if list := x.mustAWS("get-rest-apis"); len(list["items"].([]any)) != 0 {
		t.Errorf("get-rest-apis after delete: %v", list)
	}
}
