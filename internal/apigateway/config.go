package apigateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"edge/internal/logfmt"
	"edge/internal/objects"
)

// Config is the api_gateway: block of edge.yaml:
//
//	api_gateway:
//	  listen: 127.0.0.1:8444          # one HTTPS listener, port 0 allowed
//	  access_log: stdout              # a log destination (stdout, stderr, off, file:PATH); default stdout
//	  access_log_format: '…'          # default DefaultAccessLogFormat
//	  execution_log: stderr           # the 403 reasons; default stderr
//	  domain_names:
//	    - domain_name: api.example.com
//	      certificate: {cert: server.pem, key: server.key}   # else a dev certificate
//	      security_policy: TLS_1_2
//	      mutual_tls_authentication:
//	        truststore: truststore.pem                # or truststore_uri: s3://bucket/key
//	        truststore_version: …                     # with truststore_uri only
//	      base_path_mappings:
//	        - {base_path: "", rest_api: pets, stage: prod}
//	  rest_apis:
//	    - name: pets
//	      disable_execute_api_endpoint: true
//	      stages: [{name: prod}]
//	      routes:
//	        - path: /{proxy+}
//	          method: ANY
//	          integration:
//	            type: HTTP_PROXY
//	            uri: http://127.0.0.1:8080/{proxy}
//	            request_parameters:
//	              integration.request.header.X-Client-Subject: context.identity.clientCert.subjectDN
//
// Relative file paths are relative to the configuration file's directory.
// Resources of this layer appear in the API read-only, with ids derived
// from their names.
type Config struct {
	Listen          string         `yaml:"listen"`
	AccessLog       string         `yaml:"access_log"`
	AccessLogFormat string         `yaml:"access_log_format"`
	ExecutionLog    string         `yaml:"execution_log"`
	DomainNames     []DomainConfig `yaml:"domain_names"`
	RestAPIs        []APIConfig    `yaml:"rest_apis"`
}

// DomainConfig is one custom domain name.
type DomainConfig struct {
	DomainName             string             `yaml:"domain_name"`
	Certificate            *CertificateConfig `yaml:"certificate"`
	RegionalCertificateArn string             `yaml:"regional_certificate_arn"`
	// EndpointType is REGIONAL (the default here) or EDGE.
	EndpointType     string            `yaml:"endpoint_type"`
	SecurityPolicy   string            `yaml:"security_policy"`
	MutualTLS        *MutualTLSConfig  `yaml:"mutual_tls_authentication"`
	BasePathMappings []BasePathConfig  `yaml:"base_path_mappings"`
	Tags             map[string]string `yaml:"tags"`
}

// CertificateConfig names PEM files of a server certificate (with its
// chain) and its key.
type CertificateConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// MutualTLSConfig is a domain's truststore: a file, or an S3 object
// (version) read through the S3 store when the configuration is compiled.
type MutualTLSConfig struct {
	Truststore        string `yaml:"truststore"`
	TruststoreURI     string `yaml:"truststore_uri"`
	TruststoreVersion string `yaml:"truststore_version"`
}

// BasePathConfig maps a base path ("" for the whole domain) to a stage of
// a REST API named in rest_apis.
type BasePathConfig struct {
	BasePath string `yaml:"base_path"`
	RestAPI  string `yaml:"rest_api"`
	Stage    string `yaml:"stage"`
}

// APIConfig is a REST API: routes (resource path + method + integration)
// deployed to its stages.
type APIConfig struct {
	Name                      string        `yaml:"name"`
	DisableExecuteAPIEndpoint bool          `yaml:"disable_execute_api_endpoint"`
	Stages                    []StageConfig `yaml:"stages"`
	Routes                    []RouteConfig `yaml:"routes"`
}

// StageConfig is a stage; AccessLogFormat overrides the server's.
type StageConfig struct {
	Name            string            `yaml:"name"`
	AccessLogFormat string            `yaml:"access_log_format"`
	Variables       map[string]string `yaml:"variables"`
}

// RouteConfig is one method of one resource path.
type RouteConfig struct {
	Path        string            `yaml:"path"`
	Method      string            `yaml:"method"`
	Integration IntegrationConfig `yaml:"integration"`
}

// IntegrationConfig is the route's integration (HTTP_PROXY, HTTP or MOCK).
type IntegrationConfig struct {
	Type              string            `yaml:"type"`
	URI               string            `yaml:"uri"`
	HTTPMethod        string            `yaml:"http_method"`
	RequestParameters map[string]string `yaml:"request_parameters"`
	TimeoutMillis     int               `yaml:"timeout_in_millis"`
	// MockStatus and MockBody answer MOCK integrations.
	MockStatus int    `yaml:"mock_status"`
	MockBody   string `yaml:"mock_body"`
}

// Problem is one thing wrong with a Config: Path is the key path
// ("api_gateway.domain_names[0].mutual_tls_authentication").
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// ParseConfig decodes an api_gateway block (the mapping under the key)
// strictly: unknown keys are errors.
func ParseConfig(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the block without reading files or S3; every problem is
// reported with its key path.
func (c *Config) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{"api_gateway" + path, fmt.Sprintf(format, args...)})
	}
	if c.Listen == "" {
		add(".listen", "is required (host:port, port 0 picks a free port)")
	}
	for _, d := range []struct{ key, v string }{{"access_log", c.AccessLog}, {"execution_log", c.ExecutionLog}} {
		if dest, err := logfmt.ParseDestination(d.v); err != nil {
			add("."+d.key, "%v", err)
		} else if dest.Kind == "dir" {
			add("."+d.key, "dir: destinations are ALB's S3 layout; use stdout, stderr, off or file:PATH")
		}
	}
	if c.AccessLogFormat != "" {
		if _, err := ParseAccessLogFormat(c.AccessLogFormat); err != nil {
			add(".access_log_format", "%v", err)
		}
	}
	apis := map[string]*APIConfig{}
	for i := range c.RestAPIs {
		a := &c.RestAPIs[i]
		p := fmt.Sprintf(".rest_apis[%d]", i)
		if a.Name == "" {
			add(p+".name", "is required")
		} else if apis[a.Name] != nil {
			add(p+".name", "%q is defined twice", a.Name)
		}
		apis[a.Name] = a
		if len(a.Stages) == 0 {
			add(p+".stages", "needs at least one stage (e.g. [{name: prod}])")
		}
		for j, s := range a.Stages {
			if !stageNameRE.MatchString(s.Name) {
				add(fmt.Sprintf("%s.stages[%d].name", p, j), "%q: use 1-128 of a-zA-Z0-9_-", s.Name)
			}
			if s.AccessLogFormat != "" {
				if _, err := ParseAccessLogFormat(s.AccessLogFormat); err != nil {
					add(fmt.Sprintf("%s.stages[%d].access_log_format", p, j), "%v", err)
				}
			}
		}
		if len(a.Routes) == 0 {
			add(p+".routes", "needs at least one route")
		}
		seen := map[string]bool{}
		for j, r := range a.Routes {
			rp := fmt.Sprintf("%s.routes[%d]", p, j)
			if !strings.HasPrefix(r.Path, "/") {
				add(rp+".path", "%q must start with /", r.Path)
			}
			for _, part := range splitPath(r.Path) {
				if !pathPartRE.MatchString(part) {
					add(rp+".path", "%q: path part %q is not a literal, {name} or {name+}", r.Path, part)
				}
			}
			m := strings.ToUpper(r.Method)
			if !httpMethods[m] {
				add(rp+".method", "%q: use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY", r.Method)
			}
			if seen[m+" "+r.Path] {
				add(rp, "%s %s is defined twice", m, r.Path)
			}
			seen[m+" "+r.Path] = true
			if err := checkIntegration(r.Integration.integration("")); err != nil {
				add(rp+".integration", "%s", err.(*Error).Message)
			}
		}
	}
	names := map[string]bool{}
	for i, d := range c.DomainNames {
		p := fmt.Sprintf(".domain_names[%d]", i)
		if !domainNameRE.MatchString(d.DomainName) {
			add(p+".domain_name", "%q is not a domain name", d.DomainName)
		}
		if names[strings.ToLower(d.DomainName)] {
			add(p+".domain_name", "%q is defined twice", d.DomainName)
		}
		names[strings.ToLower(d.DomainName)] = true
		if ce := d.Certificate; ce != nil && (ce.Cert == "" || ce.Key == "") {
			add(p+".certificate", "needs both cert and key")
		}
		if err := checkDomain(d.domain()); err != nil {
			add(p, "%s", err.(*Error).Message)
		}
		if m := d.MutualTLS; m != nil {
			switch {
			case m.Truststore == "" && m.TruststoreURI == "":
				add(p+".mutual_tls_authentication", "needs truststore (a file) or truststore_uri (s3://bucket/key)")
			case m.Truststore != "" && m.TruststoreURI != "":
				add(p+".mutual_tls_authentication", "truststore and truststore_uri are exclusive")
			case m.TruststoreURI != "":
				if _, _, err := parseS3URI(m.TruststoreURI); err != nil {
					add(p+".mutual_tls_authentication.truststore_uri", "%s", err.(*Error).Message)
				}
			case m.TruststoreVersion != "":
				add(p+".mutual_tls_authentication.truststore_version", "applies to truststore_uri only")
			}
		}
		bps := map[string]bool{}
		for j, m := range d.BasePathMappings {
			mp := fmt.Sprintf("%s.base_path_mappings[%d]", p, j)
			bp, err := normalizeBasePath(m.BasePath)
			if err != nil {
				add(mp+".base_path", "%s", err.(*Error).Message)
			}
			if bps[bp] {
				add(mp+".base_path", "%q is mapped twice", m.BasePath)
			}
			bps[bp] = true
			a := apis[m.RestAPI]
			if a == nil {
				add(mp+".rest_api", "%q is not a rest_apis name", m.RestAPI)
				continue
			}
			found := m.Stage == ""
			for _, s := range a.Stages {
				found = found || s.Name == m.Stage
			}
			if !found {
				add(mp+".stage", "REST API %s has no stage %q", a.Name, m.Stage)
			}
		}
	}
	return ps
}

func (d DomainConfig) domain() *DomainName {
	et := d.EndpointType
	if et == "" {
		et = "REGIONAL"
	}
	pol := d.SecurityPolicy
	if pol == "" {
		pol = DefaultSecurityPolicy
	}
	dn := &DomainName{Name: strings.ToLower(d.DomainName), EndpointConfiguration: &EndpointConfiguration{Types: []string{et}},
		SecurityPolicy: pol, RegionalCertificateArn: d.RegionalCertificateArn, Tags: d.Tags}
	if d.MutualTLS != nil {
		dn.MutualTLS = &MutualTLS{TruststoreURI: d.MutualTLS.TruststoreURI, TruststoreVersion: d.MutualTLS.TruststoreVersion}
	}
	return dn
}

func (ic IntegrationConfig) integration(resourceID string) *Integration {
	it := &Integration{Type: ic.Type, URI: ic.URI, HTTPMethod: strings.ToUpper(ic.HTTPMethod), RequestParameters: ic.RequestParameters,
		TimeoutInMillis: ic.TimeoutMillis, ConnectionType: "INTERNET", PassthroughBehavior: "WHEN_NO_MATCH",
		CacheNamespace: resourceID, CacheKeyParameters: []string{}}
	if it.TimeoutInMillis == 0 {
		it.TimeoutInMillis = 29000
	}
	if it.HTTPMethod == "" && (it.Type == "HTTP_PROXY" || it.Type == "HTTP") {
		it.HTTPMethod = "ANY"
	}
	if it.Type == "MOCK" {
		st := ic.MockStatus
		if st == 0 {
			st = 200
		}
		it.IntegrationResponses = map[string]*IntegrationResponse{fmt.Sprint(st): {StatusCode: fmt.Sprint(st), ResponseTemplates: map[string]string{"application/json": ic.MockBody}}}
	}
	return it
}

// derivedID is a deterministic id of n characters [a-z0-9] for a
// file-layer resource.
func derivedID(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return string(b)
}

// Compile turns a validated Config into the file layer: a State whose
// resources carry their file's bytes (truststores are read now, from
// files relative to baseDir or from objects; certificates too) and are
// read-only in the API. It returns every problem it finds.
func (c *Config) Compile(ctx context.Context, baseDir string, objs objects.Source) (*State, []Problem) {
	if ps := c.Validate(); len(ps) > 0 {
		return nil, ps
	}
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{"api_gateway" + path, fmt.Sprintf(format, args...)})
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	st := NewState()
	ids := map[string]string{}
	for i, ac := range c.RestAPIs {
		a := &RestAPI{ID: derivedID(10, "restapi", ac.Name), Name: ac.Name, DisableExecuteAPIEndpoint: ac.DisableExecuteAPIEndpoint,
			EndpointConfiguration: &EndpointConfiguration{Types: []string{"REGIONAL"}}, APIKeySource: "HEADER",
			file: &fileInfo{where: fmt.Sprintf("api_gateway.rest_apis[%d]", i)}}
		ids[ac.Name] = a.ID
		root := &Resource{ID: derivedID(6, a.ID, "/")}
		a.RootResourceID = root.ID
		a.Resources = []*Resource{root}
		byPath := map[string]*Resource{"/": root}
		var ensure func(path string) *Resource
		ensure = func(path string) *Resource {
			if r := byPath[path]; r != nil {
				return r
			}
			parentPath, part := path[:strings.LastIndex(path, "/")], path[strings.LastIndex(path, "/")+1:]
			if parentPath == "" {
				parentPath = "/"
			}
			r := &Resource{ID: derivedID(6, a.ID, path), ParentID: ensure(parentPath).ID, PathPart: part}
			a.Resources = append(a.Resources, r)
			byPath[path] = r
			return r
		}
		for _, rc := range ac.Routes {
			p := "/" + strings.Join(splitPath(rc.Path), "/")
			r := ensure(p)
			if r.Methods == nil {
				r.Methods = map[string]*Method{}
			}
			m := strings.ToUpper(rc.Method)
			r.Methods[m] = &Method{HTTPMethod: m, AuthorizationType: "NONE", Integration: rc.Integration.integration(r.ID)}
		}
		sort.SliceStable(a.Resources, func(x, y int) bool {
			return resourcePath(a.Resources, a.Resources[x]) < resourcePath(a.Resources, a.Resources[y])
		})
		dep := &Deployment{ID: derivedID(6, a.ID, "deployment"), Resources: snapshotResources(a.Resources), DisableExecuteAPIEndpoint: ac.DisableExecuteAPIEndpoint}
		a.Deployments = []*Deployment{dep}
		for _, sc := range ac.Stages {
			s := &Stage{Name: sc.Name, DeploymentID: dep.ID, Variables: sc.Variables}
			if sc.AccessLogFormat != "" {
				s.AccessLogSettings = &AccessLogSettings{Format: sc.AccessLogFormat}
			}
			a.Stages = append(a.Stages, s)
		}
		st.RestAPIs = append(st.RestAPIs, a)
	}
	for i, dc := range c.DomainNames {
		p := fmt.Sprintf(".domain_names[%d]", i)
		d := dc.domain()
		d.file = &fileInfo{where: "api_gateway" + p}
		if ce := dc.Certificate; ce != nil {
			var err error
			if d.file.certPEM, err = os.ReadFile(abs(ce.Cert)); err != nil {
				add(p+".certificate.cert", "%v", err)
			}
			if d.file.keyPEM, err = os.ReadFile(abs(ce.Key)); err != nil {
				add(p+".certificate.key", "%v", err)
			}
		}
		if m := dc.MutualTLS; m != nil {
			var data []byte
			if m.Truststore != "" {
				var err error
				if data, err = os.ReadFile(abs(m.Truststore)); err != nil {
					add(p+".mutual_tls_authentication.truststore", "%v", err)
					continue
				}
			} else {
				if objs == nil {
					add(p+".mutual_tls_authentication.truststore_uri", "edge has no S3 store to read %s from: add an aws: block (its embedded S3 store holds the object), or name a local file with truststore: FILE", m.TruststoreURI)
					continue
				}
				bucket, key, _ := parseS3URI(m.TruststoreURI)
				obj, err := readTruststore(ctx, objs, bucket, key, m.TruststoreVersion)
				var ue *unversionedError
				switch {
				case errors.As(err, &ue):
					add(p+".mutual_tls_authentication.truststore_version", "truststore_version %q was given but bucket %s is not versioned; enable versioning on the bucket or omit truststore_version", ue.version, ue.bucket)
					continue
				case err != nil:
					add(p+".mutual_tls_authentication.truststore_uri", "%v", err)
					continue
				}
				data = obj.Bytes
			}
			_, warnings, err := ParseTruststore(data, timeNow())
			if err != nil {
				where := m.Truststore
				if where == "" {
					where = m.TruststoreURI
				}
				add(p+".mutual_tls_authentication", "%s: %v", where, err)
				continue
			}
			d.MutualTLS.TruststoreWarnings = warnings
			d.file.truststore = data
		}
		for _, bc := range dc.BasePathMappings {
			bp, _ := normalizeBasePath(bc.BasePath)
			d.Mappings = append(d.Mappings, &BasePathMapping{BasePath: bp, RestAPIID: ids[bc.RestAPI], Stage: bc.Stage})
		}
		st.DomainNames = append(st.DomainNames, d)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return st, nil
}

// timeNow is the clock of Compile's truststore checks.
var timeNow = time.Now

// Default log destinations of the api_gateway block.
const (
	DefaultAccessLog    = "stdout"
	DefaultExecutionLog = "stderr"
)

// OpenLogs opens the block's access and execution log destinations
// (defaults DefaultAccessLog and DefaultExecutionLog) for ServerOptions; a
// relative file: path is relative to baseDir (the configuration file's
// directory). The caller closes both sinks.
func (c *Config) OpenLogs(baseDir string, stdout, stderr io.Writer) (access, execution logfmt.Sink, err error) {
	open := func(s, def string) (logfmt.Sink, error) {
		if s == "" {
			s = def
		}
		d, err := logfmt.ParseDestination(s)
		if err != nil {
			return nil, err
		}
		if d.Kind == "file" && !filepath.IsAbs(d.Path) {
			d.Path = filepath.Join(baseDir, d.Path)
		}
		return logfmt.Open(d, stdout, stderr)
	}
	if access, err = open(c.AccessLog, DefaultAccessLog); err != nil {
		return nil, nil, fmt.Errorf("api_gateway.access_log: %w", err)
	}
	if execution, err = open(c.ExecutionLog, DefaultExecutionLog); err != nil {
		access.Close()
		return nil, nil, fmt.Errorf("api_gateway.execution_log: %w", err)
	}
	return access, execution, nil
}
