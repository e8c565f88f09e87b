package controlplane_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"edge/internal/config"
	"edge/internal/controlplane"
	"edge/internal/elbv2"
	"edge/internal/s3store"
	"edge/internal/testutil"
)

// fileYAML is a file layer with a trust store and a verify listener on a
// port-0 address.
func fileYAML(body string) string {
	return baseYAML + `admin: {listen: "127.0.0.1:0"}
trust_stores:
  - name: file-store
    ca_certificates_bundle: bundle.pem
listeners:
  - port: 0
    mutual_authentication: {mode: verify, trust_store: file-store}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: ` + body + `}}]
`
}

// A reload of edge.yaml (SIGHUP, POST /reload, a changed file) reads the
// file and merges the API state: the file's change applies and the API's
// listeners stay.
func TestFileReloadMergesTheAPIState(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), p.bundle())
	e := startEdge(t, dir, t.TempDir(), fileYAML("one"))
	a := e.alb(p, ec)
	testutil.WriteFile(t, e.file, []byte(fileYAML("two")))
	if err := e.srv.ReloadFromSource(); err != nil {
		t.Fatal(err)
	}
	snap := e.srv.Snapshot()
	if len(snap.Listeners) != 2 {
		t.Fatalf("after the file reload edge serves %d listeners; want the file's and the API's", len(snap.Listeners))
	}
	if body := snap.Config.Listeners[0].DefaultActions[0].FixedResponseConfig.MessageBody; body != "two" {
		t.Errorf("the file's change did not apply: %q", body)
	}
	if code, body, err := get(a.port, e.devRoot(), p.good); err != nil || code != 200 || body != "echo" {
		t.Errorf("the API listener after the file reload: %d %q %v", code, body, err)
	}
	// The file layer is in Describe, with its name-derived ARN.
	d, err := e.elb.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{Names: []string{"file-store"}})
	if err != nil || *d.TrustStores[0].TrustStoreArn != elbv2.FileTrustStoreARN("us-east-1", "123456789012", "file-store") {
		t.Errorf("file-layer trust store: %v %+v", err, d)
	}
	// A broken file changes nothing and a later API call still works.
	testutil.WriteFile(t, e.file, []byte("listeners: [{port: nope}]\n"))
	if err := e.srv.ReloadFromSource(); err == nil {
		t.Errorf("a broken file reloaded")
	}
	if _, err := e.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &a.listener,
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("off")}}); err != nil {
		t.Errorf("a call after a broken file: %v", err)
	}
	if len(e.srv.Snapshot().Listeners) != 2 {
		t.Errorf("the call after a broken file dropped the file layer")
	}
}

// The admin API's revocation endpoints act on the ELBv2 model when the
// endpoint runs: the id continues the API's counter, the ELBv2 API sees
// the revocation, and it survives a restart.
func TestAdminRevocationsShareTheModel(t *testing.T) {
	p := newPKI(t)
	ec := newEcho(t)
	dir, state := t.TempDir(), t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), p.bundle())
	e := startEdge(t, dir, state, fileYAML("file"))
	a := e.alb(p, ec)
	e.upload("edge-trust", "c1.pem", p.crl(t, 3))
	if _, err := e.elb.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &a.ts,
		RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String("c1.pem")}}}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.adm.URL()+"trust-stores/my-trust-store/revocations", "application/pkix-crl", bytes.NewReader(p.crl(t, 0, p.revoked.Cert)))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		TrustStoreRevocations []struct {
			TrustStoreArn          string
			RevocationId           int64
			NumberOfRevokedEntries int
		}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	json.Unmarshal(body, &out)
	if resp.StatusCode != 200 || len(out.TrustStoreRevocations) != 1 || out.TrustStoreRevocations[0].RevocationId != 2 || out.TrustStoreRevocations[0].TrustStoreArn != a.ts {
		t.Fatalf("admin add: %d %s", resp.StatusCode, body)
	}
	if _, _, err := get(a.port, e.devRoot(), p.revoked); err == nil {
		t.Errorf("the admin revocation did not apply")
	}
	// The admin endpoint refuses a CRL of another CA with the API's code.
	other := newPKI(t)
	resp, _ = http.Post(e.adm.URL()+"trust-stores/my-trust-store/revocations", "application/pkix-crl", bytes.NewReader(other.crl(t, 1)))
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "InvalidRevocationContent") {
		t.Errorf("a foreign CRL through the admin API: %d %s", resp.StatusCode, body)
	}
	e.stop()
	e2 := startEdge(t, dir, state, fileYAML("file"))
	rv, err := e2.elb.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: &a.ts})
	if err != nil || len(rv.TrustStoreRevocations) != 2 || *rv.TrustStoreRevocations[1].RevocationId != 2 {
		t.Fatalf("after restart: %v %+v", err, rv)
	}
	// A file-layer store: the admin API numbers after the file's CRLs, and
	// DELETE removes through the model.
	resp, _ = http.Post(e2.adm.URL()+"trust-stores/file-store/revocations", "application/pkix-crl", bytes.NewReader(p.crl(t, 0, p.revoked.Cert)))
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"RevocationId": 1`) {
		t.Fatalf("admin add to the file store: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, e2.adm.URL()+"trust-stores/file-store/revocations/1", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin delete: %v %v", err, resp)
	}
	resp.Body.Close()
	fs, _ := e2.elb.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{Names: []string{"file-store"}})
	if *fs.TrustStores[0].TotalRevokedEntries != 0 {
		t.Errorf("file store after the admin delete: %+v", fs.TrustStores[0])
	}
	resp, _ = http.Get(e2.adm.URL() + "trust-stores/nope/revocations")
	if resp.StatusCode != 404 {
		t.Errorf("unknown store: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// s3: names an external server: trust stores are read from it, and the
// endpoint answers S3 requests with an error naming that server.
func TestExternalS3(t *testing.T) {
	p := newPKI(t)
	ext, err := s3store.New(s3store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ext.Handler())
	defer hs.Close()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), UsePathStyle: true, Credentials: aws.AnonymousCredentials{}})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ext")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ext"), Key: aws.String("bundle.pem"), Body: bytes.NewReader(p.bundle())}); err != nil {
		t.Fatal(err)
	}
	e := startEdge(t, t.TempDir(), "", baseYAML+fmt.Sprintf("s3: {endpoint: %q, path_style: true}\n", hs.URL))
	ts, err := e.elb.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("ext-store"),
		CaCertificatesBundleS3Bucket: aws.String("ext"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	if err != nil || *ts.TrustStores[0].NumberOfCaCertificates != 2 {
		t.Fatalf("CreateTrustStore from the external server: %v", err)
	}
	_, err = e.elb.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("missing"),
		CaCertificatesBundleS3Bucket: aws.String("ext"), CaCertificatesBundleS3Key: aws.String("/bundle.pem")})
	if !as[*types.CaCertificatesBundleNotFoundException](err) || !strings.Contains(err.Error(), `"bundle.pem"`) {
		t.Errorf("a missing key on the external server: %v", err)
	}
	_, err = e.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err == nil || !strings.Contains(err.Error(), "NotImplemented") || !strings.Contains(err.Error(), hs.URL) {
		t.Errorf("S3 on edge's endpoint with an external server: %v", err)
	}
}

// quotas: sets the ELBv2 service's limits, and the derived trust stores
// take the revocation-entry quota as their cap.
func TestQuotas(t *testing.T) {
	p := newPKI(t)
	e := startEdge(t, t.TempDir(), "", baseYAML+"quotas: {trust_stores: 1, revocation_entries_per_trust_store: 600000}\n")
	e.upload("quota-bucket", "bundle.pem", p.bundle())
	for i, name := range []string{"one", "two"} {
		_, err := e.elb.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String(name),
			CaCertificatesBundleS3Bucket: aws.String("quota-bucket"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
		if i == 0 && err != nil {
			t.Fatal(err)
		}
		if i == 1 && !as[*types.TooManyTrustStoresException](err) {
			t.Errorf("second trust store with quota 1: %v", err)
		}
	}
	lim, err := e.elb.DescribeAccountLimits(ctx, &elb.DescribeAccountLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lim.Limits {
		if *l.Name == "trust-stores" && *l.Max != "1" {
			t.Errorf("DescribeAccountLimits trust-stores %s", *l.Max)
		}
	}
	if got := e.srv.Snapshot().Config.TrustStores[0].MaxRevocationEntries; got != 600000 {
		t.Errorf("the derived trust store's entry cap is %d; want the quota", got)
	}
	q := controlplane.Quotas(config.Quotas{})
	if q.RevocationEntriesPerTrustStore != 500000 || q.TrustStores != 20 {
		t.Errorf("default quotas %+v", q)
	}
}

// aws.credentials turn signature checking on, for ELBv2 and S3 alike; an
// address beyond loopback needs them.
func TestCredentialsTurnSignatureChecksOn(t *testing.T) {
	e := startEdge(t, t.TempDir(), "", `aws: {listen: "127.0.0.1:0", credentials: {AKIDEDGE: right-secret}}
logs: {connection: stdout, access: "off"}
`)
	good := credentials.NewStaticCredentialsProvider("AKIDEDGE", "right-secret", "")
	bad := credentials.NewStaticCredentialsProvider("AKIDEDGE", "wrong-secret", "")
	for _, c := range []struct {
		creds aws.CredentialsProvider
		ok    bool
	}{{good, true}, {bad, false}} {
		ec := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: c.creds, Retryer: aws.NopRetryer{}})
		_, err := ec.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{})
		if c.ok != (err == nil) || !c.ok && !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Errorf("ELBv2 with secret ok=%v: %v", c.ok, err)
		}
		sc := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: c.creds, UsePathStyle: true, Retryer: aws.NopRetryer{}})
		_, err = sc.ListBuckets(ctx, &s3.ListBucketsInput{})
		if c.ok != (err == nil) || !c.ok && !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Errorf("S3 with secret ok=%v: %v", c.ok, err)
		}
	}
	cfg, err := config.Parse([]byte(baseYAML), filepath.Join(t.TempDir(), "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := controlplane.Open(controlplane.Options{File: cfg, Listen: "0.0.0.0:0", Ephemeral: true}); err == nil || !strings.Contains(err.Error(), "aws.credentials") {
		t.Errorf("--aws 0.0.0.0:0 without credentials: %v", err)
	}
}
