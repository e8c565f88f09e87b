package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"edge/internal/certfmt"
	"edge/internal/config"
	"edge/internal/proxy"
	"edge/internal/server"
	"edge/internal/testutil"
	"edge/internal/tlsterm"
)

// send makes one request on a new connection; host, when not "", is the
// Host header. It returns the response (body read) and the client's port.
func (e *edge) send(t *testing.T, cfg *tls.Config, method, path, host string, hdr map[string]string) (*http.Response, string, string) {
	t.Helper()
	var clientPort string
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_, clientPort, _ = net.SplitHostPort(c.LocalAddr().String())
		}
		return c, err
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(method, "https://"+e.addr+path, nil)
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header[k] = []string{v} // as given: X_Token keeps its underscore
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), clientPort
}

// Renamed mTLS headers arrive under their new names only; a client cannot
// forge a renamed header; an empty name restores ALB's.
func TestAttributeRenamesMTLSHeaders(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	fwd := "{type: forward, target_group: app}"
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: top, defaultAction: fwd, attrs: "{" +
		"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name: X-Client-Serial, " +
		"routing.http.request.x_amzn_mtls_clientcert_subject.header_name: x-client-subject, " +
		"routing.http.request.x_amzn_mtls_clientcert_leaf.header_name: \"\"}"})
	e.send(t, e.clientTLS(seed.C, nil), "GET", "/", "", map[string]string{"X-Client-Serial": "forged", "X-Client-Subject": "CN=admin"})
	h := up.headers()
	if got := h.Values("X-Client-Serial"); len(got) != 1 || got[0] != certfmt.Serial(seed.C.Cert) {
		t.Errorf("X-Client-Serial = %q; want only the leaf's serial %s", got, certfmt.Serial(seed.C.Cert))
	}
	if got := h.Values("X-Client-Subject"); len(got) != 1 || got[0] != "CN=C" {
		t.Errorf("X-Client-Subject = %q; want only CN=C", got)
	}
	if h.Get(proxy.HeaderClientCertSerial) != "" || h.Get(proxy.HeaderClientCertSubj) != "" {
		t.Errorf("the renamed headers also arrived under ALB's names: %v", h)
	}
	if h.Get(proxy.HeaderClientCertLeaf) == "" || h.Get(proxy.HeaderClientCertIssuer) != "CN=B,O=edge tests" {
		t.Errorf("the headers not renamed (leaf with an empty name, issuer) are missing: %v", h)
	}

	e = startEdge(t, seed, listenerYAML{mtls: "{mode: passthrough}", top: top, defaultAction: fwd,
		attrs: "{routing.http.request.x_amzn_mtls_clientcert.header_name: X-Client-Chain}"})
	e.send(t, e.clientTLS(seed.H, nil), "GET", "/", "", nil)
	if certs := decodePEMHeader(t, up.headers().Get("X-Client-Chain")); len(certs) != 2 || up.headers().Get(proxy.HeaderClientCert) != "" {
		t.Errorf("passthrough chain: %d certificates under X-Client-Chain; ALB's name %q", len(certs), up.headers().Get(proxy.HeaderClientCert))
	}
	e.send(t, e.clientTLS(nil, nil), "GET", "/", "", map[string]string{"X-Client-Chain": "forged"})
	if v := up.headers().Values("X-Client-Chain"); len(v) != 0 {
		t.Errorf("a client without a certificate forged the renamed header: %q", v)
	}
}

// routing.http.x_amzn_tls_version_and_cipher_suite.enabled adds the two
// TLS headers (OpenSSL names), under their listener names.
func TestAttributeTLSVersionAndCipherSuiteHeaders(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	fwd := "{type: forward, target_group: app}"

	e := startEdge(t, seed, listenerYAML{top: top, defaultAction: fwd})
	e.send(t, e.clientTLS(nil, nil), "GET", "/", "", nil)
	if v, c := up.headers().Get("X-Amzn-Tls-Version"), up.headers().Get("X-Amzn-Tls-Cipher-Suite"); v != "" || c != "" {
		t.Errorf("TLS headers sent by default: %q %q", v, c)
	}

	e = startEdge(t, seed, listenerYAML{top: "attributes: {routing.http.x_amzn_tls_version_and_cipher_suite.enabled: true}\n" + top, defaultAction: fwd,
		attrs: "{routing.http.request.x_amzn_tls_version.header_name: X-TLS-Protocol}"})
	cfg := e.clientTLS(nil, nil)
	cfg.MaxVersion = tls.VersionTLS12
	resp, _, _ := e.send(t, cfg, "GET", "/", "", map[string]string{"X-Amzn-Tls-Cipher-Suite": "forged"})
	h := up.headers()
	if got := h.Get("X-TLS-Protocol"); got != "TLSv1.2" {
		t.Errorf("X-TLS-Protocol = %q; want TLSv1.2", got)
	}
	if got, want := h.Values("X-Amzn-Tls-Cipher-Suite"), tlsterm.CipherName(resp.TLS.CipherSuite); len(got) != 1 || got[0] != want || !strings.HasPrefix(want, "ECDHE-") {
		t.Errorf("X-Amzn-Tls-Cipher-Suite = %q; want only %q", got, want)
	}
	if h.Get("X-Amzn-Tls-Version") != "" {
		t.Error("the renamed version header also arrived as X-Amzn-Tls-Version")
	}
}

// Response-header attributes overwrite the target's value or add the
// header, on every response (forwarded, fixed, ALB's error pages).
func TestAttributeResponseHeaders(t *testing.T) {
	seed := testutil.NewSeed(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=1")
		w.Header().Set("X-Content-Type-Options", "target")
		io.WriteString(w, "from target")
	}))
	defer target.Close()
	e := startEdge(t, seed, listenerYAML{
		top: "target_groups:\n" + tgYAML("app", strings.TrimPrefix(target.URL, "http://")) + tgYAML("down", "127.0.0.1:1"),
		rules: `[{priority: 1, conditions: [{field: path-pattern, values: ["/fixed"]}], actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: fixed}}]},` +
			`{priority: 2, conditions: [{field: path-pattern, values: ["/down"]}], actions: [{type: forward, target_group: down}]}]`,
		defaultAction: "{type: forward, target_group: app}",
		attrs: `{routing.http.response.strict_transport_security.header_value: "max-age=31536000; includeSubDomains", ` +
			`routing.http.response.x_frame_options.header_value: DENY, ` +
			`routing.http.response.access_control_allow_origin.header_value: "https://app.example.com"}`})
	for _, path := range []string{"/", "/fixed", "/down"} {
		resp, _, _ := e.send(t, e.clientTLS(nil, nil), "GET", path, "", nil)
		if got := resp.Header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != "max-age=31536000; includeSubDomains" {
			t.Errorf("%s (%d): Strict-Transport-Security %q; want only the listener's value", path, resp.StatusCode, got)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("%s: X-Frame-Options %q, Access-Control-Allow-Origin %q", path, resp.Header.Get("X-Frame-Options"), resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if path == "/" && resp.Header.Get("X-Content-Type-Options") != "target" {
			t.Errorf("a response header without an attribute value was changed: %q", resp.Header.Get("X-Content-Type-Options"))
		}
		if path == "/down" && resp.StatusCode != http.StatusBadGateway {
			t.Errorf("/down: %d; want ALB's 502", resp.StatusCode)
		}
	}
	// The access log counts the added headers in sent_bytes.
	lines := e.accessLines()
	if len(lines) != 3 {
		t.Fatalf("%d access lines", len(lines))
	}
	added := len("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n") + len("X-Frame-Options: DENY\r\n") + len("Access-Control-Allow-Origin: https://app.example.com\r\n")
	want := len("HTTP/1.1 200 OK\r\n") + len("Server: awselb/2.0\r\n") + len("Content-Length: 5\r\n") + added + len("\r\n") + len("fixed")
	for _, l := range lines {
		if f := accessFields(t, l); strings.HasSuffix(f["request_url"], "/fixed") && f["sent_bytes"] != strconv.Itoa(want) {
			t.Errorf("fixed response: sent_bytes %s; want %d (the added headers counted)", f["sent_bytes"], want)
		}
	}
}

// routing.http.response.server.enabled=false: no Server header on what
// edge generates; a target's own Server header is the target's business.
func TestAttributeServerHeaderDisabled(t *testing.T) {
	seed := testutil.NewSeed(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "target/1")
	}))
	defer target.Close()
	top := "target_groups:\n" + tgYAML("app", strings.TrimPrefix(target.URL, "http://")) + tgYAML("down", "127.0.0.1:1")
	rules := `[{priority: 1, conditions: [{field: path-pattern, values: ["/fixed"]}], actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: fixed}}]},` +
		`{priority: 2, conditions: [{field: path-pattern, values: ["/down"]}], actions: [{type: forward, target_group: down}]},` +
		`{priority: 3, conditions: [{field: path-pattern, values: ["/moved"]}], actions: [{type: redirect, redirect_config: {path: "/new", status_code: HTTP_301}}]}]`
	for _, enabled := range []bool{true, false} {
		attrs := ""
		if !enabled {
			attrs = "{routing.http.response.server.enabled: false}"
		}
		e := startEdge(t, seed, listenerYAML{top: top, rules: rules, defaultAction: "{type: forward, target_group: app}", attrs: attrs})
		for _, path := range []string{"/fixed", "/down", "/moved"} {
			resp, _, _ := e.send(t, e.clientTLS(nil, nil), "GET", path, "", nil)
			got := resp.Header.Values("Server")
			if enabled && (len(got) != 1 || got[0] != proxy.ServerHeader) || !enabled && len(got) != 0 {
				t.Errorf("server.enabled=%t %s (%d): Server %q", enabled, path, resp.StatusCode, got)
			}
		}
		if resp, _, _ := e.send(t, e.clientTLS(nil, nil), "GET", "/", "", nil); resp.Header.Get("Server") != "target/1" {
			t.Errorf("server.enabled=%t: the target's Server header became %q", enabled, resp.Header.Get("Server"))
		}
	}
}

// X-Forwarded-For in the three processing modes, with and without the
// client port (ALB guide, x-forwarded-headers).
func TestAttributeXForwardedFor(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	for _, tc := range []struct {
		attrs      string
		sent, want string // "" sent: no header; want "-": absent; PORT: the client port
	}{
		{"", "192.0.2.7", "192.0.2.7, 127.0.0.1"},
		{"", "", "127.0.0.1"},
		{"{routing.http.xff_client_port.enabled: true}", "192.0.2.7, 192.0.2.8", "192.0.2.7, 192.0.2.8, 127.0.0.1:PORT"},
		{"{routing.http.xff_header_processing.mode: preserve}", "192.0.2.7", "192.0.2.7"},
		{"{routing.http.xff_header_processing.mode: preserve}", "", "-"},
		{"{routing.http.xff_header_processing.mode: preserve, routing.http.xff_client_port.enabled: true}", "192.0.2.7", "192.0.2.7"},
		{"{routing.http.xff_header_processing.mode: remove}", "192.0.2.7", "-"},
		{"{routing.http.xff_header_processing.mode: remove}", "", "-"},
	} {
		lb := ""
		if tc.attrs != "" {
			lb = "attributes: " + tc.attrs + "\n"
		}
		e := startEdge(t, seed, listenerYAML{top: lb + top, defaultAction: "{type: forward, target_group: app}"})
		hdr := map[string]string{}
		if tc.sent != "" {
			hdr["X-Forwarded-For"] = tc.sent
		}
		_, _, port := e.send(t, e.clientTLS(nil, nil), "GET", "/", "", hdr)
		want := strings.ReplaceAll(tc.want, "PORT", port)
		got := up.headers().Values("X-Forwarded-For")
		if want == "-" && len(got) != 0 || want != "-" && (len(got) != 1 || got[0] != want) {
			t.Errorf("attributes %s, client sent %q: X-Forwarded-For %q; want %s", tc.attrs, tc.sent, got, want)
		}
		if up.headers().Get("X-Forwarded-Proto") != "https" {
			t.Errorf("attributes %s: X-Forwarded-Proto lost", tc.attrs)
		}
	}
}

// routing.http.preserve_host_header.enabled: by default ALB appends the
// listener port to a Host without one; preserved, the Host is unchanged.
func TestAttributePreserveHostHeader(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	e := startEdge(t, seed, listenerYAML{top: top, defaultAction: "{type: forward, target_group: app}"})
	for host, want := range map[string]string{"example.com": "example.com:" + e.port(), "example.com:" + e.port(): "example.com:" + e.port(), "example.com:9999": "example.com:9999"} {
		e.send(t, e.clientTLS(nil, nil), "GET", "/", host, nil)
		if up.host != want {
			t.Errorf("default: Host %q reached the target as %q; want %q", host, up.host, want)
		}
	}
	e = startEdge(t, seed, listenerYAML{top: "attributes: {routing.http.preserve_host_header.enabled: true}\n" + top, defaultAction: "{type: forward, target_group: app}"})
	e.send(t, e.clientTLS(nil, nil), "GET", "/", "example.com", nil)
	if up.host != "example.com" {
		t.Errorf("preserved: Host example.com reached the target as %q", up.host)
	}
}

// routing.http.drop_invalid_header_fields.enabled drops header fields
// whose names are not ^[-A-Za-z0-9]+$; by default they are forwarded.
func TestAttributeDropInvalidHeaderFields(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	sent := map[string]string{"X_Token": "a", "X.Dotted": "b", "X-Fine-1": "c"}
	has := func(name string) bool {
		for k := range up.headers() {
			if strings.EqualFold(k, name) {
				return true
			}
		}
		return false
	}
	e := startEdge(t, seed, listenerYAML{top: top, defaultAction: "{type: forward, target_group: app}"})
	e.send(t, e.clientTLS(nil, nil), "GET", "/", "", sent)
	if !has("X_Token") || !has("X.Dotted") || !has("X-Fine-1") {
		t.Errorf("default: %v; want every field forwarded", up.headers())
	}
	e = startEdge(t, seed, listenerYAML{top: "attributes: {routing.http.drop_invalid_header_fields.enabled: true}\n" + top, defaultAction: "{type: forward, target_group: app}"})
	e.send(t, e.clientTLS(nil, nil), "GET", "/", "", sent)
	if has("X_Token") || has("X.Dotted") || !has("X-Fine-1") {
		t.Errorf("drop enabled: %v; want X_Token and X.Dotted dropped, X-Fine-1 kept", up.headers())
	}
	if up.headers().Get("X-Amzn-Trace-Id") == "" {
		t.Error("edge's own headers were dropped")
	}
}

// idle_timeout.timeout_seconds: a target slower than it gets a 504, and an
// idle keep-alive connection is closed after it.
func TestAttributeIdleTimeout(t *testing.T) {
	seed := testutil.NewSeed(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS,
		top:           "attributes: {idle_timeout.timeout_seconds: 1}\ntarget_groups:\n" + tgYAML("slow", strings.TrimPrefix(slow.URL, "http://")),
		rules:         `[{priority: 1, conditions: [{field: path-pattern, values: ["/slow"]}], actions: [{type: forward, target_group: slow}]}]`,
		defaultAction: ""})
	start := time.Now()
	resp, _, _ := e.send(t, e.clientTLS(seed.C, nil), "GET", "/slow", "", nil)
	if resp.StatusCode != http.StatusGatewayTimeout || time.Since(start) > 4*time.Second {
		t.Errorf("slow target: %d after %v; want 504 after about 1 s", resp.StatusCode, time.Since(start))
	}
	c, _ := keepAliveConn(t, e, e.clientTLS(seed.C, nil))
	defer c.Close()
	if !closedWithin(c, 4*time.Second) {
		t.Error("an idle keep-alive connection outlived idle_timeout.timeout_seconds: 1")
	}
}

// access_logs.s3.* and connection_logs.s3.* write ALB's S3 layout under
// logs.s3_root/<bucket>/<prefix>.
func TestAttributeS3Logs(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{logs: "{s3_root: s3}", top: "attributes:\n" +
		"  access_logs.s3.enabled: true\n  access_logs.s3.bucket: my-logs\n  access_logs.s3.prefix: team/alb\n" +
		"  connection_logs.s3.enabled: true\n  connection_logs.s3.bucket: my-logs\n"})
	if code, _, _, err := e.get(e.clientTLS(nil, nil)); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	e.stop()
	root := filepath.Join(filepath.Dir(e.cfgPath), "s3", "my-logs")
	var access, conn []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".log.gz") {
			rel, _ := filepath.Rel(root, p)
			if strings.HasPrefix(filepath.Base(p), "conn_log_") {
				conn = append(conn, rel)
			} else {
				access = append(access, rel)
			}
		}
		return nil
	})
	if len(access) != 1 || !strings.HasPrefix(access[0], filepath.Join("team", "alb", "AWSLogs", "123456789012", "elasticloadbalancing", "us-east-1")) {
		t.Errorf("access log files %q; want one under my-logs/team/alb/AWSLogs/123456789012/elasticloadbalancing/us-east-1/", access)
	}
	if len(conn) != 1 || !strings.HasPrefix(conn[0], filepath.Join("AWSLogs", "123456789012", "elasticloadbalancing")) {
		t.Errorf("connection log files %q; want one under my-logs/AWSLogs/...", conn)
	}
	if _, err := os.Stat(filepath.Join(root, "AWSLogs", "123456789012", "ELBConnectionLogTestFile")); err != nil {
		t.Errorf("no ELBConnectionLogTestFile: %v", err)
	}
}

// logs.access and the access_logs.s3 attributes may both be given only
// when they name the same place.
func TestAttributeS3LogsAgainstLogsKey(t *testing.T) {
	dir := t.TempDir()
	build := func(logs string) error {
		yaml := "name: e2e\nlogs: " + logs + "\nattributes: {access_logs.s3.enabled: true, access_logs.s3.bucket: my-logs}\n" +
			"listeners:\n  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\"}}]}\n"
		p := filepath.Join(dir, "edge.yaml")
		testutil.WriteFile(t, p, []byte(yaml))
		cfg, err := config.Load(p)
		if err != nil {
			return err
		}
		snap, err := server.Build(cfg, server.Options{CheckOnly: true})
		if err == nil {
			if got := snap.AccessLog.String(); got != "dir:"+filepath.Join(dir, "s3", "my-logs") {
				t.Errorf("access log %s; want dir:<s3_root>/my-logs", got)
			}
			snap.Close()
		}
		return err
	}
	if err := build("{access: \"dir:s3/my-logs\"}"); err != nil {
		t.Errorf("the same place twice: %v", err)
	}
	err := build("{access: stdout}")
	if err == nil || !strings.Contains(err.Error(), "edge.yaml:2: logs.access: stdout disagrees with the access_logs.s3 attributes (") ||
		!strings.Contains(err.Error(), "edge.yaml:3), which write to dir:"+filepath.Join(dir, "s3", "my-logs")+": keep one") {
		t.Errorf("logs.access: stdout with access_logs.s3.enabled: %v", err)
	}
}

// Attributes change with a reload; a reload with a bad attribute changes
// nothing.
func TestAttributesFollowReload(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{})
	data, err := os.ReadFile(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	reload := func(attrs string) error {
		testutil.WriteFile(t, e.cfgPath, []byte(strings.Replace(string(data), "    default_actions:", "    attributes: "+attrs+"\n    default_actions:", 1)))
		cfg, err := config.Load(e.cfgPath)
		if err != nil {
			return err
		}
		return e.srv.Reload(cfg)
	}
	if err := reload("{routing.http.response.x_frame_options.header_value: DENY, routing.http.response.server.enabled: false}"); err != nil {
		t.Fatal(err)
	}
	resp, _, _ := e.send(t, e.clientTLS(nil, nil), "GET", "/", "", nil)
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Server") != "" {
		t.Errorf("after the reload: X-Frame-Options %q, Server %q", resp.Header.Get("X-Frame-Options"), resp.Header.Get("Server"))
	}
	if err := reload("{routing.http.response.x_frame_options.header_value: \"DENY\\\"\"}"); err == nil {
		t.Fatal("a reload with a bad header value succeeded")
	}
	resp, _, _ = e.send(t, e.clientTLS(nil, nil), "GET", "/", "", nil)
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("a failed reload changed the attributes: X-Frame-Options %q", resp.Header.Get("X-Frame-Options"))
	}
}
