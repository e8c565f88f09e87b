package server_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// writeClient writes is's chain (without root) and key as PEM files.
func writeClient(t *testing.T, dir, name string, is *pki.Issued) (certPath, keyPath string) {
	t.Helper()
	if err := is.Save(dir, name, false); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
}

func (e *edge) writeServerRoot(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "server-root.pem")
	testutil.WriteFile(t, p, e.serverRootPEM)
	return p
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", name)
	}
	return p
}

// curl and openssl, the clients of every mTLS tutorial, see the verdicts
// edge logs.
func TestCurlAndOpenSSLClients(t *testing.T) {
	curl := lookTool(t, "curl")
	openssl := lookTool(t, "openssl")
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	cCert, cKey := writeClient(t, dir, "c", seed.C)
	eCert, eKey := writeClient(t, dir, "e", seed.E)
	hCert, hKey := writeClient(t, dir, "h", seed.H)

	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	rootPath := e.writeServerRoot(t, dir)
	resolve := "localhost:" + e.port() + ":127.0.0.1"
	url := "https://localhost:" + e.port() + "/"

	out, err := exec.Command(curl, "-sS", "--resolve", resolve, "--cacert", rootPath, "--cert", cCert, "--key", cKey, url).CombinedOutput()
	if err != nil || string(out) != "hello from edge" {
		t.Fatalf("curl A-B-C: %v %q; want the fixed response", err, out)
	}
	out, err = exec.Command(curl, "-sS", "--resolve", resolve, "--cacert", rootPath, "--cert", eCert, "--key", eKey, url).CombinedOutput()
	if err != nil || string(out) != "hello from edge" {
		t.Fatalf("curl A-D-E (client sends D): %v %q", err, out)
	}
	if out, err := exec.Command(curl, "-sS", "--resolve", resolve, "--cacert", rootPath, url).CombinedOutput(); err == nil {
		t.Fatalf("curl without a certificate succeeded: %q", out)
	}
	sclient := func(args ...string) {
		cmd := exec.Command(openssl, append([]string{"s_client", "-connect", "127.0.0.1:" + e.port(), "-servername", "localhost", "-CAfile", rootPath}, args...)...)
		cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		cmd.CombinedOutput() // the verdict is read from the log
	}
	sclient("-cert", hCert, "-key", hKey)
	sclient("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-cert", cCert, "-key", cKey)

	// Lines are written as handshakes end, so a failure's line may follow
	// the next client's; match each expectation to a line by content.
	lines := e.lines()
	if len(lines) != 5 {
		t.Fatalf("got %d lines; want 5:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []map[string]string{
		certFields(seed.C, map[string]string{"tls_verify_status": "Success", "tls_protocol": "TLSv1.3"}),
		certFields(seed.E, map[string]string{"tls_verify_status": "Success"}),
		{"tls_protocol": "TLSv1.3", "leaf_client_cert_subject": "-", "tls_verify_status": "Failed:UnmappedConnectionError"},
		certFields(seed.H, map[string]string{"tls_verify_status": "Failed:ClientCertUntrusted", "tls_handshake_latency": "-"}),
		{"tls_protocol": "-", "leaf_client_cert_subject": "-", "tls_verify_status": "Failed:UnmappedConnectionError"},
	} {
		line := findLine(lines, want)
		if line == "" {
			t.Errorf("no line with %v in:\n%s", want, strings.Join(lines, "\n"))
			continue
		}
		checkLine(t, line, want)
	}
}

// findLine returns the first line whose fields include want.
func findLine(lines []string, want map[string]string) string {
	for _, l := range lines {
		f := testutil.ParseConnLine(l)
		ok := f != nil
		for k, v := range want {
			ok = ok && f[k] == v
		}
		if ok {
			return l
		}
	}
	return ""
}
