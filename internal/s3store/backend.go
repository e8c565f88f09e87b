package s3store

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"edge/internal/objects"
)

// The core store: buckets, object versions and delete markers, held in
// memory as an index and, when a directory is given, persisted under it.
// It knows nothing of HTTP or of the S3 library (fakes3.go adapts it).

// Errors of the core store besides objects.ErrNoSuchBucket, ErrNoSuchKey
// and ErrNoSuchVersion.
var (
	errBucketExists      = errors.New("BucketAlreadyExists")
	errBucketNotEmpty    = errors.New("BucketNotEmpty")
	errInvalidBucketName = errors.New("InvalidBucketName")
	errInvalidVersionID  = errors.New("invalid version id")
	errIncompleteBody    = errors.New("IncompleteBody")
	// errDeleteMarker: the version asked for is a delete marker. get
	// returns it with the marker's record.
	errDeleteMarker = errors.New("delete marker")
)

// version is one object version or delete marker.
type version struct {
	id           string // "null" or a 32-character id
	seq          uint64
	deleteMarker bool
	size         int64
	md5          []byte
	lastModified time.Time
	meta         map[string]string // never changed once stored: replaced whole
	dataFile     string            // base name in the key's directory (disk mode)
	data         []byte            // the bytes (memory mode)
}

// object is a key with its versions, newest first.
type object struct {
	key      string
	versions []*version
}

type bucket struct {
	name       string
	created    time.Time
	versioning string
	objects    map[string]*object
	keys       []string // sorted keys of objects
}

// backend is the core store. The zero value is not usable; see newBackend.
type backend struct {
	dir string // "" keeps everything in memory
	now func() time.Time

	mu      sync.RWMutex // guards everything below and the files under dir
	seq     uint64       // last sequence number given to a version
	buckets map[string]*bucket
}

// newBackend opens the store in dir ("" for memory), loading what is there.
func newBackend(dir string, now func() time.Time) (*backend, error) {
	b := &backend{dir: dir, now: now, buckets: map[string]*bucket{}}
	if dir != "" {
		if err := b.load(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// keyDir is the directory of key's versions in bucket.
func (b *backend) keyDir(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(b.dir, "objects", bucket, hex.EncodeToString(sum[:]))
}

// --- buckets ---

type bucketInfo struct {
	Name    string
	Created time.Time
}

func (b *backend) listBuckets() []bucketInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]bucketInfo, 0, len(b.buckets))
	for _, bk := range b.buckets {
		out = append(out, bucketInfo{bk.name, bk.created})
	}
	slices.SortFunc(out, func(x, y bucketInfo) int { return cmpString(x.Name, y.Name) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (b *backend) bucketExists(name string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.buckets[name] != nil
}

func (b *backend) createBucket(name string) error {
	if !validBucketName(name) {
		return errInvalidBucketName
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buckets[name] != nil {
		return errBucketExists
	}
	bk := &bucket{name: name, created: b.now().UTC(), objects: map[string]*object{}}
	if b.dir != "" {
		if err := os.MkdirAll(filepath.Join(b.dir, "objects", name), 0o755); err != nil {
			return err
		}
		if err := b.writeBucketMeta(bk); err != nil {
			return err
		}
	}
	b.buckets[name] = bk
	return nil
}

func (b *backend) deleteBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[name]
	if bk == nil {
		return objects.ErrNoSuchBucket
	}
	if len(bk.objects) > 0 {
		return errBucketNotEmpty
	}
	if b.dir != "" {
		// Objects first: a crash in between leaves an empty bucket, not
		// objects without a bucket.
		if err := os.RemoveAll(filepath.Join(b.dir, "objects", name)); err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(b.dir, "buckets", name)); err != nil {
			return err
		}
		syncDir(filepath.Join(b.dir, "buckets"))
	}
	delete(b.buckets, name)
	return nil
}

func (b *backend) versioning(name string) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	bk := b.buckets[name]
	if bk == nil {
		return "", objects.ErrNoSuchBucket
	}
	return bk.versioning, nil
}

// setVersioning sets a bucket's status to versioningEnabled or
// versioningSuspended (S3 never returns a bucket to unversioned).
func (b *backend) setVersioning(name, status string) error {
	if status != versioningEnabled && status != versioningSuspended {
		return fmt.Errorf("versioning status %q", status)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[name]
	if bk == nil {
		return objects.ErrNoSuchBucket
	}
	if bk.versioning == status {
		return nil
	}
	old := bk.versioning
	bk.versioning = status
	if b.dir != "" {
		if err := b.writeBucketMeta(bk); err != nil {
			bk.versioning = old
			return err
		}
	}
	return nil
}

// --- writes ---

// putResult is what a write made.
type putResult struct {
	versionID string // as S3 reports it: "" on a never-versioned bucket
	md5       []byte
	size      int64
	modified  time.Time
}

// wireVersionID is the version id S3 reports for v in bk: none on a bucket
// whose versioning was never enabled.
func wireVersionID(bk *bucket, v *version) string {
	if bk.versioning == versioningNone {
		return ""
	}
	return v.id
}

// put stores body (size bytes, or up to EOF when size < 0) as the new
// latest version of key. finish, if not nil, runs once the body has been
// read completely and may add metadata (a trailer checksum). A read error
// is returned as it is and stores nothing.
func (b *backend) put(bucketName, key string, meta map[string]string, body io.Reader, size int64, finish func(map[string]string)) (putResult, error) {
	if !b.bucketExists(bucketName) {
		return putResult{}, objects.ErrNoSuchBucket
	}
	sum := md5.New()
	var data []byte
	var tmp *os.File
	var n int64
	var err error
	if b.dir == "" {
		var buf bytes.Buffer
		n, err = io.Copy(&buf, io.TeeReader(body, sum))
		data = buf.Bytes()
	} else {
		tmp, err = os.CreateTemp(filepath.Join(b.dir, "tmp"), "put-*")
		if err != nil {
			return putResult{}, err
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		n, err = io.Copy(io.MultiWriter(tmp, sum), body)
		if err == nil {
			err = tmp.Sync()
		}
	}
	if err != nil {
		return putResult{}, err
	}
	if size >= 0 && n != size {
		return putResult{}, errIncompleteBody
	}
	meta = maps.Clone(meta)
	if meta == nil {
		meta = map[string]string{}
	}
	if finish != nil {
		finish(meta)
	}
	v := &version{size: n, md5: sum.Sum(nil), lastModified: b.now().UTC(), meta: meta, data: data}

	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[bucketName]
	if bk == nil {
		return putResult{}, objects.ErrNoSuchBucket
	}
	if err := b.commit(bk, key, v, tmp); err != nil {
		return putResult{}, err
	}
	tmp = nil // renamed into place
	return putResult{versionID: wireVersionID(bk, v), md5: v.md5, size: v.size, modified: v.lastModified}, nil
}

// commit gives v its id and sequence number and makes it key's latest
// version, replacing the null version if v is one. data is v's data file
// in tmp (disk mode; nil for a delete marker). Caller holds b.mu.
func (b *backend) commit(bk *bucket, key string, v *version, data *os.File) error {
	if bk.versioning == versioningEnabled {
		v.id = newVersionID()
	} else {
		v.id = nullVersion
	}
	b.seq++
	v.seq = b.seq
	obj := bk.objects[key]
	var replaced *version
	if obj != nil && v.id == nullVersion {
		if i := slices.IndexFunc(obj.versions, func(x *version) bool { return x.id == nullVersion }); i >= 0 {
			replaced = obj.versions[i]
		}
	}
	if b.dir != "" {
		dir := b.keyDir(bk.name, key)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if data != nil {
			v.dataFile = v.id + ".data"
			if v.id == nullVersion {
				// The null version is rewritten in place: a new data file
				// name keeps the old record valid until the new one lands.
				v.dataFile = nullVersion + "." + strconv.FormatUint(v.seq, 10) + ".data"
			}
			if err := data.Close(); err != nil {
				return err
			}
			if err := os.Rename(data.Name(), filepath.Join(dir, v.dataFile)); err != nil {
				return err
			}
		}
		if err := b.writeVersion(bk.name, key, v); err != nil {
			if data != nil {
				os.Remove(filepath.Join(dir, v.dataFile))
			}
			return err
		}
		if replaced != nil && replaced.dataFile != "" && replaced.dataFile != v.dataFile {
			os.Remove(filepath.Join(dir, replaced.dataFile))
		}
	}
	if obj == nil {
		obj = &object{key: key}
		bk.objects[key] = obj
		i, _ := slices.BinarySearch(bk.keys, key)
		bk.keys = slices.Insert(bk.keys, i, key)
	}
	if replaced != nil {
		obj.versions = slices.DeleteFunc(obj.versions, func(x *version) bool { return x == replaced })
	}
	obj.versions = slices.Insert(obj.versions, 0, v)
	return nil
}

// deleteResult is what a delete did, as S3 reports it.
type deleteResult struct {
	versionID    string // the marker made or the version removed; "" if none
	deleteMarker bool   // a marker was made, or the version removed was one
}

// deleteObject deletes key without a version id: on a never-versioned
// bucket it removes the object; otherwise it adds a delete marker (with a
// new id when Enabled; as the null version, replacing any, when Suspended),
// even when the key does not exist, as S3 does.
func (b *backend) deleteObject(bucketName, key string) (deleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[bucketName]
	if bk == nil {
		return deleteResult{}, objects.ErrNoSuchBucket
	}
	if bk.versioning == versioningNone {
		obj := bk.objects[key]
		if obj == nil {
			return deleteResult{}, nil
		}
		for _, v := range slices.Clone(obj.versions) {
			if err := b.removeVersion(bk, obj, v); err != nil {
				return deleteResult{}, err
			}
		}
		return deleteResult{}, nil
	}
	v := &version{deleteMarker: true, lastModified: b.now().UTC()}
	if err := b.commit(bk, key, v, nil); err != nil {
		return deleteResult{}, err
	}
	return deleteResult{versionID: v.id, deleteMarker: true}, nil
}

// deleteVersion removes one version (or delete marker) for good. A version
// that is not there is no error (S3 answers 204 too).
func (b *backend) deleteVersion(bucketName, key, id string) (deleteResult, error) {
	if !validVersionID(id) {
		return deleteResult{}, errInvalidVersionID
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[bucketName]
	if bk == nil {
		return deleteResult{}, objects.ErrNoSuchBucket
	}
	obj := bk.objects[key]
	if obj == nil {
		return deleteResult{}, nil
	}
	i := slices.IndexFunc(obj.versions, func(x *version) bool { return x.id == id })
	if i < 0 {
		return deleteResult{}, nil
	}
	v := obj.versions[i]
	if err := b.removeVersion(bk, obj, v); err != nil {
		return deleteResult{}, err
	}
	return deleteResult{versionID: id, deleteMarker: v.deleteMarker}, nil
}

// removeVersion deletes v of obj, and obj when it was the last version.
// Caller holds b.mu.
func (b *backend) removeVersion(bk *bucket, obj *object, v *version) error {
	if b.dir != "" {
		dir := b.keyDir(bk.name, obj.key)
		// The record first: without it the data file is an orphan, which
		// the next load removes.
		if err := os.Remove(filepath.Join(dir, v.id+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if v.dataFile != "" {
			os.Remove(filepath.Join(dir, v.dataFile))
		}
		if len(obj.versions) == 1 {
			os.Remove(dir)
		}
		syncDir(dir)
	}
	obj.versions = slices.DeleteFunc(obj.versions, func(x *version) bool { return x == v })
	if len(obj.versions) == 0 {
		delete(bk.objects, obj.key)
		if i, ok := slices.BinarySearch(bk.keys, obj.key); ok {
			bk.keys = slices.Delete(bk.keys, i, i+1)
		}
	}
	return nil
}

// setMeta replaces the metadata of key's version id ("" for the latest),
// keeping its bytes (PutObjectTagging).
func (b *backend) setMeta(bucketName, key, id string, change func(map[string]string)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, v, err := b.find(bucketName, key, id)
	if err != nil {
		return err
	}
	meta := maps.Clone(v.meta)
	if meta == nil {
		meta = map[string]string{}
	}
	change(meta)
	nv := *v
	nv.meta = meta
	if b.dir != "" {
		if err := b.writeVersion(bk.name, key, &nv); err != nil {
			return err
		}
	}
	v.meta = meta
	return nil
}

// --- reads ---

// entry is a version as read: a copy safe to use after the lock is gone.
type entry struct {
	Key          string
	VersionID    string // as S3 reports it: "" on a never-versioned bucket
	IsLatest     bool
	DeleteMarker bool
	Size         int64
	MD5          []byte
	LastModified time.Time
	Meta         map[string]string // shared; do not change
	path         string            // data file (disk mode)
	data         []byte            // bytes (memory mode)
}

func makeEntry(bk *bucket, obj *object, v *version, dir string) entry {
	e := entry{
		Key: obj.key, VersionID: wireVersionID(bk, v), IsLatest: obj.versions[0] == v,
		DeleteMarker: v.deleteMarker, Size: v.size, MD5: v.md5, LastModified: v.lastModified,
		Meta: v.meta, data: v.data,
	}
	if dir != "" && v.dataFile != "" {
		e.path = filepath.Join(dir, v.dataFile)
	}
	return e
}

// find returns key's version id ("" for the latest). Caller holds b.mu.
func (b *backend) find(bucketName, key, id string) (*bucket, *version, error) {
	if id != "" && !validVersionID(id) {
		return nil, nil, errInvalidVersionID
	}
	bk := b.buckets[bucketName]
	if bk == nil {
		return nil, nil, objects.ErrNoSuchBucket
	}
	obj := bk.objects[key]
	if obj == nil {
		if id != "" {
			return bk, nil, objects.ErrNoSuchVersion
		}
		return bk, nil, objects.ErrNoSuchKey
	}
	if id == "" {
		return bk, obj.versions[0], nil
	}
	for _, v := range obj.versions {
		if v.id == id {
			return bk, v, nil
		}
	}
	return bk, nil, objects.ErrNoSuchVersion
}

// get returns key's version id ("" for the latest). When that is a delete
// marker the error is errDeleteMarker (with the marker's entry) for a
// version asked by id, objects.ErrNoSuchKey for the latest.
func (b *backend) get(bucketName, key, id string) (entry, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	bk, v, err := b.find(bucketName, key, id)
	if err != nil {
		return entry{}, err
	}
	dir := ""
	if b.dir != "" {
		dir = b.keyDir(bucketName, key)
	}
	e := makeEntry(bk, bk.objects[key], v, dir)
	if v.deleteMarker {
		if id == "" {
			return e, objects.ErrNoSuchKey
		}
		return e, errDeleteMarker
	}
	return e, nil
}

// open returns n bytes of e's data from offset off.
func (b *backend) open(e entry, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n < 0 || off+n > e.Size {
		return nil, fmt.Errorf("range %d+%d outside %d bytes", off, n, e.Size)
	}
	if e.path == "" {
		return io.NopCloser(bytes.NewReader(e.data[off : off+n])), nil
	}
	// An open file stays readable if the version is deleted meanwhile.
	f, err := os.Open(e.path)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, off, n), f}, nil
}

// readAll returns e's bytes.
func (b *backend) readAll(e entry) ([]byte, error) {
	rc, err := b.open(e, 0, e.Size)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out := make([]byte, e.Size)
	if _, err := io.ReadFull(rc, out); err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.path, err)
	}
	return out, nil
}

// walkLatest calls fn for the latest version of each key after after (or
// from it, when inclusive), in key order, until fn returns false. Delete
// markers are included (callers skip them). fn runs under the read lock:
// it must not call b.
func (b *backend) walkLatest(bucketName, after string, inclusive bool, fn func(e entry) bool) error {
	return b.walk(bucketName, after, inclusive, func(bk *bucket, obj *object) bool {
		return fn(makeEntry(bk, obj, obj.versions[0], ""))
	})
}

// walkVersions calls fn with every version of each key (newest first)
// after after (or from it, when inclusive), in key order, until fn returns
// false. Version ids are never "": "null" on a never-versioned bucket.
func (b *backend) walkVersions(bucketName, after string, inclusive bool, fn func(key string, vs []entry) bool) error {
	return b.walk(bucketName, after, inclusive, func(bk *bucket, obj *object) bool {
		vs := make([]entry, len(obj.versions))
		for i, v := range obj.versions {
			vs[i] = makeEntry(bk, obj, v, "")
			if vs[i].VersionID == "" {
				vs[i].VersionID = nullVersion
			}
		}
		return fn(obj.key, vs)
	})
}

func (b *backend) walk(bucketName, after string, inclusive bool, fn func(*bucket, *object) bool) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	bk := b.buckets[bucketName]
	if bk == nil {
		return objects.ErrNoSuchBucket
	}
	i, found := slices.BinarySearch(bk.keys, after)
	if found && !inclusive {
		i++
	}
	for ; i < len(bk.keys); i++ {
		if !fn(bk, bk.objects[bk.keys[i]]) {
			break
		}
	}
	return nil
}

// keys returns up to limit keys (all when limit <= 0) whose latest version
// is not a delete marker, in order.
func (b *backend) keys(bucketName string, limit int) ([]string, error) {
	var out []string
	err := b.walkLatest(bucketName, "", false, func(e entry) bool {
		if !e.DeleteMarker {
			out = append(out, e.Key)
		}
		return limit <= 0 || len(out) < limit
	})
	return out, err
}
