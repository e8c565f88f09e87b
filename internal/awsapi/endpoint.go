// Package awsapi is edge's single plain-HTTP AWS endpoint (like
// LocalStack's): one listener that serves S3, ELBv2, STS, API Gateway and
// ACM by routing each request to the handler of its service, plus edge's
// own artefact URLs under /_edge/.
//
// Routing (reference aws-control-plane §2): the SigV4 credential scope of
// the Authorization header or of a presigned URL's X-Amz-Credential names
// the service (s3, elasticloadbalancing, apigateway, sts, acm). Unsigned
// requests are routed by shape: X-Amz-Target CertificateManager.* is ACM; a
// form with Action= and Version=2015-12-01 (or ELB classic's 2012-06-01) is
// ELBv2, Version=2011-06-15 is STS; paths /domainnames… and /restapis… are
// API Gateway; /_edge/… is edge's artefacts; anything else is S3 path
// style. A service without a handler answers an AWS error in that
// service's protocol; a service edge does not know (iam, monitoring,
// lambda…) answers one naming the services served, in the shape its
// protocol family parses, told from the request (errors.go).
//
// Signatures are not checked by default (any key works, as on
// LocalStack). Configured credentials turn checking on for every service
// but S3, whose handler verifies its own requests: the request is signed
// again with aws-sdk-go-v2's signer and the signatures compared.
//
// Every response carries X-Amzn-Requestid (S3 responses also
// x-amz-request-id), the same id the Query services put in their bodies.
package awsapi

import (
	"context"
	"net/http"
	"time"

	"edge/internal/awsquery"
)

// Service names as they appear in a SigV4 credential scope.
const (
	ServiceS3         = "s3"
	ServiceELB        = "elasticloadbalancing"
	ServiceAPIGateway = "apigateway"
	ServiceSTS        = "sts"
	ServiceACM        = "acm"
	// ServiceEdge is edge's own artefacts (/_edge/…); never in a scope.
	ServiceEdge = "edge"
)

// Services are the handlers requests are routed to. A nil handler answers
// "not served" in its service's protocol.
type Services struct {
	S3         http.Handler
	ELBv2      http.Handler
	STS        http.Handler
	APIGateway http.Handler
	ACM        http.Handler
	// Edge serves /_edge/… (trust-store bundle and CRL downloads).
	Edge http.Handler
}

// Options adjust the endpoint.
type Options struct {
	// Credentials maps access key ids to secret keys. Empty: signatures
	// are not checked. Non-empty: every request to a service other than
	// S3 must be signed by one of them (S3 checks its own).
	Credentials map[string]string
	// MaxBody bounds the body of requests to services other than S3.
	// Default: 1 MiB.
	MaxBody int64
	// MaxS3Body bounds S3 request bodies. Default: 5 GiB, S3's limit for
	// one PUT.
	MaxS3Body int64
	// Now is the clock for signature checks; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxBody   = 1 << 20
	DefaultMaxS3Body = 5 << 30
	// MaxClockSkew is how far a signed request's X-Amz-Date may be from
	// the clock, as AWS allows (RequestTimeTooSkewed / SignatureDoesNotMatch).
	MaxClockSkew = 15 * time.Minute
)

// Endpoint is the AWS endpoint handler.
type Endpoint struct {
	svc  Services
	opts Options
}

// New returns the endpoint for the given services.
func New(svc Services, opts Options) *Endpoint {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxS3Body <= 0 {
		opts.MaxS3Body = DefaultMaxS3Body
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Endpoint{svc: svc, opts: opts}
}

// Caller is who sent a request, from its SigV4 credential scope.
type Caller struct {
	// AccessKeyID is "" for unsigned requests.
	AccessKeyID string
	// Region is the scope's region; "" for unsigned requests.
	Region string
	// Service is the service the request was routed to.
	Service string
}

type callerKey struct{}

// CallerFrom returns the caller of a request served by the endpoint.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// ServeHTTP routes the request.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := awsquery.NewRequestID()
	w.Header().Set(awsquery.RequestIDHeader, id)
	rt, aerr := e.route(r)
	if aerr != nil {
		writeError(w, r, rt.service, id, aerr)
		return
	}
	if rt.service == ServiceS3 {
		w.Header().Set("X-Amz-Request-Id", id)
		w.Header().Set("X-Amz-Id-2", id)
	}
	if aerr := e.authorize(r, rt); aerr != nil {
		writeError(w, r, rt.service, id, aerr)
		return
	}
	h := e.handler(rt.service)
	if h == nil {
		writeError(w, r, rt.service, id, e.notServed(rt.service))
		return
	}
	limit := e.opts.MaxBody
	if rt.service == ServiceS3 {
		limit = e.opts.MaxS3Body
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	ctx := context.WithValue(r.Context(), callerKey{}, Caller{AccessKeyID: rt.scope.accessKey, Region: rt.scope.region, Service: rt.service})
	h.ServeHTTP(w, r.WithContext(ctx))
}

func (e *Endpoint) handler(service string) http.Handler {
	switch service {
	case ServiceS3:
		return e.svc.S3
	case ServiceELB:
		return e.svc.ELBv2
	case ServiceSTS:
		return e.svc.STS
	case ServiceAPIGateway:
		return e.svc.APIGateway
	case ServiceACM:
		return e.svc.ACM
	case ServiceEdge:
		return e.svc.Edge
	}
	return nil
}
