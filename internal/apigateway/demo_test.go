package apigateway_test

import (
	"bytes"
	"strings"
	"testing"

	"edge/internal/apigateway"
)

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := apigateway.RunDemo(ctx, &out, t.TempDir()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"$ aws apigateway create-domain-name --domain-name api.example.test",
		"HTTP 200 {\"clientSerial\"",
		"handshake failed",
		"HTTP 403 {\"message\":\"Forbidden\"}",
		"[execution log]",
		"Access denied. Reason: Could not find issuer for certificate",
		"The walkthrough behaved as on API Gateway.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	t.Log(s)
}
