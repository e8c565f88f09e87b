package s3store

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"edge/internal/objects"
)

// seeded is what seed uploaded.
type seeded struct {
	v1, v2     []byte // trust/bundle.pem, oldest first
	id1, id2   string
	plainBytes []byte // plain/crl/a.pem in the unversioned bucket
}

// seed fills a store through the SDK, as a user does with the CLI: an
// unversioned bucket "plain" with crl/a.pem and crl/b.pem, and a
// versioned bucket "trust" with two versions of bundle.pem and a key
// deleted behind a delete marker.
func seed(t *testing.T, c *s3.Client) seeded {
	t.Helper()
	ctx := context.Background()
	var s seeded
	for _, b := range []string{"plain", "trust"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	s.plainBytes = []byte("-----BEGIN X509 CRL-----\nplain\n-----END X509 CRL-----\n")
	for _, k := range []string{"crl/a.pem", "crl/b.pem"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String(k), Body: bytes.NewReader(s.plainBytes)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("trust"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	s.v1, s.v2 = []byte("bundle v1\n"), []byte("bundle v2, two CAs\n")
	for i, v := range [][]byte{s.v1, s.v2} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trust"), Key: aws.String("bundle.pem"), Body: bytes.NewReader(v)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			s.id1 = aws.ToString(out.VersionId)
		} else {
			s.id2 = aws.ToString(out.VersionId)
		}
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trust"), Key: aws.String("gone.pem"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("trust"), Key: aws.String("gone.pem")}); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSource asserts what any objects.Source must answer for seed's data.
// posixKeys is for servers that map keys to file paths (versitygw's posix
// backend), where "/crl/a.pem" is the file crl/a.pem: S3 (and edge's
// store) say the key does not exist.
func checkSource(t *testing.T, src objects.Source, s seeded, posixKeys ...bool) {
	t.Helper()
	ctx := context.Background()
	o, err := src.Get(ctx, "trust", "bundle.pem", "")
	if err != nil || !bytes.Equal(o.Bytes, s.v2) || o.VersionID != s.id2 {
		t.Fatalf("Get latest: %+v, %v; want %q version %s", o, err, s.v2, s.id2)
	}
	o, err = src.Get(ctx, "trust", "bundle.pem", s.id1)
	if err != nil || !bytes.Equal(o.Bytes, s.v1) || o.VersionID != s.id1 {
		t.Fatalf("Get pinned: %+v, %v; want %q", o, err, s.v1)
	}
	o, err = src.Get(ctx, "plain", "crl/a.pem", "")
	if err != nil || !bytes.Equal(o.Bytes, s.plainBytes) || (o.VersionID != "" && o.VersionID != "null") {
		t.Fatalf("Get unversioned: %+v, %v", o, err)
	}
	// The CRL article's S3Key=/crl/… after uploading to crl/…
	_, err = src.Get(ctx, "plain", "/crl/a.pem", "")
	var nf *objects.NotFoundError
	if len(posixKeys) > 0 && posixKeys[0] && err == nil {
		t.Logf("this server reads /crl/a.pem as crl/a.pem")
	} else {
		if !errors.As(err, &nf) || !errors.Is(err, objects.ErrNoSuchKey) || nf.Nearest != "crl/a.pem" {
			t.Fatalf("Get /crl/a.pem: %v; want NoSuchKey naming crl/a.pem", err)
		}
		if !strings.Contains(err.Error(), `did you mean "crl/a.pem"`) {
			t.Errorf("message %q does not name the nearest key", err)
		}
	}
	if _, err = src.Get(ctx, "plain", "crl/c.pem", ""); !errors.As(err, &nf) || nf.Nearest == "" {
		t.Errorf("Get crl/c.pem: %v; want a nearest key", err)
	}
	if _, err = src.Get(ctx, "trust", "gone.pem", ""); !errors.Is(err, objects.ErrNoSuchKey) {
		t.Errorf("Get of a key behind a delete marker: %v; want NoSuchKey", err)
	}
	if _, err = src.Get(ctx, "trust", "bundle.pem", strings.Repeat("Z", 32)); !errors.Is(err, objects.ErrNoSuchVersion) {
		t.Errorf("Get of an unknown version: %v; want NoSuchVersion", err)
	}
	if _, err = src.Get(ctx, "nope", "bundle.pem", ""); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("Get from a missing bucket: %v; want NoSuchBucket", err)
	}
	for b, want := range map[string]string{"plain": "", "trust": "Enabled"} {
		if v, err := src.Versioning(ctx, b); err != nil || v != want {
			t.Errorf("Versioning(%s) = %q, %v; want %q", b, v, err, want)
		}
	}
	if _, err := src.Versioning(ctx, "nope"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("Versioning of a missing bucket: %v", err)
	}
	if keys, err := src.Keys(ctx, "trust", 0); err != nil || strings.Join(keys, ",") != "bundle.pem" {
		t.Errorf("Keys(trust) = %v, %v; want [bundle.pem] (gone.pem is deleted)", keys, err)
	}
	if keys, err := src.Keys(ctx, "plain", 1); err != nil || strings.Join(keys, ",") != "crl/a.pem" {
		t.Errorf("Keys(plain, 1) = %v, %v", keys, err)
	}
}

// TestSourceEmbedded: the Store read in-process, as the control plane does.
func TestSourceEmbedded(t *testing.T) {
	s := newMemStore(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	data := seed(t, sdkClient(srv.URL, true, srv.Client(), "test", "test"))
	checkSource(t, s, data)
	if o, _ := s.Get(context.Background(), "plain", "crl/a.pem", ""); o.VersionID != "" {
		t.Errorf("unversioned object has version %q; want \"\"", o.VersionID)
	}
}

// TestSourceExternal: NewExternal against edge's own store served over
// HTTP with credentials (an S3-compatible server like any other).
func TestSourceExternal(t *testing.T) {
	s, err := New(Options{Credentials: map[string]string{"extkey": "extsecret"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	data := seed(t, sdkClient(srv.URL, true, srv.Client(), "extkey", "extsecret"))
	x, err := NewExternal(ExternalConfig{Endpoint: srv.URL, AccessKeyID: "extkey", SecretAccessKey: "extsecret", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	checkSource(t, x, data)

	bad, _ := NewExternal(ExternalConfig{Endpoint: srv.URL, AccessKeyID: "extkey", SecretAccessKey: "wrong", PathStyle: true})
	_, err = bad.Get(context.Background(), "trust", "bundle.pem", "")
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v; want ErrAccessDenied naming the endpoint and SignatureDoesNotMatch", err)
	}
	for _, cfg := range []ExternalConfig{{Endpoint: "127.0.0.1:9000"}, {Endpoint: "ftp://x"}, {Endpoint: srv.URL, AccessKeyID: "only-key"}} {
		if _, err := NewExternal(cfg); err == nil {
			t.Errorf("NewExternal(%+v) accepted", cfg)
		}
	}
}

// versitygwBinary finds a versitygw binary: $EDGE_VERSITYGW, PATH, or
// where `go install` puts it. The test never builds it (~2 min, 84 MB).
func versitygwBinary() string {
	if p := os.Getenv("EDGE_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if p := filepath.Join(dir, "versitygw"); dir != "" && fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// TestSourceExternalVersityGW (reference T10, optional): NewExternal
// against versitygw v1.8.0, a separate S3-compatible server with on-disk
// versioning, seeded through the Go SDK as a user would with its endpoint.
func TestSourceExternalVersityGW(t *testing.T) {
	bin := versitygwBinary()
	if bin == "" {
		skipNotice(t, "versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, or EDGE_VERSITYGW=path): the external-S3 test against it was not run")
	}
	// versitygw takes a fixed port: take a free one from the kernel.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root, vdir := t.TempDir(), t.TempDir()
	var out bytes.Buffer
	cmd := exec.Command(bin, "--access", "vgwkey", "--secret", "vgwsecret", "--port", addr, "posix", "--versioning-dir", vdir, root)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		skipNotice(t, "versitygw at %s does not start: %v", bin, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s within 30 s:\n%s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	endpoint := "http://" + addr
	data := seed(t, sdkClient(endpoint, true, nil, "vgwkey", "vgwsecret"))
	x, err := NewExternal(ExternalConfig{Endpoint: endpoint, AccessKeyID: "vgwkey", SecretAccessKey: "vgwsecret", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	checkSource(t, x, data, true)
	bad, _ := NewExternal(ExternalConfig{Endpoint: endpoint, AccessKeyID: "vgwkey", SecretAccessKey: "wrong", PathStyle: true})
	if _, err := bad.Get(context.Background(), "trust", "bundle.pem", ""); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("wrong secret against versitygw: %v; want ErrAccessDenied", err)
	} else {
		t.Logf("wrong secret: %v", err)
	}
}
