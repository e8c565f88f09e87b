package logfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Destination is a parsed log destination: "stdout", "stderr", "off",
// "file:PATH" or "dir:PATH" (ALB's S3 key layout under PATH).
type Destination struct {
	Kind string // "stdout", "stderr", "off", "file", "dir"
	Path string // for "file" and "dir"
	// Layout names the files of a "dir" destination.
	Layout DirLayout
}

func (d Destination) String() string {
	switch d.Kind {
	case "file", "dir":
		return d.Kind + ":" + d.Path
	}
	return d.Kind
}

// ParseDestination parses a destination string. The empty string means
// "off".
func ParseDestination(s string) (Destination, error) {
	switch s {
	case "", "off":
		return Destination{Kind: "off"}, nil
	case "stdout", "stderr":
		return Destination{Kind: s}, nil
	}
	if p, ok := strings.CutPrefix(s, "file:"); ok {
		if p == "" {
			return Destination{}, errors.New(`"file:" needs a path, e.g. file:logs/conn.log`)
		}
		return Destination{Kind: "file", Path: p}, nil
	}
	if p, ok := strings.CutPrefix(s, "dir:"); ok {
		if p == "" {
			return Destination{}, errors.New(`"dir:" needs a path, e.g. dir:logs`)
		}
		return Destination{Kind: "dir", Path: p}, nil
	}
	return Destination{}, fmt.Errorf("unknown log destination %q (want stdout, stderr, off, file:PATH or dir:PATH)", s)
}

// Sink receives rendered log lines. Write must not block for long: it is
// called on the handshake and request paths.
type Sink interface {
	// Write queues one complete line (ending in '\n'); the sink copies it.
	Write(line []byte)
	// Close flushes every queued line and releases the destination.
	Close() error
}

// Open returns the sink for d. Files are opened for append and created
// with mode 0644. stdout and stderr are flushed promptly so an interactive
// user sees each line as it happens.
func Open(d Destination, stdout, stderr io.Writer) (Sink, error) {
	switch d.Kind {
	case "off":
		return Discard{}, nil
	case "stdout":
		return NewAsync(nopCloser{stdout}), nil
	case "stderr":
		return NewAsync(nopCloser{stderr}), nil
	case "file":
		f, err := openFile(d.Path)
		if err != nil {
			return nil, err
		}
		a := NewAsync(f)
		a.linger = fileLinger
		a.report = newReporter(stderr, d.String())
		return a, nil
	case "dir":
		w, err := newDirWriter(d.Path, d.Layout)
		if err != nil {
			return nil, err
		}
		a := NewAsync(w)
		a.linger = fileLinger
		a.report = newReporter(stderr, d.String())
		w.onLoss = a.lost // before any line reaches w
		return a, nil
	}
	return nil, fmt.Errorf("unknown log destination kind %q", d.Kind)
}

// Discard drops every line.
type Discard struct{}

func (Discard) Write([]byte) {}
func (Discard) Close() error { return nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// maxPending bounds the bytes queued for a slow destination; past it lines
// are dropped and counted rather than stalling handshakes.
const maxPending = 8 << 20

// File destinations gather lines for up to fileLinger (or flushBytes) and
// write them in one system call: one write per request would cost more
// than the request. Terminals get every line at once.
const (
	fileLinger = 20 * time.Millisecond
	flushBytes = 64 << 10
)

// Async batches lines in memory and writes them from one goroutine, so a
// slow disk or terminal never holds up a handshake. Lines are written in
// the order Write was called. Lines that do not fit in the queue, or whose
// write fails, are counted in Dropped. A write that fails in the middle of
// a line (a full filesystem) leaves the rest of that line pending: it is
// written first when writing works again, so every line ends up whole and
// on its own.
type Async struct {
	w io.WriteCloser
	// linger is how long a woken writer waits for more lines.
	linger time.Duration
	// report tells stderr about failures; nil for stdout and stderr.
	report *reporter

	// Only the writer goroutine (and Close, after it) uses these.
	tail      []byte // the unwritten end of a torn line
	failing   bool   // the last write failed
	lastCheck time.Time
	reopen    atomic.Bool

	mu      sync.Mutex
	pending []byte
	spare   []byte
	closed  bool

	wake    chan struct{}
	done    chan struct{}
	dropped atomic.Uint64
	err     atomic.Pointer[error]
	onDrop  atomic.Pointer[func(uint64)]
}

// SetOnDrop registers a function told of every loss (metrics).
func (a *Async) SetOnDrop(f func(n uint64)) { a.onDrop.Store(&f) }

func (a *Async) drop(n uint64) {
	a.dropped.Add(n)
	if f := a.onDrop.Load(); f != nil {
		(*f)(n)
	}
}

// NewAsync starts a writer goroutine for w; Close stops it and closes w.
func NewAsync(w io.WriteCloser) *Async {
	a := &Async{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go a.run()
	return a
}

// Write queues line.
func (a *Async) Write(line []byte) {
	a.mu.Lock()
	if a.closed || len(a.pending)+len(line) > maxPending {
		a.mu.Unlock()
		a.drop(1)
		return
	}
	a.pending = append(a.pending, line...)
	// Signal under the lock: Close closes wake under it too.
	select {
	case a.wake <- struct{}{}:
	default:
	}
	a.mu.Unlock()
}

// Dropped returns how many lines were lost because the queue was full, the
// sink was closed or the destination failed.
func (a *Async) Dropped() uint64 { return a.dropped.Load() }

// Err returns the last write error of the destination, if any.
func (a *Async) Err() error {
	if p := a.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (a *Async) run() {
	defer close(a.done)
	for {
		_, open := <-a.wake
		if open && a.linger > 0 {
			a.waitForMore()
		}
		a.flush()
		if !open {
			return
		}
	}
}

// waitForMore sleeps up to linger unless the queue fills first.
func (a *Async) waitForMore() {
	deadline := time.Now().Add(a.linger)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		n, closed := len(a.pending), a.closed
		a.mu.Unlock()
		if n >= flushBytes || closed {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (a *Async) flush() {
	a.mu.Lock()
	buf := a.pending
	a.pending = a.spare[:0]
	a.mu.Unlock()
	a.checkFile()
	if len(buf) > 0 {
		a.write(buf)
	}
	a.mu.Lock()
	a.spare = buf[:0]
	a.mu.Unlock()
}

// write writes buf, complete lines, after the rest of a torn line if any.
func (a *Async) write(buf []byte) {
	if len(a.tail) > 0 {
		n, err := a.w.Write(a.tail)
		a.tail = a.tail[n:]
		if err != nil {
			a.failed(err, countLines(buf))
			return
		}
	}
	n, err := a.w.Write(buf)
	if err == nil {
		if a.failing {
			a.failing = false
			if a.report != nil {
				a.report.recovered(a.dropped.Load())
			}
		}
		return
	}
	rest := buf[n:]
	if n > 0 && buf[n-1] != '\n' {
		// Torn: keep the line's end for the next write, so that the
		// line is completed rather than glued to the next one.
		i := bytes.IndexByte(rest, '\n') + 1
		a.tail = append(a.tail[:0], rest[:i]...)
		rest = rest[i:]
	}
	a.failed(err, countLines(rest))
}

// lost counts lines a destination lost on its own schedule (a dir: member
// written by a timer); any goroutine may call it.
func (a *Async) lost(lines int, err error) {
	a.err.Store(&err)
	a.drop(uint64(lines))
	if a.report != nil {
		a.report.failed(err, a.dropped.Load())
	}
}

func (a *Async) failed(err error, lost int) {
	a.failing = true
	a.err.Store(&err)
	a.drop(uint64(lost))
	if a.report != nil {
		a.report.failed(err, a.dropped.Load())
	}
}

// fileCheckInterval is how often a file destination checks that its path
// still names the file it writes (before writing, so an idle log costs
// nothing).
var fileCheckInterval = time.Second

// Reopen makes a file destination close its file and open its path again
// before writing more (logrotate's SIGHUP convention). Other destinations
// ignore it.
func (a *Async) Reopen() {
	if _, ok := a.w.(*fileWriter); !ok {
		return
	}
	a.reopen.Store(true)
	a.mu.Lock()
	if !a.closed {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	a.mu.Unlock()
}

// checkFile reopens a file destination when asked to, or when its path no
// longer names the open file (moved or deleted), checked at most every
// fileCheckInterval.
func (a *Async) checkFile() {
	f, ok := a.w.(*fileWriter)
	if !ok {
		return
	}
	asked := a.reopen.Swap(false)
	if !asked {
		if time.Since(a.lastCheck) < fileCheckInterval {
			return
		}
		a.lastCheck = time.Now()
		if !f.moved() {
			return
		}
	}
	if err := f.reopen(); err != nil {
		if a.report != nil {
			a.report.say("cannot reopen the file (lines go to the old file meanwhile): %v", err)
		}
		return
	}
	a.lastCheck = time.Now()
	if len(a.tail) > 0 {
		// The head of that line is in the old file.
		a.tail = a.tail[:0]
		a.drop(1)
	}
	if !asked && a.report != nil {
		a.report.say("the file was moved or deleted; reopened it")
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// Close writes every queued line, then closes the destination.
func (a *Async) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.wake)
	a.mu.Unlock()
	<-a.done
	a.flush()
	if len(a.tail) > 0 {
		// The rest of a torn line that could not be written.
		a.drop(1)
	}
	if a.report != nil {
		a.report.close(a.dropped.Load())
	}
	return a.w.Close()
}

// fileWriter appends to the file at path and can open the path again.
type fileWriter struct {
	path string
	f    *os.File
}

func openFile(path string) (*fileWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &fileWriter{path: path, f: f}, nil
}

func (w *fileWriter) Write(p []byte) (int, error) { return w.f.Write(p) }
func (w *fileWriter) Close() error                { return w.f.Close() }

// moved reports whether path no longer names the open file.
func (w *fileWriter) moved() bool {
	cur, err := w.f.Stat()
	if err != nil {
		return false
	}
	at, err := os.Stat(w.path)
	return err != nil || !os.SameFile(cur, at)
}

func (w *fileWriter) reopen() error {
	n, err := openFile(w.path)
	if err != nil {
		return err
	}
	w.f.Close()
	w.f = n.f
	return nil
}

// reporter tells stderr about a destination's failures: the first one at
// once, then at most one line per reportEvery with the count of lost
// lines, and when writing works again.
type reporter struct {
	w    io.Writer
	name string

	mu       sync.Mutex
	last     time.Time
	failing  bool
	reported uint64 // lost lines already told
	pending  bool   // a failure not yet told
	lastErr  error
}

const reportEvery = 10 * time.Second

func newReporter(w io.Writer, name string) *reporter {
	if w == nil {
		return nil
	}
	return &reporter{w: w, name: name}
}

func (r *reporter) say(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "edge: log %s: %s\n", r.name, fmt.Sprintf(format, args...))
}

func (r *reporter) failed(err error, dropped uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing, r.lastErr = true, err
	if time.Since(r.last) < reportEvery {
		r.pending = true
		return
	}
	r.last, r.pending, r.reported = time.Now(), false, dropped
	fmt.Fprintf(r.w, "edge: log %s: write failed: %v; %d lines lost so far (edge_log_lines_dropped_total)\n", r.name, err, dropped)
}

func (r *reporter) recovered(dropped uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.failing {
		return
	}
	r.failing, r.pending, r.reported = false, false, dropped
	fmt.Fprintf(r.w, "edge: log %s: writing again (%d lines lost in all)\n", r.name, dropped)
}

// close tells the losses not yet told.
func (r *reporter) close(dropped uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending && dropped > r.reported {
		fmt.Fprintf(r.w, "edge: log %s: write failed: %v; %d lines lost in all\n", r.name, r.lastErr, dropped)
	}
}
