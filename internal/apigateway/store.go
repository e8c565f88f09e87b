package apigateway

import "edge/internal/statedir"

// Store persists the state in a state directory shared with the other
// services (ELBv2 writes state.json there; internal/statedir):
//
//	<dir>/apigateway.json       the State (schema-versioned), replaced
//	                            atomically (temp file, fsync, rename)
//	<dir>/blobs/sha256/<hex>    immutable copies of truststores and of
//	                            imported certificates and keys
//
// An ephemeral store keeps blobs in a temporary directory and never writes
// apigateway.json.
type Store struct {
	d *statedir.Store
}

// StateFile is the state's file name in the state directory.
const StateFile = "apigateway.json"

// OpenStore opens (creating) the state directory dir.
func OpenStore(dir string) (*Store, error) {
	d, err := statedir.Open(dir)
	if err != nil {
		return nil, err
	}
	return &Store{d: d}, nil
}

// OpenEphemeral opens a store in a new temporary directory that Close
// removes; apigateway.json is never written.
func OpenEphemeral() (*Store, error) {
	d, err := statedir.OpenEphemeral("edge-apigw-state-")
	if err != nil {
		return nil, err
	}
	return &Store{d: d}, nil
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.d.Dir() }

// Close removes an ephemeral store's directory; it does nothing otherwise.
func (s *Store) Close() error { return s.d.Close() }

// Load reads apigateway.json; a missing file is an empty state. A file
// that does not decode, one of a newer schema, and a state naming a blob
// that is gone are errors naming the file (*statedir.CorruptError,
// *statedir.SchemaError, *statedir.MissingBlobError).
func (s *Store) Load() (*State, error) {
	st := NewState()
	st.blobDir = s.d.BlobDir()
	if err := s.d.Load(StateFile, SchemaVersion, st); err != nil {
		return nil, err
	}
	st.Schema = SchemaVersion
	if err := s.d.CheckBlobs(StateFile, st.blobRefs()); err != nil {
		return nil, err
	}
	return st, nil
}

// Save writes apigateway.json, atomically; an ephemeral store writes
// nothing.
func (s *Store) Save(st *State) error { return s.d.Save(StateFile, st) }

// PutBlob stores data (once per content) and returns its hex SHA-256.
func (s *Store) PutBlob(data []byte) (string, error) { return s.d.PutBlob(data) }

// ReadBlob returns a blob's bytes.
func (s *Store) ReadBlob(sha string) ([]byte, error) { return s.d.ReadBlob(sha) }

func (b Blob) ref() statedir.Ref {
	if b.Bucket != "" {
		return statedir.Ref{SHA256: b.SHA256, What: "s3://" + b.Bucket + "/" + b.Key}
	}
	return statedir.Ref{SHA256: b.SHA256, What: "blob " + b.SHA256}
}

// blobRefs lists every blob the state references.
func (st *State) blobRefs() []statedir.Ref {
	var out []statedir.Ref
	for _, d := range st.DomainNames {
		if d.MutualTLS != nil && d.MutualTLS.Truststore.SHA256 != "" {
			out = append(out, d.MutualTLS.Truststore.ref())
		}
		if d.Certificate != nil {
			out = append(out, d.Certificate.ref())
		}
		if d.Key != nil {
			out = append(out, d.Key.ref())
		}
	}
	return out
}
