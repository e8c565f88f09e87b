package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/testutil"
)

// Log rotation under load, logrotate's way (rename, then reopen as SIGHUP
// does): every connection and request has exactly one whole line, in the
// rotated files or the current one, none lost or torn.
func TestReliabilityLogRotation(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	const workers, rotations = 4, 5
	var requests atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := e.clientTLS(seed.C, nil)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, _, _, err := e.get(cfg); err != nil || code != 200 {
					t.Errorf("request during rotation: %d %v", code, err)
					return
				}
				requests.Add(1)
			}
		}()
	}
	for i := 1; i <= rotations; i++ {
		time.Sleep(150 * time.Millisecond)
		for _, p := range []string{e.connLog, e.accessLog} {
			if err := os.Rename(p, fmt.Sprintf("%s.%d", p, i)); err != nil {
				t.Fatal(err)
			}
		}
		e.srv.ReopenLogs()
	}
	time.Sleep(150 * time.Millisecond)
	close(stop)
	wg.Wait()
	e.stop()
	n := int(requests.Load())
	for _, p := range []string{e.connLog, e.accessLog} {
		files, _ := filepath.Glob(p + "*")
		total, used := 0, 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > 0 {
				used++
				if b[len(b)-1] != '\n' {
					t.Errorf("%s ends in the middle of a line", f)
				}
			}
			for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				if l == "" {
					continue
				}
				if !strings.HasSuffix(l, "127.0.0.1") && !strings.HasSuffix(l, `"-" "-" "-"`) {
					t.Errorf("%s: torn line %q", f, l)
				}
				total++
			}
		}
		if total != n {
			t.Errorf("%s*: %d lines for %d requests", p, total, n)
		}
		if used < rotations {
			t.Errorf("%s: lines in %d of %d files; want them spread over the rotations", p, used, len(files))
		}
		t.Logf("%s: %d lines in %d files", filepath.Base(p), total, used)
	}
}
