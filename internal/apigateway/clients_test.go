package apigateway_test

import (
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// pemFiles writes a certificate (with its chain, root excluded) and key.
func pemFiles(t *testing.T, dir, name string, is *pki.Issued) (cert, key string) {
	t.Helper()
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	testutil.WriteFile(t, cert, pki.CertPEM(is.ChainWithoutRoot()...))
	k, err := pki.KeyPEM(is.Key)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, key, k)
	return cert, key
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it); skipping", name)
	}
	return p
}

// TestCurlWalkthrough is the walkthrough's curl commands: with the client
// certificate 200 and the mapped header at the target; without it the
// handshake fails the way the walkthrough shows (curl exit 35,
// "SSL_connect: SSL_ERROR_SYSCALL", no TLS alert); an untrusted
// certificate gets 403 {"message":"Forbidden"}.
func TestCurlWalkthrough(t *testing.T) {
	curl := needTool(t, "curl")
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	dir := t.TempDir()
	cert, key := pemFiles(t, dir, "client", w.client)
	ca := filepath.Join(dir, "root.pem")
	testutil.WriteFile(t, ca, pki.CertPEM(x.devRoot.Cert))
	_, port, _ := net.SplitHostPort(x.addr)
	resolve := "api.test:" + port + ":127.0.0.1"
	url := "https://api.test:" + port + "/pets"
	run := func(args ...string) (string, int) {
		out, err := exec.Command(curl, append([]string{"-sS", "--resolve", resolve, "--cacert", ca}, args...)...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run("--key", key, "--cert", cert, url)
	if code != 0 || !strings.Contains(out, `"X-Client-Subject":["CN=walkthrough client,O=edge tests"]`) {
		t.Fatalf("curl with the client certificate: exit %d\n%s", code, out)
	}
	out, code = run("--tls-max", "1.2", url)
	t.Logf("curl without a certificate, TLS 1.2: exit %d: %s", code, out)
	if code != 35 || !strings.Contains(out, "SSL_connect: SSL_ERROR_SYSCALL") {
		t.Errorf("curl without a certificate (TLS 1.2): exit %d\n%s\nwant exit 35 with SSL_ERROR_SYSCALL (as the walkthrough shows)", code, out)
	}
	if strings.Contains(out, "alert") {
		t.Errorf("curl saw a TLS alert: %s", out)
	}
	out, code = run(url)
	t.Logf("curl without a certificate, TLS 1.3: exit %d: %s", code, out)
	if code != 35 && code != 52 && code != 56 || strings.Contains(out, "alert") {
		t.Errorf("curl without a certificate (TLS 1.3): exit %d\n%s", code, out)
	}
	stranger := testutil.Client(t, testutil.Root(t, "Stranger Root"), pki.Options{})
	scert, skey := pemFiles(t, dir, "stranger", stranger)
	out, code = run("-i", "--key", skey, "--cert", scert, url)
	if code != 0 || !strings.Contains(out, "HTTP/1.1 403") || !strings.Contains(out, `{"message":"Forbidden"}`) || !strings.Contains(strings.ToLower(out), "x-amzn-errortype: forbiddenexception") {
		t.Errorf("curl with an untrusted certificate: exit %d\n%s", code, out)
	}
	x.exec.waitFor(t, "Access denied. Reason: Could not find issuer for certificate")
}

// TestOpenSSLClient checks the handshake with openssl s_client: the
// server asks for a certificate; without one the connection is dropped
// with no alert; with an untrusted one the handshake completes and the
// HTTP answer is 403.
func TestOpenSSLClient(t *testing.T) {
	openssl := needTool(t, "openssl")
	x := newH(t)
	w := setupWalkthrough(t, x, "api.test")
	dir := t.TempDir()
	req := "GET /pets HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n"
	sclient := func(extra ...string) string {
		cmd := exec.Command(openssl, append([]string{"s_client", "-connect", x.addr, "-servername", "api.test", "-tls1_2", "-ign_eof"}, extra...)...)
		cmd.Stdin = strings.NewReader(req)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := sclient()
	t.Logf("s_client without a certificate:\n%s", out)
	if strings.Contains(out, "HTTP/1.1") || strings.Contains(out, "alert") {
		t.Errorf("s_client without a certificate:\n%s\nwant the connection dropped without an alert", out)
	}
	stranger := testutil.Client(t, testutil.Root(t, "Stranger Root"), pki.Options{})
	cert, key := pemFiles(t, dir, "stranger", stranger)
	out = sclient("-cert", cert, "-key", key)
	if !strings.Contains(out, "Acceptable client certificate CA names") && !strings.Contains(out, "No client certificate CA names sent") {
		t.Errorf("s_client: the server did not request a certificate:\n%s", out)
	}
	if !strings.Contains(out, "HTTP/1.1 403 Forbidden") || !strings.Contains(out, `{"message":"Forbidden"}`) {
		t.Errorf("s_client with an untrusted certificate:\n%s", out)
	}
	cert, key = pemFiles(t, dir, "client", w.client)
	if out := sclient("-cert", cert, "-key", key); !strings.Contains(out, "HTTP/1.1 200 OK") {
		t.Errorf("s_client with the trusted certificate:\n%s", out)
	}
}
