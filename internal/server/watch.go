package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Default change-watching cadence: a file replaced (renamed over) is
// picked up within about half a second.
const (
	DefaultWatchInterval = 200 * time.Millisecond
	DefaultWatchDebounce = 100 * time.Millisecond
)

// InPlaceSettle is how long a file modified in place (same file, new size
// or time) must stay unchanged before Watch reloads it: a writer that
// pauses less than this between chunks is never read half-way. A file
// replaced by rename is complete when it appears and waits only for the
// debounce.
const InPlaceSettle = time.Second

// ErrFileChanging is returned by a reload when a file changed while edge
// was reading it; nothing was applied, and the watcher tries again once
// the file has settled.
var ErrFileChanging = errors.New("a file changed while edge was reading it")

// fileStamp is what Watch compares: modification time, size and identity
// (a rename over the path makes a new file).
type fileStamp struct {
	mod  time.Time
	size int64
	fi   os.FileInfo // nil when the file could not be read
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size(), fi}
}

func (a fileStamp) same(b fileStamp) bool {
	if a.fi == nil || b.fi == nil {
		return a.fi == nil && b.fi == nil
	}
	return a.mod.Equal(b.mod) && a.size == b.size && os.SameFile(a.fi, b.fi)
}

// inPlace reports whether a is b's file modified in place.
func (a fileStamp) inPlace(b fileStamp) bool {
	return a.fi != nil && b.fi != nil && !a.same(b) && os.SameFile(a.fi, b.fi)
}

func stamps(files []string) map[string]fileStamp {
	out := make(map[string]fileStamp, len(files))
	for _, f := range files {
		out[f] = stampOf(f)
	}
	return out
}

func sameStamps(a, b map[string]fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for f, st := range a {
		if bs, ok := b[f]; !ok || !st.same(bs) {
			return false
		}
	}
	return true
}

// settleFor is how long the files must stay as in now, changed from
// before, until a reload reads them.
func settleFor(now, before map[string]fileStamp, debounce time.Duration) time.Duration {
	for f, st := range now {
		if st.inPlace(before[f]) {
			return max(debounce, InPlaceSettle)
		}
	}
	return debounce
}

// changedSinceRead returns a file of the snapshot that no longer has the
// stamp it had when Build read it, or "".
func (s *Snapshot) changedSinceRead() string {
	for _, f := range s.Files {
		if !stampOf(f).same(s.stamps[f]) {
			return f
		}
	}
	return ""
}

func fileChanging(path string) error {
	return fmt.Errorf("%s: %w; nothing was applied (the watcher retries once the file is quiet for %v; write files whole and rename them into place to apply at once)", path, ErrFileChanging, InPlaceSettle)
}

// Watch polls every file the current configuration read (the config
// itself, bundles, CRLs, certificates, keys) and reloads from the source
// when one differs from what the snapshot was built from. The snapshot
// records each file's stamp before reading it, so a change made at any
// moment after that is seen. A burst of changes (an editor's save, a CRL
// rewritten in steps) is debounced: edge reloads once the files have been
// quiet for debounce, or for InPlaceSettle when a file was modified in
// place rather than replaced (a writer may still be adding to it). A
// reload that finds a file changed while it was read applies nothing and
// is retried once the files settle; any other failed reload is not
// retried until the files change again. Polling (stat of mtime, size and
// file identity) needs no OS-specific watcher and sees files replaced by
// rename, as `mv new.crl crl.pem` does.
func (s *Server) Watch(ctx context.Context, every, debounce time.Duration) {
	var seen, attempted map[string]fileStamp
	var changedAt time.Time
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := s.current.Load()
		now := stamps(cur.Files)
		switch {
		case sameStamps(now, cur.stamps) || sameStamps(now, attempted):
			seen, changedAt = nil, time.Time{}
		case !sameStamps(now, seen):
			seen, changedAt = now, time.Now() // still changing: wait
		case time.Since(changedAt) >= settleFor(now, cur.stamps, debounce):
			attempted = now
			s.log.Info("a referenced file changed; reloading")
			if err := s.ReloadFromSource(); errors.Is(err, ErrFileChanging) {
				attempted = nil // still being written: wait for it to settle
			}
		}
	}
}
