package attributes

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// Terraform's aws_lb writes these 14 keys right after creating an ALB and
// expects DescribeLoadBalancerAttributes to return each (wire capture 093).
func TestDefaultsCoverTerraformKeys(t *testing.T) {
	want := map[string]string{
		"access_logs.s3.enabled": "false", "connection_logs.s3.enabled": "false", "zonal_shift.config.enabled": "false",
		"client_keep_alive.seconds": "3600", "routing.http2.enabled": "true", "routing.http.xff_client_port.enabled": "false",
		"idle_timeout.timeout_seconds": "60", "routing.http.xff_header_processing.mode": "append",
		"routing.http.desync_mitigation_mode": "defensive", "routing.http.drop_invalid_header_fields.enabled": "false",
		"routing.http.preserve_host_header.enabled": "false", "waf.fail_open.enabled": "false",
		"deletion_protection.enabled": "false", "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
	}
	got := map[string]string{}
	for _, a := range Defaults(LoadBalancer) {
		got[a.Key] = a.Value
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("Defaults(LoadBalancer)[%s] = %q (present %t); want %q", k, g, ok, v)
		}
	}
	l := Defaults(Listener)
	if len(l) != 19 {
		t.Errorf("Defaults(Listener) has %d keys; want ALB's 19", len(l))
	}
	if s := MustResolve(Listener, "HTTP", nil); len(s.List()) != 11 {
		t.Errorf("an HTTP listener lists %d keys; want the 11 that are not HTTPS-only", len(s.List()))
	}
	if got := MustResolve(TargetGroup, "", nil).Get("deregistration_delay.timeout_seconds"); got != "300" {
		t.Errorf("deregistration_delay.timeout_seconds default %q; want 300", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		scope      Scope
		key, value string
		kind       error // nil: valid
	}{
		{LoadBalancer, "idle_timeout.timeout_seconds", "1", nil},
		{LoadBalancer, "idle_timeout.timeout_seconds", "4000", nil},
		{LoadBalancer, "idle_timeout.timeout_seconds", "4001", ErrInvalidValue},
		{LoadBalancer, "idle_timeout.timeout_seconds", "0", ErrInvalidValue},
		{LoadBalancer, "idle_timeout.timeout_seconds", "+5", ErrInvalidValue},
		{LoadBalancer, "idle_timeout.timeout_seconds", " 5", ErrInvalidValue},
		{LoadBalancer, "client_keep_alive.seconds", "59", ErrInvalidValue},
		{LoadBalancer, "client_keep_alive.seconds", "604800", nil},
		{LoadBalancer, "routing.http.xff_header_processing.mode", "preserve", nil},
		{LoadBalancer, "routing.http.xff_header_processing.mode", "Append", ErrInvalidValue},
		{LoadBalancer, "routing.http.drop_invalid_header_fields.enabled", "yes", ErrInvalidValue},
		{LoadBalancer, "load_balancing.cross_zone.enabled", "false", ErrInvalidValue},
		{LoadBalancer, "access_logs.s3.bucket", "my-logs", nil},
		{LoadBalancer, "access_logs.s3.bucket", "My_Logs", ErrInvalidValue},
		{LoadBalancer, "access_logs.s3.prefix", "team/alb", nil},
		{LoadBalancer, "access_logs.s3.prefix", "x/AWSLogs", ErrInvalidValue},
		{LoadBalancer, "access_logs.s3.prefix", "../../etc", ErrInvalidValue},
		{LoadBalancer, "idle_timeout.seconds", "60", ErrUnknownKey},
		{LoadBalancer, "routing.http.response.server.enabled", "false", ErrUnknownKey}, // a listener key
		{Listener, "routing.http.response.server.enabled", "false", nil},
		{Listener, "routing.http.response.server.enabled", "", nil}, // header modification: empty restores the default
		{Listener, "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "X-Client-Serial", nil},
		{Listener, "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "", nil},
		{Listener, "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "X Client", ErrInvalidValue},
		{Listener, "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "X:Client", ErrInvalidValue},
		{Listener, "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", strings.Repeat("a", 1025), ErrInvalidValue},
		{Listener, "routing.http.response.strict_transport_security.header_value", "max-age=31536000; includeSubDomains; preload", nil},
		{Listener, "routing.http.response.content_security_policy.header_value", "default-src 'self'; img-src https://*.example.com", nil},
		{Listener, "routing.http.response.strict_transport_security.header_value", `max-age="1"`, ErrInvalidValue},
		{Listener, "routing.http.response.strict_transport_security.header_value", "a\r\nX-Injected: 1", ErrInvalidValue},
		{Listener, "routing.http.response.strict_transport_security.header_value", strings.Repeat("a", 1025), ErrInvalidValue},
		{TargetGroup, "slow_start.duration_seconds", "0", nil},
		{TargetGroup, "slow_start.duration_seconds", "29", ErrInvalidValue},
		{TargetGroup, "stickiness.app_cookie.cookie_name", "AWSALBAPP-x", ErrInvalidValue},
		{TargetGroup, "load_balancing.algorithm.type", "least_outstanding_requests", nil},
	} {
		err := Validate(tc.scope, tc.key, tc.value)
		if tc.kind == nil {
			if err != nil {
				t.Errorf("Validate(%s, %s, %.20q) = %v; want nil", tc.scope, tc.key, tc.value, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tc.kind) || e.Code != "ValidationError" {
			t.Errorf("Validate(%s, %s, %.20q) = %v; want a ValidationError of kind %v", tc.scope, tc.key, tc.value, err, tc.kind)
		}
	}
}

func TestValidateMessages(t *testing.T) {
	err := Validate(Listener, "routing.http.request.x_amzn_mtls_clientcert_serial.header_name", "X-S")
	var e *Error
	if !errors.As(err, &e) || e.Nearest != "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name" {
		t.Fatalf("unknown key: %v; want the nearest key named", err)
	}
	if want := "Listener attribute key 'routing.http.request.x_amzn_mtls_clientcert_serial.header_name' is not recognized"; !strings.Contains(e.Message, want) {
		t.Errorf("message %q lacks %q", e.Message, want)
	}
	err = Validate(LoadBalancer, "routing.http.xff_header_processing.mode", "drop")
	if !errors.As(err, &e) || e.Valid != "append, preserve or remove" || !strings.Contains(err.Error(), "append, preserve or remove") {
		t.Errorf("bad enum: %v; want the choices", err)
	}
}

func TestResolve(t *testing.T) {
	s, err := Resolve(LoadBalancer, "", map[string]string{
		"idle_timeout.timeout_seconds":            "5",
		"routing.http.xff_header_processing.mode": "remove",
		"access_logs.s3.enabled":                  "true",
		"access_logs.s3.bucket":                   "logs",
		"access_logs.s3.prefix":                   "alb",
	})
	if err != nil {
		t.Fatal(err)
	}
	v := s.LoadBalancer()
	if v.IdleTimeout != 5*time.Second || v.ClientKeepAlive != time.Hour || v.XFFMode != XFFRemove || v.AccessLogs != (S3Logs{true, "logs", "alb"}) || v.ConnectionLogs.Enabled {
		t.Errorf("LoadBalancer() = %+v", v)
	}
	if !s.IsSet("idle_timeout.timeout_seconds") || s.IsSet("client_keep_alive.seconds") {
		t.Error("IsSet does not tell given from default")
	}
	if len(s.List()) != len(Defaults(LoadBalancer)) {
		t.Error("List does not hold every key")
	}

	_, err = Resolve(LoadBalancer, "", map[string]string{"connection_logs.s3.enabled": "true", "idle_timeout.timeout_seconds": "0", "nope": "1"})
	var kinds []error
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		kinds = append(kinds, e.(*Error).Kind)
	}
	if len(kinds) != 3 || kinds[0] != ErrInvalidValue || kinds[1] != ErrUnknownKey || kinds[2] != ErrConflict {
		t.Errorf("Resolve reported %v; want an invalid value, an unknown key and a conflict (no bucket)", kinds)
	}

	l, err := Resolve(Listener, "HTTPS", map[string]string{
		"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name": "X-Client-Serial",
		"routing.http.request.x_amzn_mtls_clientcert_subject.header_name":       "",
		"routing.http.response.server.enabled":                                  "false",
		"routing.http.response.strict_transport_security.header_value":          "max-age=60",
		"routing.http.response.x_frame_options.header_value":                    "DENY",
	})
	if err != nil {
		t.Fatal(err)
	}
	lv := l.Listener()
	if lv.Names.ClientCertSerialNumber != "X-Client-Serial" || lv.Names.ClientCertSubject != "X-Amzn-Mtls-Clientcert-Subject" || lv.ServerHeader ||
		len(lv.ResponseHeaders) != 2 || lv.ResponseHeaders[0] != (Header{"Strict-Transport-Security", "max-age=60"}) || len(lv.Renamed) != 1 {
		t.Errorf("Listener() = %+v", lv)
	}
	if l.IsSet("routing.http.request.x_amzn_mtls_clientcert_subject.header_name") {
		t.Error("an empty header name counts as set; it restores the default")
	}

	for name, given := range map[string]map[string]string{
		"two headers one name": {"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name": "x-amzn-mtls-clientcert-subject"},
		"a reserved name":      {"routing.http.request.x_amzn_mtls_clientcert_leaf.header_name": "Host"},
	} {
		if _, err := Resolve(Listener, "HTTPS", given); !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v; want ErrConflict", name, err)
		}
	}
	if _, err := Resolve(Listener, "HTTP", map[string]string{"routing.http.request.x_amzn_tls_version.header_name": "X-TLS"}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("a rename on an HTTP listener: %v; want it refused", err)
	}
	if _, err := Resolve(TargetGroup, "", map[string]string{"load_balancing.algorithm.anomaly_mitigation": "on"}); !errors.Is(err, ErrConflict) {
		t.Errorf("anomaly mitigation without weighted_random: %v; want ErrConflict", err)
	}
}

// FuzzValidate: no key or value panics, every accepted header value is
// safe to put in an HTTP header (no CR, LF, NUL or quote), and every
// message is one line.
func FuzzValidate(f *testing.F) {
	f.Add("routing.http.response.strict_transport_security.header_value", "max-age=1")
	f.Add("idle_timeout.timeout_seconds", "99999999999999999999")
	f.Add("access_logs.s3.prefix", "a/../b")
	f.Add("routing.http.request.x_amzn_tls_version.header_name", "X\r\nY")
	f.Fuzz(func(t *testing.T, key, value string) {
		for _, scope := range []Scope{LoadBalancer, Listener, TargetGroup} {
			err := Validate(scope, key, value)
			if err == nil && strings.Contains(key, "header_") && strings.ContainsAny(value, "\r\n\x00\"") {
				t.Fatalf("%s=%q accepted", key, value)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("message %q spans lines", err)
			}
			_, _ = Resolve(scope, "HTTPS", map[string]string{key: value})
		}
	})
}

// docs/attributes.md has a row for every key of the table, with its
// default, and says whether edge acts on it.
func TestDocsListEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../docs/attributes.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[Scope]map[string]string{}
	var scope Scope
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "## Load balancer":
			scope = LoadBalancer
		case line == "## Listener":
			scope = Listener
		case line == "## Target group":
			scope = TargetGroup
		case strings.HasPrefix(line, "## "):
			scope = 0
		case scope != 0 && strings.HasPrefix(line, "| `"):
			if rows[scope] == nil {
				rows[scope] = map[string]string{}
			}
			rows[scope][strings.Trim(strings.Split(line, " | ")[0], "| `")] = line
		}
	}
	for _, k := range table {
		row, ok := rows[k.Scope][k.Name]
		switch {
		case !ok:
			t.Errorf("docs/attributes.md has no row for %s", k.Name)
		case k.Default != "" && !strings.Contains(row, "`"+k.Default+"`"):
			t.Errorf("docs/attributes.md: the row of %s lacks its default %q", k.Name, k.Default)
		case k.Support == Emulated && !strings.Contains(row, "**emulated**"):
			t.Errorf("docs/attributes.md: the row of %s does not say edge emulates it", k.Name)
		case k.Support == Stored && k.Scope != TargetGroup && !strings.Contains(row, "not emulated"):
			t.Errorf("docs/attributes.md: the row of %s does not say edge does not emulate it", k.Name)
		}
	}
}

// A value with a line break or a very long value stays one short line in
// messages.
func TestMessageQuoting(t *testing.T) {
	err := Validate(Listener, "routing.http.response.x_frame_options.header_value", "DENY\r\nX-Injected: 1")
	if !strings.Contains(err.Error(), `'DENY\x0d\x0aX-Injected: 1'`) {
		t.Errorf("message %q; want the control characters escaped", err)
	}
	err = Validate(Listener, "routing.http.response.x_frame_options.header_value", strings.Repeat("a", 2000))
	if len(err.Error()) > 400 || !strings.Contains(err.Error(), "...'") {
		t.Errorf("a 2000-character value gives a %d-byte message", len(err.Error()))
	}
}
