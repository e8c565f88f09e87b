package s3store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// sdkClient is the official Go SDK S3 client for endpoint, as edge's docs
// tell users to set it up. The checksum settings are those
// config.LoadDefaultConfig gives (s3.New's zero Options send none): CRC32
// on every upload (a header over HTTP, an aws-chunked trailer over HTTPS),
// checksums validated on download.
func sdkClient(endpoint string, pathStyle bool, hc *http.Client, akid, secret string) *s3.Client {
	o := s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               pathStyle,
		Credentials:                credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return s3.New(o)
}

// recorder wraps the store's handler and notes what the client sent.
type recorder struct {
	h              http.Handler
	chunked        atomic.Int32 // requests with an aws-chunked body
	trailerCRC     atomic.Int32 // ... with an x-amz-checksum-crc32 trailer
	virtualHosts   atomic.Int32 // requests whose Host named a bucket
	lastHostHeader atomic.Value
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Content-Sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" && strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		rc.chunked.Add(1)
		if strings.EqualFold(r.Header.Get("X-Amz-Trailer"), "x-amz-checksum-crc32") {
			rc.trailerCRC.Add(1)
		}
	}
	if strings.Contains(r.Host, ".localhost") {
		rc.virtualHosts.Add(1)
	}
	rc.lastHostHeader.Store(r.Host)
	rc.h.ServeHTTP(w, r)
}

func newMemStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mustBody(t *testing.T, out *s3.GetObjectOutput, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading GetObject body: %v", err)
	}
	return b
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var versionIDRE = regexp.MustCompile(`^[A-Za-z0-9._]{32}$`)

// TestSDKRoundTrip is reference T1 with the Go SDK, over HTTP and over
// HTTPS (where the SDK sends aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER
// bodies): buckets, objects, versioning enabled and suspended, version
// ids, delete markers, list, head, copy, multipart (20 MB), byte for byte.
func TestSDKRoundTrip(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			rec := &recorder{h: newMemStore(t).Handler()}
			var srv *httptest.Server
			if tls {
				srv = httptest.NewTLSServer(rec)
			} else {
				srv = httptest.NewServer(rec)
			}
			defer srv.Close()
			c := sdkClient(srv.URL, true, srv.Client(), "test", "test")
			sdkScenario(t, c)
			if tls && (rec.chunked.Load() == 0 || rec.trailerCRC.Load() == 0) {
				t.Errorf("over HTTPS the SDK sent %d aws-chunked bodies, %d with a CRC32 trailer; the test meant to exercise them", rec.chunked.Load(), rec.trailerCRC.Load())
			}
			if !tls && rec.chunked.Load() != 0 {
				t.Errorf("over HTTP the SDK sent %d aws-chunked bodies", rec.chunked.Load())
			}
		})
	}
}

func sdkScenario(t *testing.T, c *s3.Client) {
	ctx := context.Background()
	const bucket = "edge-trust"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); apiCode(err) != "BucketAlreadyExists" {
		t.Errorf("CreateBucket again: %v; want BucketAlreadyExists", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("HeadBucket: %v", err)
	}
	var nf *types.NotFound
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope-bucket")}); !errors.As(err, &nf) {
		t.Errorf("HeadBucket of a missing bucket: %v; want NotFound", err)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != bucket {
		t.Fatalf("ListBuckets: %+v, %v", lb, err)
	}

	// Unversioned: no version id, checksum stored and returned.
	v0 := []byte("-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n")
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), Body: bytes.NewReader(v0)})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if put.VersionId != nil {
		t.Errorf("PutObject on an unversioned bucket answered version %q; S3 sends none", *put.VersionId)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), ChecksumMode: types.ChecksumModeEnabled})
	if b := mustBody(t, got, err); !bytes.Equal(b, v0) {
		t.Fatalf("GetObject = %q; want %q", b, v0)
	}
	if got.ChecksumCRC32 == nil || *got.ChecksumCRC32 != crc32b64(v0) {
		t.Errorf("GetObject ChecksumCRC32 = %v; want %s (the SDK validates it)", aws.ToString(got.ChecksumCRC32), crc32b64(v0))
	}
	if got.VersionId != nil {
		t.Errorf("GetObject on an unversioned bucket answered version %q", *got.VersionId)
	}

	// Enabled: two puts, two distinct 32-character ids.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatalf("PutBucketVersioning: %v", err)
	}
	gv, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("GetBucketVersioning: %+v, %v", gv, err)
	}
	v1, v2 := []byte("version one\n"), []byte("version two, longer\n")
	p1, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), Body: bytes.NewReader(v1)})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), Body: bytes.NewReader(v2)})
	if err != nil {
		t.Fatal(err)
	}
	id1, id2 := aws.ToString(p1.VersionId), aws.ToString(p2.VersionId)
	if !versionIDRE.MatchString(id1) || !versionIDRE.MatchString(id2) || id1 == id2 {
		t.Fatalf("version ids %q, %q; want two distinct 32-character [A-Za-z0-9._] ids", id1, id2)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: aws.String(id1), ChecksumMode: types.ChecksumModeEnabled})
	if b := mustBody(t, got, err); !bytes.Equal(b, v1) || aws.ToString(got.VersionId) != id1 {
		t.Fatalf("GetObject version %s = %q (version %q); want %q", id1, b, aws.ToString(got.VersionId), v1)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem")})
	if b := mustBody(t, got, err); !bytes.Equal(b, v2) || aws.ToString(got.VersionId) != id2 {
		t.Fatalf("GetObject latest = %q (version %q); want %q (%s)", b, aws.ToString(got.VersionId), v2, id2)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: aws.String("null")})
	if b := mustBody(t, got, err); !bytes.Equal(b, v0) || aws.ToString(got.VersionId) != "null" {
		t.Fatalf("GetObject version null = %q (%q); want the pre-versioning %q", b, aws.ToString(got.VersionId), v0)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: aws.String(id1)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(v1)) || aws.ToString(head.VersionId) != id1 {
		t.Fatalf("HeadObject version %s: length %d version %q, %v; want %d", id1, aws.ToInt64(head.ContentLength), aws.ToString(head.VersionId), err, len(v1))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: aws.String(strings.Repeat("A", 32))})
	if apiCode(err) != "NoSuchVersion" {
		t.Errorf("GetObject of an unknown version: %v; want NoSuchVersion", err)
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil || len(lv.Versions) != 3 {
		t.Fatalf("ListObjectVersions: %d versions, %v; want 3", len(lv.Versions), err)
	}
	latest := 0
	for _, v := range lv.Versions {
		if aws.ToBool(v.IsLatest) {
			latest++
			if aws.ToString(v.VersionId) != id2 {
				t.Errorf("latest version %q; want %q", aws.ToString(v.VersionId), id2)
			}
		}
	}
	if latest != 1 || aws.ToString(lv.Versions[0].VersionId) != id2 || aws.ToString(lv.Versions[2].VersionId) != "null" {
		t.Errorf("versions not newest first with one latest: %+v", lv.Versions)
	}

	// Delete marker.
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || !versionIDRE.MatchString(aws.ToString(del.VersionId)) {
		t.Fatalf("DeleteObject: marker %v version %q, %v", aws.ToBool(del.DeleteMarker), aws.ToString(del.VersionId), err)
	}
	var nsk *types.NoSuchKey
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem")}); !errors.As(err, &nsk) {
		t.Errorf("GetObject after the delete marker: %v; want NoSuchKey", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem")}); !errors.As(err, &nf) {
		t.Errorf("HeadObject after the delete marker: %v; want NotFound", err)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: aws.String(id1)})
	if b := mustBody(t, got, err); !bytes.Equal(b, v1) {
		t.Fatalf("old version after the delete marker = %q", b)
	}
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil || len(lo.Contents) != 0 {
		t.Errorf("ListObjectsV2 lists a deleted key: %+v, %v", lo.Contents, err)
	}
	// Removing the marker brings the object back.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: del.VersionId}); err != nil {
		t.Fatalf("DeleteObject of the marker: %v", err)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem")})
	if b := mustBody(t, got, err); !bytes.Equal(b, v2) {
		t.Fatalf("latest after removing the marker = %q; want %q", b, v2)
	}

	// Copy of a pinned version: a new version with the old bytes.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy.pem"),
		CopySource: aws.String(bucket + "/bundle.pem?versionId=" + id1)})
	if err != nil || !versionIDRE.MatchString(aws.ToString(cp.VersionId)) || aws.ToString(cp.CopySourceVersionId) != id1 {
		t.Fatalf("CopyObject: version %q source %q, %v", aws.ToString(cp.VersionId), aws.ToString(cp.CopySourceVersionId), err)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy.pem"), ChecksumMode: types.ChecksumModeEnabled})
	if b := mustBody(t, got, err); !bytes.Equal(b, v1) {
		t.Fatalf("copy = %q; want %q", b, v1)
	}

	// Suspended: new writes are the null version, replacing it; older
	// versions stay.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	v3, v4 := []byte("suspended one"), []byte("suspended two")
	for _, v := range [][]byte{v3, v4} {
		p, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), Body: bytes.NewReader(v)})
		if err != nil || aws.ToString(p.VersionId) != "null" {
			t.Fatalf("PutObject while suspended: version %q, %v; want null", aws.ToString(p.VersionId), err)
		}
	}
	lv, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("bundle")})
	if err != nil || len(lv.Versions) != 3 {
		t.Fatalf("ListObjectVersions while suspended: %d, %v; want 3 (id2, id1, null)", len(lv.Versions), err)
	}
	for i, want := range []string{"null", id2, id1} {
		if aws.ToString(lv.Versions[i].VersionId) != want {
			t.Errorf("version %d = %q; want %q", i, aws.ToString(lv.Versions[i].VersionId), want)
		}
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem"), VersionId: aws.String(id2)})
	if b := mustBody(t, got, err); !bytes.Equal(b, v2) {
		t.Fatalf("Enabled-era version after suspended writes = %q; want %q", b, v2)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("bundle.pem")})
	if b := mustBody(t, got, err); !bytes.Equal(b, v4) {
		t.Fatalf("latest while suspended = %q; want %q", b, v4)
	}

	// List pagination, with and without a delimiter.
	for _, k := range []string{"crl/a.pem", "crl/b.pem", "crl/c.pem", "crl/sub/d.pem", "z.pem"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	pages := 0
	for p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	want := "bundle.pem copy.pem crl/a.pem crl/b.pem crl/c.pem crl/sub/d.pem z.pem"
	if strings.Join(keys, " ") != want || pages != 4 {
		t.Errorf("paginated keys (%d pages) = %v; want %s in 4 pages", pages, keys, want)
	}
	lo, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("crl/"), Delimiter: aws.String("/")})
	if err != nil || len(lo.Contents) != 3 || len(lo.CommonPrefixes) != 1 || aws.ToString(lo.CommonPrefixes[0].Prefix) != "crl/sub/" {
		t.Errorf("ListObjectsV2 crl/ with delimiter: %d keys, prefixes %+v, %v", len(lo.Contents), lo.CommonPrefixes, err)
	}
	var versions []string
	for p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			versions = append(versions, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
	}
	if len(versions) != 9 || versions[0] != "bundle.pem@null" || versions[1] != "bundle.pem@"+id2 || versions[2] != "bundle.pem@"+id1 {
		t.Errorf("paginated versions = %v; want 9, bundle.pem's newest first", versions)
	}

	// Range.
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("z.pem"), Range: aws.String("bytes=1-3")})
	if b := mustBody(t, rg, err); string(b) != ".pe" {
		t.Errorf("Range bytes=1-3 = %q; want \".pe\"", b)
	}

	// Multipart, 20 MB, byte for byte.
	big := randomBytes(20 << 20)
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("big.crl")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, off := int32(1), 0; off < len(big); i, off = i+1, off+8<<20 {
		end := min(off+8<<20, len(big))
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("big.crl"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(i), Body: bytes.NewReader(big[off:end])})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(i), ETag: up.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("big.crl"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.crl"), ChecksumMode: types.ChecksumModeEnabled})
	if b := mustBody(t, got, err); sha256.Sum256(b) != sha256.Sum256(big) {
		t.Fatalf("20 MB multipart object differs: got %d bytes", len(b))
	}

	// DeleteObjects with and without version ids; then the bucket empties.
	lv, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []types.ObjectIdentifier
	for _, v := range lv.Versions {
		ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
	}
	for _, m := range lv.DeleteMarkers {
		ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
	}
	do, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids}})
	if err != nil || len(do.Errors) != 0 || len(do.Deleted) != len(ids) {
		t.Fatalf("DeleteObjects of %d versions: %d deleted, errors %+v, %v", len(ids), len(do.Deleted), do.Errors, err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("DeleteBucket after deleting every version: %v", err)
	}
}

// TestSDKVirtualHosted: the Go SDK with a host-name endpoint and
// UsePathStyle=false sends Host: <bucket>.localhost:PORT (a name that does
// not resolve here: a dialer sends every host to the test server). The
// store serves those as the bucket's requests; s3.localhost works too.
func TestSDKVirtualHosted(t *testing.T) {
	s := newMemStore(t)
	rec := &recorder{h: s.Handler()}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	ctx := context.Background()
	for _, base := range []string{"localhost", "s3.localhost"} {
		c := sdkClient("http://"+base+":"+port, false, hc, "test", "test")
		bucket := "vh-" + strings.ReplaceAll(base, ".", "-")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("%s: CreateBucket: %v", base, err)
		}
		if h, _ := rec.lastHostHeader.Load().(string); h != bucket+"."+base+":"+port {
			t.Fatalf("%s: the SDK sent Host %q; the test expects virtual-hosted style", base, h)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a.pem"), Body: strings.NewReader("vh")}); err != nil {
			t.Fatalf("%s: PutObject: %v", base, err)
		}
		lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil || len(lo.Contents) != 1 || aws.ToString(lo.Contents[0].Key) != "dir/a.pem" {
			t.Fatalf("%s: ListObjectsV2: %+v, %v", base, lo, err)
		}
		// The same object path style, through the IP address.
		pc := sdkClient(srv.URL, true, srv.Client(), "test", "test")
		got, err := pc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a.pem")})
		if b := mustBody(t, got, err); string(b) != "vh" {
			t.Fatalf("%s: path-style read of the virtual-hosted upload = %q", base, b)
		}
	}
	if rec.virtualHosts.Load() == 0 {
		t.Fatal("no request was virtual-hosted")
	}
	// ListBuckets goes to the bare host and sees both buckets.
	c := sdkClient("http://localhost:"+port, false, hc, "test", "test")
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 2 {
		t.Fatalf("ListBuckets via localhost: %+v, %v", lb, err)
	}
}

// TestSDKSigV4: with credentials configured, requests signed with them
// work (over HTTP and HTTPS with aws-chunked bodies); a wrong secret is
// SignatureDoesNotMatch and an unknown key InvalidAccessKeyId, and neither
// changes anything.
func TestSDKSigV4(t *testing.T) {
	s, err := New(Options{Credentials: map[string]string{"AKIDEDGE": "s3cr3t"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, srv := range []*httptest.Server{httptest.NewServer(s.Handler()), httptest.NewTLSServer(s.Handler())} {
		defer srv.Close()
		good := sdkClient(srv.URL, true, srv.Client(), "AKIDEDGE", "s3cr3t")
		bucket := "signed-" + strings.SplitN(srv.URL, ":", 2)[0] // signed-http, signed-https
		if _, err := good.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("%s: CreateBucket with the right key: %v", srv.URL, err)
		}
		if _, err := good.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("signed body")}); err != nil {
			t.Fatalf("%s: PutObject with the right key: %v", srv.URL, err)
		}
		wrong := sdkClient(srv.URL, true, srv.Client(), "AKIDEDGE", "not-the-secret")
		_, err := wrong.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("forged")})
		if apiCode(err) != "SignatureDoesNotMatch" {
			t.Errorf("%s: PutObject with a wrong secret: %v; want SignatureDoesNotMatch", srv.URL, err)
		}
		_, err = sdkClient(srv.URL, true, srv.Client(), "AKIDOTHER", "s3cr3t").ListBuckets(ctx, &s3.ListBucketsInput{})
		if apiCode(err) != "InvalidAccessKeyId" {
			t.Errorf("%s: an unknown access key: %v; want InvalidAccessKeyId", srv.URL, err)
		}
		got, err := good.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
		if b := mustBody(t, got, err); string(b) != "signed body" {
			t.Errorf("%s: after the forged PUT the object is %q", srv.URL, b)
		}
		// An unsigned request (curl) is refused too.
		resp, err := srv.Client().Get(srv.URL + "/" + bucket + "/k")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
			t.Errorf("%s: unsigned GET: %d %s; want 403 AccessDenied", srv.URL, resp.StatusCode, body)
		}
	}
}

// TestVersionedReadsRaw checks, with plain HTTP requests, the headers the
// SDK hides: a delete marker answers x-amz-delete-marker and its version
// id (404 as the latest, 405 when asked by id); HEAD and GET honour
// versionId, "null" included; DELETE ?versionId removes only that version.
func TestVersionedReadsRaw(t *testing.T) {
	srv := httptest.NewServer(newMemStore(t).Handler())
	defer srv.Close()
	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	do("PUT", "/bkt", "")
	do("PUT", "/bkt/k", "null version")
	do("PUT", "/bkt?versioning", `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`)
	v1 := do("PUT", "/bkt/k", "version one").Header.Get("x-amz-version-id")
	del := do("DELETE", "/bkt/k", "")
	marker := del.Header.Get("x-amz-version-id")
	if del.StatusCode != 204 || del.Header.Get("x-amz-delete-marker") != "true" || !versionIDRE.MatchString(marker) {
		t.Fatalf("DELETE: %d marker %q id %q", del.StatusCode, del.Header.Get("x-amz-delete-marker"), marker)
	}
	for _, c := range []struct {
		method, path string
		status       int
		marker, id   string
	}{
		{"GET", "/bkt/k", 404, "true", marker},
		{"HEAD", "/bkt/k", 404, "true", marker},
		{"GET", "/bkt/k?versionId=" + marker, 405, "true", marker},
		{"HEAD", "/bkt/k?versionId=" + v1, 200, "", v1},
		{"GET", "/bkt/k?versionId=" + v1, 200, "", v1},
		{"HEAD", "/bkt/k?versionId=null", 200, "", "null"},
		{"GET", "/bkt/k?versionId=not-an-id", 400, "", ""},
	} {
		resp := do(c.method, c.path, "")
		if resp.StatusCode != c.status || resp.Header.Get("x-amz-delete-marker") != c.marker || resp.Header.Get("x-amz-version-id") != c.id {
			t.Errorf("%s %s: %d delete-marker %q version %q; want %d %q %q", c.method, c.path, resp.StatusCode,
				resp.Header.Get("x-amz-delete-marker"), resp.Header.Get("x-amz-version-id"), c.status, c.marker, c.id)
		}
	}
	// DELETE ?versionId=null removes the null version only (the library
	// alone would add a delete marker).
	if resp := do("DELETE", "/bkt/k?versionId=null", ""); resp.StatusCode != 204 || resp.Header.Get("x-amz-version-id") != "null" {
		t.Errorf("DELETE ?versionId=null: %d version %q", resp.StatusCode, resp.Header.Get("x-amz-version-id"))
	}
	if resp := do("HEAD", "/bkt/k?versionId=null", ""); resp.StatusCode != 404 {
		t.Errorf("null version still there: %d", resp.StatusCode)
	}
	if resp := do("HEAD", "/bkt/k?versionId="+v1, ""); resp.StatusCode != 200 {
		t.Errorf("version one gone with the null version: %d", resp.StatusCode)
	}
}

// TestObjectTagsMetadataConditions: user metadata and tags stored with an
// object, tags changed afterwards (kept across a restart), and a
// conditional PUT (If-None-Match: *) refused when the key exists.
func TestObjectTagsMetadataConditions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	_, c, stop := openDir(t, dir)
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tags")})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("k"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"owner": "edge"}, Tagging: aws.String("env=dev"), ContentType: aws.String("application/pem-certificate-chain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}}); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("k"), Body: strings.NewReader("y"), IfNoneMatch: aws.String("*")})
	if apiCode(err) != "PreconditionFailed" {
		t.Errorf("PutObject If-None-Match: * over an existing key: %v; want PreconditionFailed", err)
	}
	stop()
	_, c, stop = openDir(t, dir)
	defer stop()
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || h.Metadata["owner"] != "edge" || aws.ToString(h.ContentType) != "application/pem-certificate-chain" || aws.ToInt64(h.ContentLength) != 1 {
		t.Fatalf("HeadObject after restart: %+v, %v", h, err)
	}
	tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Value) != "prod" {
		t.Fatalf("GetObjectTagging after restart: %+v, %v; want env=prod", tg, err)
	}
}

// Every error carries S3's <Message>: the SDK's ErrorMessage and the
// CLI's text after the code (the CLI prints "Unknown" without one).
func TestSDKErrorMessages(t *testing.T) {
	srv := httptest.NewServer(newMemStore(t).Handler())
	defer srv.Close()
	c := sdkClient(srv.URL, true, nil, "test", "test")
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-trust-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-trust-bucket"), Key: aws.String("bundle.pem"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, code, message string
		call                func() error
	}{
		{"DeleteBucket of a bucket with objects", "BucketNotEmpty", "The bucket you tried to delete is not empty", func() error {
			_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("my-trust-bucket")})
			return err
		}},
		{"AbortMultipartUpload of an unknown upload", "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", func() error {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("my-trust-bucket"), Key: aws.String("k"), UploadId: aws.String("nope")})
			return err
		}},
		{"GetObject of a missing bucket", "NoSuchBucket", "The specified bucket does not exist", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("missing-bucket"), Key: aws.String("k")})
			return err
		}},
	} {
		err := tc.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || ae.ErrorMessage() != tc.message {
			t.Errorf("%s: %v; want %s: %s", tc.name, err, tc.code, tc.message)
		}
	}
	// On the wire: <Message> after <Code>, the other elements kept, the
	// status the same; HEAD answers no body.
	req, _ := http.NewRequest("DELETE", srv.URL+"/my-trust-bucket", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 409 || !strings.Contains(string(body), "<Code>BucketNotEmpty</Code>\n  <Message>The bucket you tried to delete is not empty</Message>\n") ||
		!strings.Contains(string(body), "<Resource>my-trust-bucket</Resource>") ||
		resp.ContentLength != int64(len(body)) {
		t.Errorf("DELETE bucket: %d (Content-Length %d) %s", resp.StatusCode, resp.ContentLength, body)
	}
	resp, err = http.Head(srv.URL + "/missing-bucket")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || len(body) != 0 {
		t.Errorf("HEAD missing bucket: %d %q", resp.StatusCode, body)
	}
}

// withMessage fills in only a missing, empty or code-only message.
func TestWithMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>BucketNotEmpty</Code><Resource>b</Resource></Error>",
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>BucketNotEmpty</Code><Message>The bucket you tried to delete is not empty</Message><Resource>b</Resource></Error>"},
		{"<Error><Code>NoSuchUpload</Code><Message>NoSuchUpload</Message><RequestId>1</RequestId></Error>",
			"<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message><RequestId>1</RequestId></Error>"},
		{"<Error><Code>X</Code><Message></Message></Error>", "<Error><Code>X</Code><Message>Conflict</Message></Error>"},
		{"<Error>\n  <Code>X</Code>\n</Error>", "<Error>\n  <Code>X</Code>\n  <Message>Conflict</Message>\n</Error>"},
		{"<Error><Code>NoSuchKey</Code><Message>edge's own</Message></Error>", "<Error><Code>NoSuchKey</Code><Message>edge's own</Message></Error>"},
		{"", ""},
		{"not xml", "not xml"},
		{"<Other><Code>X</Code></Other>", "<Other><Code>X</Code></Other>"},
	} {
		if got := string(withMessage([]byte(tc.in), http.StatusConflict)); got != tc.want {
			t.Errorf("withMessage(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzWithMessage: any body is returned as it is or with one <Message>
// element added or replaced, never a panic.
func FuzzWithMessage(f *testing.F) {
	f.Add([]byte("<Error><Code>BucketNotEmpty</Code><Resource>b</Resource></Error>"))
	f.Add([]byte("<Error>\n  <Code>NoSuchUpload</Code>\n  <Message>NoSuchUpload</Message>\n</Error>"))
	f.Add([]byte("<Error><Code>X</Code><Message/></Error>"))
	f.Add([]byte("<Error><Code>A</Code><Code>B</Code></Error>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := withMessage(body, 400)
		if !bytes.Equal(out, body) && !bytes.Contains(out, []byte("<Message>")) {
			t.Fatalf("changed %q into %q without a <Message>", body, out)
		}
	})
}
