package logfmt_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"edge/internal/logfmt"
)

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fileHas(path, s string) func() bool {
	return func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, []byte(s))
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// logrotate's convention: rename the file, then SIGHUP (Reopen); the lines
// after it go to a new file at the old path.
func TestFileLogReopensAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conn.log")
	var stderr syncBuffer
	sink, err := logfmt.Open(logfmt.Destination{Kind: "file", Path: path}, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	sink.Write([]byte("before rotation\n"))
	waitFor(t, "the first line", fileHas(path, "before rotation"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	r, ok := sink.(interface{ Reopen() })
	if !ok {
		t.Fatal("a file sink cannot be reopened")
	}
	r.Reopen()
	sink.Write([]byte("after rotation\n"))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path+".1"); len(got) != 1 || got[0] != "before rotation" {
		t.Errorf("rotated file has %q; want the line before rotation only", got)
	}
	if got := readLines(t, path); len(got) != 1 || got[0] != "after rotation" {
		t.Errorf("new file has %q; want the line after rotation", got)
	}
}

// A file deleted (or renamed) without a SIGHUP is noticed within the check
// interval; later lines land in a new file, and stderr says so.
func TestFileLogRecreatedAfterDelete(t *testing.T) {
	defer logfmt.SetFileCheckInterval(50 * time.Millisecond)()
	dir := t.TempDir()
	path := filepath.Join(dir, "conn.log")
	var stderr syncBuffer
	sink, err := logfmt.Open(logfmt.Destination{Kind: "file", Path: path}, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	sink.Write([]byte("first\n"))
	waitFor(t, "the first line", fileHas(path, "first"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // past the check interval
	sink.Write([]byte("second\n"))
	waitFor(t, "a recreated file", fileHas(path, "second"))
	// Renamed away without a signal: the same.
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	sink.Write([]byte("third\n"))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 1 || got[0] != "third" {
		t.Errorf("file after the rename has %q; want [third]", got)
	}
	if got := readLines(t, path+".old"); len(got) != 1 || got[0] != "second" {
		t.Errorf("renamed file has %q; want [second]", got)
	}
	if n := strings.Count(stderr.String(), "reopened"); n != 2 {
		t.Errorf("stderr says %d times that the file was reopened; want 2:\n%s", n, stderr.String())
	}
}

// On a full filesystem every lost line is counted and stderr says so, once
// per burst rather than once per line.
func TestFileLogFullFilesystem(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	var stderr syncBuffer
	sink, err := logfmt.Open(logfmt.Destination{Kind: "file", Path: "/dev/full"}, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var drops int
	var mu sync.Mutex
	sink.(*logfmt.Async).SetOnDrop(func(n uint64) { mu.Lock(); drops += int(n); mu.Unlock() })
	for i := range 100 {
		sink.Write(fmt.Appendf(nil, "line %d\n", i))
		if i%10 == 0 {
			time.Sleep(30 * time.Millisecond) // several batches
		}
	}
	sink.Close()
	if d := sink.(*logfmt.Async).Dropped(); d != 100 || drops != 100 {
		t.Errorf("dropped %d (metric %d); want 100", d, drops)
	}
	out := stderr.String()
	if !strings.Contains(out, "/dev/full") || !strings.Contains(out, "no space left on device") {
		t.Errorf("stderr does not report the failure:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n < 1 || n > 2 {
		t.Errorf("stderr has %d lines; want one report (and a final count):\n%s", n, out)
	}
}

// smallDisk accepts up to free bytes, then writes what fits and fails with
// ENOSPC, as a write(2) on a full filesystem does.
type smallDisk struct {
	mu   sync.Mutex
	free int
	buf  bytes.Buffer
}

func (d *smallDisk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(p) <= d.free {
		d.free -= len(p)
		return d.buf.Write(p)
	}
	n := d.free
	d.buf.Write(p[:n])
	d.free = 0
	return n, &os.PathError{Op: "write", Path: "small", Err: syscall.ENOSPC}
}

func (d *smallDisk) Close() error { return nil }

func (d *smallDisk) grow(n int) { d.mu.Lock(); d.free += n; d.mu.Unlock() }

func (d *smallDisk) String() string { d.mu.Lock(); defer d.mu.Unlock(); return d.buf.String() }

// A write that fills the disk in the middle of a record must not glue that
// record's head to the next one: the record is completed when space comes
// back, and every line in the file is whole.
func TestTornRecordIsCompleted(t *testing.T) {
	disk := &smallDisk{free: 25} // two 10-byte lines and half of the third
	var stderr syncBuffer
	a := logfmt.NewReportingAsync(disk, "file:small", &stderr)
	write := func(from, to int) {
		for i := from; i < to; i++ {
			a.Write(fmt.Appendf(nil, "line %04d\n", i))
		}
		time.Sleep(60 * time.Millisecond) // one batch each
	}
	write(0, 5) // 2 fit, the third is torn, the rest dropped
	disk.grow(1 << 20)
	write(5, 10)
	a.Close()
	lines := strings.Split(strings.TrimSuffix(disk.String(), "\n"), "\n")
	seen := 0
	for _, l := range lines {
		var i int
		if _, err := fmt.Sscanf(l, "line %04d", &i); err != nil || len(l) != len("line 0000") {
			t.Errorf("torn or glued record %q in:\n%s", l, disk.String())
		}
		seen++
	}
	if got := seen + int(a.Dropped()); got != 10 {
		t.Errorf("%d lines written + %d dropped = %d; want 10\n%s", seen, a.Dropped(), got, disk.String())
	}
	if out := stderr.String(); !strings.Contains(out, "no space left on device") || !strings.Contains(out, "writing again") {
		t.Errorf("stderr does not report the failure and the recovery: %q", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the sink's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
