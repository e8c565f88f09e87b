package apigateway

import (
	"strings"
	"testing"
	"time"
)

// FuzzPatchOperations: any Update* body either parses into operations
// whose paths split, or is a BadRequestException; never a panic.
func FuzzPatchOperations(f *testing.F) {
	for _, s := range []string{
		`{"patchOperations": [{"op": "replace", "path": "/mutualTlsAuthentication/truststoreVersion", "value": "abcdef123"}]}`,
		`{"patchOperations":[{"op":"add","path":"/requestParameters/integration.request.header.X~1Y","value":"context.identity.clientCert.subjectDN"}]}`,
		`{"patchOperations":[{"op":"remove","path":"/~0~1"}]}`,
		`{"patchOperations":[{"op":"move","path":"/a","from":"/b"}]}`,
		`{}`, ``, `[`, `{"patchOperations":[{"op":"replace","path":"a~2"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := parsePatch(body)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != "BadRequestException" {
				t.Fatalf("error %v is not a BadRequestException", err)
			}
			return
		}
		for _, op := range ops {
			segs, err := splitPointer(op.Path)
			if err != nil {
				t.Fatalf("parsePatch accepted %q that splitPointer refuses: %v", op.Path, err)
			}
			if strings.Count(op.Path, "/") != len(segs) {
				t.Fatalf("%q split into %d segments", op.Path, len(segs))
			}
		}
	})
}

// FuzzAccessLogFormat: a template parses or is refused; a parsed one
// renders one line (no raw control characters from values) and its
// literal text survives.
func FuzzAccessLogFormat(f *testing.F) {
	for _, s := range []string{
		DefaultAccessLogFormat, CLFFormat,
		`{"requestId":"$context.requestId","pem":"$context.identity.clientCert.clientCertPem"}`,
		`$context.`, `$context.status.`, `$$context.status$context`, `$context.requestID`, "a\nb",
	} {
		f.Add(s)
	}
	c := &reqContext{requestID: "r", start: time.Unix(0, 0), status: 200, httpMethod: "GET", path: "/p\n"}
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := ParseAccessLogFormat(s)
		if err != nil {
			return
		}
		line := string(fm.appendLine(nil, c))
		lits := 0
		for _, p := range fm.parts {
			if p.v == "" {
				lits += len(p.lit)
				if !strings.Contains(line, p.lit) {
					t.Fatalf("literal %q missing from %q", p.lit, line)
				}
			}
		}
		if len(line) < lits {
			t.Fatalf("line %q shorter than its literals", line)
		}
		for _, v := range fm.Variables() {
			if !contextVariables[v] {
				t.Fatalf("unknown variable %q accepted", v)
			}
		}
	})
}

// FuzzParseTruststore: any bytes give a truststore, a *TruststoreError,
// never a panic; a truststore never holds more than the limit.
func FuzzParseTruststore(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte(""))
	f.Add([]byte("# comment\n\n-----BEGIN X509 CRL-----\nAA==\n-----END X509 CRL-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, _, err := ParseTruststore(data, time.Now())
		if err != nil {
			if _, ok := err.(*TruststoreError); !ok {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if ts.Len() == 0 || ts.Len() > MaxTruststoreCertificates {
			t.Fatalf("truststore of %d certificates", ts.Len())
		}
	})
}
