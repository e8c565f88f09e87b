package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"edge/internal/testutil"
)

// edge check compiles the api_gateway block as edge serve does: a valid
// one is summarized (domain, truststore with its certificate count,
// mappings, APIs); problems are reported at their own lines, including
// those only reading the files finds.
func TestCheckAPIGateway(t *testing.T) {
	dir := t.TempDir()
	newGWPKI(t, dir)
	writeGWConfig(t, dir, "http://127.0.0.1:9")
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 0 {
		t.Fatalf("edge check: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"api_gateway: HTTPS 127.0.0.1:0, one listener for every custom domain (chosen by SNI)",
		"  access log: file:access.log; execution log: file:exec.log",
		"  domain api.test: REGIONAL, TLS_1_2, certificate server.pem",
		"    mutual TLS: truststore truststore.pem, 2 certificates", // the CRL in it is ignored
		"    base path (none) -> REST API pets (id ",
		"  REST API pets (id ",
		"    ANY /{proxy+} -> HTTP_PROXY http://127.0.0.1:9/{proxy}",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	// Without load balancer listeners the default load balancer serves
	// nothing: no summary of it. With one, it is summarized.
	if strings.Contains(out, "load balancer") || strings.Contains(out, "attributes:") {
		t.Errorf("an API Gateway only configuration summarizes an unused load balancer:\n%s", out)
	}
	writeGWConfig(t, dir, "http://127.0.0.1:9", withListener...)
	if out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml"); code != 0 || !strings.Contains(out, "load balancer edge (elb ") || !strings.Contains(out, "listener 0: HTTP") {
		t.Errorf("with a listener: exit %d; want the load balancer's summary\n%s%s", code, out, errOut)
	}

	for _, tc := range []struct {
		name    string
		replace []string
		want    string
	}{
		{"exclusive truststores", []string{"truststore: truststore.pem", "truststore: truststore.pem\n        truststore_uri: s3://b/k"},
			"edge.yaml:9: api_gateway.domain_names[0].mutual_tls_authentication: truststore and truststore_uri are exclusive"},
		{"unknown API", []string{"rest_api: pets", "rest_api: petz"},
			`edge.yaml:12: api_gateway.domain_names[0].base_path_mappings[0].rest_api: "petz" is not a rest_apis name`},
		{"missing truststore file", []string{"truststore: truststore.pem", "truststore: nosuch.pem"},
			"edge.yaml:10: api_gateway.domain_names[0].mutual_tls_authentication.truststore: open nosuch.pem: no such file or directory"},
		{"truststore_uri without S3", []string{"truststore: truststore.pem", "truststore_uri: s3://b/k"},
			"edge.yaml:10: api_gateway.domain_names[0].mutual_tls_authentication.truststore_uri: edge has no S3 store to read s3://b/k from"},
		{"not a truststore", []string{"truststore: truststore.pem", "truststore: server.key"},
			"edge.yaml:9: api_gateway.domain_names[0].mutual_tls_authentication: server.key: "},
		{"listen", []string{"  listen: 127.0.0.1:0\n", ""}, "edge.yaml:1: api_gateway.listen: is required"},
	} {
		writeGWConfig(t, dir, "http://127.0.0.1:9", tc.replace...)
		out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d; want 1 and %q\n%s%s", tc.name, code, tc.want, out, errOut)
		}
	}
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte("name: x\n"))
	if _, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml"); code != 1 || !strings.Contains(errOut, "listeners: at least one listener is required (or an api_gateway block, or an aws: block") {
		t.Errorf("a configuration without listeners or api_gateway: exit %d\n%s", code, errOut)
	}
}

// edge demo --api-gateway replays the walkthrough on the embedded S3
// store and prints one row per checked request; --keep (relative or
// absolute) keeps its certificates, truststore and an edge.yaml that
// edge check accepts from anywhere.
func TestDemoAPIGateway(t *testing.T) {
	work := t.TempDir()
	rows := []string{
		`with the client certificate\s+CN=demo client\s+HTTP 200, subject at the target\s+HTTP 200\n`,
		`without a client certificate\s+none\s+handshake failed\s+handshake failed\n`,
		`default execute-api endpoint \(disabled\)\s+none\s+HTTP 403\s+HTTP 403\n`,
		`truststore v2 uploaded, domain not updated\s+CN=demo client\s+HTTP 200 \(pinned to v1\)\s+HTTP 200\n`,
		`after update-domain-name to v2\s+CN=demo client\s+HTTP 403\s+HTTP 403\n`,
	}
	for _, keep := range []string{"", "rel/apigw", filepath.Join(work, "abs", "apigw")} {
		args := []string{"demo", "--api-gateway"}
		if keep != "" {
			args = append(args, "--keep", keep)
		}
		out, errOut, code := runEdge(t, work, args...)
		if code != 0 || strings.Contains(out, "unexpected") {
			t.Errorf("edge %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
			continue
		}
		for _, want := range append(rows, `\$ aws apigateway create-domain-name --domain-name api.example.test .* --mutual-tls-authentication truststoreUri=s3://demo-trust/truststore.pem,truststoreVersion=\S+`,
			`Access denied. Reason: Could not find issuer for certificate`) {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("edge %s: the output lacks %s:\n%s", strings.Join(args, " "), want, out)
			}
		}
		if keep == "" {
			continue
		}
		kept := keep
		if !filepath.IsAbs(kept) {
			kept = filepath.Join(work, keep)
		}
		// Certificates are public (0644), the key private (0600).
		for f, mode := range map[string]os.FileMode{"edge.yaml": 0o644, "truststore.pem": 0o644, "client.pem": 0o644, "client.key": 0o600, "root.pem": 0o644} {
			if fi, err := os.Stat(filepath.Join(kept, f)); err != nil {
				t.Errorf("--keep %s: %v", keep, err)
			} else if fi.Mode().Perm() != mode {
				t.Errorf("--keep %s: %s has mode %v; want %v", keep, f, fi.Mode().Perm(), mode)
			}
		}
		if out, errOut, code := runEdge(t, t.TempDir(), "check", "-c", filepath.Join(kept, "edge.yaml")); code != 0 || !strings.Contains(out, "mutual TLS: truststore truststore.pem, 2 certificates") {
			t.Errorf("check of the kept configuration from elsewhere: exit %d\n%s%s", code, out, errOut)
		}
	}
}

// edge export on the API Gateway walkthrough's configuration (aws and
// api_gateway blocks, no load balancer listeners) is a user error that
// says what export covers; it writes nothing, so a rerun says the same.
func TestExportAPIGatewayOnlyConfiguration(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(gwAWSYAML))
	if err := os.MkdirAll(filepath.Join(dir, ".edge", "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		out, errOut, code := runEdge(t, dir, "export", "-c", "edge.yaml", "--out", "exported")
		if code != 1 || !strings.Contains(errOut, "edge export: nothing to export: no load balancer listeners") ||
			!strings.Contains(errOut, `api_gateway block and API Gateway domains are left out (see docs/aws-endpoint.md "edge export")`) ||
			strings.Contains(errOut, "a bug") || !strings.HasSuffix(errOut, "\n") {
			t.Errorf("run %d: exit %d; want 1 and what export covers\n%s%s", run, code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "exported")); !os.IsNotExist(err) {
			t.Errorf("run %d: the failed export left exported/ behind (%v)", run, err)
		}
	}
}

// Every failure of edge check and edge export ends its output with one
// newline, so the shell prompt (or the next command's output) starts on a
// line of its own.
func TestCheckAndExportErrorsEndWithANewline(t *testing.T) {
	dir := t.TempDir()
	newGWPKI(t, dir)
	testutil.WriteFile(t, filepath.Join(dir, "aws-only.yaml"), []byte(gwAWSYAML))
	testutil.WriteFile(t, filepath.Join(dir, "broken.yaml"), []byte("listeners: [{port: 0\n"))
	testutil.WriteFile(t, filepath.Join(dir, "unknown.yaml"), []byte("listeners: []\nlistenrs: []\n"))
	testutil.WriteFile(t, filepath.Join(dir, "taken", "edge.yaml"), []byte("# mine\n"))
	if err := os.MkdirAll(filepath.Join(dir, ".edge", "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeGWConfig(t, dir, "http://127.0.0.1:9", "truststore: truststore.pem", "truststore: nosuch.pem")
	for _, args := range [][]string{
		{"check", "-c", "nosuch.yaml"},
		{"check", "-c", "broken.yaml"},
		{"check", "-c", "unknown.yaml"},
		{"check", "-c", "edge.yaml"},
		{"export", "-c", "aws-only.yaml", "--out", "exported"},
		{"export", "--state-dir", "nosuch", "--out", "exported"},
		{"export", "--state-dir", ".edge/state", "--out", "taken"},
		{"export", "-c", "broken.yaml", "--out", "exported"},
	} {
		out, errOut, code := runEdge(t, dir, args...)
		if code != 1 || errOut == "" || !strings.HasSuffix(errOut, "\n") || strings.HasSuffix(errOut, "\n\n") {
			t.Errorf("edge %s: exit %d, stderr %q; want exit 1 and output ending in one newline\n%s", strings.Join(args, " "), code, errOut, out)
		}
	}
}
