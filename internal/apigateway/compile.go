package apigateway

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"edge/internal/pki"
)

// snapshot is the data plane's immutable runtime view: compiled domains
// and APIs. Every Apply builds a new one and swaps it in; connections keep
// the one they were accepted under for TLS decisions.
type snapshot struct {
	domains   map[string]*cDomain // exact names, lowercase
	wildcards map[string]*cDomain // "*.example.com" under "example.com"
	apis      map[string]*cAPI
}

type cDomain struct {
	name     string
	cert     *tls.Certificate
	policy   string
	trust    *Truststore // nil: no mutual TLS
	mappings map[string]*BasePathMapping
}

type cAPI struct {
	id     string
	name   string
	stages map[string]*cStage
}

type cStage struct {
	name string
	// disableExecute is the deployment's disableExecuteApiEndpoint.
	disableExecute bool
	api            *cAPI
	deploymentID   string
	root           *cResource
	format         *AccessLogFormat // nil: the server's default
	variables      map[string]string
}

type cResource struct {
	id, path, part string
	literal        map[string]*cResource
	variable       *cResource // {name} or {name+}
	varName        string
	greedy         bool
	methods        map[string]*Method
}

// buildSnapshot compiles the file layer and the API state. Truststores are
// parsed from their pinned copies (blobs) or, for the file layer, the
// bytes the YAML named.
func (s *Server) buildSnapshot(file, api *State) (*snapshot, error) {
	snap := &snapshot{domains: map[string]*cDomain{}, wildcards: map[string]*cDomain{}, apis: map[string]*cAPI{}}
	now := time.Now()
	for _, st := range []*State{file, api} {
		if st == nil {
			continue
		}
		for _, a := range st.RestAPIs {
			ca, err := compileAPI(a)
			if err != nil {
				return nil, err
			}
			snap.apis[a.ID] = ca
		}
		for _, d := range st.DomainNames {
			cd := &cDomain{name: d.Name, policy: d.SecurityPolicy, mappings: map[string]*BasePathMapping{}}
			for _, m := range d.Mappings {
				cd.mappings[m.BasePath] = m
			}
			if d.MutualTLS != nil {
				var data []byte
				var err error
				if d.file != nil {
					data = d.file.truststore
				} else {
					data, err = os.ReadFile(st.BlobPath(d.MutualTLS.Truststore))
				}
				if err != nil {
					return nil, fmt.Errorf("domain %s: reading its truststore copy: %w", d.Name, err)
				}
				ts, _, err := ParseTruststore(data, now)
				if err != nil {
					return nil, fmt.Errorf("domain %s: truststore %s: %w", d.Name, d.MutualTLS.TruststoreURI, err)
				}
				cd.trust = ts
			}
			cert, err := s.domainCertificate(st, d)
			if err != nil {
				return nil, fmt.Errorf("domain %s: %w", d.Name, err)
			}
			cd.cert = cert
			if rest, ok := strings.CutPrefix(d.Name, "*."); ok {
				snap.wildcards[rest] = cd
			} else {
				snap.domains[d.Name] = cd
			}
		}
	}
	return snap, nil
}

// domainCertificate is the domain's server certificate: the file layer's
// or an imported one, one the CertificateByARN hook knows, or else a
// dev-CA certificate for the domain, localhost and 127.0.0.1 (reference
// §4.5: an ARN edge does not know gets a dev certificate).
func (s *Server) domainCertificate(st *State, d *DomainName) (*tls.Certificate, error) {
	switch {
	case d.file != nil && d.file.certPEM != nil:
		c, err := tls.X509KeyPair(d.file.certPEM, d.file.keyPEM)
		return &c, err
	case d.Certificate != nil && d.Key != nil:
		cp, err := os.ReadFile(st.BlobPath(*d.Certificate))
		if err != nil {
			return nil, err
		}
		kp, err := os.ReadFile(st.BlobPath(*d.Key))
		if err != nil {
			return nil, err
		}
		c, err := tls.X509KeyPair(cp, kp)
		return &c, err
	}
	arn := d.RegionalCertificateArn
	if arn == "" {
		arn = d.CertificateArn
	}
	if arn != "" && s.o.CertificateByARN != nil {
		if c := s.o.CertificateByARN(arn); c != nil {
			return c, nil
		}
	}
	return s.devCert(d.Name)
}

// devCert issues (once per name) a dev-CA certificate for name, localhost
// and 127.0.0.1.
func (s *Server) devCert(name string) (*tls.Certificate, error) {
	s.certMu.Lock()
	defer s.certMu.Unlock()
	if c, ok := s.devCerts[name]; ok {
		return c, nil
	}
	dns := []string{"localhost"}
	if name != "" {
		dns = append([]string{name}, dns...)
	}
	is, err := s.devCA.IssueServer(pki.Options{DNSNames: dns, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		return nil, err
	}
	tc := is.TLSCertificate()
	s.devCerts[name] = &tc
	return &tc, nil
}

func compileAPI(a *RestAPI) (*cAPI, error) {
	ca := &cAPI{id: a.ID, name: a.Name, stages: map[string]*cStage{}}
	for _, st := range a.Stages {
		d := a.Deployment(st.DeploymentID)
		if d == nil {
			return nil, fmt.Errorf("REST API %s stage %s: deployment %s does not exist", a.ID, st.Name, st.DeploymentID)
		}
		cs := &cStage{name: st.Name, api: ca, deploymentID: d.ID, disableExecute: d.DisableExecuteAPIEndpoint, variables: st.Variables, root: compileTree(d.Resources)}
		if st.AccessLogSettings != nil && st.AccessLogSettings.Format != "" {
			f, err := ParseAccessLogFormat(st.AccessLogSettings.Format)
			if err != nil {
				return nil, fmt.Errorf("REST API %s stage %s: access log format: %w", a.ID, st.Name, err)
			}
			cs.format = f
		}
		ca.stages[st.Name] = cs
	}
	return ca, nil
}

var varPart = regexp.MustCompile(`^\{([^{}+]+)(\+?)\}$`)

func compileTree(rs []*Resource) *cResource {
	nodes := map[string]*cResource{}
	var root *cResource
	for _, r := range rs {
		nodes[r.ID] = &cResource{id: r.ID, part: r.PathPart, path: resourcePath(rs, r), literal: map[string]*cResource{}, methods: r.Methods}
		if r.ParentID == "" {
			root = nodes[r.ID]
		}
	}
	for _, r := range rs {
		if r.ParentID == "" {
			continue
		}
		p, n := nodes[r.ParentID], nodes[r.ID]
		if p == nil {
			continue
		}
		if m := varPart.FindStringSubmatch(r.PathPart); m != nil {
			p.variable, n.varName, n.greedy = n, m[1], m[2] == "+"
		} else {
			p.literal[r.PathPart] = n
		}
	}
	if root == nil {
		root = &cResource{path: "/", literal: map[string]*cResource{}}
	}
	return root
}

// match finds the resource for a path (segments after the stage):
// literal segments before a {var}, a greedy {var+} taking the rest (at
// least one segment).
func (r *cResource) match(segs []string, params map[string]string) *cResource {
	if len(segs) == 0 {
		return r
	}
	if c := r.literal[segs[0]]; c != nil {
		if m := c.match(segs[1:], params); m != nil {
			return m
		}
	}
	if v := r.variable; v != nil {
		if v.greedy {
			params[v.varName] = strings.Join(segs, "/")
			return v
		}
		if m := v.match(segs[1:], params); m != nil {
			params[v.varName] = segs[0]
			return m
		}
	}
	return nil
}
