package s3store

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Raw requests of the AWS CLI 1.45 and the Go SDK v2, copied from edge's
// conformance captures (testdata/wire/, index in testdata/wire/README.md):
// request line, headers as received, blank line, body (HTTP chunked
// transfer encoding removed by the recorder, aws-chunked left in).

type capture struct {
	name   string
	method string
	target string
	header [][2]string // in order, as sent
	body   []byte
}

func loadCapture(t *testing.T, name string) capture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "wire", name))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the headers", name)
	}
	lines := strings.Split(string(head), "\r\n")
	f := strings.Fields(lines[0])
	c := capture{name: name, method: f[0], target: f[1], body: body}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ": ")
		c.header = append(c.header, [2]string{k, v})
	}
	return c
}

func (c capture) get(name string) string {
	for _, h := range c.header {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// send replays c over a real TCP connection to addr, as the client sent
// it: a body the client sent with Transfer-Encoding: chunked (the CLI over
// HTTPS) is chunked again, any other gets its Content-Length.
func (c capture) send(t *testing.T, addr string, target string) (*http.Response, []byte) {
	t.Helper()
	if target == "" {
		target = c.target
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", c.method, target)
	chunked := strings.EqualFold(c.get("Transfer-Encoding"), "chunked")
	for _, h := range c.header {
		switch strings.ToLower(h[0]) {
		case "host":
			fmt.Fprintf(&b, "Host: %s\r\n", addr)
		case "content-length":
		default:
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		}
	}
	if !chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(c.body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	if chunked {
		for rest := c.body; len(rest) > 0; {
			n := min(len(rest), 500)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
	} else {
		b.Write(c.body)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	req := &http.Request{Method: c.method}
	resp, err := http.ReadResponse(br, req)
	for err == nil && resp.StatusCode == http.StatusContinue {
		resp, err = http.ReadResponse(br, req)
	}
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// The 1273-byte bundle every capture uploads, as sent in a plain body.
func captureBundle(t *testing.T) []byte {
	return loadCapture(t, "003-s3-PutObject.txt").body
}

func plainGet(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// TestWireCapturesHTTP replays the CLI's and the Go SDK's plain-HTTP
// requests in order: bucket, versioning, uploads with a CRC32 header,
// list-object-versions (encoding-type=url), head, get, get --version-id.
func TestWireCapturesHTTP(t *testing.T) {
	srv := httptest.NewServer(newMemStore(t).Handler())
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	bundle := captureBundle(t)
	var firstVersion string
	for _, name := range []string{"001-s3-CreateBucket.txt", "002-s3-PutBucketVersioning.txt", "003-s3-PutObject.txt",
		"004-s3-PutObject.txt", "005-s3-PutObject.txt", "022-s3-ListObjectVersions.txt", "023-s3-HeadObject.txt",
		"024-s3-GetObject.txt", "025-s3-GetObject.txt", "026-s3-HeadObject.txt", "027-s3-PutObject.txt",
		"028-s3-PutObject.txt", "029-s3-GetObject.txt", "037-s3-PutObject.txt", "038-s3-PutObject.txt", "039-s3-GetObject.txt"} {
		c := loadCapture(t, name)
		target := c.target
		if name == "025-s3-GetObject.txt" {
			// The captured id is the recorder's; ask for the one this store gave.
			target = regexp.MustCompile(`versionId=[^&]*`).ReplaceAllString(target, "versionId="+firstVersion)
		}
		resp, body := c.send(t, addr, target)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: %s %s", name, resp.Status, body)
		}
		switch name {
		case "004-s3-PutObject.txt": // s3api put-object truststore.pem
			firstVersion = resp.Header.Get("x-amz-version-id")
			if !versionIDRE.MatchString(firstVersion) {
				t.Fatalf("%s: x-amz-version-id %q", name, firstVersion)
			}
			if got := resp.Header.Get("ETag"); got != `"`+md5hex(bundle)+`"` {
				t.Errorf("%s: ETag %s", name, got)
			}
		case "022-s3-ListObjectVersions.txt":
			if n := strings.Count(string(body), "<Version>"); n != 3 || !strings.Contains(string(body), "<VersionId>"+firstVersion+"</VersionId>") {
				t.Errorf("%s: %d versions, want 3 with %s:\n%s", name, n, firstVersion, body)
			}
		case "024-s3-GetObject.txt", "025-s3-GetObject.txt", "029-s3-GetObject.txt", "039-s3-GetObject.txt":
			if !bytes.Equal(body, bundle) {
				t.Errorf("%s: body differs from the uploaded bundle (%d bytes)", name, len(body))
			}
			if got := resp.Header.Get("X-Amz-Checksum-Crc32"); got != "l9oy7Q==" {
				t.Errorf("%s: x-amz-checksum-crc32 %q; want l9oy7Q== (x-amz-checksum-mode: ENABLED)", name, got)
			}
		}
		if name == "025-s3-GetObject.txt" && resp.Header.Get("x-amz-version-id") != firstVersion {
			t.Errorf("%s: answered version %q; want %q", name, resp.Header.Get("x-amz-version-id"), firstVersion)
		}
	}
}

// TestWireAWSChunkedUploads replays the HTTPS uploads (sent here over a
// plain connection: the body is what matters): the CLI's
// (Transfer-Encoding: chunked, no Content-Length) and the Go SDK's
// (Content-Length of the encoded body), both aws-chunked
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with an x-amz-checksum-crc32 trailer.
// The store keeps exactly the 1273 bytes and the trailer's checksum.
func TestWireAWSChunkedUploads(t *testing.T) {
	srv := httptest.NewServer(newMemStore(t).Handler())
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	bundle := captureBundle(t)
	for _, name := range []string{"001-s3-CreateBucket.txt", "002-s3-PutObject.txt", "003-s3-PutObject.txt", "004-s3-PutObject.txt", "005-s3-GetObject.txt"} {
		c := loadCapture(t, "https-aws-chunked/"+name)
		resp, body := c.send(t, addr, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", name, resp.Status, body)
		}
		if c.method == http.MethodPut && c.body != nil && len(c.body) > 0 {
			if got := resp.Header.Get("X-Amz-Checksum-Crc32"); got != "l9oy7Q==" {
				t.Errorf("%s: PUT answered x-amz-checksum-crc32 %q; want the trailer's l9oy7Q==", name, got)
			}
		}
		if name == "005-s3-GetObject.txt" && !bytes.Equal(body, bundle) {
			t.Errorf("%s: got %d bytes; want the 1273 uploaded", name, len(body))
		}
	}
	for _, key := range []string{"bundle.pem", "go/bundle.pem", "go/stream.pem"} {
		status, h, body := plainGet(t, srv.URL+"/edge-trust/"+key)
		if status != http.StatusOK || !bytes.Equal(body, bundle) {
			t.Errorf("%s: %d, %d bytes; want the 1273 bytes uploaded, without aws-chunked framing", key, status, len(body))
		}
		if got := h.Get("X-Amz-Checksum-Crc32"); got != "l9oy7Q==" {
			t.Errorf("%s: stored checksum %q; want l9oy7Q==", key, got)
		}
		if h.Get("Content-Encoding") != "" {
			t.Errorf("%s: Content-Encoding %q stored with the object", key, h.Get("Content-Encoding"))
		}
	}
}

// TestWireAWSChunkedBadDigest: the Go SDK's HTTPS upload with a wrong
// trailer checksum, or with a byte of the data changed, is 400 BadDigest
// and stores nothing (gofakes3 alone stores it).
func TestWireAWSChunkedBadDigest(t *testing.T) {
	srv := httptest.NewServer(newMemStore(t).Handler())
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	mk := loadCapture(t, "https-aws-chunked/001-s3-CreateBucket.txt")
	if resp, body := mk.send(t, addr, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateBucket: %s %s", resp.Status, body)
	}
	good := loadCapture(t, "https-aws-chunked/003-s3-PutObject.txt")
	wrongCRC := good
	wrongCRC.body = bytes.Replace(good.body, []byte("x-amz-checksum-crc32:l9oy7Q=="), []byte("x-amz-checksum-crc32:AAAAAA=="), 1)
	flipped := good
	flipped.body = bytes.Replace(good.body, []byte("MIIBjDCC"), []byte("MIIBjDCD"), 1)
	if bytes.Equal(wrongCRC.body, good.body) || bytes.Equal(flipped.body, good.body) {
		t.Fatal("capture changed: the test edits no longer apply")
	}
	for name, c := range map[string]capture{"wrong trailer CRC": wrongCRC, "changed data": flipped} {
		resp, body := c.send(t, addr, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>BadDigest</Code>") {
			t.Errorf("%s: %s %s; want 400 BadDigest", name, resp.Status, body)
		}
		if status, _, _ := plainGet(t, srv.URL+"/edge-trust/go/bundle.pem"); status != http.StatusNotFound {
			t.Errorf("%s: the object was stored anyway (GET %d)", name, status)
		}
	}
	// The good one still goes through.
	if resp, body := good.send(t, addr, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("good upload: %s %s", resp.Status, body)
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestHandBuiltTrailerPut: a STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT built
// here as the SDKs frame one (several 64 KiB chunks, then the trailer),
// with each trailer algorithm S3 offers: the store keeps the exact bytes
// and answers the checksum; a wrong one is 400 BadDigest and stores nothing.
func TestHandBuiltTrailerPut(t *testing.T) {
	srv := httptest.NewServer(newMemStore(t).Handler())
	defer srv.Close()
	req, _ := http.NewRequest("PUT", srv.URL+"/hand-built", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CreateBucket: %v %v", resp, err)
	}
	data := randomBytes(300_000)
	for algo, newHash := range checksumAlgorithms {
		h := newHash()
		h.Write(data)
		sum := base64.StdEncoding.EncodeToString(h.Sum(nil))
		put := func(key, value string) (*http.Response, string) {
			body := encodeChunked(data, 64<<10, "x-amz-checksum-"+algo, value)
			req, _ := http.NewRequest("PUT", srv.URL+"/hand-built/"+key, bytes.NewReader(body))
			req.Header.Set("Content-Encoding", "aws-chunked")
			req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
			req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
			req.Header.Set("X-Amz-Trailer", "x-amz-checksum-"+algo)
			req.Header.Set("X-Amz-Sdk-Checksum-Algorithm", strings.ToUpper(algo))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, string(b)
		}
		resp, body := put(algo, sum)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s %s", algo, resp.Status, body)
		}
		status, hdr, got := plainGet(t, srv.URL+"/hand-built/"+algo)
		header := "X-Amz-Checksum-" + strings.ToUpper(algo[:1]) + algo[1:]
		if status != 200 || !bytes.Equal(got, data) || hdr.Get(header) != sum {
			t.Errorf("%s: GET %d, %d bytes (equal %v), %s %q; want %q", algo, status, len(got), bytes.Equal(got, data), header, hdr.Get(header), sum)
		}
		wrong := base64.StdEncoding.EncodeToString(make([]byte, h.Size()))
		resp, body = put(algo+"-wrong", wrong)
		if resp.StatusCode != 400 || !strings.Contains(body, "<Code>BadDigest</Code>") {
			t.Errorf("%s with a wrong trailer: %s %s; want 400 BadDigest", algo, resp.Status, body)
		}
		if status, _, _ := plainGet(t, srv.URL+"/hand-built/"+algo+"-wrong"); status != 404 {
			t.Errorf("%s: the upload with a wrong trailer was stored (GET %d)", algo, status)
		}
	}
}
