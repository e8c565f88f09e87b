package awsapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"edge/internal/awsquery"
)

// scope is a parsed SigV4 credential scope: AKID/DATE/REGION/SERVICE/aws4_request.
type scope struct {
	accessKey, date, region, service string
}

func parseScope(cred string) (scope, bool) {
	p := strings.Split(cred, "/")
	if len(p) != 5 || p[4] != "aws4_request" || p[0] == "" || p[3] == "" {
		return scope{}, false
	}
	return scope{accessKey: p[0], date: p[1], region: p[2], service: p[3]}, true
}

// sigV4 is a parsed Authorization header or presigned query.
type sigV4 struct {
	scope
	signedHeaders []string
	signature     string
	presigned     bool
}

const algorithm = "AWS4-HMAC-SHA256"

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…"; ok is false when the header is absent or another scheme.
func parseAuthorization(h string) (sig sigV4, ok bool) {
	rest, found := strings.CutPrefix(h, algorithm+" ")
	if !found {
		return sigV4{}, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			sig.scope, ok = parseScope(v)
		case "SignedHeaders":
			sig.signedHeaders = strings.Split(v, ";")
		case "Signature":
			sig.signature = v
		}
	}
	return sig, ok
}

func parsePresigned(q url.Values) (sig sigV4, ok bool) {
	if q.Get("X-Amz-Algorithm") != algorithm {
		return sigV4{}, false
	}
	sig.scope, ok = parseScope(q.Get("X-Amz-Credential"))
	sig.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	sig.signature = q.Get("X-Amz-Signature")
	sig.presigned = true
	return sig, ok
}

// route is where a request goes and the signature it carries, if any.
type route struct {
	service string
	sig     *sigV4
	scope   scope
}

// Query API versions that share the unsigned form shape.
const (
	versionELBv2       = "2015-12-01"
	versionELBClassic  = "2012-06-01"
	versionSTS         = "2011-06-15"
	namespaceELBv2     = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	namespaceSTS       = "https://sts.amazonaws.com/doc/2011-06-15/"
	acmTargetPrefix    = "CertificateManager."
	artefactPathPrefix = "/_edge/"
)

func (e *Endpoint) route(r *http.Request) (route, *awsquery.Error) {
	if strings.HasPrefix(r.URL.Path, artefactPathPrefix) {
		return route{service: ServiceEdge}, nil
	}
	if sig, ok := parseAuthorization(r.Header.Get("Authorization")); ok {
		return route{service: sig.service, sig: &sig, scope: sig.scope}, nil
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-") {
		return route{service: ServiceS3}, awsquery.Errorf("IncompleteSignature", "The Authorization header is not a valid AWS4-HMAC-SHA256 signature (Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=…, Signature=…).")
	}
	if sig, ok := parsePresigned(r.URL.Query()); ok {
		return route{service: sig.service, sig: &sig, scope: sig.scope}, nil
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), acmTargetPrefix) {
		return route{service: ServiceACM}, nil
	}
	if v, ok := e.queryVersion(r); ok {
		switch v {
		case versionSTS:
			return route{service: ServiceSTS}, nil
		default:
			// 2015-12-01, ELB classic's 2012-06-01 (answered InvalidAction
			// by the ELBv2 handler) and unknown versions.
			return route{service: ServiceELB}, nil
		}
	}
	p := r.URL.Path
	for _, prefix := range []string{"/domainnames", "/restapis"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return route{service: ServiceAPIGateway}, nil
		}
	}
	return route{service: ServiceS3}, nil
}

// queryVersion reports the Version of an unsigned Query request: a GET
// whose query has Action and Version, or a form-encoded POST whose body
// does. The body is read (up to MaxBody) and put back.
func (e *Endpoint) queryVersion(r *http.Request) (string, bool) {
	q := r.URL.Query()
	if q.Has("Action") && q.Has("Version") {
		return q.Get("Version"), true
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return "", false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return "", false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, e.opts.MaxBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return "", false
	}
	f, err := url.ParseQuery(string(body))
	if err != nil || !f.Has("Action") {
		return "", false
	}
	return f.Get("Version"), true
}
