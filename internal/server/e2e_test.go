package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/certfmt"
	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// edge is one running edge server under test.
type edge struct {
	t       testing.TB
	srv     *server.Server
	addr    string // host:port of listener 0
	connLog string
	// accessLog is the access-log file; cfgPath the configuration.
	accessLog string
	cfgPath   string
	roots     *x509.CertPool // trusts the server certificate
	// serverRootPEM is the same root as PEM, for curl and openssl.
	serverRootPEM []byte
	stopped       bool
}

// listenerYAML fills a listener entry; the fields are inserted verbatim.
type listenerYAML struct {
	protocol string // default HTTPS
	policy   string // "" means ELBSecurityPolicy-TLS13-1-2-2021-06, "default" omits the key
	mtls     string // the mutual_authentication mapping, flow style, or ""
	certs    string // the certificates list, flow style, or "" for the server cert
	body     string
	// crls are revocation files of the seed trust store.
	crls []string
	// storeExtra is appended to the trust store's mapping, e.g.
	// "revocation_check: strict".
	storeExtra []string
	// top is extra top-level YAML (target_groups, idle_timeout_seconds).
	top string
	// logs replaces the logs mapping (flow style).
	logs string
	// rules is the listener's rules list in flow style, or "".
	rules string
	// defaultAction replaces the fixed-response default action (flow style).
	defaultAction string
	// attrs is the listener's attributes mapping in flow style, or "".
	attrs string
}

// startEdge writes a configuration around the seed trust store and the
// listener, builds it and starts it on 127.0.0.1:0.
func startEdge(t testing.TB, seed *testutil.Seed, l listenerYAML) *edge {
	t.Helper()
	dir := t.TempDir()
	serverCA := testutil.Root(t, "server root")
	srvCert, err := serverCA.IssueServer(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srvCert.Save(dir, "server", false); err != nil {
		t.Fatal(err)
	}
	if l.protocol == "" {
		l.protocol = "HTTPS"
	}
	if l.body == "" {
		l.body = "hello from edge"
	}
	var b strings.Builder
	if l.logs == "" {
		l.logs = "{connection: file:conn.log, access: file:access.log}"
	}
	fmt.Fprintf(&b, "name: e2e\nlogs: %s\n%s", l.logs, l.top)
	fmt.Fprintf(&b, "trust_stores:\n  - name: seed\n    ca_certificates_bundle: %s\n", seed.BundlePath)
	if len(l.crls) > 0 {
		fmt.Fprintf(&b, "    revocations: [%s]\n", strings.Join(l.crls, ", "))
	}
	for _, x := range l.storeExtra {
		fmt.Fprintf(&b, "    %s\n", x)
	}
	fmt.Fprintf(&b, "listeners:\n  - port: 0\n    protocol: %s\n", l.protocol)
	if l.protocol == "HTTPS" {
		if l.policy != "default" {
			if l.policy == "" {
				l.policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
			}
			fmt.Fprintf(&b, "    ssl_policy: %s\n", l.policy)
		}
		certs := l.certs
		if certs == "" {
			certs = "[{certificate: server.pem, private_key: server.key}]"
		}
		fmt.Fprintf(&b, "    certificates: %s\n", certs)
		if l.mtls != "" {
			fmt.Fprintf(&b, "    mutual_authentication: %s\n", l.mtls)
		}
	}
	if l.rules != "" {
		fmt.Fprintf(&b, "    rules: %s\n", l.rules)
	}
	if l.attrs != "" {
		fmt.Fprintf(&b, "    attributes: %s\n", l.attrs)
	}
	if l.defaultAction != "" {
		fmt.Fprintf(&b, "    default_actions: [%s]\n", l.defaultAction)
	} else {
		fmt.Fprintf(&b, "    default_actions:\n      - type: fixed-response\n        fixed_response_config: {status_code: \"200\", content_type: text/plain, message_body: %q}\n", l.body)
	}
	cfgPath := filepath.Join(dir, "edge.yaml")
	testutil.WriteFile(t, cfgPath, []byte(b.String()))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", b.String(), err)
	}
	snap, err := server.Build(cfg, server.Options{})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Start(snap, io.Discard, io.Discard, log)
	if err != nil {
		t.Fatal(err)
	}
	e := &edge{t: t, srv: srv, addr: srv.Addrs()[0].String(), connLog: filepath.Join(dir, "conn.log"), accessLog: filepath.Join(dir, "access.log"), cfgPath: cfgPath, roots: x509.NewCertPool()}
	e.roots.AddCert(serverCA.Cert)
	e.serverRootPEM = pki.CertPEM(serverCA.Cert)
	t.Cleanup(func() { e.stop() })
	return e
}

func (e *edge) stop() {
	if e.stopped {
		return
	}
	e.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
}

// lines stops edge (flushing its logs) and returns the connection log.
func (e *edge) lines() []string { return e.readLog(e.connLog) }

// accessLines stops edge and returns the access log.
func (e *edge) accessLines() []string { return e.readLog(e.accessLog) }

func (e *edge) readLog(path string) []string {
	e.t.Helper()
	e.stop()
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// byPort returns the connection-log lines keyed by client port. Lines are
// written when each handshake ends, so a failed handshake's line can land
// after the next connection's: tests match lines by port, not by order.
func (e *edge) byPort() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, l := range e.lines() {
		f := testutil.ParseConnLine(l)
		if f == nil {
			e.t.Fatalf("not a connection-log line: %q", l)
		}
		out[f["client_port"]] = l
	}
	return out
}

func (e *edge) port() string {
	_, p, _ := net.SplitHostPort(e.addr)
	return p
}

// clientTLS is a Go TLS client config presenting is's chain (nil: none).
func (e *edge) clientTLS(is *pki.Issued, chain []*x509.Certificate) *tls.Config {
	cfg := &tls.Config{RootCAs: e.roots, ServerName: "localhost"}
	if is != nil {
		tc := tls.Certificate{PrivateKey: is.Key, Leaf: is.Cert}
		if chain == nil {
			chain = is.ChainWithoutRoot()
		}
		for _, c := range chain {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
		cfg.Certificates = []tls.Certificate{tc}
	}
	return cfg
}

// get makes one HTTPS request on a new connection and returns the status
// code and body, or the error. It also returns the client's local port.
func (e *edge) get(cfg *tls.Config) (code int, body string, clientPort string, err error) {
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_, clientPort, _ = net.SplitHostPort(c.LocalAddr().String())
		}
		return c, err
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + e.addr + "/")
	if err != nil {
		return 0, "", clientPort, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), clientPort, err
}

// checkLine asserts the fields of a connection-log line; want holds the
// expected values by ALB field name. It also checks the line against the
// Athena regex when ../shared is present.
func checkLine(t *testing.T, line string, want map[string]string) {
	t.Helper()
	f := testutil.ParseConnLine(line)
	if f == nil {
		t.Fatalf("not a 15-field connection-log line: %q", line)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q; want %q\nline: %s", k, f[k], v, line)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z", f["time"]); err != nil {
		t.Errorf("time %q is not ISO 8601 with microseconds", f["time"])
	}
	if id := f["conn_trace_id"]; len(id) != 36 || !strings.HasPrefix(id, "TID_") || strings.Trim(id[4:], "0123456789abcdef") != "" {
		t.Errorf("conn_trace_id %q is not TID_ + 32 lowercase hex", f["conn_trace_id"])
	}
	if !strings.HasPrefix(f["elb"], "app/e2e/") || len(f["elb"]) != len("app/e2e/")+16 {
		t.Errorf("elb = %q; want app/e2e/<16 hex>", f["elb"])
	}
	if lat := f["tls_handshake_latency"]; lat != "-" {
		if i := strings.IndexByte(lat, '.'); i < 0 || len(lat)-i-1 != 3 {
			t.Errorf("latency %q lacks 3 decimals", lat)
		}
	}
	athenaCheck(t, line, f)
}

var athenaSkipped bool

func athenaCheck(t *testing.T, line string, f map[string]string) {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(t), "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		if !athenaSkipped {
			athenaSkipped = true
			t.Logf("Athena regex check skipped: %s is absent", dir)
		}
		return
	}
	re := testutil.Athena(t, "connection")
	m := re.Match(line)
	if m == nil {
		t.Fatalf("line does not match the Athena connection-log regex: %q", line)
	}
	for _, col := range re.Columns {
		if col == "rest" {
			want := " " + f["tls_keyexchange"] + " " + f["elb"] + " " + f["ip_address"]
			if m[col] != want {
				t.Errorf("Athena rest = %q; want %q", m[col], want)
			}
			continue
		}
		if m[col] != f[col] {
			t.Errorf("Athena column %s = %q; want %q", col, m[col], f[col])
		}
	}
}

func subjectOf(is *pki.Issued) string { return certfmt.DN(is.Cert.RawSubject) }

// certFields are the three leaf fields of a connection-log line.
func certFields(is *pki.Issued, m map[string]string) map[string]string {
	m["leaf_client_cert_subject"] = subjectOf(is)
	m["leaf_client_cert_validity"] = certfmt.Validity(is.Cert)
	m["leaf_client_cert_serial_number"] = certfmt.Serial(is.Cert)
	return m
}

const verifyMTLS = "{mode: verify, trust_store: seed}"

func TestVerifyModeSeedChains(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{policy: "default", mtls: verifyMTLS})

	code, body, portC, err := e.get(e.clientTLS(seed.C, nil))
	if err != nil || code != 200 || body != "hello from edge" {
		t.Fatalf("A-B-C: %d %q %v; want 200 and the fixed response", code, body, err)
	}
	code, _, portE, err := e.get(e.clientTLS(seed.E, nil))
	if err != nil || code != 200 {
		t.Fatalf("A-D-E with D sent: %d %v; want 200", code, err)
	}
	_, _, portH, err := e.get(e.clientTLS(seed.H, nil))
	if err == nil {
		t.Fatal("F-G-H: request succeeded; want the handshake to fail")
	}
	_, _, portNone, err := e.get(e.clientTLS(nil, nil))
	if err == nil {
		t.Fatal("no certificate: request succeeded; want the handshake to fail")
	}

	lines := e.byPort()
	if len(lines) != 4 {
		t.Fatalf("got %d connection-log lines; want 4:\n%v", len(lines), lines)
	}
	base := func(port string) map[string]string {
		// The default policy, ELBSecurityPolicy-2016-08, stops at TLS 1.2.
		return map[string]string{"client_ip": "127.0.0.1", "client_port": port, "listener_port": e.port(), "tls_protocol": "TLSv1.2", "tls_cipher": "ECDHE-ECDSA-AES128-GCM-SHA256", "ip_address": "127.0.0.1"}
	}
	m := certFields(seed.C, base(portC))
	m["tls_verify_status"], m["tls_keyexchange"] = "Success", "x25519"
	checkLine(t, lines[portC], m)
	if f := testutil.ParseConnLine(lines[portC]); f["tls_handshake_latency"] == "-" {
		t.Errorf("successful handshake logged latency %q", f["tls_handshake_latency"])
	}
	m = certFields(seed.E, base(portE))
	m["tls_verify_status"] = "Success"
	checkLine(t, lines[portE], m)
	m = certFields(seed.H, base(portH))
	m["tls_verify_status"], m["tls_handshake_latency"] = "Failed:ClientCertUntrusted", "-"
	checkLine(t, lines[portH], m)
	m = base(portNone)
	m["leaf_client_cert_subject"], m["leaf_client_cert_validity"], m["leaf_client_cert_serial_number"] = "-", "-", "-"
	m["tls_verify_status"], m["tls_handshake_latency"] = "Failed:UnmappedConnectionError", "-"
	checkLine(t, lines[portNone], m)
}

func TestVerifyModeFailureClasses(t *testing.T) {
	seed := testutil.NewSeed(t)
	expired := testutil.Client(t, seed.B, testutil.Expired("expired"))
	future := testutil.Client(t, seed.B, testutil.NotYetValid("future"))
	serverOnly := testutil.Client(t, seed.B, testutil.ServerAuthOnly("server-only"))
	i1 := testutil.Intermediate(t, seed.A, "I1")
	i2 := testutil.Intermediate(t, i1, "I2")
	i3 := testutil.Intermediate(t, i2, "I3")
	i4 := testutil.Intermediate(t, i3, "I4")
	deep := testutil.Client(t, i4, pki.Options{Subject: pkix.Name{CommonName: "deep"}})
	huge := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "huge", OrganizationalUnit: []string{strings.Repeat("u", 20000)}}})
	hugeChain := []*x509.Certificate{huge.Cert, huge.Cert, huge.Cert, huge.Cert, huge.Cert} // ~100 KB

	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	cases := []struct {
		name  string
		is    *pki.Issued
		chain []*x509.Certificate
		want  string
	}{
		{"expired", expired, nil, "Failed:ClientCertExpired"},
		{"not yet valid", future, nil, "Failed:ClientCertNotYetValid"},
		{"serverAuth only", serverOnly, nil, "Failed:ClientCertPurposeInvalid"},
		{"depth 5", deep, nil, "Failed:ClientCertMaxChainDepthExceeded"},
		{"100 KB chain", huge, hugeChain, "Failed:ClientCertMaxSizeExceeded"},
	}
	ports := make([]string, len(cases))
	for i, c := range cases {
		var err error
		if _, _, ports[i], err = e.get(e.clientTLS(c.is, c.chain)); err == nil {
			t.Errorf("%s: request succeeded; want the handshake to fail", c.name)
		}
	}
	lines := e.byPort()
	if len(lines) != len(cases) {
		t.Fatalf("got %d lines; want %d", len(lines), len(cases))
	}
	for i, c := range cases {
		m := certFields(c.is, map[string]string{"tls_verify_status": c.want, "tls_handshake_latency": "-"})
		checkLine(t, lines[ports[i]], m)
	}
}

func TestIgnoreClientCertificateExpiry(t *testing.T) {
	seed := testutil.NewSeed(t)
	expired := testutil.Client(t, seed.B, testutil.Expired("expired"))
	e := startEdge(t, seed, listenerYAML{mtls: "{mode: verify, trust_store: seed, ignore_client_certificate_expiry: true}"})
	if code, _, _, err := e.get(e.clientTLS(expired, nil)); err != nil || code != 200 {
		t.Fatalf("expired leaf with ignore_client_certificate_expiry: %d %v; want 200", code, err)
	}
	lines := e.lines()
	if len(lines) != 1 {
		t.Fatalf("got %d lines; want 1", len(lines))
	}
	checkLine(t, lines[0], certFields(expired, map[string]string{"tls_verify_status": "Success"}))
}

func TestPassthroughForwardsUntrustedChain(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: "{mode: passthrough}"})
	code, _, portH, err := e.get(e.clientTLS(seed.H, nil))
	if err != nil || code != 200 {
		t.Fatalf("passthrough with F-G-H: %d %v; want 200", code, err)
	}
	code, _, portNone, err := e.get(e.clientTLS(nil, nil))
	if err != nil || code != 200 {
		t.Fatalf("passthrough without a certificate: %d %v; want 200", code, err)
	}
	lines := e.byPort()
	if len(lines) != 2 {
		t.Fatalf("got %d lines; want 2", len(lines))
	}
	checkLine(t, lines[portH], certFields(seed.H, map[string]string{"tls_verify_status": "Success"}))
	checkLine(t, lines[portNone], map[string]string{"leaf_client_cert_subject": "-", "tls_verify_status": "Success"})
}

// In off mode no CertificateRequest is sent: a Go client's
// GetClientCertificate callback runs only when one arrives.
func TestModeOffSendsNoCertificateRequest(t *testing.T) {
	seed := testutil.NewSeed(t)
	for _, tc := range []struct {
		mtls        string
		wantRequest bool
	}{
		{"", false}, {"{mode: \"off\"}", false}, {"{mode: passthrough}", true}, {verifyMTLS, true},
	} {
		e := startEdge(t, seed, listenerYAML{mtls: tc.mtls})
		asked := false
		cfg := e.clientTLS(nil, nil)
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = true
			c := seed.C.TLSCertificate()
			return &c, nil
		}
		code, _, _, err := e.get(cfg)
		if err != nil || code != 200 {
			t.Errorf("mtls %q: %d %v", tc.mtls, code, err)
		}
		if asked != tc.wantRequest {
			t.Errorf("mtls %q: CertificateRequest sent = %v; want %v", tc.mtls, asked, tc.wantRequest)
		}
		lines := e.lines()
		if len(lines) != 1 {
			t.Fatalf("got %d lines; want 1", len(lines))
		}
		want := map[string]string{"tls_verify_status": "Success"}
		if !tc.wantRequest {
			want["leaf_client_cert_subject"] = "-"
		}
		checkLine(t, lines[0], want)
	}
}

func TestAdvertiseTrustStoreCANames(t *testing.T) {
	seed := testutil.NewSeed(t)
	for _, tc := range []struct {
		setting string
		want    int
	}{{"\"off\"", 0}, {"\"on\"", 2}} {
		e := startEdge(t, seed, listenerYAML{mtls: "{mode: verify, trust_store: seed, advertise_trust_store_ca_names: " + tc.setting + "}"})
		var got [][]byte
		cfg := e.clientTLS(nil, nil)
		cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			got = cri.AcceptableCAs
			c := seed.C.TLSCertificate()
			return &c, nil
		}
		if _, _, _, err := e.get(cfg); err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Errorf("advertise %s: %d CA names; want %d", tc.setting, len(got), tc.want)
		}
		if tc.want > 0 && string(got[0]) != string(seed.A.Cert.RawSubject) && string(got[1]) != string(seed.A.Cert.RawSubject) {
			t.Errorf("advertised names do not include A")
		}
	}
}

func TestPolicyRefusesOldProtocol(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{policy: "ELBSecurityPolicy-TLS13-1-2-2021-06", mtls: verifyMTLS})
	cfg := e.clientTLS(seed.C, nil)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	_, _, port11, err := e.get(cfg)
	if err == nil {
		t.Fatal("TLS 1.1 client accepted by a TLS 1.2+ policy")
	}
	cfg = e.clientTLS(seed.C, nil)
	cfg.MaxVersion = tls.VersionTLS12
	code, _, port12, err := e.get(cfg)
	if err != nil || code != 200 {
		t.Fatalf("TLS 1.2 client: %d %v", code, err)
	}
	lines := e.byPort()
	if len(lines) != 2 {
		t.Fatalf("got %d lines; want 2", len(lines))
	}
	checkLine(t, lines[port11], map[string]string{
		"tls_protocol": "-", "tls_cipher": "-", "tls_handshake_latency": "-", "leaf_client_cert_subject": "-",
		"leaf_client_cert_validity": "-", "leaf_client_cert_serial_number": "-", "tls_verify_status": "Failed:UnmappedConnectionError", "tls_keyexchange": "-",
	})
	checkLine(t, lines[port12], certFields(seed.C, map[string]string{"tls_protocol": "TLSv1.2", "tls_cipher": "ECDHE-ECDSA-AES128-GCM-SHA256", "tls_verify_status": "Success", "tls_keyexchange": "x25519"}))
}

// Key exchange follows the policy: classic groups on ordinary policies,
// ML-KEM hybrids on -PQ- policies (Go clients offer X25519MLKEM768 first).
func TestKeyExchangeFollowsPolicy(t *testing.T) {
	seed := testutil.NewSeed(t)
	for _, tc := range []struct{ policy, want string }{
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", "x25519"},
		{"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "X25519MLKEM768"},
	} {
		e := startEdge(t, seed, listenerYAML{policy: tc.policy, mtls: verifyMTLS})
		if _, _, _, err := e.get(e.clientTLS(seed.C, nil)); err != nil {
			t.Fatal(err)
		}
		checkLine(t, e.lines()[0], map[string]string{"tls_keyexchange": tc.want, "tls_verify_status": "Success"})
	}
	// A client that offers only P-256 gets secp256r1, as ALB logs it.
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	cfg := e.clientTLS(seed.C, nil)
	cfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	if _, _, _, err := e.get(cfg); err != nil {
		t.Fatal(err)
	}
	checkLine(t, e.lines()[0], map[string]string{"tls_keyexchange": "secp256r1"})
}

func TestSessionResumptionOffOnMTLSListeners(t *testing.T) {
	seed := testutil.NewSeed(t)
	for _, tc := range []struct {
		mtls       string
		wantResume bool
	}{{"", true}, {"{mode: passthrough}", false}, {verifyMTLS, false}} {
		e := startEdge(t, seed, listenerYAML{mtls: tc.mtls})
		cfg := e.clientTLS(seed.C, nil)
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		resumed := false
		for i := 0; i < 2; i++ {
			c, err := tls.Dial("tcp", e.addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Read the response so the session ticket (sent after the
			// handshake in TLS 1.3) is processed.
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
			io.ReadAll(c)
			resumed = c.ConnectionState().DidResume
			c.Close()
		}
		if resumed != tc.wantResume {
			t.Errorf("mtls %q: second connection resumed = %v; want %v", tc.mtls, resumed, tc.wantResume)
		}
	}
}

func TestHTTP2AndFixedResponse(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, body: `{"ok":true}`})
	tr := &http.Transport{TLSClientConfig: e.clientTLS(seed.C, nil), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + e.addr + "/anything?x=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol = %s; want HTTP/2", resp.Proto)
	}
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` || resp.Header.Get("Server") != "awselb/2.0" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("response %d %q headers %v", resp.StatusCode, body, resp.Header)
	}
}

func TestSNIChoosesCertificate(t *testing.T) {
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	ca := testutil.Root(t, "sni root")
	for name, dns := range map[string][]string{"default": {"default.test"}, "wild": {"*.example.test"}, "exact": {"api.example.test"}} {
		is, err := ca.IssueServer(pki.Options{DNSNames: dns})
		if err != nil {
			t.Fatal(err)
		}
		if err := is.Save(dir, name, false); err != nil {
			t.Fatal(err)
		}
	}
	certs := fmt.Sprintf("[{certificate: %[1]s/default.pem, private_key: %[1]s/default.key}, {certificate: %[1]s/wild.pem, private_key: %[1]s/wild.key}, {certificate: %[1]s/exact.pem, private_key: %[1]s/exact.key}]", dir)
	e := startEdge(t, seed, listenerYAML{certs: certs})
	for sni, want := range map[string]string{"": "default.test", "unknown.test": "default.test", "www.example.test": "*.example.test", "api.example.test": "api.example.test"} {
		c, err := tls.Dial("tcp", e.addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		got := c.ConnectionState().PeerCertificates[0].DNSNames[0]
		c.Close()
		if got != want {
			t.Errorf("SNI %q: certificate for %q; want %q", sni, got, want)
		}
	}
}

func TestHostileSubjectStaysOneField(t *testing.T) {
	seed := testutil.NewSeed(t)
	odd := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "evil \"quoted\" name\nnext line", Organization: []string{"a,b+c"}}})
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	if _, _, _, err := e.get(e.clientTLS(odd, nil)); err != nil {
		t.Fatal(err)
	}
	lines := e.lines()
	if len(lines) != 1 {
		t.Fatalf("got %d lines; want 1: %q", len(lines), lines)
	}
	checkLine(t, lines[0], map[string]string{"leaf_client_cert_subject": `CN=evil \22quoted\22 name\0Anext line,O=a\,b\+c`, "tls_verify_status": "Success"})
}

func TestHTTPListenerLogsDashes(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{protocol: "HTTP"})
	resp, err := http.Get("http://" + e.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := e.lines()
	if len(lines) != 1 {
		t.Fatalf("got %d lines; want 1", len(lines))
	}
	checkLine(t, lines[0], map[string]string{
		"tls_protocol": "-", "tls_cipher": "-", "tls_handshake_latency": "-", "leaf_client_cert_subject": "-",
		"tls_verify_status": "-", "tls_keyexchange": "-", "listener_port": e.port(),
	})
}
