package server_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/proxy"
	"edge/internal/testutil"
)

// albPage is ALB's error body for a status line title.
func albPage(title string) string {
	return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n</body>\r\n</html>\r\n"
}

// sendRaw writes raw on a new TLS connection (in the background, so a
// request edge refuses part-way cannot block the test) and reads one
// response.
func sendRaw(t *testing.T, e *edge, raw string) (*http.Response, string) {
	t.Helper()
	c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	go io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a %d-byte request %.40q: %v", len(raw), raw, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func checkALBAnswer(t *testing.T, what string, resp *http.Response, body string, status int, title string) {
	t.Helper()
	if resp.StatusCode != status || body != albPage(title) || resp.Header.Get("Server") != proxy.ServerHeader || resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("%s: %d %q (Server %q, Content-Type %q); want %d with ALB's %q page", what, resp.StatusCode, body, resp.Header.Get("Server"), resp.Header.Get("Content-Type"), status, title)
	}
}

// refusedFields are the access-log fields of a request edge refused
// before routing, as ALB logs them.
func refusedFields(status string) map[string]string {
	return map[string]string{
		"elb_status_code": status, "target_status_code": "-", "target_ip": "",
		"request_processing_time": "-1", "target_processing_time": "-1", "response_processing_time": "-1",
		"target_group_arn": "-", "matched_rule_priority": "-", "actions_executed": "-", "trace_id": "-",
		"target_port_list": "-", "target_status_code_list": "-",
	}
}

// Issues 11.16, 11.17 and 12.9: ALB's request limits and the requests it
// refuses before routing, each with ALB's answer and an access-log line.
func TestRequestsRefusedBeforeRouting(t *testing.T) {
	seed := testutil.NewSeed(t)
	target := newRecordingTarget(t, nil)
	e := startEdge(t, seed, listenerYAML{top: "target_groups:\n" + tgYAML("app", strings.TrimPrefix(target.URL, "http://")),
		defaultAction: "{type: forward, target_group: app}"})
	adm := httptest.NewServer(admin.Handler(e.srv, ""))
	defer adm.Close()
	host := "Host: example.test\r\n"
	xff := func(n int) string {
		var ips []string
		for i := 0; i < n; i++ {
			ips = append(ips, fmt.Sprintf("192.0.2.%d", i+1))
		}
		return "X-Forwarded-For: " + strings.Join(ips, ", ") + "\r\n"
	}
	manyHeaders := func(total int) string {
		var b strings.Builder
		for i := 0; b.Len() < total; i++ {
			fmt.Fprintf(&b, "X-Filler-%d: %s\r\n", i, strings.Repeat("f", 1000))
		}
		return b.String()
	}
	unparsed := "- https://127.0.0.1:" + e.port() + "- -"
	cases := []struct {
		name, raw      string
		status         int
		title, request string // request: the logged request line; "" for as sent
	}{
		{"request line over 16K", "GET /" + strings.Repeat("a", 16*1024) + " HTTP/1.1\r\n" + host + "\r\n", 414, "414 Request-URI Too Large", unparsed},
		{"request line of 900 KB", "GET /" + strings.Repeat("a", 900*1024) + " HTTP/1.1\r\n" + host + "\r\n", 414, "414 Request-URI Too Large", unparsed},
		{"one header over 16K", "GET /big-header HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("b", 16*1024) + "\r\n\r\n", 400, "400 Bad Request", ""},
		{"headers over 64K", "GET /many-headers HTTP/1.1\r\n" + host + manyHeaders(66*1024) + "\r\n", 400, "400 Bad Request", ""},
		{"600 KB of headers", "GET /huge-headers HTTP/1.1\r\n" + host + manyHeaders(600*1024) + "\r\n", 400, "400 Bad Request", unparsed},
		{"X-Forwarded-For with 31 addresses", "GET /xff HTTP/1.1\r\n" + host + xff(31) + "\r\n", 463, "463", ""},
		{"TRACE", "TRACE /trace HTTP/1.1\r\n" + host + "\r\n", 405, "405 Not Allowed", ""},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", 400, "400 Bad Request", ""},
		{"malformed header line", "GET /bad HTTP/1.1\r\n" + host + "this is not a header\r\n\r\n", 400, "400 Bad Request", unparsed},
		{"dot segments above the root", "GET /../admin/x HTTP/1.1\r\n" + host + "\r\n", 400, "400 Bad Request", ""},
		{"malformed chunked body", "POST /chunked HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, "400 Bad Request", ""},
		{"unsupported Transfer-Encoding", "POST /te HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501, "501 Not Implemented", unparsed},
		{"Expect other than 100-continue", "GET /expect HTTP/1.1\r\n" + host + "Expect: teapot\r\n\r\n", 417, "417 Expectation Failed", unparsed},
	}
	for _, tc := range cases {
		resp, body := sendRaw(t, e, tc.raw)
		checkALBAnswer(t, tc.name, resp, body, tc.status, tc.title)
	}
	// Just inside the limits: forwarded.
	for _, raw := range []string{
		"GET /" + strings.Repeat("a", 16*1024-len("GET / HTTP/1.1")-1) + " HTTP/1.1\r\n" + host + "\r\n",
		"GET /xff30 HTTP/1.1\r\n" + host + xff(30) + "\r\n",
		"GET /big-ok HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("b", 16*1024-len("X-Big: ")) + "\r\n\r\n",
	} {
		if resp, _ := sendRaw(t, e, raw); resp.StatusCode != 200 {
			t.Errorf("%.30q: %d; a request within ALB's limits is forwarded", raw, resp.StatusCode)
		}
	}
	var reached []string
	for _, r := range target.seen {
		if r.URI != "/chunked" { // routed; its body failed on the way
			reached = append(reached, r.URI[:min(len(r.URI), 12)])
		}
	}
	if len(reached) != 3 {
		t.Errorf("the target received %q; want the 3 requests within the limits", reached)
	}
	resp, err := http.Get(adm.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "edge_target_connection_errors_total 0") {
		t.Errorf("a malformed request body counted as a target connection error:\n%s", grepLines(string(m), "edge_target_connection_errors"))
	}

	access := e.accessLines()
	if len(access) != len(cases)+3 {
		t.Fatalf("%d access lines for %d requests:\n%s", len(access), len(cases)+3, strings.Join(access, "\n"))
	}
	for i, tc := range cases {
		want := refusedFields(fmt.Sprint(tc.status))
		f := accessFields(t, access[i])
		if tc.name == "malformed chunked body" {
			// Refused while forwarding: routed, sent to the target, then
			// the client's body failed.
			want = map[string]string{"elb_status_code": "400", "target_status_code": "-", "matched_rule_priority": "0", "actions_executed": "forward"}
		}
		if tc.request != "" {
			got := f["request_verb"] + " " + f["request_url"] + " " + f["request_proto"]
			if got != tc.request {
				t.Errorf("%s: request line %q; want %q", tc.name, got, tc.request)
			}
			want["received_bytes"] = "0"
		}
		for k, v := range want {
			if f[k] != v {
				t.Errorf("%s: %s = %q; want %q\nline: %.300s", tc.name, k, f[k], v, access[i])
			}
		}
		if f["type"] != "https" || f["ssl_protocol"] == "-" || !strings.HasPrefix(f["conn_trace_id"], "TID_") {
			t.Errorf("%s: connection fields type %q, ssl_protocol %q, conn_trace_id %q", tc.name, f["type"], f["ssl_protocol"], f["conn_trace_id"])
		}
	}
}

// HTTP/2 requests meet the same limits (the request line is :method,
// :path and the protocol).
func TestRequestsRefusedBeforeRoutingHTTP2(t *testing.T) {
	seed := testutil.NewSeed(t)
	target := newRecordingTarget(t, nil)
	e := startEdge(t, seed, listenerYAML{top: "target_groups:\n" + tgYAML("app", strings.TrimPrefix(target.URL, "http://")),
		defaultAction: "{type: forward, target_group: app}"})
	tr := &http.Transport{TLSClientConfig: e.clientTLS(nil, nil), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	do := func(method, path string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(method, "https://"+e.addr+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s %.40s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("HTTP/%d; want h2", resp.ProtoMajor)
		}
		return resp, string(b)
	}
	var ips []string
	for i := 0; i < 31; i++ {
		ips = append(ips, fmt.Sprintf("198.51.100.%d", i+1))
	}
	resp, body := do("TRACE", "/", nil)
	checkALBAnswer(t, "h2 TRACE", resp, body, 405, "405 Not Allowed")
	resp, body = do("GET", "/", map[string]string{"X-Forwarded-For": strings.Join(ips, ",")})
	checkALBAnswer(t, "h2 X-Forwarded-For with 31 addresses", resp, body, 463, "463")
	resp, body = do("GET", "/"+strings.Repeat("p", 16*1024), nil)
	checkALBAnswer(t, "h2 :path over 16K", resp, body, 414, "414 Request-URI Too Large")
	resp, body = do("GET", "/", map[string]string{"X-Big": strings.Repeat("b", 17*1024)})
	checkALBAnswer(t, "h2 header over 16K", resp, body, 400, "400 Bad Request")
	if len(target.seen) != 0 {
		t.Errorf("the target received %d refused requests", len(target.seen))
	}
	access := e.accessLines()
	if len(access) != 4 {
		t.Fatalf("%d access lines; want 4", len(access))
	}
	for i, st := range []string{"405", "463", "414", "400"} {
		f := accessFields(t, access[i])
		for k, v := range map[string]string{"type": "h2", "elb_status_code": st, "matched_rule_priority": "-", "actions_executed": "-", "target_status_code": "-"} {
			if f[k] != v {
				t.Errorf("h2 line %d: %s = %q; want %q", i, k, f[k], v)
			}
		}
	}
}

// A plain HTTP listener: a TLS ClientHello and garbage are malformed
// requests, answered and logged as ALB does.
func TestMalformedRequestOnHTTPListener(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{protocol: "HTTP"})
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GARBAGE\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	checkALBAnswer(t, "garbage", resp, string(b), 400, "400 Bad Request")
	access := e.accessLines()
	if len(access) != 1 {
		t.Fatalf("%d access lines; want 1", len(access))
	}
	f := refusedFields("400")
	f["type"], f["ssl_cipher"], f["request_verb"], f["request_url"], f["request_proto"] = "http", "-", "-", "http://127.0.0.1:"+e.port()+"-", "-"
	checkAccess(t, access[0], f)
}

// The head limits count each request's head on its own: a keep-alive
// connection carrying many requests (with bodies edge does not read)
// never adds their sizes up.
func TestHeadLimitsPerRequestOnKeepAlive(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{})
	c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	body := strings.Repeat("b", 2000)
	for i := 0; i < 100; i++ {
		fmt.Fprintf(c, "POST /form HTTP/1.1\r\nHost: example.test\r\nX-Pad: %s\r\nContent-Length: %d\r\n\r\n%s", strings.Repeat("p", 1000), len(body), body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d on the connection: %d; each head is far below ALB's limits", i+1, resp.StatusCode)
		}
	}
}
