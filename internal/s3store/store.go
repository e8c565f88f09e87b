package s3store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"edge/internal/objects"
	"edge/internal/suggest"
)

// Options configure a Store. The zero value is a store in memory that
// accepts any request.
type Options struct {
	// Dir is the directory the store keeps buckets and objects in, created
	// if missing (edge uses <state-dir>/s3; layout in docs/s3.md). Empty
	// keeps everything in memory (edge's --ephemeral): gone when the
	// process ends.
	Dir string

	// Credentials maps access key IDs to secret access keys. Empty (the
	// default, as LocalStack does): requests are not authenticated; any
	// key, or none, works. Not empty: every request must carry a valid
	// SigV4 signature (Authorization header or presigned URL) made with
	// one of these keys, else it is answered 403 (SignatureDoesNotMatch,
	// InvalidAccessKeyId, AccessDenied) and changes nothing.
	Credentials map[string]string

	// HostDomains are the domains under which the Host header names a
	// bucket (virtual-hosted style: Host "<bucket>.<domain>[:port]", as
	// the Go SDK sends for a host-name endpoint without UsePathStyle).
	// Empty means "localhost" and "s3.localhost". Any other Host (an IP
	// address, "localhost" itself) is path style: /<bucket>/<key>.
	HostDomains []string

	// Now is the clock for creation and modification times; nil is time.Now.
	Now func() time.Time
}

// Store is edge's embedded S3-compatible store: an HTTP handler speaking
// S3's REST-XML protocol (Handler) and an objects.Source for in-process
// reads. It is safe for concurrent use.
type Store struct {
	b       *backend
	fake    http.Handler
	creds   map[string]string
	domains []string // longest first
}

var _ objects.Source = (*Store)(nil)

// New opens the store described by opts. With a directory it loads what
// is there; a file it cannot use is a *LoadError naming it, and nothing
// is changed.
func New(opts Options) (*Store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	b, err := newBackend(opts.Dir, now)
	if err != nil {
		return nil, err
	}
	domains := opts.HostDomains
	if len(domains) == 0 {
		domains = []string{"s3.localhost", "localhost"}
	}
	domains = slices.Clone(domains)
	for i, d := range domains {
		domains[i] = strings.ToLower(strings.Trim(d, "."))
	}
	slices.SortFunc(domains, func(a, b string) int { return len(b) - len(a) })
	return &Store{b: b, fake: newFake(b), creds: maps.Clone(opts.Credentials), domains: domains}, nil
}

// Handler returns the S3 endpoint: path-style (/<bucket>/<key>) and
// virtual-hosted-style requests, plain or aws-chunked bodies (signed or
// unsigned, with a trailer checksum, which is verified: a mismatch is 400
// BadDigest and stores nothing). Mount it where the AWS endpoint
// dispatches requests signed for the "s3" service.
func (s *Store) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if len(s.creds) > 0 {
		if code, status, msg := verifySignature(r, s.creds); code != "" {
			setRequestID(w)
			s3Error(w, r, code, status, msg)
			return
		}
	}
	// The rewrites below work on a copy: the caller's request is left as
	// it came. They come after the signature check, which covers the
	// Host, path and headers as sent.
	r = r.Clone(r.Context())
	if bucket := hostBucket(r.Host, s.domains); bucket != "" {
		p := r.URL.Path
		r.URL.Path = "/" + bucket
		if p != "/" && p != "" {
			r.URL.Path += p
		}
		if r.URL.RawPath != "" {
			r.URL.RawPath = "/" + bucket + r.URL.RawPath
		}
	}
	st := &reqState{header: w.Header(), method: r.Method}
	st.bucket, st.key, _ = strings.Cut(strings.TrimLeft(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	if v := q.Get("versionId"); v != "" && (r.Method != http.MethodPut || q.Has("tagging")) && r.Method != http.MethodPost {
		// The backend reads the version from st: the library drops
		// versionId=null, ignores it on HEAD, and its version methods
		// take no context, so a delete marker's headers could not be set.
		st.version, st.hasVersion = v, true
		q.Del("versionId")
		r.URL.RawQuery = q.Encode()
	}
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
		st.copyBucket, st.copyKey, st.copyVersion = parseCopySource(src)
	}
	if isAWSChunked(r.Header) {
		if !s.decodeChunked(w, r, st) {
			return
		}
	}
	if r.Method == http.MethodPost && q.Has("delete") {
		// Keep the version ids of a DeleteObjects body for DeleteMulti.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxDeleteBody+1))
		if err != nil {
			setRequestID(w)
			s3Error(w, r, "IncompleteBody", http.StatusBadRequest, "The request body could not be read: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) <= maxDeleteBody {
			st.deletes, _ = parseDeleteRequest(body) // the library reports a bad body
		}
	}
	ew := &errorWriter{ResponseWriter: w, st: st}
	s.fake.ServeHTTP(ew, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
	ew.finish()
}

// maxDeleteBody is the largest DeleteObjects body read (S3 allows 1000
// keys of 1024 bytes).
const maxDeleteBody = 10 << 20

// isAWSChunked reports whether the body is aws-chunked encoded.
func isAWSChunked(h http.Header) bool {
	if strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return true
	}
	for _, v := range h.Values("Content-Encoding") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "aws-chunked") {
				return true
			}
		}
	}
	return false
}

// decodeChunked replaces r's aws-chunked body with the decoded bytes and
// its headers with those of a plain upload of them (the signature has been
// checked already), so the library stores exactly the object's bytes. It
// answers the request itself and returns false when the headers are not
// usable.
func (s *Store) decodeChunked(w http.ResponseWriter, r *http.Request, st *reqState) bool {
	declared, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || declared < 0 {
		setRequestID(w)
		s3Error(w, r, "MissingContentLength", http.StatusLengthRequired, "An aws-chunked body needs a valid x-amz-decoded-content-length header.")
		return false
	}
	var signer *chunkSigner
	sha := r.Header.Get("X-Amz-Content-Sha256")
	if len(s.creds) > 0 && (sha == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" || sha == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
		signer = s.chunkSigner(r)
	}
	dec, err := newChunkDecoder(r.Body, declared, r.Header.Get("X-Amz-Trailer"), signer)
	if err != nil {
		setRequestID(w)
		s3Error(w, r, "InvalidRequest", http.StatusBadRequest, err.Error())
		return false
	}
	st.chunked = dec
	r.Body = struct {
		io.Reader
		io.Closer
	}{chunkReader{dec}, r.Body}
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	var enc []string
	for _, v := range r.Header.Values("Content-Encoding") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
				enc = append(enc, t)
			}
		}
	}
	r.Header.Del("Content-Encoding")
	if len(enc) > 0 {
		r.Header.Set("Content-Encoding", strings.Join(enc, ", "))
	}
	r.Header.Del("X-Amz-Decoded-Content-Length")
	r.Header.Del("X-Amz-Trailer")
	r.Header.Set("Content-Length", strconv.FormatInt(declared, 10))
	r.ContentLength = declared
	r.TransferEncoding = nil
	return true
}

// chunkSigner sets up the verification of a signed streaming upload's
// chunk signatures, from the request's (already verified) Authorization
// header; nil if it has none.
func (s *Store) chunkSigner(r *http.Request) *chunkSigner {
	auth := r.Header.Get("Authorization")
	var cred, sig string
	for _, f := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256"), ",") {
		f = strings.TrimSpace(f)
		if v, ok := strings.CutPrefix(f, "Credential="); ok {
			cred = v
		} else if v, ok := strings.CutPrefix(f, "Signature="); ok {
			sig = v
		}
	}
	parts := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	secret, ok := s.creds[parts[0]]
	if len(parts) != 5 || !ok || sig == "" {
		return nil
	}
	key := []byte("AWS4" + secret)
	for _, p := range parts[1:] {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(p))
		key = m.Sum(nil)
	}
	return &chunkSigner{key: key, amzDate: r.Header.Get("X-Amz-Date"), scope: strings.Join(parts[1:], "/"), prev: sig}
}

// parseCopySource splits x-amz-copy-source ("/bucket/key?versionId=id",
// URL-encoded, the leading slash optional).
func parseCopySource(src string) (bucket, key, versionID string) {
	path, query, _ := strings.Cut(src, "?")
	if q, err := url.ParseQuery(query); err == nil {
		versionID = q.Get("versionId")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	// Unescaped as the library does, so the two name the same key.
	if k, err := url.QueryUnescape(key); err == nil {
		key = k
	}
	return bucket, key, versionID
}

// hostBucket returns the bucket a virtual-hosted-style Host names, or "".
func hostBucket(host string, domains []string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if slices.Contains(domains, host) {
		return "" // s3.localhost itself is not bucket "s3" of localhost
	}
	for _, d := range domains {
		if b, ok := strings.CutSuffix(host, "."+d); ok && b != "" {
			return b
		}
	}
	return ""
}

func setRequestID(w http.ResponseWriter) {
	var b [8]byte
	rand.Read(b[:])
	id := strings.ToUpper(hex.EncodeToString(b[:]))
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(id+id+id)))
}

// --- objects.Source ---

// maxNearestKeys bounds how many keys a not-found error compares with.
const maxNearestKeys = 10000

// Get returns the bytes of bucket/key at versionID ("" for the latest
// version that is not a delete marker). Object.VersionID is "" on a bucket
// whose versioning was never enabled. A missing bucket, key or version is
// an *objects.NotFoundError naming the nearest existing key or bucket.
func (s *Store) Get(ctx context.Context, bucket, key, versionID string) (*objects.Object, error) {
	e, err := s.b.get(bucket, key, versionID)
	if err != nil {
		return nil, s.notFound(err, bucket, key, versionID)
	}
	data, err := s.b.readAll(e)
	if err != nil {
		return nil, fmt.Errorf("s3 store: s3://%s/%s: %w", bucket, key, err)
	}
	return &objects.Object{Bucket: bucket, Key: key, VersionID: e.VersionID, Bytes: data}, nil
}

// notFound turns a core lookup error into an *objects.NotFoundError.
func (s *Store) notFound(err error, bucket, key, versionID string) error {
	nf := &objects.NotFoundError{Bucket: bucket, Key: key, VersionID: versionID}
	switch {
	case errors.Is(err, objects.ErrNoSuchBucket):
		nf.Err = objects.ErrNoSuchBucket
		var names []string
		for _, b := range s.b.listBuckets() {
			names = append(names, b.Name)
		}
		nf.Nearest = suggest.Nearest(bucket, names)
	case errors.Is(err, objects.ErrNoSuchKey), errors.Is(err, errDeleteMarker):
		nf.Err = objects.ErrNoSuchKey
		nf.Nearest = s.nearestKey(bucket, key)
	case errors.Is(err, objects.ErrNoSuchVersion), errors.Is(err, errInvalidVersionID):
		nf.Err = objects.ErrNoSuchVersion
	default:
		return err
	}
	return nf
}

// nearestKey returns the existing key closest to key: the key without its
// leading slashes when that exists (S3 keys have none: "/crl/a.pem" is
// "crl/a.pem"), else the nearest by edit distance; "" if there are none.
func (s *Store) nearestKey(bucket, key string) string {
	keys, _ := s.b.keys(bucket, maxNearestKeys)
	if t := strings.TrimLeft(key, "/"); t != key && slices.Contains(keys, t) {
		return t
	}
	return suggest.Nearest(key, keys)
}

// Versioning returns the bucket's versioning status: "" (never enabled),
// "Enabled" or "Suspended".
func (s *Store) Versioning(ctx context.Context, bucket string) (string, error) {
	v, err := s.b.versioning(bucket)
	if err != nil {
		return "", s.notFound(err, bucket, "", "")
	}
	return v, nil
}

// Keys returns up to limit keys of bucket in order (every key when
// limit <= 0), leaving out keys whose latest version is a delete marker.
func (s *Store) Keys(ctx context.Context, bucket string, limit int) ([]string, error) {
	keys, err := s.b.keys(bucket, limit)
	if err != nil {
		return nil, s.notFound(err, bucket, "", "")
	}
	return keys, nil
}
