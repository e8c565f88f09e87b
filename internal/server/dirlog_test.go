package server_test

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"edge/internal/testutil"
)

// dir: destinations write gzip files with ALB's S3 key layout and names,
// rotated every interval, and every line parses with the Athena regexes.
func TestDirLogsALBLayout(t *testing.T) {
	seed := testutil.NewSeed(t)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS, logs: "{connection: dir:alb-logs, access: dir:alb-logs, rotation_seconds: 1}"})
	root := filepath.Join(filepath.Dir(e.cfgPath), "alb-logs")
	for i := 0; i < 3; i++ { // spread over at least two intervals
		if !handshake(e.addr, e.clientTLS(seed.C, nil)) {
			t.Fatal("request failed")
		}
		e.get(e.clientTLS(seed.H, nil)) // a failed handshake: a connection line only
		time.Sleep(600 * time.Millisecond)
	}
	e.stop()
	if _, err := os.Stat(filepath.Join(root, "AWSLogs", "123456789012", "ELBConnectionLogTestFile")); err != nil {
		t.Errorf("no ELBConnectionLogTestFile: %v", err)
	}
	name := regexp.MustCompile(`^AWSLogs/123456789012/elasticloadbalancing/us-east-1/(\d{4})/(\d\d)/(\d\d)/(conn_log_)?123456789012_elasticloadbalancing_us-east-1_app\.e2e\.[0-9a-f]{16}_(\d{8}T\d{4}Z)_127\.0\.0\.1_[0-9a-f]{8}\.log\.gz$`)
	connRe, accessRe := testutil.Athena(t, "connection"), testutil.Athena(t, "access")
	var connFiles, accessFiles, connLines, accessLines int
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Name() == "ELBConnectionLogTestFile" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m := name.FindStringSubmatch(rel)
		if m == nil {
			t.Errorf("file %s is not named as ALB names log objects", rel)
			return nil
		}
		if m[5][:8] != m[1]+m[2]+m[3] {
			t.Errorf("%s: date directory differs from the interval end", rel)
		}
		f, _ := os.Open(p)
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Errorf("%s is not gzip: %v", rel, err)
			return nil
		}
		sc := bufio.NewScanner(gz)
		for sc.Scan() {
			line := sc.Text()
			if m[4] != "" {
				connLines++
				if connRe.Match(line) == nil {
					t.Errorf("%s: %q does not match the Athena connection regex", rel, line)
				}
			} else {
				accessLines++
				if accessRe.Match(line) == nil {
					t.Errorf("%s: %q does not match the Athena access regex", rel, line)
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Errorf("%s: %v (truncated gzip?)", rel, err)
		}
		if m[4] != "" {
			connFiles++
		} else {
			accessFiles++
		}
		return nil
	})
	if connLines != 6 || accessLines != 3 {
		t.Errorf("%d connection and %d access lines; want 6 and 3", connLines, accessLines)
	}
	if connFiles < 2 || accessFiles < 2 {
		t.Errorf("%d connection and %d access files; want rotation into at least 2 each", connFiles, accessFiles)
	}
}
