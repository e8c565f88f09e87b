package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logrotate's convention: it renames the log file, then sends SIGHUP; edge
// reopens the path, so later lines land in a new file at the old path.
func TestSIGHUPReopensLogFiles(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	edit(t, dir, "port: 18443", "port: 0")
	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stderr)
	}()
	waitLine := func(re *regexp.Regexp) []string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("edge exited while waiting for %s", re)
				}
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			case <-timeout:
				t.Fatalf("no stderr line matching %s", re)
			}
		}
	}
	port := waitLine(regexp.MustCompile(`url=https://127\.0\.0\.1:(\d+)/`))[1]
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{seed.C.TLSCertificate()}}
	connect := func() {
		t.Helper()
		c, err := tls.Dial("tcp", "127.0.0.1:"+port, cfg)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		io.ReadAll(c)
		c.Close()
	}
	logPath := filepath.Join(dir, "logs", "conn.log")
	connect()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(logPath); bytes.Count(b, []byte("\n")) == 1 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the first connection-log line was not written")
		}
	}
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(regexp.MustCompile(`configuration reloaded`))
	connect()
	connect()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	count := func(p string) int {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%v", err)
		}
		return strings.Count(string(b), " Success ")
	}
	if n := count(logPath + ".1"); n != 1 {
		t.Errorf("the rotated file has %d lines; want the 1 written before SIGHUP", n)
	}
	if n := count(logPath); n != 2 {
		t.Errorf("the new file has %d lines; want the 2 written after SIGHUP", n)
	}
}

// A crash (SIGKILL) while a dir: log file is open: every line older than
// the flush bound (1 s) decodes, and the file is valid gzip.
func TestSIGKILLKeepsDirLogsReadable(t *testing.T) {
	dir := t.TempDir()
	seed := checkFixture(t, dir)
	edit(t, dir, "  connection: file:logs/conn.log", "  connection: dir:alb-logs")
	edit(t, dir, "port: 18443", "port: 0")
	cmd := exec.Command(edgeBin, "serve", "-c", "edge.yaml")
	cmd.Dir = dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	re := regexp.MustCompile(`url=https://127\.0\.0\.1:(\d+)/`)
	sc := bufio.NewScanner(stderr)
	var port string
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
			break
		}
	}
	if port == "" {
		t.Fatal("no listening line")
	}
	go io.Copy(io.Discard, stderr)
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{seed.C.TLSCertificate()}}
	const n = 300
	for i := 0; i < n; i++ {
		c, err := tls.Dial("tcp", "127.0.0.1:"+port, cfg)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		io.ReadAll(c)
		c.Close()
	}
	time.Sleep(1500 * time.Millisecond) // past the flush bound
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "alb-logs", "AWSLogs", "*", "elasticloadbalancing", "*", "*", "*", "*", "conn_log_*.log.gz"))
	lines := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not gzip after SIGKILL: %v", f, err)
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: invalid gzip after SIGKILL: %v", f, err)
		}
		lines += strings.Count(string(text), " Success ")
	}
	if lines != n {
		t.Errorf("%d lines decoded from %d files after SIGKILL; want %d", lines, len(files), n)
	}
}
