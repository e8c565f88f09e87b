package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/pki"
)

func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed (.ci/run installs it)")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func mustEdge(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, errOut, code := runEdge(t, dir, args...)
	if code != 0 {
		t.Fatalf("edge %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// Every edge pki output, checked with openssl.
func TestPKICommandsWithOpenSSL(t *testing.T) {
	work := t.TempDir()
	p := func(f string) string { return filepath.Join(work, "pki", f) }
	mustEdge(t, work, "pki", "init")
	mustEdge(t, work, "pki", "ca", "--name", "team", "--parent", "root", "--key-type", "p384")
	mustEdge(t, work, "pki", "client", "--ca", "team", "--cn", "Jane Doe", "--ou", "IT", "--org", "Example Corp", "--locality", "Seattle", "--state", "Washington", "--country", "US", "--key-type", "rsa2048")
	mustEdge(t, work, "pki", "client", "--ca", "intermediate", "--cn", "Old", "--not-before", "2020-01-01", "--not-after", "2021-01-01")
	mustEdge(t, work, "pki", "server", "--ca", "team", "--name", "api", "--dns", "api.local,*.api.local", "--ip", "127.0.0.1")
	serial, err := openssl(t, "x509", "-in", p("client.pem"), "-noout", "-serial")
	if err != nil {
		t.Fatal(serial)
	}
	mustEdge(t, work, "pki", "revoke", "--ca", "intermediate", "--serial", strings.TrimSpace(strings.TrimPrefix(serial, "serial=")), "--reason", "superseded")
	mustEdge(t, work, "pki", "crl", "--ca", "team", "--crl-days", "7")
	mustEdge(t, work, "pki", "bundle", "--force", "root", "intermediate", "team")

	// Leaves verify against the bundle as client certificates.
	if out, err := openssl(t, "verify", "-purpose", "sslclient", "-CAfile", p("bundle.pem"), "-untrusted", p("jane-doe-chain.pem"), p("jane-doe.pem")); err != nil {
		t.Errorf("openssl verify jane-doe: %v\n%s", err, out)
	}
	if out, err := openssl(t, "verify", "-purpose", "sslserver", "-CAfile", p("bundle.pem"), p("api.pem")); err != nil {
		t.Errorf("openssl verify api server cert: %v\n%s", err, out)
	}
	// The revoked client fails with -crl_check; the team CA's CRL is empty.
	if out, err := openssl(t, "verify", "-crl_check", "-CRLfile", p("intermediate.crl.pem"), "-CAfile", p("bundle.pem"), p("client.pem")); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("openssl verify -crl_check of the revoked client: %v\n%s", err, out)
	}
	if out, err := openssl(t, "verify", "-crl_check", "-CRLfile", p("team.crl.pem"), "-CAfile", p("bundle.pem"), "-untrusted", p("jane-doe-chain.pem"), p("jane-doe.pem")); err != nil {
		t.Errorf("openssl verify -crl_check of an unrevoked client: %v\n%s", err, out)
	}
	if out, err := openssl(t, "crl", "-inform", "DER", "-in", p("intermediate.crl.der"), "-noout", "-text"); err != nil || !strings.Contains(out, "Superseded") {
		t.Errorf("openssl crl -inform DER: %v\n%s", err, out)
	}
	if out, err := openssl(t, "pkcs12", "-info", "-in", p("jane-doe.p12"), "-passin", "pass:edge", "-noout"); err != nil || !strings.Contains(out, "AES-256-CBC") {
		t.Errorf("openssl pkcs12 -info: %v\n%s", err, out)
	}
	if out, _ := openssl(t, "x509", "-in", p("jane-doe.pem"), "-noout", "-subject"); !strings.Contains(out, "C = US, ST = Washington, L = Seattle, O = Example Corp, OU = IT, CN = Jane Doe") {
		t.Errorf("subject: %s", out)
	}
	// Private keys are 0600; nothing is overwritten without --force.
	for _, k := range []string{"root.key", "intermediate.key", "team.key", "jane-doe.key", "jane-doe.p12", "server.key"} {
		if fi, err := os.Stat(p(k)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v; want 0600", k, fi.Mode().Perm(), err)
		}
	}
	if _, errOut, code := runEdge(t, work, "pki", "init"); code != 1 || !strings.Contains(errOut, "already exists (use --force to overwrite)") {
		t.Errorf("second init: exit %d %s", code, errOut)
	}
	list := mustEdge(t, work, "pki", "list")
	for _, want := range []string{`root "CN=edge root CA,O=edge"`, `└── team "CN=team"`, "client \"CN=client,O=edge\"", "[REVOKED]", "old \"CN=Old\" serial", "[EXPIRED]", "jane-doe"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	if !regexp.MustCompile(`(?m)^│   ├── client .*\[REVOKED\]$`).MatchString(list) {
		t.Errorf("the revoked client is not flagged under intermediate:\n%s", list)
	}
	// The bundle is ALB-valid: edge verify loads it and accepts the client.
	// team is in the bundle, so the leaf alone is enough.
	if out, _, code := runEdge(t, work, "verify", "--trust-store-bundle", p("bundle.pem"), "--cert", p("jane-doe.pem")); code != 0 {
		t.Errorf("leaf alone: exit %d\n%s", code, out)
	}
	full := filepath.Join(work, "jane-full.pem")
	a, _ := os.ReadFile(p("jane-doe.pem"))
	b, _ := os.ReadFile(p("jane-doe-chain.pem"))
	os.WriteFile(full, append(a, b...), 0o644)
	if out, _, code := runEdge(t, work, "verify", "--trust-store-bundle", p("bundle.pem"), "--cert", full); code != 0 {
		t.Errorf("edge verify of an edge pki client: exit %d\n%s", code, out)
	}
}

// curl with an edge pki client against edge serve with the edge pki files.
func TestPKIClientAgainstServe(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (.ci/run installs it)")
	}
	work := t.TempDir()
	mustEdge(t, work, "pki", "init")
	cfg := `logs: {connection: stdout, access: "off"}
trust_stores:
  - {name: store, ca_certificates_bundle: pki/bundle.pem}
listeners:
  - port: 0
    certificates: [{certificate: pki/server.pem, private_key: pki/server.key, certificate_chain: pki/server-chain.pem}]
    mutual_authentication: {mode: verify, trust_store: store}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: ok}}]
`
	if err := pki.WriteFile(filepath.Join(work, "edge.yaml"), []byte(cfg), false, false); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = work
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 4096)
	var seen string
	deadline := time.Now().Add(10 * time.Second)
	re := regexp.MustCompile(`url=https://127\.0\.0\.1:(\d+)/`)
	for time.Now().Before(deadline) && !re.MatchString(seen) {
		n, err := stderr.Read(buf)
		seen += string(buf[:n])
		if err != nil {
			break
		}
	}
	m := re.FindStringSubmatch(seen)
	if m == nil {
		t.Fatalf("no listening line:\n%s", seen)
	}
	out, err := exec.Command(curl, "-sS", "--resolve", "localhost:"+m[1]+":127.0.0.1", "--cert", filepath.Join(work, "pki/client.pem"), "--key", filepath.Join(work, "pki/client.key"),
		"--cacert", filepath.Join(work, "pki/root.pem"), "https://localhost:"+m[1]+"/").CombinedOutput()
	if err != nil || string(out) != "ok" {
		t.Fatalf("curl with the edge pki client: %v %q", err, out)
	}
}

func TestDemo(t *testing.T) {
	keep := filepath.Join(t.TempDir(), "demo")
	out, errOut, code := runEdge(t, t.TempDir(), "demo", "--keep", keep)
	if code != 0 {
		t.Fatalf("edge demo: exit %d\n%s%s", code, out, errOut)
	}
	want := []string{"Success", "Success", "Failed:ClientCertUntrusted", "Failed:ClientCertCrlHit", "Failed:ClientCertExpired"}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "CN=") {
			continue
		}
		m := regexp.MustCompile(`" (Success|Failed:\w+) TID_[0-9a-f]{32}$`).FindStringSubmatch(line)
		if m == nil {
			t.Errorf("row without a connection-log status: %q", line)
			continue
		}
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("statuses %v; want %v\n%s", got, want, out)
	}
	if _, _, code := runEdge(t, keep, "check", "-c", "edge.yaml"); code != 0 {
		t.Errorf("the kept configuration does not pass edge check")
	}
}
