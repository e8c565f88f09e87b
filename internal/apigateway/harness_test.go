package apigateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"edge/internal/apigateway"
	"edge/internal/awsapi"
	"edge/internal/objects"
	"edge/internal/pki"
	"edge/internal/testutil"
)

var ctx = context.Background()

// fakeS3 is an in-memory objects.Source with per-bucket versioning.
type fakeS3 struct {
	mu        sync.Mutex
	versions  map[string][]objects.Object // bucket/key → versions, oldest first
	versioned map[string]bool             // bucket → versioning enabled
	n         int
}

func newFakeS3() *fakeS3 {
	return &fakeS3{versions: map[string][]objects.Object{}, versioned: map[string]bool{}}
}

func (f *fakeS3) bucket(name string, versioned bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versioned[name] = versioned
}

// put stores a new version and returns its id ("null" on an unversioned bucket).
func (f *fakeS3) put(bucket, key string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.versioned[bucket]
	if !ok {
		f.versioned[bucket], v = true, true
	}
	o := objects.Object{Bucket: bucket, Key: key, Bytes: append([]byte(nil), data...), VersionID: "null"}
	if !v {
		f.versions[bucket+"/"+key] = []objects.Object{o}
		return "null"
	}
	f.n++
	o.VersionID = fmt.Sprintf("%032x", f.n*7919)
	f.versions[bucket+"/"+key] = append(f.versions[bucket+"/"+key], o)
	return o.VersionID
}

func (f *fakeS3) Get(_ context.Context, bucket, key, version string) (*objects.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.versioned[bucket]; !ok {
		return nil, &objects.NotFoundError{Err: objects.ErrNoSuchBucket, Bucket: bucket, Key: key}
	}
	vs := f.versions[bucket+"/"+key]
	if len(vs) == 0 && version != "" {
		// As the embedded store answers: a version of a key that does not
		// exist is NoSuchVersion.
		return nil, &objects.NotFoundError{Err: objects.ErrNoSuchVersion, Bucket: bucket, Key: key, VersionID: version}
	}
	if len(vs) == 0 {
		return nil, &objects.NotFoundError{Err: objects.ErrNoSuchKey, Bucket: bucket, Key: key}
	}
	if version == "" {
		o := vs[len(vs)-1]
		return &o, nil
	}
	for _, o := range vs {
		if o.VersionID == version {
			return &o, nil
		}
	}
	return nil, &objects.NotFoundError{Err: objects.ErrNoSuchVersion, Bucket: bucket, Key: key, VersionID: version}
}

func (f *fakeS3) Versioning(_ context.Context, bucket string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.versioned[bucket]
	if !ok {
		return "", &objects.NotFoundError{Err: objects.ErrNoSuchBucket, Bucket: bucket}
	}
	if v {
		return "Enabled", nil
	}
	return "", nil
}

func (f *fakeS3) Keys(_ context.Context, bucket string, _ int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.versions {
		if b, key, _ := strings.Cut(k, "/"); b == bucket {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out, nil
}

// sink collects log lines.
type sink struct {
	mu    sync.Mutex
	lines []string
}

func (s *sink) Write(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, strings.TrimSuffix(string(line), "\n"))
}
func (s *sink) Close() error { return nil }
func (s *sink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// waitFor returns the first line containing sub, waiting a little for
// lines written after the response was sent.
func (s *sink) waitFor(t testing.TB, sub string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range s.all() {
			if strings.Contains(l, sub) {
				return l
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line contains %q; lines:\n%s", sub, strings.Join(s.all(), "\n"))
	return ""
}

// h is a control plane on an AWS endpoint plus a live data plane.
type h struct {
	t       testing.TB
	s3      *fakeS3
	dir     string
	svc     *apigateway.Service
	srv     *apigateway.Server
	ep      *httptest.Server
	c       *apigw.Client
	access  *sink
	exec    *sink
	devRoot *pki.CA
	devCA   *pki.CA
	addr    string // data plane host:port
	target  *httptest.Server
}

func newH(t testing.TB) *h {
	t.Helper()
	x := &h{t: t, s3: newFakeS3(), dir: t.TempDir(), access: &sink{}, exec: &sink{}}
	x.devRoot = testutil.Root(t, "edge dev root CA")
	x.devCA = testutil.Intermediate(t, x.devRoot, "edge dev intermediate CA")
	x.target = httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(x.target.Close)
	x.start()
	return x
}

// echo answers with the request it received as JSON.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Target", "echo")
	json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "headers": r.Header, "body": string(body), "host": r.Host})
}

func (x *h) start() {
	t := x.t
	var err error
	x.srv, err = apigateway.NewServer(apigateway.ServerOptions{DevCA: x.devCA, AccessLog: x.access, ExecutionLog: x.exec})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.srv.Close() })
	x.addr = x.srv.Addr().String()
	store, err := apigateway.OpenStore(x.dir)
	if err != nil {
		t.Fatal(err)
	}
	x.svc, err = apigateway.New(apigateway.Options{Objects: x.s3, Applier: x.srv, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.srv.Apply(ctx, x.svc.State()); err != nil {
		t.Fatal(err)
	}
	x.ep = httptest.NewServer(awsapi.New(awsapi.Services{APIGateway: x.svc.Handler()}, awsapi.Options{}))
	t.Cleanup(x.ep.Close)
	x.c = apigw.New(apigw.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(x.ep.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// restart starts a new control plane and data plane on the same state dir.
func (x *h) restart() {
	x.ep.Close()
	x.srv.Close()
	x.start()
}

// proxyAPI builds the walkthrough's API: GET /pets and ANY /{proxy+} as
// HTTP_PROXY to the echo target with the clientCert mappings, deployed to
// stage prod. It returns the API id.
func (x *h) proxyAPI(name string, disableExecute bool) string {
	t := x.t
	api, err := x.c.CreateRestApi(ctx, &apigw.CreateRestApiInput{Name: aws.String(name), DisableExecuteApiEndpoint: disableExecute,
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypeRegional}}})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{
		"integration.request.header.X-Client-Cert-Pem":    "context.identity.clientCert.clientCertPem",
		"integration.request.header.X-Client-Subject":     "context.identity.clientCert.subjectDN",
		"integration.request.header.X-Client-Issuer":      "context.identity.clientCert.issuerDN",
		"integration.request.header.X-Client-Serial":      "context.identity.clientCert.serialNumber",
		"integration.request.header.X-Client-Not-Before":  "context.identity.clientCert.validity.notBefore",
		"integration.request.header.X-Client-Not-After":   "context.identity.clientCert.validity.notAfter",
		"integration.request.header.X-Static":             "'edge'",
		"integration.request.path.proxy":                  "method.request.path.proxy",
		"integration.request.querystring.from-apigateway": "context.stage",
	}
	pets, err := x.c.CreateResource(ctx, &apigw.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("pets")})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := x.c.CreateResource(ctx, &apigw.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		res, method, uri string
	}{{*pets.Id, "GET", x.target.URL + "/pets"}, {*proxy.Id, "ANY", x.target.URL + "/{proxy}"}} {
		if _, err := x.c.PutMethod(ctx, &apigw.PutMethodInput{RestApiId: api.Id, ResourceId: aws.String(m.res), HttpMethod: aws.String(m.method),
			AuthorizationType: aws.String("NONE"), RequestParameters: map[string]bool{"method.request.path.proxy": true}}); err != nil {
			t.Fatal(err)
		}
		if _, err := x.c.PutIntegration(ctx, &apigw.PutIntegrationInput{RestApiId: api.Id, ResourceId: aws.String(m.res), HttpMethod: aws.String(m.method),
			Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(m.uri), RequestParameters: params}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.c.CreateDeployment(ctx, &apigw.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	return *api.Id
}

// mtlsDomain creates an mTLS REGIONAL domain on truststore version v of
// s3://trust/truststore.pem and maps its empty base path to api/prod.
func (x *h) mtlsDomain(name, version, apiID string) *apigw.CreateDomainNameOutput {
	t := x.t
	out, err := x.c.CreateDomainName(ctx, &apigw.CreateDomainNameInput{
		DomainName: aws.String(name), RegionalCertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypeRegional}},
		SecurityPolicy:        types.SecurityPolicyTls12,
		MutualTlsAuthentication: &types.MutualTlsAuthenticationInput{
			TruststoreUri: aws.String("s3://trust/truststore.pem"), TruststoreVersion: aws.String(version)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if apiID != "" {
		if _, err := x.c.CreateBasePathMapping(ctx, &apigw.CreateBasePathMappingInput{DomainName: aws.String(name), RestApiId: aws.String(apiID), Stage: aws.String("prod")}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// client returns an HTTPS client that connects every host to the data
// plane, sends SNI serverName, trusts the dev root and presents certs.
func (x *h) client(serverName string, certs ...tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(x.devRoot.Cert)
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, x.addr)
			},
			TLSClientConfig:   &tls.Config{ServerName: serverName, RootCAs: pool, Certificates: certs},
			DisableKeepAlives: true,
		},
	}
}

func (x *h) get(c *http.Client, url string) (int, map[string]any, http.Header) {
	x.t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		x.t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, m, resp.Header
}

func header(m map[string]any, name string) string {
	hs, _ := m["headers"].(map[string]any)
	v, _ := hs[http.CanonicalHeaderKey(name)].([]any)
	if len(v) == 0 {
		return ""
	}
	s, _ := v[0].(string)
	return s
}

func tlsCert(is *pki.Issued) tls.Certificate { return is.TLSCertificate() }

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

func httpEcho() http.Handler { return http.HandlerFunc(echo) }
