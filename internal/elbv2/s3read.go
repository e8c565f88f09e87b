package elbv2

// This file is the service's only use of internal/truststore (its exported
// entry points ParseBundle, ParseCRL, RevocationList.CheckSignatureFrom and
// the error types) and of objects.Source: bundles and CRLs are read from
// S3 at the call, checked with ALB's rules, and copied into the blob store,
// so overwriting the S3 object later changes nothing (as at AWS).

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"strings"

	"edge/internal/awsquery"
	"edge/internal/objects"
	"edge/internal/pemfile"
	"edge/internal/truststore"
)

// readObject reads an S3 object version; a missing one is notFound with
// edge's message (which names the nearest existing key) appended.
func (s *Service) readObject(ctx context.Context, bucket, key, version string, notFound *Error) (*objects.Object, error) {
	if s.o.Objects == nil {
		return nil, notFound.With("edge has no S3 store configured to read s3://%s/%s from.", bucket, key)
	}
	obj, err := s.o.Objects.Get(ctx, bucket, key, version)
	var nf *objects.NotFoundError
	switch {
	case errors.As(err, &nf):
		return nil, notFound.With("%s.", nf.Error())
	case err != nil:
		return nil, awsquery.ErrInternalFailure.With("reading s3://%s/%s: %v", bucket, key, err)
	}
	return obj, nil
}

func blobOf(obj *objects.Object, sha string) Blob {
	v := obj.VersionID
	if v == "null" {
		v = ""
	}
	return Blob{SHA256: sha, Size: int64(len(obj.Bytes)), Bucket: obj.Bucket, Key: obj.Key, VersionID: v}
}

// loadBundle reads and checks a CA bundle and stores its copy; it returns
// the blob and the number of CA certificates.
func (s *Service) loadBundle(ctx context.Context, bucket, key, version string) (Blob, int, error) {
	obj, err := s.readObject(ctx, bucket, key, version, ErrCaCertificatesBundleNotFound)
	if err != nil {
		return Blob{}, 0, err
	}
	cas, err := truststore.ParseBundle(pemfile.Object(bucket, key), obj.Bytes)
	if err != nil {
		return Blob{}, 0, ErrInvalidCaCertificatesBundle.With("s3://%s/%s: %s", bucket, key, bundleReason(err))
	}
	sha, err := s.o.Store.PutBlob(obj.Bytes)
	if err != nil {
		return Blob{}, 0, awsquery.ErrInternalFailure.With("storing the bundle: %v", err)
	}
	return blobOf(obj, sha), len(cas), nil
}

func bundleReason(err error) string {
	var be *truststore.BundleError
	if errors.As(err, &be) {
		parts := make([]string, len(be.Problems))
		for i, p := range be.Problems {
			parts[i] = p.String()
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// loadCRL reads and checks a CRL for trust store ts from S3 (checkCRL)
// and returns the blob and the entry count.
func (s *Service) loadCRL(ctx context.Context, ts *TrustStore, bucket, key, version string) (Blob, int64, error) {
	obj, err := s.readObject(ctx, bucket, key, version, ErrRevocationContentNotFound)
	if err != nil {
		return Blob{}, 0, err
	}
	sha, n, err := s.checkCRL(ts, pemfile.Object(bucket, key), obj.Bytes)
	if err != nil {
		return Blob{}, 0, err
	}
	return blobOf(obj, sha), n, nil
}

// checkCRL checks a CRL for trust store ts: PEM only (as ALB), signed by
// a CA of the store's bundle, no unsupported critical extensions, within
// the file size quota. It stores the copy and returns its SHA-256 and the
// entry count. src is where the CRL came from (an S3 object, or none for
// an upload), for the messages and the commands they give.
func (s *Service) checkCRL(ts *TrustStore, src pemfile.Source, data []byte) (string, int64, error) {
	where := src.String()
	if where == "" {
		where = "the uploaded CRL"
	}
	if len(data) > s.o.Quotas.RevocationFileSize {
		return "", 0, ErrInvalidRevocationContent.With("%s is %d bytes; the revocation file size limit is %d.", where, len(data), s.o.Quotas.RevocationFileSize)
	}
	// PEM only, one CRL per object (a DER CRL's message gives the
	// openssl conversion).
	l, err := truststore.ParseCRL(src, data)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), truststore.ErrInvalidRevocationContent.Error()+": ")
		if !strings.HasPrefix(reason, where) {
			reason = where + ": " + reason
		}
		return "", 0, ErrInvalidRevocationContent.With("%s", reason)
	}
	if len(l.UnhandledCritical) > 0 {
		return "", 0, ErrInvalidRevocationContent.With("%s has unsupported critical extensions: %s.", where, strings.Join(l.UnhandledCritical, ", "))
	}
	cas, err := s.storeCAs(ts)
	if err != nil {
		return "", 0, err
	}
	signed := false
	for _, ca := range cas {
		if bytes.Equal(ca.RawSubject, l.RawIssuer) && l.CheckSignatureFrom(ca) == nil {
			signed = true
			break
		}
	}
	if !signed {
		return "", 0, ErrInvalidRevocationContent.With("%s is not signed by a CA certificate of trust store %s.", where, ts.Name)
	}
	sha, err := s.o.Store.PutBlob(data)
	if err != nil {
		return "", 0, awsquery.ErrInternalFailure.With("storing the CRL: %v", err)
	}
	return sha, int64(l.Entries), nil
}

// storeCAs parses the CA certificates of a trust store's bundle.
func (s *Service) storeCAs(ts *TrustStore) ([]*x509.Certificate, error) {
	var data []byte
	var err error
	if ts.file != nil {
		data, err = os.ReadFile(ts.file.path)
	} else {
		data, err = s.o.Store.ReadBlob(ts.Bundle.SHA256)
	}
	if err != nil {
		return nil, awsquery.ErrInternalFailure.With("reading trust store %s's bundle: %v", ts.Name, err)
	}
	cas, err := truststore.ParseBundle(pemfile.File(ts.Name), data)
	if err != nil {
		return nil, awsquery.ErrInternalFailure.With("trust store %s's bundle: %v", ts.Name, err)
	}
	return cas, nil
}

// fileBundleCount counts the CA certificates of a file-layer bundle.
func fileBundleCount(path string) int {
	cas, _, _ := truststore.LoadBundle(path)
	return len(cas)
}

// fileCRLEntries counts the entries of a file-layer CRL.
func fileCRLEntries(path string) int64 {
	in, err := truststore.LoadCRL(path)
	if err != nil {
		return 0
	}
	return int64(in.List.Entries)
}
