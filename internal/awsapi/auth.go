package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"edge/internal/awsquery"
)

// Signature errors, as AWS's common errors name them (HTTP 403).
var (
	errMissingToken  = &awsquery.Error{Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token (edge has aws credentials configured: sign requests with one of them).", Status: http.StatusForbidden}
	errInvalidKey    = &awsquery.Error{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid.", Status: http.StatusForbidden}
	errSignature     = &awsquery.Error{Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.", Status: http.StatusForbidden}
	errRequestExpiry = &awsquery.Error{Code: "SignatureDoesNotMatch", Message: "Signature expired or not yet valid: X-Amz-Date is more than 15 minutes from the server's clock.", Status: http.StatusForbidden}
)

const amzDateFormat = "20060102T150405Z"

// authorize checks the request's signature when credentials are
// configured. S3 requests and edge's artefact URLs are left to their
// handlers.
func (e *Endpoint) authorize(r *http.Request, rt route) *awsquery.Error {
	if len(e.opts.Credentials) == 0 || rt.service == ServiceS3 || rt.service == ServiceEdge {
		return nil
	}
	if rt.sig == nil {
		return errMissingToken
	}
	secret, ok := e.opts.Credentials[rt.sig.accessKey]
	if !ok {
		return errInvalidKey
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, e.opts.MaxBody+1))
		if err != nil {
			return awsquery.ErrValidation.With("reading the body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	want, aerr := e.resign(r, rt.sig, secret, body)
	if aerr != nil {
		return aerr
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(rt.sig.signature)) != 1 {
		return errSignature
	}
	return nil
}

// resign signs a copy of r holding only the headers r's signature covers,
// with the same time and scope, and returns the signature.
func (e *Endpoint) resign(r *http.Request, sig *sigV4, secret string, body []byte) (string, *awsquery.Error) {
	q := r.URL.Query()
	date := r.Header.Get("X-Amz-Date")
	if sig.presigned {
		date = q.Get("X-Amz-Date")
	}
	t, err := time.Parse(amzDateFormat, date)
	if err != nil {
		return "", awsquery.Errorf("IncompleteSignature", "X-Amz-Date %q is not of the form 20060102T150405Z.", date)
	}
	now := e.opts.Now()
	if sig.presigned {
		exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || now.After(t.Add(time.Duration(exp)*time.Second)) || now.Before(t.Add(-MaxClockSkew)) {
			return "", &awsquery.Error{Code: "AccessDenied", Message: "Request has expired.", Status: http.StatusForbidden}
		}
	} else if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return "", errRequestExpiry
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if sig.presigned {
		q.Del("X-Amz-Signature")
		u.RawQuery = q.Encode()
	}
	cp, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return "", errSignature
	}
	cp.Host = r.Host
	for _, h := range sig.signedHeaders {
		switch h {
		case "host", "x-amz-date":
		case "content-length":
			cp.ContentLength = r.ContentLength
			if cp.ContentLength < 0 {
				cp.ContentLength = int64(len(body))
			}
		default:
			if vs, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				cp.Header[http.CanonicalHeaderKey(h)] = vs
			}
		}
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: sig.accessKey, SecretAccessKey: secret}
	signer := v4.NewSigner()
	ctx := context.Background()
	if sig.presigned {
		signed, _, err := signer.PresignHTTP(ctx, creds, cp, hash, sig.service, sig.region, t)
		if err != nil {
			return "", errSignature
		}
		pu, err := url.Parse(signed)
		if err != nil {
			return "", errSignature
		}
		return pu.Query().Get("X-Amz-Signature"), nil
	}
	if err := signer.SignHTTP(ctx, creds, cp, hash, sig.service, sig.region, t); err != nil {
		return "", errSignature
	}
	// A request that signed a header the signer ignores (User-Agent…)
	// gets a different signature here: SignatureDoesNotMatch.
	resigned, _ := parseAuthorization(cp.Header.Get("Authorization"))
	return resigned.signature, nil
}
