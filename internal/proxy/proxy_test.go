package proxy

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/attributes"
	"edge/internal/idle"
	"edge/internal/pki"
	"edge/internal/reqinfo"
	"edge/internal/testutil"
	"edge/internal/tlsterm"
)

// carrier is a ResponseWriter carrying the request's reqinfo, as the
// server hands every handler.
type carrier struct {
	*httptest.ResponseRecorder
	ri *reqinfo.Request
}

func (c carrier) ReqInfo() *reqinfo.Request { return c.ri }

// testTarget records the requests it gets and answers with answer.
type testTarget struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newTarget(t *testing.T, answer http.HandlerFunc) *testTarget {
	t.Helper()
	tg := &testTarget{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		tg.seen = append(tg.seen, r)
		tg.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		io.WriteString(w, "from "+r.Host)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *testTarget) addr() string { return strings.TrimPrefix(tg.URL, "http://") }

func (tg *testTarget) count() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.seen)
}

func (tg *testTarget) last(t *testing.T) *http.Request {
	t.Helper()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.seen) == 0 {
		t.Fatal("the target saw no request")
	}
	return tg.seen[len(tg.seen)-1]
}

// conn is a client connection's handshake result.
func conn(mode tlsterm.Mode, tls bool, peer ...*x509.Certificate) *tlsterm.Result {
	r := &tlsterm.Result{TLS: tls, Remote: netip.MustParseAddrPort("192.0.2.10:50000")}
	r.State.PeerCertificates = peer
	r.State.Version = 0x0304
	r.State.CipherSuite = 0x1301
	return r
}

// forward sends r through f as the server would and returns the response
// and the request's reqinfo.
func forward(f http.Handler, r *http.Request, res *tlsterm.Result, mode tlsterm.Mode, port int) (*http.Response, *reqinfo.Request) {
	ri := &reqinfo.Request{Conn: res, Mode: mode, ListenerPort: port, Received: time.Now(), TraceID: "Root=1-00000000-000000000000000000000000", Progress: &idle.Progress{}}
	w := carrier{httptest.NewRecorder(), ri}
	f.ServeHTTP(w, r)
	return w.Result(), ri
}

func forwarding(lb map[string]string, listener map[string]string) *Forwarding {
	return NewForwarding(attributes.MustResolve(attributes.LoadBalancer, "", lb).LoadBalancer(), attributes.MustResolve(attributes.Listener, "HTTPS", listener).Listener())
}

// A forward reaches a target of its group with ALB's headers, and records
// for the access log what it did.
func TestForwardRecordsTheExchange(t *testing.T) {
	tg := newTarget(t, nil)
	p := New(5 * time.Second)
	defer p.Close()
	g := &TargetGroup{Name: "app", ARN: TargetGroupARN("us-east-1", "123456789012", "app"), Scheme: "http", Targets: []string{tg.addr()}}
	f := p.NewForward([]Weighted{{Group: g, Weight: 7}})
	r := httptest.NewRequest("GET", "http://app.example:8443/p%2Fq/x?b=%zz&a=1", nil)
	r.RequestURI = "/p%2Fq/x?b=%zz&a=1"
	r.Header.Set("X-Amzn-Mtls-Clientcert-Subject", "CN=forged")
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	resp, ri := forward(f, r, conn(tlsterm.ModeOff, true), tlsterm.ModeOff, 8443)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := tg.last(t)
	for k, want := range map[string]string{
		"X-Forwarded-For":   "198.51.100.7, 192.0.2.10",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Port":  "8443",
		"X-Amzn-Trace-Id":   ri.TraceID,
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("target saw %s: %q; want %q", k, v, want)
		}
	}
	if got.Header.Get("X-Amzn-Mtls-Clientcert-Subject") != "" {
		t.Error("a client's forged mTLS header reached the target")
	}
	if got.RequestURI != "/p%2Fq/x?b=%zz&a=1" || got.Host != "app.example:8443" {
		t.Errorf("target saw %s for host %s; want the request target and host unchanged", got.RequestURI, got.Host)
	}
	if ri.TargetGroupARN != g.ARN || ri.Target != tg.addr() || ri.TargetStatus != 200 || ri.Dispatched.IsZero() || ri.Responded.Before(ri.Dispatched) {
		t.Errorf("reqinfo: %s %s %d %v %v", ri.TargetGroupARN, ri.Target, ri.TargetStatus, ri.Dispatched, ri.Responded)
	}
	if ri.Progress.AwaitingTarget() {
		t.Error("the round trip is still marked after the response")
	}
	if p.IdleTimeout() != 5*time.Second {
		t.Errorf("IdleTimeout %v", p.IdleTimeout())
	}
	if !strings.HasPrefix(g.ARN, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/") {
		t.Errorf("TargetGroupARN %s", g.ARN)
	}
}

// Targets are chosen round-robin within a group and by weight across
// groups (a weight of 0 gets nothing); a group without targets is 503.
func TestForwardChoosesTargets(t *testing.T) {
	a, b, c := newTarget(t, nil), newTarget(t, nil), newTarget(t, nil)
	p := New(5 * time.Second)
	defer p.Close()
	ab := &TargetGroup{Name: "ab", Scheme: "http", Targets: []string{a.addr(), b.addr()}}
	zero := &TargetGroup{Name: "zero", Scheme: "http", Targets: []string{c.addr()}}
	f := p.NewForward([]Weighted{{Group: ab, Weight: 1}, {Group: zero, Weight: 0}})
	for i := 0; i < 6; i++ {
		forward(f, httptest.NewRequest("GET", "http://h/", nil), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80)
	}
	if a.count() != 3 || b.count() != 3 || c.count() != 0 {
		t.Errorf("requests per target: %d %d %d; want 3 3 0", a.count(), b.count(), c.count())
	}
	empty := p.NewForward([]Weighted{{Group: &TargetGroup{Name: "empty", Scheme: "http"}, Weight: 3}})
	if resp, ri := forward(empty, httptest.NewRequest("GET", "http://h/", nil), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80); resp.StatusCode != 503 || ri.Target != "" {
		t.Errorf("no targets: %d target %q; want 503 and none", resp.StatusCode, ri.Target)
	}
	allZero := p.NewForward([]Weighted{{Group: ab, Weight: 0}, {Group: zero, Weight: 0}})
	if resp, _ := forward(allZero, httptest.NewRequest("GET", "http://h/", nil), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80); resp.StatusCode != 503 {
		t.Errorf("all weights 0: %d; want 503", resp.StatusCode)
	}
}

// A target that cannot be reached is 502, one that does not answer within
// the idle timeout 504, a client gone first 460, a client's failed body
// its own status: ALB's pages, nothing from the target.
func TestForwardErrors(t *testing.T) {
	slow := newTarget(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(500 * time.Millisecond) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	p := New(100 * time.Millisecond)
	defer p.Close()
	to := func(addr string) http.Handler {
		return p.NewForward([]Weighted{{Group: &TargetGroup{Name: "g", Scheme: "http", Targets: []string{addr}}}})
	}
	resp, _ := forward(to(down), httptest.NewRequest("GET", "http://h/", nil), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80)
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 502 || string(b) != string(ErrorPage(502)) || resp.Header.Get("Server") != ServerHeader {
		t.Errorf("target down: %d %q", resp.StatusCode, b)
	}
	if resp, _ = forward(to(slow.addr()), httptest.NewRequest("GET", "http://h/", nil), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80); resp.StatusCode != 504 {
		t.Errorf("slow target: %d; want 504", resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if resp, _ = forward(to(slow.addr()), httptest.NewRequest("GET", "http://h/", nil).WithContext(ctx), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80); resp.StatusCode != 460 {
		t.Errorf("client gone: %d; want 460", resp.StatusCode)
	}
	// The body failed on the client's side: its status, and the
	// connection closes.
	body := &failingBody{}
	r := httptest.NewRequest("POST", "http://h/", body)
	ri := &reqinfo.Request{Conn: conn(tlsterm.ModeOff, false), ListenerPort: 80}
	body.ri = ri
	w := carrier{httptest.NewRecorder(), ri}
	to(slow.addr()).ServeHTTP(w, r)
	if w.Code != 408 || w.Header().Get("Connection") != "close" {
		t.Errorf("stalled body: %d %v; want 408 and Connection: close", w.Code, w.Header())
	}
}

// failingBody fails as a body read cut by the idle timeout does.
type failingBody struct{ ri *reqinfo.Request }

func (b *failingBody) Read([]byte) (int, error) {
	b.ri.BodyStatus.Store(408)
	return 0, io.ErrUnexpectedEOF
}

// The mTLS headers: verify mode sends the leaf's fields, passthrough the
// chain as presented, off nothing; listener attributes rename them and
// enable the TLS headers; the load balancer's XFF modes apply.
func TestForwardHeadersByModeAndAttributes(t *testing.T) {
	ca := testutil.Root(t, "A")
	leaf := testutil.Client(t, ca, pki.Options{Subject: pkix.Name{CommonName: "client, with comma"}})
	tg := newTarget(t, nil)
	p := New(5 * time.Second)
	defer p.Close()
	g := &TargetGroup{Name: "g", Scheme: "http", Targets: []string{tg.addr()}}
	send := func(fw *Forwarding, mode tlsterm.Mode, hdr map[string]string, peer ...*x509.Certificate) http.Header {
		t.Helper()
		f := p.NewForward([]Weighted{{Group: g}})
		f.Forwarding = fw
		r := httptest.NewRequest("GET", "http://h/", nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		if resp, _ := forward(f, r, conn(mode, true, peer...), mode, 443); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return tg.last(t).Header
	}
	h := send(nil, tlsterm.ModeVerify, nil, leaf.Cert, ca.Cert)
	if h.Get(HeaderClientCertSubj) != "CN=client\\, with comma" || h.Get(HeaderClientCertSerial) == "" || h.Get(HeaderClientCertLeaf) == "" || h.Get(HeaderClientCert) != "" {
		t.Errorf("verify mode headers: %v", h)
	}
	h = send(nil, tlsterm.ModePassthrough, nil, leaf.Cert, ca.Cert)
	if n := strings.Count(h.Get(HeaderClientCert), "BEGIN%20CERTIFICATE"); n != 2 || h.Get(HeaderClientCertSubj) != "" {
		t.Errorf("passthrough sent %d certificates: %v", n, h)
	}
	if h = send(nil, tlsterm.ModeOff, nil, leaf.Cert); h.Get(HeaderClientCert) != "" || h.Get(HeaderClientCertSubj) != "" {
		t.Errorf("mode off sent mTLS headers: %v", h)
	}
	fw := forwarding(map[string]string{"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "true", "routing.http.xff_client_port.enabled": "true",
		"routing.http.preserve_host_header.enabled": "true", "routing.http.drop_invalid_header_fields.enabled": "true"},
		map[string]string{"routing.http.request.x_amzn_mtls_clientcert_subject.header_name": "X-Client-Subject", "routing.http.request.x_amzn_tls_version.header_name": "X-Tls"})
	h = send(fw, tlsterm.ModeVerify, map[string]string{"X-Client-Subject": "forged", "X_bad": "1", "X-Forwarded-Host": "orig"}, leaf.Cert, ca.Cert)
	if h.Get("X-Client-Subject") != "CN=client\\, with comma" || h.Get(HeaderClientCertSubj) != "" || h.Get("X-Tls") != "TLSv1.3" || h.Get("X-Amzn-Tls-Cipher-Suite") != "TLS_AES_128_GCM_SHA256" ||
		h.Get("X-Forwarded-For") != "192.0.2.10:50000" || h.Get("X_bad") != "" || h.Get("X-Forwarded-Host") != "orig" {
		t.Errorf("attributes: %v", h)
	}
	if h = send(forwarding(map[string]string{"routing.http.xff_header_processing.mode": "preserve"}, nil), tlsterm.ModeOff, map[string]string{"X-Forwarded-For": "203.0.113.1"}); h.Get("X-Forwarded-For") != "203.0.113.1" {
		t.Errorf("preserve: X-Forwarded-For %q", h.Get("X-Forwarded-For"))
	}
	if h = send(forwarding(map[string]string{"routing.http.xff_header_processing.mode": "remove"}, nil), tlsterm.ModeOff, map[string]string{"X-Forwarded-For": "203.0.113.1"}); h.Get("X-Forwarded-For") != "" {
		t.Errorf("remove: X-Forwarded-For %q", h.Get("X-Forwarded-For"))
	}
}

// HTTPS targets are reached without verifying their certificate, as ALB
// does.
func TestForwardToHTTPSTarget(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls "+r.Proto) }))
	defer ts.Close()
	p := New(5 * time.Second)
	defer p.Close()
	f := p.NewForward([]Weighted{{Group: &TargetGroup{Name: "g", Scheme: "https", Targets: []string{strings.TrimPrefix(ts.URL, "https://")}}}})
	resp, ri := forward(f, httptest.NewRequest("GET", "http://h/", nil), conn(tlsterm.ModeOff, false), tlsterm.ModeOff, 80)
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.HasPrefix(string(b), "tls ") || ri.TargetStatus != 200 {
		t.Errorf("HTTPS target: %d %q", resp.StatusCode, b)
	}
}

// WriteError writes ALB's page with its headers; HEAD gets no body.
func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, httptest.NewRequest("GET", "http://h/", nil), 463)
	if w.Code != 463 || w.Body.String() != string(ErrorPage(463)) || w.Header().Get("Content-Type") != "text/html" || w.Header().Get("Content-Length") != "98" {
		t.Errorf("463: %d %v %q", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, httptest.NewRequest("HEAD", "http://h/", nil), 404)
	if w.Body.Len() != 0 || w.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: body %q, Content-Length %s", w.Body, w.Header().Get("Content-Length"))
	}
	if StatusLine(418) != "418 I'm a teapot" || StatusLine(504) != "504 Gateway Time-out" {
		t.Errorf("StatusLine: %q %q", StatusLine(418), StatusLine(504))
	}
}
