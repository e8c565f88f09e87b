package proxy

import "testing"

func TestIsMTLSHeader(t *testing.T) {
	for k, want := range map[string]bool{
		"X-Amzn-Mtls-Clientcert":         true,
		"X_Amzn_Mtls_Clientcert_Subject": true,
		"x-amzn-mtls_clientcert-leaf":    true,
		"X-AMZN-MTLS":                    true,
		"x_amzn_mtls_":                   true,
		"X-Amzn-Mtlsx":                   false,
		"X-Amzn-Mtl":                     false,
		"X-Amzn-Trace-Id":                false,
		"X-Amzn-Tls-Version":             false,
		"Xx-Amzn-Mtls-Clientcert":        false,
		"":                               false,
	} {
		if got := IsMTLSHeader(k); got != want {
			t.Errorf("IsMTLSHeader(%q) = %v; want %v", k, got, want)
		}
	}
}

func TestSameCGIName(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"X-Client-Subject", "x_client_subject", true},
		{"X-Client-Subject", "X-CLIENT_SUBJECT", true},
		{"X-Client-Subject", "X-Client-Subjects", false},
		{"X-Client-Subject", "X.Client.Subject", false},
	} {
		if got := SameCGIName(tc.a, tc.b); got != tc.want {
			t.Errorf("SameCGIName(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// ALB's table in "Edit attributes for your Application Load Balancer"
// (Host header preservation disabled).
func TestTargetHostTable(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"example.com", 443, "example.com"},
		{"example.com:80", 80, "example.com"},
		{"example.com:8443", 443, "example.com"},
		{"example.com", 8080, "example.com:8080"},
		{"example.com:8080", 8080, "example.com:8080"},
		{"example.com:9999", 8080, "example.com:9999"},
		{"[2001:db8::1]", 8443, "[2001:db8::1]:8443"},
		{"[2001:db8::1]:443", 443, "[2001:db8::1]"},
		{"", 8080, ""},
	} {
		if got := targetHost(tc.host, tc.port, false); got != tc.want {
			t.Errorf("targetHost(%q, %d, false) = %q; want %q", tc.host, tc.port, got, tc.want)
		}
	}
}
