package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// recorder stands in for net/http's response writer: it clones the header
// map when the header is written, as net/http does, and discards the body.
type recorder struct {
	h, sent http.Header
	code    int
}

func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code, w.sent = code, w.h.Clone()
	}
}
func (w *recorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return len(p), nil
}

// BenchmarkHandler measures edge's own per-request work for a keep-alive
// request answered by a fixed response, without the network: routing, the
// trace id, the response headers, the access-log line (to a file) and the
// metrics. The baseline is a handler that writes the same response and
// nothing else.
//
//	go test -run '^$' -bench Handler -benchmem ./internal/server/
func BenchmarkHandler(b *testing.B) {
	dir := b.TempDir()
	ca, err := pki.NewRoot(pki.Options{})
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := ca.IssueServer(pki.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := leaf.Save(dir, "server", false); err != nil {
		b.Fatal(err)
	}
	yaml := `name: bench
logs: {connection: "file:` + filepath.Join(dir, "conn.log") + `", access: "file:` + filepath.Join(dir, "access.log") + `"}
listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: ` + filepath.Join(dir, "server.pem") + `, private_key: ` + filepath.Join(dir, "server.key") + `}]
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", content_type: text/plain, message_body: ok}}]
`
	cfg, err := config.Parse([]byte(yaml), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	snap, err := Build(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	bd := snap.sockets[0]
	tc := snap.Listeners[0].Term.Certificates.All()[0] // as the handshake records it
	res := &tlsterm.Result{TraceID: tlsterm.NewTraceID(), Start: time.Now(), End: time.Now(),
		Remote: netip.MustParseAddrPort("127.0.0.1:50000"), Local: netip.MustParseAddrPort("127.0.0.1:443"), TLS: true,
		State:  tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, HandshakeComplete: true},
		Status: truststore.StatusNone, ServerCert: tc, Value: bd.cur.Load()}
	ctx := bd.srv.ConnContext(context.Background(), &tlsterm.Conn{Result: res})
	raw := "GET /api/items?id=7 HTTP/1.1\r\nHost: localhost:9443\r\nUser-Agent: edge-bench/1\r\nAccept: */*\r\n\r\n"
	newReq := func() *http.Request {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			b.Fatal(err)
		}
		return r.WithContext(ctx)
	}
	run := func(b *testing.B, h http.Handler) {
		r := newReq()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w := &recorder{h: http.Header{}}
			h.ServeHTTP(w, r)
			if w.code != 200 {
				b.Fatalf("status %d", w.code)
			}
		}
	}
	b.Run("baseline-bare-handler", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "ok")
		}))
	})
	b.Run("edge-fixed-response", func(b *testing.B) {
		run(b, bd.srv.Handler)
	})
}
