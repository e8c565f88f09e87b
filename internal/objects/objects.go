// Package objects names what edge reads from S3-compatible storage: the
// bytes of one object version. The embedded store (internal/s3store) and
// an external S3 endpoint both implement Source, so the control plane
// (ELBv2 trust stores and revocations, API Gateway truststores) never
// depends on where the bytes live.
package objects

import (
	"context"
	"errors"
	"fmt"
)

// Source reads object versions. Implementations are safe for concurrent use.
type Source interface {
	// Get returns the object at bucket/key. An empty versionID means the
	// latest version that is not a delete marker. Errors wrap ErrNoSuchBucket,
	// ErrNoSuchKey or ErrNoSuchVersion when the object is not there (a
	// *NotFoundError), or say what else failed.
	Get(ctx context.Context, bucket, key, versionID string) (*Object, error)
	// Versioning returns the bucket's versioning status as S3 reports it:
	// "" (never enabled), "Enabled" or "Suspended". API Gateway needs it:
	// truststoreVersion on an unversioned bucket is a BadRequestException.
	Versioning(ctx context.Context, bucket string) (string, error)
	// Keys lists up to limit keys of bucket (every key when limit <= 0), so
	// a not-found error can name the nearest existing key.
	Keys(ctx context.Context, bucket string, limit int) ([]string, error)
}

// Object is one object version's content.
type Object struct {
	Bucket, Key string
	// VersionID is the version read; "" or "null" on a bucket whose
	// versioning was never enabled.
	VersionID string
	Bytes     []byte
}

// Sentinels for objects that are not there.
var (
	ErrNoSuchBucket  = errors.New("NoSuchBucket")
	ErrNoSuchKey     = errors.New("NoSuchKey")
	ErrNoSuchVersion = errors.New("NoSuchVersion")
)

// NotFoundError says which object is missing; it unwraps to one of the
// sentinels. Nearest is the closest existing key, when one was found
// (S3 keys have no leading slash: "/crl/a.pem" suggests "crl/a.pem").
type NotFoundError struct {
	Err                    error
	Bucket, Key, VersionID string
	Nearest                string
}

func (e *NotFoundError) Error() string {
	var s string
	switch {
	case errors.Is(e.Err, ErrNoSuchBucket):
		s = fmt.Sprintf("bucket %q does not exist", e.Bucket)
	case errors.Is(e.Err, ErrNoSuchVersion):
		s = fmt.Sprintf("s3://%s/%s has no version %q", e.Bucket, e.Key, e.VersionID)
	default:
		s = fmt.Sprintf("s3://%s/%s does not exist", e.Bucket, e.Key)
	}
	if e.Nearest != "" {
		s += fmt.Sprintf(" (did you mean %q?)", e.Nearest)
	}
	return s
}

func (e *NotFoundError) Unwrap() error { return e.Err }
