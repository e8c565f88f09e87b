package route

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/proxy"
	"edge/internal/reqinfo"
	"edge/internal/tlsterm"
)

// carrier is a ResponseWriter carrying its request's reqinfo, as the
// server hands every handler.
type carrier struct {
	*httptest.ResponseRecorder
	ri *reqinfo.Request
}

func (c carrier) ReqInfo() *reqinfo.Request { return c.ri }

// serve runs h for r as the server would, from client on a TLS (or not)
// listener on port, and returns the response and the request's reqinfo.
func serve(h http.Handler, r *http.Request, client string, tls bool, port int) (*http.Response, *reqinfo.Request) {
	ri := &reqinfo.Request{Conn: &tlsterm.Result{TLS: tls, Remote: netip.MustParseAddrPort(client)}, ListenerPort: port, Received: time.Now()}
	w := carrier{httptest.NewRecorder(), ri}
	h.ServeHTTP(w, r)
	return w.Result(), ri
}

// labelled answers with its label, to see which rule ran.
func labelled(label string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, label) })
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Rules run by ascending priority whatever their order in the list; a
// rule matches when all its conditions do; the default rule answers the
// rest with priority 0. The router records the priority, the action kind
// and the trace id for the access log.
func TestRouterPriorityAndConditions(t *testing.T) {
	src, _ := NewSourceIP([]string{"10.0.0.0/8"})
	rt := NewRouter([]Rule{
		{Priority: 20, Conditions: []Condition{NewPathPattern([]string{"/api/*"})}, Kind: "fixed-response", Action: labelled("api")},
		{Priority: 5, Conditions: []Condition{NewPathPattern([]string{"/api/*"}), NewHostHeader([]string{"Admin.Example.com"})}, Kind: "redirect", Action: labelled("admin-api")},
		{Priority: 10, Conditions: []Condition{src, NewMethod([]string{"POST"})}, Kind: "forward", Action: labelled("internal-post")},
	}, "fixed-response", labelled("default"))
	for _, tc := range []struct {
		method, url, client string
		want                string
		priority            int
		kind                string
	}{
		{"GET", "http://ADMIN.example.com/api/x", "192.0.2.1:1", "admin-api", 5, "redirect"},
		{"GET", "http://www.example.com/api/x", "192.0.2.1:1", "api", 20, "fixed-response"},
		{"POST", "http://www.example.com/api/x", "10.1.2.3:1", "internal-post", 10, "forward"},
		{"POST", "http://www.example.com/", "192.0.2.1:1", "default", 0, "fixed-response"},
		{"GET", "http://www.example.com/API/x", "192.0.2.1:1", "default", 0, "fixed-response"},
	} {
		resp, ri := serve(rt, httptest.NewRequest(tc.method, tc.url, nil), tc.client, true, 443)
		if got := body(t, resp); got != tc.want || ri.Priority != tc.priority || ri.Actions != tc.kind {
			t.Errorf("%s %s from %s: %q priority %d %s; want %q priority %d %s", tc.method, tc.url, tc.client, got, ri.Priority, ri.Actions, tc.want, tc.priority, tc.kind)
		}
		if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`).MatchString(ri.TraceID) {
			t.Errorf("trace id %q", ri.TraceID)
		}
	}
	// A client's own trace header is kept behind edge's Self.
	r := httptest.NewRequest("GET", "http://h/", nil)
	r.Header.Set(proxy.HeaderTraceID, "Root=1-5759e988-bd862e3fe1be46a994272793")
	if _, ri := serve(rt, r, "192.0.2.1:1", false, 80); !strings.HasPrefix(ri.TraceID, "Self=1-") || !strings.HasSuffix(ri.TraceID, ";Root=1-5759e988-bd862e3fe1be46a994272793") {
		t.Errorf("trace id with the client's Root: %q", ri.TraceID)
	}
}

// The New functions normalise values once: the matchers that ALB runs
// case-insensitively match values given in any case.
func TestConditionsNormaliseTheirValues(t *testing.T) {
	req := func(target string, hdr ...string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Add(hdr[i], hdr[i+1])
		}
		return r
	}
	client := netip.MustParseAddr("10.9.9.9")
	src, err := NewSourceIP([]string{"10.1.2.3/8", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Condition
		r    *http.Request
		want bool
	}{
		{"host value in upper case", NewHostHeader([]string{"API.EXAMPLE.COM"}), req("http://api.example.com/"), true},
		{"host wildcard in mixed case", NewHostHeader([]string{"*.Example.Com"}), req("http://WWW.EXAMPLE.COM:8443/"), true},
		{"header name and value in any case", NewHTTPHeader("x-ENV", []string{"PROD*"}), req("http://h/", "X-Env", "production"), true},
		{"header value mismatch", NewHTTPHeader("X-Env", []string{"PROD*"}), req("http://h/", "X-Env", "dev"), false},
		{"query key and value in upper case", NewQueryString([]KeyValue{{"VERSION", "V2"}}), req("http://h/?version=v2"), true},
		{"query any key", NewQueryString([]KeyValue{{"", "Beta"}}), req("http://h/?x=BETA"), true},
		{"method stays exact", NewMethod([]string{"get"}), req("http://h/"), false},
		{"path stays case-sensitive", NewPathPattern([]string{"/Img/*"}), req("http://h/img/a.png"), false},
		{"path after normalization", NewPathPattern([]string{"/img/*"}), req("http://h/a/../img/a.png"), true},
		{"source ip with host bits masked", src, req("http://h/"), true},
	} {
		if got := tc.c.Match(tc.r, client); got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, got, tc.want)
		}
	}
	if src.Match(nil, netip.MustParseAddr("::ffff:10.0.0.1")) != true {
		t.Error("an IPv4-mapped client does not match its IPv4 block")
	}
	if _, err := NewSourceIP([]string{"10.0.0.0"}); err == nil {
		t.Error("NewSourceIP accepted an address without a prefix length")
	}
}

// A fixed response answers with ALB's headers, the exact body and no
// sniffed content type; HEAD gets the headers only.
func TestFixedResponse(t *testing.T) {
	f, err := NewFixedResponse("503", "application/json", `{"down":true}`)
	if err != nil {
		t.Fatal(err)
	}
	resp, ri := serve(f, httptest.NewRequest("GET", "http://h/", nil), "192.0.2.1:1", true, 443)
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Server") != proxy.ServerHeader ||
		resp.Header.Get("Content-Length") != "13" || body(t, resp) != `{"down":true}` {
		t.Errorf("fixed response: %d %v", resp.StatusCode, resp.Header)
	}
	want := len("HTTP/1.1 200 OK\r\n") + len("Server: awselb/2.0\r\n") + len("Content-Length: 13\r\n") + len("Content-Type: application/json\r\n") + 2
	if ri.HeaderBytes != int64(want) {
		t.Errorf("HeaderBytes %d; want %d", ri.HeaderBytes, want)
	}
	plain, _ := NewFixedResponse("200", "", "ok")
	resp, _ = serve(plain, httptest.NewRequest("HEAD", "http://h/", nil), "192.0.2.1:1", true, 443)
	if resp.StatusCode != 200 || resp.Header["Content-Type"] != nil || body(t, resp) != "" {
		t.Errorf("HEAD without a content type: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := NewFixedResponse("2xx", "", ""); err == nil {
		t.Error("NewFixedResponse accepted a status that is not a number")
	}
}

// A redirect fills ALB's placeholders from the request and drops the
// default port of the scheme it sends to.
func TestRedirect(t *testing.T) {
	for _, tc := range []struct {
		rd     Redirect
		url    string
		tls    bool
		port   int
		want   string
		status int
	}{
		{Redirect{Protocol: "HTTPS", Port: "443", Status: 301}, "http://example.com/a/b?x=1", false, 80, "https://example.com/a/b?x=1", 301},
		{Redirect{Status: 302}, "https://example.com:8443/p", true, 8443, "https://example.com:8443/p", 302},
		{Redirect{Host: "new.#{host}", Path: "/v2/#{path}", Query: "from=#{port}&#{query}", Status: 301}, "http://old.example/x%2Fy?q=1", false, 8080, "http://new.old.example:8080/v2/x%2Fy?from=8080&q=1", 301},
		{Redirect{Protocol: "#{protocol}", Port: "80", Status: 301}, "http://h/", false, 80, "http://h/", 301},
	} {
		resp, ri := serve(&tc.rd, httptest.NewRequest("GET", tc.url, nil), "192.0.2.1:1", tc.tls, tc.port)
		if loc := resp.Header.Get("Location"); loc != tc.want || ri.RedirectURL != tc.want || resp.StatusCode != tc.status {
			t.Errorf("%+v for %s: %d %s (logged %s); want %d %s", tc.rd, tc.url, resp.StatusCode, loc, ri.RedirectURL, tc.status, tc.want)
		}
	}
}
