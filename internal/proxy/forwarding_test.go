package proxy

import (
	"net/http"
	"testing"

	"edge/internal/attributes"
)

// The Host rules of the ALB guide's "Host header preservation" table.
func TestTargetHost(t *testing.T) {
	for _, tc := range []struct {
		host     string
		port     int
		preserve bool
		want     string
	}{
		{"example.com", 443, false, "example.com"},
		{"example.com:80", 80, false, "example.com"},
		{"example.com:443", 443, false, "example.com"},
		{"example.com", 8080, false, "example.com:8080"},
		{"example.com:8080", 8080, false, "example.com:8080"},
		{"example.com:9999", 8080, false, "example.com:9999"},
		{"[2001:db8::1]", 8080, false, "[2001:db8::1]:8080"},
		{"[2001:db8::1]:443", 443, false, "[2001:db8::1]"},
		{"example.com:80", 80, true, "example.com:80"},
		{"example.com", 8080, true, "example.com"},
		{"", 8080, false, ""},
	} {
		if got := targetHost(tc.host, tc.port, tc.preserve); got != tc.want {
			t.Errorf("targetHost(%q, %d, %t) = %q; want %q", tc.host, tc.port, tc.preserve, got, tc.want)
		}
	}
}

func TestDropInvalidFields(t *testing.T) {
	h := http.Header{"X_token": {"a"}, "X.dotted": {"b"}, "X-Ok-1": {"c"}, "X~tilde": {"d"}}
	dropInvalidFields(h)
	if len(h) != 1 || h.Get("X-Ok-1") != "c" {
		t.Errorf("after dropping: %v; want only X-Ok-1", h)
	}
}

// RewriteResponse reports how the header block changed, for sent_bytes.
func TestRewriteResponseDelta(t *testing.T) {
	lv := attributes.MustResolve(attributes.Listener, "HTTPS", map[string]string{
		"routing.http.response.server.enabled":                         "false",
		"routing.http.response.strict_transport_security.header_value": "max-age=60",
	}).Listener()
	f := NewForwarding(attributes.MustResolve(attributes.LoadBalancer, "", nil).LoadBalancer(), lv)
	h := http.Header{"Server": {ServerHeader}, "Strict-Transport-Security": {"max-age=1"}}
	delta := f.RewriteResponse(h, true)
	want := -int64(len("Server: awselb/2.0\r\n")) - int64(len("Strict-Transport-Security: max-age=1\r\n")) + int64(len("Strict-Transport-Security: max-age=60\r\n"))
	if delta != want || h.Get("Server") != "" || h.Get("Strict-Transport-Security") != "max-age=60" {
		t.Errorf("delta %d (want %d), header %v", delta, want, h)
	}
	h = http.Header{"Server": {"target"}}
	f.RewriteResponse(h, false)
	if h.Get("Server") != "target" {
		t.Error("a target's Server header was removed")
	}
	if defaultForwarding.RewritesResponses() {
		t.Error("ALB's defaults rewrite responses")
	}
}
