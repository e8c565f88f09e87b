package apigateway

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

// Store persists the state in a state directory shared with the other
// services (ELBv2 writes state.json there):
//
//	<dir>/apigateway.json       the State (schema-versioned), replaced
//	                            atomically (temp file, fsync, rename)
//	<dir>/blobs/sha256/<hex>    immutable copies of truststores and of
//	                            imported certificates and keys
//
// An ephemeral store keeps blobs in a temporary directory and never writes
// apigateway.json.
type Store struct {
	dir       string
	ephemeral bool
}

// StateFile is the state's file name in the state directory.
const StateFile = "apigateway.json"

// OpenStore opens (creating) the state directory dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// OpenEphemeral opens a store in a new temporary directory that Close
// removes; apigateway.json is never written.
func OpenEphemeral() (*Store, error) {
	dir, err := os.MkdirTemp("", "edge-apigw-state-")
	if err != nil {
		return nil, err
	}
	s, err := OpenStore(dir)
	if err != nil {
		return nil, err
	}
	s.ephemeral = true
	return s, nil
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

// Close removes an ephemeral store's directory; it does nothing otherwise.
func (s *Store) Close() error {
	if s.ephemeral {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// Load reads apigateway.json; a missing file is an empty state. A state
// naming a blob that is gone is an error naming the file.
func (s *Store) Load() (*State, error) {
	st := NewState()
	st.blobDir = s.blobDir()
	if s.ephemeral {
		return st, nil
	}
	path := filepath.Join(s.dir, StateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w (restore it from a backup or move it away to start empty)", path, err)
	}
	if st.Schema > SchemaVersion {
		return nil, fmt.Errorf("%s: schema %d is newer than this edge understands (%d); use a newer edge", path, st.Schema, SchemaVersion)
	}
	st.Schema = SchemaVersion
	st.blobDir = s.blobDir()
	for _, b := range st.blobs() {
		if _, err := os.Stat(blobPath(st.blobDir, b.SHA256)); err != nil {
			return nil, fmt.Errorf("%s: the copy of %s is missing: %w", path, b.describe(), err)
		}
	}
	return st, nil
}

// Save writes st as apigateway.json: a temporary file, fsynced, renamed
// over the old one, and the directory fsynced.
func (s *Store) Save(st *State) error {
	if s.ephemeral {
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.dir, StateFile), append(b, '\n'))
}

// PutBlob stores data (once per content) and returns its hex SHA-256.
func (s *Store) PutBlob(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	p := blobPath(s.blobDir(), h)
	if _, err := os.Stat(p); err == nil {
		return h, nil
	}
	return h, writeAtomic(p, data)
}

// ReadBlob returns a blob's bytes.
func (s *Store) ReadBlob(sha string) ([]byte, error) {
	return os.ReadFile(blobPath(s.blobDir(), sha))
}

func (s *Store) blobDir() string { return filepath.Join(s.dir, "blobs", "sha256") }

func blobPath(dir, sha string) string { return filepath.Join(dir, sha) }

func (b Blob) describe() string {
	if b.Bucket != "" {
		return "s3://" + b.Bucket + "/" + b.Key
	}
	return "blob " + b.SHA256
}

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

// blobs lists every blob the state references.
func (st *State) blobs() []Blob {
	var out []Blob
	for _, d := range st.DomainNames {
		if d.MutualTLS != nil && d.MutualTLS.Truststore.SHA256 != "" {
			out = append(out, d.MutualTLS.Truststore)
		}
		if d.Certificate != nil {
			out = append(out, *d.Certificate)
		}
		if d.Key != nil {
			out = append(out, *d.Key)
		}
	}
	return out
}
