package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
		if strings.Contains(line, "msg=ready") {
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
	edit(t, dir, `listen: "127.0.0.1:0"`, fmt.Sprintf("listen: \"127.0.0.1:%d\"", freePort(t)))
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitLog(t, "admin.listen changed; restart edge to apply it")
	if code := adminGet(t, url, "new-token"); code != 200 {
		t.Errorf("admin API after an admin.listen change: %d; want it still served on its address", code)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
