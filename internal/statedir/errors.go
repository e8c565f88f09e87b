package statedir

import "fmt"

// CorruptError is a state file that is not the JSON its service writes.
// Nothing was changed; restore the file from a backup, or move it away to
// start with an empty state.
type CorruptError struct {
	Path string // the state file
	Err  error  // the JSON decoder's error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: %v (restore it from a backup or move it away to start empty)", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// SchemaError is a state file written by a newer edge: its schema version
// is newer than the newest this edge reads. It is refused rather than
// loaded without what this edge does not know.
type SchemaError struct {
	Path   string // the state file
	Schema int    // the file's schema version
	Newest int    // the newest version this edge reads
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s: schema %d is newer than this edge understands (%d); use a newer edge", e.Path, e.Schema, e.Newest)
}

// MissingBlobError is a blob a state file names that is not in the state
// directory's blobs/sha256.
type MissingBlobError struct {
	Path string // the state file naming the blob
	What string // the blob, as Ref.What names it
	Err  error  // why it cannot be used (os.Stat's error)
}

func (e *MissingBlobError) Error() string {
	return fmt.Sprintf("%s: the copy of %s is missing: %v", e.Path, e.What, e.Err)
}

func (e *MissingBlobError) Unwrap() error { return e.Err }
