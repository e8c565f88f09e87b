package s3store

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The persisted records: buckets/<bucket>/meta.json is a bucketMeta,
// objects/<bucket>/<sha256(key)>/<version>.json a versionMeta. Both carry
// "format": 1; a loader refuses any other format rather than guess.
const recordFormat = 1

// bucketMeta is buckets/<bucket>/meta.json.
type bucketMeta struct {
	Format  int       `json:"format"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Versioning is S3's status: "" (never enabled), "Enabled", "Suspended".
	Versioning string `json:"versioning,omitempty"`
}

// versionMeta is objects/<bucket>/<sha256(key)>/<version>.json: one object
// version or delete marker.
type versionMeta struct {
	Format int    `json:"format"`
	Key    string `json:"key"`
	// VersionID is "null" for the null version (written while versioning
	// was never enabled or suspended), else a 32-character id.
	VersionID string `json:"version_id"`
	// Seq orders the versions of a key (higher is newer); unique in a store.
	Seq          uint64            `json:"seq"`
	DeleteMarker bool              `json:"delete_marker,omitempty"`
	Size         int64             `json:"size"`
	MD5          string            `json:"md5,omitempty"` // hex, 32 digits; "" for a delete marker
	LastModified time.Time         `json:"last_modified"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	// DataFile is the base name of the data file beside the record; ""
	// for a delete marker.
	DataFile string `json:"data_file,omitempty"`
}

// versioning states, as S3 spells them.
const (
	versioningNone      = ""
	versioningEnabled   = "Enabled"
	versioningSuspended = "Suspended"
)

// nullVersion is the version id S3 gives objects written while a bucket's
// versioning was never enabled, or suspended.
const nullVersion = "null"

// versionIDAlphabet has 64 characters, so 24 random bytes make exactly 32
// characters with no padding. No '/', '+' or '=': ids appear unescaped in
// file names, URLs and API Gateway's truststoreVersion (at most 64
// characters), unlike the library's "3/<base32>" 66-character ids.
const versionIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"

var versionIDEncoding = base64.NewEncoding(versionIDAlphabet).WithPadding(base64.NoPadding)

// versionIDLen is the length of every version id edge makes.
const versionIDLen = 32

var versionIDPattern = regexp.MustCompile(`^[A-Za-z0-9._]{32}$`)

// newVersionID returns a random 32-character version id that does not
// start with '.' (a file name starting with '.' is hidden).
func newVersionID() string {
	var b [24]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand.Read does not fail on supported platforms
		}
		if id := versionIDEncoding.EncodeToString(b[:]); id[0] != '.' {
			return id
		}
	}
}

// validVersionID reports whether id is "null" or has the shape of an id
// edge makes. Request version ids are checked with it before any lookup.
func validVersionID(id string) bool {
	return id == nullVersion || versionIDPattern.MatchString(id)
}

// bucketNamePattern is S3's general-purpose bucket naming rule (3–63
// characters of lower-case letters, digits, '.' and '-', starting and ending
// with a letter or digit). It also keeps bucket names safe as directory names.
var bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func validBucketName(name string) bool {
	return bucketNamePattern.MatchString(name) && !strings.Contains(name, "..")
}

// maxKeyLen is S3's limit on an object key, in bytes.
const maxKeyLen = 1024

var dataFilePattern = regexp.MustCompile(`^[A-Za-z0-9._]+\.data$`)

// errRecord is wrapped by every error of parseBucketMeta and parseVersionMeta.
var errRecord = errors.New("invalid record")

func recordErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRecord, fmt.Sprintf(format, args...))
}

// decodeStrict decodes one JSON value into v and refuses trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return recordErr("not JSON: %v", err)
	}
	if dec.More() {
		return recordErr("data after the JSON object")
	}
	return nil
}

// parseBucketMeta parses and checks a bucket's meta.json.
func parseBucketMeta(data []byte) (bucketMeta, error) {
	var m bucketMeta
	if err := decodeStrict(data, &m); err != nil {
		return bucketMeta{}, err
	}
	if m.Format != recordFormat {
		return bucketMeta{}, recordErr("format %d, this edge reads format %d", m.Format, recordFormat)
	}
	if !validBucketName(m.Name) {
		return bucketMeta{}, recordErr("bucket name %q is not a valid S3 bucket name", clip(m.Name))
	}
	switch m.Versioning {
	case versioningNone, versioningEnabled, versioningSuspended:
	default:
		return bucketMeta{}, recordErr("versioning %q is not \"\", %q or %q", clip(m.Versioning), versioningEnabled, versioningSuspended)
	}
	return m, nil
}

// parseVersionMeta parses and checks an object version record.
func parseVersionMeta(data []byte) (versionMeta, error) {
	var m versionMeta
	if err := decodeStrict(data, &m); err != nil {
		return versionMeta{}, err
	}
	if m.Format != recordFormat {
		return versionMeta{}, recordErr("format %d, this edge reads format %d", m.Format, recordFormat)
	}
	if m.Key == "" || len(m.Key) > maxKeyLen || !utf8.ValidString(m.Key) {
		return versionMeta{}, recordErr("key must be 1 to %d bytes of UTF-8", maxKeyLen)
	}
	if !validVersionID(m.VersionID) {
		return versionMeta{}, recordErr("version_id %q is neither \"null\" nor 32 characters of [A-Za-z0-9._]", clip(m.VersionID))
	}
	if m.Seq == 0 {
		return versionMeta{}, recordErr("seq must be positive")
	}
	if m.DeleteMarker {
		if m.Size != 0 || m.MD5 != "" || m.DataFile != "" {
			return versionMeta{}, recordErr("a delete marker has no size, md5 or data_file")
		}
		return m, nil
	}
	if m.Size < 0 {
		return versionMeta{}, recordErr("size %d is negative", m.Size)
	}
	if md5, err := hex.DecodeString(m.MD5); err != nil || len(md5) != 16 {
		return versionMeta{}, recordErr("md5 %q is not 32 hex digits", clip(m.MD5))
	}
	if !dataFilePattern.MatchString(m.DataFile) || len(m.DataFile) > 128 {
		return versionMeta{}, recordErr("data_file %q is not a data file name (<name>.data)", clip(m.DataFile))
	}
	return m, nil
}
