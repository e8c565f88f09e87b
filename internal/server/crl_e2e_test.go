package server_test

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"testing"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// The CRL tutorial, end to end: openssl revokes a client and an
// intermediate; the CRLs (PEM, as ALB takes them) go into the trust store; the
// revoked clients are refused during the handshake and the rest keep
// working.
func TestCRLRevocationEndToEnd(t *testing.T) {
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	revoked := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "revoked"}})
	underD := seed.E // D is revoked by A's CRL
	bPEM, _ := testutil.OpenSSLCRL(t, dir, "b-crl", seed.B, revoked.Cert)
	aPEM, _ := testutil.OpenSSLCRL(t, dir, "a-crl", seed.A, seed.D.Cert)

	{
		e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, crls: []string{bPEM, aPEM}})
		cases := []struct {
			name string
			is   *pki.Issued
			want string
		}{
			{"revoked leaf", revoked, "Failed:ClientCertCrlHit"},
			{"leaf under revoked intermediate", underD, "Failed:ClientCertCrlHit"},
			{"unrevoked sibling", seed.C, "Success"},
		}
		ports := map[string]string{}
		for _, c := range cases {
			conn, err := tls.Dial("tcp", e.addr, e.clientTLS(c.is, nil))
			if err != nil {
				if c.want == "Success" {
					t.Fatalf("%s: %v", c.name, err)
				}
				continue
			}
			_, port, _ := net.SplitHostPort(conn.LocalAddr().String())
			ports[c.name] = port
			fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
			resp, err := io.ReadAll(conn)
			conn.Close()
			gotResponse := err == nil && len(resp) > 0
			if wantResponse := c.want == "Success"; gotResponse != wantResponse {
				t.Errorf("%s: HTTP response received = %v (%v); want %v", c.name, gotResponse, err, wantResponse)
			}
		}
		lines := e.byPort()
		for _, c := range cases {
			line, ok := lines[ports[c.name]]
			if !ok {
				t.Errorf("%s: no connection-log line", c.name)
				continue
			}
			checkLine(t, line, certFields(c.is, map[string]string{"tls_verify_status": c.want}))
		}
	}
}
