package server_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/certfmt"
	"edge/internal/proxy"
	"edge/internal/testutil"
)

// echoUpstream records the last request's headers and answers with them
// as JSON.
type echoUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	last http.Header
	host string
	hits atomic.Int64
}

func newEcho(t *testing.T) *echoUpstream {
	u := &echoUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		u.last, u.host = r.Header.Clone(), r.Host
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *echoUpstream) addr() string { return strings.TrimPrefix(u.URL, "http://") }

func (u *echoUpstream) headers() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// request sends one request on a new connection with extra headers.
func (e *edge) request(t *testing.T, cfg *tls.Config, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(method, "https://"+e.addr+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func tgYAML(name string, targets ...string) string {
	return fmt.Sprintf("  - {name: %s, protocol: HTTP, targets: [%s]}\n", name, strings.Join(targets, ", "))
}

var spoofed = map[string]string{
	"X-Amzn-Mtls-Clientcert-Subject": "CN=admin",
	"X-Amzn-Mtls-Clientcert":         "forged",
	"x-amzn-mtls-clientcert-leaf":    "forged",
	"X-Forwarded-For":                "192.0.2.7",
	"X-Amzn-Trace-Id":                "Root=1-67891233-abcdef012345678912345678;Self=1-00000000-000000000000000000000000;CalledFrom=app",
}

func decodePEMHeader(t *testing.T, v string) []*x509.Certificate {
	t.Helper()
	if strings.ContainsAny(v, " \n=") {
		t.Errorf("header value is not URL-encoded: %q", v[:min(len(v), 60)])
	}
	if !strings.HasPrefix(v, "-----BEGIN%20CERTIFICATE-----%0A") {
		t.Errorf("header value %q does not start like ALB's examples", v[:min(len(v), 40)])
	}
	raw, err := url.PathUnescape(v) // keeps '+', as ALB consumers must
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	rest := []byte(raw)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestForwardVerifyHeaders(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "target_groups:\n" + tgYAML("app", up.addr()),
		defaultAction: "{type: forward, target_group: app}"})
	resp, _ := e.request(t, e.clientTLS(seed.C, nil), "GET", "/api/x?y=1", spoofed)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	h := up.headers()
	if got := h.Get(proxy.HeaderClientCertSerial); got != certfmt.Serial(seed.C.Cert) || got != strings.ToUpper(got) {
		t.Errorf("serial header %q; want %s", got, certfmt.Serial(seed.C.Cert))
	}
	if got := h.Get(proxy.HeaderClientCertIssuer); got != "CN=B,O=edge tests" {
		t.Errorf("issuer header %q", got)
	}
	if got := h.Get(proxy.HeaderClientCertSubj); got != "CN=C" {
		t.Errorf("subject header %q; the client's spoofed CN=admin must never arrive", got)
	}
	if got := h.Get(proxy.HeaderClientCertValid); !regexp.MustCompile(`^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(got) || got != certfmt.Validity(seed.C.Cert) {
		t.Errorf("validity header %q", got)
	}
	if certs := decodePEMHeader(t, h.Get(proxy.HeaderClientCertLeaf)); len(certs) != 1 || !certs[0].Equal(seed.C.Cert) {
		t.Errorf("leaf header does not decode to the client's certificate")
	}
	if v := h.Values(proxy.HeaderClientCert); len(v) != 0 {
		t.Errorf("verify mode sent %s: %q", proxy.HeaderClientCert, v)
	}
	if got := h.Get("X-Forwarded-For"); got != "192.0.2.7, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q; want the client's value with 127.0.0.1 appended", got)
	}
	if h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Forwarded-Port") != e.port() {
		t.Errorf("X-Forwarded-Proto %q, -Port %q", h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-Port"))
	}
	trace := h.Get("X-Amzn-Trace-Id")
	if !regexp.MustCompile(`^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678;CalledFrom=app$`).MatchString(trace) {
		t.Errorf("trace id %q; want a new Self before the client's Root, its Self dropped", trace)
	}
	if up.host != e.addr {
		t.Errorf("target saw Host %q; want the client's %q", up.host, e.addr)
	}

	access, conns := e.accessLines(), e.lines()
	if len(access) != 1 || len(conns) != 1 {
		t.Fatalf("%d access and %d connection lines; want 1 and 1", len(access), len(conns))
	}
	checkAccess(t, access[0], map[string]string{
		"type": "https", "target_ip": "127.0.0.1", "target_port": strings.Split(up.addr(), ":")[1], "elb_status_code": "200", "target_status_code": "200",
		"request_verb": "GET", "request_url": "https://127.0.0.1:" + e.port() + "/api/x?y=1", "request_proto": "HTTP/1.1", "trace_id": trace,
		"matched_rule_priority": "0", "actions_executed": "forward", "target_port_list": up.addr(), "target_status_code_list": "200",
		"conn_trace_id": testutil.ParseConnLine(conns[0])["conn_trace_id"], "domain_name": "localhost",
	})
	f := accessFields(t, access[0])
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/[0-9a-f]{16}$`).MatchString(f["target_group_arn"]) {
		t.Errorf("target_group_arn %q", f["target_group_arn"])
	}
	for _, k := range []string{"request_processing_time", "target_processing_time", "response_processing_time"} {
		if !regexp.MustCompile(`^\d+\.\d{3}$`).MatchString(f[k]) {
			t.Errorf("%s = %q; want seconds with 3 decimals", k, f[k])
		}
	}
}

func TestForwardPassthroughAndOffHeaders(t *testing.T) {
	seed := testutil.NewSeed(t)
	up := newEcho(t)
	top := "target_groups:\n" + tgYAML("app", up.addr())
	fwd := "{type: forward, target_group: app}"

	e := startEdge(t, seed, listenerYAML{mtls: "{mode: passthrough}", top: top, defaultAction: fwd})
	e.request(t, e.clientTLS(seed.H, nil), "GET", "/", spoofed)
	h := up.headers()
	certs := decodePEMHeader(t, h.Get(proxy.HeaderClientCert))
	if len(certs) != 2 || !certs[0].Equal(seed.H.Cert) || !certs[1].Equal(seed.G.Cert) {
		t.Errorf("passthrough header holds %d certificates; want H then G as presented", len(certs))
	}
	if h.Get(proxy.HeaderClientCertSubj) != "" || h.Get(proxy.HeaderClientCertLeaf) != "" {
		t.Error("a spoofed X-Amzn-Mtls-* header reached the target in passthrough mode")
	}
	e.request(t, e.clientTLS(nil, nil), "GET", "/", spoofed)
	if v := up.headers().Values(proxy.HeaderClientCert); len(v) != 0 {
		t.Errorf("passthrough without a certificate forwarded %q", v)
	}

	e = startEdge(t, seed, listenerYAML{top: top, defaultAction: fwd})
	e.request(t, e.clientTLS(nil, nil), "GET", "/", spoofed)
	for k := range up.headers() {
		if strings.HasPrefix(k, "X-Amzn-Mtls-") {
			t.Errorf("mode off forwarded %s", k)
		}
	}
}

func TestRulesAndPriorities(t *testing.T) {
	seed := testutil.NewSeed(t)
	fixed := func(body string) string {
		return fmt.Sprintf("[{type: fixed-response, fixed_response_config: {status_code: \"200\", message_body: %s}}]", body)
	}
	rules := "[" + strings.Join([]string{
		"{priority: 30, conditions: [{field: path-pattern, values: [\"/api/*\"]}], actions: " + fixed("api") + "}",
		"{priority: 10, conditions: [{field: path-pattern, values: [\"/api/admin*\"]}, {field: http-request-method, values: [POST]}], actions: " + fixed("admin-post") + "}",
		"{priority: 20, conditions: [{field: http-header, http_header_config: {http_header_name: X-Env, values: [\"canary*\"]}}], actions: " + fixed("canary") + "}",
		"{priority: 40, conditions: [{field: query-string, query_string_config: {values: [{key: v, value: \"2\"}]}}], actions: " + fixed("v2") + "}",
		"{priority: 50, conditions: [{field: host-header, values: [\"*.example.test\"]}], actions: " + fixed("host") + "}",
		"{priority: 60, conditions: [{field: source-ip, values: [\"192.0.2.0/24\"]}], actions: " + fixed("never") + "}",
		"{priority: 70, conditions: [{field: source-ip, values: [\"127.0.0.0/8\"]}, {field: path-pattern, values: [\"/local\"]}], actions: " + fixed("local") + "}",
	}, ", ") + "]"
	e := startEdge(t, seed, listenerYAML{rules: rules, body: "default"})
	cfg := e.clientTLS(nil, nil)
	for _, tc := range []struct {
		method, path string
		hdr          map[string]string
		body         string
		prio         string
	}{
		{"GET", "/api/x", nil, "api", "30"},
		{"POST", "/api/admin/users", nil, "admin-post", "10"},
		{"GET", "/api/admin/users", nil, "api", "30"},
		{"GET", "/api/x", map[string]string{"X-Env": "CANARY-1"}, "canary", "20"},
		{"GET", "/other?v=2", nil, "v2", "40"},
		{"GET", "/other?v=3", nil, "default", "0"},
		{"GET", "/local", nil, "local", "70"},
		{"GET", "/nothing", map[string]string{"Host": "www.example.test"}, "host", "50"},
	} {
		var body string
		if h, ok := tc.hdr["Host"]; ok {
			tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
			req, _ := http.NewRequest(tc.method, "https://"+e.addr+tc.path, nil)
			req.Host = h
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		} else {
			_, body = e.request(t, cfg, tc.method, tc.path, tc.hdr)
		}
		if body != tc.body {
			t.Errorf("%s %s %v: %q; want rule %s (%q)", tc.method, tc.path, tc.hdr, body, tc.prio, tc.body)
		}
	}
	access := e.accessLines()
	wantPrio := []string{"30", "10", "30", "20", "40", "0", "70", "50"}
	if len(access) != len(wantPrio) {
		t.Fatalf("%d access lines", len(access))
	}
	for i, line := range access {
		checkAccess(t, line, map[string]string{"matched_rule_priority": wantPrio[i], "actions_executed": "fixed-response", "target_ip": "", "target_group_arn": "-",
			"request_processing_time": "-1", "target_processing_time": "-1", "response_processing_time": "-1", "target_status_code": "-"})
	}
}

func TestWeightedAndRoundRobin(t *testing.T) {
	seed := testutil.NewSeed(t)
	a1, a2, b := newEcho(t), newEcho(t), newEcho(t)
	top := "target_groups:\n" + tgYAML("blue", a1.addr(), a2.addr()) + tgYAML("green", b.addr())
	e := startEdge(t, seed, listenerYAML{top: top, defaultAction: "{type: forward, target_groups: [{name: blue, weight: 200}, {name: green, weight: 800}]}"})
	tr := &http.Transport{TLSClientConfig: e.clientTLS(nil, nil)}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	const n = 1000
	for i := 0; i < n; i++ {
		resp, err := c.Get("https://" + e.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	blue, green := a1.hits.Load()+a2.hits.Load(), b.hits.Load()
	if blue+green != n || blue < 150 || blue > 250 {
		t.Errorf("blue %d, green %d; want 20%% ± 5%% of %d to blue", blue, green, n)
	}
	if d := a1.hits.Load() - a2.hits.Load(); d < -1 || d > 1 {
		t.Errorf("round-robin within blue: %d vs %d", a1.hits.Load(), a2.hits.Load())
	}
	access, conns := e.accessLines(), e.lines()
	if len(conns) != 1 || len(access) != n {
		t.Fatalf("keep-alive: %d connection lines and %d access lines; want 1 and %d", len(conns), len(access), n)
	}
	id := testutil.ParseConnLine(conns[0])["conn_trace_id"]
	for _, l := range access {
		if f := accessFields(t, l); f["conn_trace_id"] != id {
			t.Fatalf("access line conn_trace_id %q; want the connection's %q", f["conn_trace_id"], id)
		}
	}
}

func TestRedirects(t *testing.T) {
	seed := testutil.NewSeed(t)
	rules := `[{priority: 1, conditions: [{field: path-pattern, values: ["/old/*"]}], actions: [{type: redirect, redirect_config: {path: "/new/#{path}", query: "from=#{query}", status_code: HTTP_302}}]},
	  {priority: 2, conditions: [{field: path-pattern, values: ["/move"]}], actions: [{type: redirect, redirect_config: {host: "www.#{host}", port: "443", status_code: HTTP_301}}]}]`
	e := startEdge(t, seed, listenerYAML{rules: rules})
	resp, body := e.request(t, e.clientTLS(nil, nil), "GET", "/old/a/b?x=1", nil)
	want := "https://127.0.0.1:" + e.port() + "/new/old/a/b?from=x=1"
	if resp.StatusCode != 302 || resp.Header.Get("Location") != want || resp.Header.Get("Server") != "awselb/2.0" {
		t.Errorf("302: %d Location %q; want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if !strings.Contains(body, "302 Found") {
		t.Errorf("302 body %q", body)
	}
	resp, _ = e.request(t, e.clientTLS(nil, nil), "GET", "/move?q=2", nil)
	if want := "https://www.127.0.0.1/move?q=2"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("301: %d Location %q; want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	access := e.accessLines()
	checkAccess(t, access[0], map[string]string{"elb_status_code": "302", "actions_executed": "redirect", "redirect_url": want[:0] + "https://127.0.0.1:" + e.port() + "/new/old/a/b?from=x=1", "matched_rule_priority": "1"})
}

func TestALBErrorResponses(t *testing.T) {
	seed := testutil.NewSeed(t)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close() // connection refused
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer stall.Close()
	top := "idle_timeout_seconds: 1\ntarget_groups:\n" + tgYAML("refused", closedAddr) + "  - {name: empty, targets: []}\n" + tgYAML("slow", strings.TrimPrefix(stall.URL, "http://"))
	rules := `[{priority: 1, conditions: [{field: path-pattern, values: ["/502"]}], actions: [{type: forward, target_group: refused}]},
	  {priority: 2, conditions: [{field: path-pattern, values: ["/503"]}], actions: [{type: forward, target_group: empty}]},
	  {priority: 3, conditions: [{field: path-pattern, values: ["/504"]}], actions: [{type: forward, target_group: slow}]}]`
	e := startEdge(t, seed, listenerYAML{top: top, rules: rules})
	for _, tc := range []struct {
		path   string
		status int
		title  string
		length int
	}{{"/502", 502, "502 Bad Gateway", 122}, {"/503", 503, "503 Service Temporarily Unavailable", 162}, {"/504", 504, "504 Gateway Time-out", 132}} {
		resp, body := e.request(t, e.clientTLS(nil, nil), "GET", tc.path, nil)
		want := "<html>\r\n<head><title>" + tc.title + "</title></head>\r\n<body>\r\n<center><h1>" + tc.title + "</h1></center>\r\n</body>\r\n</html>\r\n"
		if resp.StatusCode != tc.status || body != want || len(body) != tc.length {
			t.Errorf("%s: %d %q (%d bytes); want %d and ALB's page of %d bytes", tc.path, resp.StatusCode, body, len(body), tc.status, tc.length)
		}
		if resp.Header.Get("Server") != "awselb/2.0" || resp.Header.Get("Content-Type") != "text/html" {
			t.Errorf("%s: headers %v", tc.path, resp.Header)
		}
	}
	access := e.accessLines()
	checkAccess(t, access[0], map[string]string{"elb_status_code": "502", "target_status_code": "-", "target_port_list": closedAddr, "target_processing_time": "-1", "response_processing_time": "-1"})
	checkAccess(t, access[1], map[string]string{"elb_status_code": "503", "target_status_code": "-", "target_ip": "", "request_processing_time": "-1"})
	checkAccess(t, access[2], map[string]string{"elb_status_code": "504", "target_status_code": "-", "target_processing_time": "-1"})
}

// Responses stream through edge: the client sees the first chunk while the
// target is still writing.
func TestStreamingAndWebSocket(t *testing.T) {
	seed := testutil.NewSeed(t)
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "websocket" {
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			line, _ := brw.ReadString('\n')
			brw.WriteString("echo: " + line)
			brw.Flush()
			return
		}
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second\n")
	}))
	defer up.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	e := startEdge(t, seed, listenerYAML{top: "target_groups:\n" + tgYAML("app", strings.TrimPrefix(up.URL, "http://")), defaultAction: "{type: forward, target_group: app}"})
	tr := &http.Transport{TLSClientConfig: e.clientTLS(nil, nil)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + e.addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "first\n" {
		t.Fatalf("first chunk %q, %v (the response was buffered)", first, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	resp.Body.Close()
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}

	c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	cr := bufio.NewReader(c)
	status, _ := cr.ReadString('\n')
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		t.Fatalf("upgrade answered %q", status)
	}
	for {
		l, err := cr.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	fmt.Fprintf(c, "hello\n")
	echo, _ := cr.ReadString('\n')
	c.Close()
	if echo != "echo: hello\n" {
		t.Errorf("websocket echo %q", echo)
	}
	time.Sleep(100 * time.Millisecond) // the access line is written when the tunnel closes
	access := e.accessLines()
	if len(access) != 2 {
		t.Fatalf("%d access lines; want 2", len(access))
	}
	checkAccess(t, access[1], map[string]string{"type": "wss", "elb_status_code": "101", "target_status_code": "101"})
}

func accessFields(t *testing.T, line string) map[string]string {
	t.Helper()
	re := testutil.Athena(t, "access")
	m := re.Match(line)
	if m == nil {
		t.Fatalf("access line does not match the Athena regex: %q", line)
	}
	if m["rest"] != ` "-" "-" "-"` {
		t.Errorf("trailing transform fields %q; want three \"-\"", m["rest"])
	}
	return m
}

func checkAccess(t *testing.T, line string, want map[string]string) {
	t.Helper()
	f := accessFields(t, line)
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q; want %q\nline: %s", k, f[k], v, line)
		}
	}
	if f["elb"] == "" || !strings.HasPrefix(f["elb"], "app/e2e/") {
		t.Errorf("elb %q", f["elb"])
	}
}

// HTTPS targets: edge connects with TLS and, like ALB, does not verify the
// target's certificate; connections to the target are reused.
func TestForwardHTTPSTargetReusesConnections(t *testing.T) {
	seed := testutil.NewSeed(t)
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls target: "+r.Header.Get("X-Forwarded-Proto"))
	}))
	up.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	up.StartTLS()
	defer up.Close()
	top := "target_groups:\n  - {name: secure, protocol: HTTPS, targets: [" + strings.TrimPrefix(up.URL, "https://") + "]}\n"
	e := startEdge(t, seed, listenerYAML{top: top, defaultAction: "{type: forward, target_group: secure}"})
	for i := 0; i < 5; i++ {
		resp, body := e.request(t, e.clientTLS(nil, nil), "GET", "/", nil)
		if resp.StatusCode != 200 || body != "tls target: https" {
			t.Fatalf("HTTPS target: %d %q", resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("edge opened %d connections to the target for 5 requests; want 1 (reuse)", n)
	}
}
