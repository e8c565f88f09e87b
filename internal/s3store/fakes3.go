package s3store

// This is the only file that uses github.com/rclone/gofakes3 (pinned at
// v0.0.12 in go.mod): the library's HTTP front end serves the S3 REST-XML
// protocol over edge's own core store (backend.go). A change of the
// library's v0.0.x API is absorbed here.

import (
	"context"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/rclone/gofakes3"
	"github.com/rclone/gofakes3/signature"

	"edge/internal/objects"
)

// newFake builds the library's S3 handler over b.
func newFake(b *backend) http.Handler {
	// Requests for a missing bucket fail, as at AWS: WithAutoBucket is not
	// passed (v0.0.12 turns auto-creation on whatever its argument).
	//
	// No clock-skew check of its own: with credentials the signature
	// verifier refuses a request signed more than 15 minutes off (as AWS
	// does); without, any request is accepted (as LocalStack does), so a
	// drifting clock or a replayed capture is not refused.
	return gofakes3.New(&fakeBackend{b: b}, gofakes3.WithTimeSkewLimit(0)).Server()
}

// verifySignature checks r's SigV4 signature (Authorization header or
// presigned query) against the secret of its access key ID in creds, with
// the library's verifier (what its WithV4Auth option runs). It returns
// "" when the signature is good, else the S3 error code, HTTP status and
// message to answer.
func verifySignature(r *http.Request, creds map[string]string) (code string, status int, msg string) {
	res := signature.V4SignVerifyWithLookup(r, func(akid string) (string, bool) {
		s, ok := creds[akid]
		return s, ok
	})
	if res == signature.ErrNone {
		return "", 0, ""
	}
	e := signature.GetAPIError(res)
	return e.Code, e.HTTPStatusCode, e.Description
}

// reqState carries what the HTTP front (store.go) learnt of a request to
// the backend methods below, through the request's context: the library
// drops some of it (the versionId "null", versionId on HEAD, the copy
// source's versionId, DeleteObjects version ids) and has no way to carry
// a checksum sent in an aws-chunked trailer.
type reqState struct {
	header      http.Header // the response's headers, set before the library writes them
	method      string
	bucket, key string // the request's target, after virtual-host rewriting

	version    string // ?versionId of a GET, HEAD or DELETE ("null" included)
	hasVersion bool

	copyBucket, copyKey, copyVersion string // x-amz-copy-source with a versionId

	chunked *chunkDecoder // the decoded aws-chunked body, nil if none

	errStatus int // HTTP status of the error answered, when not the library's

	deletes []deleteEntry // a DeleteObjects body's entries, consumed in order
}

type deleteEntry struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
	used      bool
}

type stateKey struct{}

func stateOf(ctx context.Context) *reqState {
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok {
		return st
	}
	return &reqState{header: http.Header{}}
}

// targets reports whether the request is about bucket/key itself.
func (st *reqState) targets(bucket, key string) bool {
	return st.bucket == bucket && st.key == key
}

// parseDeleteRequest reads the keys and version ids of a DeleteObjects body.
func parseDeleteRequest(body []byte) ([]deleteEntry, error) {
	var in struct {
		Objects []deleteEntry `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	return in.Objects, nil
}

// chunkReader turns the decoder's errors into the S3 errors a client
// expects; the library passes them on as they are.
type chunkReader struct{ d *chunkDecoder }

func (c chunkReader) Read(p []byte) (int, error) {
	n, err := c.d.Read(p)
	var ce *chunkError
	if errors.As(err, &ce) {
		switch ce.Kind {
		case chunkBadDigest:
			err = gofakes3.ErrorMessage(gofakes3.ErrBadDigest, "The "+strings.ToUpper(c.d.algo)+" you specified did not match the calculated checksum.")
		case chunkSignature:
			err = gofakes3.ErrorMessage(gofakes3.ErrorCode("SignatureDoesNotMatch"), "The request signature we calculated does not match the signature you provided: "+ce.Msg+".")
		case chunkBadTrailer:
			err = gofakes3.ErrorMessage(gofakes3.ErrInvalidRequest, ce.Msg+".")
		default:
			err = gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, "The aws-chunked body is not valid: "+ce.Msg+".")
		}
	}
	return n, err
}

// s3Error answers an error before the library runs, in S3's XML shape.
func s3Error(w http.ResponseWriter, r *http.Request, code string, status int, msg string) {
	if status == 0 {
		status = gofakes3.ErrorCode(code).Status()
	}
	if msg == "" {
		msg = standardMessage(code, status)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	body, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: code, Message: msg, RequestID: w.Header().Get("x-amz-request-id")})
	io.WriteString(w, xml.Header)
	w.Write(body)
}

// fakeBackend adapts the core store to the library's Backend,
// VersionedBackend and ObjectTaggingBackend.
type fakeBackend struct{ b *backend }

var (
	_ gofakes3.Backend              = (*fakeBackend)(nil)
	_ gofakes3.VersionedBackend     = (*fakeBackend)(nil)
	_ gofakes3.ObjectTaggingBackend = (*fakeBackend)(nil)
)

// s3Err maps a core error to the library's error values (which it renders
// by type, so they are never wrapped). Other errors pass as they are: the
// library's own (a BadDigest from its checksum reader) or I/O errors (500).
func s3Err(err error, bucket, key string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, objects.ErrNoSuchBucket):
		return gofakes3.BucketNotFound(bucket)
	case errors.Is(err, objects.ErrNoSuchKey):
		return gofakes3.KeyNotFound(key)
	case errors.Is(err, objects.ErrNoSuchVersion):
		return gofakes3.ErrorMessage(gofakes3.ErrNoSuchVersion, "The specified version does not exist.")
	case errors.Is(err, errBucketExists):
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, bucket)
	case errors.Is(err, errBucketNotEmpty):
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, bucket)
	case errors.Is(err, errInvalidBucketName):
		return gofakes3.ResourceError(gofakes3.ErrInvalidBucketName, bucket)
	case errors.Is(err, errInvalidVersionID):
		return gofakes3.ErrorInvalidArgument("versionId", "", "Invalid version id specified")
	case errors.Is(err, errIncompleteBody):
		return gofakes3.ErrIncompleteBody
	case errors.Is(err, errDeleteMarker):
		return gofakes3.ErrorMessage(gofakes3.ErrMethodNotAllowed, "The specified method is not allowed against this resource.")
	}
	return err
}

func (f *fakeBackend) ListBuckets(ctx context.Context) ([]gofakes3.BucketInfo, error) {
	var out []gofakes3.BucketInfo
	for _, b := range f.b.listBuckets() {
		out = append(out, gofakes3.BucketInfo{Name: b.Name, CreationDate: gofakes3.NewContentTime(b.Created)})
	}
	return out, nil
}

// ListBucket lists the latest versions that are not delete markers,
// prefix/delimiter grouped, page.MaxKeys at most (entries and common
// prefixes together), after page.Marker.
func (f *fakeBackend) ListBucket(ctx context.Context, name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	out := gofakes3.NewObjectList()
	start, inclusive := page.Marker, false
	if prefix.HasPrefix && prefix.Prefix > start {
		start, inclusive = prefix.Prefix, true
	}
	var match gofakes3.PrefixMatch
	var count int64
	last, lastPrefix := "", ""
	err := f.b.walkLatest(name, start, inclusive, func(e entry) bool {
		if prefix.HasPrefix && !strings.HasPrefix(e.Key, prefix.Prefix) {
			return e.Key < prefix.Prefix // sorted: past the prefix, nothing more matches
		}
		if e.DeleteMarker || !prefix.Match(e.Key, &match) {
			return true
		}
		item := e.Key
		if match.CommonPrefix {
			item = match.MatchedPart
			if item == lastPrefix || page.HasMarker && item <= page.Marker {
				return true
			}
		}
		if page.MaxKeys > 0 && count == page.MaxKeys {
			out.IsTruncated = true
			return false
		}
		if match.CommonPrefix {
			out.AddPrefix(item)
			lastPrefix = item
		} else {
			out.Add(&gofakes3.Content{
				Key:          e.Key,
				LastModified: gofakes3.NewContentTime(e.LastModified),
				ETag:         `"` + hex.EncodeToString(e.MD5) + `"`,
				Size:         e.Size,
				StorageClass: gofakes3.StorageStandard,
			})
		}
		count++
		last = item
		return true
	})
	if err != nil {
		return nil, s3Err(err, name, "")
	}
	if out.IsTruncated {
		out.NextMarker = last
	}
	return out, nil
}

func (f *fakeBackend) CreateBucket(ctx context.Context, name string) error {
	return s3Err(f.b.createBucket(name), name, "")
}

func (f *fakeBackend) BucketExists(ctx context.Context, name string) (bool, error) {
	return f.b.bucketExists(name), nil
}

func (f *fakeBackend) DeleteBucket(ctx context.Context, name string) error {
	return s3Err(f.b.deleteBucket(name), name, "")
}

// object turns an entry into the library's Object, with its bytes (or the
// range of them asked for) when withBody.
func (f *fakeBackend) object(e entry, rng *gofakes3.ObjectRangeRequest, withBody bool) (*gofakes3.Object, error) {
	obj := &gofakes3.Object{
		Name:      e.Key,
		Metadata:  e.Meta,
		Size:      e.Size,
		Hash:      e.MD5,
		VersionID: gofakes3.VersionID(e.VersionID),
		Contents:  io.NopCloser(strings.NewReader("")),
	}
	if !withBody {
		return obj, nil
	}
	r, err := rng.Range(e.Size)
	if err != nil {
		return nil, err
	}
	off, n := int64(0), e.Size
	if r != nil {
		off, n = r.Start, r.Length
	}
	rc, err := f.b.open(e, off, n)
	if err != nil {
		return nil, err
	}
	obj.Range, obj.Contents = r, rc
	return obj, nil
}

// read is GetObject and HeadObject: the version the request names when it
// is about this object (the library drops versionId=null, and versionId
// on HEAD), else the latest. For a delete marker the response says so, as
// S3's does, with x-amz-delete-marker and the marker's version id.
func (f *fakeBackend) read(ctx context.Context, bucket, key, id string, rng *gofakes3.ObjectRangeRequest, withBody bool) (*gofakes3.Object, error) {
	st := stateOf(ctx)
	switch {
	case id != "":
	case st.method == http.MethodPut && st.copyVersion != "" && st.copyBucket == bucket && st.copyKey == key:
		id = st.copyVersion
	case st.hasVersion && st.targets(bucket, key):
		id = st.version
	}
	e, err := f.b.get(bucket, key, id)
	if err != nil {
		if e.DeleteMarker && st.targets(bucket, key) && (st.method == http.MethodGet || st.method == http.MethodHead) {
			st.header.Set("x-amz-delete-marker", "true")
			if e.VersionID != "" {
				st.header.Set("x-amz-version-id", e.VersionID)
			}
			if errors.Is(err, errDeleteMarker) {
				st.errStatus = http.StatusMethodNotAllowed // as S3; the library says 400
			}
		}
		return nil, s3Err(err, bucket, key)
	}
	return f.object(e, rng, withBody)
}

func (f *fakeBackend) GetObject(ctx context.Context, bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return f.read(ctx, bucket, key, "", rng, true)
}

func (f *fakeBackend) HeadObject(ctx context.Context, bucket, key string) (*gofakes3.Object, error) {
	return f.read(ctx, bucket, key, "", nil, false)
}

func (f *fakeBackend) GetObjectVersion(bucket, key string, id gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return f.read(context.Background(), bucket, key, string(id), rng, true)
}

func (f *fakeBackend) HeadObjectVersion(bucket, key string, id gofakes3.VersionID) (*gofakes3.Object, error) {
	return f.read(context.Background(), bucket, key, string(id), nil, false)
}

// PutObject stores a new version. The checksum of an aws-chunked trailer,
// verified by the decoder once the body is read, is stored with it and
// answered, like a checksum sent as a header.
func (f *fakeBackend) PutObject(ctx context.Context, bucket, key string, meta map[string]string, input io.Reader, size int64) (gofakes3.PutObjectResult, error) {
	st := stateOf(ctx)
	res, err := f.b.put(bucket, key, meta, input, size, func(meta map[string]string) {
		if st.chunked != nil && st.targets(bucket, key) {
			if name, value := st.chunked.Checksum(); name != "" {
				meta[name] = value
				st.header.Set(name, value)
			}
		}
	})
	if err != nil {
		return gofakes3.PutObjectResult{}, s3Err(err, bucket, key)
	}
	return gofakes3.PutObjectResult{VersionID: gofakes3.VersionID(res.versionID)}, nil
}

// CopyObject copies the source version (the one x-amz-copy-source names,
// else the latest) with meta, keeping the source's checksums, and answers
// the new version's id, which the library leaves out.
func (f *fakeBackend) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	st := stateOf(ctx)
	id := ""
	if st.copyVersion != "" && st.copyBucket == srcBucket && st.copyKey == srcKey {
		id = st.copyVersion
	}
	e, err := f.b.get(srcBucket, srcKey, id)
	if err != nil {
		return gofakes3.CopyObjectResult{}, s3Err(err, srcBucket, srcKey)
	}
	rc, err := f.b.open(e, 0, e.Size)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	defer rc.Close()
	res, err := f.b.put(dstBucket, dstKey, meta, rc, e.Size, func(m map[string]string) {
		for k, v := range e.Meta {
			if strings.HasPrefix(textproto.CanonicalMIMEHeaderKey(k), "X-Amz-Checksum-") {
				m[k] = v
			}
		}
	})
	if err != nil {
		return gofakes3.CopyObjectResult{}, s3Err(err, dstBucket, dstKey)
	}
	if res.versionID != "" && st.targets(dstBucket, dstKey) {
		st.header.Set("x-amz-version-id", res.versionID)
	}
	return gofakes3.CopyObjectResult{
		ETag:         `"` + hex.EncodeToString(res.md5) + `"`,
		LastModified: gofakes3.NewContentTime(res.modified),
	}, nil
}

// DeleteObject deletes the latest version (a delete marker on a versioned
// bucket), or the version the request names when the library dropped it
// (versionId=null).
func (f *fakeBackend) DeleteObject(ctx context.Context, bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	st := stateOf(ctx)
	var res deleteResult
	var err error
	if st.hasVersion && st.targets(bucket, key) {
		res, err = f.b.deleteVersion(bucket, key, st.version)
	} else {
		res, err = f.b.deleteObject(bucket, key)
	}
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, s3Err(err, bucket, key)
	}
	return gofakes3.ObjectDeleteResult{IsDeleteMarker: res.deleteMarker, VersionID: gofakes3.VersionID(res.versionID)}, nil
}

func (f *fakeBackend) DeleteObjectVersion(bucket, key string, id gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	res, err := f.b.deleteVersion(bucket, key, string(id))
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, s3Err(err, bucket, key)
	}
	return gofakes3.ObjectDeleteResult{IsDeleteMarker: res.deleteMarker, VersionID: gofakes3.VersionID(res.versionID)}, nil
}

// DeleteMulti deletes each key, or the version the DeleteObjects body
// gives for it (the library passes keys only).
func (f *fakeBackend) DeleteMulti(ctx context.Context, bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	st := stateOf(ctx)
	var out gofakes3.MultiDeleteResult
	for _, key := range keys {
		id := ""
		for i := range st.deletes {
			if d := &st.deletes[i]; !d.used && d.Key == key {
				d.used, id = true, d.VersionID
				break
			}
		}
		var res deleteResult
		var err error
		if id != "" {
			res, err = f.b.deleteVersion(bucket, key, id)
		} else {
			res, err = f.b.deleteObject(bucket, key)
		}
		if err != nil {
			er := gofakes3.ErrorResultFromError(s3Err(err, bucket, key))
			er.Key = key
			out.Error = append(out.Error, er)
			continue
		}
		out.Deleted = append(out.Deleted, gofakes3.ObjectID{Key: key, VersionID: res.versionID})
	}
	return out, nil
}

func (f *fakeBackend) VersioningConfiguration(bucket string) (gofakes3.VersioningConfiguration, error) {
	s, err := f.b.versioning(bucket)
	if err != nil {
		return gofakes3.VersioningConfiguration{}, s3Err(err, bucket, "")
	}
	return gofakes3.VersioningConfiguration{Status: gofakes3.VersioningStatus(s)}, nil
}

func (f *fakeBackend) SetVersioningConfiguration(bucket string, v gofakes3.VersioningConfiguration) error {
	if v.MFADelete.Enabled() {
		return gofakes3.ErrorMessage(gofakes3.ErrNotImplemented, "MFA delete is not emulated.")
	}
	switch v.Status {
	case gofakes3.VersioningEnabled, gofakes3.VersioningSuspended:
		return s3Err(f.b.setVersioning(bucket, string(v.Status)), bucket, "")
	}
	// No status: nothing to change (S3 keeps the current one).
	if !f.b.bucketExists(bucket) {
		return gofakes3.BucketNotFound(bucket)
	}
	return nil
}

// ListBucketVersions lists every version and delete marker, keys in order
// and each key's versions newest first, page.MaxKeys at most, after
// page.KeyMarker (and page.VersionIDMarker within that key).
func (f *fakeBackend) ListBucketVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	if page == nil {
		page = &gofakes3.ListBucketVersionsPage{}
	}
	out := gofakes3.NewListBucketVersionsResult(bucket, prefix, page)
	start, inclusive := page.KeyMarker, page.HasVersionIDMarker
	if prefix.HasPrefix && prefix.Prefix > start {
		start, inclusive = prefix.Prefix, true
	}
	var match gofakes3.PrefixMatch
	var count int64
	lastKey, lastVersion := "", ""
	full := func() bool {
		if page.MaxKeys > 0 && count == page.MaxKeys {
			out.IsTruncated = true
			return true
		}
		return false
	}
	err := f.b.walkVersions(bucket, start, inclusive, func(key string, vs []entry) bool {
		if prefix.HasPrefix && !strings.HasPrefix(key, prefix.Prefix) {
			return key < prefix.Prefix
		}
		if !prefix.Match(key, &match) {
			return true
		}
		if match.CommonPrefix {
			p := match.MatchedPart
			if p == lastKey || page.HasKeyMarker && p <= page.KeyMarker {
				return true
			}
			if full() {
				return false
			}
			out.AddPrefix(p)
			count++
			lastKey, lastVersion = p, ""
			return true
		}
		skipping := page.HasVersionIDMarker && key == page.KeyMarker
		for _, v := range vs {
			if skipping {
				skipping = v.VersionID != string(page.VersionIDMarker)
				continue
			}
			if full() {
				return false
			}
			if v.DeleteMarker {
				out.Versions = append(out.Versions, &gofakes3.DeleteMarker{
					Key: key, VersionID: gofakes3.VersionID(v.VersionID), IsLatest: v.IsLatest,
					LastModified: gofakes3.NewContentTime(v.LastModified),
				})
			} else {
				out.Versions = append(out.Versions, &gofakes3.Version{
					Key: key, VersionID: gofakes3.VersionID(v.VersionID), IsLatest: v.IsLatest,
					LastModified: gofakes3.NewContentTime(v.LastModified), Size: v.Size,
					StorageClass: gofakes3.StorageStandard, ETag: `"` + hex.EncodeToString(v.MD5) + `"`,
				})
			}
			count++
			lastKey, lastVersion = key, v.VersionID
		}
		return true
	})
	if err != nil {
		return nil, s3Err(err, bucket, "")
	}
	if out.IsTruncated {
		out.NextKeyMarker = lastKey
		out.NextVersionIDMarker = gofakes3.VersionID(lastVersion)
	}
	return out, nil
}

// SetObjectTagging replaces the tags of the latest version (or the one the
// request names).
func (f *fakeBackend) SetObjectTagging(ctx context.Context, bucket, key string, tagging string) error {
	st := stateOf(ctx)
	id := ""
	if st.hasVersion && st.targets(bucket, key) {
		id = st.version
	}
	err := f.b.setMeta(bucket, key, id, func(m map[string]string) {
		if tagging == "" {
			delete(m, gofakes3.TaggingMetadataKey)
		} else {
			m[gofakes3.TaggingMetadataKey] = tagging
		}
	})
	return s3Err(err, bucket, key)
}
