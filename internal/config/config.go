// Package config is edge's configuration schema: plain data decoded from
// YAML with the key names of the ELBv2 API, plus the positions of every key
// so that any later step can report "file:line: what is wrong". It checks
// what can be checked from the text alone; the server build step reads the
// files a configuration references and checks the rest.
package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"edge/internal/apigateway"
	"edge/internal/attributes"
)

// Config is one edge configuration file.
type Config struct {
	// Name is the load balancer name (1-32 characters, letters, digits
	// and inner hyphens). Default: "edge". The log field elb is
	// app/<name>/<16 hex digits derived from the name>.
	Name string `yaml:"name"`
	// Admin is the admin listener (metrics, health, reload, trust-store
	// API). Absent or listen "" disables it.
	Admin *Admin `yaml:"admin"`
	// ClientHandshakeTimeoutSeconds bounds a client's TLS handshake.
	// Default: 10.
	ClientHandshakeTimeoutSeconds int `yaml:"client_handshake_timeout_seconds"`
	// ClientHeaderTimeoutSeconds bounds reading a request's headers.
	// Default: 60, as ALB's idle timeout.
	ClientHeaderTimeoutSeconds int `yaml:"client_header_timeout_seconds"`
	// TLSRejection is how a verify-mode listener refuses a client: reset
	// (default: no TLS alert, a TCP reset, as ALB and API Gateway do) or
	// alert (the TLS alert, readable by the client; for debugging one).
	TLSRejection string `yaml:"tls_rejection"`
	// ShutdownTimeoutSeconds bounds how long in-flight requests may run
	// after SIGINT/SIGTERM. Default: 10.
	ShutdownTimeoutSeconds int `yaml:"shutdown_timeout_seconds"`
	// Region and AccountID appear in the ARNs edge logs (target groups,
	// certificates). Default: us-east-1 and 123456789012.
	Region    string `yaml:"region"`
	AccountID string `yaml:"account_id"`
	// IdleTimeoutSeconds is ALB's idle_timeout.timeout_seconds: a target
	// that sends no response within it gets a 504. Default: 60. The older
	// spelling of attributes idle_timeout.timeout_seconds; after Validate
	// it holds the effective value of either.
	IdleTimeoutSeconds int `yaml:"idle_timeout_seconds"`
	// Attributes are the load balancer's attributes, keyed as
	// ModifyLoadBalancerAttributes names them (package attributes).
	Attributes Attributes `yaml:"attributes"`
	// AttributeSet is the effective load balancer attributes, set by
	// Validate.
	AttributeSet attributes.Set `yaml:"-"`
	// Logs chooses where the ALB-format logs go.
	Logs Logs `yaml:"logs"`
	// TrustStores are referenced by name from listeners.
	TrustStores []TrustStore `yaml:"trust_stores"`
	// TargetGroups are forwarding destinations.
	TargetGroups []TargetGroup `yaml:"target_groups"`
	// Listeners are the ports edge listens on.
	Listeners []Listener `yaml:"listeners"`
	// LoadBalancers are further load balancers; the top-level name,
	// attributes and logs describe the default one.
	LoadBalancers []LoadBalancer `yaml:"load_balancers"`
	// AWS is the AWS-compatible endpoint (S3, ELBv2, API Gateway, STS).
	// Absent: no endpoint.
	AWS *AWS `yaml:"aws"`
	// S3 names an external S3-compatible server to read bundles and CRLs
	// from. Absent: the embedded store of the AWS endpoint.
	S3 *S3 `yaml:"s3"`
	// Quotas raise AWS's default quotas (the AWS endpoint enforces them).
	Quotas Quotas `yaml:"quotas"`
	// APIGateway is API Gateway's custom-domain mTLS data plane and its
	// domain names and REST APIs. Absent: none.
	APIGateway *apigateway.Config `yaml:"api_gateway"`

	// File is the configuration's path as given; Dir the directory that
	// relative paths in it are resolved against.
	File string `yaml:"-"`
	Dir  string `yaml:"-"`
	// lines maps a key path ("listeners[0].ssl_policy") to its line.
	lines map[string]int
	// awsEndpoint: the AWS endpoint runs whatever the file says (Options).
	awsEndpoint bool
}

// Admin configures the admin listener.
type Admin struct {
	// Listen is host:port; "" disables the admin listener. An address
	// beyond loopback requires Token.
	Listen string `yaml:"listen"`
	// Token, when set, is required as "Authorization: Bearer TOKEN".
	Token string `yaml:"token"`
}

// Logs holds log destinations: "stdout", "stderr", "off", "file:PATH" or
// "dir:PATH" (gzip files in ALB's S3 key layout). Default: both on stdout.
type Logs struct {
	Connection *string `yaml:"connection"`
	Access     *string `yaml:"access"`
	// RotationSeconds is how long one dir: file collects lines before the
	// next starts. Default: 300, ALB's 5 minutes.
	RotationSeconds int `yaml:"rotation_seconds"`
	// S3Root is the local directory that stands for S3 in the
	// access_logs.s3.* and connection_logs.s3.* attributes: bucket B with
	// prefix P is dir:S3Root/B/P. Default: "s3" beside the configuration.
	S3Root string `yaml:"s3_root"`
}

// Attributes are ELBv2 attributes by key. In YAML each value may be a
// string, a number or a boolean; it is kept as the API's string (a YAML
// boolean in lower case, an empty value as "").
type Attributes map[string]string

// UnmarshalYAML takes a mapping of scalars (checked with lines beforehand).
func (a *Attributes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: attributes must be a mapping", n.Line)
	}
	m := make(Attributes, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		switch {
		case v.Kind != yaml.ScalarNode:
			return fmt.Errorf("line %d: attribute %s needs a scalar value", v.Line, k.Value)
		case v.Tag == "!!null":
			m[k.Value] = ""
		case v.Tag == "!!bool":
			m[k.Value] = strings.ToLower(v.Value)
		default:
			m[k.Value] = v.Value
		}
	}
	*a = m
	return nil
}

// TrustStore is an ALB trust store: a CA bundle and optional CRLs.
type TrustStore struct {
	// Name: 1-32 characters, ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$.
	Name string `yaml:"name"`
	// CACertificatesBundle is a PEM file in ALB's bundle format.
	CACertificatesBundle string `yaml:"ca_certificates_bundle"`
	// Revocations are CRL files, one PEM CRL each as ALB takes them;
	// revocation ids count from 1 in this order unless pinned.
	Revocations []Revocation `yaml:"revocations"`
	// RevocationCheck is alb (default: CRLs apply to certificates whose
	// issuer signed them) or strict (RFC 5280: every certificate needs a
	// current CRL; scope, indirect and delta CRLs are honoured).
	RevocationCheck string `yaml:"revocation_check"`
	// MaxRevocationEntries caps the CRL entries of the store. Default:
	// ALB's quota of 500,000; raise it for scale tests.
	MaxRevocationEntries int `yaml:"max_revocation_entries"`
}

// TargetGroup is a set of targets to forward to, round-robin.
type TargetGroup struct {
	// Name: 1-32 letters, digits or inner hyphens.
	Name string `yaml:"name"`
	// Protocol is HTTP or HTTPS (target certificates are not verified,
	// as on ALB). Default: HTTP.
	Protocol string `yaml:"protocol"`
	// Targets are host:port addresses.
	Targets []string `yaml:"targets"`
	// Attributes are target group attributes (ModifyTargetGroupAttributes
	// keys); edge validates and lists them, see docs/attributes.md for
	// which it acts on.
	Attributes Attributes `yaml:"attributes"`
	// AttributeSet is the effective set, filled by Validate.
	AttributeSet attributes.Set `yaml:"-"`
}

// Listener is one HTTPS or HTTP listener.
type Listener struct {
	// Port to listen on. Default: 8443 for HTTPS, 8080 for HTTP. 0 picks a
	// free port (for tests; the ready line names it).
	Port *int `yaml:"port"`
	// Address is the bind address. Default: 127.0.0.1.
	Address string `yaml:"address"`
	// Protocol is HTTPS or HTTP. Default: HTTPS.
	Protocol string `yaml:"protocol"`
	// SSLPolicy is an ELB security policy name. Default:
	// ELBSecurityPolicy-2016-08, as the ELBv2 API does.
	SSLPolicy string `yaml:"ssl_policy"`
	// Certificates: the first is the default, the others are chosen by
	// SNI. None: edge issues one from the dev CA for localhost,
	// 127.0.0.1 and the listener's address.
	Certificates []Certificate `yaml:"certificates"`
	// MutualAuthentication is off when absent.
	MutualAuthentication *MutualAuthentication `yaml:"mutual_authentication"`
	// Rules are evaluated by ascending priority before DefaultActions.
	Rules []Rule `yaml:"rules"`
	// DefaultActions is the default rule's action list (exactly one).
	DefaultActions []Action `yaml:"default_actions"`
	// LoadBalancer names the load balancer the listener belongs to (the
	// top-level name or one of load_balancers). Default: the top-level
	// one.
	LoadBalancer string `yaml:"load_balancer"`
	// Attributes are listener attributes (ModifyListenerAttributes keys):
	// header renames (HTTPS only), response headers, the Server header.
	Attributes Attributes `yaml:"attributes"`
	// AttributeSet is the effective set, filled by Validate.
	AttributeSet attributes.Set `yaml:"-"`
	// ARN is the ListenerArn of a listener the AWS endpoint's API made
	// (set when the configuration is derived, never read from a file);
	// "" for the file's listeners.
	ARN string `yaml:"-"`
}

// Certificate is a server certificate as ACM imports it.
type Certificate struct {
	// Certificate is the PEM certificate body (it may also hold the chain).
	Certificate string `yaml:"certificate"`
	// PrivateKey is the PEM private key matching Certificate.
	PrivateKey string `yaml:"private_key"`
	// CertificateChain is an optional PEM file of intermediates.
	CertificateChain string `yaml:"certificate_chain"`
	// CertificateArn names the certificate as ACM would
	// (arn:aws:acm:REGION:ACCOUNT:certificate/ID): the access log's
	// chosen_cert_arn. Without certificate and private_key, edge serves
	// a dev-CA certificate under this ARN (ACM is not emulated).
	CertificateArn string `yaml:"certificate_arn"`
}

// MutualAuthentication holds ALB's MutualAuthenticationAttributes.
type MutualAuthentication struct {
	// Mode: off, passthrough or verify. Default: off.
	Mode string `yaml:"mode"`
	// TrustStore names a trust store; required in verify mode only.
	TrustStore string `yaml:"trust_store"`
	// IgnoreClientCertificateExpiry accepts an expired leaf (verify only).
	IgnoreClientCertificateExpiry bool `yaml:"ignore_client_certificate_expiry"`
	// AdvertiseTrustStoreCaNames: "on" or "off". Default: off.
	AdvertiseTrustStoreCaNames string `yaml:"advertise_trust_store_ca_names"`
}

// Rule is a listener rule.
type Rule struct {
	// Priority is 1-50000, unique per listener; lower is evaluated first.
	Priority   int         `yaml:"priority"`
	Conditions []Condition `yaml:"conditions"`
	Actions    []Action    `yaml:"actions"`
}

// Condition is a rule condition (ELBv2 RuleCondition). Values may be given
// directly or in the field's *_config, as the API allows.
type Condition struct {
	// Field: host-header, path-pattern, http-header, http-request-method,
	// query-string or source-ip.
	Field  string   `yaml:"field"`
	Values []string `yaml:"values"`

	HostHeaderConfig        *ValuesConfig      `yaml:"host_header_config"`
	PathPatternConfig       *ValuesConfig      `yaml:"path_pattern_config"`
	HTTPHeaderConfig        *HTTPHeaderConfig  `yaml:"http_header_config"`
	HTTPRequestMethodConfig *ValuesConfig      `yaml:"http_request_method_config"`
	QueryStringConfig       *QueryStringConfig `yaml:"query_string_config"`
	SourceIPConfig          *ValuesConfig      `yaml:"source_ip_config"`
}

// ValuesConfig is a list of match values.
type ValuesConfig struct {
	Values []string `yaml:"values"`
}

// HTTPHeaderConfig matches one header's values.
type HTTPHeaderConfig struct {
	HTTPHeaderName string   `yaml:"http_header_name"`
	Values         []string `yaml:"values"`
}

// QueryStringConfig matches query parameters.
type QueryStringConfig struct {
	Values []KeyValue `yaml:"values"`
}

// KeyValue is a query-string match; an empty Key matches any key.
type KeyValue struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// Action is a rule action.
type Action struct {
	// Type: forward, redirect or fixed-response.
	Type                string               `yaml:"type"`
	FixedResponseConfig *FixedResponseConfig `yaml:"fixed_response_config"`
	TargetGroup         string               `yaml:"target_group"`
	TargetGroups        []WeightedTarget     `yaml:"target_groups"`
	RedirectConfig      *RedirectConfig      `yaml:"redirect_config"`
}

// FixedResponseConfig is ALB's FixedResponseActionConfig.
type FixedResponseConfig struct {
	// StatusCode matches ^(2|4|5)\d\d$.
	StatusCode string `yaml:"status_code"`
	// ContentType: text/plain, text/css, text/html,
	// application/javascript or application/json. Default: none.
	ContentType string `yaml:"content_type"`
	// MessageBody is at most 1024 characters.
	MessageBody string `yaml:"message_body"`
}

// WeightedTarget is one target group of a weighted forward.
type WeightedTarget struct {
	Name   string `yaml:"name"`
	Weight int    `yaml:"weight"`
}

// RedirectConfig is ALB's RedirectActionConfig.
type RedirectConfig struct {
	Protocol   string `yaml:"protocol"`
	Host       string `yaml:"host"`
	Port       string `yaml:"port"`
	Path       string `yaml:"path"`
	Query      string `yaml:"query"`
	StatusCode string `yaml:"status_code"`
}
