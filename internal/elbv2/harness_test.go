package elbv2_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"edge/internal/awsapi"
	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/objects"
	"edge/internal/pki"
	edgests "edge/internal/sts"
	"edge/internal/testutil"
)

// fakeS3 is an in-memory objects.Source with versioned buckets.
type fakeS3 struct {
	mu       sync.Mutex
	versions map[string][]objects.Object // bucket/key → versions, oldest first
	buckets  map[string]bool
	n        int
}

func newFakeS3() *fakeS3 {
	return &fakeS3{versions: map[string][]objects.Object{}, buckets: map[string]bool{}}
}

// put stores a new version and returns its id.
func (f *fakeS3) put(bucket, key string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("v%031d", f.n)
	f.buckets[bucket] = true
	f.versions[bucket+"/"+key] = append(f.versions[bucket+"/"+key], objects.Object{Bucket: bucket, Key: key, VersionID: id, Bytes: append([]byte(nil), data...)})
	return id
}

func (f *fakeS3) Get(_ context.Context, bucket, key, version string) (*objects.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.buckets[bucket] {
		return nil, &objects.NotFoundError{Err: objects.ErrNoSuchBucket, Bucket: bucket, Key: key}
	}
	vs := f.versions[bucket+"/"+key]
	if len(vs) == 0 {
		nf := &objects.NotFoundError{Err: objects.ErrNoSuchKey, Bucket: bucket, Key: key}
		if _, ok := f.versions[bucket+"/"+strings.TrimPrefix(key, "/")]; ok {
			nf.Nearest = strings.TrimPrefix(key, "/")
		}
		return nil, nf
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

func (f *fakeS3) Versioning(context.Context, string) (string, error) { return "Enabled", nil }

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

// recorder is a fake Applier: it records applied states and fails when
// told to.
type recorder struct {
	mu      sync.Mutex
	applied []*elbv2.State
	fail    error
	file    *config.Config
	derived []*config.Config
}

func (r *recorder) Apply(_ context.Context, st *elbv2.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	cfg, err := elbv2.Derive(st, r.file)
	if err != nil {
		return &elbv2.BuildError{Err: err}
	}
	r.applied = append(r.applied, st)
	r.derived = append(r.derived, cfg)
	return nil
}

func (r *recorder) last() *config.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.derived) == 0 {
		return nil
	}
	return r.derived[len(r.derived)-1]
}

// h is a running endpoint with the ELBv2 service.
type h struct {
	t     *testing.T
	s3    *fakeS3
	app   *recorder
	svc   *elbv2.Service
	srv   *httptest.Server
	dir   string
	c     *elb.Client
	root  *pki.CA
	inter *pki.CA
}

type hOpt func(*elbv2.Options)

func newH(t *testing.T, opts ...hOpt) *h {
	t.Helper()
	x := &h{t: t, s3: newFakeS3(), app: &recorder{}, dir: t.TempDir()}
	x.root = testutil.Root(t, "Edge Test Root")
	x.inter = testutil.Intermediate(t, x.root, "Edge Test Intermediate")
	x.start(opts...)
	return x
}

func (x *h) start(opts ...hOpt) {
	t := x.t
	store, err := elbv2.OpenStore(x.dir)
	if err != nil {
		t.Fatal(err)
	}
	o := elbv2.Options{Objects: x.s3, Applier: x.app, Store: store, FileLayer: func() *config.Config { return x.app.file }}
	for _, f := range opts {
		f(&o)
	}
	x.svc, err = elbv2.New(o)
	if err != nil {
		t.Fatal(err)
	}
	x.srv = httptest.NewServer(awsapi.New(awsapi.Services{ELBv2: x.svc.Handler(), Edge: x.svc.ArtefactHandler(), STS: edgests.New("123456789012")}, awsapi.Options{}))
	t.Cleanup(x.srv.Close)
	x.c = elb.New(elb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(x.srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// restart starts a new service on the same state directory.
func (x *h) restart() {
	x.srv.Close()
	x.start()
}

var ctx = context.Background()

func bundlePEM(cas ...*pki.CA) []byte {
	var certs []*x509.Certificate
	for _, c := range cas {
		certs = append(certs, c.Cert)
	}
	return pki.CertPEM(certs...)
}

// crl returns a PEM CRL signed by ca revoking n serials (plus revoke).
func crl(t *testing.T, ca *pki.CA, n int, revoke ...*x509.Certificate) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for i := 0; i < n; i++ {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(int64(1000 + i)), RevocationTime: time.Now().Add(-time.Hour)})
	}
	for _, c := range revoke {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Hour)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}
