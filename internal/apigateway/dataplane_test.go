package apigateway_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// walkthrough is the PKI: a root, an intermediate under it, a
// client certificate under the intermediate; the truststore holds the
// root and the intermediate (the whole chain, as API Gateway needs).
type walkthrough struct {
	root, inter *pki.CA
	client      *pki.Issued
	api         string
	version     string
}

func setupWalkthrough(t testing.TB, x *h, domain string) *walkthrough {
	t.Helper()
	w := &walkthrough{}
	w.root = testutil.Root(t, "Walkthrough Root CA")
	w.inter = testutil.Intermediate(t, w.root, "Walkthrough Intermediate CA")
	w.client = testutil.Client(t, w.inter, pki.Options{Subject: pkix.Name{CommonName: "walkthrough client", Organization: []string{"edge tests"}}})
	w.version = x.s3.put("trust", "truststore.pem", pki.CertPEM(w.root.Cert, w.inter.Cert))
	w.api = x.proxyAPI("pets", true)
	x.mtlsDomain(domain, w.version, w.api)
	return w
}

func TestMTLSTrustedClientReachesTargetWithClientCertHeaders(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	c := x.client("api.test", tlsCert(w.client))
	code, body, hdr := x.get(c, "https://api.test/pets")
	if code != 200 || body["path"] != "/pets" || hdr.Get("X-Target") != "echo" {
		t.Fatalf("GET /pets = %d %v", code, body)
	}
	if hdr.Get("X-Amzn-Requestid") == "" || hdr.Get("X-Amz-Apigw-Id") == "" {
		t.Errorf("answer lacks x-amzn-RequestId / x-amz-apigw-id: %v", hdr)
	}
	leaf := w.client.Cert
	want := map[string]string{
		"X-Client-Subject":    "CN=walkthrough client,O=edge tests",
		"X-Client-Issuer":     "CN=Walkthrough Intermediate CA,O=edge tests",
		"X-Client-Not-Before": leaf.NotBefore.UTC().Format("Jan _2 15:04:05 2006 GMT"),
		"X-Client-Not-After":  leaf.NotAfter.UTC().Format("Jan _2 15:04:05 2006 GMT"),
		"X-Static":            "edge",
	}
	for k, v := range want {
		if got := header(body, k); got != v {
			t.Errorf("target got %s = %q, want %q", k, got, v)
		}
	}
	serial := header(body, "X-Client-Serial")
	if !regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2})*$`).MatchString(serial) || strings.ReplaceAll(serial, ":", "") != leaf.SerialNumber.Text(16) && strings.ReplaceAll(serial, ":", "") != "0"+leaf.SerialNumber.Text(16) {
		t.Errorf("X-Client-Serial = %q, serial %x", serial, leaf.SerialNumber)
	}
	pemHdr, err := url.QueryUnescape(strings.ReplaceAll(header(body, "X-Client-Cert-Pem"), "+", "%2B"))
	if err != nil || pemHdr != string(pki.CertPEM(leaf)) {
		t.Errorf("X-Client-Cert-Pem decodes to %q (%v)", pemHdr, err)
	}
	// {proxy+} takes the rest of the path; mapped query parameters are added.
	code, body, _ = x.get(c, "https://api.test/a/b?q=1")
	if code != 200 || body["path"] != "/a/b" || !strings.Contains(body["query"].(string), "from-apigateway=prod") || !strings.Contains(body["query"].(string), "q=1") {
		t.Fatalf("GET /a/b = %d %v", code, body)
	}
	line := x.access.waitFor(t, "/pets")
	if !strings.Contains(line, `"CN=walkthrough client,O=edge tests"`) || !regexp.MustCompile(`\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET /pets HTTP/1.1" 200 `).MatchString(line) {
		t.Errorf("access line %q", line)
	}
}

func TestMTLSNoClientCertificateResetsConnection(t *testing.T) {
	x := newH(t)
	setupWalkthrough(t, x, "api.test")
	_, err := x.client("api.test").Get("https://api.test/pets")
	if err == nil {
		t.Fatal("a request without a client certificate succeeded")
	}
	if strings.Contains(err.Error(), "remote error") {
		t.Errorf("the server sent a TLS alert (%v); API Gateway drops the connection without one", err)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("error = %v, want the connection closed (EOF)", err)
	}
	x.exec.waitFor(t, "no client certificate presented (domain api.test")
}

// sha1Client issues an RSA client certificate signed with SHA-1.
func sha1Client(t *testing.T, ca *pki.CA) *pki.Issued {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rsa ca"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, caKey.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	rsaCA, _ := x509.ParseCertificate(der)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sha1 client"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		SignatureAlgorithm: x509.SHA1WithRSA, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err = x509.CreateCertificate(rand.Reader, leafT, rsaCA, key.Public(), caKey)
	if err != nil {
		t.Skipf("this Go refuses to sign with SHA-1: %v", err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &pki.Issued{Cert: leaf, Key: key, Chain: []*x509.Certificate{rsaCA, ca.Cert}}
}

func TestMTLSVerificationFailuresAre403WithReason(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	other := testutil.Root(t, "Unrelated Root")
	selfSigned, err := pki.NewRoot(pki.Options{Subject: pkix.Name{CommonName: "self signed client"}})
	if err != nil {
		t.Fatal(err)
	}
	// A chain of five CAs above the leaf (the root and four
	// intermediates), all in the truststore: one too many.
	long := []*pki.CA{w.root}
	for i := range 4 {
		long = append(long, testutil.Intermediate(t, long[len(long)-1], "Deep "+string(rune('A'+i))))
	}
	var longCerts []*x509.Certificate
	for _, ca := range long {
		longCerts = append(longCerts, ca.Cert)
	}
	v := x.s3.put("trust", "truststore.pem", pki.CertPEM(append(longCerts, w.inter.Cert)...))
	if _, err := x.c.UpdateDomainName(ctx, &apigw.UpdateDomainNameInput{DomainName: aws.String("api.test"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreVersion"), Value: aws.String(v)}}}); err != nil {
		t.Fatal(err)
	}
	// Root-only truststore domain: the client sends its intermediate,
	// which API Gateway does not use.
	rootOnly := x.s3.put("trust", "root-only.pem", pki.CertPEM(w.root.Cert))
	if _, err := x.c.CreateDomainName(ctx, &apigw.CreateDomainNameInput{DomainName: aws.String("rootonly.test"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypeRegional}}, SecurityPolicy: types.SecurityPolicyTls12,
		MutualTlsAuthentication: &types.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/root-only.pem"), TruststoreVersion: aws.String(rootOnly)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.CreateBasePathMapping(ctx, &apigw.CreateBasePathMappingInput{DomainName: aws.String("rootonly.test"), RestApiId: aws.String(w.api), Stage: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, domain string
		cert         *pki.Issued
		reason       string
	}{
		{"untrusted", "api.test", testutil.Client(t, other, pki.Options{Subject: pkix.Name{CommonName: "stranger"}}), "Could not find issuer for certificate"},
		{"expired", "api.test", testutil.Client(t, w.inter, testutil.Expired("expired client")), "certificate has expired"},
		{"not yet valid", "api.test", testutil.Client(t, w.inter, testutil.NotYetValid("future client")), "certificate is not yet valid"},
		{"self-signed", "api.test", &selfSigned.Issued, "self signed certificate"},
		{"root-only truststore, client-sent intermediate", "rootonly.test", w.client, "Could not find issuer for certificate"},
		{"chain of five CAs", "api.test", testutil.Client(t, long[4], pki.Options{Subject: pkix.Name{CommonName: "deep client"}}), "certificate chain too long"},
		{"SHA-1 signature", "api.test", sha1Client(t, w.root), "Client cert using an insecure Signature Algorithm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := x.get(x.client(tc.domain, tlsCert(tc.cert)), "https://"+tc.domain+"/pets")
			if code != 403 || body["message"] != "Forbidden" || hdr.Get("X-Amzn-Errortype") != "ForbiddenException" {
				t.Fatalf("got %d %v %v, want 403 {\"message\":\"Forbidden\"}", code, body, hdr)
			}
			x.exec.waitFor(t, "Access denied. Reason: "+tc.reason+" (domain "+tc.domain+", client certificate \""+strings.Split(tc.cert.Cert.Subject.String(), ",")[0])
		})
	}
	// The walkthrough client still passes through the four-CA chain store.
	if code, _, _ := x.get(x.client("api.test", tlsCert(w.client)), "https://api.test/pets"); code != 200 {
		t.Fatalf("trusted client = %d", code)
	}
	// Four CAs above the leaf (root + three intermediates) is the limit:
	// the leaf does not count (ALB's depth 4 counts it).
	four := testutil.Client(t, long[3], pki.Options{Subject: pkix.Name{CommonName: "four-CA client"}})
	if code, body, _ := x.get(x.client("api.test", tlsCert(four)), "https://api.test/pets"); code != 200 {
		t.Fatalf("client under four CAs = %d %v, want 200", code, body)
	}
}

func TestMTLSRevokedClientStillAllowed(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	dir := t.TempDir()
	crlPEM, _ := testutil.OpenSSLCRL(t, dir, "inter", w.inter, w.client.Cert)
	crl, err := readFile(crlPEM)
	if err != nil {
		t.Fatal(err)
	}
	// The CRL sits in the truststore object too; API Gateway checks no
	// revocation at all.
	v := x.s3.put("trust", "truststore.pem", append(pki.CertPEM(w.root.Cert, w.inter.Cert), crl...))
	if _, err := x.c.UpdateDomainName(ctx, &apigw.UpdateDomainNameInput{DomainName: aws.String("api.test"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreVersion"), Value: aws.String(v)}}}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := x.get(x.client("api.test", tlsCert(w.client)), "https://api.test/pets"); code != 200 {
		t.Fatalf("revoked client = %d %v, want 200 (no revocation checking)", code, body)
	}
}

func TestTruststoreVersionPinning(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	rootB := testutil.Root(t, "Root B")
	clientB := testutil.Client(t, rootB, pki.Options{Subject: pkix.Name{CommonName: "client B"}})
	clientA := x.client("api.test", tlsCert(w.client))
	b := x.client("api.test", tlsCert(clientB))
	status := func(c interface{}) int { return 0 }
	_ = status
	check := func(stage string, wantA, wantB int) {
		t.Helper()
		if code, _, _ := x.get(clientA, "https://api.test/pets"); code != wantA {
			t.Errorf("%s: client of root A = %d, want %d", stage, code, wantA)
		}
		if code, _, _ := x.get(b, "https://api.test/pets"); code != wantB {
			t.Errorf("%s: client of root B = %d, want %d", stage, code, wantB)
		}
	}
	check("v1", 200, 403)
	v2 := x.s3.put("trust", "truststore.pem", pki.CertPEM(rootB.Cert))
	check("v2 uploaded, domain not updated", 200, 403)
	if _, err := x.c.UpdateDomainName(ctx, &apigw.UpdateDomainNameInput{DomainName: aws.String("api.test"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreVersion"), Value: aws.String(v2)}}}); err != nil {
		t.Fatal(err)
	}
	check("domain updated to v2", 403, 200)

	// Without truststoreVersion the version current at create time is
	// pinned, until the next update.
	if _, err := x.c.CreateDomainName(ctx, &apigw.CreateDomainNameInput{DomainName: aws.String("latest.test"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypeRegional}}, SecurityPolicy: types.SecurityPolicyTls12,
		MutualTlsAuthentication: &types.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/truststore.pem")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.CreateBasePathMapping(ctx, &apigw.CreateBasePathMappingInput{DomainName: aws.String("latest.test"), RestApiId: aws.String(w.api), Stage: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	x.s3.put("trust", "truststore.pem", pki.CertPEM(w.root.Cert, w.inter.Cert))
	if code, _, _ := x.get(x.client("latest.test", tlsCert(clientB)), "https://latest.test/pets"); code != 200 {
		t.Errorf("latest.test pinned at create: client B = %d, want 200", code)
	}
	if _, err := x.c.UpdateDomainName(ctx, &apigw.UpdateDomainNameInput{DomainName: aws.String("latest.test"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreUri"), Value: aws.String("s3://trust/truststore.pem")}}}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := x.get(x.client("latest.test", tlsCert(clientB)), "https://latest.test/pets"); code != 403 {
		t.Errorf("latest.test after update: client B = %d, want 403", code)
	}
}

func TestExecuteAPIEndpointBypassesMTLSUntilDisabledAndRedeployed(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test") // created with disableExecuteApiEndpoint=true
	host := w.api + ".execute-api.us-east-1.amazonaws.com"
	if code, body, _ := x.get(x.client(host), "https://"+host+"/prod/pets"); code != 403 || body["message"] != "Forbidden" {
		t.Fatalf("disabled execute-api endpoint = %d %v, want 403", code, body)
	}
	open := x.proxyAPI("open", false)
	ohost := open + ".execute-api.us-east-1.amazonaws.com"
	code, body, _ := x.get(x.client(ohost), "https://"+ohost+"/prod/pets")
	if code != 200 || body["path"] != "/pets" || header(body, "X-Client-Subject") != "" {
		t.Fatalf("execute-api without a client certificate = %d %v, want 200: the trap", code, body)
	}
	if _, err := x.c.UpdateRestApi(ctx, &apigw.UpdateRestApiInput{RestApiId: aws.String(open),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/disableExecuteApiEndpoint"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := x.get(x.client(ohost), "https://"+ohost+"/prod/pets"); code != 200 {
		t.Errorf("before redeploying, execute-api = %d, want 200 (API Gateway applies the change on deployment)", code)
	}
	if _, err := x.c.CreateDeployment(ctx, &apigw.CreateDeploymentInput{RestApiId: aws.String(open), StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := x.get(x.client(ohost), "https://"+ohost+"/prod/pets"); code != 403 {
		t.Errorf("after redeploying, execute-api = %d, want 403", code)
	}
}

func TestRoutingAnswers(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	c := x.client("api.test", tlsCert(w.client))
	// The API has GET /pets only: POST is not a method.
	resp, err := c.Post("https://api.test/pets", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Errorf("POST /pets = %d %s, want 403 Missing Authentication Token", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
	// A domain without a mapping for the path answers Forbidden.
	if _, err := x.c.CreateDomainName(ctx, &apigw.CreateDomainNameInput{DomainName: aws.String("plain.test"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypeRegional}}}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := x.get(x.client("plain.test"), "https://plain.test/pets"); code != 403 || body["message"] != "Forbidden" {
		t.Errorf("unmapped domain = %d %v", code, body)
	}
	if _, err := x.c.CreateBasePathMapping(ctx, &apigw.CreateBasePathMappingInput{DomainName: aws.String("plain.test"), RestApiId: aws.String(w.api), BasePath: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	// A mapping without a stage takes the stage from the path.
	if code, body, _ := x.get(x.client("plain.test"), "https://plain.test/v1/prod/pets"); code != 200 || body["path"] != "/pets" {
		t.Errorf("base path v1 + stage in path = %d %v", code, body)
	}
	// Changes reach the data plane only with a deployment (a snapshot).
	api := aws.String(w.api)
	res, _ := x.c.GetResources(ctx, &apigw.GetResourcesInput{RestApiId: api})
	var pets *string
	for _, r := range res.Items {
		if aws.ToString(r.Path) == "/pets" {
			pets = r.Id
		}
	}
	if _, err := x.c.UpdateIntegration(ctx, &apigw.UpdateIntegrationInput{RestApiId: api, ResourceId: pets, HttpMethod: aws.String("GET"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/uri"), Value: aws.String(x.target.URL + "/changed")}}}); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := x.get(c, "https://api.test/pets"); body["path"] != "/pets" {
		t.Errorf("before redeploying the target saw %v", body["path"])
	}
	if _, err := x.c.CreateDeployment(ctx, &apigw.CreateDeploymentInput{RestApiId: api, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := x.get(c, "https://api.test/pets"); body["path"] != "/changed" {
		t.Errorf("after redeploying the target saw %v", body["path"])
	}
}

func TestTLSPolicyAndUnsignedRequests(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	c := x.client("api.test", tlsCert(w.client))
	c.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS10
	c.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS11
	if _, err := c.Get("https://api.test/pets"); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1 to a TLS_1_2 domain: %v, want a protocol version failure", err)
	}
	c = x.client("api.test", tlsCert(w.client))
	c.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS12
	if code, _, _ := x.get(c, "https://api.test/pets"); code != 200 {
		t.Errorf("TLS 1.2 = %d", code)
	}
	// The AWS endpoint routes unsigned /restapis and /domainnames
	// requests (curl, --no-sign-request) to API Gateway.
	resp, err := http.Get(x.ep.URL + "/restapis")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"item":[{"id":"`+w.api+`"`) {
		t.Errorf("unsigned GET /restapis: %d %s", resp.StatusCode, b)
	}
	// A domain deleted after a connection's handshake stops serving it.
	c = x.client("api.test", tlsCert(w.client))
	c.Transport.(*http.Transport).DisableKeepAlives = false
	if code, _, _ := x.get(c, "https://api.test/pets"); code != 200 {
		t.Fatalf("before delete: %d", code)
	}
	if _, err := x.c.DeleteBasePathMapping(ctx, &apigw.DeleteBasePathMappingInput{DomainName: aws.String("api.test"), BasePath: aws.String("(none)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.DeleteDomainName(ctx, &apigw.DeleteDomainNameInput{DomainName: aws.String("api.test")}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := x.get(c, "https://api.test/pets"); code != 403 {
		t.Errorf("a kept-alive connection to a deleted domain = %d, want 403", code)
	}
}

func TestStageAccessLogFormat(t *testing.T) {
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	format := `{"requestId":"$context.requestId","time":"$context.requestTime","status":"$context.status","subject":"$context.identity.clientCert.subjectDN","serial":"$context.identity.clientCert.serialNumber","notAfter":"$context.identity.clientCert.validity.notAfter","err":"$context.error.message","caller":"$context.identity.caller"}`
	if _, err := x.c.UpdateStage(ctx, &apigw.UpdateStageInput{RestApiId: aws.String(w.api), StageName: aws.String("prod"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/accessLogSettings/format"), Value: aws.String(format)}}}); err != nil {
		t.Fatal(err)
	}
	x.get(x.client("api.test", tlsCert(w.client)), "https://api.test/pets")
	line := x.access.waitFor(t, `"status":"200"`)
	re := regexp.MustCompile(`^\{"requestId":"[0-9a-f-]{36}","time":"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000","status":"200","subject":"CN=walkthrough client,O=edge tests","serial":"[0-9a-f:]+","notAfter":"[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2} \d{4} GMT","err":"-","caller":"-"\}$`)
	if !re.MatchString(line) {
		t.Errorf("access line %q does not match %s", line, re)
	}
}
