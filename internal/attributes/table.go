package attributes

import (
	"regexp"
	"strconv"
	"strings"
)

// table is every key edge knows, sorted by scope then name (init checks).
// Defaults and ranges: ELBv2 API reference, LoadBalancerAttribute,
// ListenerAttribute and TargetGroupAttribute; the header-modification
// value rules: ALB guide, header-modification.html "Limitations".
var table = []Key{
	// Load balancer (ALB).
	{Name: "access_logs.s3.bucket", Scope: LoadBalancer, Support: Emulated, Valid: s3BucketRule, check: s3Bucket,
		Doc: "bucket of the access logs; with access_logs.s3.enabled the access log is written to dir:<logs.s3_root>/<bucket>/<prefix>"},
	{Name: "access_logs.s3.enabled", Scope: LoadBalancer, Default: "false", Support: Emulated, Valid: boolRule, check: isBool,
		Doc: "write the access log in ALB's S3 layout under logs.s3_root (see access_logs.s3.bucket)"},
	{Name: "access_logs.s3.prefix", Scope: LoadBalancer, Support: Emulated, Valid: s3PrefixRule, check: s3Prefix,
		Doc: "key prefix of the access logs inside the bucket"},
	{Name: "client_keep_alive.seconds", Scope: LoadBalancer, Default: "3600", Support: Emulated, Valid: "an integer from 60 to 604800", check: intRange(60, 604800),
		Doc: "a client connection older than this gets Connection: close (HTTP/1.1) or GOAWAY (h2) on its next response; a connection keeps the value it started with"},
	{Name: "connection_logs.s3.bucket", Scope: LoadBalancer, Support: Emulated, Valid: s3BucketRule, check: s3Bucket,
		Doc: "bucket of the connection logs; with connection_logs.s3.enabled the connection log is written to dir:<logs.s3_root>/<bucket>/<prefix>"},
	{Name: "connection_logs.s3.enabled", Scope: LoadBalancer, Default: "false", Support: Emulated, Valid: boolRule, check: isBool,
		Doc: "write the connection log in ALB's S3 layout under logs.s3_root (see connection_logs.s3.bucket)"},
	{Name: "connection_logs.s3.prefix", Scope: LoadBalancer, Support: Emulated, Valid: s3PrefixRule, check: s3Prefix,
		Doc: "key prefix of the connection logs inside the bucket"},
	{Name: "deletion_protection.enabled", Scope: LoadBalancer, Default: "false", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge has no DeleteLoadBalancer"},
	{Name: "health_check_logs.s3.bucket", Scope: LoadBalancer, Support: Stored, Valid: s3BucketRule, check: s3Bucket,
		Doc: "edge runs no health checks"},
	{Name: "health_check_logs.s3.enabled", Scope: LoadBalancer, Default: "false", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge runs no health checks"},
	{Name: "health_check_logs.s3.prefix", Scope: LoadBalancer, Support: Stored, Valid: s3PrefixRule, check: s3Prefix,
		Doc: "edge runs no health checks"},
	{Name: "idle_timeout.timeout_seconds", Scope: LoadBalancer, Default: "60", Support: Emulated, Valid: "an integer from 1 to 4000", check: intRange(1, 4000),
		Doc: "idle client connections are closed after it; a target that sends no response headers within it gets a 504 (the older key idle_timeout_seconds is the same setting)"},
	{Name: "ipv6.deny_all_igw_traffic", Scope: LoadBalancer, Default: "false", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge has no internet gateway (ALB's default is false for internet-facing, true for internal load balancers)"},
	{Name: "load_balancing.cross_zone.enabled", Scope: LoadBalancer, Default: "true", Support: Stored, Valid: "true (an Application Load Balancer cannot change it)", check: oneOf("true"),
		Doc: "edge has one zone"},
	{Name: "routing.http.desync_mitigation_mode", Scope: LoadBalancer, Default: "defensive", Support: Stored, Valid: "monitor, defensive or strictest", check: oneOf("monitor", "defensive", "strictest"),
		Doc: "edge does no desync classification (Go's HTTP server refuses what it cannot parse)"},
	{Name: "routing.http.drop_invalid_header_fields.enabled", Scope: LoadBalancer, Default: "false", Support: Emulated, Valid: boolRule, check: isBool,
		Doc: "true: request header fields whose names do not match ^[-A-Za-z0-9]+$ (X_Token) are not forwarded"},
	{Name: "routing.http.preserve_host_header.enabled", Scope: LoadBalancer, Default: "false", Support: Emulated, Valid: boolRule, check: isBool,
		Doc: "true: targets get the client's Host unchanged; false: the listener port is appended unless it is 80 or 443 (whose port is removed) or the Host has one"},
	{Name: "routing.http.x_amzn_tls_version_and_cipher_suite.enabled", Scope: LoadBalancer, Default: "false", Support: Emulated, Valid: boolRule, check: isBool,
		Doc: "true: HTTPS requests to targets carry X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite (OpenSSL names)"},
	{Name: "routing.http.xff_client_port.enabled", Scope: LoadBalancer, Default: "false", Support: Emulated, Valid: boolRule, check: isBool,
		Doc: "true: in append mode X-Forwarded-For gets ip:port ([ip]:port for IPv6)"},
	{Name: "routing.http.xff_header_processing.mode", Scope: LoadBalancer, Default: "append", Support: Emulated, Valid: "append, preserve or remove", check: oneOf("append", "preserve", "remove"),
		Doc: "append the client address to X-Forwarded-For, pass the client's unchanged, or remove it"},
	{Name: "routing.http2.enabled", Scope: LoadBalancer, Default: "true", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge always offers h2 on HTTPS listeners"},
	{Name: "waf.fail_open.enabled", Scope: LoadBalancer, Default: "false", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge has no WAF"},
	{Name: "zonal_shift.config.enabled", Scope: LoadBalancer, Default: "false", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge has one zone"},

	// Listener (ALB). The renames apply to HTTPS listeners only.
	{Name: "routing.http.request.x_amzn_mtls_clientcert.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Mtls-Clientcert (passthrough); empty: ALB's name"},
	{Name: "routing.http.request.x_amzn_mtls_clientcert_issuer.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Mtls-Clientcert-Issuer (verify)"},
	{Name: "routing.http.request.x_amzn_mtls_clientcert_leaf.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Mtls-Clientcert-Leaf (verify)"},
	{Name: "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Mtls-Clientcert-Serial-Number (verify)"},
	{Name: "routing.http.request.x_amzn_mtls_clientcert_subject.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Mtls-Clientcert-Subject (verify)"},
	{Name: "routing.http.request.x_amzn_mtls_clientcert_validity.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Mtls-Clientcert-Validity (verify)"},
	{Name: "routing.http.request.x_amzn_tls_cipher_suite.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Tls-Cipher-Suite (with routing.http.x_amzn_tls_version_and_cipher_suite.enabled)"},
	{Name: "routing.http.request.x_amzn_tls_version.header_name", Scope: Listener, HTTPSOnly: true, Support: Emulated, Valid: headerNameRule, check: headerName,
		Doc: "name of X-Amzn-Tls-Version (with routing.http.x_amzn_tls_version_and_cipher_suite.enabled)"},
	{Name: "routing.http.response.access_control_allow_credentials.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Access-Control-Allow-Credentials on every response (the target's value is replaced)"},
	{Name: "routing.http.response.access_control_allow_headers.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Access-Control-Allow-Headers on every response"},
	{Name: "routing.http.response.access_control_allow_methods.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Access-Control-Allow-Methods on every response"},
	{Name: "routing.http.response.access_control_allow_origin.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Access-Control-Allow-Origin on every response"},
	{Name: "routing.http.response.access_control_expose_headers.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Access-Control-Expose-Headers on every response"},
	{Name: "routing.http.response.access_control_max_age.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Access-Control-Max-Age on every response"},
	{Name: "routing.http.response.content_security_policy.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Content-Security-Policy on every response"},
	{Name: "routing.http.response.server.enabled", Scope: Listener, Default: "true", Support: Emulated, Valid: "true or false (empty restores the default)", check: func(v string) bool { return v == "" || isBool(v) },
		Doc: "false: responses edge generates (fixed responses, redirects, error pages) carry no Server: awselb/2.0"},
	{Name: "routing.http.response.strict_transport_security.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "Strict-Transport-Security on every response"},
	{Name: "routing.http.response.x_content_type_options.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "X-Content-Type-Options on every response"},
	{Name: "routing.http.response.x_frame_options.header_value", Scope: Listener, Support: Emulated, Valid: headerValueRule, check: headerValue,
		Doc: "X-Frame-Options on every response"},

	// Target group (ALB, instance and IP targets).
	{Name: "deregistration_delay.timeout_seconds", Scope: TargetGroup, Default: "300", Support: Stored, Valid: "an integer from 0 to 3600", check: intRange(0, 3600),
		Doc: "edge's targets are fixed by the configuration (a reload drains removed listeners, not targets)"},
	{Name: "load_balancing.algorithm.anomaly_mitigation", Scope: TargetGroup, Default: "off", Support: Stored, Valid: "on or off", check: oneOf("on", "off"),
		Doc: "edge always uses round_robin"},
	{Name: "load_balancing.algorithm.type", Scope: TargetGroup, Default: "round_robin", Support: Stored, Valid: "round_robin, least_outstanding_requests or weighted_random", check: oneOf("round_robin", "least_outstanding_requests", "weighted_random"),
		Doc: "edge always uses round_robin, the default"},
	{Name: "load_balancing.cross_zone.enabled", Scope: TargetGroup, Default: "use_load_balancer_configuration", Support: Stored, Valid: "true, false or use_load_balancer_configuration", check: oneOf("true", "false", "use_load_balancer_configuration"),
		Doc: "edge has one zone"},
	{Name: "slow_start.duration_seconds", Scope: TargetGroup, Default: "0", Support: Stored, Valid: "0 (off) or an integer from 30 to 900", check: func(v string) bool { return v == "0" || intRange(30, 900)(v) },
		Doc: "edge gives every target its full share at once"},
	{Name: "stickiness.app_cookie.cookie_name", Scope: TargetGroup, Support: Stored, Valid: "a cookie name not starting with AWSALB, AWSALBAPP or AWSALBTG", check: appCookie,
		Doc: "edge has no sticky sessions"},
	{Name: "stickiness.app_cookie.duration_seconds", Scope: TargetGroup, Default: "86400", Support: Stored, Valid: "an integer from 1 to 604800", check: intRange(1, 604800),
		Doc: "edge has no sticky sessions"},
	{Name: "stickiness.enabled", Scope: TargetGroup, Default: "false", Support: Stored, Valid: boolRule, check: isBool,
		Doc: "edge has no sticky sessions"},
	{Name: "stickiness.lb_cookie.duration_seconds", Scope: TargetGroup, Default: "86400", Support: Stored, Valid: "an integer from 1 to 604800", check: intRange(1, 604800),
		Doc: "edge has no sticky sessions"},
	{Name: "stickiness.type", Scope: TargetGroup, Default: "lb_cookie", Support: Stored, Valid: "lb_cookie or app_cookie", check: oneOf("lb_cookie", "app_cookie"),
		Doc: "edge has no sticky sessions"},
	{Name: "target_group_health.dns_failover.minimum_healthy_targets.count", Scope: TargetGroup, Default: "1", Support: Stored, Valid: "off or an integer of at least 1", check: func(v string) bool { return v == "off" || intRange(1, 1<<31-1)(v) },
		Doc: "edge runs no health checks"},
	{Name: "target_group_health.dns_failover.minimum_healthy_targets.percentage", Scope: TargetGroup, Default: "off", Support: Stored, Valid: "off or an integer from 1 to 100", check: func(v string) bool { return v == "off" || intRange(1, 100)(v) },
		Doc: "edge runs no health checks"},
	{Name: "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", Scope: TargetGroup, Default: "1", Support: Stored, Valid: "an integer of at least 1", check: intRange(1, 1<<31-1),
		Doc: "edge runs no health checks"},
	{Name: "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", Scope: TargetGroup, Default: "off", Support: Stored, Valid: "off or an integer from 1 to 100", check: func(v string) bool { return v == "off" || intRange(1, 100)(v) },
		Doc: "edge runs no health checks"},
}

const (
	boolRule        = "true or false"
	s3BucketRule    = "an S3 bucket name (3-63 characters: lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)"
	s3PrefixRule    = "a key prefix without 'AWSLogs', a leading '/' or '..' segments"
	headerValueRule = "at most 1024 bytes of letters, digits and _ :;.,\\/'?!(){}[]@<>=-+*#&`|~^% (empty restores the default)"
	headerNameRule  = "a header name of at most 1024 bytes of letters, digits and _.'!#&`|~^%-+* (empty restores ALB's name)"
)

func init() {
	for i := 1; i < len(table); i++ {
		a, b := table[i-1], table[i]
		if a.Scope > b.Scope || a.Scope == b.Scope && a.Name >= b.Name {
			panic("attributes: table out of order at " + b.Name)
		}
	}
	for _, k := range table {
		if !k.check(k.Default) {
			panic("attributes: default of " + k.Name + " fails its own rule")
		}
	}
}

func isBool(v string) bool { return v == "true" || v == "false" }

func oneOf(choices ...string) func(string) bool {
	return func(v string) bool {
		for _, c := range choices {
			if v == c {
				return true
			}
		}
		return false
	}
}

// intRange accepts decimal digits only (no sign, no spaces) within lo-hi.
func intRange(lo, hi int) func(string) bool {
	return func(v string) bool {
		if v == "" || len(v) > 10 || strings.TrimLeft(v, "0123456789") != "" {
			return false
		}
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}
}

// headerValueChars: ALB's header-modification value characters.
var headerValueChars = charset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + "_ :;.,\\/'?!(){}[]@<>=-+*#&`|~^%")

// headerNameChars: those of ALB's characters an HTTP field name (RFC 9110
// token) can hold. ALB's rule alone would allow "X Client:Cert", which no
// HTTP/1.1 message can carry; edge refuses it at load.
var headerNameChars = charset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + "_.'!#&`|~^%-+*")

func charset(s string) *[256]bool {
	var t [256]bool
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return &t
}

func only(v string, set *[256]bool) bool {
	for i := 0; i < len(v); i++ {
		if !set[v[i]] {
			return false
		}
	}
	return true
}

func headerValue(v string) bool { return len(v) <= 1024 && only(v, headerValueChars) }

func headerName(v string) bool { return len(v) <= 1024 && only(v, headerNameChars) }

// s3BucketName: S3's naming rules for new buckets, without the IP-address
// form.
var s3BucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func s3Bucket(v string) bool {
	return v == "" || s3BucketName.MatchString(v) && !strings.Contains(v, "..")
}

// s3Prefix: ALB refuses a prefix holding "AWSLogs" (it adds that part
// itself); edge also refuses what would leave the bucket's directory.
func s3Prefix(v string) bool {
	if strings.Contains(v, "AWSLogs") || strings.HasPrefix(v, "/") || len(v) > 1024 || strings.ContainsAny(v, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(v, "/") {
		if seg == ".." || seg == "." {
			return false
		}
	}
	return true
}

func appCookie(v string) bool {
	if v == "" {
		return true
	}
	for _, p := range []string{"AWSALB", "AWSALBAPP", "AWSALBTG"} {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	return headerValue(v) && !strings.ContainsAny(v, " ;,=")
}
