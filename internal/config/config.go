// Package config is edge's configuration schema: plain data decoded from
// YAML with the key names of the ELBv2 API, plus the positions of every key
// so that any later step can report "file:line: what is wrong". It checks
// what can be checked from the text alone; the server build step reads the
// files a configuration references and checks the rest.
package config

// Config is one edge configuration file.
type Config struct {
	// Name is the load balancer name (1-32 characters, letters, digits
	// and inner hyphens). Default: "edge". The log field elb is
	// app/<name>/<16 hex digits derived from the name>.
	Name string `yaml:"name"`
	// Admin is the admin listener (metrics, reload). Not served yet.
	Admin *Admin `yaml:"admin"`
	// Logs chooses where the ALB-format logs go.
	Logs Logs `yaml:"logs"`
	// TrustStores are referenced by name from listeners.
	TrustStores []TrustStore `yaml:"trust_stores"`
	// TargetGroups are forwarding destinations. Not served yet.
	TargetGroups []TargetGroup `yaml:"target_groups"`
	// Listeners are the ports edge listens on.
	Listeners []Listener `yaml:"listeners"`

	// File is the configuration's path as given; Dir the directory that
	// relative paths in it are resolved against.
	File string `yaml:"-"`
	Dir  string `yaml:"-"`
	// lines maps a key path ("listeners[0].ssl_policy") to its line.
	lines map[string]int
}

// Admin configures the admin listener.
type Admin struct {
	// Listen is host:port; "" disables the admin listener.
	Listen string `yaml:"listen"`
}

// Logs holds log destinations: "stdout", "stderr", "off" or "file:PATH".
// Default: both on stdout.
type Logs struct {
	Connection *string `yaml:"connection"`
	Access     *string `yaml:"access"`
}

// TrustStore is an ALB trust store: a CA bundle and optional CRLs.
type TrustStore struct {
	// Name: 1-32 characters, ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$.
	Name string `yaml:"name"`
	// CACertificatesBundle is a PEM file in ALB's bundle format.
	CACertificatesBundle string `yaml:"ca_certificates_bundle"`
	// Revocations are CRL files (PEM or DER); revocation ids count from 1
	// in this order.
	Revocations []string `yaml:"revocations"`
	// RevocationCheck is alb (default: CRLs apply to certificates whose
	// issuer signed them) or strict (RFC 5280: every certificate needs a
	// current CRL; scope, indirect and delta CRLs are honoured).
	RevocationCheck string `yaml:"revocation_check"`
	// MaxRevocationEntries caps the CRL entries of the store. Default:
	// ALB's quota of 500,000; raise it for scale tests.
	MaxRevocationEntries int `yaml:"max_revocation_entries"`
}

// TargetGroup is a set of targets to forward to.
type TargetGroup struct {
	Name     string   `yaml:"name"`
	Protocol string   `yaml:"protocol"`
	Targets  []string `yaml:"targets"`
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
	// Rules are evaluated by priority before DefaultActions. Not served yet.
	Rules []Rule `yaml:"rules"`
	// DefaultActions is the default rule's action list (exactly one).
	DefaultActions []Action `yaml:"default_actions"`
}

// Certificate is a server certificate as ACM imports it.
type Certificate struct {
	// Certificate is the PEM certificate body (it may also hold the chain).
	Certificate string `yaml:"certificate"`
	// PrivateKey is the PEM private key matching Certificate.
	PrivateKey string `yaml:"private_key"`
	// CertificateChain is an optional PEM file of intermediates.
	CertificateChain string `yaml:"certificate_chain"`
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
	Priority   int         `yaml:"priority"`
	Conditions []Condition `yaml:"conditions"`
	Actions    []Action    `yaml:"actions"`
}

// Condition is a rule condition.
type Condition struct {
	Field  string   `yaml:"field"`
	Values []string `yaml:"values"`
}

// Action is a rule action.
type Action struct {
	// Type: fixed-response (forward and redirect are not served yet).
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
