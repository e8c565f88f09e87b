package s3store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// encodeChunked frames data as aws-chunked with the given chunk size and,
// if trailer is not "", a trailer line "trailer:value".
func encodeChunked(data []byte, chunk int, trailer, value string) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(chunk, len(data))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	b.WriteString("0\r\n")
	if trailer != "" {
		b.WriteString(trailer + ":" + value + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func crc32b64(data []byte) string {
	var s [4]byte
	v := crc32.ChecksumIEEE(data)
	s[0], s[1], s[2], s[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return base64.StdEncoding.EncodeToString(s[:])
}

func decodeAll(t *testing.T, body []byte, declared int64, trailer string, signer *chunkSigner) ([]byte, *chunkDecoder, error) {
	t.Helper()
	d, err := newChunkDecoder(bytes.NewReader(body), declared, trailer, signer)
	if err != nil {
		return nil, nil, err
	}
	out, err := io.ReadAll(d)
	return out, d, err
}

func TestChunkDecoderRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes
	for _, chunk := range []int{1, 7, 8192, 65536, 100000} {
		body := encodeChunked(data, chunk, "x-amz-checksum-crc32", crc32b64(data))
		got, d, err := decodeAll(t, body, int64(len(data)), "x-amz-checksum-crc32", nil)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("chunk %d: decoded %d bytes, want the %d sent", chunk, len(got), len(data))
		}
		if name, v := d.Checksum(); name != "X-Amz-Checksum-Crc32" || v != crc32b64(data) {
			t.Errorf("Checksum() = %q %q", name, v)
		}
		// One byte at a time, as a slow network delivers it.
		d2, _ := newChunkDecoder(iotest.OneByteReader(bytes.NewReader(body)), int64(len(data)), "x-amz-checksum-crc32", nil)
		if got, err := io.ReadAll(iotest.OneByteReader(d2)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("chunk %d, byte by byte: %d bytes, %v", chunk, len(got), err)
		}
	}
}

// The last bytes come with the verdict on the trailer: a reader limited to
// the declared length (as the library reads a PUT body) still sees it.
func TestChunkDecoderBadDigestWithLastBytes(t *testing.T) {
	data := []byte("hello, trailer")
	body := encodeChunked(data, 5, "x-amz-checksum-crc32", crc32b64([]byte("something else")))
	d, _ := newChunkDecoder(bytes.NewReader(body), int64(len(data)), "x-amz-checksum-crc32", nil)
	_, err := io.ReadAll(io.LimitReader(d, int64(len(data))))
	var ce *chunkError
	if !errors.As(err, &ce) || ce.Kind != chunkBadDigest {
		t.Fatalf("err = %v; want a BadDigest chunk error", err)
	}
}

func TestChunkDecoderRefusesBadBodies(t *testing.T) {
	data := []byte("0123456789")
	good := crc32b64(data)
	cases := []struct {
		name     string
		body     string
		declared int64
		trailer  string
		kind     chunkErrKind
	}{
		{"size is not hex", "zz\r\n0123456789\r\n0\r\n\r\n", 10, "", chunkMalformed},
		{"no CRLF after data", "a\r\n0123456789XX0\r\n\r\n", 10, "", chunkMalformed},
		{"body ends inside a chunk", "a\r\n01234", 10, "", chunkMalformed},
		{"no final chunk", "a\r\n0123456789\r\n", 10, "", chunkMalformed},
		{"more than declared", "a\r\n0123456789\r\n1\r\nX\r\n0\r\n\r\n", 10, "", chunkLength},
		{"less than declared", "5\r\n01234\r\n0\r\n\r\n", 10, "", chunkLength},
		{"trailer missing", "a\r\n0123456789\r\n0\r\n\r\n", 10, "x-amz-checksum-crc32", chunkBadTrailer},
		{"trailer not base64", "a\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:!!\r\n\r\n", 10, "x-amz-checksum-crc32", chunkBadTrailer},
		{"trailer mismatch", "a\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", 10, "x-amz-checksum-crc32", chunkBadDigest},
		{"trailer line without colon", "a\r\n0123456789\r\n0\r\nnonsense\r\n\r\n", 10, "x-amz-checksum-crc32", chunkMalformed},
		{"huge size", "fffffffffffffff\r\n", -1, "", chunkMalformed},
		{"line too long", strings.Repeat("1", 5000) + "\r\n", -1, "", chunkMalformed},
		{"unknown extension", "a;foo=bar\r\n0123456789\r\n0\r\n\r\n", 10, "", chunkMalformed},
	}
	for _, c := range cases {
		_, _, err := decodeAll(t, []byte(c.body), c.declared, c.trailer, nil)
		var ce *chunkError
		if !errors.As(err, &ce) || ce.Kind != c.kind {
			t.Errorf("%s: err = %v; want kind %d", c.name, err, c.kind)
		}
	}
	if _, err := newChunkDecoder(strings.NewReader(""), 0, "x-amz-checksum-md5", nil); err == nil {
		t.Error("an unsupported trailer algorithm was accepted")
	}
	// Lenient endings real clients produce: no blank line after the trailer.
	body := "a\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:" + good + "\r\n"
	if got, _, err := decodeAll(t, []byte(body), 10, "x-amz-checksum-crc32", nil); err != nil || string(got) != string(data) {
		t.Errorf("body without the final blank line: %q, %v", got, err)
	}
}

// AWS's published example of a signed streaming upload ("Signature
// Calculations for the Authorization Header: Transferring Payload in
// Multiple Chunks"): 66560 bytes of 'a' in chunks of 65536, 1024 and 0,
// secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z,
// us-east-1, seed signature 4f232c43…. Passing it means the chunk
// signatures chain as AWS's do, not merely as edge's own.
func awsExampleSigner() *chunkSigner {
	key := []byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	for _, p := range []string{"20130524", "us-east-1", "s3", "aws4_request"} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(p))
		key = m.Sum(nil)
	}
	return &chunkSigner{key: key, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request",
		prev: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"}
}

func awsExampleBody(corrupt bool) []byte {
	var b bytes.Buffer
	for _, c := range []struct {
		size int
		sig  string
	}{
		{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
		{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
		{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
	} {
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", c.size, c.sig)
		data := bytes.Repeat([]byte("a"), c.size)
		if corrupt && c.size == 1024 {
			data[10] = 'b'
		}
		b.Write(data)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func TestChunkDecoderSignedAWSExample(t *testing.T) {
	got, _, err := decodeAll(t, awsExampleBody(false), 66560, "", awsExampleSigner())
	if err != nil || !bytes.Equal(got, bytes.Repeat([]byte("a"), 66560)) {
		t.Fatalf("AWS example: %d bytes, %v", len(got), err)
	}
	_, _, err = decodeAll(t, awsExampleBody(true), 66560, "", awsExampleSigner())
	var ce *chunkError
	if !errors.As(err, &ce) || ce.Kind != chunkSignature {
		t.Fatalf("corrupted second chunk: err = %v; want a chunk signature error", err)
	}
	// Without a signer (signature checking off) the chunk signatures are
	// framing only.
	if got, _, err := decodeAll(t, awsExampleBody(true), 66560, "", nil); err != nil || len(got) != 66560 {
		t.Fatalf("unverified: %d bytes, %v", len(got), err)
	}
}

// FuzzChunkDecoder: any body either decodes to at most the declared bytes
// or fails with an error; never a panic or a hang.
func FuzzChunkDecoder(f *testing.F) {
	data := []byte("0123456789")
	f.Add(encodeChunked(data, 4, "x-amz-checksum-crc32", crc32b64(data)), int64(10), true)
	f.Add(encodeChunked(data, 10, "", ""), int64(10), false)
	f.Add(awsExampleBody(false), int64(66560), false)
	f.Add([]byte("0\r\n\r\n"), int64(0), false)
	f.Add([]byte("5;chunk-signature=00\r\nabcde\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n"), int64(5), true)
	// The Go SDK's and the CLI's HTTPS uploads as captured.
	for _, name := range []string{"003-s3-PutObject.txt", "002-s3-PutObject.txt"} {
		if raw, err := os.ReadFile(filepath.Join("testdata", "wire", "https-aws-chunked", name)); err == nil {
			_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			f.Add(body, int64(1273), true)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, declared int64, trailer bool) {
		tr := ""
		if trailer {
			tr = "x-amz-checksum-crc32"
		}
		d, err := newChunkDecoder(bytes.NewReader(body), declared, tr, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(io.LimitReader(d, 1<<20))
		if err == nil && declared >= 0 && int64(len(out)) != declared && len(out) < 1<<20 {
			t.Fatalf("decoded %d bytes without error, %d declared", len(out), declared)
		}
	})
}

// BenchmarkChunkDecoder: decoding an 8 MiB aws-chunked part (64 KiB
// chunks, CRC32 trailer), as a multipart upload over HTTPS sends it.
func BenchmarkChunkDecoder(b *testing.B) {
	data := bytes.Repeat([]byte("edge"), 2<<20)
	body := encodeChunked(data, 64<<10, "x-amz-checksum-crc32", crc32b64(data))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d, _ := newChunkDecoder(bytes.NewReader(body), int64(len(data)), "x-amz-checksum-crc32", nil)
		if n, err := io.Copy(io.Discard, d); err != nil || n != int64(len(data)) {
			b.Fatal(n, err)
		}
	}
}
