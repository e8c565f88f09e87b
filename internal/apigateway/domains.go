package apigateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"edge/internal/objects"
)

// Security policies of REST API custom domains edge serves (the legacy
// policies; SecurityPolicy_* enhanced policies cannot carry mTLS [doc]).
const (
	PolicyTLS10 = "TLS_1_0"
	PolicyTLS12 = "TLS_1_2"
)

// DefaultSecurityPolicy is edge's choice when a domain names none.
const DefaultSecurityPolicy = PolicyTLS12

// domain names: labels of letters, digits and '-', optionally a leading
// "*." wildcard (API Gateway accepts wildcard custom domain names).
var domainNameRE = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)

type mutualTLSInput struct {
	TruststoreURI     string `json:"truststoreUri"`
	TruststoreVersion string `json:"truststoreVersion"`
}

type createDomainNameInput struct {
	DomainName              string                 `json:"domainName"`
	CertificateName         string                 `json:"certificateName"`
	CertificateBody         string                 `json:"certificateBody"`
	CertificatePrivateKey   string                 `json:"certificatePrivateKey"`
	CertificateChain        string                 `json:"certificateChain"`
	CertificateArn          string                 `json:"certificateArn"`
	RegionalCertificateName string                 `json:"regionalCertificateName"`
	RegionalCertificateArn  string                 `json:"regionalCertificateArn"`
	EndpointConfiguration   *EndpointConfiguration `json:"endpointConfiguration"`
	Tags                    map[string]string      `json:"tags"`
	SecurityPolicy          string                 `json:"securityPolicy"`
	MutualTLS               *mutualTLSInput        `json:"mutualTlsAuthentication"`
}

// domainNameOut is the model's DomainName as edge answers it. There is no
// domainNameId: API Gateway documents it for private domains only, and
// Terraform appends ?domainNameId= to later calls when it is present.
type domainNameOut struct {
	DomainName               string                 `json:"domainName"`
	DomainNameArn            string                 `json:"domainNameArn"`
	CertificateName          string                 `json:"certificateName,omitempty"`
	CertificateArn           string                 `json:"certificateArn,omitempty"`
	CertificateUploadDate    *Epoch                 `json:"certificateUploadDate,omitempty"`
	RegionalDomainName       string                 `json:"regionalDomainName,omitempty"`
	RegionalHostedZoneID     string                 `json:"regionalHostedZoneId,omitempty"`
	RegionalCertificateName  string                 `json:"regionalCertificateName,omitempty"`
	RegionalCertificateArn   string                 `json:"regionalCertificateArn,omitempty"`
	DistributionDomainName   string                 `json:"distributionDomainName,omitempty"`
	DistributionHostedZoneID string                 `json:"distributionHostedZoneId,omitempty"`
	EndpointConfiguration    *EndpointConfiguration `json:"endpointConfiguration,omitempty"`
	DomainNameStatus         string                 `json:"domainNameStatus"`
	SecurityPolicy           string                 `json:"securityPolicy,omitempty"`
	Tags                     map[string]string      `json:"tags,omitempty"`
	MutualTLS                *mutualTLSOut          `json:"mutualTlsAuthentication,omitempty"`
}

type mutualTLSOut struct {
	TruststoreURI      string   `json:"truststoreUri"`
	TruststoreVersion  string   `json:"truststoreVersion,omitempty"`
	TruststoreWarnings []string `json:"truststoreWarnings,omitempty"`
}

// regionalHostedZones are API Gateway's regional hosted zone ids [doc:
// AWS general reference, API Gateway endpoints].
var regionalHostedZones = map[string]string{
	"us-east-1": "Z1UJRXOUMOOFQ8", "us-east-2": "ZOJJZC49E0EPZ", "us-west-1": "Z2MUQ32089INYE",
	"us-west-2": "Z2OJLYMUO9EFXC", "eu-west-1": "ZLY8HYME6SFDD", "eu-central-1": "Z1U9ULNL0V5AJ3",
}

func (s *Service) domainOut(d *DomainName) domainNameOut {
	o := domainNameOut{
		DomainName: d.Name, DomainNameArn: s.arn("/domainnames/" + d.Name),
		EndpointConfiguration: d.EndpointConfiguration, DomainNameStatus: "AVAILABLE",
		SecurityPolicy: d.SecurityPolicy, Tags: d.Tags,
	}
	created := d.Created
	if endpointType(d) == "REGIONAL" {
		o.RegionalDomainName = s.o.RegionalDomainName
		o.RegionalHostedZoneID = regionalHostedZones[s.o.Region]
		o.RegionalCertificateArn, o.RegionalCertificateName = d.RegionalCertificateArn, d.RegionalCertName
	} else {
		o.DistributionDomainName = s.o.RegionalDomainName
		o.DistributionHostedZoneID = "Z2FDTNDATAQYW2" // CloudFront's
		o.CertificateArn, o.CertificateName = d.CertificateArn, d.CertificateName
		o.CertificateUploadDate = &created
	}
	if d.Certificate != nil {
		o.CertificateUploadDate = &created
	}
	if m := d.MutualTLS; m != nil {
		o.MutualTLS = &mutualTLSOut{TruststoreURI: m.TruststoreURI, TruststoreVersion: m.TruststoreVersion, TruststoreWarnings: m.TruststoreWarnings}
	}
	return o
}

func endpointType(d *DomainName) string {
	if d.EndpointConfiguration != nil && len(d.EndpointConfiguration.Types) > 0 {
		return d.EndpointConfiguration.Types[0]
	}
	return "EDGE"
}

// checkDomain validates a domain's settings as a whole (after a create or
// an update): endpoint type, policy, and mTLS's REGIONAL + TLS_1_2 rule.
func checkDomain(d *DomainName) error {
	if ec := d.EndpointConfiguration; ec != nil {
		if len(ec.Types) != 1 {
			return badRequest("endpointConfiguration.types must hold exactly one endpoint type (REGIONAL or EDGE).")
		}
		switch ec.Types[0] {
		case "REGIONAL", "EDGE":
		case "PRIVATE":
			return badRequest("edge emulates public (REGIONAL and EDGE) custom domain names only, not PRIVATE ones.")
		default:
			return badRequest("Invalid endpoint type %q: must be REGIONAL or EDGE.", ec.Types[0])
		}
	}
	switch d.SecurityPolicy {
	case PolicyTLS10, PolicyTLS12:
	default:
		return badRequest("Invalid security policy %q: edge serves TLS_1_0 and TLS_1_2.", d.SecurityPolicy)
	}
	if d.MutualTLS != nil {
		if endpointType(d) != "REGIONAL" {
			return badRequest("Mutual TLS is only supported on REGIONAL custom domain names; set endpointConfiguration types=REGIONAL.")
		}
		if d.SecurityPolicy != PolicyTLS12 {
			return badRequest("Mutual TLS requires the TLS_1_2 security policy; this domain uses %s.", d.SecurityPolicy)
		}
	}
	return nil
}

// parseS3URI splits s3://bucket/key.
func parseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", badRequest("Invalid truststoreUri %q: it must be an S3 URL of the form s3://bucket-name/key-name.", uri)
	}
	return bucket, key, nil
}

// unversionedError is readTruststore's error for a truststore version on
// a bucket whose versioning was never enabled.
type unversionedError struct{ bucket, version string }

func (e *unversionedError) Error() string {
	return fmt.Sprintf("truststore version %q was given but bucket %s is not versioned", e.version, e.bucket)
}

// readTruststore reads s3://bucket/key at version ("" for the current
// one), as API Gateway reads a domain's truststore. A version on a bucket
// without versioning is an *unversionedError; a missing bucket, key or
// version an *objects.NotFoundError. The embedded store (and an external
// one may) answers a version of a key that does not exist with
// NoSuchVersion; readTruststore then looks the key up and reports the
// missing key instead (with the store's nearest existing key), which is
// what to fix.
func readTruststore(ctx context.Context, objs objects.Source, bucket, key, version string) (*objects.Object, error) {
	if version != "" {
		st, err := objs.Versioning(ctx, bucket)
		if err != nil {
			return nil, err
		}
		if st == "" {
			return nil, &unversionedError{bucket: bucket, version: version}
		}
	}
	obj, err := objs.Get(ctx, bucket, key, version)
	if version != "" && errors.Is(err, objects.ErrNoSuchVersion) {
		var nf *objects.NotFoundError
		if _, kerr := objs.Get(ctx, bucket, key, ""); errors.Is(kerr, objects.ErrNoSuchKey) && errors.As(kerr, &nf) {
			return nil, nf
		}
	}
	return obj, err
}

// loadTruststore reads the truststore version named (or the current one),
// checks it, stores its copy and returns the domain's MutualTLS.
func (s *Service) loadTruststore(ctx context.Context, in mutualTLSInput) (*MutualTLS, error) {
	bucket, key, err := parseS3URI(in.TruststoreURI)
	if err != nil {
		return nil, err
	}
	if s.o.Objects == nil {
		return nil, badRequest("edge has no S3 store configured to read %s from.", in.TruststoreURI)
	}
	obj, err := readTruststore(ctx, s.o.Objects, bucket, key, in.TruststoreVersion)
	var nf *objects.NotFoundError
	var ue *unversionedError
	switch {
	case errors.As(err, &ue):
		return nil, badRequest("truststoreVersion %q was given but bucket %s is not versioned; enable versioning on the bucket or omit truststoreVersion.", ue.version, ue.bucket)
	case errors.As(err, &nf):
		return nil, badRequest("Unable to load the truststore %s: %s.", in.TruststoreURI, nf.Error())
	case err != nil:
		return nil, ErrInternal.With("reading %s: %v", in.TruststoreURI, err)
	}
	_, warnings, err := ParseTruststore(obj.Bytes, s.o.Now())
	var te *TruststoreError
	if errors.As(err, &te) {
		return nil, badRequest("Invalid truststore %s: %s.", in.TruststoreURI, te.Reason)
	} else if err != nil {
		return nil, badRequest("Invalid truststore %s: %v.", in.TruststoreURI, err)
	}
	sha, err := s.o.Store.PutBlob(obj.Bytes)
	if err != nil {
		return nil, ErrInternal.With("storing the truststore: %v", err)
	}
	v := obj.VersionID
	if v == "null" {
		v = ""
	}
	return &MutualTLS{
		TruststoreURI: in.TruststoreURI, TruststoreVersion: in.TruststoreVersion, TruststoreWarnings: warnings,
		Truststore: Blob{SHA256: sha, Size: int64(len(obj.Bytes)), Bucket: bucket, Key: key, VersionID: v},
	}, nil
}

// importCertificate checks and stores certificateBody (+chain) and its key.
func (s *Service) importCertificate(body, chain, key string) (*Blob, *Blob, error) {
	certPEM := strings.TrimSpace(body) + "\n"
	if strings.TrimSpace(chain) != "" {
		certPEM += strings.TrimSpace(chain) + "\n"
	}
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(key)); err != nil {
		return nil, nil, badRequest("Invalid certificate: certificateBody, certificateChain and certificatePrivateKey do not form a usable certificate (%v).", err)
	}
	cs, err := s.o.Store.PutBlob([]byte(certPEM))
	if err != nil {
		return nil, nil, ErrInternal.With("storing the certificate: %v", err)
	}
	ks, err := s.o.Store.PutBlob([]byte(key))
	if err != nil {
		return nil, nil, ErrInternal.With("storing the key: %v", err)
	}
	return &Blob{SHA256: cs, Size: int64(len(certPEM))}, &Blob{SHA256: ks, Size: int64(len(key))}, nil
}

func (s *Service) createDomainName(c *call) (result, error) {
	var in createDomainNameInput
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	if in.DomainName == "" {
		return result{}, badRequest("domainName must be specified.")
	}
	if !domainNameRE.MatchString(in.DomainName) {
		return result{}, badRequest("Invalid domain name %q.", in.DomainName)
	}
	d := &DomainName{
		Name: strings.ToLower(in.DomainName), CertificateName: in.CertificateName, CertificateArn: in.CertificateArn,
		RegionalCertificateArn: in.RegionalCertificateArn, RegionalCertName: in.RegionalCertificateName,
		EndpointConfiguration: in.EndpointConfiguration, SecurityPolicy: in.SecurityPolicy, Tags: in.Tags,
		Created: s.now(),
	}
	if d.SecurityPolicy == "" {
		d.SecurityPolicy = DefaultSecurityPolicy
	}
	if d.EndpointConfiguration == nil {
		d.EndpointConfiguration = &EndpointConfiguration{Types: []string{"EDGE"}}
	}
	if in.MutualTLS != nil {
		d.MutualTLS = &MutualTLS{TruststoreURI: in.MutualTLS.TruststoreURI}
	}
	if err := checkDomain(d); err != nil {
		return result{}, err
	}
	if w := s.view(); w.domain(d.Name) != nil {
		return result{}, conflict("The domain name you provided already exists.")
	}
	if in.CertificateBody != "" || in.CertificatePrivateKey != "" {
		cert, key, err := s.importCertificate(in.CertificateBody, in.CertificateChain, in.CertificatePrivateKey)
		if err != nil {
			return result{}, err
		}
		d.Certificate, d.Key = cert, key
	}
	if in.MutualTLS != nil && in.MutualTLS.TruststoreURI != "" {
		// S3 is read outside the mutation lock.
		m, err := s.loadTruststore(c.ctx, *in.MutualTLS)
		if err != nil {
			return result{}, err
		}
		d.MutualTLS = m
	} else {
		d.MutualTLS = nil
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		if w.domain(d.Name) != nil {
			return result{}, conflict("The domain name you provided already exists.")
		}
		w.api.DomainNames = append(w.api.DomainNames, d)
		return result{http.StatusCreated, s.domainOut(d)}, nil
	})
}

func (s *Service) getDomainName(c *call) (result, error) {
	d := s.view().domain(strings.ToLower(c.params["domain"]))
	if d == nil {
		return result{}, notFound("Invalid domain name identifier specified")
	}
	return result{http.StatusOK, s.domainOut(d)}, nil
}

func (s *Service) getDomainNames(c *call) (result, error) {
	items, next, err := page(s.view().domains(), c)
	if err != nil {
		return result{}, err
	}
	out := list[domainNameOut]{Position: next, Item: []domainNameOut{}}
	for _, d := range items {
		out.Item = append(out.Item, s.domainOut(d))
	}
	return result{http.StatusOK, out}, nil
}

const domainPatchPaths = "/mutualTlsAuthentication/truststoreUri, /mutualTlsAuthentication/truststoreVersion, /securityPolicy, /regionalCertificateArn, /regionalCertificateName, /certificateArn, /certificateName, /endpointConfiguration/types/0"

func (s *Service) updateDomainName(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	name := strings.ToLower(c.params["domain"])
	cur := s.view().domain(name)
	if cur == nil {
		return result{}, notFound("Invalid domain name identifier specified")
	}
	if cur.file != nil {
		return result{}, readOnly("Domain name", name, cur.file)
	}
	// Work on a copy; S3 is read before taking the mutation lock.
	d := *cur
	var mtls *mutualTLSInput
	if cur.MutualTLS != nil {
		mtls = &mutualTLSInput{TruststoreURI: cur.MutualTLS.TruststoreURI, TruststoreVersion: cur.MutualTLS.TruststoreVersion}
	}
	reload := false
	for _, op := range ops {
		if op.Op != "replace" && op.Op != "add" && !(op.Op == "remove" && strings.HasPrefix(op.Path, "/mutualTlsAuthentication")) {
			return result{}, invalidPath(op, domainPatchPaths)
		}
		switch op.Path {
		case "/mutualTlsAuthentication/truststoreUri":
			reload = true
			if op.Op == "remove" || op.Value == "" {
				mtls = nil // '' disables mutual TLS [doc]
				continue
			}
			if mtls == nil {
				mtls = &mutualTLSInput{}
			}
			mtls.TruststoreURI = op.Value
		case "/mutualTlsAuthentication/truststoreVersion":
			reload = true
			if mtls == nil {
				return result{}, badRequest("The domain has no mutual TLS configuration; replace /mutualTlsAuthentication/truststoreUri first.")
			}
			mtls.TruststoreVersion = op.Value
			if op.Op == "remove" {
				mtls.TruststoreVersion = ""
			}
		case "/securityPolicy":
			d.SecurityPolicy = op.Value
		case "/regionalCertificateArn":
			d.RegionalCertificateArn = op.Value
		case "/regionalCertificateName":
			d.RegionalCertName = op.Value
		case "/certificateArn":
			d.CertificateArn = op.Value
		case "/certificateName":
			d.CertificateName = op.Value
		case "/endpointConfiguration/types/0":
			d.EndpointConfiguration = &EndpointConfiguration{Types: []string{op.Value}}
		default:
			return result{}, invalidPath(op, domainPatchPaths)
		}
	}
	if reload {
		d.MutualTLS = nil
		if mtls != nil {
			d.MutualTLS = &MutualTLS{TruststoreURI: mtls.TruststoreURI}
		}
	}
	if err := checkDomain(&d); err != nil {
		return result{}, err
	}
	if reload && mtls != nil {
		m, err := s.loadTruststore(c.ctx, *mtls)
		if err != nil {
			return result{}, err
		}
		d.MutualTLS = m
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		for i, x := range w.api.DomainNames {
			if x.Name == name {
				nd := d
				nd.Mappings = x.Mappings
				w.api.DomainNames[i] = &nd
				return result{http.StatusOK, s.domainOut(&nd)}, nil
			}
		}
		return result{}, notFound("Invalid domain name identifier specified")
	})
}

func (s *Service) deleteDomainName(c *call) (result, error) {
	name := strings.ToLower(c.params["domain"])
	return mutate(c.ctx, s, func(w *world) (result, error) {
		d := w.domain(name)
		if d == nil {
			return result{}, notFound("Invalid domain name identifier specified")
		}
		if d.file != nil {
			return result{}, readOnly("Domain name", name, d.file)
		}
		w.api.DomainNames = deleteFrom(w.api.DomainNames, func(x *DomainName) bool { return x.Name == name })
		return result{status: http.StatusAccepted}, nil
	})
}

// ---- base path mappings ----

// noneBasePath is how an empty base path appears in URLs and answers.
const noneBasePath = "(none)"

var basePathRE = regexp.MustCompile(`^[a-zA-Z0-9$_.+!*'()-]+$`)

func mappingOut(m *BasePathMapping) BasePathMapping {
	o := *m
	if o.BasePath == "" {
		o.BasePath = noneBasePath
	}
	return o
}

func normalizeBasePath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == noneBasePath {
		p = ""
	}
	if p != "" && !basePathRE.MatchString(p) {
		return "", badRequest("Invalid base path %q: use letters, digits and $_.+!*'()- (one path segment).", p)
	}
	return p, nil
}

func (w *world) checkMappingTarget(apiID, stage string) error {
	a := w.api_(apiID)
	if a == nil {
		return badRequest("Invalid REST API identifier specified")
	}
	if stage != "" && a.Stage(stage) == nil {
		return badRequest("Invalid stage identifier specified")
	}
	return nil
}

func (s *Service) createBasePathMapping(c *call) (result, error) {
	var in BasePathMapping
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	bp, err := normalizeBasePath(in.BasePath)
	if err != nil {
		return result{}, err
	}
	if in.RestAPIID == "" {
		return result{}, badRequest("restApiId must be specified.")
	}
	name := strings.ToLower(c.params["domain"])
	return mutate(c.ctx, s, func(w *world) (result, error) {
		d := w.domain(name)
		if d == nil {
			return result{}, notFound("Invalid domain name identifier specified")
		}
		if d.file != nil {
			return result{}, readOnly("Domain name", name, d.file)
		}
		d = w.api.Domain(name)
		if err := w.checkMappingTarget(in.RestAPIID, in.Stage); err != nil {
			return result{}, err
		}
		for _, m := range d.Mappings {
			if m.BasePath == bp {
				return result{}, conflict("Base path already exists for this domain name")
			}
		}
		m := &BasePathMapping{BasePath: bp, RestAPIID: in.RestAPIID, Stage: in.Stage}
		d.Mappings = append(d.Mappings, m)
		return result{http.StatusCreated, mappingOut(m)}, nil
	})
}

func (s *Service) findMapping(w *world, c *call) (*DomainName, *BasePathMapping, error) {
	name := strings.ToLower(c.params["domain"])
	d := w.domain(name)
	if d == nil {
		return nil, nil, notFound("Invalid domain name identifier specified")
	}
	bp, _ := normalizeBasePath(c.params["basePath"])
	for _, m := range d.Mappings {
		if m.BasePath == bp {
			return d, m, nil
		}
	}
	return d, nil, notFound("Invalid base path mapping identifier specified")
}

func (s *Service) getBasePathMapping(c *call) (result, error) {
	_, m, err := s.findMapping(s.view(), c)
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, mappingOut(m)}, nil
}

func (s *Service) getBasePathMappings(c *call) (result, error) {
	d := s.view().domain(strings.ToLower(c.params["domain"]))
	if d == nil {
		return result{}, notFound("Invalid domain name identifier specified")
	}
	items, next, err := page(d.Mappings, c)
	if err != nil {
		return result{}, err
	}
	out := list[BasePathMapping]{Position: next, Item: []BasePathMapping{}}
	for _, m := range items {
		out.Item = append(out.Item, mappingOut(m))
	}
	return result{http.StatusOK, out}, nil
}

func (s *Service) updateBasePathMapping(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		d, m, err := s.findMapping(w, c)
		if err != nil {
			return result{}, err
		}
		if d.file != nil {
			return result{}, readOnly("Domain name", d.Name, d.file)
		}
		n := *m
		for _, op := range ops {
			if op.Op != "replace" {
				return result{}, invalidPath(op, "/basePath, /restapiId, /stage")
			}
			switch op.Path {
			case "/basePath":
				bp, err := normalizeBasePath(op.Value)
				if err != nil {
					return result{}, err
				}
				for _, o := range d.Mappings {
					if o != m && o.BasePath == bp {
						return result{}, conflict("Base path already exists for this domain name")
					}
				}
				n.BasePath = bp
			case "/restapiId", "/restApiId":
				n.RestAPIID = op.Value
			case "/stage":
				n.Stage = op.Value
			default:
				return result{}, invalidPath(op, "/basePath, /restapiId, /stage")
			}
		}
		if err := w.checkMappingTarget(n.RestAPIID, n.Stage); err != nil {
			return result{}, err
		}
		*m = n
		return result{http.StatusOK, mappingOut(m)}, nil
	})
}

func (s *Service) deleteBasePathMapping(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		d, m, err := s.findMapping(w, c)
		if err != nil {
			return result{}, err
		}
		if d.file != nil {
			return result{}, readOnly("Domain name", d.Name, d.file)
		}
		d.Mappings = deleteFrom(d.Mappings, func(x *BasePathMapping) bool { return x == m })
		return result{status: http.StatusAccepted}, nil
	})
}
