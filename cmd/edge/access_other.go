//go:build !unix

package main

import "errors"

// canWrite cannot ask ahead of time here; opening the file will tell.
func canWrite(string, bool) error { return nil }

// errNotDir matches nothing where paths have no ENOTDIR.
var errNotDir = errors.New("not a directory")
