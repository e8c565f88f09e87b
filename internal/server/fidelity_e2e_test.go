package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/testutil"
)

// seenRequest is what a target received.
type seenRequest struct {
	URI, Host string
	Header    http.Header
	Trailer   http.Header
	TE        []string
	Body      string
}

// recorder is a target that records every request and answers with
// answer (nil: 200 "ok").
type recordingTarget struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newRecordingTarget(t *testing.T, answer http.HandlerFunc) *recordingTarget {
	rt := &recordingTarget{}
	rt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		rt.seen = append(rt.seen, seenRequest{URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Trailer: r.Trailer.Clone(), TE: r.TransferEncoding, Body: string(b)})
		rt.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(rt.Close)
	return rt
}

func (rt *recordingTarget) last(t *testing.T) seenRequest {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.seen) == 0 {
		t.Fatal("the target received no request")
	}
	return rt.seen[len(rt.seen)-1]
}

// rawExchange sends raw bytes on a new TLS connection and reads one
// response.
func rawExchange(t *testing.T, e *edge, raw string) (*http.Response, string) {
	t.Helper()
	c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", raw, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func forwardEdge(t *testing.T, target string) *edge {
	seed := testutil.NewSeed(t)
	return startEdge(t, seed, listenerYAML{top: "target_groups:\n" + tgYAML("app", strings.TrimPrefix(target, "http://")),
		defaultAction: "{type: forward, target_group: app}"})
}

// Issue 12.6: forwarding passes the exchange through as ALB does; each
// subtest is one thing a proxy could rewrite.
func TestForwardDoesNotChangeTheExchange(t *testing.T) {
	gzipped := func() []byte {
		var b bytes.Buffer
		z := gzip.NewWriter(&b)
		io.WriteString(z, strings.Repeat("compressed by the target ", 40))
		z.Close()
		return b.Bytes()
	}()
	target := newRecordingTarget(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "text/plain")
			w.Write(gzipped)
		case "/trailer":
			w.Header().Set("Trailer", "X-Checksum")
			io.WriteString(w, "body before the trailer")
			w.Header().Set("X-Checksum", "abc123")
		case "/early-hints":
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
			io.WriteString(w, "final")
		default:
			io.WriteString(w, "ok")
		}
	})
	e := forwardEdge(t, target.URL)
	port := e.port()

	t.Run("no Accept-Encoding added", func(t *testing.T) {
		rawExchange(t, e, "GET /plain HTTP/1.1\r\nHost: example.test\r\n\r\n")
		if v, ok := target.last(t).Header["Accept-Encoding"]; ok {
			t.Errorf("the target received Accept-Encoding %q, which the client never sent", v)
		}
	})
	t.Run("gzip response passed through compressed", func(t *testing.T) {
		resp, body := rawExchange(t, e, "GET /gzip HTTP/1.1\r\nHost: example.test\r\n\r\n")
		if resp.Header.Get("Content-Encoding") != "gzip" || body != string(gzipped) {
			t.Errorf("client got Content-Encoding %q and %d bytes; want the target's gzip bytes (%d) unchanged", resp.Header.Get("Content-Encoding"), len(body), len(gzipped))
		}
	})
	t.Run("hop-by-hop headers removed, end-to-end kept", func(t *testing.T) {
		rawExchange(t, e, "GET /hop HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-End: 2\r\n\r\n")
		h := target.last(t).Header
		for _, k := range []string{"X-Hop", "Keep-Alive", "Proxy-Connection"} {
			if v, ok := h[k]; ok {
				t.Errorf("hop-by-hop %s: %q reached the target", k, v)
			}
		}
		if h.Get("X-End") != "2" {
			t.Error("end-to-end header X-End was lost")
		}
	})
	t.Run("Host gets the listener port as ALB adds it", func(t *testing.T) {
		rawExchange(t, e, "GET /host HTTP/1.1\r\nHost: example.test\r\n\r\n")
		if got := target.last(t).Host; got != "example.test:"+port {
			t.Errorf("target saw Host %q; ALB appends a non-default listener port: want example.test:%s", got, port)
		}
		rawExchange(t, e, "GET /host HTTP/1.1\r\nHost: example.test:9999\r\n\r\n")
		if got := target.last(t).Host; got != "example.test:9999" {
			t.Errorf("target saw Host %q; a port the client sent is kept on a non-default listener port", got)
		}
		rawExchange(t, e, "GET https://absolute.test/host HTTP/1.1\r\nHost: example.test\r\n\r\n")
		if got := target.last(t).Host; got != "absolute.test:"+port {
			t.Errorf("absolute-form request: target saw Host %q; want the URI's host absolute.test:%s", got, port)
		}
	})
	t.Run("client's Forwarded and X-Forwarded-Host kept; X-Forwarded-Proto and -Port are the listener's", func(t *testing.T) {
		rawExchange(t, e, "GET /fwd HTTP/1.1\r\nHost: example.test\r\nForwarded: for=192.0.2.60;proto=http\r\nX-Forwarded-Host: original.test\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 1\r\n\r\n")
		h := target.last(t).Header
		if h.Get("Forwarded") != "for=192.0.2.60;proto=http" || h.Get("X-Forwarded-Host") != "original.test" {
			t.Errorf("Forwarded %q, X-Forwarded-Host %q; ALB passes both unchanged", h.Get("Forwarded"), h.Get("X-Forwarded-Host"))
		}
		if h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Forwarded-Port") != port {
			t.Errorf("X-Forwarded-Proto %q, -Port %q; want https and %s", h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-Port"), port)
		}
		if v, ok := h["Via"]; ok {
			t.Errorf("Via %q added; ALB adds none", v)
		}
		if v, ok := h["User-Agent"]; ok {
			t.Errorf("User-Agent %q added to a request that had none", v)
		}
	})
	t.Run("request target forwarded as sent", func(t *testing.T) {
		for _, uri := range []string{
			"/a%2fb/%7Euser;p=1?x=%zz&y=1;2&z=a+b",
			"/x?",
			"/%41%42?q=%2F",
			"//double//slash?",
		} {
			rawExchange(t, e, "GET "+uri+" HTTP/1.1\r\nHost: example.test\r\n\r\n")
			if got := target.last(t).URI; got != uri {
				t.Errorf("target received %q; the client sent %q", got, uri)
			}
		}
	})
	t.Run("response trailers", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: e.clientTLS(nil, nil), DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", "https://"+e.addr+"/trailer", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Trailer.Get("X-Checksum") != "abc123" {
			t.Errorf("trailer X-Checksum %q; want the target's abc123", resp.Trailer.Get("X-Checksum"))
		}
	})
	t.Run("1xx informational responses", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: e.clientTLS(nil, nil), DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		var got []int
		var link string
		ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			got = append(got, code)
			link = h.Get("Link")
			return nil
		}})
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+e.addr+"/early-hints", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(got) != 1 || got[0] != 103 || link == "" || resp.StatusCode != 200 {
			t.Errorf("1xx %v (Link %q), final %d; want the target's 103 with its Link, then 200", got, link, resp.StatusCode)
		}
	})
	t.Run("Expect: 100-continue", func(t *testing.T) {
		c, err := tls.Dial("tcp", e.addr, e.clientTLS(nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
			t.Fatalf("before sending the body the client got %q, %v; want 100 Continue", line, err)
		}
		for line != "\r\n" && err == nil { // the rest of the 100 response
			line, err = br.ReadString('\n')
		}
		io.WriteString(c, "hello world")
		var final *http.Response
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode >= 200 {
				final = resp
				break
			}
		}
		io.ReadAll(final.Body)
		if final.StatusCode != 200 || target.last(t).Body != "hello world" {
			t.Errorf("final %d, target body %q", final.StatusCode, target.last(t).Body)
		}
	})
	t.Run("chunked request body stays chunked", func(t *testing.T) {
		rawExchange(t, e, "POST /chunked HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
		got := target.last(t)
		if got.Body != "hello world" || fmt.Sprint(got.TE) != "[chunked]" {
			t.Errorf("target got body %q with Transfer-Encoding %v; want the chunked body", got.Body, got.TE)
		}
	})
}
