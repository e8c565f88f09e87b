package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"edge/internal/testutil"
)

// served is an `edge serve` process under test.
type served struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	// listener0 is the first listener's host:port; admin the admin URL.
	listener0, admin string
}

func (s *served) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// waitLog waits until stderr contains want.
func (s *served) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr never said %q:\n%s", want, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveIn starts `sh -c SHELL` in dir, where SHELL runs the edge binary
// (as "$EDGE"), and waits for its ready line.
func serveIn(t *testing.T, dir, shell string) *served {
	t.Helper()
	s := &served{cmd: exec.Command("sh", "-c", shell)}
	s.cmd.Dir = dir
	s.cmd.Env = append(s.cmd.Environ(), "EDGE="+edgeBin)
	pr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			t.Errorf("edge did not exit within 15 s of SIGTERM")
		}
	})
	listenRe := regexp.MustCompile(`msg=listening listener=0 url=https?://[^:/]+:(\d+)/`)
	adminRe := regexp.MustCompile(`msg="admin API" url=(http://[^ ]+/)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.stderr.WriteString(line + "\n")
		s.mu.Unlock()
		if m := listenRe.FindStringSubmatch(line); m != nil {
			s.listener0 = "127.0.0.1:" + m[1]
		}
		if m := adminRe.FindStringSubmatch(line); m != nil {
			s.admin = m[1]
		}
		if strings.Contains(line, "msg=ready") || strings.HasPrefix(line, "edge is ready") {
			break
		}
	}
	go func() {
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	if s.listener0 == "" {
		t.Fatalf("edge did not start:\n%s", s.log())
	}
	return s
}

// adminGet makes one admin request with token ("" sends none).
func adminGet(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Hundreds of idle keep-alive connections to the admin listener, with
// edge limited to 96 file descriptors: the admin listener keeps at most
// its cap open, the data plane keeps serving handshakes, and the admin
// API still answers a new client.
func TestAdminFloodDoesNotStarveListeners(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: 0")
	edit(t, dir, "name: my-alb\n", "name: my-alb\nadmin: {listen: \"127.0.0.1:0\"}\n")
	s := serveIn(t, dir, `ulimit -n 96 && exec "$EDGE" serve -c edge.yaml`)
	if s.admin == "" {
		t.Fatalf("no admin URL logged:\n%s", s.log())
	}
	adminAddr := strings.TrimSuffix(strings.TrimPrefix(s.admin, "http://"), "/")
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for i := 0; i < 300; i++ {
		c, err := net.DialTimeout("tcp", adminAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("admin connection %d: %v", i, err)
		}
		flood = append(flood, c)
		// One unauthenticated request each, then idle keep-alive.
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, c := range flood {
		c.SetReadDeadline(deadline)
		c.Read(make([]byte, 512))
	}
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{seed.C.TLSCertificate()}}
	failed := 0
	for i := 0; i < 20; i++ {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.listener0, cfg)
		if err != nil {
			failed++
			continue
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		if b, _ := io.ReadAll(c); !bytes.HasPrefix(b, []byte("HTTP/1.1 200")) {
			failed++
		}
		c.Close()
	}
	if failed > 0 {
		t.Errorf("%d of 20 data-plane requests failed during the admin flood", failed)
	}
	open := 0
	for _, c := range flood {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && isTimeout(err) {
			open++
		}
	}
	t.Logf("%d of 300 flood connections still open; %d of 20 data-plane requests failed", open, failed)
	if open > 32 {
		t.Errorf("the admin listener holds %d idle connections; want at most 32", open)
	}
	if code := adminGet(t, s.admin+"healthz", ""); code != 200 {
		t.Errorf("a new admin client during the flood: %d", code)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Rotating admin.token by reload: the old token gets 401, the new one
// works, and the log says so. A changed admin.listen cannot apply without
// a restart: the reload says so and the admin API stays where it was.
func TestAdminTokenRotationByReload(t *testing.T) {
	dir := t.TempDir()
	checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: 0")
	edit(t, dir, "name: my-alb\n", "name: my-alb\nadmin: {listen: \"127.0.0.1:0\", token: old-token}\n")
	s := serveIn(t, dir, `exec "$EDGE" serve -c edge.yaml`)
	url := s.admin + "trust-stores"
	if code := adminGet(t, url, "old-token"); code != 200 {
		t.Fatalf("old token before the rotation: %d", code)
	}
	edit(t, dir, "token: old-token", "token: new-token")
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(t, "admin.token changed")
	if code := adminGet(t, url, "old-token"); code != 401 {
		t.Errorf("old token after the rotation: %d; want 401", code)
	}
	if code := adminGet(t, url, "new-token"); code != 200 {
		t.Errorf("new token after the rotation: %d; want 200", code)
	}
	edit(t, dir, `listen: "127.0.0.1:0"`, fmt.Sprintf("listen: \"127.0.0.1:%d\"", freePortNumber(t)))
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(t, "admin.listen changed; restart edge to apply it")
	if code := adminGet(t, url, "new-token"); code != 200 {
		t.Errorf("admin API after an admin.listen change: %d; want it still served on its address", code)
	}
}

func freePortNumber(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// readyDoc is the --ready-file document as a harness reads it.
type readyDoc struct {
	PID       int `json:"pid"`
	Listeners []struct {
		Index       int    `json:"index"`
		URL         string `json:"url"`
		Protocol    string `json:"protocol"`
		Address     string `json:"address"`
		Port        int    `json:"port"`
		Mode        string `json:"mode"`
		TrustStore  string `json:"trust_store"`
		ListenerArn string `json:"listener_arn"`
	} `json:"listeners"`
	AdminURL       string  `json:"admin_url"`
	AWSEndpointURL *string `json:"aws_endpoint_url"`
}

// waitReady polls path until it holds a document for which ok is true.
func waitReady(t *testing.T, path string, ok func(*readyDoc) bool) *readyDoc {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(path)
		if err == nil {
			last = string(data)
			var d readyDoc
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatalf("ready file is not JSON (a partial write?): %v\n%s", err, data)
			}
			if ok(&d) {
				return &d
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("ready file %s never became as wanted; last:\n%s", path, last)
	return nil
}

const readyConfig = `name: ready
admin: {listen: "127.0.0.1:0"}
logs: {connection: "off", access: "off"}
trust_stores:
  - {name: store, ca_certificates_bundle: bundle.pem}
listeners:
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key}], mutual_authentication: {mode: verify, trust_store: store},
     default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: verify}}]}
  - {port: 0, certificates: [{certificate: server.pem, private_key: server.key}],
     default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: "off"}}]}
  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", message_body: http}}]}
`

// edge serve --ready-file with three port-0 listeners: the file appears
// once everything is bound, names each listener's own port, mode and URL
// and the admin URL; a reload that binds a new port logs it and rewrites
// the file; SIGTERM removes it.
func TestServeReadyFile(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(readyConfig))
	ready := filepath.Join(dir, "ready.json")
	testutil.WriteFile(t, ready, []byte(`{"stale": true}`))
	s := serveIn(t, dir, `exec "$EDGE" serve -c edge.yaml --ready-file ready.json`)
	d := waitReady(t, ready, func(d *readyDoc) bool { return len(d.Listeners) == 3 })
	if d.PID != s.cmd.Process.Pid {
		t.Errorf("pid %d; want %d", d.PID, s.cmd.Process.Pid)
	}
	if d.AdminURL == "" || d.AdminURL != s.admin {
		t.Errorf("admin_url %q; want %q", d.AdminURL, s.admin)
	}
	if d.AWSEndpointURL != nil {
		t.Errorf("aws_endpoint_url %q; want null (reserved)", *d.AWSEndpointURL)
	}
	ports := map[int]bool{}
	wantModes := []string{"verify", "off", "off"}
	for i, l := range d.Listeners {
		ports[l.Port] = true
		if l.Index != i || l.Port == 0 || l.Mode != wantModes[i] || l.URL != fmt.Sprintf("%s://127.0.0.1:%d/", strings.ToLower(l.Protocol), l.Port) {
			t.Errorf("listener %d: %+v", i, l)
		}
	}
	if len(ports) != 3 {
		t.Errorf("three port-0 listeners share ports: %+v", d.Listeners)
	}
	if d.Listeners[0].TrustStore != "store" {
		t.Errorf("verify listener's trust store %q", d.Listeners[0].TrustStore)
	}
	noCert := &tls.Config{InsecureSkipVerify: true}
	if c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Listeners[0].Port), noCert); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if b, _ := io.ReadAll(c); len(b) > 0 {
			t.Errorf("the verify listener answered a client without a certificate: %q", b)
		}
		c.Close()
	}
	withCert := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{seed.C.TLSCertificate()}}
	for i, want := range []string{"verify", "off"} {
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Listeners[i].Port), withCert)
		if err != nil {
			t.Fatalf("listener %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if b, _ := io.ReadAll(c); !strings.HasSuffix(string(b), want) {
			t.Errorf("listener %d answered %q; want %q", i, b, want)
		}
		c.Close()
	}
	if code := adminGet(t, d.AdminURL+"healthz", ""); code != 200 {
		t.Errorf("admin from the ready file: %d", code)
	}

	// A reload adding a fourth port-0 listener.
	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(readyConfig+
		"  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\", message_body: new}}]}\n"))
	s.cmd.Process.Signal(syscall.SIGHUP)
	d2 := waitReady(t, ready, func(d *readyDoc) bool { return len(d.Listeners) == 4 })
	for i := 0; i < 3; i++ {
		if d2.Listeners[i].Port != d.Listeners[i].Port {
			t.Errorf("listener %d moved from %d to %d on a reload that did not change it", i, d.Listeners[i].Port, d2.Listeners[i].Port)
		}
	}
	s.waitLog(t, fmt.Sprintf("msg=listening listener=3 url=http://127.0.0.1:%d/", d2.Listeners[3].Port))
	s.waitLog(t, "msg=\"ready file rewritten\"")

	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	if _, err := os.Stat(ready); err == nil {
		t.Error("the ready file outlived edge")
	}
}

// --port and --address override the only listener of a configuration; a
// configuration with several listeners is a usage error.
func TestServePortOverride(t *testing.T) {
	dir := t.TempDir()
	checkFixture(t, dir)
	serveIn(t, dir, `exec "$EDGE" serve -c edge.yaml --port 0 --address 127.0.0.1 --ready-file r.json`)
	d := waitReady(t, filepath.Join(dir, "r.json"), func(d *readyDoc) bool { return len(d.Listeners) == 1 })
	if l := d.Listeners[0]; l.Port == 0 || l.Port == 18443 || l.Address != "127.0.0.1" || l.Mode != "verify" {
		t.Errorf("overridden listener: %+v; want a free port instead of the file's 18443", l)
	}

	testutil.WriteFile(t, filepath.Join(dir, "edge.yaml"), []byte(readyConfig))
	_, errOut, code := runEdge(t, dir, "serve", "-c", "edge.yaml", "--port", "0")
	if code != 2 || !strings.Contains(errOut, "--port and --address apply to a configuration with one listener") || !strings.Contains(errOut, "has 3") {
		t.Errorf("--port with three listeners: exit %d, %q; want 2 and the reason", code, errOut)
	}
}

// The quick start writes the ready file too, with its AWS endpoint.
func TestQuickStartReadyFile(t *testing.T) {
	dir := t.TempDir()
	s := serveIn(t, dir, `exec "$EDGE" --port 0 --aws 127.0.0.1:0 --ready-file ready.json`)
	d := waitReady(t, filepath.Join(dir, "ready.json"), func(d *readyDoc) bool { return len(d.Listeners) == 1 })
	l := d.Listeners[0]
	if l.Mode != "verify" || l.URL != fmt.Sprintf("https://localhost:%d/", l.Port) || s.listener0 != fmt.Sprintf("127.0.0.1:%d", l.Port) {
		t.Errorf("quick-start listener %+v (logged %s)", l, s.listener0)
	}
	if u := d.AWSEndpointURL; u == nil || !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`).MatchString(*u) {
		t.Errorf("aws_endpoint_url %v; want http://127.0.0.1:PORT", u)
	} else if !strings.Contains(s.log(), "url="+*u) {
		t.Errorf("the log does not name the endpoint %s:\n%s", *u, s.log())
	}
}
