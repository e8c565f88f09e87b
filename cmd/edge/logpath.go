package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"edge/internal/config"
	"edge/internal/logfmt"
)

// logPathProblems reports the log destinations of cfg that cannot be
// written, with the line of their key: edge check reports them with the
// rest, and edge serve before it binds anything. It creates nothing.
// Destinations that do not parse are left to the build to report.
func logPathProblems(cfg *config.Config) config.Problems {
	var ps config.Problems
	for _, l := range []struct {
		key string
		v   *string
	}{{"logs.connection", cfg.Logs.Connection}, {"logs.access", cfg.Logs.Access}} {
		if l.v == nil {
			continue // stdout
		}
		d, err := logfmt.ParseDestination(*l.v)
		if err != nil || d.Kind != "file" && d.Kind != "dir" {
			continue
		}
		d.Path = cfg.Path(d.Path)
		if err := writable(d.Path, d.Kind == "dir"); err != nil {
			ps = append(ps, cfg.Problem(l.key, "%s cannot be written: %v", d, err))
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
