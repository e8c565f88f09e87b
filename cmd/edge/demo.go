package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"edge/internal/certfmt"
	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
)

// demoClient is one client of the trust-store experiment.
type demoClient struct {
	file, cn, ca, chain, expected string
}

var demoClients = []demoClient{
	{"user2", "User2", "B", "A-B-C", "Success"},
	{"darkuser", "DarkUser", "D", "A-D-E (client sends D)", "Success"},
	{"alt-user", "Alt User", "G", "F-G-H", "Failed:ClientCertUntrusted"},
	{"revoked-user", "Revoked User", "B", "A-B, revoked by B's CRL", "Failed:ClientCertCrlHit"},
	{"expired-user", "Expired User", "B", "A-B, expired yesterday", "Failed:ClientCertExpired"},
}

const demoConfig = `# Written by edge demo. Run it with: edge serve -c edge.yaml
name: demo
logs:
  connection: stdout
  access: stdout
trust_stores:
  - name: demo-store
    ca_certificates_bundle: bundle.pem   # root A and intermediate B
    revocations: [B.crl.pem]
listeners:
  - port: 8443
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates:
      - {certificate: server.pem, private_key: server.key, certificate_chain: server-chain.pem}
    mutual_authentication: {mode: verify, trust_store: demo-store}
    default_actions:
      - type: fixed-response
        fixed_response_config: {status_code: "200", content_type: text/plain, message_body: "hello from the demo"}
`

var demoCmd = &command{
	name:  "demo",
	args:  "[--api-gateway] [--keep DIR]",
	short: "the trust-store experiment end to end on loopback",
	long: `Builds a PKI of three CA trees, a trust store of root A and intermediate B
with B's CRL, and a verify-mode listener on a free loopback port, then
connects with five clients (trusted, cross-chain, untrusted, revoked,
expired) and prints one row per client with the HTTP outcome and its
connection-log line. Exit 1 if any row differs from what ALB would log.
--keep DIR keeps the PKI and an edge.yaml to continue with edge serve; a DIR
that already holds an edge.yaml is left alone unless --force is given.

--api-gateway replays the API Gateway custom-domain walkthrough instead: a
root CA and an intermediate, a server certificate with its chain, a
truststore uploaded to a versioned bucket of the embedded S3 store, a REST
API proxying to a local target, a REGIONAL domain with mutual TLS pinned to
that version; then requests with and without the client certificate, and a
new truststore version that takes effect only after update-domain-name.
It prints each command and answer, then one row per request.`,
	examples: []string{"edge demo", "edge demo --keep demo   # then: cd demo && edge serve -c edge.yaml", "edge demo --api-gateway --keep apigw"},
	flags: func(fs *flag.FlagSet, cio *cmdIO) runFunc {
		keep := fs.String("keep", "", "keep the PKI and edge.yaml in `DIR`")
		apiGW := fs.Bool("api-gateway", false, "replay the API Gateway custom-domain mTLS walkthrough instead")
		force := forceFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *keep != "" && !*force {
				if _, err := os.Stat(filepath.Join(*keep, "edge.yaml")); err == nil {
					fmt.Fprintf(cio.stderr, "edge demo: %s already holds an edge.yaml (an earlier demo, or your own): use another DIR, or --force to overwrite it\n", *keep)
					return errReported
				}
			}
			if *apiGW {
				return fromCode(demoAPIGateway(ctx, *keep, cio.stdout, cio.stderr))
			}
			return fromCode(demo(ctx, *keep, cio.stdout, cio.stderr))
		}
	},
}

func demo(ctx context.Context, keep string, stdout, stderr io.Writer) int {
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "edge-demo-")
		if err != nil {
			fmt.Fprintf(stderr, "edge demo: %v\n", err)
			return exitFail
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if err := demoPKI(dir); err != nil {
		fmt.Fprintf(stderr, "edge demo: %v\n", err)
		return exitFail
	}
	cfg, err := config.Parse([]byte(demoConfig), filepath.Join(dir, "edge.yaml"))
	if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	if err := pki.WriteFile(filepath.Join(dir, "edge.yaml"), []byte(demoConfig), false, true); err != nil {
		fmt.Fprintf(stderr, "edge demo: %v\n", err)
		return exitFail
	}
	// The demo itself listens on a free port and keeps the connection
	// log in a file it reads back. Paths put into the parsed
	// configuration are relative to its directory, like the file's own:
	// resolved once, by the build.
	zero, connLog := 0, "file:demo-conn.log"
	os.Remove(filepath.Join(dir, "demo-conn.log")) // this run's lines only
	off := "off"
	cfg.Listeners[0].Port = &zero
	cfg.Logs.Connection, cfg.Logs.Access = &connLog, &off
	snap, err := server.Build(cfg, server.Options{})
	if err != nil {
		printProblems(stderr, err)
		return exitFail
	}
	srv, err := server.Start(snap, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintf(stderr, "edge demo: %v\n", err)
		return exitFail
	}
	addr := srv.Addrs()[0].String()
	roots := x509.NewCertPool()
	rootA, _ := pki.Load(dir, "A")
	roots.AddCert(rootA.Cert)

	type outcome struct{ http, port string }
	results := make([]outcome, len(demoClients))
	for i, c := range demoClients {
		results[i] = demoConnect(addr, roots, dir, c.file)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	srv.Shutdown(sctx)
	cancel()
	lines := readConnLines(filepath.Join(dir, "demo-conn.log"))

	fmt.Fprintf(stdout, "edge demo: trust store = root A + intermediate B (bundle.pem), B's CRL revokes one client; listener in verify mode on %s\n\n", addr)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tCHAIN\tEXPECTED\tHTTP\tCONNECTION LOG (subject, tls_verify_status, conn_trace_id)")
	ok := true
	for i, c := range demoClients {
		f := lines[results[i].port]
		got := "(no line)"
		if f != nil {
			got = fmt.Sprintf("%q %s %s", f[0], f[1], f[2])
		}
		mark := ""
		if f == nil || f[1] != c.expected {
			ok, mark = false, "  <- unexpected"
		}
		fmt.Fprintf(tw, "CN=%s\t%s\t%s\t%s\t%s%s\n", c.cn, c.chain, c.expected, results[i].http, got, mark)
	}
	tw.Flush()
	if keep != "" {
		fmt.Fprintf(stdout, "\nPKI and configuration kept in %s. Continue with:\n  edge serve -c %s\n  curl --cert %s --key %s --cacert %s https://localhost:8443/\n",
			dir, shellQuote(filepath.Join(dir, "edge.yaml")), shellQuote(filepath.Join(dir, pki.FullChainFile("user2"))), shellQuote(filepath.Join(dir, pki.KeyFile("user2"))), shellQuote(filepath.Join(dir, pki.CertFile("A"))))
	}
	if !ok {
		return exitFail
	}
	return exitOK
}

// demoPKI builds the experiment's PKI in dir.
func demoPKI(dir string) error {
	d := &pki.Dir{Path: dir, Force: true}
	for _, ca := range []struct{ name, parent string }{{"A", ""}, {"B", "A"}, {"D", "A"}, {"F", ""}, {"G", "F"}} {
		cn := ca.name + " Root CA"
		if ca.parent != "" {
			cn = ca.name + " Intermediate CA"
		}
		if _, err := d.NewCA(ca.name, ca.parent, pki.Options{Subject: pki.SubjectFlags(cn, "", "edge demo", "", "", "")}); err != nil {
			return err
		}
	}
	if _, err := d.Server("server", "B", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, pki.Options{}); err != nil {
		return err
	}
	for _, c := range demoClients {
		o := pki.Options{Subject: pki.SubjectFlags(c.cn, "", "edge demo", "", "", "")}
		if c.file == "expired-user" {
			o.NotBefore, o.NotAfter = time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour)
		}
		is, err := d.Client(c.file, c.ca, pki.PKCS12Options{Password: "edge"}, o)
		if err != nil {
			return err
		}
		if c.file == "revoked-user" {
			if err := d.Revoke("B", certfmt.Serial(is.Cert), "keyCompromise", 30*24*time.Hour); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "B.crl.pem")); err != nil {
		if _, err := d.CRL("B", 30*24*time.Hour); err != nil {
			return err
		}
	}
	return d.Bundle(filepath.Join(dir, "bundle.pem"), "A", "B")
}

// demoConnect makes one request with the client's chain and key and
// returns the HTTP outcome and the client's port.
func demoConnect(addr string, roots *x509.CertPool, dir, file string) (out struct{ http, port string }) {
	tc, err := tls.LoadX509KeyPair(filepath.Join(dir, pki.FullChainFile(file)), filepath.Join(dir, pki.KeyFile(file)))
	if err != nil {
		out.http = "error: " + err.Error()
		return out
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{tc}})
	if err != nil {
		out.http = "handshake failed"
		return out
	}
	defer conn.Close()
	_, out.port, _ = net.SplitHostPort(conn.LocalAddr().String())
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		out.http = "handshake failed" // TLS 1.3: the server's reset (or alert) arrives here
		return out
	}
	resp.Body.Close()
	out.http = resp.Status
	return out
}

// readConnLines maps client port to (subject, status, trace id).
func readConnLines(path string) map[string][]string {
	out := map[string][]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		open := strings.Index(line, ` "`)
		closeQ := strings.Index(line, `" `)
		if open < 0 || closeQ < open {
			continue
		}
		head := strings.Fields(line[:open])
		tail := strings.Fields(line[closeQ+2:])
		if len(head) < 3 || len(tail) < 4 {
			continue
		}
		out[head[2]] = []string{line[open+2 : closeQ], tail[2], tail[3]}
	}
	return out
}
