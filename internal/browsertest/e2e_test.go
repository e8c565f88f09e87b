package browsertest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/browsertest"
	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// TestMain says up front, without -v, which browser tests will skip and
// why: a skipped browser test is a hole in what CI checked.
func TestMain(m *testing.M) {
	for _, find := range []func() error{
		func() error { _, err := browsertest.FindChromium(); return err },
		func() error { _, err := browsertest.FindFirefox(); return err },
		browsertest.FindNSSTools,
	} {
		if err := find(); err != nil {
			fmt.Fprintf(os.Stderr, "browser tests will skip: %v\n", err)
		}
	}
	os.Exit(m.Run())
}

// The quick start's listener answer, so that screenshots show what a user
// of `edge` sees.
const welcome = "Hello from edge: your client certificate passed ALB-style verification."

// devClientSubject is the dev PKI client's subject as the connection log
// writes it.
const devClientSubject = "CN=edge dev client,O=edge dev PKI"

// site is edge serving one verify-mode listener that trusts the dev PKI,
// with the dev CA's server certificate for localhost, as `edge` does.
type site struct {
	t       testing.TB
	dev     string // the dev PKI directory (.edge)
	srv     *server.Server
	url     string // https://localhost:PORT/
	connLog string
	stopped bool
}

// startSite starts edge in-process on 127.0.0.1:0. policy is the
// listener's ssl_policy, "" for the default (ELBSecurityPolicy-2016-08,
// TLS 1.2 at most).
func startSite(t testing.TB, policy string) *site {
	t.Helper()
	dir := t.TempDir()
	dev := filepath.Join(dir, ".edge")
	if _, err := pki.EnsureDev(dev); err != nil {
		t.Fatal(err)
	}
	pol := ""
	if policy != "" {
		pol = "\n    ssl_policy: " + policy
	}
	yaml := fmt.Sprintf(`name: browsers
logs: {connection: file:conn.log, access: file:access.log}
trust_stores:
  - name: dev-trust-store
    ca_certificates_bundle: .edge/bundle.pem
listeners:
  - port: 0
    address: 127.0.0.1
    protocol: HTTPS%s
    mutual_authentication: {mode: verify, trust_store: dev-trust-store}
    default_actions:
      - type: fixed-response
        fixed_response_config: {status_code: "200", content_type: text/plain, message_body: %q}
`, pol, welcome+"\n")
	cfgPath := filepath.Join(dir, "edge.yaml")
	testutil.WriteFile(t, cfgPath, []byte(yaml))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{DevPKIDir: dev})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Addrs()[0].String())
	s := &site{t: t, dev: dev, srv: srv, url: "https://localhost:" + port + "/", connLog: filepath.Join(dir, "conn.log")}
	t.Cleanup(s.stop)
	return s
}

func (s *site) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.t.Errorf("shutdown: %v", err)
	}
}

// origin is the URL without its path, as AutoSelectCertificateFor wants.
func (s *site) origin() string { return strings.TrimSuffix(s.url, "/") }

// connections stops edge (flushing its log) and returns the connection
// log's lines, parsed.
func (s *site) connections() []map[string]string {
	s.t.Helper()
	s.stop()
	data, err := os.ReadFile(s.connLog)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []map[string]string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "" {
			continue
		}
		f := testutil.ParseConnLine(l)
		if f == nil {
			s.t.Fatalf("not a connection-log line: %q", l)
		}
		out = append(out, f)
	}
	return out
}

// nssWithClient makes an NSS database in dir holding the dev PKI's
// client.p12 and trusting its root, as the README tells a user to.
func (s *site) nssWithClient(t *testing.T, dir string) {
	t.Helper()
	db := s.nss(t, dir)
	if out, err := db.ImportPKCS12(filepath.Join(s.dev, pki.DevClientP12File), pki.DevClientP12Password); err != nil {
		t.Fatal(err)
	} else if strings.Contains(out, "no nickname") {
		t.Errorf("client.p12 has no friendly name; pk12util made one up:\n%s", out)
	}
	// The friendly name is the nickname a browser's certificate list
	// shows; u,u,u: a certificate with its private key.
	list, err := db.List()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^edge dev client +u,u,u$`).MatchString(list) {
		t.Errorf("the NSS database lacks the client as \"edge dev client\" with its key:\n%s", list)
	}
}

// nssDB is the NSS database Chromium reads with $HOME at home.
func (s *site) nssDB(home string) *browsertest.NSSDB {
	return &browsertest.NSSDB{Dir: filepath.Join(home, ".pki", "nssdb")}
}

// nss makes an NSS database in dir that trusts the dev PKI's root only.
func (s *site) nss(t *testing.T, dir string) *browsertest.NSSDB {
	t.Helper()
	db, err := browsertest.NewNSSDB(dir)
	if err != nil {
		browsertest.Skip(t, err)
	}
	if err := db.TrustCA("edge-root", filepath.Join(s.dev, pki.DevRootFile)); err != nil {
		t.Fatal(err)
	}
	return db
}

// checkGotIn asserts that the pages (the site loaded twice) are edge's
// answer and that the connection log has the client certificate's
// Success line. The other lines are the browser's first contacts that
// sent no certificate (README, "Browsers"): refusals logged before the
// first Success, none after it, once the browser knows which certificate
// the site gets. It returns how many of those there were.
func checkGotIn(t *testing.T, s *site, browser string, pages ...browsertest.Page) int {
	t.Helper()
	for _, p := range pages {
		if p.Error != "" || !strings.Contains(p.Text, welcome) {
			t.Errorf("%s shows %q (error %q) at %s; want edge's answer %q", browser, p.Text, p.Error, p.URL, welcome)
		}
	}
	var success, refused []map[string]string
	for _, f := range s.connections() {
		switch f["tls_verify_status"] {
		case "Success":
			success = append(success, f)
			if f["leaf_client_cert_subject"] != devClientSubject {
				t.Errorf("Success line for %q; want the dev client %q", f["leaf_client_cert_subject"], devClientSubject)
			}
		case "Failed:UnmappedConnectionError":
			refused = append(refused, f)
			if f["leaf_client_cert_subject"] != "-" {
				t.Errorf("refused connection with a certificate: %v", f)
			}
		default:
			t.Errorf("unexpected verdict %q: %v", f["tls_verify_status"], f)
		}
	}
	if len(success) == 0 {
		t.Fatalf("%s got the page but the connection log has no Success line", browser)
	}
	first := success[0]["time"]
	for _, f := range success {
		first = min(first, f["time"])
	}
	for _, f := range refused {
		// The time field has a fixed width: it sorts as text.
		if f["time"] > first {
			t.Errorf("%s: a connection without a certificate at %s, after the Success at %s: %v", browser, f["time"], first, f)
		}
	}
	t.Logf("%s: %d Success line(s), %d Failed:UnmappedConnectionError line(s) from first contacts without a certificate", browser, len(success), len(refused))
	return len(refused)
}

// checkRefused asserts that the page is the reset error and that every
// connection of the log was refused for want of a certificate.
func checkRefused(t *testing.T, s *site, browser, wantError string, p browsertest.Page) {
	t.Helper()
	if p.Error != wantError {
		t.Errorf("%s shows error %q at %s (text %q); want %s", browser, p.Error, p.URL, p.Text, wantError)
	}
	lines := s.connections()
	if len(lines) == 0 {
		t.Fatal("no connection-log line")
	}
	for _, f := range lines {
		if f["tls_verify_status"] != "Failed:UnmappedConnectionError" || f["leaf_client_cert_subject"] != "-" {
			t.Errorf("want Failed:UnmappedConnectionError without a certificate: %v", f)
		}
	}
	t.Logf("%s: %s (%s) after %d refused connection(s)", browser, p.Error, p.URL, len(lines))
}

// screenshot writes a PNG into docs/images when EDGE_WRITE_SCREENSHOTS=1:
// the README's pictures come from these tests.
func screenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if os.Getenv("EDGE_WRITE_SCREENSHOTS") != "1" {
		return
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("%s: not a PNG", name)
	}
	path := filepath.Join(testutil.RepoRoot(t), "docs", "images", name)
	testutil.WriteFile(t, path, png)
	t.Logf("wrote %s", path)
}

func chromium(t *testing.T) string {
	t.Helper()
	bin, err := browsertest.FindChromium()
	if err != nil {
		browsertest.Skip(t, err)
	}
	return bin
}

func firefox(t *testing.T) string {
	t.Helper()
	bin, err := browsertest.FindFirefox()
	if err != nil {
		browsertest.Skip(t, err)
	}
	return bin
}

// TestChromiumGetsInWithClientCertificate: Chromium with the dev PKI's
// client.p12 in its NSS database and the AutoSelectCertificateForUrls
// setting for the site loads the page of a verify-mode listener (the
// quick start's policy, TLS 1.3), and edge logs the certificate's Success.
func TestChromiumGetsInWithClientCertificate(t *testing.T) {
	bin := chromium(t)
	s := startSite(t, "ELBSecurityPolicy-TLS13-1-2-2021-06")
	home := t.TempDir()
	s.nssWithClient(t, filepath.Join(home, ".pki", "nssdb"))
	c := browsertest.StartChromium(t, bin, browsertest.ChromiumOptions{Home: home, AutoSelectCertificateFor: []string{s.origin()}, Width: 720, Height: 200})
	p := c.Navigate(s.url)
	screenshot(t, "chromium-client-certificate.png", c.Screenshot())
	checkGotIn(t, s, "Chromium", p, c.Navigate(s.url))
}

// TestChromiumWithoutCertificateShowsReset: Chromium without a client
// certificate gets ERR_CONNECTION_RESET from a verify-mode listener, ALB's
// reset, on the default policy (TLS 1.2) and on TLS 1.3 alike.
func TestChromiumWithoutCertificateShowsReset(t *testing.T) {
	bin := chromium(t)
	home := t.TempDir()
	var c *browsertest.Chromium
	for _, policy := range []string{"", "ELBSecurityPolicy-TLS13-1-2-2021-06"} {
		s := startSite(t, policy)
		if c == nil {
			s.nss(t, filepath.Join(home, ".pki", "nssdb"))
			c = browsertest.StartChromium(t, bin, browsertest.ChromiumOptions{Home: home})
		} else if err := s.nssDB(home).TrustCA("edge-root-2", filepath.Join(s.dev, pki.DevRootFile)); err != nil {
			t.Fatal(err)
		}
		p := c.Navigate(s.url)
		if !strings.Contains(p.Text, "ERR_CONNECTION_RESET") {
			t.Errorf("policy %q: Chromium's error page says %q; want it to name ERR_CONNECTION_RESET", policy, p.Text)
		}
		checkRefused(t, s, "Chromium", "net::ERR_CONNECTION_RESET", p)
	}
}

// TestFirefoxGetsInWithClientCertificate: Firefox with client.p12 in its
// profile's NSS database and security.default_personal_cert "Select
// Automatically" loads the page (TLS 1.3), and edge logs the Success.
func TestFirefoxGetsInWithClientCertificate(t *testing.T) {
	bin := firefox(t)
	s := startSite(t, "ELBSecurityPolicy-TLS13-1-2-2021-06")
	profile := t.TempDir()
	s.nssWithClient(t, profile)
	fx := browsertest.StartFirefox(t, bin, browsertest.FirefoxOptions{Profile: profile})
	p := fx.Navigate(s.url)
	checkGotIn(t, s, "Firefox", p, fx.Navigate(s.url))
}

// TestFirefoxShowsConnectionReset: a browser without a client certificate
// gets PR_CONNECT_RESET_ERROR from a verify-mode listener, as the seed
// walkthrough saw at ALB. The listener uses the default policy
// (ELBSecurityPolicy-2016-08, TLS 1.2 at most, the ELBv2 API's default);
// on TLS 1.3 with HTTP/2 Firefox shows a blank page instead whatever the
// server does (docs/behaviour.md).
func TestFirefoxShowsConnectionReset(t *testing.T) {
	bin := firefox(t)
	s := startSite(t, "")
	profile := t.TempDir()
	s.nss(t, profile)
	fx := browsertest.StartFirefox(t, bin, browsertest.FirefoxOptions{Profile: profile})
	p := fx.Navigate(s.url)
	screenshot(t, "firefox-no-certificate.png", fx.Screenshot())
	if !strings.Contains(p.Text, "PR_CONNECT_RESET_ERROR") {
		t.Errorf("Firefox's error page says %q; want it to name PR_CONNECT_RESET_ERROR", p.Text)
	}
	checkRefused(t, s, "Firefox", "PR_CONNECT_RESET_ERROR", p)
}
