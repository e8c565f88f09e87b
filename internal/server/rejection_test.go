package server_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/pki"
	"edge/internal/testutil"
)

// rejectionRuns is how many times each client meets each rejection: the
// outcome a client shows must be the same every time.
const rejectionRuns = 20

// rejectionCase is one refused client, at one TLS version.
type rejectionCase struct {
	name    string
	version string // "1.2" or "1.3"
	cert    *pki.Issued
	status  string // the connection log's tls_verify_status
	alert   string // the alert description the opt-in sends, as OpenSSL and Go name it
}

// rejectionClient is a real client that connects once and reports what
// its user sees, with addresses and process-specific numbers removed.
type rejectionClient struct {
	name string
	run  func(t *testing.T, w *rejectionWorld, c rejectionCase) string
	// reset and alert say whether an outcome shows a TCP reset or the
	// alert (by its name).
	reset func(out string) bool
	alert func(out, name string) bool
}

// rejectionWorld is the running edge and the client files.
type rejectionWorld struct {
	e                  *edge
	dir, root, resolve string
	url                string
	certs              map[*pki.Issued][2]string
}

var (
	addrRE  = regexp.MustCompile(`(127\.0\.0\.1|localhost):[0-9]+`)
	errIDRE = regexp.MustCompile(`^[0-9A-F]+:error:`)
)

func normalize(s string) string { return addrRE.ReplaceAllString(strings.TrimSpace(s), "$1:PORT") }

// curlClient runs curl with --http1.1 or --http2.
func curlClient(proto string) rejectionClient {
	return rejectionClient{
		name: "curl " + proto,
		run: func(t *testing.T, w *rejectionWorld, c rejectionCase) string {
			args := []string{"-sS", "--max-time", "10", "--resolve", w.resolve, "--cacert", w.root, proto}
			if c.version == "1.2" {
				args = append(args, "--tlsv1.2", "--tls-max", "1.2")
			} else {
				args = append(args, "--tlsv1.3")
			}
			if c.cert != nil {
				f := w.certs[c.cert]
				args = append(args, "--cert", f[0], "--key", f[1])
			}
			out, err := exec.Command("curl", append(args, w.url)...).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				return "curl: " + err.Error()
			}
			return fmt.Sprintf("exit %d: %s", code, normalize(string(out)))
		},
		reset: func(out string) bool {
			return strings.Contains(out, "Connection reset by peer") || strings.Contains(out, "SSL_ERROR_SYSCALL")
		},
		alert: func(out, name string) bool { return strings.Contains(out, "alert "+name) },
	}
}

// sClient runs openssl s_client with stdin held open, as a user typing
// would, and reports its error lines.
var sClient = rejectionClient{
	name: "openssl s_client",
	run: func(t *testing.T, w *rejectionWorld, c rejectionCase) string {
		args := []string{"s_client", "-connect", w.e.addr, "-servername", "localhost", "-CAfile", w.root, "-tls" + strings.ReplaceAll(c.version, ".", "_")}
		if c.cert != nil {
			f := w.certs[c.cert]
			args = append(args, "-cert", f[0], "-key", f[1])
		}
		stdin, keep, err := os.Pipe()
		if err != nil {
			return "pipe: " + err.Error()
		}
		defer stdin.Close()
		defer keep.Close()
		cmd := exec.Command("openssl", args...)
		cmd.Stdin = stdin
		done := make(chan struct{})
		timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		var out []byte
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		<-done
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		var errs []string
		for _, l := range strings.Split(string(out), "\n") {
			l = strings.TrimSpace(l)
			if errIDRE.MatchString(l) || strings.Contains(l, "errno=") {
				// Drop the thread id and OpenSSL's source positions.
				l = errIDRE.ReplaceAllString(l, "error:")
				if i := strings.Index(l, ":../"); i >= 0 {
					l = l[:i]
				}
				errs = append(errs, l)
			}
		}
		return fmt.Sprintf("exit %d: %s", code, normalize(strings.Join(errs, " | ")))
	},
	reset: func(out string) bool { return strings.Contains(out, "errno=104") && !strings.Contains(out, "alert") },
	alert: func(out, name string) bool { return strings.Contains(out, "alert "+name) },
}

// goClient is crypto/tls: handshake, send a request, read the answer.
var goClient = rejectionClient{
	name: "Go crypto/tls",
	run: func(t *testing.T, w *rejectionWorld, c rejectionCase) string {
		cfg := w.e.clientTLS(c.cert, nil)
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
		if c.version == "1.2" {
			cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", w.e.addr, cfg)
		if err != nil {
			return "handshake: " + normalize(err.Error())
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
			return "write: " + normalize(err.Error())
		}
		_, err = conn.Read(make([]byte, 512))
		return fmt.Sprintf("read: %v", normalize(fmt.Sprint(err)))
	},
	reset: func(out string) bool { return strings.Contains(out, "connection reset by peer") },
	alert: func(out, name string) bool { return strings.Contains(out, "remote error: tls: "+name) },
}

// TestRejectionOnTheWire: in verify mode every refusal (no certificate, a
// certificate that fails verification; TLS 1.2 and 1.3) shows the same
// thing to a client every time: by default a TCP reset, as ALB and API
// Gateway do (Firefox PR_CONNECT_RESET_ERROR, curl "Connection reset by
// peer"); with tls_rejection: alert the TLS alert, readable by the client.
// Each refusal is logged with its verdict either way.
func TestRejectionOnTheWire(t *testing.T) {
	lookTool(t, "curl")
	lookTool(t, "openssl")
	seed := testutil.NewSeed(t)
	cases := []rejectionCase{
		{"no certificate", "1.3", nil, "Failed:UnmappedConnectionError", "certificate required"},
		{"no certificate", "1.2", nil, "Failed:UnmappedConnectionError", "handshake failure"},
		{"untrusted", "1.3", seed.H, "Failed:ClientCertUntrusted", "bad certificate"},
		{"untrusted", "1.2", seed.H, "Failed:ClientCertUntrusted", "bad certificate"},
	}
	clients := []rejectionClient{curlClient("--http1.1"), curlClient("--http2"), sClient, goClient}
	for _, mode := range []string{"reset", "alert"} {
		t.Run(mode, func(t *testing.T) {
			top := ""
			if mode == "alert" {
				top = "tls_rejection: alert\n"
			}
			w := &rejectionWorld{dir: t.TempDir(), certs: map[*pki.Issued][2]string{}}
			w.e = startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: top})
			w.root = w.e.writeServerRoot(t, w.dir)
			w.resolve = "localhost:" + w.e.port() + ":127.0.0.1"
			w.url = "https://localhost:" + w.e.port() + "/"
			c, k := writeClient(t, w.dir, "h", seed.H)
			w.certs[seed.H] = [2]string{c, k}

			// Every client meets every case rejectionRuns times; the
			// series run side by side, as a busy machine would.
			type series struct {
				client rejectionClient
				c      rejectionCase
				outs   map[string]int
				took   time.Duration
			}
			var all []*series
			for _, cl := range clients {
				for _, c := range cases {
					all = append(all, &series{client: cl, c: c, outs: map[string]int{}})
				}
			}
			runs := rejectionRuns
			if testing.Short() {
				runs = 5
			}
			var wg sync.WaitGroup
			sem := make(chan struct{}, 4)
			for _, s := range all {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range runs {
						sem <- struct{}{}
						start := time.Now()
						s.outs[s.client.run(t, w, s.c)]++
						s.took += time.Since(start)
						<-sem
					}
				}()
			}
			wg.Wait()
			for _, s := range all {
				name := fmt.Sprintf("%s, %s, TLS %s", s.client.name, s.c.name, s.c.version)
				if len(s.outs) != 1 {
					t.Errorf("%s: %d different outcomes in %d runs; want one:\n%s", name, len(s.outs), runs, outcomes(s.outs))
					continue
				}
				for out := range s.outs {
					switch {
					case mode == "reset" && !s.client.reset(out):
						t.Errorf("%s: %q; want a connection reset", name, out)
					case mode == "alert" && !s.client.alert(out, s.c.alert):
						t.Errorf("%s: %q; want the alert %q", name, out, s.c.alert)
					default:
						t.Logf("%s: %s (%d runs, %v each)", name, out, runs, (s.took / time.Duration(runs)).Round(time.Millisecond))
					}
				}
			}

			// One connection-log line per attempt, with its verdict.
			count := map[string]int{}
			for _, l := range w.e.lines() {
				count[testutil.ParseConnLine(l)["tls_verify_status"]]++
			}
			want := map[string]int{}
			for _, c := range cases {
				want[c.status] += len(clients) * runs
			}
			if fmt.Sprint(count) != fmt.Sprint(want) {
				t.Errorf("connection log verdicts %v; want %v", count, want)
			}
		})
	}
}

func outcomes(m map[string]int) string {
	var out []string
	for o, n := range m {
		out = append(out, fmt.Sprintf("  %2d× %s", n, o))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestVerifyAfterHelloRetryRequest: a TLS 1.3 client whose first key share
// edge does not take gets a HelloRetryRequest first; holding the end of
// the handshake (for refusals without an alert) must start only after it.
// A trusted client is served, a client without a certificate reset.
func TestVerifyAfterHelloRetryRequest(t *testing.T) {
	openssl := lookTool(t, "openssl")
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	cCert, cKey := writeClient(t, dir, "c", seed.C)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	root := e.writeServerRoot(t, dir)
	sclient := func(args ...string) string {
		// X448 first: edge offers no X448, so it asks again for X25519.
		cmd := exec.Command(openssl, append([]string{"s_client", "-connect", e.addr, "-servername", "localhost", "-CAfile", root, "-tls1_3", "-groups", "X448:X25519", "-msg", "-ign_eof"}, args...)...)
		cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := sclient("-cert", cCert, "-key", cKey)
	// openssl -msg shows the HelloRetryRequest as a first ServerHello.
	if n := len(regexp.MustCompile(`<<< TLS 1.3, Handshake \[length [0-9a-f]+\], ServerHello`).FindAllString(out, -1)); n != 2 {
		t.Fatalf("no HelloRetryRequest (%d); the test needs one:\n%s", n, out)
	}
	if !strings.Contains(out, "hello from edge") {
		t.Errorf("trusted client after a HelloRetryRequest: no response:\n%s", out)
	}
	if out := sclient(); !strings.Contains(out, "errno=104") || strings.Contains(out, "alert certificate required") {
		t.Errorf("client without a certificate after a HelloRetryRequest: want a reset, not an alert:\n%s", out)
	}
	lines := e.lines()
	if len(lines) != 2 {
		t.Fatalf("got %d lines; want 2", len(lines))
	}
	for _, want := range []map[string]string{
		certFields(seed.C, map[string]string{"tls_verify_status": "Success", "tls_keyexchange": "x25519"}),
		{"tls_verify_status": "Failed:UnmappedConnectionError", "leaf_client_cert_subject": "-", "tls_keyexchange": "x25519"},
	} {
		if findLine(lines, want) == "" {
			t.Errorf("no line with %v in:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}
