package statedir_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"edge/internal/statedir"
)

// state is a small stand-in for a service's state.
type state struct {
	Schema int      `json:"schema"`
	Names  []string `json:"names,omitempty"`
	Blob   string   `json:"blob,omitempty"`
}

const file = "test.json"

func open(t *testing.T) (*statedir.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := statedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestOpenCreatesTheBlobDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	s, err := statedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != dir || s.BlobDir() != filepath.Join(dir, "blobs", "sha256") {
		t.Errorf("Dir %q BlobDir %q", s.Dir(), s.BlobDir())
	}
	if fi, err := os.Stat(s.BlobDir()); err != nil || !fi.IsDir() {
		t.Errorf("blobs/sha256 not created: %v", err)
	}
}

func TestOpenOnAFileNamesTheStateDirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	_, err := statedir.Open(f)
	if err == nil || !strings.HasPrefix(err.Error(), "state directory: ") || !strings.Contains(err.Error(), f) {
		t.Errorf("err = %v, want one naming the state directory %s", err, f)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s, dir := open(t)
	want := &state{Schema: 1, Names: []string{"a", "b"}}
	if err := s.Save(file, want); err != nil {
		t.Fatal(err)
	}
	// The format is indented JSON and a newline: existing state
	// directories were written so, and a person may read them.
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if w := "{\n  \"schema\": 1,\n  \"names\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"; string(b) != w {
		t.Errorf("file:\n%s\nwant:\n%s", b, w)
	}
	got := &state{}
	if err := s.Load(file, 1, got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %+v, saved %+v", got, want)
	}
	// A second store on the same directory (a restart) reads the same.
	s2, err := statedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got2 := &state{}
	if err := s2.Load(file, 1, got2); err != nil || !reflect.DeepEqual(got2, want) {
		t.Errorf("after reopening: %+v, %v", got2, err)
	}
}

func TestLoadMissingFileLeavesTheEmptyState(t *testing.T) {
	s, _ := open(t)
	got := &state{Schema: 1}
	if err := s.Load(file, 1, got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &state{Schema: 1}) {
		t.Errorf("got %+v", got)
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	s, dir := open(t)
	path := filepath.Join(dir, file)
	if err := s.Save(file, &state{Schema: 1, Names: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	// A reader that opened the file before the save keeps reading the
	// whole old file: the new one is renamed over it, not written into it.
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := s.Save(file, &state{Schema: 1, Names: []string{"new", strings.Repeat("x", 1<<16)}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); !bytes.Equal(b, old) {
		t.Errorf("the open reader saw %d bytes of a changed file, want the old %d", len(b), len(old))
	}
	got := &state{}
	if err := s.Load(file, 1, got); err != nil || got.Names[0] != "new" {
		t.Errorf("after the second save: %+v, %v", got, err)
	}
	// A save that fails (the value does not marshal) changes nothing.
	now, _ := os.ReadFile(path)
	if err := s.Save(file, map[string]any{"schema": 1, "bad": func() {}}); err == nil {
		t.Error("saving a function: no error")
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, now) {
		t.Error("a failed save changed the file")
	}
	// No temporary file is left beside the state file.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != file && e.Name() != "blobs" {
			t.Errorf("left in the state directory: %s", e.Name())
		}
	}
}

func TestSaveFailureLeavesNoTemporaryFile(t *testing.T) {
	s, dir := open(t)
	// The rename cannot happen: the state file's name is a directory that
	// is not empty.
	os.MkdirAll(filepath.Join(dir, file, "x"), 0o755)
	if err := s.Save(file, &state{Schema: 1}); err == nil {
		t.Error("saving over a directory: no error")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != file && e.Name() != "blobs" {
			t.Errorf("left in the state directory: %s", e.Name())
		}
	}
}

func TestLoadCorruptFileNamesIt(t *testing.T) {
	for name, content := range map[string]string{
		"truncated":     `{"schema": 1, "names": ["a"`,
		"not JSON":      "\x00\xff garbage",
		"wrong type":    `{"schema": 1, "names": "a"}`,
		"schema word":   `{"schema": "one"}`,
		"array":         `[1, 2]`,
		"empty":         "",
		"trailing junk": `{"schema": 1} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, dir := open(t)
			path := filepath.Join(dir, file)
			os.WriteFile(path, []byte(content), 0o600)
			err := s.Load(file, 1, &state{})
			var ce *statedir.CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("err = %#v, want a *CorruptError for %s", err, path)
			}
			if !strings.HasPrefix(err.Error(), path+": ") || !strings.HasSuffix(err.Error(), "(restore it from a backup or move it away to start empty)") {
				t.Errorf("message %q", err)
			}
			// Loading changed nothing.
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Error("the corrupt file was changed")
			}
		})
	}
}

func TestLoadRefusesANewerSchema(t *testing.T) {
	s, dir := open(t)
	path := filepath.Join(dir, file)
	os.WriteFile(path, []byte(`{"schema": 3, "names": ["a"]}`), 0o600)
	err := s.Load(file, 2, &state{})
	var se *statedir.SchemaError
	if !errors.As(err, &se) || se.Path != path || se.Schema != 3 || se.Newest != 2 {
		t.Fatalf("err = %#v", err)
	}
	if w := path + ": schema 3 is newer than this edge understands (2); use a newer edge"; err.Error() != w {
		t.Errorf("message %q, want %q", err, w)
	}
	// Older and equal schemas load.
	for _, v := range []string{`{"schema": 2}`, `{"schema": 1}`, `{}`} {
		os.WriteFile(path, []byte(v), 0o600)
		if err := s.Load(file, 2, &state{}); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
}

func TestBlobs(t *testing.T) {
	s, _ := open(t)
	data := []byte("-----BEGIN CERTIFICATE-----\n")
	sum := sha256.Sum256(data)
	sha, err := s.PutBlob(data)
	if err != nil {
		t.Fatal(err)
	}
	if sha != hex.EncodeToString(sum[:]) {
		t.Errorf("PutBlob = %s, want the hex SHA-256 %x", sha, sum)
	}
	if b, err := os.ReadFile(filepath.Join(s.BlobDir(), sha)); err != nil || !bytes.Equal(b, data) {
		t.Errorf("blobs/sha256/%s: %q, %v", sha, b, err)
	}
	if b, err := s.ReadBlob(sha); err != nil || !bytes.Equal(b, data) {
		t.Errorf("ReadBlob: %q, %v", b, err)
	}
	// Immutable: putting the same content again does not rewrite it.
	fi1, _ := os.Stat(filepath.Join(s.BlobDir(), sha))
	if again, err := s.PutBlob(data); err != nil || again != sha {
		t.Errorf("second PutBlob: %s, %v", again, err)
	}
	fi2, _ := os.Stat(filepath.Join(s.BlobDir(), sha))
	if !os.SameFile(fi1, fi2) {
		t.Error("the blob was rewritten")
	}
	if _, err := s.ReadBlob(strings.Repeat("0", 64)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadBlob of an absent blob: %v", err)
	}
}

func TestCheckBlobsNamesTheStateFileAndTheBlob(t *testing.T) {
	s, dir := open(t)
	have, _ := s.PutBlob([]byte("bundle"))
	gone, _ := s.PutBlob([]byte("crl"))
	os.Remove(filepath.Join(s.BlobDir(), gone))
	if err := s.CheckBlobs(file, []statedir.Ref{{SHA256: have, What: "s3://b/bundle.pem"}}); err != nil {
		t.Errorf("present blob: %v", err)
	}
	err := s.CheckBlobs(file, []statedir.Ref{{SHA256: have, What: "s3://b/bundle.pem"}, {SHA256: gone, What: "s3://b/crl.pem"}})
	var me *statedir.MissingBlobError
	if !errors.As(err, &me) || me.Path != filepath.Join(dir, file) || me.What != "s3://b/crl.pem" {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v does not unwrap to fs.ErrNotExist", err)
	}
	if w := filepath.Join(dir, file) + ": the copy of s3://b/crl.pem is missing: "; !strings.HasPrefix(err.Error(), w) || !strings.Contains(err.Error(), gone) {
		t.Errorf("message %q, want it to start %q and name the blob's file", err, w)
	}
}

func TestEphemeral(t *testing.T) {
	s, err := statedir.OpenEphemeral("edge-statedir-test-")
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	if !strings.HasPrefix(filepath.Base(dir), "edge-statedir-test-") {
		t.Errorf("Dir %s", dir)
	}
	if err := s.Save(file, &state{Schema: 1, Names: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, file)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an ephemeral store wrote its state file: %v", err)
	}
	// A state file put there by someone else is not read either.
	os.WriteFile(filepath.Join(dir, file), []byte("not json"), 0o600)
	got := &state{Schema: 1}
	if err := s.Load(file, 1, got); err != nil || !reflect.DeepEqual(got, &state{Schema: 1}) {
		t.Errorf("ephemeral Load: %+v, %v", got, err)
	}
	// Blobs are kept: derived configurations name their files.
	sha, err := s.PutBlob([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.BlobDir(), sha)); err != nil {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left %s: %v", dir, err)
	}
}

func TestCloseKeepsAPersistentDirectory(t *testing.T) {
	s, dir := open(t)
	s.Save(file, &state{Schema: 1})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		t.Errorf("Close removed the state: %v", err)
	}
}

// FuzzLoad: whatever a state file holds, Load never panics, and an error
// names the file.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"{\n  \"schema\": 1,\n  \"names\": [\n    \"a\"\n  ]\n}\n",
		`{"schema": 99}`, `{"schema": -1}`, `{"schema": 1e400}`, `{"schema": null}`,
		`null`, `[]`, `"x"`, `{"names": [null, 1]}`, "", "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	s, err := statedir.Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, file)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Load(file, 1, &state{}); err != nil && !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%q: error %q does not name the file", data, err)
		}
	})
}
