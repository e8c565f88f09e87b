package config_test

import (
	"strings"
	"testing"

	"edge/internal/config"
)

const withAttributes = `name: my-alb
attributes:
  idle_timeout.timeout_seconds: 30
  routing.http.xff_header_processing.mode: preserve
  routing.http.drop_invalid_header_fields.enabled: true
target_groups:
  - name: app
    targets: ["127.0.0.1:9000"]
    attributes:
      deregistration_delay.timeout_seconds: "10"
listeners:
  - port: 8443
    attributes:
      routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name: X-Client-Serial
      routing.http.response.server.enabled: false
      routing.http.response.strict_transport_security.header_value: "max-age=31536000; includeSubDomains"
    default_actions: [{type: forward, target_group: app}]
  - port: 8080
    protocol: HTTP
    default_actions: [{type: forward, target_group: app}]
`

func TestParseAttributes(t *testing.T) {
	c, err := config.Parse([]byte(withAttributes), "edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lb := c.AttributeSet.LoadBalancer()
	if c.IdleTimeoutSeconds != 30 || lb.IdleTimeout.Seconds() != 30 || !lb.DropInvalidHeaderFields {
		t.Errorf("load balancer attributes not in effect: idle_timeout_seconds=%d %+v", c.IdleTimeoutSeconds, lb)
	}
	l := c.Listeners[0].AttributeSet.Listener()
	if l.Names.ClientCertSerialNumber != "X-Client-Serial" || l.ServerHeader || len(l.ResponseHeaders) != 1 {
		t.Errorf("listener attributes: %+v", l)
	}
	if got := c.Listeners[0].AttributeSet.Get("routing.http.response.server.enabled"); got != "false" {
		t.Errorf("a YAML boolean is kept as %q; want the API's \"false\"", got)
	}
	if got := c.TargetGroups[0].AttributeSet.Get("deregistration_delay.timeout_seconds"); got != "10" {
		t.Errorf("target group attribute = %q", got)
	}
	if got := c.Line("listeners[0].attributes.routing.http.response.server.enabled"); got != 15 {
		t.Errorf("Line of a listener attribute = %d; want 15", got)
	}
	// The older top-level key is the same setting.
	c, err = config.Parse([]byte(strings.Replace(withAttributes, "  idle_timeout.timeout_seconds: 30\n", "", 1)+"idle_timeout_seconds: 45\n"), "edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AttributeSet.Get("idle_timeout.timeout_seconds"); got != "45" || c.IdleTimeoutSeconds != 45 {
		t.Errorf("idle_timeout_seconds: 45 gives idle_timeout.timeout_seconds=%s", got)
	}
	if _, err := config.Parse([]byte(withAttributes+"idle_timeout_seconds: 30\n"), "edge.yaml"); err != nil {
		t.Errorf("both keys with one value: %v", err)
	}
}

func TestAttributeProblems(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want []string // each a substring of one problem line, in order
	}{
		{"unknown load balancer key", func(s string) string {
			return strings.Replace(s, "idle_timeout.timeout_seconds: 30", "idle_timeout.seconds: 30", 1)
		}, []string{`edge.yaml:3: attributes.idle_timeout.seconds: ValidationError: Load balancer attribute key 'idle_timeout.seconds' is not recognized (did you mean 'idle_timeout.timeout_seconds'?)`}},
		{"misspelt rename", func(s string) string {
			return strings.Replace(s, "clientcert_serial_number.header_name", "clientcert_serial.header_name", 1)
		}, []string{`edge.yaml:14: listeners[0].attributes.routing.http.request.x_amzn_mtls_clientcert_serial.header_name: ValidationError: Listener attribute key`,
			`did you mean 'routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name'?`}},
		{"bad enum", func(s string) string { return strings.Replace(s, "mode: preserve", "mode: keep", 1) },
			[]string{`edge.yaml:4: attributes.routing.http.xff_header_processing.mode: ValidationError: 'keep' is not a valid value for load balancer attribute 'routing.http.xff_header_processing.mode': it must be append, preserve or remove`}},
		{"out of range", func(s string) string { return strings.Replace(s, "timeout_seconds: 30", "timeout_seconds: 4001", 1) },
			[]string{`edge.yaml:3: attributes.idle_timeout.timeout_seconds: ValidationError: '4001' is not a valid value`, "an integer from 1 to 4000"}},
		{"bad boolean", func(s string) string { return strings.Replace(s, "server.enabled: false", "server.enabled: off", 1) },
			[]string{`edge.yaml:15: listeners[0].attributes.routing.http.response.server.enabled: ValidationError: 'off' is not a valid value`, "it must be true or false"}},
		{"header value with a quote", func(s string) string {
			return strings.Replace(s, `"max-age=31536000; includeSubDomains"`, `'max-age="1"'`, 1)
		},
			[]string{`edge.yaml:16: listeners[0].attributes.routing.http.response.strict_transport_security.header_value: ValidationError: 'max-age="1"' is not a valid value`}},
		{"rename on an HTTP listener", func(s string) string {
			return strings.Replace(s, "    protocol: HTTP\n", "    protocol: HTTP\n    attributes: {routing.http.request.x_amzn_tls_version.header_name: X-TLS}\n", 1)
		}, []string{`edge.yaml:20: listeners[1].attributes.routing.http.request.x_amzn_tls_version.header_name: ValidationError: listener attribute 'routing.http.request.x_amzn_tls_version.header_name' applies to HTTPS listeners only`}},
		{"logs enabled without a bucket", func(s string) string {
			return strings.Replace(s, "attributes:\n", "attributes:\n  access_logs.s3.enabled: true\n", 1)
		}, []string{`edge.yaml:3: attributes.access_logs.s3.enabled: ValidationError: access_logs.s3.bucket is required when access_logs.s3.enabled is true`}},
		{"old and new key disagree", func(s string) string { return s + "idle_timeout_seconds: 60\n" },
			[]string{`edge.yaml:21: idle_timeout_seconds: 60 disagrees with attributes idle_timeout.timeout_seconds 30 (edge.yaml:3); idle_timeout_seconds is the older spelling of that attribute: keep one`}},
		{"a list as a value", func(s string) string { return strings.Replace(s, "mode: preserve", "mode: [preserve]", 1) },
			[]string{`edge.yaml:4: attributes.routing.http.xff_header_processing.mode: expected a string, number or boolean, got a list`}},
		{"attributes not a mapping", func(s string) string {
			return strings.Replace(s, "    attributes:\n      deregistration_delay.timeout_seconds: \"10\"\n", "    attributes: [deregistration_delay.timeout_seconds]\n", 1)
		}, []string{`edge.yaml:9: target_groups[0].attributes: expected a mapping of keys, got a list`}},
		{"target group key on the load balancer", func(s string) string {
			return strings.Replace(s, "attributes:\n", "attributes:\n  stickiness.enabled: true\n", 1)
		}, []string{`edge.yaml:3: attributes.stickiness.enabled: ValidationError: Load balancer attribute key 'stickiness.enabled' is not recognized`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.edit(withAttributes)), "edge.yaml")
			ps, ok := err.(config.Problems)
			if !ok {
				t.Fatalf("err = %v; want config.Problems", err)
			}
			if len(ps) != 1 {
				t.Fatalf("got %d problems:\n%v\nwant 1", len(ps), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(ps[0].String(), w) {
					t.Errorf("problem = %q; want it to contain %q", ps[0], w)
				}
			}
		})
	}
}
