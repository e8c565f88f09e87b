package server

import (
	"context"
	"os"
	"time"
)

// Default change-watching cadence: a changed file is picked up within
// about half a second.
const (
	DefaultWatchInterval = 200 * time.Millisecond
	DefaultWatchDebounce = 100 * time.Millisecond
)

// fileStamp is what Watch compares: modification time and size.
type fileStamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size(), true}
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
		if b[f] != st {
			return false
		}
	}
	return true
}

// Watch polls every file the current configuration read (the config
// itself, bundles, CRLs, certificates, keys) and reloads from the source
// when one differs from what the snapshot was built from. The snapshot
// records each file's stamp before reading it, so a change made at any
// moment after that is seen. A burst of changes (an editor's save, a CRL
// rewritten in steps) is debounced: edge reloads once the files have been
// quiet for debounce. A reload that fails is not retried until the files
// change again. Polling (stat of mtime and size) needs no OS-specific
// watcher and sees files replaced by rename, as `mv new.crl crl.pem` does.
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
		case time.Since(changedAt) >= debounce:
			attempted = now
			s.log.Info("a referenced file changed; reloading")
			s.ReloadFromSource()
		}
	}
}
