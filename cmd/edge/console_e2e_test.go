package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// Issue 16 items 1 and 2 through the edge binary: with admin.listen set,
// edge serve serves the web console and its feed on the admin listener,
// and /connections/recent explains a failed handshake exactly as
// `edge verify --format json` explains the same chain.
func TestServeConsoleAndRecentReason(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: 0")
	edit(t, dir, "trust_stores:", "admin: {listen: \"127.0.0.1:0\", token: s3cret}\ntrust_stores:")
	late := testutil.Client(t, seed.B, testutil.Expired("late"))
	testutil.WriteFile(t, filepath.Join(dir, "late-fullchain.pem"), pki.CertPEM(late.ChainWithoutRoot()...))

	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var listener, adminURL string
	lre := regexp.MustCompile(`msg=listening .*url=https://127\.0\.0\.1:(\d+)/`)
	are := regexp.MustCompile(`msg="web console" url=(http://127\.0\.0\.1:\d+)/`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && (listener == "" || adminURL == ""); time.Sleep(20 * time.Millisecond) {
		if m := lre.FindStringSubmatch(stderr.String()); m != nil {
			listener = "127.0.0.1:" + m[1]
		}
		if m := are.FindStringSubmatch(stderr.String()); m != nil {
			adminURL = m[1]
		}
	}
	if listener == "" || adminURL == "" {
		t.Fatalf("edge serve did not report its listener and console:\n%s", stderr.String())
	}

	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", adminURL+path, nil)
		for _, h := range hdr {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	const bearer = "Authorization: Bearer s3cret"
	if resp, body := get("/", "Accept: text/html"); resp.StatusCode != 401 || !strings.Contains(body, "/console/login") {
		t.Errorf("console without the token: %d; want 401 and the login form", resp.StatusCode)
	}
	if resp, _ := get("/?token=s3cret", "Accept: text/html"); resp.StatusCode != 303 || len(resp.Cookies()) != 1 {
		t.Errorf("/?token=: %d %v; want 303 and the session cookie", resp.StatusCode, resp.Cookies())
	}

	// Follow the feed before the clients connect.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", adminURL+"/console/events?since=0", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	feed, err := http.DefaultClient.Do(req)
	if err != nil || feed.StatusCode != 200 {
		t.Fatalf("feed: %v %v", feed, err)
	}
	defer feed.Body.Close()

	roots := x509.NewCertPool()
	roots.AddCert(seed.A.Cert)
	dial := func(is *pki.Issued) error {
		c, err := tls.Dial("tcp", listener, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{is.TLSCertificate()}})
		if err != nil {
			return err
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		_, err = io.ReadAll(c)
		return err
	}
	if err := dial(seed.C); err != nil {
		t.Fatalf("good client: %v", err)
	}
	if err := dial(late); err == nil {
		t.Fatal("expired client got in")
	}

	// The feed delivers both, the failure with its check and reason.
	type conn struct {
		Status string `json:"tls_verify_status"`
		Check  string `json:"failed_check"`
		Detail string `json:"detail"`
	}
	got := map[string]conn{}
	sc := bufio.NewScanner(feed.Body)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	timer := time.AfterFunc(20*time.Second, cancel)
	for len(got) < 2 && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var b struct{ Conns []conn }
			json.Unmarshal([]byte(data), &b)
			for _, c := range b.Conns {
				got[c.Status] = c
			}
		}
	}
	timer.Stop()
	if got["Success"].Status == "" || got["Failed:ClientCertExpired"].Check != "validity period" || !strings.Contains(got["Failed:ClientCertExpired"].Detail, `"CN=late" expired at`) {
		t.Errorf("feed: %+v", got)
	}

	// /connections/recent explains the failure as edge verify does.
	_, body := get("/connections/recent", bearer)
	var recent struct {
		Connections []struct {
			Status      string          `json:"tls_verify_status"`
			Check       string          `json:"failed_check"`
			Explanation json.RawMessage `json:"explanation"`
		}
	}
	if err := json.Unmarshal([]byte(body), &recent); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	var explanation json.RawMessage
	for _, c := range recent.Connections {
		if c.Status == "Failed:ClientCertExpired" {
			explanation = c.Explanation
		}
	}
	if explanation == nil {
		t.Fatalf("no explained failure in /connections/recent:\n%s", body)
	}
	var at struct {
		At string `json:"verification_time"`
	}
	json.Unmarshal(explanation, &at)
	out, errOut, _ := runEdge(t, dir, "verify", "--trust-store-bundle", "bundle.pem", "--cert", "late-fullchain.pem", "--at", at.At, "--format", "json")
	var a, b any
	json.Unmarshal(explanation, &a)
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("edge verify: %v\n%s%s", err, out, errOut)
	}
	ja, _ := json.MarshalIndent(a, "", "  ")
	jb, _ := json.MarshalIndent(b, "", "  ")
	if string(ja) != string(jb) {
		t.Errorf("/connections/recent explains:\n%s\nedge verify --format json:\n%s", ja, jb)
	}
}

// A trust store created through the AWS endpoint appears on the console's
// trust page with the ARN Describe gives it (a random id, not the one
// derived from its name), in the section of API-created resources, and
// the admin API's revocations carry the same ARN.
func TestServeConsoleShowsAPIResources(t *testing.T) {
	dir := t.TempDir()
	p := newGWPKI(t, dir)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(gwAWSYAML+"admin: {listen: \"127.0.0.1:0\"}\n"))
	s := serveGW(t, dir)
	if s.aws == "" {
		t.Fatalf("edge serve did not log its AWS endpoint:\n%s", s.stderr)
	}
	var ready struct {
		AdminURL string `json:"admin_url"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "ready.json"))
	if err := json.Unmarshal(data, &ready); err != nil || ready.AdminURL == "" {
		t.Fatalf("ready file without admin_url: %s %v", data, err)
	}
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), UsePathStyle: true, Credentials: creds})
	ec := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.aws), Credentials: creds, Retryer: aws.NopRetryer{}})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trust")}); err != nil {
		t.Fatal(err)
	}
	bundle := pki.CertPEM(p.root.Cert, p.inter.Cert)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trust"), Key: aws.String("bundle.pem"), Body: bytes.NewReader(bundle)}); err != nil {
		t.Fatal(err)
	}
	out, err := ec.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("ts1"), CaCertificatesBundleS3Bucket: aws.String("trust"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TrustStores[0].TrustStoreArn)
	if arn == "" {
		t.Fatal("CreateTrustStore returned no ARN")
	}
	get := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", strings.TrimSuffix(ready.AdminURL, "/")+path, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	page := get("/console/trust")
	if !strings.Contains(page, arn) {
		t.Errorf("the trust page does not show the ARN Describe gives (%s)", arn)
	}
	if strings.Contains(page, "edge serves no AWS endpoint here") {
		t.Errorf("the trust page says there is no AWS endpoint while one serves at %s", s.aws)
	}
	if api := get("/trust-stores"); !strings.Contains(api, arn) {
		t.Errorf("admin /trust-stores lacks %s:\n%s", arn, api)
	}
}

// `--aws ADDR` counts as the AWS endpoint for a file without listeners,
// as an aws: block does: `edge serve -c edge.yaml --aws …` with only an
// admin block serves, and its listeners come from the API.
func TestServeAWSFlagWithFileWithoutListeners(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte("admin: {listen: \"127.0.0.1:0\"}\n"))
	p := startEdgeProcess(t, dir, "serve", "-c", "edge.yaml", "--aws", "127.0.0.1:0", "--ephemeral")
	if p.ready.AWSEndpointURL == nil || *p.ready.AWSEndpointURL == "" || p.ready.AdminURL == "" {
		t.Errorf("ready document without the AWS endpoint or the admin URL: %+v", p.ready)
	}
	// --ephemeral writes no state beside the configuration (.edge holds
	// the dev CA that serves unknown certificate ARNs).
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); n != "edge.yaml" && n != ".edge" && !strings.HasPrefix(n, "ready-") {
			t.Errorf("--ephemeral left %s in the directory", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".edge", "state")); err == nil {
		t.Errorf("--ephemeral wrote .edge/state")
	}
	// Without --aws, the same file is refused with the reason.
	_, errOut, code := runEdge(t, dir, "serve", "-c", "edge.yaml")
	if code != 1 || !strings.Contains(errOut, "at least one listener is required") || !strings.Contains(errOut, "--aws") {
		t.Errorf("serve without listeners nor --aws: exit %d\n%s", code, errOut)
	}
}
