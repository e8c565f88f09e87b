package s3store

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"strconv"
	"strings"
)

// aws-chunked content encoding, as the AWS SDKs send uploads over HTTPS
// (and whenever a client streams): each chunk is "<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n",
// the last one has size 0 and is followed by trailer lines "name:value\r\n"
// and an empty line. Source: the captures of the AWS CLI 1.45 and
// aws-sdk-go-v2 uploads over HTTPS (testdata/wire/https-aws-chunked/) and
// the S3 "Signature Version 4: streaming" documentation.

// Limits on the framing, so a hostile body cannot make the decoder buffer
// or loop without bound.
const (
	maxChunkLine    = 4096    // a size line or trailer line, CRLF included
	maxTrailerLines = 16      // trailer headers after the final chunk
	maxChunkSize    = 5 << 30 // S3's largest single PUT (5 GiB)
)

// chunkErrKind classifies why an aws-chunked body was refused; the HTTP
// adapter maps each kind to the S3 error code a client expects.
type chunkErrKind int

const (
	// chunkMalformed: the framing is not aws-chunked (bad size line,
	// missing CRLF, bad trailer line). S3 answers 400 IncompleteBody or
	// InvalidRequest; edge answers IncompleteBody.
	chunkMalformed chunkErrKind = iota + 1
	// chunkLength: the decoded size differs from X-Amz-Decoded-Content-Length.
	chunkLength
	// chunkBadDigest: the trailer checksum does not match the data.
	chunkBadDigest
	// chunkSignature: a chunk signature does not match (only checked when
	// signature verification is on).
	chunkSignature
	// chunkBadTrailer: the trailer named in X-Amz-Trailer is missing or
	// its value is not a checksum of the algorithm's size.
	chunkBadTrailer
)

// chunkError says why an aws-chunked body was refused.
type chunkError struct {
	Kind chunkErrKind
	Msg  string
}

func (e *chunkError) Error() string { return "aws-chunked body: " + e.Msg }

func chunkErrf(kind chunkErrKind, format string, args ...any) error {
	return &chunkError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// checksumAlgorithms are the S3 checksum algorithms by the suffix of their
// x-amz-checksum-<name> header.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// chunkSigner verifies the chunk signatures of a signed streaming upload
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]): each chunk's signature
// chains from the previous one, starting at the request's seed signature.
type chunkSigner struct {
	key     []byte // SigV4 signing key for the request's date/region/service
	amzDate string // X-Amz-Date of the request
	scope   string // date/region/service/aws4_request
	prev    string // previous signature (the seed signature at first)
}

var emptySHA256 = sha256.Sum256(nil)

func (s *chunkSigner) next(chunkHash []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" +
		hex.EncodeToString(emptySHA256[:]) + "\n" + hex.EncodeToString(chunkHash)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(sts))
	return hex.EncodeToString(m.Sum(nil))
}

// chunkDecoder reads the object bytes out of an aws-chunked body. It
// checks the framing as it goes and, when the final chunk arrives, the
// decoded length and the trailer checksum: a mismatch is returned
// together with the last bytes (never a silent io.EOF), so a reader
// limited to the declared length still sees it.
type chunkDecoder struct {
	r       *bufio.Reader
	want    int64 // X-Amz-Decoded-Content-Length, or -1 if not given
	total   int64 // bytes decoded so far
	remain  int64 // bytes left in the current chunk
	started bool  // the first size line has been read
	done    bool
	err     error // sticky error

	trailer  string    // lower-case trailer header name expected (x-amz-checksum-crc32), or ""
	algo     string    // checksum algorithm of that trailer, e.g. "crc32"
	sum      hash.Hash // running checksum of the decoded bytes, nil if no trailer
	checksum string    // verified base64 checksum from the trailer, once done

	signer   *chunkSigner // nil unless chunk signatures are verified
	chunkSig string       // signature declared for the current chunk
	chunkSum hash.Hash    // sha256 of the current chunk's data
}

// newChunkDecoder decodes body. declared is X-Amz-Decoded-Content-Length
// (-1 when absent); trailer is X-Amz-Trailer ("" when absent). signer,
// when not nil, verifies chunk signatures.
func newChunkDecoder(body io.Reader, declared int64, trailer string, signer *chunkSigner) (*chunkDecoder, error) {
	d := &chunkDecoder{r: bufio.NewReaderSize(body, maxChunkLine), want: declared, signer: signer}
	if trailer = strings.ToLower(strings.TrimSpace(trailer)); trailer != "" {
		algo, ok := strings.CutPrefix(trailer, "x-amz-checksum-")
		newHash := checksumAlgorithms[algo]
		if !ok || newHash == nil {
			return nil, chunkErrf(chunkBadTrailer, "X-Amz-Trailer %q is not a supported checksum (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256)", trailer)
		}
		d.trailer, d.algo, d.sum = trailer, algo, newHash()
	}
	if signer != nil {
		d.chunkSum = sha256.New()
	}
	return d, nil
}

// Checksum returns the trailer's checksum header name (canonical form,
// e.g. "X-Amz-Checksum-Crc32") and its verified base64 value once the
// body has been read to the end; "" before that or without a trailer.
func (d *chunkDecoder) Checksum() (name, value string) {
	if !d.done || d.checksum == "" {
		return "", ""
	}
	return "X-Amz-Checksum-" + strings.ToUpper(d.algo[:1]) + d.algo[1:], d.checksum
}

func (d *chunkDecoder) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if !d.started {
		d.started = true
		if err := d.nextChunk(); err != nil {
			d.err = err
			return 0, err
		}
	}
	n := 0
	for n < len(p) && !d.done {
		k := int64(len(p) - n)
		if k > d.remain {
			k = d.remain
		}
		m, err := d.r.Read(p[n : n+int(k)])
		if m > 0 {
			if d.sum != nil {
				d.sum.Write(p[n : n+m])
			}
			if d.chunkSum != nil {
				d.chunkSum.Write(p[n : n+m])
			}
			n += m
			d.remain -= int64(m)
			d.total += int64(m)
		}
		if d.remain == 0 {
			// End of this chunk: read on to the next size line now, so the
			// final chunk's checks happen with the last bytes.
			if err := d.endChunk(); err != nil {
				d.err = err
				return n, err
			}
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = chunkErrf(chunkMalformed, "body ended inside a chunk (%d bytes missing)", d.remain)
			}
			d.err = err
			return n, err
		}
		if m == 0 {
			break
		}
	}
	if d.done {
		d.err = io.EOF
		return n, io.EOF
	}
	return n, nil
}

// endChunk consumes the CRLF after a chunk's data, then the next size line.
func (d *chunkDecoder) endChunk() error {
	if err := d.verifyChunk(); err != nil {
		return err
	}
	var crlf [2]byte
	if _, err := io.ReadFull(d.r, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
		return chunkErrf(chunkMalformed, "chunk data is not followed by CRLF")
	}
	return d.nextChunk()
}

// verifyChunk checks the current chunk's signature, if signatures are verified.
func (d *chunkDecoder) verifyChunk() error {
	if d.signer == nil {
		return nil
	}
	want := d.signer.next(d.chunkSum.Sum(nil))
	d.chunkSum.Reset()
	if !hmac.Equal([]byte(want), []byte(d.chunkSig)) {
		return chunkErrf(chunkSignature, "chunk signature does not match (after %d bytes)", d.total)
	}
	d.signer.prev = want
	return nil
}

// nextChunk reads a size line; on the final (size 0) chunk it reads the
// trailer and runs the end-of-body checks.
func (d *chunkDecoder) nextChunk() error {
	line, err := d.readLine()
	if err == io.EOF {
		return chunkErrf(chunkMalformed, "body ended before the final 0-size chunk")
	}
	if err != nil {
		return err
	}
	sizeField, ext, _ := strings.Cut(line, ";")
	if sizeField == "" || len(sizeField) > 16 {
		return chunkErrf(chunkMalformed, "bad chunk size line %q", clip(line))
	}
	size, err := strconv.ParseInt(sizeField, 16, 64)
	if err != nil || size < 0 || size > maxChunkSize {
		return chunkErrf(chunkMalformed, "bad chunk size %q", clip(sizeField))
	}
	d.chunkSig = ""
	if ext != "" {
		sig, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !ok {
			return chunkErrf(chunkMalformed, "unknown chunk extension %q", clip(ext))
		}
		d.chunkSig = sig
	}
	if d.signer != nil && d.chunkSig == "" {
		return chunkErrf(chunkSignature, "chunk without chunk-signature in a signed streaming upload")
	}
	if d.want >= 0 && d.total+size > d.want {
		return chunkErrf(chunkLength, "body has more than the %d bytes X-Amz-Decoded-Content-Length declares", d.want)
	}
	if size > 0 {
		d.remain = size
		return nil
	}
	// Final chunk.
	if err := d.verifyChunk(); err != nil {
		return err
	}
	if err := d.readTrailer(); err != nil {
		return err
	}
	if d.want >= 0 && d.total != d.want {
		return chunkErrf(chunkLength, "body has %d bytes, X-Amz-Decoded-Content-Length declares %d", d.total, d.want)
	}
	d.done = true
	return nil
}

// readTrailer reads "name:value" lines up to the empty line and checks the
// expected checksum. An x-amz-trailer-signature line (signed trailers) is
// accepted but not verified.
func (d *chunkDecoder) readTrailer() error {
	var got string
	var found bool
	for i := 0; ; i++ {
		line, err := d.readLine()
		if err == io.EOF {
			// Some clients end the body right after the last trailer line,
			// or right after the final chunk when there is no trailer.
			break
		}
		if err != nil {
			return err
		}
		if line == "" {
			break
		}
		if i >= maxTrailerLines {
			return chunkErrf(chunkMalformed, "more than %d trailer lines", maxTrailerLines)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return chunkErrf(chunkMalformed, "bad trailer line %q", clip(line))
		}
		if strings.EqualFold(strings.TrimSpace(name), d.trailer) && d.trailer != "" {
			got, found = strings.TrimSpace(value), true
		}
	}
	if d.trailer == "" {
		return nil
	}
	if !found {
		return chunkErrf(chunkBadTrailer, "X-Amz-Trailer names %s but the body has no such trailer", d.trailer)
	}
	expected, err := base64.StdEncoding.DecodeString(got)
	if err != nil || len(expected) != d.sum.Size() {
		return chunkErrf(chunkBadTrailer, "trailer %s: %q is not a base64 %s checksum", d.trailer, clip(got), d.algo)
	}
	if !bytes.Equal(expected, d.sum.Sum(nil)) {
		return chunkErrf(chunkBadDigest, "the %s you specified did not match the calculated checksum", strings.ToUpper(d.algo))
	}
	d.checksum = got
	return nil
}

// readLine reads one CRLF-terminated line (without the CRLF).
func (d *chunkDecoder) readLine() (string, error) {
	line, err := d.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", chunkErrf(chunkMalformed, "line longer than %d bytes", maxChunkLine)
	}
	if err == io.EOF && len(line) == 0 {
		return "", io.EOF
	}
	if err != nil {
		if err == io.EOF {
			return "", chunkErrf(chunkMalformed, "body ended inside a line %q", clip(string(line)))
		}
		return "", err
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return "", chunkErrf(chunkMalformed, "line %q does not end with CRLF", clip(string(line)))
	}
	return s, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
