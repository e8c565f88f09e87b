//go:build unix

package main

import (
	"errors"
	"syscall"
)

// canWrite asks the kernel whether this process may write path (and, for
// a directory, create files in it), as open would decide.
func canWrite(path string, dir bool) error {
	mode := uint32(2) // W_OK
	if dir {
		mode |= 1 // X_OK: enter it
	}
	if err := syscall.Access(path, mode); err != nil {
		return errors.New("permission denied")
	}
	return nil
}

// errNotDir is the error of a path whose parent is a file.
var errNotDir error = syscall.ENOTDIR
