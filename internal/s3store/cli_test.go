package s3store

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Tests that drive the installed AWS CLI (v1.45) and boto3 (1.43) against
// the store. They skip when the tool is absent; TestMain repeats the skip
// on stderr so it shows without -v (go test in the package directory;
// go test ./... hides the output of passing packages).

var (
	noticesMu sync.Mutex
	notices   []string
)

// skipNotice skips t and records why for TestMain to print.
func skipNotice(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	noticesMu.Lock()
	notices = append(notices, t.Name()+": "+msg)
	noticesMu.Unlock()
	t.Skip(msg)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, n := range notices {
		fmt.Fprintln(os.Stderr, "SKIPPED", n)
	}
	os.Exit(code)
}

// cliServer starts the store (in a directory) over HTTP or HTTPS and
// returns its endpoint and, for HTTPS, a CA bundle file trusting it.
func cliServer(t *testing.T, tls bool) (endpoint, caFile string, rec *recorder) {
	t.Helper()
	s, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rec = &recorder{h: s.Handler()}
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(rec)
		caFile = filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	} else {
		srv = httptest.NewServer(rec)
	}
	t.Cleanup(srv.Close)
	return srv.URL, caFile, rec
}

// awsEnv is a clean environment for the CLI and boto3: static test
// credentials, a region, no user configuration.
func awsEnv(t *testing.T) []string {
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

type cli struct {
	t        *testing.T
	endpoint string
	ca       string
	env      []string
	dir      string
}

// run runs `aws --endpoint-url … args…` and returns stdout; wantFail
// expects exit status 255 and returns stderr.
func (c *cli) run(wantFail bool, args ...string) string {
	c.t.Helper()
	full := append([]string{"--endpoint-url", c.endpoint}, args...)
	if c.ca != "" {
		full = append(full, "--ca-bundle", c.ca)
	}
	cmd := exec.Command("aws", full...)
	cmd.Env, cmd.Dir = c.env, c.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if wantFail {
		if err == nil {
			c.t.Fatalf("aws %s succeeded; want a failure\n%s", strings.Join(args, " "), stdout.String())
		}
		return stderr.String()
	}
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func (c *cli) json(args ...string) map[string]any {
	c.t.Helper()
	out := c.run(false, args...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("aws %s: not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

func (c *cli) sameFile(a, b string) {
	c.t.Helper()
	x, err1 := os.ReadFile(filepath.Join(c.dir, a))
	y, err2 := os.ReadFile(filepath.Join(c.dir, b))
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		c.t.Fatalf("%s and %s differ (%d and %d bytes; %v %v)", a, b, len(x), len(y), err1, err2)
	}
}

// TestAWSCLI is reference T1 with the AWS CLI: s3 mb, put-bucket-versioning,
// s3 cp then put-object on one key ⇒ two 32-character version ids,
// get-object --version-id, list-object-versions, delete-object ⇒ marker and
// NoSuchKey with the old version still readable, and a 20 MB s3 cp
// (multipart) both ways, over HTTP; the uploads and downloads again over
// HTTPS (aws-chunked).
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		skipNotice(t, "the aws CLI is not installed (pip install awscli==1.45.*): the CLI round trip was not run")
	}
	t.Parallel() // the CLI spends most of its time starting Python
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tls]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			endpoint, ca, rec := cliServer(t, tls)
			c := &cli{t: t, endpoint: endpoint, ca: ca, env: awsEnv(t), dir: t.TempDir()}
			v1 := []byte("-----BEGIN CERTIFICATE-----\nv1\n-----END CERTIFICATE-----\n")
			v2 := []byte("-----BEGIN CERTIFICATE-----\nversion two\n-----END CERTIFICATE-----\n")
			os.WriteFile(filepath.Join(c.dir, "v1.pem"), v1, 0o644)
			os.WriteFile(filepath.Join(c.dir, "v2.pem"), v2, 0o644)
			os.WriteFile(filepath.Join(c.dir, "big.bin"), randomBytes(20<<20), 0o644)

			c.run(false, "s3", "mb", "s3://edge-trust")
			if tls {
				// Over HTTPS the CLI sends aws-chunked bodies with a CRC32
				// trailer (Transfer-Encoding: chunked, no Content-Length);
				// the versioning steps are the same as over HTTP, so only
				// the uploads and downloads run here (the CLI is slow to start).
				c.run(false, "s3", "cp", "v1.pem", "s3://edge-trust/bundle.pem")
				c.run(false, "s3api", "put-object", "--bucket", "edge-trust", "--key", "v2.pem", "--body", "v2.pem")
				c.run(false, "s3api", "get-object", "--bucket", "edge-trust", "--key", "v2.pem", "got2.pem")
				c.sameFile("got2.pem", "v2.pem")
			} else {
				c.run(false, "s3api", "put-bucket-versioning", "--bucket", "edge-trust", "--versioning-configuration", "Status=Enabled")
				c.run(false, "s3", "cp", "v1.pem", "s3://edge-trust/bundle.pem")
				put := c.json("s3api", "put-object", "--bucket", "edge-trust", "--key", "bundle.pem", "--body", "v2.pem")
				id2, _ := put["VersionId"].(string)
				lv := c.json("s3api", "list-object-versions", "--bucket", "edge-trust")
				versions, _ := lv["Versions"].([]any)
				if len(versions) != 2 {
					t.Fatalf("list-object-versions: %v; want 2 versions", lv)
				}
				var id1 string
				latest := 0
				for _, v := range versions {
					m := v.(map[string]any)
					if m["IsLatest"] == true {
						latest++
					} else {
						id1, _ = m["VersionId"].(string)
					}
				}
				if latest != 1 || !versionIDRE.MatchString(id1) || !versionIDRE.MatchString(id2) || id1 == id2 {
					t.Fatalf("versions %q (old) and %q (put-object), %d latest; want two distinct 32-character ids, one latest", id1, id2, latest)
				}
				if g := c.json("s3api", "get-object", "--bucket", "edge-trust", "--key", "bundle.pem", "--version-id", id1, "old.pem"); g["VersionId"] != id1 {
					t.Errorf("get-object --version-id answered %v", g["VersionId"])
				}
				c.sameFile("old.pem", "v1.pem")
				del := c.json("s3api", "delete-object", "--bucket", "edge-trust", "--key", "bundle.pem")
				if del["DeleteMarker"] != true {
					t.Fatalf("delete-object: %v; want DeleteMarker true", del)
				}
				if stderr := c.run(true, "s3api", "get-object", "--bucket", "edge-trust", "--key", "bundle.pem", "latest.pem"); !strings.Contains(stderr, "NoSuchKey") {
					t.Errorf("get-object after delete: %s; want NoSuchKey", stderr)
				}
				c.run(false, "s3api", "get-object", "--bucket", "edge-trust", "--key", "bundle.pem", "--version-id", id2, "new.pem")
				c.sameFile("new.pem", "v2.pem")

			}
			c.run(false, "s3", "cp", "big.bin", "s3://edge-trust/crl/big.bin")
			c.run(false, "s3", "cp", "s3://edge-trust/crl/big.bin", "big.out")
			c.sameFile("big.out", "big.bin")
			if !tls {
				// S3's message, not "Unknown".
				want := "remove_bucket failed: s3://edge-trust An error occurred (BucketNotEmpty) when calling the DeleteBucket operation: The bucket you tried to delete is not empty"
				if stderr := c.run(true, "s3", "rb", "s3://edge-trust"); strings.TrimSpace(stderr) != want {
					t.Errorf("s3 rb of a bucket with objects:\n%s\nwant\n%s", stderr, want)
				}
			}
			if tls && rec.trailerCRC.Load() == 0 {
				t.Error("over HTTPS the CLI sent no aws-chunked body with a CRC32 trailer; the test meant to exercise them")
			}
		})
	}
}

// boto3Script runs the T1 steps with boto3 and prints "ok" or fails.
const boto3Script = `
import hashlib, os, sys, boto3, botocore
endpoint, ca, workdir = sys.argv[1], sys.argv[2] or None, sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, verify=ca if ca else True,
                  config=botocore.config.Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="edge-trust")
s3.put_bucket_versioning(Bucket="edge-trust", VersioningConfiguration={"Status": "Enabled"})
ids = [s3.put_object(Bucket="edge-trust", Key="bundle.pem", Body=b)["VersionId"] for b in (b"one", b"two")]
assert len(set(ids)) == 2 and all(len(i) == 32 and "/" not in i for i in ids), ids
assert s3.get_object(Bucket="edge-trust", Key="bundle.pem", VersionId=ids[0])["Body"].read() == b"one"
vs = s3.list_object_versions(Bucket="edge-trust")["Versions"]
assert [v["VersionId"] for v in vs] == ids[::-1] and [v["IsLatest"] for v in vs] == [True, False], vs
d = s3.delete_object(Bucket="edge-trust", Key="bundle.pem")
assert d["DeleteMarker"] is True, d
try:
    s3.get_object(Bucket="edge-trust", Key="bundle.pem")
    sys.exit("get_object after the delete marker succeeded")
except s3.exceptions.NoSuchKey:
    pass
s3.delete_object(Bucket="edge-trust", Key="bundle.pem", VersionId=d["VersionId"])
assert s3.get_object(Bucket="edge-trust", Key="bundle.pem")["Body"].read() == b"two"
big = os.urandom(20 << 20)
src, dst = os.path.join(workdir, "big.bin"), os.path.join(workdir, "big.out")
open(src, "wb").write(big)
s3.upload_file(src, "edge-trust", "crl/big.bin")
s3.download_file("edge-trust", "crl/big.bin", dst)
assert hashlib.sha256(open(dst, "rb").read()).digest() == hashlib.sha256(big).digest()
print("ok")
`

// TestBoto3 runs the same steps with boto3 (client.exceptions.NoSuchKey,
// upload_file multipart) over HTTP and HTTPS.
func TestBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		skipNotice(t, "python3 with boto3 is not installed (pip install boto3==1.43.*): the boto3 round trip was not run")
	}
	t.Parallel()
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tls]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			endpoint, ca, rec := cliServer(t, tls)
			cmd := exec.Command("python3", "-c", boto3Script, endpoint, ca, t.TempDir())
			cmd.Env = awsEnv(t)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "ok" {
				t.Fatalf("boto3: %v\n%s", err, out)
			}
			if tls && rec.trailerCRC.Load() == 0 {
				t.Error("over HTTPS boto3 sent no aws-chunked body with a CRC32 trailer")
			}
		})
	}
}
