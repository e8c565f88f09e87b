package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/pki"
	"edge/internal/testutil"
)

// The reliability suite: bounded, loopback only. Run it alone with
//
//	go test -run Reliability ./internal/server/

// 10,000 connections from a mix of clients: each has exactly one
// connection-log line with the verdict its certificate deserves, and
// every request exactly one access-log line.
func TestReliabilityMixedConnections(t *testing.T) {
	seed := testutil.NewSeed(t)
	revoked := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "revoked"}})
	expired := testutil.Client(t, seed.B, testutil.Expired("expired"))
	dir := t.TempDir()
	crl, _ := testutil.OpenSSLCRL(t, dir, "b", seed.B, revoked.Cert)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, crls: []string{crl}})
	kinds := []struct {
		is   *pki.Issued
		want string
	}{
		{seed.C, "Success"}, {seed.C, "Success"}, {seed.C, "Success"}, {seed.E, "Success"},
		{seed.H, "Failed:ClientCertUntrusted"}, {revoked, "Failed:ClientCertCrlHit"}, {expired, "Failed:ClientCertExpired"}, {nil, "Failed:UnmappedConnectionError"},
	}
	const n, workers = 10_000, 16
	type sent struct{ port, want string }
	results := make(chan sent, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	ok := 0
	jobs := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfgs := make([]*tls.Config, len(kinds))
			for i, k := range kinds {
				cfgs[i] = e.clientTLS(k.is, nil)
			}
			for j := range jobs {
				k := j % len(kinds)
				c, err := tls.Dial("tcp", e.addr, cfgs[k])
				if err != nil {
					if kinds[k].want == "Success" {
						mu.Lock()
						errs = append(errs, err.Error())
						mu.Unlock()
					}
					continue // the port is unknown: counted below by totals
				}
				_, port, _ := net.SplitHostPort(c.LocalAddr().String())
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
				b, _ := io.ReadAll(c)
				c.Close()
				got := bytes.HasPrefix(b, []byte("HTTP/1.1 200"))
				if got != (kinds[k].want == "Success") {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s client: response %v", kinds[k].want, got))
					mu.Unlock()
				}
				if got {
					mu.Lock()
					ok++
					mu.Unlock()
				}
				results <- sent{port, kinds[k].want}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(results)
	if len(errs) > 0 {
		t.Errorf("%d unexpected errors, e.g. %s", len(errs), errs[0])
	}
	conns, access := e.lines(), e.accessLines()
	// Client ports are reused within a run this long: match each client
	// with one line of its port that carries the expected status.
	byPort := map[string][]string{}
	count := map[string]int{}
	for _, l := range conns {
		f := testutil.ParseConnLine(l)
		if f == nil {
			t.Fatalf("malformed line %q", l)
		}
		byPort[f["client_port"]] = append(byPort[f["client_port"]], f["tls_verify_status"])
		count[f["tls_verify_status"]]++
	}
	mismatch := 0
	for r := range results {
		list := byPort[r.port]
		found := false
		for i, st := range list {
			if st == r.want {
				byPort[r.port] = append(list[:i], list[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			mismatch++
		}
	}
	if mismatch > 0 {
		t.Errorf("%d clients have no connection-log line with the status they deserve", mismatch)
	}
	for _, k := range kinds {
		want := n / len(kinds)
		if k.want == "Success" {
			want = n / len(kinds) * 4
		}
		if count[k.want] != want {
			t.Errorf("%d lines with %s; want %d", count[k.want], k.want, want)
		}
	}
	t.Logf("%d connections: %v; %d requests answered, %d access lines", len(conns), count, ok, len(access))
	if len(conns) != n {
		t.Errorf("%d connection-log lines for %d connections", len(conns), n)
	}
	if len(access) != ok {
		t.Errorf("%d access-log lines for %d requests", len(access), ok)
	}
}

// Slowloris: 500 connections stalled mid-handshake or mid-headers do not
// stop a normal client, and the timeouts close them.
func TestReliabilitySlowloris(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, top: "client_handshake_timeout_seconds: 2\nclient_header_timeout_seconds: 2\n"})
	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for i := 0; i < 250; i++ { // mid-handshake: half a ClientHello
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03})
		stalled = append(stalled, c)
	}
	for i := 0; i < 250; i++ { // mid-headers: a handshake, then half a request
		c, err := tls.Dial("tcp", e.addr, e.clientTLS(seed.C, nil))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: local")
		stalled = append(stalled, c)
	}
	start := time.Now()
	if !handshake(e.addr, e.clientTLS(seed.C, nil)) {
		t.Fatal("a normal client was not served while 500 connections stalled")
	}
	t.Logf("normal client served in %v with 500 stalled connections", time.Since(start).Round(time.Millisecond))
	// The stalled connections are closed by the timeouts.
	time.Sleep(2500 * time.Millisecond)
	closed := 0
	for _, c := range stalled {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			closed++
		}
	}
	if closed < 490 {
		t.Errorf("only %d of 500 stalled connections were closed by the timeouts", closed)
	}
	t.Logf("%d of 500 stalled connections closed by the 2 s timeouts", closed)
	lines := e.lines()
	unmapped := 0
	for _, l := range lines {
		if strings.Contains(l, " Failed:UnmappedConnectionError ") {
			unmapped++
		}
	}
	if unmapped != 250 {
		t.Errorf("%d Unmapped lines; want one per stalled handshake (250)", unmapped)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Hostile bytes: each is logged with the right status and edge keeps
// serving.
func TestReliabilityHostileBytes(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	send := func(data []byte) {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(data)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.ReadAll(c)
		c.Close()
	}
	garbage := make([]byte, 4096)
	rand.Read(garbage)
	send(garbage)
	send([]byte{0x16, 0x03, 0x01, 0x00, 0x50, 0x01, 0x00, 0x00, 0x4c, 0x03, 0x03}) // truncated ClientHello, then EOF
	send([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))                      // HTTP to the TLS port
	// A chain of depth 10.
	ca := seed.A
	var chain []*x509.Certificate
	for i := 0; i < 9; i++ {
		ca = testutil.Intermediate(t, ca, fmt.Sprintf("deep-%d", i))
		chain = append([]*x509.Certificate{ca.Cert}, chain...)
	}
	deep := testutil.Client(t, ca, pki.Options{Subject: pkix.Name{CommonName: "depth-10"}})
	e.get(e.clientTLS(deep, append([]*x509.Certificate{deep.Cert}, chain...)))
	// 100 KB chain.
	huge := testutil.Client(t, seed.B, pki.Options{Subject: pkix.Name{CommonName: "huge", OrganizationalUnit: []string{strings.Repeat("u", 20000)}}})
	e.get(e.clientTLS(huge, []*x509.Certificate{huge.Cert, huge.Cert, huge.Cert, huge.Cert, huge.Cert}))
	if !handshake(e.addr, e.clientTLS(seed.C, nil)) {
		t.Fatal("edge stopped serving after hostile input")
	}
	lines := e.lines()
	want := []string{"Failed:UnmappedConnectionError", "Failed:UnmappedConnectionError", "Failed:UnmappedConnectionError", "Failed:ClientCertMaxChainDepthExceeded", "Failed:ClientCertMaxSizeExceeded", "Success"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines; want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	// A failed handshake's line can land after the next connection's: the
	// client sees the alert before the server logs. Compare as sets.
	var got []string
	for _, l := range lines {
		got = append(got, testutil.ParseConnLine(l)["tls_verify_status"])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v; want %v", got, want)
	}

	// TLS sent to an HTTP listener: answered with 400, logged, still serving.
	h := startEdge(t, seed, listenerYAML{protocol: "HTTP"})
	c, _ := tls.Dial("tcp", h.addr, &tls.Config{InsecureSkipVerify: true})
	if c != nil {
		c.Close()
	}
	resp, err := http.Get("http://" + h.addr + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP listener after a TLS ClientHello: %v", err)
	}
	resp.Body.Close()
	if n := len(h.lines()); n != 2 {
		t.Errorf("HTTP listener logged %d connections; want 2", n)
	}
}

// Faults: a target that drops the connection → 502; a target that stalls
// → 504 after the idle timeout; a log destination that fails → edge keeps
// serving and counts the lost lines.
func TestReliabilityFaults(t *testing.T) {
	seed := testutil.NewSeed(t)
	dropper, _ := net.Listen("tcp", "127.0.0.1:0")
	defer dropper.Close()
	go func() {
		for {
			c, err := dropper.Accept()
			if err != nil {
				return
			}
			go func() { // read the request, then die mid-exchange
				c.Read(make([]byte, 4096))
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}()
		}
	}()
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer stall.Close()
	top := "idle_timeout_seconds: 1\ntarget_groups:\n" + tgYAML("dropper", dropper.Addr().String()) + tgYAML("slow", strings.TrimPrefix(stall.URL, "http://"))
	rules := `[{priority: 1, conditions: [{field: path-pattern, values: ["/drop"]}], actions: [{type: forward, target_group: dropper}]},
	  {priority: 2, conditions: [{field: path-pattern, values: ["/slow"]}], actions: [{type: forward, target_group: slow}]}]`
	// The connection log goes to /dev/full: every write fails (disk full).
	e := startEdge(t, seed, listenerYAML{top: top, rules: rules, logs: "{connection: file:/dev/full, access: file:access.log}"})
	adm := httptest.NewServer(admin.Handler(e.srv, ""))
	defer adm.Close()
	if resp, _ := e.request(t, e.clientTLS(nil, nil), "GET", "/drop", nil); resp.StatusCode != 502 {
		t.Errorf("target dropped the connection: %d; want 502", resp.StatusCode)
	}
	if resp, _ := e.request(t, e.clientTLS(nil, nil), "GET", "/slow", nil); resp.StatusCode != 504 {
		t.Errorf("target stalled: %d; want 504", resp.StatusCode)
	}
	if resp, body := e.request(t, e.clientTLS(nil, nil), "GET", "/", nil); resp.StatusCode != 200 || body != "hello from edge" {
		t.Errorf("edge stopped serving with a failing log destination: %d", resp.StatusCode)
	}
	time.Sleep(100 * time.Millisecond) // let the log writer fail
	resp, _ := http.Get(adm.URL + "/metrics")
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `edge_log_lines_dropped_total{log="connection"} 3`) {
		t.Errorf("lost connection-log lines not counted:\n%s", grepLines(string(m), "edge_log_lines_dropped"))
	}
	access := e.accessLines()
	if len(access) != 3 {
		t.Fatalf("%d access lines; want 3", len(access))
	}
	checkAccess(t, access[0], map[string]string{"elb_status_code": "502", "target_status_code": "-"})
	checkAccess(t, access[1], map[string]string{"elb_status_code": "504", "target_status_code": "-"})
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
