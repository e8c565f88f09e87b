package config_test

import (
	"strings"
	"testing"

	"edge/internal/config"
)

const good = `name: my-alb
logs:
  connection: stdout
trust_stores:
  - name: my-trust-store
    ca_certificates_bundle: pki/bundle.pem
listeners:
  - port: 8443
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    mutual_authentication:
      mode: verify
      trust_store: my-trust-store
      advertise_trust_store_ca_names: "on"
    default_actions:
      - type: fixed-response
        fixed_response_config:
          status_code: "200"
          content_type: text/plain
          message_body: hi
`

func TestParseGood(t *testing.T) {
	c, err := config.Parse([]byte(good), "/etc/edge/edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Listeners[0]
	if *l.Port != 8443 || l.Address != "127.0.0.1" || l.Protocol != "HTTPS" {
		t.Errorf("listener defaults: %+v", l)
	}
	if c.TLSRejection != "reset" {
		t.Errorf("tls_rejection = %q; want the default, reset", c.TLSRejection)
	}
	if got := c.Path("pki/bundle.pem"); got != "/etc/edge/pki/bundle.pem" {
		t.Errorf("Path = %q; want it relative to the config file", got)
	}
	if got := c.Line("listeners[0].ssl_policy"); got != 9 {
		t.Errorf("Line(ssl_policy) = %d; want 9", got)
	}
	if l.DefaultActions[0].FixedResponseConfig.StatusCode != "200" {
		t.Errorf("status code = %q", l.DefaultActions[0].FixedResponseConfig.StatusCode)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want []string // each a substring of one problem line, in order
	}{
		{"unknown key", func(s string) string { return strings.Replace(s, "    ssl_policy:", "    ssl_polcy:", 1) },
			[]string{`edge.yaml:9: unknown key "ssl_polcy" in listeners[0] (did you mean "ssl_policy"?`}},
		{"unknown top-level key", func(s string) string { return "listners: []\n" + s },
			[]string{`edge.yaml:1: unknown key "listners" at the top level (did you mean "listeners"?`}},
		{"port not a number", func(s string) string { return strings.Replace(s, "port: 8443", "port: http", 1) },
			[]string{`edge.yaml:8: listeners[0].port: expected an integer, got "http"`}},
		{"bad tls_rejection", func(s string) string { return "tls_rejection: drop\n" + s },
			[]string{`edge.yaml:1: tls_rejection: "drop" is not a TLS rejection (want reset, the default, or alert)`}},
		{"bad mode", func(s string) string { return strings.Replace(s, "mode: verify", "mode: strict", 1) },
			[]string{`edge.yaml:11: listeners[0].mutual_authentication.mode: "strict" is not a mutual authentication mode`}},
		{"unknown trust store", func(s string) string {
			return strings.Replace(s, "trust_store: my-trust-store", "trust_store: my-trustore", 1)
		},
			[]string{`edge.yaml:12: listeners[0].mutual_authentication.trust_store: no trust store named "my-trustore" (did you mean "my-trust-store"?)`}},
		{"bad status", func(s string) string { return strings.Replace(s, `status_code: "200"`, `status_code: "302"`, 1) },
			[]string{`edge.yaml:17: listeners[0].default_actions[0].fixed_response_config.status_code: "302" does not match`}},
		{"bad content type", func(s string) string { return strings.Replace(s, "text/plain", "text/xml", 1) },
			[]string{`edge.yaml:18: listeners[0].default_actions[0].fixed_response_config.content_type: "text/xml" is not one of`}},
		{"body too long", func(s string) string {
			return strings.Replace(s, "message_body: hi", "message_body: "+strings.Repeat("x", 1025), 1)
		},
			[]string{"message_body: is 1025 characters; ALB allows at most 1024"}},
		{"bad trust store name", func(s string) string { return strings.Replace(s, "- name: my-trust-store", "- name: -bad-", 1) },
			[]string{`edge.yaml:5: trust_stores[0].name: "-bad-" is not a valid trust store name`, "no trust store named"}},
		{"two problems", func(s string) string {
			return strings.Replace(strings.Replace(s, "port: 8443", "port: 70000", 1), "mode: verify", "mode: passthrough", 1)
		}, []string{"edge.yaml:8: listeners[0].port: 70000 is not a port", "edge.yaml:12: listeners[0].mutual_authentication.trust_store: a trust store is used only in verify mode",
			"edge.yaml:13: listeners[0].mutual_authentication.advertise_trust_store_ca_names: applies only in verify mode"}},
		{"bad revocation check", func(s string) string {
			return strings.Replace(s, "ca_certificates_bundle: pki/bundle.pem", "ca_certificates_bundle: pki/bundle.pem\n    revocation_check: rfc", 1)
		}, []string{`edge.yaml:7: trust_stores[0].revocation_check: "rfc" is not a revocation check (want alb or strict)`}},
		{"admin beyond loopback without token", func(s string) string { return "admin: {listen: \"0.0.0.0:9901\"}\n" + s },
			[]string{`edge.yaml:1: admin.listen: 0.0.0.0:9901 is beyond loopback: set admin.token`}},
		{"duplicate key", func(s string) string { return strings.Replace(s, "name: my-alb", "name: my-alb\nname: other", 1) },
			[]string{`edge.yaml:2: mapping key "name" already defined at line 1`}},
		{"not yaml", func(string) string { return "listeners: [\n" }, []string{"edge.yaml:1: did not find expected node content"}},
		{"empty", func(string) string { return "" }, []string{"edge.yaml: the configuration is empty"}},
		{"tab reported on an earlier line by yaml.v3", func(s string) string { return strings.Replace(s, "    ssl_policy:", "\tssl_policy:", 1) },
			[]string{"edge.yaml:9: a tab in the indentation: YAML does not allow tabs; indent with spaces"}},
		{"tab before a list item", func(s string) string { return strings.Replace(s, "  - port: 8443", "\t- port: 8443", 1) },
			[]string{"edge.yaml:8: a tab in the indentation: YAML does not allow tabs"}},
		{"tab after a colon is fine, a stray character is not a tab", func(s string) string { return strings.Replace(s, "name: my-alb", "name:\tmy-alb\n@bad: 1", 1) },
			[]string{"edge.yaml:2: found character that cannot start any token"}},
		{"PEM certificate", func(string) string {
			return "\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
		}, []string{`edge.yaml: this is a PEM file ("CERTIFICATE"), not a YAML configuration: -c takes the edge.yaml that names it`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.edit(good)), "edge.yaml")
			ps, ok := err.(config.Problems)
			if !ok {
				t.Fatalf("err = %v; want config.Problems", err)
			}
			if len(ps) != len(tc.want) {
				t.Fatalf("got %d problems:\n%v\nwant %d", len(ps), err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(ps[i].String(), w) {
					t.Errorf("problem %d = %q; want it to contain %q", i, ps[i], w)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(withAttributes))
	f.Add([]byte("listeners: [{port: 1, default_actions: [{type: fixed-response}]}]"))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("listeners:\n  - port: 0\n    mutual_authentication: {mode: verify}\n"))
	f.Add([]byte("logs:\n  connection: stdout\n\taccess: stdout\n"))
	f.Add([]byte("-----BEGIN X-----\n-----END X-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, "fuzz.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(c.Listeners) == 0 {
			t.Fatal("accepted a configuration without listeners")
		}
		for _, l := range c.Listeners {
			if l.Port == nil || len(l.DefaultActions) != 1 {
				t.Fatalf("accepted listener %+v", l)
			}
		}
	})
}

func TestRuleValidation(t *testing.T) {
	base := `target_groups:
  - {name: app, targets: ["127.0.0.1:9000"]}
listeners:
  - port: 8443
    rules:
%s
    default_actions: [{type: forward, target_group: app}]
`
	for _, tc := range []struct {
		name, rules, want string
	}{
		{"https to http redirect", `      - {priority: 1, conditions: [{field: path-pattern, values: ["/x"]}], actions: [{type: redirect, redirect_config: {protocol: HTTP, status_code: HTTP_301}}]}`,
			`edge.yaml:6: listeners[0].rules[0].actions[0].redirect_config.protocol: ALB does not redirect from HTTPS to HTTP`},
		{"redirect loop", `      - {priority: 1, conditions: [{field: path-pattern, values: ["/x"]}], actions: [{type: redirect, redirect_config: {status_code: HTTP_301}}]}`,
			"must change at least one of protocol, host, port or path"},
		{"unknown target group", `      - {priority: 1, conditions: [{field: path-pattern, values: ["/x"]}], actions: [{type: forward, target_group: api}]}`,
			`listeners[0].rules[0].actions[0].target_group: no target group named "api"`},
		{"duplicate priority", "      - {priority: 5, conditions: [{field: path-pattern, values: [\"/a\"]}], actions: [{type: forward, target_group: app}]}\n      - {priority: 5, conditions: [{field: path-pattern, values: [\"/b\"]}], actions: [{type: forward, target_group: app}]}",
			"edge.yaml:7: listeners[0].rules[1].priority: priority 5 is already used by listeners[0].rules[0]"},
		{"priority range", `      - {priority: 50001, conditions: [{field: path-pattern, values: ["/a"]}], actions: [{type: forward, target_group: app}]}`,
			"priority: 50001 is outside 1-50000"},
		{"too many values", `      - {priority: 1, conditions: [{field: path-pattern, values: [a, b, c, d]}], actions: [{type: forward, target_group: app}]}`,
			"4 values; ALB allows at most 3 per condition"},
		{"two host conditions", `      - {priority: 1, conditions: [{field: host-header, values: [a.b]}, {field: host-header, values: [c.d]}], actions: [{type: forward, target_group: app}]}`,
			"a rule may have only one host-header condition"},
		{"bad cidr", `      - {priority: 1, conditions: [{field: source-ip, values: [10.0.0.1]}], actions: [{type: forward, target_group: app}]}`,
			`source-ip value "10.0.0.1" is not a CIDR block`},
		{"weight range", `      - {priority: 1, conditions: [{field: path-pattern, values: ["/a"]}], actions: [{type: forward, target_groups: [{name: app, weight: 1000}]}]}`,
			"weight: 1000 is outside 0-999"},
		{"unknown field", `      - {priority: 1, conditions: [{field: cookie, values: [a]}], actions: [{type: forward, target_group: app}]}`,
			`"cookie" is not a condition field`},
	} {
		_, err := config.Parse([]byte(strings.Replace(base, "%s", tc.rules, 1)), "edge.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
}
