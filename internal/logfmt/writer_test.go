package logfmt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"edge/internal/logfmt"
)

func TestParseDestination(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"stdout", "stdout", ""}, {"stderr", "stderr", ""}, {"off", "off", ""}, {"", "off", ""},
		{"file:logs/conn.log", "file:logs/conn.log", ""},
		{"file:", "", "needs a path"}, {"syslog", "", "unknown log destination"}, {"dir:logs", "dir:logs", ""}, {"dir:", "", "needs a path"},
	} {
		d, err := logfmt.ParseDestination(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDestination(%q) err = %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || d.String() != tc.want {
			t.Errorf("ParseDestination(%q) = %v, %v; want %s", tc.in, d, err, tc.want)
		}
	}
}

func TestAsyncKeepsEveryLineInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x", "conn.log")
	sink, err := logfmt.Open(logfmt.Destination{Kind: "file", Path: path}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				sink.Write([]byte(fmt.Sprintf("g%d line %d\n", g, i)))
			}
		}()
	}
	wg.Wait()
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 8000 {
		t.Fatalf("got %d lines; want 8000", len(lines))
	}
	next := map[string]int{}
	for _, l := range lines {
		var g string
		var i int
		if _, err := fmt.Sscanf(l, "%s line %d", &g, &i); err != nil || next[g] != i {
			t.Fatalf("line %q out of order (want %s line %d)", l, g, next[g])
		}
		next[g]++
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
func (failWriter) Close() error              { return nil }

func TestAsyncCountsLostLines(t *testing.T) {
	a := logfmt.NewAsync(failWriter{})
	for i := 0; i < 10; i++ {
		a.Write([]byte("x\n"))
	}
	a.Close()
	if a.Dropped() != 10 || a.Err() == nil {
		t.Fatalf("dropped = %d, err = %v; want 10 and an error", a.Dropped(), a.Err())
	}
	a.Write([]byte("after close\n"))
	if a.Dropped() != 11 {
		t.Fatalf("a write after Close was not counted")
	}
}
