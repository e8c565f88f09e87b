package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"edge/internal/objects"
	"edge/internal/suggest"
)

// ExternalConfig describes an existing S3-compatible server edge reads
// objects from instead of its embedded store (config s3: {endpoint, region,
// access_key_id, secret_access_key, path_style}).
type ExternalConfig struct {
	// Endpoint is the server's base URL, "http://host:port" or
	// "https://host:port". Required.
	Endpoint string
	// Region signs the requests; "" is "us-east-1".
	Region string
	// AccessKeyID and SecretAccessKey sign the requests (SigV4);
	// SessionToken is optional. Both empty: requests are sent unsigned.
	AccessKeyID, SecretAccessKey, SessionToken string
	// PathStyle addresses buckets as http://host/<bucket>/<key>. False
	// (the SDK's default) puts the bucket in the host name
	// (http://<bucket>.host/<key>), which needs a DNS name resolving for
	// every bucket; most local servers want true. The SDK uses path style
	// for IP-address endpoints either way.
	PathStyle bool
	// HTTPClient sends the requests; nil is the SDK's default client.
	HTTPClient *http.Client
}

// External reads objects from an S3-compatible server through the AWS SDK
// for Go v2. It is safe for concurrent use.
type External struct {
	c        *s3.Client
	endpoint string
}

var _ objects.Source = (*External)(nil)

// ErrAccessDenied is wrapped by the errors of an external server that
// refused edge's credentials (403 SignatureDoesNotMatch,
// InvalidAccessKeyId, AccessDenied, …).
var ErrAccessDenied = errors.New("access denied")

// NewExternal returns a Source reading from the server cfg describes. It
// does not contact the server; an endpoint that is not an http(s) URL is
// an error.
func NewExternal(cfg ExternalConfig) (*External, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3 endpoint %q: want an http:// or https:// URL such as http://127.0.0.1:7070", cfg.Endpoint)
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, fmt.Errorf("s3 endpoint %s: give both access_key_id and secret_access_key, or neither", cfg.Endpoint)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(strings.TrimRight(cfg.Endpoint, "/")),
		UsePathStyle: cfg.PathStyle,
		// As config.LoadDefaultConfig sets them: checksums sent and the
		// server's checked on download.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if cfg.AccessKeyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	} else {
		opts.Credentials = aws.AnonymousCredentials{}
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	return &External{c: s3.New(opts), endpoint: aws.ToString(opts.BaseEndpoint)}, nil
}

// Get returns bucket/key at versionID ("" for the latest). A missing
// bucket, key or version is an *objects.NotFoundError (naming the nearest
// existing key); refused credentials wrap ErrAccessDenied.
func (x *External) Get(ctx context.Context, bucket, key, versionID string) (*objects.Object, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := x.c.GetObject(ctx, in)
	if err != nil {
		return nil, x.err(ctx, "GetObject", err, bucket, key, versionID)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %s: GetObject s3://%s/%s: %w", x.endpoint, bucket, key, err)
	}
	return &objects.Object{Bucket: bucket, Key: key, VersionID: aws.ToString(out.VersionId), Bytes: data}, nil
}

// Versioning returns the bucket's status: "", "Enabled" or "Suspended".
func (x *External) Versioning(ctx context.Context, bucket string) (string, error) {
	out, err := x.c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", x.err(ctx, "GetBucketVersioning", err, bucket, "", "")
	}
	return string(out.Status), nil
}

// Keys returns up to limit keys of bucket in order (every key when
// limit <= 0).
func (x *External) Keys(ctx context.Context, bucket string, limit int) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(x.c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() && (limit <= 0 || len(keys) < limit) {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, x.err(ctx, "ListObjectsV2", err, bucket, "", "")
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return keys, nil
}

// err classifies an SDK error.
func (x *External) err(ctx context.Context, op string, err error, bucket, key, versionID string) error {
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var nsb *types.NoSuchBucket
	var nsk *types.NoSuchKey
	nf := &objects.NotFoundError{Bucket: bucket, Key: key, VersionID: versionID}
	switch {
	case errors.As(err, &nsb) || code == "NoSuchBucket":
		nf.Err = objects.ErrNoSuchBucket
		return nf
	case errors.As(err, &nsk) || code == "NoSuchKey":
		nf.Err = objects.ErrNoSuchKey
		if keys, kerr := x.Keys(ctx, bucket, maxNearestKeys); kerr == nil {
			if t := strings.TrimLeft(key, "/"); t != key && slices.Contains(keys, t) {
				nf.Nearest = t
			} else {
				nf.Nearest = suggest.Nearest(key, keys)
			}
		}
		return nf
	case code == "NoSuchVersion" || versionID != "" && code == "InvalidArgument":
		nf.Err = objects.ErrNoSuchVersion
		return nf
	case code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "AccessDenied" ||
		code == "InvalidSecurity" || code == "InvalidToken" || code == "ExpiredToken":
		return fmt.Errorf("s3 endpoint %s: %s s3://%s/%s: %w (%s: check the access key id and secret access key edge is given for it): %v",
			x.endpoint, op, bucket, key, ErrAccessDenied, code, err)
	}
	return fmt.Errorf("s3 endpoint %s: %s s3://%s/%s: %w", x.endpoint, op, bucket, key, err)
}
