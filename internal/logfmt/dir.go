package logfmt

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"io"
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

// dirFlushInterval bounds how long a line written to a dir: destination
// stays in memory: within it the line is on disk, in a complete gzip
// member, so a crash loses at most this much (plus Async's batching).
var dirFlushInterval = time.Second

// dirWriter writes gzip files rotated every Interval. A file is a series of
// complete gzip members (RFC 1952 §2.2; gzip, zcat and Go's gzip.Reader read
// them as one stream): lines are compressed in memory and each member is
// written whole, at most dirFlushInterval after its first line, so the file
// is valid gzip at every moment. A file is closed (and so complete) when its
// interval ends, even if no line follows.
type dirWriter struct {
	root   string
	layout DirLayout
	// onLoss is told of lines that could not be written to the file.
	onLoss func(lines int, err error)

	mu    sync.Mutex
	f     *os.File
	size  int64 // bytes of complete members in f
	end   time.Time
	stop  *time.Timer // closes the file at end
	gz    *gzip.Writer
	mem   bytes.Buffer // the open member, compressed
	lines int          // lines in the open member
	flush *time.Timer  // writes the open member
}

func newDirWriter(root string, l DirLayout) (*dirWriter, error) {
	if l.Interval <= 0 {
		l.Interval = 5 * time.Minute
	}
	if l.NodeIP == "" {
		l.NodeIP = "127.0.0.1"
	}
	w := &dirWriter{root: root, layout: l}
	w.gz = gzip.NewWriter(&w.mem)
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

// Write compresses complete lines into the open member. Only opening a new
// file can fail here; a failure to write a member is told to onLoss.
func (w *dirWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now().UTC()
	if w.f == nil || !now.Before(w.end) {
		if err := w.rotateLocked(now); err != nil {
			return 0, err
		}
	}
	if w.lines == 0 {
		w.flush = time.AfterFunc(dirFlushInterval, w.flushMember)
	}
	w.gz.Write(p) // into memory: cannot fail
	w.lines += countLines(p)
	return len(p), nil
}

func (w *dirWriter) flushMember() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

// flushLocked ends the open member and appends it to the file in one
// write. A write that fails is cut off again, so the file keeps ending
// with a complete member.
func (w *dirWriter) flushLocked() {
	if w.flush != nil {
		w.flush.Stop()
		w.flush = nil
	}
	if w.lines == 0 {
		return
	}
	w.gz.Close()
	n, lines := w.mem.Len(), w.lines
	_, err := w.f.Write(w.mem.Bytes())
	w.mem.Reset()
	w.gz.Reset(&w.mem)
	w.lines = 0
	if err != nil {
		w.f.Truncate(w.size)
		w.f.Seek(w.size, io.SeekStart)
		if w.onLoss != nil {
			w.onLoss(lines, err)
		}
		return
	}
	w.size += int64(n)
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
	w.f, w.size, w.end = f, 0, end
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
	if w.f == nil {
		return nil
	}
	w.flushLocked()
	err := w.f.Close()
	w.f = nil
	return err
}

func (w *dirWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeLocked()
}
