package elbv2

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"edge/internal/awsquery"
)

// Artefact URLs: GetTrustStoreCaCertificatesBundle and
// GetTrustStoreRevocationContent answer a Location that is "a pre-signed
// S3 URI which is active for ten minutes" (model). Edge's is served by the
// AWS endpoint itself (reference §6.4):
//
//	http://HOST/_edge/truststores/<id>/bundle.pem?X-Amz-Date=…&X-Amz-Expires=600&X-Amz-Signature=…
//	http://HOST/_edge/truststores/<id>/revocations/<n>.pem?…
//
// <id> is the trust store ARN's id; the signature is an HMAC with a key
// edge draws at start, so URLs die with the process as well as after 600 s.

// ArtefactExpiry is how long a Location URL works.
const ArtefactExpiry = 10 * time.Minute

const artefactPrefix = "/_edge/truststores/"

func (s *Service) artefactSignature(path, date, expires string) string {
	m := hmac.New(sha256.New, s.urlKey)
	m.Write([]byte(path + "\n" + date + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) location(ctx context.Context, path string) string {
	host := "127.0.0.1"
	if r := awsquery.Request(ctx); r != nil && r.Host != "" {
		host = r.Host
	}
	date := s.o.Now().UTC().Format("20060102T150405Z")
	exp := strconv.Itoa(int(ArtefactExpiry / time.Second))
	q := url.Values{"X-Amz-Date": {date}, "X-Amz-Expires": {exp}, "X-Amz-Signature": {s.artefactSignature(path, date, exp)}}
	return "http://" + host + path + "?" + q.Encode()
}

// LocationOutput is the output of the two Get…Content operations.
type LocationOutput struct {
	Location string
}

func (s *Service) getTrustStoreCaCertificatesBundle(ctx context.Context, in *TrustStoreArnInput) (*LocationOutput, error) {
	ts := s.view().trustStoreByARN(in.TrustStoreArn)
	if ts == nil {
		return nil, ErrTrustStoreNotFound
	}
	return &LocationOutput{Location: s.location(ctx, artefactPrefix+lastID(ts.Arn)+"/bundle.pem")}, nil
}

// GetTrustStoreRevocationContentInput is the model's input.
type GetTrustStoreRevocationContentInput struct {
	TrustStoreArn string `aws:"required"`
	RevocationId  int64  `aws:"required"`
}

func (s *Service) getTrustStoreRevocationContent(ctx context.Context, in *GetTrustStoreRevocationContentInput) (*LocationOutput, error) {
	ts := s.view().trustStoreByARN(in.TrustStoreArn)
	if ts == nil {
		return nil, ErrTrustStoreNotFound
	}
	if ts.revocation(in.RevocationId) == nil {
		return nil, ErrRevocationIdNotFound.With("Trust store %s has no revocation %d.", ts.Name, in.RevocationId)
	}
	return &LocationOutput{Location: s.location(ctx, artefactPrefix+lastID(ts.Arn)+"/revocations/"+strconv.FormatInt(in.RevocationId, 10)+".pem")}, nil
}

// ArtefactHandler serves the Location URLs (mount it as the endpoint's
// Edge service). Errors are S3-style XML: 403 AccessDenied "Request has
// expired" after ten minutes, 403 SignatureDoesNotMatch for a URL edge did
// not sign, 404 NoSuchKey when the trust store or revocation is gone.
func (s *Service) ArtefactHandler() http.Handler {
	return http.HandlerFunc(s.serveArtefact)
}

func (s *Service) serveArtefact(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		b, _ := xml.Marshal(struct {
			XMLName xml.Name `xml:"Error"`
			Code    string
			Message string
		}{Code: code, Message: msg})
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		w.Write(append([]byte(xml.Header), b...))
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "Only GET and HEAD are allowed on this URL.")
		return
	}
	q := r.URL.Query()
	date, exp := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires")
	if !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(s.artefactSignature(r.URL.Path, date, exp))) {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", "This URL was not issued by this edge process (Location URLs end when edge restarts): call the Get operation again.")
		return
	}
	t, err := time.Parse("20060102T150405Z", date)
	secs, err2 := strconv.Atoi(exp)
	if err != nil || err2 != nil || s.o.Now().After(t.Add(time.Duration(secs)*time.Second)) {
		fail(http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, artefactPrefix)
	id, file, _ := strings.Cut(rest, "/")
	var ts *TrustStore
	for _, t := range s.view().trustStores() {
		if lastID(t.Arn) == id {
			ts = t
		}
	}
	if ts == nil {
		fail(http.StatusNotFound, "NoSuchKey", "The trust store no longer exists.")
		return
	}
	var data []byte
	switch {
	case file == "bundle.pem" && ts.file != nil:
		data, err = os.ReadFile(ts.file.path)
	case file == "bundle.pem":
		data, err = s.o.Store.ReadBlob(ts.Bundle.SHA256)
	case strings.HasPrefix(file, "revocations/") && strings.HasSuffix(file, ".pem"):
		n, perr := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(file, "revocations/"), ".pem"), 10, 64)
		rv := ts.revocation(n)
		switch {
		case perr != nil || rv == nil:
			fail(http.StatusNotFound, "NoSuchKey", "The revocation no longer exists.")
			return
		case rv.Path != "":
			data, err = os.ReadFile(rv.Path)
		default:
			data, err = s.o.Store.ReadBlob(rv.CRL.SHA256)
		}
	default:
		fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if err != nil {
		fail(http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodGet {
		w.Write(data)
	}
}
