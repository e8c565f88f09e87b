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

// p12Info is openssl pkcs12 -info of file (password edge), with the
// legacy provider for the 3DES file: the algorithms and the bag
// attributes, as a user checks what a file holds.
func p12Info(t *testing.T, file string, legacy bool) string {
	t.Helper()
	args := []string{"pkcs12", "-info", "-in", file, "-passin", "pass:edge", "-nodes"}
	if legacy {
		args = append(args, "-legacy")
	}
	out, err := openssl(t, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// edge pki client writes a modern PKCS#12 file and, with --legacy, a
// 3DES / SHA-1 one for macOS Keychain, older Windows and Java 8; both
// carry a friendly name (the CN, or --friendly-name) on the certificate
// and the key, and both import into NSS under that name.
func TestPKIClientPKCS12Formats(t *testing.T) {
	work := t.TempDir()
	p := func(f string) string { return filepath.Join(work, "pki", f) }
	mustEdge(t, work, "pki", "init")
	out := mustEdge(t, work, "pki", "client", "--ca", "intermediate", "--cn", "Jane Doe", "--legacy")
	if !strings.Contains(out, "pki/jane-doe.p12, pki/jane-doe-legacy.p12") {
		t.Errorf("edge pki client --legacy does not report both files:\n%s", out)
	}
	mustEdge(t, work, "pki", "client", "--ca", "intermediate", "--cn", "Bob", "--friendly-name", "Bob's test cert (edge)")

	modern := p12Info(t, p("jane-doe.p12"), false)
	for _, want := range []string{
		"MAC: sha256, Iteration 2048",
		"PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
		"Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
	} {
		if !strings.Contains(modern, want) {
			t.Errorf("jane-doe.p12 lacks %q:\n%s", want, modern)
		}
	}
	legacy := p12Info(t, p("jane-doe-legacy.p12"), true)
	for _, want := range []string{
		"MAC: sha1, Iteration 2048",
		"PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
		"Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
	} {
		if !strings.Contains(legacy, want) {
			t.Errorf("jane-doe-legacy.p12 lacks %q:\n%s", want, legacy)
		}
	}
	// The certificate's bag and the key's bag both name it; CA
	// certificates carry no name.
	for name, info := range map[string]string{"jane-doe.p12": modern, "jane-doe-legacy.p12": legacy, "bob.p12": p12Info(t, p("bob.p12"), false)} {
		want := "friendlyName: Jane Doe"
		if name == "bob.p12" {
			want = "friendlyName: Bob's test cert (edge)"
		}
		if n := strings.Count(info, want); n != 2 {
			t.Errorf("%s: %q %d times; want on the certificate and the key:\n%s", name, want, n, info)
		}
	}
	// edge pki init --legacy does the same for its client.
	init2 := filepath.Join(work, "init2")
	mustEdge(t, work, "pki", "init", "--dir", init2, "--legacy")
	if info := p12Info(t, filepath.Join(init2, "client-legacy.p12"), true); !strings.Contains(info, "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC") || strings.Count(info, "friendlyName: client") != 2 {
		t.Errorf("edge pki init --legacy: client-legacy.p12:\n%s", info)
	}
	if fi, err := os.Stat(p("jane-doe-legacy.p12")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("jane-doe-legacy.p12: %v; want mode 0600", err)
	}
	if _, err := os.Stat(p("bob-legacy.p12")); err == nil {
		t.Error("bob-legacy.p12 written without --legacy")
	}
	// Both import into an NSS database (what Firefox and Chromium on
	// Linux read) under the friendly name.
	for _, tool := range []string{"certutil", "pk12util"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install libnss3-tools; .ci/run installs it)", tool)
		}
	}
	for _, f := range []string{"jane-doe.p12", "jane-doe-legacy.p12"} {
		db := t.TempDir()
		if out, err := exec.Command("certutil", "-N", "-d", "sql:"+db, "--empty-password").CombinedOutput(); err != nil {
			t.Fatalf("certutil -N: %v\n%s", err, out)
		}
		out, err := exec.Command("pk12util", "-i", p(f), "-d", "sql:"+db, "-W", "edge").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PKCS12 IMPORT SUCCESSFUL") || strings.Contains(string(out), "no nickname") {
			t.Errorf("pk12util -i %s: %v\n%s", f, err, out)
		}
		list, _ := exec.Command("certutil", "-L", "-d", "sql:"+db).CombinedOutput()
		if !regexp.MustCompile(`(?m)^Jane Doe +u,u,u$`).Match(list) {
			t.Errorf("%s: NSS does not list the client as \"Jane Doe\" with its key:\n%s", f, list)
		}
	}
}
