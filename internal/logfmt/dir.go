package logfmt

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DirLayout names files as ALB names its log objects in S3:
//
//	ROOT/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/
//	  [conn_log_]<account>_elasticloadbalancing_<region>_<lb-id>_<end>_<ip>_<random>.log.gz
//
// where <lb-id> is the elb field with '/' replaced by '.', <end> the end of
// the interval as YYYYMMDDTHHMMZ, and yyyy/mm/dd the date of that end.
type DirLayout struct {
	Account, Region string
	// ELB is the load balancer id ("app/name/hex").
	ELB string
	// NodeIP is the address of the "node" that wrote the file.
	NodeIP string
	// Connection selects the conn_log_ prefix and the
	// ELBConnectionLogTestFile written when logging starts.
	Connection bool
	// Interval is how long one file collects lines; ALB uses 5 minutes.
	Interval time.Duration
}

// dirWriter writes gzip files rotated every Interval. A file is closed
// (and so complete) when its interval ends, even if no line follows.
type dirWriter struct {
	root   string
	layout DirLayout

	mu   sync.Mutex
	f    *os.File
	gz   *gzip.Writer
	end  time.Time
	stop *time.Timer
}

func newDirWriter(root string, l DirLayout) (*dirWriter, error) {
	if l.Interval <= 0 {
		l.Interval = 5 * time.Minute
	}
	if l.NodeIP == "" {
		l.NodeIP = "127.0.0.1"
	}
	w := &dirWriter{root: root, layout: l}
	base := filepath.Join(root, "AWSLogs", l.Account)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, err
	}
	if l.Connection {
		// ALB writes this (empty) object when connection logs are enabled.
		if err := os.WriteFile(filepath.Join(base, "ELBConnectionLogTestFile"), nil, 0o644); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *dirWriter) path(end time.Time) string {
	l := w.layout
	day := filepath.Join(w.root, "AWSLogs", l.Account, "elasticloadbalancing", l.Region, end.Format("2006"), end.Format("01"), end.Format("02"))
	var rnd [4]byte
	rand.Read(rnd[:])
	name := l.Account + "_elasticloadbalancing_" + l.Region + "_" + strings.ReplaceAll(l.ELB, "/", ".") + "_" + end.Format("20060102T1504Z") + "_" + l.NodeIP + "_" + hex.EncodeToString(rnd[:]) + ".log.gz"
	if l.Connection {
		name = "conn_log_" + name
	}
	return filepath.Join(day, name)
}

func (w *dirWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now().UTC()
	if w.gz == nil || !now.Before(w.end) {
		if err := w.rotateLocked(now); err != nil {
			return 0, err
		}
	}
	return w.gz.Write(p)
}

func (w *dirWriter) rotateLocked(now time.Time) error {
	w.closeLocked()
	end := now.Truncate(w.layout.Interval).Add(w.layout.Interval)
	p := w.path(end)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w.f, w.gz, w.end = f, gzip.NewWriter(f), end
	w.stop = time.AfterFunc(time.Until(end), func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.end.Equal(end) {
			w.closeLocked()
		}
	})
	return nil
}

func (w *dirWriter) closeLocked() error {
	if w.stop != nil {
		w.stop.Stop()
		w.stop = nil
	}
	if w.gz == nil {
		return nil
	}
	err := w.gz.Close()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.gz, w.f = nil, nil
	return err
}

func (w *dirWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeLocked()
}
