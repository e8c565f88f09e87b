package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func openDir(t *testing.T, dir string) (*Store, *s3.Client, func()) {
	t.Helper()
	s, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatalf("New(%s): %v", dir, err)
	}
	srv := httptest.NewServer(s.Handler())
	return s, sdkClient(srv.URL, true, srv.Client(), "test", "test"), srv.Close
}

func listVersions(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, v := range out.Versions {
		vs = append(vs, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId)+map[bool]string{true: "*"}[aws.ToBool(v.IsLatest)])
	}
	for _, m := range out.DeleteMarkers {
		vs = append(vs, aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId)+"(marker)"+map[bool]string{true: "*"}[aws.ToBool(m.IsLatest)])
	}
	slices.Sort(vs)
	return vs
}

// TestRestartKeepsObjectsAndVersions: a store reopened on the same
// directory has the same buckets, versioning states, versions (ids, order,
// bytes, checksums) and delete markers, and goes on from there.
func TestRestartKeepsObjectsAndVersions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	_, c, stop := openDir(t, dir)
	data := seed(t, c)
	// A third bucket: Enabled, then Suspended with a null version on top.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("susp")}); err != nil {
		t.Fatal(err)
	}
	suspended := []byte("written while suspended")
	for i, status := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended} {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("susp"),
			VersioningConfiguration: &types.VersioningConfiguration{Status: status}}); err != nil {
			t.Fatal(err)
		}
		body := []byte("written while enabled")
		if i == 1 {
			body = suspended
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("susp"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	before := [][]string{listVersions(t, c, "plain"), listVersions(t, c, "trust"), listVersions(t, c, "susp")}
	stop()

	s2, c2, stop2 := openDir(t, dir)
	defer stop2()
	after := [][]string{listVersions(t, c2, "plain"), listVersions(t, c2, "trust"), listVersions(t, c2, "susp")}
	for i := range before {
		if strings.Join(before[i], " ") != strings.Join(after[i], " ") {
			t.Errorf("versions after restart:\n %v\nwant\n %v", after[i], before[i])
		}
	}
	checkSource(t, s2, data)
	if v, _ := s2.Versioning(ctx, "susp"); v != "Suspended" {
		t.Errorf("susp versioning after restart %q", v)
	}
	if o, err := s2.Get(ctx, "susp", "k", ""); err != nil || !bytes.Equal(o.Bytes, suspended) || o.VersionID != "null" {
		t.Errorf("susp/k after restart: %+v, %v; want the null version %q", o, err, suspended)
	}
	if len(after[2]) != 2 {
		t.Errorf("susp/k has %d versions after restart; want 2 (enabled one and null)", len(after[2]))
	}
	got, err := c2.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trust"), Key: aws.String("bundle.pem"), VersionId: aws.String(data.id1), ChecksumMode: types.ChecksumModeEnabled})
	if b := mustBody(t, got, err); !bytes.Equal(b, data.v1) || aws.ToString(got.ChecksumCRC32) != crc32b64(data.v1) {
		t.Errorf("old version after restart: %q checksum %q", b, aws.ToString(got.ChecksumCRC32))
	}
	// Writes go on from where they were: a new version is the latest.
	p, err := c2.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trust"), Key: aws.String("bundle.pem"), Body: strings.NewReader("v3")})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := s2.Get(ctx, "trust", "bundle.pem", ""); err != nil || o.VersionID != aws.ToString(p.VersionId) {
		t.Errorf("after restart the new version is not the latest: %+v, %v", o, err)
	}

	// The layout docs/s3.md describes.
	sum := sha256.Sum256([]byte("bundle.pem"))
	kdir := filepath.Join(dir, "objects", "trust", hex.EncodeToString(sum[:]))
	for _, f := range []string{filepath.Join(dir, "buckets", "trust", "meta.json"), filepath.Join(kdir, data.id1+".json"), filepath.Join(kdir, data.id1+".data")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("layout: %v", err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(kdir, data.id1+".data")); !bytes.Equal(b, data.v1) {
		t.Errorf("data file holds %q; want %q", b, data.v1)
	}
}

// TestLoadRefusesDamagedFiles: a record that cannot be read stops New with
// a *LoadError naming the file, and changes nothing on disk.
func TestLoadRefusesDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	_, c, stop := openDir(t, dir)
	data := seed(t, c)
	stop()
	sum := sha256.Sum256([]byte("bundle.pem"))
	rec := filepath.Join(dir, "objects", "trust", hex.EncodeToString(sum[:]), data.id1+".json")
	orig, _ := os.ReadFile(rec)

	for name, damage := range map[string]func(){
		"truncated record": func() { os.WriteFile(rec, orig[:len(orig)/2], 0o644) },
		"data file gone":   func() { os.Rename(strings.TrimSuffix(rec, ".json")+".data", rec+".moved") },
		"bucket meta": func() {
			os.WriteFile(filepath.Join(dir, "buckets", "trust", "meta.json"), []byte(`{"format":9}`), 0o644)
		},
	} {
		damage()
		snapshot := treeOf(t, dir)
		_, err := New(Options{Dir: dir})
		var le *LoadError
		if !errors.As(err, &le) || !strings.HasPrefix(le.Path, dir) || !strings.Contains(err.Error(), "move it away") {
			t.Errorf("%s: New = %v; want a *LoadError naming the file", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
		if now := treeOf(t, dir); now != snapshot {
			t.Errorf("%s: the failed load changed the directory", name)
		}
		// Undo for the next case.
		os.WriteFile(rec, orig, 0o644)
		os.Rename(rec+".moved", strings.TrimSuffix(rec, ".json")+".data")
		os.WriteFile(filepath.Join(dir, "buckets", "trust", "meta.json"),
			[]byte(`{"format":1,"name":"trust","created":"2026-11-30T00:00:00Z","versioning":"Enabled"}`), 0o644)
	}
	if _, err := New(Options{Dir: dir}); err != nil {
		t.Fatalf("after repair: %v", err)
	}
}

// TestLoadCleansCrashLeftovers: files a crash leaves behind (a temp file,
// a data file no record names) are removed at load; the objects stay.
func TestLoadCleansCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	_, c, stop := openDir(t, dir)
	data := seed(t, c)
	stop()
	sum := sha256.Sum256([]byte("bundle.pem"))
	kdir := filepath.Join(dir, "objects", "trust", hex.EncodeToString(sum[:]))
	orphan := filepath.Join(kdir, "null.99.data")
	tmp := filepath.Join(dir, "tmp", "put-123")
	os.WriteFile(orphan, []byte("half"), 0o644)
	os.WriteFile(tmp, []byte("half"), 0o644)
	s, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{orphan, tmp} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", f, err)
		}
	}
	if o, err := s.Get(context.Background(), "trust", "bundle.pem", data.id1); err != nil || !bytes.Equal(o.Bytes, data.v1) {
		t.Errorf("object after cleanup: %v", err)
	}
}

// treeOf lists dir's files with their sizes.
func treeOf(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			b.WriteString(p + " " + string(rune('0'+fi.Size()%10)) + "\n")
		}
		return nil
	})
	return b.String()
}

// TestConcurrentWrites: parallel uploads to one key of a versioned bucket
// on disk each get their own version, and a restart finds them all, in
// the order they were committed.
func TestConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, c, stop := openDir(t, dir)
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("conc")})
	c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("conc"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	const writers, each = 6, 8
	errs := make(chan error, writers*each)
	for w := range writers {
		go func() {
			for i := range each {
				_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("conc"), Key: aws.String("k"),
					Body: strings.NewReader(strings.Repeat(string(rune('a'+w)), 1000+i))})
				errs <- err
			}
		}()
	}
	for range writers * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	latest, _ := s.Get(ctx, "conc", "k", "")
	before := listVersions(t, c, "conc")
	stop()
	s2, c2, stop2 := openDir(t, dir)
	defer stop2()
	after := listVersions(t, c2, "conc")
	if len(after) != writers*each || strings.Join(before, " ") != strings.Join(after, " ") {
		t.Fatalf("%d versions after restart (%d before); want %d, the same", len(after), len(before), writers*each)
	}
	if l2, _ := s2.Get(ctx, "conc", "k", ""); l2.VersionID != latest.VersionID || !bytes.Equal(l2.Bytes, latest.Bytes) {
		t.Errorf("latest after restart %s; want %s", l2.VersionID, latest.VersionID)
	}
}
