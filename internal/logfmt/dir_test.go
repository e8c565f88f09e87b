package logfmt_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"edge/internal/logfmt"
)

// A crash must not lose a dir: log's lines for long, nor leave a file gzip
// cannot read: read while the writer still holds the file open (as after a
// kill), the file is a valid gzip stream holding every line written up to
// the last flush.
func TestDirLogReadableUpToLastFlush(t *testing.T) {
	defer logfmt.SetDirFlushInterval(100 * time.Millisecond)()
	root := t.TempDir()
	d := logfmt.Destination{Kind: "dir", Path: root, Layout: logfmt.DirLayout{
		Account: "123456789012", Region: "us-east-1", ELB: "app/crash/0123456789abcdef", Interval: time.Hour}}
	sink, err := logfmt.Open(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	write := func(from, to int) {
		for i := from; i < to; i++ {
			sink.Write(fmt.Appendf(nil, "line %d\n", i))
		}
	}
	// check reads the file as it is now and wants lines [0, n).
	check := func(n int) {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(root, "AWSLogs", "*", "elasticloadbalancing", "*", "*", "*", "*", "*.log.gz"))
		if len(files) != 1 {
			t.Fatalf("%d log files; want 1", len(files))
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("not gzip after the flush interval (%d bytes): %v", len(data), err)
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("invalid gzip after the flush interval: %v (%d lines decoded)", err, strings.Count(string(text), "\n"))
		}
		lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
		if len(lines) != n {
			t.Fatalf("%d lines decoded; want %d", len(lines), n)
		}
		for i, l := range lines {
			if l != fmt.Sprintf("line %d", i) {
				t.Fatalf("line %d = %q", i, l)
			}
		}
		if gz, err := exec.LookPath("gzip"); err == nil {
			if out, err := exec.Command(gz, "-t", files[0]).CombinedOutput(); err != nil {
				t.Errorf("gzip -t: %v %s", err, out)
			}
		}
	}
	write(0, 2000)
	time.Sleep(400 * time.Millisecond) // the flush interval, and then some
	check(2000)
	write(2000, 3000)
	time.Sleep(400 * time.Millisecond)
	check(3000)
}
