package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"edge/internal/attributes"
	"edge/internal/pki"
	"edge/internal/testutil"
)

var edgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edge-bin")
	if err != nil {
		panic(err)
	}
	edgeBin = filepath.Join(dir, "edge")
	if out, err := exec.Command("go", "build", "-o", edgeBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building edge: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runEdge(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(edgeBin, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// checkFixture writes a valid configuration with its PKI into dir and
// returns the seed PKI behind it.
func checkFixture(t *testing.T, dir string) *testutil.Seed {
	t.Helper()
	seed := testutil.NewSeed(t)
	leaf := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "leaf"}})
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), pki.CertPEM(seed.A.Cert, seed.B.Cert))
	testutil.WriteFile(t, filepath.Join(dir, "leaf.pem"), pki.CertPEM(leaf.Cert))
	srv, err := seed.B.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Save(dir, "server", false); err != nil {
		t.Fatal(err)
	}
	other, _ := pki.NewKey(pki.P256)
	otherPEM, _ := pki.KeyPEM(other)
	testutil.WriteFile(t, filepath.Join(dir, "other.key"), otherPEM)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(validConfig))
	return seed
}

const validConfig = `name: my-alb
logs:
  connection: file:logs/conn.log
trust_stores:
  - name: store
    ca_certificates_bundle: bundle.pem
listeners:
  - port: 18443
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates:
      - certificate: server.pem
        private_key: server.key
    mutual_authentication:
      mode: verify
      trust_store: store
    default_actions:
      - type: fixed-response
        fixed_response_config: {status_code: "200", content_type: text/plain, message_body: ok}
`

func TestCheckValid(t *testing.T) {
	dir := t.TempDir()
	checkFixture(t, dir)
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"edge.yaml: valid", "trust store store: NumberOfCaCertificates=2 TotalRevokedEntries=0", "listener 0: HTTPS 127.0.0.1:18443", "ssl policy ELBSecurityPolicy-TLS13-1-2-2021-06: TLSv1.2-TLSv1.3", "mutual authentication: verify"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs")); err == nil {
		t.Error("check created the log directory; it must change nothing")
	}
}

// edge check lists every attribute with its effective value, as
// Describe{LoadBalancer,Listener,TargetGroup}Attributes would, and notes
// the values edge accepts without acting on them.
func TestCheckAttributes(t *testing.T) {
	dir := t.TempDir()
	checkFixture(t, dir)
	edit(t, dir, "name: my-alb\n", "name: my-alb\nattributes:\n  idle_timeout.timeout_seconds: 30\n  routing.http.desync_mitigation_mode: strictest\n"+
		"target_groups:\n  - {name: app, targets: [\"127.0.0.1:9000\"], attributes: {stickiness.enabled: true}}\n")
	edit(t, dir, "    default_actions:", "    attributes:\n      routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name: X-Client-Serial\n"+
		"      routing.http.response.server.enabled: false\n    default_actions:")
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	// By default only what differs from ELBv2's defaults.
	for _, want := range []string{
		"\n  attributes set (2 of ",
		"\n    idle_timeout.timeout_seconds=30\n",
		"\n    routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name=X-Client-Serial\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "waf.fail_open.enabled") {
		t.Errorf("summary lists default attributes without --attributes:\n%s", out)
	}
	out, errOut, code = runEdge(t, dir, "check", "--attributes", "-c", "edge.yaml")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"\n  attributes (DescribeLoadBalancerAttributes):\n    access_logs.s3.bucket=\n    access_logs.s3.enabled=false\n",
		"\n    idle_timeout.timeout_seconds=30\n",
		"\n    routing.http.xff_header_processing.mode=append\n",
		"\n    routing.http.desync_mitigation_mode=strictest (not emulated)\n",
		"\n    waf.fail_open.enabled=false (not emulated)\n",
		"\ntarget group app: HTTP, targets 127.0.0.1:9000\n  attributes (DescribeTargetGroupAttributes):\n",
		"\n    stickiness.enabled=true (not emulated)\n",
		"\n  attributes (DescribeListenerAttributes):\n",
		"\n    routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name=X-Client-Serial\n",
		"\n    routing.http.request.x_amzn_mtls_clientcert_leaf.header_name= (sends X-Amzn-Mtls-Clientcert-Leaf)\n",
		"\n    routing.http.response.server.enabled=false\n",
		"\n    routing.http.response.strict_transport_security.header_value=\n",
		"\nnote: attributes: routing.http.desync_mitigation_mode=strictest is accepted, but edge does not act on it (edge does no desync classification",
		"\nnote: target_groups[0].attributes: stickiness.enabled=true is accepted, but edge does not act on it (edge has no sticky sessions)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// Every key of each scope, once.
	lb, l, tg := len(attributes.Defaults(attributes.LoadBalancer)), len(attributes.Defaults(attributes.Listener)), len(attributes.Defaults(attributes.TargetGroup))
	if n := strings.Count(out, "\n    "); n != lb+l+tg {
		t.Errorf("%d attribute lines; want %d load balancer + %d listener + %d target group keys:\n%s", n, lb, l, tg, out)
	}
}

func TestCheckBrokenInputs(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string // regexps, one per expected stderr line
	}{
		{"blank line in bundle", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
			i := bytes.Index(b, []byte("-----END CERTIFICATE-----\n")) + len("-----END CERTIFICATE-----\n")
			testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append(append(append([]byte{}, b[:i]...), '\n'), b[i:]...))
		}, []string{`^.*bundle\.pem:\d+: InvalidCaCertificatesBundle: blank line .*trust_stores\[0\]\.ca_certificates_bundle at edge\.yaml:6`}},
		{"non-CA certificate in bundle", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
			l, _ := os.ReadFile(filepath.Join(dir, "leaf.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append(b, l...))
		}, []string{`bundle\.pem:\d+: InvalidCaCertificatesBundle: certificate #3: "CN=leaf" is not a CA certificate`}},
		{"wrong key for certificate", func(t *testing.T, dir string) {
			edit(t, dir, "private_key: server.key", "private_key: other.key")
		}, []string{`other\.key: the private key does not match the certificate in .*server\.pem \(listeners\[0\]\.certificates\[0\]\.private_key at edge\.yaml:12\)`}},
		{"unknown policy", func(t *testing.T, dir string) {
			edit(t, dir, "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-07")
		}, []string{`^edge\.yaml:9: listeners\[0\]\.ssl_policy: unknown security policy "ELBSecurityPolicy-TLS13-1-2-2021-07"; did you mean "ELBSecurityPolicy-TLS13-1-2-2021-06"\?$`}},
		{"unknown key", func(t *testing.T, dir string) {
			edit(t, dir, "    ssl_policy:", "    security_policy:")
		}, []string{`^edge\.yaml:9: unknown key "security_policy" in listeners\[0\]`}},
		{"misspelt attribute key", func(t *testing.T, dir string) {
			edit(t, dir, "    default_actions:", "    attributes:\n      routing.http.response.server.enable: false\n    default_actions:")
		}, []string{`^edge\.yaml:17: listeners\[0\]\.attributes\.routing\.http\.response\.server\.enable: ValidationError: Listener attribute key 'routing\.http\.response\.server\.enable' is not recognized \(did you mean 'routing\.http\.response\.server\.enabled'\?\)$`}},
		{"attribute value out of range", func(t *testing.T, dir string) {
			edit(t, dir, "name: my-alb\n", "name: my-alb\nattributes:\n  client_keep_alive.seconds: 30\n")
		}, []string{`^edge\.yaml:3: attributes\.client_keep_alive\.seconds: ValidationError: '30' is not a valid value for load balancer attribute 'client_keep_alive\.seconds': it must be an integer from 60 to 604800$`}},
		{"missing file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "bundle.pem"))
		}, []string{`bundle\.pem: cannot read the CA bundle: no such file or directory \(trust_stores\[0\]\.ca_certificates_bundle at edge\.yaml:6\)`}},
		{"all at once", func(t *testing.T, dir string) {
			edit(t, dir, "private_key: server.key", "private_key: other.key")
			edit(t, dir, "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-07")
			b, _ := os.ReadFile(filepath.Join(dir, "bundle.pem"))
			l, _ := os.ReadFile(filepath.Join(dir, "leaf.pem"))
			testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), append(append(b, '\n'), l...))
		}, []string{`bundle\.pem:\d+: InvalidCaCertificatesBundle: blank line`, `bundle\.pem:\d+: InvalidCaCertificatesBundle: certificate #3`, `edge\.yaml:9: listeners\[0\]\.ssl_policy: unknown security policy`, `other\.key: the private key does not match`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			checkFixture(t, dir)
			tc.break_(t, dir)
			out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
			if code != 1 {
				t.Fatalf("exit %d; want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d lines; want %d:\n%s", len(lines), len(tc.want), errOut)
			}
			for i, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(lines[i]) {
					t.Errorf("line %d = %q; want it to match %s", i, lines[i], w)
				}
			}
			if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine") {
				t.Errorf("stack trace on user error:\n%s", errOut)
			}
		})
	}
}

func edit(t *testing.T, dir, old, new string) {
	t.Helper()
	p := filepath.Join(dir, "edge.yaml")
	b, _ := os.ReadFile(p)
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("edge.yaml has no %q", old)
	}
	testutil.WriteFile(t, p, bytes.Replace(b, []byte(old), []byte(new), 1))
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"check"}, {"serve"}, {"serve", "-c"}, {"--no-such-flag"}} {
		if _, _, code := runEdge(t, t.TempDir(), args...); code != 2 {
			t.Errorf("edge %v: exit %d; want 2", args, code)
		}
	}
	if _, _, code := runEdge(t, t.TempDir(), "check", "-c", "missing.yaml"); code != 1 {
		t.Errorf("check of a missing file: exit %d; want 1", code)
	}
}

// The quick start: bare edge in an empty directory creates the dev PKI,
// serves, and the curl command it prints returns the fixed response; the
// aws command it prints (for its AWS endpoint, here on a free port) lists
// the quick start's trust store.
func TestQuickStart(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (.ci/run installs it)")
	}
	_ = curl
	dir := t.TempDir()
	for run, wantVerb := range []string{"created", "reusing"} {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, edgeBin, "--port", "0", "--aws", "127.0.0.1:0")
		cmd.Dir = dir
		stderr, _ := cmd.StderrPipe()
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var curlCmd, awsCmd, banner string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "edge is ready") {
				banner = line
			}
			if c, ok := strings.CutPrefix(strings.TrimSpace(line), "curl "); ok {
				curlCmd = "curl " + c
			}
			if strings.Contains(line, " aws --endpoint-url http://127.0.0.1:") {
				awsCmd = strings.TrimSpace(line)
			}
			if strings.HasPrefix(line, "Stop with Ctrl-C") {
				break
			}
		}
		ready := time.Since(start)
		if curlCmd == "" {
			cancel()
			t.Fatalf("run %d: no curl command printed", run)
		}
		go io.Copy(io.Discard, stderr)
		t.Logf("run %d: ready after %v", run, ready.Round(time.Millisecond))
		if !strings.Contains(banner, wantVerb) {
			t.Errorf("run %d: banner %q; want it to say %q", run, banner, wantVerb)
		}
		sh := exec.Command("sh", "-c", curlCmd+" -sS")
		sh.Dir = dir
		out, err := sh.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "Hello from edge") {
			t.Errorf("run %d: %s\n-> %v %q", run, curlCmd, err, out)
		}
		if !strings.HasSuffix(awsCmd, " elbv2 describe-trust-stores") {
			t.Errorf("run %d: no aws command printed (got %q)", run, awsCmd)
		} else if _, err := exec.LookPath("aws"); err != nil {
			t.Logf("SKIP running %q: the aws CLI is not installed", awsCmd)
		} else {
			sh := exec.Command("sh", "-c", awsCmd)
			sh.Dir = dir
			out, err := sh.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"Name": "dev-trust-store"`) {
				t.Errorf("run %d: %s\n-> %v %s", run, awsCmd, err, out)
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		err = cmd.Wait()
		cancel()
		if err != nil {
			t.Errorf("run %d: exit after SIGINT: %v", run, err)
		}
		if !strings.Contains(stdout.String(), " Success TID_") {
			t.Errorf("run %d: stdout has no Success connection-log line:\n%s", run, stdout.String())
		}
	}
	for _, f := range []string{"root.pem", "bundle.pem", "server.pem", "client.pem", "client.key", "client.p12"} {
		if _, err := os.Stat(filepath.Join(dir, ".edge", f)); err != nil {
			t.Errorf("dev PKI lacks %s", f)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, ".edge", "client.key")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("client.key mode %v; want 0600", fi.Mode().Perm())
	}
}

// edge check loads openssl-made PEM CRLs, prints their revocation ids and
// entry counts, and refuses a CRL of a foreign CA.
func TestCheckRevocations(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	r1 := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "r1"}})
	r2 := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "r2"}})
	testutil.OpenSSLCRL(t, dir, "b", seed.B, r1.Cert, r2.Cert)
	testutil.OpenSSLCRL(t, dir, "a", seed.A, seed.D.Cert)
	testutil.OpenSSLCRL(t, dir, "b-empty", seed.B)
	edit(t, dir, "    ca_certificates_bundle: bundle.pem", "    ca_certificates_bundle: bundle.pem\n    revocations: [b.pem, a.pem, b-empty.pem]")
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	for _, want := range []string{
		"NumberOfCaCertificates=2 TotalRevokedEntries=3",
		`RevocationId=1 b.pem issuer "CN=B,O=edge tests" NumberOfRevokedEntries=2`,
		`RevocationId=2 a.pem issuer "CN=A,O=edge tests" NumberOfRevokedEntries=1`,
		`RevocationId=3 b-empty.pem issuer "CN=B,O=edge tests" NumberOfRevokedEntries=0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	// A CRL signed by a CA outside the bundle.
	testutil.OpenSSLCRL(t, dir, "f", seed.F)
	edit(t, dir, "b-empty.pem]", "b-empty.pem, f.pem]")
	_, errOut, code = runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 1 || !regexp.MustCompile(`edge\.yaml:\d+: trust_stores\[0\]\.revocations: InvalidRevocationContent: .*f\.pem: the CRL issued by "CN=F,O=edge tests" is not signed by a CA certificate of trust store store`).MatchString(errOut) {
		t.Errorf("foreign CRL: exit %d, stderr:\n%s", code, errOut)
	}

	// Garbage, empty and truncated CRL files get clear errors.
	testutil.WriteFile(t, filepath.Join(dir, "f.pem"), []byte("garbage"))
	_, errOut, code = runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 1 || !strings.Contains(errOut, `f.pem: InvalidRevocationContent: no PEM "X509 CRL" block`) {
		t.Errorf("garbage CRL: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	seed := testutil.NewSeed(t)
	revoked := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "revoked"}})
	crl, _ := testutil.OpenSSLCRL(t, dir, "b", seed.B, revoked.Cert)
	for name, is := range map[string]*pki.Issued{"c": seed.C, "e": seed.E, "h": seed.H, "revoked": revoked} {
		testutil.WriteFile(t, filepath.Join(dir, name+".pem"), pki.CertPEM(is.ChainWithoutRoot()...))
	}
	testutil.WriteFile(t, filepath.Join(dir, "bundle.pem"), pki.CertPEM(seed.A.Cert, seed.B.Cert))
	args := func(cert string, extra ...string) []string {
		return append([]string{"verify", "--trust-store-bundle", "bundle.pem", "--crl", crl, "--cert", cert}, extra...)
	}

	out, _, code := runEdge(t, dir, args("c.pem")...)
	if code != 0 || !strings.Contains(out, "tls_verify_status: Success") || !strings.Contains(out, `#2 "CN=A,O=edge tests"`) {
		t.Errorf("A-B-C: exit %d\n%s", code, out)
	}
	out, _, code = runEdge(t, dir, args("revoked.pem")...)
	if code != 1 || !strings.Contains(out, "tls_verify_status: Failed:ClientCertCrlHit") || !strings.Contains(out, "failed check:      revocation") || !strings.Contains(out, `on certificate:    #0 "CN=revoked"`) {
		t.Errorf("revoked: exit %d\n%s", code, out)
	}
	out, _, code = runEdge(t, dir, args("h.pem", "--format", "json")...)
	var res struct {
		Status string `json:"tls_verify_status"`
		Check  string `json:"failed_check"`
		Built  bool   `json:"chain_built"`
		Chain  []struct {
			Subject string `json:"subject"`
		} `json:"chain"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	if res.Status != "Failed:ClientCertUntrusted" || res.Built || len(res.Chain) != 2 || res.Chain[0].Subject != "CN=H" {
		t.Errorf("F-G-H json = %+v", res)
	}
	// --at in the future and --ignore-expiry.
	// The leaf lives 825 days and its CAs ten years: three years on, only
	// the leaf has expired.
	later := time.Now().AddDate(3, 0, 0).UTC().Format(time.RFC3339)
	if out, _, code := runEdge(t, dir, args("c.pem", "--at", later)...); code != 1 || !strings.Contains(out, "Failed:ClientCertExpired") {
		t.Errorf("--at +3y: exit %d\n%s", code, out)
	}
	if out, _, code := runEdge(t, dir, args("c.pem", "--at", later, "--ignore-expiry")...); code != 0 {
		t.Errorf("--ignore-expiry: exit %d\n%s", code, out)
	}
	if _, errOut, code := runEdge(t, dir, "verify", "--trust-store-bundle", "missing.pem", "--cert", "c.pem"); code != 1 || !strings.Contains(errOut, "missing.pem: no such file") {
		t.Errorf("missing bundle: exit %d, %s", code, errOut)
	}
}

// 5,000 connections, then SIGTERM: exactly 5,000 connection-log lines and
// one access-log line per request, all complete.
func TestSIGTERMLosesNoLogLine(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	edit(t, dir, "  connection: file:logs/conn.log", "  connection: file:logs/conn.log\n  access: file:logs/access.log")
	edit(t, dir, "port: 18443", "port: 0")
	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	re := regexp.MustCompile(`url=https://127\.0\.0\.1:(\d+)/`)
	sc := bufio.NewScanner(stderr)
	var port string
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
			break
		}
	}
	if port == "" {
		t.Fatal("no listening line")
	}
	go io.Copy(io.Discard, stderr)
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{seed.C.TLSCertificate()}}
	const n, workers = 5000, 8
	var wg sync.WaitGroup
	var failed atomic.Int64
	jobs := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				c, err := tls.Dial("tcp", "127.0.0.1:"+port, cfg)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
				if b, _ := io.ReadAll(c); !bytes.HasPrefix(b, []byte("HTTP/1.1 200")) {
					failed.Add(1)
				}
				c.Close()
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed", failed.Load(), n)
	}
	for _, f := range []struct{ name, prefix string }{{"conn.log", ""}, {"access.log", "https "}} {
		data, err := os.ReadFile(filepath.Join(dir, "logs", f.name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if len(lines) != n {
			t.Errorf("%s has %d lines; want %d", f.name, len(lines), n)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, f.prefix) || !strings.HasSuffix(l, "127.0.0.1") && !strings.HasSuffix(l, `"-" "-" "-"`) {
				t.Fatalf("%s: truncated or malformed line %q", f.name, l)
			}
		}
	}
}
