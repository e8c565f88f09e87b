package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"edge/internal/apigateway"
	"edge/internal/attributes"
)

// This file holds the schema of the AWS control plane (issue 14/15): more
// than one load balancer, revocations with explicit ids, certificates
// named by their ACM ARN, the AWS endpoint, an external S3 server, quotas
// and the api_gateway block. The YAML and the API state are two sources of
// the same model: a state the API built can be written back as YAML
// (`edge export`) with the same names, ids and ARNs.

// LoadBalancer is a load balancer beyond the one the top-level name,
// attributes and logs describe (the default). Listeners choose theirs
// with load_balancer.
type LoadBalancer struct {
	// Name: as the top-level name (1-32 letters, digits or inner
	// hyphens), unique among load balancers.
	Name string `yaml:"name"`
	// ID is the 16 hex digits of its ARN and elb log field
	// (app/NAME/ID). Default: derived from the name, so it is stable.
	ID string `yaml:"id"`
	// Attributes are its ModifyLoadBalancerAttributes keys.
	Attributes Attributes `yaml:"attributes"`
	// AttributeSet is the effective set, filled by Validate.
	AttributeSet attributes.Set `yaml:"-"`
}

// Revocation is one CRL of a trust store. In YAML it is a file name, or a
// mapping {file, revocation_id} that pins its RevocationId (what `edge
// export` writes, so ids survive a round trip through YAML).
type Revocation struct {
	// File is a PEM CRL file.
	File string `yaml:"file"`
	// RevocationID pins the id; 0 numbers it after the highest id of the
	// store, in list order. Ids are unique per store and never reused.
	RevocationID int64 `yaml:"revocation_id"`
}

// UnmarshalYAML takes a scalar (the file) or a mapping.
func (r *Revocation) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.File = n.Value
		return nil
	}
	type plain Revocation
	return n.Decode((*plain)(r))
}

// AWS is the AWS-compatible endpoint: one plain-HTTP listener that speaks
// S3, ELBv2, API Gateway and STS as the official clients expect.
type AWS struct {
	// Listen is host:port (port 0 picks a free port; the bound address
	// is printed and in the ready file). "" disables the endpoint.
	Listen string `yaml:"listen"`
	// Credentials maps access key ids to secret keys. Empty: any
	// credentials are accepted and signatures are not checked (as
	// LocalStack does); set: SigV4 signatures are verified. Required when
	// Listen is beyond loopback.
	Credentials map[string]string `yaml:"credentials"`
	// StateDir holds the resources created through the API (state.json,
	// blobs, the embedded S3 store). Default: .edge/state beside the
	// configuration file. `edge serve --ephemeral` keeps it in memory.
	StateDir string `yaml:"state_dir"`
}

// S3 names an external S3-compatible server edge reads bundles, CRLs and
// truststores from, instead of its embedded store.
type S3 struct {
	// Endpoint is the server's URL, e.g. http://127.0.0.1:9000.
	Endpoint string `yaml:"endpoint"`
	// Region signs requests. Default: the top-level region.
	Region string `yaml:"region"`
	// AccessKeyID and SecretAccessKey are static credentials.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// PathStyle puts the bucket in the path (http://host/bucket/key),
	// which servers without wildcard DNS need. Default: false.
	PathStyle bool `yaml:"path_style"`
}

// Quotas raise (or lower) AWS's default quotas, which the AWS endpoint
// enforces. 0 keeps AWS's default.
type Quotas struct {
	LoadBalancers                  int `yaml:"load_balancers"`                     // 50 per Region
	ListenersPerLoadBalancer       int `yaml:"listeners_per_load_balancer"`        // 50
	VerifyListenersPerLoadBalancer int `yaml:"verify_listeners_per_load_balancer"` // 2
	CertificatesPerLoadBalancer    int `yaml:"certificates_per_load_balancer"`     // 25
	TargetGroups                   int `yaml:"target_groups"`                      // 3000 per Region
	TargetGroupsPerLoadBalancer    int `yaml:"target_groups_per_load_balancer"`    // 100
	TargetGroupsPerAction          int `yaml:"target_groups_per_action"`           // 5
	TargetsPerLoadBalancer         int `yaml:"targets_per_load_balancer"`          // 1000
	RulesPerLoadBalancer           int `yaml:"rules_per_load_balancer"`            // 100
	TrustStores                    int `yaml:"trust_stores"`                       // 20 per account
	RevocationListsPerTrustStore   int `yaml:"revocation_lists_per_trust_store"`   // 30
	RevocationEntriesPerTrustStore int `yaml:"revocation_entries_per_trust_store"` // 500,000
	RevocationFileSizeBytes        int `yaml:"revocation_file_size_bytes"`         // 50 MB
	TagsPerResource                int `yaml:"tags_per_resource"`                  // 50
}

// validateControlPlane checks the blocks of this file.
func (c *Config) validateControlPlane(add func(string, string, ...any)) {
	names := map[string]bool{c.Name: true}
	for i := range c.LoadBalancers {
		lb := &c.LoadBalancers[i]
		p := fmt.Sprintf("load_balancers[%d]", i)
		switch {
		case lb.Name == "":
			add(p, "name is required")
		case !lbName.MatchString(lb.Name):
			add(p+".name", "%q is not a valid load balancer name (1-32 letters, digits or hyphens, not starting or ending with a hyphen)", lb.Name)
		case names[lb.Name]:
			add(p+".name", "load balancer %q is defined twice (DuplicateLoadBalancerName)", lb.Name)
		}
		names[lb.Name] = true
		if lb.ID != "" && !isHex(lb.ID, 16) {
			add(p+".id", "%q is not 16 lowercase hex digits", lb.ID)
		}
		lb.AttributeSet = c.resolveAttributes(attributes.LoadBalancer, "", p+".attributes", lb.Attributes, add)
	}
	for i, l := range c.Listeners {
		if l.LoadBalancer != "" && !names[l.LoadBalancer] {
			add(fmt.Sprintf("listeners[%d].load_balancer", i), "no load balancer named %q (the top-level name, or one of load_balancers)", l.LoadBalancer)
		}
		for j, cert := range l.Certificates {
			if cert.CertificateArn != "" && !strings.HasPrefix(cert.CertificateArn, "arn:aws:acm:") && !strings.HasPrefix(cert.CertificateArn, "arn:aws:iam:") {
				add(fmt.Sprintf("listeners[%d].certificates[%d].certificate_arn", i, j), "%q is not an ACM or IAM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)", cert.CertificateArn)
			}
		}
	}
	for i, ts := range c.TrustStores {
		ids := map[int64]bool{}
		for j, r := range ts.Revocations {
			p := fmt.Sprintf("trust_stores[%d].revocations[%d]", i, j)
			if r.File == "" {
				add(p, "file is required")
			}
			if r.RevocationID < 0 {
				add(p+".revocation_id", "must be positive")
			} else if r.RevocationID > 0 && ids[r.RevocationID] {
				add(p+".revocation_id", "revocation id %d is used twice in this trust store", r.RevocationID)
			}
			ids[r.RevocationID] = true
		}
	}
	if a := c.AWS; a != nil && a.Listen != "" {
		host, _, err := net.SplitHostPort(a.Listen)
		ip := net.ParseIP(host)
		switch {
		case err != nil:
			add("aws.listen", "%q is not host:port", a.Listen)
		case len(a.Credentials) == 0 && host != "localhost" && (ip == nil || !ip.IsLoopback()):
			add("aws.listen", "%s is beyond loopback: set aws.credentials (access key id: secret), so that signatures are checked", a.Listen)
		}
	}
	if s := c.S3; s != nil {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("s3.endpoint", "%q is not an http:// or https:// URL", s.Endpoint)
		}
		if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
			add("s3", "access_key_id and secret_access_key go together")
		}
		if s.Region == "" {
			s.Region = c.Region
		}
	}
	if c.APIGateway != nil {
		for _, p := range c.APIGateway.Validate() {
			add(p.Path, "%s", p.Msg)
		}
	}
}

// APIGatewayProblems places problems of the api_gateway block (from
// apigateway.Config.Validate or Compile, whose key paths start with
// "api_gateway") at their lines in the configuration file.
func (c *Config) APIGatewayProblems(ps []apigateway.Problem) Problems {
	out := make(Problems, 0, len(ps))
	for _, p := range ps {
		out = append(out, c.Problem(p.Path, "%s", p.Msg))
	}
	return out
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
