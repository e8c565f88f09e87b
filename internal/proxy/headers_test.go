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
