package server_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// BenchmarkMTLSHandshake measures full mTLS connections per second (TLS 1.3,
// ECDSA P-256 server and client keys, a new handshake per connection, one
// request each): edge in verify mode with its connection log written to a
// file, against a baseline of a plain crypto/tls + net/http server doing
// Go's own RequireAndVerifyClientCert with the same keys and groups.
//
//	go test -run '^$' -bench MTLSHandshake -benchtime 3s ./internal/server/
func BenchmarkMTLSHandshake(b *testing.B) {
	seed := testutil.NewSeed(b)
	client := &tls.Config{ServerName: "localhost", Certificates: []tls.Certificate{seed.C.TLSCertificate()}, MinVersion: tls.VersionTLS13}

	b.Run("baseline-go-tls", func(b *testing.B) {
		ca := testutil.Root(b, "bench server root")
		srvCert, err := ca.IssueServer(pki.Options{})
		if err != nil {
			b.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(seed.A.Cert)
		pool.AddCert(seed.B.Cert)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello from edge") }),
			TLSConfig: &tls.Config{
				Certificates:           []tls.Certificate{srvCert.TLSCertificate()},
				ClientAuth:             tls.RequireAndVerifyClientCert,
				ClientCAs:              pool,
				CurvePreferences:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
				SessionTicketsDisabled: true,
			},
		}
		go srv.ServeTLS(ln, "", "")
		defer srv.Close()
		roots := x509.NewCertPool()
		roots.AddCert(ca.Cert)
		cfg := client.Clone()
		cfg.RootCAs = roots
		runHandshakes(b, ln.Addr().String(), cfg)
	})

	b.Run("edge-verify", func(b *testing.B) {
		e := startEdge(b, seed, listenerYAML{mtls: verifyMTLS})
		defer e.stop()
		cfg := client.Clone()
		cfg.RootCAs = e.roots
		runHandshakes(b, e.addr, cfg)
	})

	// The same with a 1,000,000-entry CRL of the client's issuer B.
	b.Run("edge-verify-1M-CRL", func(b *testing.B) {
		crlPath := filepath.Join(b.TempDir(), "big.crl")
		testutil.WriteFile(b, crlPath, bigCRL(b, seed.B, 1_000_000))
		e := startEdge(b, seed, listenerYAML{mtls: verifyMTLS, crls: []string{crlPath}, storeExtra: []string{"max_revocation_entries: 2000000"}})
		defer e.stop()
		cfg := client.Clone()
		cfg.RootCAs = e.roots
		runHandshakes(b, e.addr, cfg)
	})
}

// bigCRL returns a PEM CRL of ca with n random serials.
func bigCRL(b *testing.B, ca *pki.CA, n int) []byte {
	now := time.Now()
	entries := make([]x509.RevocationListEntry, n)
	for i := range entries {
		s := make([]byte, 16)
		rand.Read(s)
		entries[i] = x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(s), RevocationTime: now}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: entries}, ca.Cert, ca.Key)
	if err != nil {
		b.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

func runHandshakes(b *testing.B, addr string, cfg *tls.Config) {
	req := []byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	b.ReportAllocs()
	b.SetParallelism(4) // enough concurrent clients to keep both cores busy
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := tls.Dial("tcp", addr, cfg)
			if err != nil {
				panic(err)
			}
			c.Write(req)
			n, _ := io.Copy(io.Discard, c)
			c.Close()
			if n == 0 {
				panic(fmt.Sprintf("empty response from %s", addr))
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

// BenchmarkKeepAlive measures keep-alive HTTPS requests through edge (mTLS
// verify mode, connection and access logs written to files): a fixed
// response, a forward to a local upstream, and the same upstream called
// directly, sequentially (latency) and with parallel clients (requests/s).
//
//	go test -run '^$' -bench KeepAlive -benchtime 3s ./internal/server/
func BenchmarkKeepAlive(b *testing.B) {
	seed := testutil.NewSeed(b)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from upstream")
	}))
	defer up.Close()
	fixed := startEdge(b, seed, listenerYAML{mtls: verifyMTLS})
	defer fixed.stop()
	fwd := startEdge(b, seed, listenerYAML{mtls: verifyMTLS, top: "target_groups:\n  - {name: app, targets: [" + strings.TrimPrefix(up.URL, "http://") + "]}\n", defaultAction: "{type: forward, target_group: app}"})
	defer fwd.stop()

	client := func(e *edge) *http.Client {
		cfg := e.clientTLS(seed.C, nil)
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 64}}
	}
	cases := []struct {
		name string
		c    *http.Client
		url  string
	}{
		{"direct-upstream", &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, up.URL + "/"},
		{"edge-forward", client(fwd), "https://" + fwd.addr + "/"},
		{"edge-fixed-response", client(fixed), "https://" + fixed.addr + "/"},
	}
	get := func(b *testing.B, c *http.Client, url string) {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, tc := range cases {
		b.Run("latency/"+tc.name, func(b *testing.B) {
			get(b, tc.c, tc.url) // warm the connection
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				get(b, tc.c, tc.url)
			}
		})
	}
	for _, tc := range cases {
		b.Run("parallel/"+tc.name, func(b *testing.B) {
			b.SetParallelism(8)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := tc.c.Get(tc.url)
					if err != nil {
						panic(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
		})
	}
}
