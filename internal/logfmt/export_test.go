package logfmt

import (
	"io"
	"time"
)

// SetFileCheckInterval changes how often file destinations check their
// path, and returns a function restoring it.
func SetFileCheckInterval(d time.Duration) func() {
	old := fileCheckInterval
	fileCheckInterval = d
	return func() { fileCheckInterval = old }
}

// NewReportingAsync is NewAsync for a file-like destination named name,
// reporting failures on stderr as Open's file destinations do.
func NewReportingAsync(w io.WriteCloser, name string, stderr io.Writer) *Async {
	a := NewAsync(w)
	a.linger = fileLinger
	a.report = newReporter(stderr, name)
	return a
}

// SetDirFlushInterval changes how often dir destinations make their lines
// readable, and returns a function restoring it.
func SetDirFlushInterval(d time.Duration) func() {
	old := dirFlushInterval
	dirFlushInterval = d
	return func() { dirFlushInterval = old }
}
