package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"edge/internal/config"
	"edge/internal/logfmt"
	"edge/internal/server"
)

// logPathProblems reports the log destinations of snap that cannot be
// written, with the line of their key: edge check reports them with the
// rest, and edge serve before it binds anything. It creates nothing.
func logPathProblems(snap *server.Snapshot) config.Problems {
	var ps config.Problems
	for _, l := range []struct {
		key string
		dst logfmt.Destination
	}{{"logs.connection", snap.ConnLog}, {"logs.access", snap.AccessLog}} {
		if l.dst.Kind != "file" && l.dst.Kind != "dir" {
			continue
		}
		if err := writable(l.dst.Path, l.dst.Kind == "dir"); err != nil {
			ps = append(ps, snap.Config.Problem(l.key, "%s cannot be written: %v", l.dst, err))
		}
	}
	return ps
}

// writable tells why path cannot be written as a file (or, with dir, as a
// directory edge writes into), without creating it: an existing path must
// be of the right kind and writable; a missing one needs its nearest
// existing ancestor to be a writable directory, where edge creates the
// rest.
func writable(path string, dir bool) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && dir && !fi.IsDir():
		return fmt.Errorf("%s is a file, not a directory", path)
	case err == nil && !dir && fi.IsDir():
		return fmt.Errorf("%s is a directory; name a file in it", path)
	case err == nil:
		if err := canWrite(path, dir); err != nil {
			return fmt.Errorf("%s: %w (check its permissions)", path, err)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotDir):
		return err
	}
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is a file, not a directory", p)
			}
			if err := canWrite(p, true); err != nil {
				return fmt.Errorf("cannot create it in %s: %w (check its permissions)", p, err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotDir) {
			return err
		}
		if parent := filepath.Dir(p); parent == p {
			return err
		}
	}
}
