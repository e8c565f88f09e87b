// Package statedir keeps the state edge's AWS control planes persist: a
// state directory that the ELBv2 and API Gateway services share, each
// with its own JSON state file, and immutable blobs the states name by
// content.
//
//	<dir>/<name>                a state file (state.json, apigateway.json):
//	                            a JSON object whose "schema" member is its
//	                            version, replaced atomically (temporary file,
//	                            fsync, rename, directory fsync)
//	<dir>/blobs/sha256/<hex>    immutable copies of loaded bytes (bundles,
//	                            CRLs, truststores, certificates, keys), named
//	                            by the lowercase hex SHA-256 of their content
//
// A reader, or a crash, sees the old state file or the new one, never a
// part of one. An ephemeral store lives in a temporary directory that Close
// removes; it keeps blobs (configurations derived from a state name their
// files) but never writes a state file.
package statedir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store is an open state directory. Its methods may be called from
// several goroutines; writers of one state file must be serialised by the
// caller.
type Store struct {
	dir       string
	ephemeral bool
}

// Open opens the state directory dir, creating it and blobs/sha256 in it
// when missing.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// OpenEphemeral opens a store in a new temporary directory (named as
// os.MkdirTemp names it from pattern) that Close removes. Its Load always
// gives an empty state and its Save writes nothing.
func OpenEphemeral(pattern string) (*Store, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return nil, err
	}
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	s.ephemeral = true
	return s, nil
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

// BlobDir is the directory blobs are stored in (<dir>/blobs/sha256): a
// blob's file is filepath.Join(BlobDir(), hex SHA-256).
func (s *Store) BlobDir() string { return filepath.Join(s.dir, "blobs", "sha256") }

// Close removes an ephemeral store's directory; it does nothing otherwise.
func (s *Store) Close() error {
	if s.ephemeral {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// Load decodes the state file name into v, a pointer to an empty state.
// A missing file, and every file of an ephemeral store, leave v as it is.
//
// A file that does not decode is a *CorruptError; one whose "schema" is
// newer than newest is a *SchemaError (v is then decoded all the same: do
// not use it). Other read errors are returned as os.ReadFile gives them.
func (s *Store) Load(name string, newest int, v any) error {
	if s.ephemeral {
		return nil
	}
	path := filepath.Join(s.dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// v first: a file that does not decode is corrupt whatever its schema.
	if err := json.Unmarshal(b, v); err != nil {
		return &CorruptError{Path: path, Err: err}
	}
	var head struct {
		Schema int `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return &CorruptError{Path: path, Err: err}
	}
	if head.Schema > newest {
		return &SchemaError{Path: path, Schema: head.Schema, Newest: newest}
	}
	return nil
}

// Save writes v, indented JSON and a final newline, as the state file
// name: a temporary file beside it, fsynced, renamed over the old one, and
// the directory fsynced. On error the old file is unchanged. An ephemeral
// store writes nothing.
func (s *Store) Save(name string, v any) error {
	if s.ephemeral {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.dir, name), append(b, '\n'))
}

// Ref is a blob a state names, for CheckBlobs.
type Ref struct {
	SHA256 string // hex SHA-256 of the content
	// What names the blob in an error: where it was read from
	// ("s3://bucket/key"), or "blob <SHA256>".
	What string
}

// CheckBlobs returns a *MissingBlobError for the first of refs that the
// store does not hold; name is the state file that names them.
func (s *Store) CheckBlobs(name string, refs []Ref) error {
	for _, r := range refs {
		if _, err := os.Stat(filepath.Join(s.BlobDir(), r.SHA256)); err != nil {
			return &MissingBlobError{Path: filepath.Join(s.dir, name), What: r.What, Err: err}
		}
	}
	return nil
}

// PutBlob stores data (once per content) and returns its hex SHA-256.
// A blob is never rewritten: one already present is kept as it is.
func (s *Store) PutBlob(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	p := filepath.Join(s.BlobDir(), h)
	if _, err := os.Stat(p); err == nil {
		return h, nil
	}
	return h, writeAtomic(p, data)
}

// ReadBlob returns the bytes of the blob whose hex SHA-256 is sha.
func (s *Store) ReadBlob(sha string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.BlobDir(), sha))
}

// writeAtomic writes data to a temporary file in path's directory (mode
// 0600, as os.CreateTemp makes it), fsyncs it, renames it over path and
// fsyncs the directory so that the rename survives a crash.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
