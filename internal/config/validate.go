package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"

	"edge/internal/attributes"
	"edge/internal/suggest"
)

var (
	// ALB: a load balancer name has at most 32 alphanumeric characters or
	// hyphens and must not begin or end with a hyphen.
	lbName = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)
	// ELBv2 CreateTrustStore: Name pattern and length 1-32.
	trustStoreName = regexp.MustCompile(`^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`)
	// ELBv2 FixedResponseActionConfig.StatusCode.
	fixedStatus = regexp.MustCompile(`^(2|4|5)\d\d$`)
)

// FixedResponseContentTypes are the content types ALB accepts.
var FixedResponseContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// MaxFixedResponseBody is ALB's MessageBody limit, in characters.
const MaxFixedResponseBody = 1024

// Validate checks the values that need no file access and fills in
// defaults. Every problem carries the line of the key at fault.
func (c *Config) Validate() Problems {
	var ps Problems
	add := func(path, format string, args ...any) { ps = append(ps, c.Problem(path, format, args...)) }

	if c.Name == "" {
		c.Name = "edge"
	} else if !lbName.MatchString(c.Name) {
		add("name", "%q is not a valid load balancer name (1-32 letters, digits or hyphens, not starting or ending with a hyphen)", c.Name)
	}
	if c.Admin != nil && c.Admin.Listen != "" {
		host, _, err := net.SplitHostPort(c.Admin.Listen)
		ip := net.ParseIP(host)
		switch {
		case err != nil:
			add("admin.listen", "%q is not host:port", c.Admin.Listen)
		case c.Admin.Token == "" && host != "localhost" && (ip == nil || !ip.IsLoopback()):
			add("admin.listen", "%s is beyond loopback: set admin.token, which clients then send as Authorization: Bearer <token>", c.Admin.Listen)
		}
	}
	if c.Logs.RotationSeconds == 0 {
		c.Logs.RotationSeconds = 300
	} else if c.Logs.RotationSeconds < 1 {
		add("logs.rotation_seconds", "must be at least 1")
	}
	for _, t := range []struct {
		key string
		v   *int
		def int
	}{{"client_handshake_timeout_seconds", &c.ClientHandshakeTimeoutSeconds, 10}, {"client_header_timeout_seconds", &c.ClientHeaderTimeoutSeconds, 60}} {
		if *t.v == 0 {
			*t.v = t.def
		} else if *t.v < 0 || *t.v > 3600 {
			add(t.key, "%d is outside 1-3600", *t.v)
		}
	}
	switch c.TLSRejection {
	case "":
		c.TLSRejection = "reset"
	case "reset", "alert":
	default:
		add("tls_rejection", "%q is not a TLS rejection (want reset, the default, or alert)", c.TLSRejection)
	}
	if c.ShutdownTimeoutSeconds == 0 {
		c.ShutdownTimeoutSeconds = 10
	} else if c.ShutdownTimeoutSeconds < 0 {
		add("shutdown_timeout_seconds", "must not be negative")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	} else if !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`).MatchString(c.Region) {
		add("region", "%q is not an AWS region name (e.g. us-east-1)", c.Region)
	}
	if c.AccountID == "" {
		c.AccountID = "123456789012"
	} else if !regexp.MustCompile(`^\d{12}$`).MatchString(c.AccountID) {
		add("account_id", "%q is not a 12-digit AWS account id", c.AccountID)
	}
	legacyIdle := c.IdleTimeoutSeconds
	if c.IdleTimeoutSeconds == 0 {
		c.IdleTimeoutSeconds = 60
	} else if c.IdleTimeoutSeconds < 1 || c.IdleTimeoutSeconds > 4000 {
		add("idle_timeout_seconds", "%d is outside ALB's range 1-4000", c.IdleTimeoutSeconds)
	}
	c.loadBalancerAttributes(legacyIdle, add)
	if c.Logs.S3Root == "" {
		c.Logs.S3Root = "s3"
	}
	groups := c.validateTargetGroups(add)

	stores := map[string]bool{}
	for i, ts := range c.TrustStores {
		p := fmt.Sprintf("trust_stores[%d]", i)
		switch {
		case ts.Name == "":
			add(p, "name is required")
		case len(ts.Name) > 32 || !trustStoreName.MatchString(ts.Name):
			add(p+".name", "%q is not a valid trust store name (1-32 characters matching ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$)", ts.Name)
		case stores[ts.Name]:
			add(p+".name", "trust store %q is defined twice (DuplicateTrustStoreName)", ts.Name)
		}
		stores[ts.Name] = true
		if ts.CACertificatesBundle == "" {
			add(p, "ca_certificates_bundle is required")
		}
		switch ts.RevocationCheck {
		case "", "alb", "strict":
		default:
			add(p+".revocation_check", "%q is not a revocation check (want alb or strict)", ts.RevocationCheck)
		}
		if ts.MaxRevocationEntries < 0 {
			add(p+".max_revocation_entries", "must not be negative")
		}
	}

	if len(c.Listeners) == 0 && c.APIGateway == nil && c.AWS == nil && !c.awsEndpoint {
		// With an aws: block the listeners may all come from the AWS
		// endpoint (create-listener); an api_gateway block serves alone.
		ps = append(ps, Problem{File: c.File, Msg: "listeners: at least one listener is required (or an api_gateway block, or an aws: block or edge serve --aws, whose endpoint creates them)"})
	}
	bound := map[string]string{}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		p := fmt.Sprintf("listeners[%d]", i)
		switch l.Protocol {
		case "":
			l.Protocol = "HTTPS"
		case "HTTPS", "HTTP":
		default:
			add(p+".protocol", "%q is not a listener protocol (want HTTPS or HTTP)", l.Protocol)
		}
		if l.Port == nil {
			port := 8443
			if l.Protocol == "HTTP" {
				port = 8080
			}
			l.Port = &port
		} else if *l.Port < 0 || *l.Port > 65535 {
			add(p+".port", "%d is not a port (1-65535, or 0 for any free port)", *l.Port)
		}
		if l.Address == "" {
			l.Address = "127.0.0.1"
		} else if net.ParseIP(l.Address) == nil && !validHost(l.Address) {
			add(p+".address", "%q is neither an IP address nor a host name", l.Address)
		}
		if *l.Port != 0 {
			key := net.JoinHostPort(l.Address, strconv.Itoa(*l.Port))
			if prev, dup := bound[key]; dup {
				add(p+".port", "%s is already used by %s", key, prev)
			}
			bound[key] = p
		}
		l.AttributeSet = c.resolveAttributes(attributes.Listener, l.Protocol, p+".attributes", l.Attributes, add)
		if l.Protocol == "HTTP" {
			if l.SSLPolicy != "" {
				add(p+".ssl_policy", "an HTTP listener has no security policy")
			}
			if len(l.Certificates) > 0 {
				add(p+".certificates", "an HTTP listener has no certificates")
			}
			if l.MutualAuthentication != nil && l.MutualAuthentication.Mode != "" && l.MutualAuthentication.Mode != "off" {
				add(p+".mutual_authentication", "mutual authentication needs an HTTPS listener")
			}
		}
		for j, cert := range l.Certificates {
			cp := fmt.Sprintf("%s.certificates[%d]", p, j)
			switch {
			case cert.Certificate == "" && cert.PrivateKey == "" && cert.CertificateArn != "":
				// An ACM ARN alone: served with a dev-CA certificate.
			case cert.Certificate == "":
				add(cp, "certificate is required")
			case cert.PrivateKey == "":
				add(cp, "private_key is required")
			}
		}
		if ma := l.MutualAuthentication; ma != nil {
			c.validateMTLS(ma, p+".mutual_authentication", stores, add)
		}
		c.validateRules(l, p, groups, add)
		if len(l.DefaultActions) != 1 {
			add(p+".default_actions", "exactly one default action is required, found %d", len(l.DefaultActions))
		} else {
			c.validateAction(l, l.DefaultActions[0], p+".default_actions[0]", groups, add)
		}
	}
	c.validateControlPlane(add)
	return ps
}

func (c *Config) validateMTLS(ma *MutualAuthentication, p string, stores map[string]bool, add func(string, string, ...any)) {
	switch ma.Mode {
	case "":
		ma.Mode = "off"
	case "off", "passthrough", "verify":
	default:
		add(p+".mode", "%q is not a mutual authentication mode (want off, passthrough or verify)", ma.Mode)
		return
	}
	switch {
	case ma.Mode == "verify" && ma.TrustStore == "":
		add(p, "verify mode needs a trust_store")
	case ma.Mode != "verify" && ma.TrustStore != "":
		add(p+".trust_store", "a trust store is used only in verify mode (mode is %s)", ma.Mode)
	case ma.TrustStore != "" && !stores[ma.TrustStore]:
		names := make([]string, 0, len(stores))
		for n := range stores {
			names = append(names, n)
		}
		hint := ""
		if len(names) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", suggest.Nearest(ma.TrustStore, names))
		}
		add(p+".trust_store", "no trust store named %q%s", ma.TrustStore, hint)
	}
	if ma.IgnoreClientCertificateExpiry && ma.Mode != "verify" {
		add(p+".ignore_client_certificate_expiry", "applies only in verify mode (mode is %s)", ma.Mode)
	}
	switch ma.AdvertiseTrustStoreCaNames {
	case "":
		ma.AdvertiseTrustStoreCaNames = "off"
	case "on", "off":
		if ma.AdvertiseTrustStoreCaNames == "on" && ma.Mode != "verify" {
			add(p+".advertise_trust_store_ca_names", "applies only in verify mode (mode is %s)", ma.Mode)
		}
	default:
		add(p+".advertise_trust_store_ca_names", "%q is not on or off (quote it: \"on\")", ma.AdvertiseTrustStoreCaNames)
	}
}

// loadBalancerAttributes resolves the top-level attributes. The older key
// idle_timeout_seconds (legacyIdle, 0 when absent) is the same setting as
// idle_timeout.timeout_seconds: either may be given, both only with one
// value. IdleTimeoutSeconds ends up holding the effective value.
func (c *Config) loadBalancerAttributes(legacyIdle int, add func(string, string, ...any)) {
	const key = "idle_timeout.timeout_seconds"
	given := c.Attributes
	if legacyIdle != 0 {
		if v := given[key]; v != "" {
			if n, err := strconv.Atoi(v); err == nil && n != legacyIdle {
				add("idle_timeout_seconds", "%d disagrees with attributes %s %s (%s:%d); idle_timeout_seconds is the older spelling of that attribute: keep one",
					legacyIdle, key, v, c.File, c.Line("attributes."+key))
			}
		} else if legacyIdle >= 1 && legacyIdle <= 4000 {
			given = make(Attributes, len(c.Attributes)+1)
			for k, v := range c.Attributes {
				given[k] = v
			}
			given[key] = strconv.Itoa(legacyIdle)
		}
	}
	c.AttributeSet = c.resolveAttributes(attributes.LoadBalancer, "", "attributes", given, add)
	if d := c.AttributeSet.LoadBalancer().IdleTimeout; d > 0 {
		c.IdleTimeoutSeconds = int(d / time.Second)
	}
}

// resolveAttributes checks one resource's attributes against the table and
// returns the effective set; each problem points at its key's line.
func (c *Config) resolveAttributes(scope attributes.Scope, protocol, path string, given Attributes, add func(string, string, ...any)) attributes.Set {
	set, err := attributes.Resolve(scope, protocol, given)
	if err == nil {
		return set
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ae *attributes.Error
		if errors.As(e, &ae) {
			add(path+"."+ae.Key, "%s", ae.Error())
		} else {
			add(path, "%v", e)
		}
	}
	return set
}

func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return h != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
