package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// listenError stands for server.ListenError (config cannot import server):
// a typed error that unwraps to the syscall error.
type listenError struct{ err error }

func (e *listenError) Error() string { return "listeners[0]: " + e.err.Error() }
func (e *listenError) Unwrap() error { return e.err }

// A Problem wraps its cause, and Problems wraps every Problem: errors.Is
// and errors.As reach the cause through both.
func TestProblemsUnwrapToTheirCause(t *testing.T) {
	sentinel := errors.New("sentinel")
	le := &listenError{err: fmt.Errorf("listen tcp: %w", syscall.EADDRINUSE)}
	c := &Config{File: "edge.yaml", lines: map[string]int{"listeners[0].port": 7}}
	var err error = Problems{
		c.Problem("name", "no cause"),
		c.ProblemErr(fmt.Errorf("wrapped: %w", sentinel), "trust_stores[0]", "bad"),
		c.ProblemErr(le, "listeners[0].port", "in use"),
	}
	if !errors.Is(err, sentinel) {
		t.Error("errors.Is does not reach a Problem's cause through Problems")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Error("errors.Is does not reach EADDRINUSE through Problems and the listen error")
	}
	var got *listenError
	if !errors.As(err, &got) || got != le {
		t.Error("errors.As does not find the typed cause through Problems")
	}
	var p Problem
	if !errors.As(err, &p) || p.Msg != "name: no cause" {
		t.Errorf("errors.As(Problem) = %+v; want the first problem", p)
	}
	if s := c.ProblemErr(sentinel, "listeners[0].port", "in use").Error(); s != "edge.yaml:7: listeners[0].port: in use" {
		t.Errorf("Problem.Error() = %q; want the String form", s)
	}
	if errors.Is(Problems{c.Problem("name", "x")}, sentinel) {
		t.Error("a problem without a cause matches an unrelated error")
	}
}

// Load's read error keeps its cause: a missing file is fs.ErrNotExist.
func TestLoadMissingFileIsNotExist(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v; want errors.Is(err, fs.ErrNotExist)", err)
	}
	if _, ps := LoadAll(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(ps, fs.ErrNotExist) {
		t.Errorf("LoadAll of a missing file: %v; want errors.Is(err, fs.ErrNotExist)", ps)
	}
}
