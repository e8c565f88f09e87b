package controlplane_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"edge/internal/admin"
	"edge/internal/config"
	"edge/internal/controlplane"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

var ctx = context.Background()

// syncBuffer collects what a sink writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pkiSet is the test PKI: a root and an intermediate (the bundle), and
// clients of the intermediate.
type pkiSet struct {
	root, inter   *pki.CA
	good, revoked *pki.Issued
}

func newPKI(t testing.TB) *pkiSet {
	p := &pkiSet{root: testutil.Root(t, "CP Root"), inter: nil}
	p.inter = testutil.Intermediate(t, p.root, "CP Intermediate")
	p.good = testutil.Client(t, p.inter, pki.Options{Subject: pkix.Name{CommonName: "good client"}})
	p.revoked = testutil.Client(t, p.inter, pki.Options{Subject: pkix.Name{CommonName: "revoked client"}})
	return p
}

func (p *pkiSet) bundle() []byte { return pki.CertPEM(p.root.Cert, p.inter.Cert) }

// crl is a PEM CRL of the intermediate revoking certs and n other serials.
func (p *pkiSet) crl(t testing.TB, n int, certs ...*x509.Certificate) []byte {
	t.Helper()
	now := time.Now()
	entries := make([]x509.RevocationListEntry, 0, n+len(certs))
	for _, c := range certs {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: now.Add(-time.Hour)})
	}
	for i := 0; i < n; i++ {
		b := make([]byte, 16)
		rand.Read(b)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(b), RevocationTime: now.Add(-time.Hour)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(now.UnixNano()), ThisUpdate: now.Add(-time.Hour),
		NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: entries}, p.inter.Cert, p.inter.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// edge is an in-process edge with its AWS endpoint: what runServer does.
type edge struct {
	t        testing.TB
	dir      string // the configuration's directory (and the dev PKI's parent)
	stateDir string
	file     string // edge.yaml
	cp       *controlplane.ControlPlane
	srv      *server.Server
	adm      *admin.Listener
	url      string
	conn     *syncBuffer // the connection log
	log      *syncBuffer
	elb      *elb.Client
	s3       *s3.Client
	stopped  bool
}

const baseYAML = `aws: {listen: "127.0.0.1:0"}
logs: {connection: stdout, access: "off"}
`

// startEdge writes yaml as edge.yaml in dir and starts edge on stateDir
// ("" for --ephemeral).
func startEdge(t testing.TB, dir, stateDir, yaml string) *edge {
	t.Helper()
	e := &edge{t: t, dir: dir, stateDir: stateDir, file: filepath.Join(dir, "edge.yaml"), conn: &syncBuffer{}, log: &syncBuffer{}}
	testutil.WriteFile(t, e.file, []byte(yaml))
	load := func() (*config.Config, error) { return config.Load(e.file) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.cp, err = controlplane.Open(controlplane.Options{File: cfg, StateDir: stateDir, Ephemeral: stateDir == "", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = e.cp.Start(func(c *config.Config) (*server.Server, error) {
		snap, err := server.Build(c, server.Options{DevPKIDir: filepath.Join(dir, ".edge")})
		if err != nil {
			return nil, err
		}
		return server.Start(snap, e.conn, io.Discard, log)
	})
	if err != nil {
		e.cp.Shutdown(ctx)
		t.Fatalf("start: %v\n%s", err, e.log.String())
	}
	e.srv.SetLoader(e.cp.Loader(load))
	e.adm, err = admin.StartWith(e.srv, log, e.cp.ELBv2(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.url, err = e.cp.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	e.elb = elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: creds, Retryer: aws.NopRetryer{}})
	e.s3 = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: creds, UsePathStyle: true, Retryer: aws.NopRetryer{}})
	return e
}

func (e *edge) stop() {
	if e.stopped {
		return
	}
	e.stopped = true
	e.cp.Shutdown(ctx)
	e.adm.Shutdown(ctx)
	e.srv.Shutdown(ctx)
}

// devRoot is the dev CA's root, which issued the API listeners'
// certificates (ACM is not emulated).
func (e *edge) devRoot() *x509.CertPool {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, ".edge", pki.DevRootFile))
	if err != nil {
		e.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return pool
}

// upload creates a versioned bucket (once) and puts data at key.
func (e *edge) upload(bucket, key string, data []byte) string {
	e.t.Helper()
	_, err := e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	if err != nil {
		if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			e.t.Fatal(err)
		}
	}
	out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// echo is a target that answers 200 "echo" and records the request
// headers.
type echo struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []http.Header
}

func newEcho(t testing.TB) *echo {
	ec := &echo{}
	ec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ec.mu.Lock()
		ec.got = append(ec.got, r.Header.Clone())
		ec.mu.Unlock()
		io.WriteString(w, "echo")
	}))
	t.Cleanup(ec.srv.Close)
	return ec
}

func (ec *echo) port() int32 { return int32(ec.srv.Listener.Addr().(*net.TCPAddr).Port) }

func (ec *echo) last() http.Header {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if len(ec.got) == 0 {
		return nil
	}
	return ec.got[len(ec.got)-1]
}

// get makes one request on a new connection with client (nil: no client
// certificate) and returns the status, or an error when the handshake or
// request failed.
func get(port int32, roots *x509.CertPool, client *pki.Issued) (int, string, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if client != nil {
		c := client.TLSCertificate()
		cfg.Certificates = []tls.Certificate{c}
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := hc.Get(fmt.Sprintf("https://127.0.0.1:%d/", port))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// waitConnLog waits for a connection-log line of port with status and
// the client's subject, and returns it parsed.
func (e *edge) waitConnLog(port int32, status string, client *pki.Issued) map[string]string {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(e.conn.String(), "\n") {
			if line == "" {
				continue
			}
			f := testutil.ParseConnLine(line)
			if f["listener_port"] == fmt.Sprint(port) && f["tls_verify_status"] == status && strings.Contains(f["leaf_client_cert_subject"], client.Cert.Subject.CommonName) {
				return f
			}
		}
	}
	e.t.Fatalf("no connection-log line for port %d with %s for %q:\n%s", port, status, client.Cert.Subject.CommonName, e.conn.String())
	return nil
}

// freePort returns a port that was free a moment ago.
func freePort(t testing.TB) int32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

const acmARN = "arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41-bd72-4774-9ad9-756919c40557"

// alb builds through the API: a trust store from S3, a load balancer, a
// target group forwarding to ec and an HTTPS verify listener on a free
// port. It returns the ARNs and the port.
type albARNs struct {
	ts, lb, tg, listener string
	port                 int32
}

func (e *edge) alb(p *pkiSet, ec *echo) albARNs {
	e.t.Helper()
	t := e.t
	var a albARNs
	e.upload("edge-trust", "bundle.pem", p.bundle())
	ts, err := e.elb.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: aws.String("my-trust-store"),
		CaCertificatesBundleS3Bucket: aws.String("edge-trust"), CaCertificatesBundleS3Key: aws.String("bundle.pem")})
	if err != nil {
		t.Fatal(err)
	}
	a.ts = *ts.TrustStores[0].TrustStoreArn
	lb, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-alb"), Subnets: []string{"subnet-1", "subnet-2"}})
	if err != nil {
		t.Fatal(err)
	}
	a.lb = *lb.LoadBalancers[0].LoadBalancerArn
	tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("my-targets"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String("vpc-1"), TargetType: types.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	a.tg = *tg.TargetGroups[0].TargetGroupArn
	if _, err := e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: &a.tg,
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(ec.port())}}}); err != nil {
		t.Fatal(err)
	}
	a.port = freePort(t)
	l, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &a.lb, Protocol: types.ProtocolEnumHttps, Port: &a.port,
		Certificates:         []types.Certificate{{CertificateArn: aws.String(acmARN)}},
		DefaultActions:       []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &a.tg}},
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &a.ts}})
	if err != nil {
		t.Fatal(err)
	}
	a.listener = *l.Listeners[0].ListenerArn
	return a
}

// as reports whether err is the SDK's typed error T.
func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
