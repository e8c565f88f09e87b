package s3store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// On-disk layout under the store's directory (the state directory's s3/):
//
//	buckets/<bucket>/meta.json                    bucketMeta
//	objects/<bucket>/<sha256(key) hex>/<id>.json  versionMeta (id "null" for the null version)
//	objects/<bucket>/<sha256(key) hex>/<file>.data the version's bytes (<id>.data, null.<seq>.data)
//	tmp/                                          files being written
//
// Every file is written to tmp/, fsynced and renamed into place, so a
// reader (or a crash) sees the old file or the new one, never a part. A
// version's record is its commit point: a data file no record names is
// left over from a crash and removed at the next load.

// LoadError is returned by New when a file in the store's directory cannot
// be used. Nothing is changed; move the file away (or restore it from a
// backup) and start again.
type LoadError struct {
	Path string // the file or directory
	Err  error  // what is wrong with it
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("s3 store: %s: %v (move it away or restore it, then start again)", e.Path, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// load reads the directory into the index, creating it if needed. What a
// crash left behind (temporary files, data files no record names, empty
// directories) is removed, but only once everything loaded: a load that
// fails changes nothing.
func (b *backend) load() error {
	for _, sub := range []string{"buckets", "objects", "tmp"} {
		if err := os.MkdirAll(filepath.Join(b.dir, sub), 0o755); err != nil {
			return err
		}
	}
	var leftovers []string
	// Files being written when edge stopped.
	if ents, err := os.ReadDir(filepath.Join(b.dir, "tmp")); err == nil {
		for _, e := range ents {
			leftovers = append(leftovers, filepath.Join(b.dir, "tmp", e.Name()))
		}
	}
	if err := b.loadDirs(&leftovers); err != nil {
		b.buckets = map[string]*bucket{}
		return err
	}
	// Deepest first, so directories are empty when their turn comes.
	slices.SortFunc(leftovers, func(x, y string) int { return len(y) - len(x) })
	for _, p := range leftovers {
		os.RemoveAll(p)
	}
	return nil
}

func (b *backend) loadDirs(leftovers *[]string) error {
	bdir := filepath.Join(b.dir, "buckets")
	ents, err := os.ReadDir(bdir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(bdir, e.Name(), "meta.json")
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			// A bucket whose deletion was cut short.
			*leftovers = append(*leftovers, filepath.Join(bdir, e.Name()))
			continue
		}
		if err != nil {
			return &LoadError{p, err}
		}
		m, err := parseBucketMeta(data)
		if err != nil {
			return &LoadError{p, err}
		}
		if m.Name != e.Name() {
			return &LoadError{p, fmt.Errorf("names bucket %q but is in the directory of %q", m.Name, e.Name())}
		}
		b.buckets[m.Name] = &bucket{name: m.Name, created: m.Created, versioning: m.Versioning, objects: map[string]*object{}}
	}
	odir := filepath.Join(b.dir, "objects")
	ents, err = os.ReadDir(odir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		bk := b.buckets[e.Name()]
		if bk == nil {
			// A bucket whose creation was cut short has an empty directory.
			p := filepath.Join(odir, e.Name())
			if sub, err := os.ReadDir(p); err != nil || len(sub) > 0 {
				return &LoadError{p, errors.New("objects of a bucket that has no buckets/<name>/meta.json")}
			}
			*leftovers = append(*leftovers, p)
			continue
		}
		if err := b.loadBucket(bk, leftovers); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) loadBucket(bk *bucket, leftovers *[]string) error {
	dir := filepath.Join(b.dir, "objects", bk.name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		kdir := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			return &LoadError{kdir, errors.New("not a key directory")}
		}
		obj, err := b.loadKey(kdir, e.Name(), leftovers)
		if err != nil {
			return err
		}
		if obj == nil {
			*leftovers = append(*leftovers, kdir)
			continue
		}
		bk.objects[obj.key] = obj
		bk.keys = append(bk.keys, obj.key)
	}
	slices.Sort(bk.keys)
	return nil
}

// loadKey reads one key's versions; nil if it has none left.
func (b *backend) loadKey(kdir, hashName string, leftovers *[]string) (*object, error) {
	files, err := os.ReadDir(kdir)
	if err != nil {
		return nil, err
	}
	var obj *object
	used := map[string]bool{}
	for _, f := range files {
		name := f.Name()
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		p := filepath.Join(kdir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, &LoadError{p, err}
		}
		m, err := parseVersionMeta(data)
		if err != nil {
			return nil, &LoadError{p, err}
		}
		if m.VersionID+".json" != name {
			return nil, &LoadError{p, fmt.Errorf("holds version %q", m.VersionID)}
		}
		if sum := sha256.Sum256([]byte(m.Key)); hex.EncodeToString(sum[:]) != hashName {
			return nil, &LoadError{p, fmt.Errorf("key %q does not hash to its directory name", clip(m.Key))}
		}
		v := &version{id: m.VersionID, seq: m.Seq, deleteMarker: m.DeleteMarker, size: m.Size,
			lastModified: m.LastModified, meta: m.Metadata, dataFile: m.DataFile}
		if !m.DeleteMarker {
			v.md5, _ = hex.DecodeString(m.MD5)
			dp := filepath.Join(kdir, m.DataFile)
			fi, err := os.Stat(dp)
			if err != nil {
				return nil, &LoadError{p, fmt.Errorf("its data file: %w", err)}
			}
			if fi.Size() != m.Size {
				return nil, &LoadError{dp, fmt.Errorf("has %d bytes, its record %s says %d", fi.Size(), name, m.Size)}
			}
			used[m.DataFile] = true
		}
		if obj == nil {
			obj = &object{key: m.Key}
		}
		obj.versions = append(obj.versions, v)
		b.seq = max(b.seq, m.Seq)
	}
	// Data files no record names: writes cut short.
	for _, f := range files {
		if name := f.Name(); strings.HasSuffix(name, ".data") && !used[name] {
			*leftovers = append(*leftovers, filepath.Join(kdir, name))
		}
	}
	if obj == nil {
		return nil, nil
	}
	slices.SortFunc(obj.versions, func(x, y *version) int {
		switch {
		case x.seq > y.seq:
			return -1
		case x.seq < y.seq:
			return 1
		}
		return 0
	})
	for i := 1; i < len(obj.versions); i++ {
		if obj.versions[i].seq == obj.versions[i-1].seq {
			return nil, &LoadError{kdir, fmt.Errorf("versions %q and %q have the same seq %d", obj.versions[i-1].id, obj.versions[i].id, obj.versions[i].seq)}
		}
	}
	return obj, nil
}

func (b *backend) writeBucketMeta(bk *bucket) error {
	data, err := json.MarshalIndent(bucketMeta{Format: recordFormat, Name: bk.name, Created: bk.created, Versioning: bk.versioning}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Join(b.dir, "buckets", bk.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return b.writeFileAtomic(filepath.Join(dir, "meta.json"), append(data, '\n'))
}

func (b *backend) writeVersion(bucketName, key string, v *version) error {
	m := versionMeta{Format: recordFormat, Key: key, VersionID: v.id, Seq: v.seq, DeleteMarker: v.deleteMarker,
		Size: v.size, LastModified: v.lastModified, Metadata: v.meta, DataFile: v.dataFile}
	if !v.deleteMarker {
		m.MD5 = hex.EncodeToString(v.md5)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return b.writeFileAtomic(filepath.Join(b.keyDir(bucketName, key), v.id+".json"), append(data, '\n'))
}

// writeFileAtomic writes data to path through a fsynced temporary file and
// a rename, then fsyncs path's directory.
func (b *backend) writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), "rec-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename or removal in dir durable. Best effort: some
// file systems refuse to fsync a directory, and the data itself is synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
