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

// Watch polls every file the current configuration read (the config
// itself, bundles, CRLs, certificates, keys) and reloads from the source
// when one changes. A burst of changes (an editor's save, a CRL rewritten
// in steps) is debounced: edge reloads once the files have been quiet for
// debounce. Polling (stat of mtime and size) needs no OS-specific watcher
// and sees files replaced by rename, as `mv new.crl crl.pem` does.
func (s *Server) Watch(ctx context.Context, every, debounce time.Duration) {
	type stamp struct {
		mod  time.Time
		size int64
		ok   bool
	}
	read := func() map[string]stamp {
		out := map[string]stamp{}
		for _, f := range s.current.Load().Files {
			fi, err := os.Stat(f)
			if err != nil {
				out[f] = stamp{}
				continue
			}
			out[f] = stamp{fi.ModTime(), fi.Size(), true}
		}
		return out
	}
	last := read()
	var changedAt time.Time
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := read()
		changed := len(now) != len(last)
		for f, st := range now {
			if last[f] != st {
				changed = true
			}
		}
		if changed {
			last = now
			changedAt = time.Now()
			continue
		}
		if !changedAt.IsZero() && time.Since(changedAt) >= debounce {
			changedAt = time.Time{}
			s.log.Info("a referenced file changed; reloading")
			s.ReloadFromSource()
			last = read() // the new snapshot may read other files
		}
	}
}
