package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Faults a new user met in a trial from a fresh clone.

// A port something already listens on is noted by edge check (edge serve
// would fail to bind it), not a problem: it may be this config's edge.
func TestCheckNotesPortInUse(t *testing.T) {
	dir := t.TempDir()
	checkFixture(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	edit(t, dir, "port: 18443", fmt.Sprintf("port: %d", port))
	out, errOut, code := runEdge(t, dir, "check", "-c", "edge.yaml")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if want := fmt.Sprintf("note: edge.yaml:8: listeners[0]: 127.0.0.1:%d is in use now", port); !strings.Contains(out, want) {
		t.Errorf("check output lacks %q:\n%s", want, out)
	}
}

// A flag after an argument is a usage error, not an argument ("--force"
// taken as a CA name).
func TestFlagAfterArgument(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runEdge(t, dir, "pki", "init"); code != 0 {
		t.Fatalf("pki init: exit %d: %s", code, errOut)
	}
	_, errOut, code := runEdge(t, dir, "pki", "bundle", "root", "--force")
	if code != exitUsage || !strings.Contains(errOut, "--force comes after an argument: flags go before the arguments") {
		t.Errorf("exit %d; stderr:\n%s", code, errOut)
	}
}

// edge demo --keep leaves a directory that already holds an edge.yaml
// alone unless --force.
func TestDemoKeepRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "mine")
	os.MkdirAll(keep, 0o755)
	os.WriteFile(filepath.Join(keep, "edge.yaml"), []byte("# my own\n"), 0o644)
	_, errOut, code := runEdge(t, dir, "demo", "--keep", "mine")
	if code != exitFail || !strings.Contains(errOut, "mine already holds an edge.yaml") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(keep, "edge.yaml")); string(b) != "# my own\n" {
		t.Errorf("edge.yaml was overwritten: %q", b)
	}
	if _, errOut, code := runEdge(t, dir, "demo", "--keep", "mine", "--force"); code != 0 {
		t.Errorf("--force: exit %d; stderr:\n%s", code, errOut)
	}
}
