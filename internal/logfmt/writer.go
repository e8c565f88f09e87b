package logfmt

import (
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
		if err := os.MkdirAll(filepath.Dir(d.Path), 0o755); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(d.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		a := NewAsync(f)
		a.linger = fileLinger
		return a, nil
	case "dir":
		w, err := newDirWriter(d.Path, d.Layout)
		if err != nil {
			return nil, err
		}
		a := NewAsync(w)
		a.linger = fileLinger
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
// write fails, are counted in Dropped.
type Async struct {
	w io.WriteCloser
	// linger is how long a woken writer waits for more lines.
	linger time.Duration

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
	if len(buf) > 0 {
		if _, err := a.w.Write(buf); err != nil {
			a.err.Store(&err)
			a.drop(uint64(countLines(buf)))
		}
	}
	a.mu.Lock()
	a.spare = buf[:0]
	a.mu.Unlock()
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
	return a.w.Close()
}
